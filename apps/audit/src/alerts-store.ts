import { createHash } from 'node:crypto';
import type { Pool } from '@alliance/shared/data-access-postgres';

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
export type AlertSeverity = 'info' | 'warning' | 'critical';

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

type Listener = (alert: StoredAlert) => void;

/**
 * The audit's alerts (`audit.alerts`, append-only): raised once per alertId,
 * listed in the order raised; listeners (the GraphQL subscription) hear each
 * new one in this process.
 */
export class AlertStore {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly pool: Pool) {}

  /** Stores the alert unless its alertId is known; the stored alert when new, else null. */
  async raise(alert: AuditAlert): Promise<StoredAlert | null> {
    const { rows } = await this.pool.query<{ seq: string; raised_at: Date }>(
      `INSERT INTO audit.alerts (alert_id, kind, severity, subject, organization_id, block_number, transaction_id, summary, detail, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::timestamptz) ON CONFLICT (alert_id) DO NOTHING RETURNING seq, raised_at`,
      [alert.alertId, alert.kind, alert.severity, alert.subject, alert.organizationId, alert.blockNumber, alert.transactionId, alert.summary, JSON.stringify(alert.detail), alert.occurredAt],
    );
    if (!rows[0]) return null;
    const stored: StoredAlert = { ...alert, seq: Number(rows[0].seq), raisedAt: rows[0].raised_at.toISOString() };
    for (const listener of this.listeners) listener(stored);
    return stored;
  }

  onRaised(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
