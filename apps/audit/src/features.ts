import type { Provider, Type } from '@nestjs/common';
import type { Pool } from '@alliance/shared/data-access-postgres';
import type { ServiceConfig, ServiceRuntime } from '@alliance/shared/feature-platform';
import { type AccessLog, AccessLogController, AccessLogResolver, type SigningKey } from './access-log';
import type { AlertStore } from './alerts-store';
import { alertsFeature } from './alerts';
import { evidenceFeature } from './evidence';
import type { auditConfigShape } from './config';
import type { Upstreams } from './upstream';
import { verificationFeature } from './verification';
import { lookThroughFeature } from './look-through';

export type AuditConfig = ServiceConfig<typeof auditConfigShape>;

/** What every audit feature is built from (audit.module.ts makes one). */
export interface AuditContext {
  readonly runtime: ServiceRuntime<AuditConfig>;
  /** The read-only pool: every connection is the `alliance_audit` role (docs/audit.md, Read-only by construction). */
  readonly pool: Pool;
  readonly accessLog: AccessLog;
  readonly alerts: AlertStore;
  readonly upstreams: Upstreams;
  /** The regulator's key (AUDIT_SIGNING_KEY_FILE), when configured. */
  readonly key?: SigningKey;
}

/**
 * One part of the audit service: its controllers and resolvers (every one a
 * read: GET routes, Query and Subscription fields — the read-only test walks
 * them) and the providers they need, built from the context.
 */
export interface AuditFeature {
  readonly name: string;
  readonly controllers: readonly Type<unknown>[];
  readonly resolvers: readonly Type<unknown>[];
  providers?(context: AuditContext): Provider[];
  /** Background work (a watcher, a consumer): started after the application boots, stopped at shutdown. */
  start?(context: AuditContext): Promise<{ stop(): Promise<void> }>;
}

/** The audit service's features. Add a feature here: one line. */
export const AUDIT_FEATURES: readonly AuditFeature[] = [
  { name: 'access-log', controllers: [AccessLogController], resolvers: [AccessLogResolver] },
  verificationFeature,
  evidenceFeature,
  lookThroughFeature,
  alertsFeature,
];
