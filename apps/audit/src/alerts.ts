import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { Args, Field, Int, ObjectType, Query as GqlQuery, Resolver, Subscription } from '@nestjs/graphql';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { canonicalize } from '@alliance/protocol';
import { LedgerBlockSource, type Transport } from '@alliance/shared/data-access-messaging';
import { TRANSPORT } from '@alliance/shared/feature-platform';
import { RequirePermission } from '@alliance/shared/feature-platform';
import { AllianceError } from '@alliance/shared/util-errors';
import { AUDIT_READ } from './access-log';
import { ALERT_KINDS, ALERT_SEVERITIES, type AlertFilter, type AlertKind, type AlertSeverity, type AlertStore, type StoredAlert } from './alerts-store';
import { AlertWatcher } from './alerts-watch';
import type { AuditContext, AuditFeature } from './features';

/** DI token of the alert store in this feature (the same AlertStore as `context.alerts`). */
export const AUDIT_ALERTS = Symbol('alliance.audit-alert-list');
const ALERT_TRANSPORT = Symbol('alliance.audit-alert-transport');

const invalid = (detail: string) => new AllianceError('AUDIT.INVALID_QUERY', 'invalid', detail);
const LIMIT_MAX = 1000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const ORGANIZATION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ALERT_ID = /^[0-9a-f]{64}$/;

export interface AlertQueryText {
  readonly kind?: string;
  readonly severity?: string;
  readonly subject?: string;
  readonly organizationId?: string;
  readonly from?: string;
  readonly to?: string;
  readonly after?: string;
  readonly limit?: string;
}

/** `kind` (one kind or several, comma-separated) as alert kinds; AUDIT.INVALID_QUERY for any other word. */
export function kindsOf(value: string | readonly string[] | undefined | null): AlertKind[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const words = (typeof value === 'string' ? value.split(',') : [...value]).map((w) => w.trim());
  const unknown = words.filter((w) => !(ALERT_KINDS as readonly string[]).includes(w));
  if (unknown.length > 0 || words.length === 0) throw invalid(`kind must be one or more of ${ALERT_KINDS.join(', ')} (comma-separated); not ${unknown.join(', ') || 'empty'}`);
  return [...new Set(words)] as AlertKind[];
}

function timeOf(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!RFC3339.test(value) || Number.isNaN(Date.parse(value))) throw invalid(`${name} must be an RFC 3339 time (2026-12-06T10:00:00Z)`);
  return new Date(Date.parse(value)).toISOString();
}

function seqOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value)) throw invalid('after must be the seq of the last alert of the previous page');
  return Number(value);
}

function limitOf(value: string | undefined): number {
  if (value === undefined || value === '') return 100;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > LIMIT_MAX) throw invalid(`limit must be an integer from 1 to ${LIMIT_MAX}`);
  return Number(value);
}

/** The filter and page size of GET /audit/v1/alerts (and auditAlerts), validated: AUDIT.INVALID_QUERY otherwise. */
export function alertQueryOf(q: AlertQueryText): { filter: AlertFilter; limit: number } {
  let severity: AlertSeverity | undefined;
  if (q.severity !== undefined && q.severity !== '') {
    if (!(ALERT_SEVERITIES as readonly string[]).includes(q.severity)) throw invalid(`severity must be one of ${ALERT_SEVERITIES.join(', ')}`);
    severity = q.severity as AlertSeverity;
  }
  if (q.subject !== undefined && (q.subject.length === 0 || q.subject.length > 1024)) throw invalid('subject must be 1-1024 characters');
  if (q.organizationId !== undefined && !ORGANIZATION.test(q.organizationId)) throw invalid('organizationId must be an organization id');
  const from = timeOf(q.from, 'from');
  const to = timeOf(q.to, 'to');
  if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to)) throw invalid('from must be before to');
  const kinds = kindsOf(q.kind);
  const after = seqOf(q.after);
  const filter: AlertFilter = {
    ...(kinds ? { kinds } : {}),
    ...(severity ? { severity } : {}),
    ...(q.subject !== undefined ? { subject: q.subject } : {}),
    ...(q.organizationId !== undefined ? { organizationId: q.organizationId } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(after !== undefined ? { after } : {}),
  };
  return { filter, limit: limitOf(q.limit) };
}

function alertIdOfParam(alertId: string): string {
  if (!ALERT_ID.test(alertId)) throw invalid('alertId must be 64 lower-case hex digits');
  return alertId;
}

async function oneAlert(store: AlertStore, alertId: string): Promise<StoredAlert> {
  const alert = await store.get(alertIdOfParam(alertId));
  if (!alert) throw new AllianceError('AUDIT.NOT_FOUND', 'not-found', `no alert ${alertId}`);
  return alert;
}

/** How long a live subscription waits for a wake-up before it looks at the table anyway (a NOTIFY lost while reconnecting). */
const LOOK_AGAIN_MS = 5_000;

/**
 * The subscription's stream: the alerts after `after` (of `kinds`) first, then each
 * new one as it is raised, in seq order — woken by this instance's raise and by
 * NOTIFY from any other, always reading the table, so none is missed or repeated.
 * Without `after`, only alerts raised from now on.
 */
export async function* alertStream(store: AlertStore, options: { kinds?: readonly AlertKind[]; after?: number; lookAgainMs?: number }): AsyncGenerator<StoredAlert> {
  let pending = false;
  let wake: (() => void) | undefined;
  const off = store.onChange(() => {
    pending = true;
    wake?.();
  });
  try {
    let cursor = options.after ?? (await store.lastSeq());
    for (;;) {
      pending = false;
      const page = await store.list({ ...(options.kinds ? { kinds: options.kinds } : {}), after: cursor }, 500);
      for (const alert of page.items) {
        cursor = alert.seq;
        yield alert;
      }
      if (page.next !== null || pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.lookAgainMs ?? LOOK_AGAIN_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    off();
  }
}

@ApiTags('alerts')
@Controller('alerts')
export class AlertsController {
  constructor(@Inject(AUDIT_ALERTS) private readonly store: AlertStore) {}

  @Get()
  @RequirePermission(AUDIT_READ)
  @ApiOperation({
    summary:
      'Alerts in the order raised (sensor breaches, refused double financings, frozen assets, recalls, membership changes, verification failures, forks …), filtered: `kind` (one or more, comma-separated), `severity`, `subject`, `organizationId`, `from`/`to` (occurredAt, RFC 3339; from inclusive, to exclusive), `after` (seq), `limit` (1-1000, default 100)',
  })
  @ApiQuery({ name: 'kind', required: false })
  @ApiQuery({ name: 'severity', required: false })
  @ApiQuery({ name: 'subject', required: false })
  @ApiQuery({ name: 'organizationId', required: false })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false })
  list(
    @Query('kind') kind?: string,
    @Query('severity') severity?: string,
    @Query('subject') subject?: string,
    @Query('organizationId') organizationId?: string,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('after') after?: string,
    @Query('limit') limit?: string,
  ) {
    for (const [name, v] of Object.entries({ kind, severity, subject, organizationId, from, to, after, limit })) if (v !== undefined && typeof v !== 'string') throw invalid(`${name} must be given once`);
    const q = alertQueryOf({ kind, severity, subject, organizationId, from, to, after, limit });
    return this.store.list(q.filter, q.limit);
  }

  @Get(':alertId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'One alert by its alertId (AUDIT.NOT_FOUND when unknown)' })
  one(@Param('alertId') alertId: string) {
    return oneAlert(this.store, alertId);
  }
}

@ObjectType('AuditAlert', { description: 'One fact the regulator is alerted to (docs/audit.md, Alerts)' })
class AlertType {
  @Field(() => Int, { description: 'Order raised: 1, 2, 3 …' }) seq!: number;
  @Field({ description: 'Deterministic: hex SHA-256 of the kind and the fact’s identity' }) alertId!: string;
  @Field({ description: ALERT_KINDS.join(', ') }) kind!: string;
  @Field({ description: 'info, warning or critical' }) severity!: string;
  @Field({ description: 'What it is about: an item, an asset’s key, an organization, a block' }) subject!: string;
  @Field(() => String, { nullable: true }) organizationId!: string | null;
  @Field(() => Int, { nullable: true }) blockNumber!: number | null;
  @Field(() => String, { nullable: true }) transactionId!: string | null;
  @Field() summary!: string;
  @Field({ description: 'Canonical JSON text of the alert’s detail' }) detail!: string;
  @Field({ description: 'When the fact happened (RFC 3339 UTC)' }) occurredAt!: string;
  @Field({ description: 'When the audit raised it (RFC 3339 UTC)' }) raisedAt!: string;
}

@ObjectType('AuditAlertPage')
class AlertPageType {
  @Field(() => [AlertType]) items!: AlertType[];
  @Field(() => Int, { nullable: true, description: 'The seq to pass as `after` for the next page; null on the last' }) next!: number | null;
}

const typeOf = (a: StoredAlert): AlertType => ({ ...a, detail: canonicalize(JSON.parse(JSON.stringify(a.detail))) });
const str = (v: string | null | undefined) => (v === null || v === undefined ? undefined : v);
const num = (v: number | null | undefined) => (v === null || v === undefined ? undefined : String(v));

@Resolver()
export class AlertsResolver {
  constructor(@Inject(AUDIT_ALERTS) private readonly store: AlertStore) {}

  @GqlQuery(() => AlertPageType, { name: 'auditAlerts', description: 'Alerts in the order raised, filtered as GET /audit/v1/alerts' })
  @RequirePermission(AUDIT_READ)
  async auditAlerts(
    @Args('kinds', { type: () => [String], nullable: true }) kinds?: string[] | null,
    @Args('severity', { type: () => String, nullable: true }) severity?: string | null,
    @Args('subject', { type: () => String, nullable: true }) subject?: string | null,
    @Args('organizationId', { type: () => String, nullable: true }) organizationId?: string | null,
    @Args('from', { type: () => String, nullable: true }) from?: string | null,
    @Args('to', { type: () => String, nullable: true }) to?: string | null,
    @Args('after', { type: () => Int, nullable: true }) after?: number | null,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number | null,
  ): Promise<AlertPageType> {
    const q = alertQueryOf({ severity: str(severity), subject: str(subject), organizationId: str(organizationId), from: str(from), to: str(to), after: num(after), limit: num(limit) });
    const k = kindsOf(kinds);
    const page = await this.store.list({ ...q.filter, ...(k ? { kinds: k } : {}) }, q.limit);
    return { items: page.items.map(typeOf), next: page.next };
  }

  @GqlQuery(() => AlertType, { name: 'auditAlert', description: 'One alert by its alertId' })
  @RequirePermission(AUDIT_READ)
  async auditAlert(@Args('alertId') alertId: string): Promise<AlertType> {
    return typeOf(await oneAlert(this.store, alertId));
  }

  @Subscription(() => AlertType, {
    name: 'auditAlertRaised',
    description: 'Each alert as it is raised, in order, of `kinds` when given. With `after` (a seq), the alerts since then first: a client that reconnects with its last seq misses none; without it, from now on.',
    resolve: (alert: StoredAlert) => typeOf(alert),
  })
  @RequirePermission(AUDIT_READ)
  auditAlertRaised(@Args('kinds', { type: () => [String], nullable: true }) kinds?: string[] | null, @Args('after', { type: () => Int, nullable: true }) after?: number | null): AsyncGenerator<StoredAlert> {
    const k = kindsOf(kinds);
    const a = seqOf(num(after));
    return alertStream(this.store, { ...(k ? { kinds: k } : {}), ...(a !== undefined ? { after: a } : {}) });
  }
}

const transports = new WeakMap<AuditContext, Transport | null>();

/** Alerts (issue 7, item 5): the watcher raising them, the filterable list, one alert, the live subscription. */
export const alertsFeature: AuditFeature = {
  name: 'alerts',
  controllers: [AlertsController],
  resolvers: [AlertsResolver],
  providers: (ctx) => [
    { provide: AUDIT_ALERTS, useValue: ctx.alerts },
    {
      // The platform's transport (absent with messaging off), for the watcher's consumer at start.
      provide: ALERT_TRANSPORT,
      inject: [{ token: TRANSPORT, optional: true }],
      useFactory: (transport: Transport | undefined) => {
        transports.set(ctx, transport ?? null);
        return transport ?? null;
      },
    },
  ],
  async start(ctx) {
    const config = ctx.runtime.config;
    const log = ctx.runtime.logger.child({ component: 'alerts' });
    await ctx.alerts.listen().catch((error: Error) => log.warn({ err: error.message }, 'cannot LISTEN for alerts yet; retrying'));
    const watcher = new AlertWatcher({
      alerts: ctx.alerts,
      pool: ctx.pool,
      transport: transports.get(ctx) ?? undefined,
      consumerPool: ctx.runtime.pool,
      group: `audit-alerts-${config.ORG_ID}`,
      chainId: config.CHAIN_ID,
      ledger: config.AUDIT_LEDGER_URL ? new LedgerBlockSource(config.AUDIT_LEDGER_URL, 'AUDIT') : undefined,
      logger: (level, message, context) => log[level](context ?? {}, message),
    });
    await watcher.start();
    ctx.runtime.readinessChecks.push({ name: 'audit-alerts', check: async () => ({ ok: true, detail: watcher.problem ? `alerts behind: ${watcher.problem}` : undefined }) });
    return {
      async stop() {
        await watcher.stop();
        await ctx.alerts.unlisten();
      },
    };
  },
};
