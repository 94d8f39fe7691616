import type { SensorAlert } from '@alliance/provenance/domain';
import type { Pool } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { itemOf } from './provenance-api';

/** The DI token of the AlertService (REST here; a GraphQL resolver injects the same). */
export const ALERT_SERVICE = Symbol('alliance.provenance-alerts');

/** An alert as the read model keeps it: the alert (`alertOf`, as it stands now) and where it was raised. */
export interface AlertRecord extends SensorAlert {
  readonly ruleVersion: number;
  /** The derived EPCIS event that set the rule's persistent disposition on the subject (its CBV 2.0 hash ID). */
  readonly eventId: string;
  /** The batch whose readings completed the breach, its transaction and block, and the block's time. */
  readonly batchId: string;
  readonly transactionId: string;
  readonly blockNumber: number;
  readonly raisedAt: string;
  /** The last block that extended the breach (a later `to`); `blockNumber` while it did not go on. */
  readonly updatedBlock: number;
}

export interface AlertRow {
  alert: SensorAlert;
  rule_version: number;
  event_id: string;
  batch_id: string;
  transaction_id: string;
  block_number: string;
  raised_at: Date;
  updated_block: string;
}

export const ALERT_COLUMNS = 'a.alert, a.rule_version, a.event_id, a.batch_id, a.transaction_id, a.block_number, a.raised_at, a.updated_block';

export function alertRecordOf(r: AlertRow): AlertRecord {
  return {
    ...r.alert,
    ruleVersion: r.rule_version,
    eventId: r.event_id,
    batchId: r.batch_id,
    transactionId: r.transaction_id,
    blockNumber: Number(r.block_number),
    raisedAt: r.raised_at.toISOString(),
    updatedBlock: Number(r.updated_block),
  };
}

export const MAX_ALERT_PAGE = 500;
const ALERT_ID = /^[0-9a-f]{64}$/;
const invalidQuery = (detail: string) => new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', detail);

/**
 * Sensor alerts of the read model (docs/provenance.md, Sensor data and
 * threshold alerts), in the order they were raised (block, transaction,
 * position): the same at every member and after a rebuild.
 */
export class AlertService {
  constructor(private readonly pool: Pool) {}

  /**
   * A page of alerts: of `subject` (URN or Digital Link; a GTIN also finds its
   * SGTINs' and TPXs' alerts) when given, after the alert `after` (the last
   * alertId of the previous page), at most `limit` (default 50, max 500).
   * `next` is the alertId to continue after, or null on the last page.
   */
  async list(query: { readonly subject?: string; readonly after?: string; readonly limit?: number } = {}): Promise<{ items: AlertRecord[]; next: string | null }> {
    const limit = query.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_ALERT_PAGE) throw invalidQuery(`limit must be an integer from 1 to ${MAX_ALERT_PAGE}`);
    const subject = query.subject === undefined || query.subject === '' ? null : itemOf(query.subject);
    const after = query.after === undefined || query.after === '' ? null : query.after;
    if (after !== null) {
      if (!ALERT_ID.test(after)) throw invalidQuery('after must be the alertId (64 lower-case hex digits) of the last alert of the previous page');
      const known = await this.pool.query('SELECT 1 FROM provenance.sensor_alerts WHERE alert_id = $1', [after]);
      if (known.rowCount === 0) throw invalidQuery(`after names no alert (${after})`);
    }
    const { rows } = await this.pool.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM provenance.sensor_alerts a
       WHERE ($1::text IS NULL OR a.subject = $1 OR a.product = $1)
         AND ($2::text IS NULL OR (a.block_number, a.leaf_index, a.position) > (SELECT b.block_number, b.leaf_index, b.position FROM provenance.sensor_alerts b WHERE b.alert_id = $2))
       ORDER BY a.block_number, a.leaf_index, a.position
       LIMIT $3`,
      [subject, after, limit + 1],
    );
    const items = rows.slice(0, limit).map(alertRecordOf);
    return { items, next: rows.length > limit ? items[items.length - 1].alertId : null };
  }

  /** One alert; PROVENANCE.UNKNOWN_ALERT (404) when there is none. */
  async get(alertId: string): Promise<AlertRecord> {
    const { rows } = ALERT_ID.test(alertId) ? await this.pool.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM provenance.sensor_alerts a WHERE a.alert_id = $1`, [alertId]) : { rows: [] };
    if (rows.length === 0) throw new AllianceError('PROVENANCE.UNKNOWN_ALERT', 'not-found', `no sensor alert ${alertId}`);
    return alertRecordOf(rows[0]);
  }

  /** The alerts a transaction raised (its batch completed their breach), in order. */
  async raisedBy(transactionId: string): Promise<AlertRecord[]> {
    const { rows } = await this.pool.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM provenance.sensor_alerts a WHERE a.transaction_id = $1 ORDER BY a.position`, [transactionId]);
    return rows.map(alertRecordOf);
  }
}
