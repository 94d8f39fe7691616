import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';

/** What the regulator is alerted to (docs/audit.md, Alerts). */
export const ALERT_KINDS = [
  'sensor-breach',
  'double-financing-refused',
  'asset-frozen',
  'recall',
  'membership-change',
  'verification-failure',
  'fork',
  'withheld-block',
  'divergent-state',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export interface AuditAlert {
  /** Deterministic: the same fact raised twice (a redelivered event, two instances) is one alert. */
  readonly alertId: string;
  readonly kind: AlertKind;
  readonly severity: AlertSeverity;
  /** What it is about: an item, an asset, an organization, a node, a block. */
  readonly subject: string;
  readonly organizationId: string | null;
  readonly blockNumber: number | null;
  readonly transactionId: string | null;
  readonly summary: string;
  readonly detail: Record<string, unknown>;
  /** RFC 3339 UTC: when the fact happened (a block's time, a check's time). */
  readonly occurredAt: string;
}

export interface StoredAlert extends AuditAlert {
  readonly seq: number;
  readonly raisedAt: string;
}

/** An alert id from the fact's own identity: hex SHA-256 of kind and the parts that name it. */
export function alertIdOf(kind: AlertKind, ...parts: ReadonlyArray<string | number>): string {
  return createHash('sha256').update([kind, ...parts.map(String)].join('\u0000')).digest('hex');
}

/** Which alerts a list or a subscription wants (every field optional; all given must hold). */
export interface AlertFilter {
  readonly kinds?: readonly AlertKind[];
  readonly severity?: AlertSeverity;
  readonly subject?: string;
  readonly organizationId?: string;
  /** occurredAt ≥ from (RFC 3339). */
  readonly from?: string;
  /** occurredAt < to (RFC 3339). */
  readonly to?: string;
  /** seq > after: the last seq of the previous page. */
  readonly after?: number;
}

type Listener = (alert: StoredAlert) => void;

interface Row {
  seq: string;
  alert_id: string;
  kind: AlertKind;
  severity: AlertSeverity;
  subject: string;
  organization_id: string | null;
  block_number: string | null;
  transaction_id: string | null;
  summary: string;
  detail: Record<string, unknown>;
  occurred_at: Date;
  raised_at: Date;
}

const alertOf = (r: Row): StoredAlert => ({
  seq: Number(r.seq),
  alertId: r.alert_id,
  kind: r.kind,
  severity: r.severity,
  subject: r.subject,
  organizationId: r.organization_id,
  blockNumber: r.block_number === null ? null : Number(r.block_number),
  transactionId: r.transaction_id,
  summary: r.summary,
  detail: r.detail,
  occurredAt: r.occurred_at.toISOString(),
  raisedAt: r.raised_at.toISOString(),
});

/** pg_advisory_xact_lock key of an alert's insert: alerts commit one at a time, so seq order is commit order. */
const RAISE_LOCK = 7_204_302;
/** The NOTIFY channel of new alerts (migration 20261206220000): payload the seq. */
export const ALERTS_CHANNEL = 'audit_alerts';

/**
 * The audit's alerts (`audit.alerts`, append-only): raised once per alertId,
 * listed in the order raised; listeners (the GraphQL subscription) hear each
 * new one in this process, and — through LISTEN/NOTIFY — that one was raised
 * by any instance on the database.
 */
export class AlertStore {
  private readonly listeners = new Set<Listener>();
  private readonly wakers = new Set<() => void>();
  private listening: { client: PoolClient; stopped: boolean } | undefined;
  private relisten: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly pool: Pool) {}

  /**
   * Stores the alert unless its alertId is known; the stored alert when new, else null.
   * Inserts are serialized (a transaction-scoped advisory lock), so no reader following seq
   * sees a later alert before an earlier one commits.
   */
  async raise(alert: AuditAlert): Promise<StoredAlert | null> {
    const client = await this.pool.connect();
    let rows: Array<{ seq: string; raised_at: Date }>;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [RAISE_LOCK]);
      ({ rows } = await client.query<{ seq: string; raised_at: Date }>(
        `INSERT INTO audit.alerts (alert_id, kind, severity, subject, organization_id, block_number, transaction_id, summary, detail, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::timestamptz) ON CONFLICT (alert_id) DO NOTHING RETURNING seq, raised_at`,
        [alert.alertId, alert.kind, alert.severity, alert.subject, alert.organizationId, alert.blockNumber, alert.transactionId, alert.summary, JSON.stringify(alert.detail), alert.occurredAt],
      ));
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    if (!rows[0]) return null;
    const stored: StoredAlert = { ...alert, seq: Number(rows[0].seq), raisedAt: rows[0].raised_at.toISOString() };
    for (const listener of this.listeners) listener(stored);
    this.wake();
    return stored;
  }

  onRaised(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `waker` is called whenever an alert may have been raised: here, or (NOTIFY) by another instance. */
  onChange(waker: () => void): () => void {
    this.wakers.add(waker);
    return () => this.wakers.delete(waker);
  }

  private wake(): void {
    for (const w of this.wakers) w();
  }

  /** Alerts matching `filter`, in seq order, at most `limit`; `next` the seq to pass as `after`, null on the last page. */
  async list(filter: AlertFilter, limit = 100): Promise<{ items: StoredAlert[]; next: number | null }> {
    const where: string[] = ['seq > $1'];
    const values: unknown[] = [filter.after ?? 0];
    const add = (sql: string, value: unknown) => {
      values.push(value);
      where.push(sql.replace('?', `$${values.length}`));
    };
    if (filter.kinds && filter.kinds.length > 0) add('kind = ANY(?::text[])', [...filter.kinds]);
    if (filter.severity) add('severity = ?', filter.severity);
    if (filter.subject !== undefined) add('subject = ?', filter.subject);
    if (filter.organizationId !== undefined) add('organization_id = ?', filter.organizationId);
    if (filter.from !== undefined) add('occurred_at >= ?::timestamptz', filter.from);
    if (filter.to !== undefined) add('occurred_at < ?::timestamptz', filter.to);
    values.push(limit + 1);
    const { rows } = await this.pool.query<Row>(`SELECT * FROM audit.alerts WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${values.length}`, values);
    const items = rows.slice(0, limit).map(alertOf);
    return { items, next: rows.length > limit ? items[items.length - 1].seq : null };
  }

  async get(alertId: string): Promise<StoredAlert | null> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM audit.alerts WHERE alert_id = $1', [alertId]);
    return rows[0] ? alertOf(rows[0]) : null;
  }

  /** The seq of the newest alert (0: none). */
  async lastSeq(): Promise<number> {
    const { rows } = await this.pool.query<{ seq: string | null }>('SELECT max(seq)::text AS seq FROM audit.alerts');
    return Number(rows[0]?.seq ?? 0);
  }

  /**
   * LISTENs on `audit_alerts` with one connection of the pool, so alerts other instances raise
   * wake this one's subscriptions at once; a lost connection is replaced a second later
   * (subscriptions also look again every few seconds, so nothing is missed meanwhile).
   */
  async listen(): Promise<void> {
    this.closed = false;
    if (this.listening && !this.listening.stopped) return;
    try {
      const client = await this.pool.connect();
      const state = { client, stopped: false };
      this.listening = state;
      client.on('notification', (n) => {
        if (n.channel === ALERTS_CHANNEL) this.wake();
      });
      client.on('error', () => {
        if (state.stopped) return;
        state.stopped = true;
        client.release(true);
        this.scheduleListen();
      });
      try {
        await client.query(`LISTEN ${ALERTS_CHANNEL}`);
      } catch (error) {
        if (!state.stopped) {
          state.stopped = true;
          client.release(true);
        }
        throw error;
      }
    } catch (error) {
      this.scheduleListen();
      throw error;
    }
  }

  private scheduleListen(): void {
    if (this.closed || this.relisten) return;
    this.relisten = setTimeout(() => {
      this.relisten = undefined;
      this.listen().catch(() => undefined);
    }, 1_000);
    this.relisten.unref();
  }

  async unlisten(): Promise<void> {
    this.closed = true;
    if (this.relisten) clearTimeout(this.relisten);
    this.relisten = undefined;
    const state = this.listening;
    this.listening = undefined;
    if (!state || state.stopped) return;
    state.stopped = true;
    await state.client.query(`UNLISTEN ${ALERTS_CHANNEL}`).catch(() => undefined);
    state.client.release();
  }
}
