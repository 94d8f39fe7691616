import { type SealingKey, Topics } from '@alliance/contracts';
import { productOfSubject, type SensorBatch, type SensorRule } from '@alliance/ledger/domain';
import { alertOf, type DeviceMeasurement, dispositionEventOf, eventHashId, evaluateRule, measurementsOf, ruleAppliesTo, sensorEventOf, type SensorMeasurement } from '@alliance/provenance/domain';
import type { CommittedBlock, CommittedTransaction, Outbox } from '@alliance/shared/data-access-messaging';
import type { PoolClient } from '@alliance/shared/data-access-postgres';
import { type AlertRecord, alertRecordOf, ALERT_COLUMNS, type AlertRow } from './alerts';
import type { EventDeriver, RepositoryEvent } from './read-model';

/**
 * Sensor data in the provenance read model (docs/provenance.md, Sensor data
 * and threshold alerts). Everything here is a function of committed blocks,
 * applied in order in the block's transaction, so every member and every
 * rebuild derives the same events and alerts; nothing reads the wall clock.
 *
 * - `sensorBatchEvents`: each committed `provenance.sensor.readings` batch
 *   yields its EPCIS ObjectEvent (`sensorEventOf`).
 * - `SensorAlerts.deriver`: keeps the batch's measurements in
 *   `provenance.sensor_readings` (per subject, device, type, unit and instant)
 *   and evaluates every rule covering the subject over each device's readings
 *   around the batch — from the last in-bounds reading before it to the first
 *   in-bounds reading after it — so a run outside the bounds that began in an
 *   earlier batch is seen whole. A breach the batch's readings take part in is
 *   an alert (`alertOf`); the first time its `alertId` appears it yields the
 *   disposition event (`dispositionEventOf`), later batches only extend it.
 * - `SensorAlerts.onApplied`: announces the alerts whose disposition event the
 *   block added on `provenance.alert.raised.v1`, through the outbox in the
 *   same transaction, when the block is applied for the first time.
 */
const READINGS = 'provenance.sensor.readings';
const RULE_PREFIX = 'provenance/sensor-rule/';
/** The origin of a derived disposition event: `sensor-alert:<alertId>`. */
export const SENSOR_ALERT_ORIGIN = 'sensor-alert:';

const batchOf = (tx: CommittedTransaction): SensorBatch | null => (tx.type === READINGS && tx.payload && tx.organizationId ? (tx.payload as unknown as SensorBatch) : null);

/** A committed sensor batch's EPCIS ObjectEvent, named by its hash ID like every derived event. */
export const sensorBatchEvents: EventDeriver = (tx, block) => {
  const batch = batchOf(tx);
  if (!batch || !tx.organizationId) return [];
  return [{ event: sensorEventOf(batch, { transactionId: tx.transactionId, blockTimestamp: block.committedAt, organizationId: tx.organizationId }), origin: `sensor-batch:${batch.batchId}` }];
};

/**
 * The rules in force for `subject` at `tx`: the mirrored chain state as the
 * block before left it, with the rule writes of the block's earlier valid
 * transactions laid over it (a rule defined in the same block, before the
 * readings, already judges them; one retired before them no longer does).
 * In key order (organization, rule id).
 */
async function rulesAt(client: PoolClient, block: CommittedBlock, tx: CommittedTransaction, subject: string): Promise<SensorRule[]> {
  const covering = [subject, productOfSubject(subject)].filter((s): s is string => s !== undefined);
  const { rows } = await client.query<{ key: string; value: SensorRule }>(
    `SELECT key, value FROM provenance.chain_state WHERE starts_with(key, $1) AND value IS NOT NULL AND value->'subject'->>'id' = ANY($2::text[])`,
    [RULE_PREFIX, covering],
  );
  const rules = new Map<string, SensorRule | null>(rows.map((r) => [r.key, r.value]));
  for (const earlier of block.transactions) {
    if (earlier.leafIndex >= tx.leafIndex || earlier.code !== 'VALID') continue;
    for (const w of earlier.writes) if (w.key.startsWith(RULE_PREFIX)) rules.set(w.key, w.value as SensorRule | null);
  }
  return [...rules]
    .filter((entry): entry is [string, SensorRule] => entry[1] !== null && ruleAppliesTo(entry[1], subject))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, rule]) => rule);
}

async function keepReadings(client: PoolClient, block: CommittedBlock, tx: CommittedTransaction, batch: SensorBatch, measurements: readonly DeviceMeasurement[]): Promise<void> {
  await client.query(
    `INSERT INTO provenance.sensor_readings (subject, device_id, type, uom, observed_at, value, organization_id, batch_id, block_number)
     SELECT $1, d, t, u, o::timestamptz, v, $2, $3, $4 FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS m(d, t, u, o, v)
     ON CONFLICT DO NOTHING`,
    [
      batch.subject,
      tx.organizationId,
      batch.batchId,
      block.blockNumber,
      measurements.map((m) => m.deviceId),
      measurements.map((m) => m.type),
      measurements.map((m) => m.uom),
      measurements.map((m) => m.time),
      measurements.map((m) => m.value),
    ],
  );
}

/**
 * One device's readings of the rule's type and unit for `subject` that a run
 * touching [from, to] can hold: from the last reading before `from` inside the
 * bounds to the first one after `to` inside them (either end open when there
 * is none). Bounds compare as exact numerics; `evaluateRule` decides.
 */
async function windowOf(client: PoolClient, subject: string, deviceId: string, rule: SensorRule, from: string, to: string): Promise<SensorMeasurement[]> {
  const { rows } = await client.query<{ observed_at: Date; value: string }>(
    `WITH r AS (SELECT observed_at, value FROM provenance.sensor_readings WHERE subject = $1 AND device_id = $2 AND type = $3 AND uom = $4),
          inside AS (SELECT observed_at FROM r WHERE ($5::numeric IS NULL OR value::numeric >= $5::numeric) AND ($6::numeric IS NULL OR value::numeric <= $6::numeric))
     SELECT observed_at, value FROM r
     WHERE observed_at >= COALESCE((SELECT max(observed_at) FROM inside WHERE observed_at < $7::timestamptz), '-infinity')
       AND observed_at <= COALESCE((SELECT min(observed_at) FROM inside WHERE observed_at > $8::timestamptz), 'infinity')
     ORDER BY observed_at`,
    [subject, deviceId, rule.measurementType, rule.uom, rule.min, rule.max, from, to],
  );
  return rows.map((r) => ({ time: r.observed_at.toISOString(), value: r.value, type: rule.measurementType, uom: rule.uom }));
}

export class SensorAlerts {
  private outbox: Outbox | undefined;
  private seal: SealingKey | undefined;

  /**
   * The service's outbox (absent: alerts are kept but not announced) and the
   * organization's key the alerts are sealed with (finance acts on them with
   * its key; absent: unsealed, which finance refuses). The module hands them
   * over where it builds the chain follower, before any block is applied.
   */
  publishThrough(outbox: Outbox | undefined, seal?: SealingKey): this {
    this.outbox = outbox;
    this.seal = seal;
    return this;
  }

  /** Keeps a batch's readings, evaluates the rules covering its subject, and yields the disposition event of each new alert. */
  readonly deriver: EventDeriver = async (tx, block, client) => {
    const batch = batchOf(tx);
    if (!batch) return [];
    const measurements = measurementsOf(batch);
    await keepReadings(client, block, tx, batch, measurements);
    const derived: Array<{ event: Record<string, unknown>; origin: string }> = [];
    for (const rule of await rulesAt(client, block, tx, batch.subject)) {
      // The span of each device's readings this rule sees in the batch (readings are in time order).
      const spans = new Map<string, { from: string; to: string }>();
      for (const m of measurements) {
        if (m.type !== rule.measurementType || m.uom !== rule.uom) continue;
        const span = spans.get(m.deviceId);
        spans.set(m.deviceId, span ? { from: span.from, to: m.time } : { from: m.time, to: m.time });
      }
      for (const deviceId of [...spans.keys()].sort()) {
        const span = spans.get(deviceId) as { from: string; to: string };
        const window = await windowOf(client, batch.subject, deviceId, rule, span.from, span.to);
        for (const breach of evaluateRule(rule, window)) {
          // Only the runs this batch's readings take part in: an older run is judged when its own readings come.
          if (Date.parse(breach.to) < Date.parse(span.from) || Date.parse(breach.from) > Date.parse(span.to)) continue;
          const alert = alertOf(rule, breach, batch.subject);
          const event = dispositionEventOf(alert);
          const { rows } = await client.query<{ inserted: boolean }>(
            `INSERT INTO provenance.sensor_alerts (alert_id, organization_id, rule_id, rule_version, subject, product, alert, event_id, batch_id, block_number, leaf_index, position, transaction_id, raised_at, updated_block)
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, (SELECT count(*) FROM provenance.sensor_alerts WHERE block_number = $10 AND leaf_index = $11), $12, $13::timestamptz, $10)
             ON CONFLICT (alert_id) DO UPDATE SET alert = EXCLUDED.alert, updated_block = EXCLUDED.updated_block
               WHERE (sensor_alerts.alert->>'to')::timestamptz < (EXCLUDED.alert->>'to')::timestamptz
             RETURNING (xmax = 0) AS inserted`,
            [alert.alertId, alert.organizationId, alert.ruleId, rule.version, alert.subject, productOfSubject(alert.subject) ?? null, JSON.stringify(alert), eventHashId(event), batch.batchId, block.blockNumber, tx.leafIndex, tx.transactionId, block.committedAt],
          );
          if (rows[0]?.inserted) derived.push({ event, origin: `${SENSOR_ALERT_ORIGIN}${alert.alertId}` });
        }
      }
    }
    return derived;
  };

  /** `onApplied` part: each alert the block raised goes on `provenance.alert.raised.v1` when the block is first applied (`publish`). */
  async onApplied(client: PoolClient, block: CommittedBlock, added: ReadonlyArray<{ readonly event: RepositoryEvent }>, publish: boolean): Promise<void> {
    if (!this.outbox || !publish) return;
    const ids = added.filter((r) => r.event.origin.startsWith(SENSOR_ALERT_ORIGIN)).map((r) => r.event.origin.slice(SENSOR_ALERT_ORIGIN.length));
    if (ids.length === 0) return;
    const { rows } = await client.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM provenance.sensor_alerts a WHERE a.alert_id = ANY($1::text[]) ORDER BY a.block_number, a.leaf_index, a.position`, [ids]);
    for (const row of rows) {
      const alert: AlertRecord = alertRecordOf(row);
      await this.outbox.enqueue(
        client,
        Topics.provenanceAlertRaised,
        {
          chainId: block.chainId,
          blockNumber: alert.blockNumber,
          transactionId: alert.transactionId,
          batchId: alert.batchId,
          alertId: alert.alertId,
          organizationId: alert.organizationId,
          ruleId: alert.ruleId,
          ruleVersion: alert.ruleVersion,
          subject: alert.subject,
          measurementType: alert.measurementType,
          uom: alert.uom,
          min: alert.min,
          max: alert.max,
          from: alert.from,
          to: alert.to,
          durationSeconds: alert.durationSeconds,
          worstValue: alert.worstValue,
          disposition: alert.disposition,
          eventId: alert.eventId,
        },
        { key: alert.subject, correlationId: `block-${block.blockNumber}`, causationId: null, producer: 'provenance', seal: this.seal },
      );
    }
  }
}
