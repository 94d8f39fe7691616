import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { createPool } from '@alliance/shared/data-access-postgres';
import type { ServiceRuntime } from '@alliance/shared/feature-platform';
import { ACCESS_LOG, AccessLog, AccessLogInterceptor, AUDIT_POOL, readAuditKey } from './access-log';
import { AlertStore } from './alerts-store';
import { AUDIT_FEATURES, type AuditConfig, type AuditContext } from './features';
import { Upstreams } from './upstream';

export type { AuditConfig } from './features';

/** The PostgreSQL role of every audit query (apps/audit/migrations; docs/audit.md, Read-only by construction). */
export const AUDIT_DB_ROLE = 'alliance_audit';
export const AUDIT_CONTEXT = Symbol('alliance.audit-context');
export const ALERT_STORE = Symbol('alliance.audit-alerts');
export const UPSTREAMS = Symbol('alliance.audit-upstreams');

/** What the audit service serves (docs/authorization.md is generated from these). Every one is a read. */
export const auditControllers = AUDIT_FEATURES.flatMap((f) => f.controllers);
export const auditResolvers = AUDIT_FEATURES.flatMap((f) => f.resolvers);

@Injectable()
class AuditLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private running: Array<{ stop(): Promise<void> }> = [];

  constructor(@Inject(AUDIT_CONTEXT) private readonly context: AuditContext) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const feature of AUDIT_FEATURES) if (feature.start) this.running.push(await feature.start(this.context));
  }

  async onApplicationShutdown(): Promise<void> {
    for (const r of this.running.reverse()) await r.stop().catch(() => undefined);
    await this.context.pool.end().catch(() => undefined);
  }
}

@Module({})
export class AuditModule {
  static forRoot(runtime: ServiceRuntime<AuditConfig>): DynamicModule {
    const config = runtime.config;
    // The audit's own queries: a pool whose every connection is the read-only role.
    const pool = createPool(config.DATABASE_URL, { applicationName: 'audit-readonly', schema: 'audit', role: AUDIT_DB_ROLE, max: 10 });
    const key = config.AUDIT_SIGNING_KEY_FILE ? readAuditKey(config.AUDIT_SIGNING_KEY_FILE, config.ORG_ID) : undefined;
    const context: AuditContext = {
      runtime,
      pool,
      accessLog: new AccessLog(pool, config.CHAIN_ID, key),
      alerts: new AlertStore(pool),
      upstreams: new Upstreams({ identity: config.AUDIT_IDENTITY_URL, provenance: config.AUDIT_PROVENANCE_URL, finance: config.AUDIT_FINANCE_URL, ledger: config.AUDIT_LEDGER_URL }),
      ...(key ? { key } : {}),
    };
    return {
      module: AuditModule,
      controllers: auditControllers,
      providers: [
        { provide: AUDIT_CONTEXT, useValue: context },
        { provide: AUDIT_POOL, useValue: pool },
        { provide: ACCESS_LOG, useValue: context.accessLog },
        { provide: ALERT_STORE, useValue: context.alerts },
        { provide: UPSTREAMS, useValue: context.upstreams },
        { provide: APP_INTERCEPTOR, useClass: AccessLogInterceptor },
        ...AUDIT_FEATURES.flatMap((f) => f.providers?.(context) ?? []),
        ...auditResolvers,
        AuditLifecycle,
      ],
      exports: [AUDIT_CONTEXT],
    };
  }
}
