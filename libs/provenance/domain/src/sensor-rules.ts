import { type BreachDisposition, compareDecimal, decimalDistance, productOfSubject, type SensorBatch, type SensorRule, type SensorSubjectKind, sensorSubjectKindOf } from '@alliance/ledger/domain';
import { fromHex, sha256, toBase64Url, toHex, utf8 } from '@alliance/protocol';

/**
 * Sensor data in the provenance read model (issue 5, sixth part): the EPCIS
 * event of an anchored batch of device-signed readings (`sensorEventOf`), the
 * evaluation of an organization's threshold rule over a subject's readings
 * (`evaluateRule`), and the alert and the EPCIS event setting the rule's
 * persistent disposition (`alertOf`, `dispositionEventOf`). The chain rules —
 * who may submit, what a rule is, exact decimal comparison — are the ledger
 * domain's (`contracts/sensors.ts`); these are pure functions of committed
 * data, so every member derives the same events, alerts and hashes.
 */
export { compareDecimal };

/** One measurement of one reading, as `evaluateRule` takes it: `value` a decimal string, `time` RFC 3339. */
export interface SensorMeasurement {
  readonly time: string;
  readonly value: string;
  readonly uom: string;
  readonly type: string;
}

export interface DeviceMeasurement extends SensorMeasurement {
  readonly deviceId: string;
}

export interface SensorBreach {
  /** The first and the last out-of-bounds reading's time. */
  readonly from: string;
  readonly to: string;
  /** Whole seconds from `from` to `to` (milliseconds floored). */
  readonly durationSeconds: number;
  /** The reading farthest outside the bounds (the first of equals), its exact decimal string. */
  readonly worstValue: string;
}

export interface SensorAlert {
  readonly alertId: string;
  readonly ruleId: string;
  readonly organizationId: string;
  /** The readings' subject (for a product rule, possibly one of its SGTINs). */
  readonly subject: string;
  readonly measurementType: string;
  readonly uom: string;
  readonly min: string | null;
  readonly max: string | null;
  readonly from: string;
  readonly to: string;
  readonly durationSeconds: number;
  readonly worstValue: string;
  readonly disposition: BreachDisposition;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type EpcisEventObject = { [key: string]: Json };

/** `epcList: [id]` for an instance key (item, shipment); `quantityList: [{ epcClass: id }]`, no quantity, for a product (GTIN). */
function whatOf(subject: string): EpcisEventObject {
  const kind: SensorSubjectKind | undefined = sensorSubjectKindOf(subject);
  if (!kind) throw new Error(`${subject} is not a sensor subject (a GTIN, SSCC or instance key as its canonical Digital Link)`);
  return kind === 'product' ? { quantityList: [{ epcClass: subject }] } : { epcList: [subject] };
}

/**
 * Every measurement of a batch, in batch order, with its reading's device and
 * time; integer values (the telemetry allows them) as their decimal string.
 */
export function measurementsOf(batch: Pick<SensorBatch, 'readings'>): DeviceMeasurement[] {
  return batch.readings.flatMap(({ reading }) => reading.readings.map((m) => ({ deviceId: reading.deviceId, time: reading.observedAt, type: m.type, value: String(m.value), uom: m.uom })));
}

/**
 * Whether a rule covers readings about `subject`: its own subject, and for a
 * product rule (a GTIN) every SGTIN or TPX of that GTIN too. A shipment rule
 * covers its SSCC only — what is packed in it is the read model's aggregation
 * history, not the rule's.
 */
export function ruleAppliesTo(rule: Pick<SensorRule, 'subject'>, subject: string): boolean {
  return rule.subject.id === subject || (rule.subject.kind === 'product' && productOfSubject(subject) === rule.subject.id);
}

/**
 * The breaches of `rule` in `readings`: maximal runs of consecutive readings
 * (by time; equal times in the order given) outside `[min, max]` that last at
 * least `durationSeconds`, measured from the run's first to its last
 * out-of-bounds reading — what was observed, not guessed between samples, so
 * with `durationSeconds` 0 a single reading outside is a breach, and with more
 * it is not. A reading on a bound is inside. Only readings of the rule's
 * measurement type and unit count (no unit conversion: a rule in `CEL` ignores
 * `FAH` readings); the others neither breach nor end a run. Comparisons are
 * exact decimal arithmetic, never floating point. Throws for a value that is
 * not a decimal string or a time that does not parse.
 */
export function evaluateRule(rule: Pick<SensorRule, 'measurementType' | 'uom' | 'min' | 'max' | 'durationSeconds'>, readings: readonly SensorMeasurement[]): SensorBreach[] {
  const timed = readings
    .filter((r) => r.type === rule.measurementType && r.uom === rule.uom)
    .map((r) => {
      const at = Date.parse(r.time);
      if (Number.isNaN(at)) throw new Error(`reading time ${JSON.stringify(r.time)} is not an RFC 3339 time`);
      return { ...r, at };
    })
    .sort((a, b) => a.at - b.at);
  const excessOf = (value: string): string | null => {
    if (rule.min !== null && compareDecimal(value, rule.min) < 0) return decimalDistance(rule.min, value);
    if (rule.max !== null && compareDecimal(value, rule.max) > 0) return decimalDistance(value, rule.max);
    return null;
  };
  const breaches: SensorBreach[] = [];
  let run: { first: (typeof timed)[number]; last: (typeof timed)[number]; worst: string; excess: string } | null = null;
  const close = () => {
    if (run && run.last.at - run.first.at >= rule.durationSeconds * 1000) {
      breaches.push({ from: run.first.time, to: run.last.time, durationSeconds: Math.floor((run.last.at - run.first.at) / 1000), worstValue: run.worst });
    }
    run = null;
  };
  for (const r of timed) {
    const excess = excessOf(r.value);
    if (excess === null) {
      close();
      continue;
    }
    if (!run) run = { first: r, last: r, worst: r.value, excess };
    else {
      run.last = r;
      if (compareDecimal(excess, run.excess) > 0) {
        run.worst = r.value;
        run.excess = excess;
      }
    }
  }
  close();
  return breaches;
}

/**
 * The alert a breach raises, for the rule's organization. `alertId` is the hex
 * SHA-256 of `organizationId|ruleId|subject|from`: rule ids are per
 * organization, so two members' rules of one name stay two alerts; the same
 * breach evaluated again — by another member, after a rebuild, or as it goes
 * on (a later `to`) — keeps its id.
 */
export function alertOf(rule: SensorRule, breach: SensorBreach, subject: string): SensorAlert {
  const alertId = toHex(sha256(utf8(`${rule.organizationId}|${rule.ruleId}|${subject}|${breach.from}`)));
  return {
    alertId,
    ruleId: rule.ruleId,
    organizationId: rule.organizationId,
    subject,
    measurementType: rule.measurementType,
    uom: rule.uom,
    min: rule.min,
    max: rule.max,
    from: breach.from,
    to: breach.to,
    durationSeconds: breach.durationSeconds,
    worstValue: breach.worstValue,
    disposition: rule.disposition,
  };
}

/**
 * The EPCIS 2.0 ObjectEvent of an anchored `provenance.sensor.readings` batch,
 * a pure function of the committed transaction, so every member derives the
 * same event and CBV 2.0 hash. Fields, in this order:
 *
 * - `type` `ObjectEvent`; `eventTime` the last reading's `observedAt`,
 *   `eventTimeZoneOffset` `+00:00` (telemetry times are UTC); `recordTime` the
 *   block's timestamp (not hashed).
 * - `epcList: [subject]`, or `quantityList: [{ epcClass: subject }]` for a GTIN.
 * - `action` `OBSERVE`, `bizStep` `sensor_reporting`.
 * - `bizTransactionList`: the batch (`urn:alliance:sensor-batch:<batchId>`,
 *   type `urn:alliance:sensor-batch`) and the ledger transaction
 *   (`urn:alliance:ledger-transaction:<transactionId>`, type
 *   `urn:alliance:ledger-transaction`).
 * - `sensorElementList`: one element per device, by device id;
 *   `sensorMetadata` `{ time: its last reading, startTime, endTime (when its
 *   readings span more than one instant), deviceID, deviceMetadata:
 *   "urn:alliance:device:<organizationId>:<deviceId>" (its registration on the
 *   chain), rawData: "ni:///sha-256;<base64url>" (RFC 6920: the batch's
 *   off-ledger series, when anchored) }`; `sensorReport` `[{ type, value, uom,
 *   time }]` per measurement, in reading order.
 *
 * EPCIS JSON has only numbers for `value`, so the decimal string becomes
 * `Number(value)` here — the one place a float appears, in derived EPCIS JSON,
 * never in hashed ledger data: the signed reading on the chain keeps the exact
 * string, and the read model's index keeps exact decimal text. No `eventID`:
 * the read model names the event by its hash ID. Throws when a reading is not
 * of `organizationId` (the contract refuses such a batch).
 */
export function sensorEventOf(batch: SensorBatch, context: { readonly transactionId: string; readonly blockTimestamp: string; readonly organizationId: string }): EpcisEventObject {
  if (batch.readings.length === 0) throw new Error(`sensor batch ${batch.batchId} has no readings`);
  const rawData: EpcisEventObject = batch.series ? { rawData: `ni:///sha-256;${toBase64Url(fromHex(batch.series.sha256))}` } : {};
  const byDevice = new Map<string, SensorBatch['readings'][number]['reading'][]>();
  for (const { reading } of batch.readings) {
    if (reading.organizationId !== context.organizationId) throw new Error(`sensor batch ${batch.batchId} holds a reading of ${reading.organizationId}'s device, not of ${context.organizationId}`);
    byDevice.set(reading.deviceId, [...(byDevice.get(reading.deviceId) ?? []), reading]);
  }
  const devices = [...byDevice.keys()].sort();
  const sensorElementList: Json[] = devices.map((deviceId) => {
    const readings = byDevice.get(deviceId) ?? [];
    const first = readings[0].observedAt;
    const last = readings[readings.length - 1].observedAt;
    const span: EpcisEventObject = first !== last ? { startTime: first, endTime: last } : {};
    return {
      sensorMetadata: { time: last, ...span, deviceID: deviceId, deviceMetadata: `urn:alliance:device:${context.organizationId}:${deviceId}`, ...rawData },
      sensorReport: readings.flatMap((r) => r.readings.map((m) => ({ type: m.type, value: Number(m.value), uom: m.uom, time: r.observedAt }))),
    };
  });
  return {
    type: 'ObjectEvent',
    eventTime: batch.readings[batch.readings.length - 1].reading.observedAt,
    eventTimeZoneOffset: '+00:00',
    recordTime: context.blockTimestamp,
    ...whatOf(batch.subject),
    action: 'OBSERVE',
    bizStep: 'sensor_reporting',
    bizTransactionList: [
      { type: 'urn:alliance:sensor-batch', bizTransaction: `urn:alliance:sensor-batch:${batch.batchId}` },
      { type: 'urn:alliance:ledger-transaction', bizTransaction: `urn:alliance:ledger-transaction:${context.transactionId}` },
    ],
    sensorElementList,
  };
}

/**
 * The EPCIS 2.0 ObjectEvent the read model derives from an alert, so every
 * member sets the same persistent disposition on the subject: `eventTime` the
 * breach's `to` (`+00:00`), `epcList`/`quantityList` by the subject's kind,
 * `action` `OBSERVE`, `bizStep` `inspecting`, `persistentDisposition: { set:
 * [disposition] }`, `bizTransactionList: [{ type: "urn:alliance:sensor-alert",
 * bizTransaction: "urn:alliance:sensor-alert:<alertId>" }]`, and one
 * `sensorElementList` element stating the excursion: `sensorMetadata {
 * startTime: from, endTime: to, bizRules: "urn:alliance:sensor-rule:<organizationId>:<ruleId>" }`,
 * `sensorReport [{ type, exception: "ALARM_CONDITION", value: Number(worstValue), uom }]`.
 * No `eventID`, `recordTime` or `@context`.
 */
export function dispositionEventOf(alert: SensorAlert): EpcisEventObject {
  return {
    type: 'ObjectEvent',
    eventTime: alert.to,
    eventTimeZoneOffset: '+00:00',
    ...whatOf(alert.subject),
    action: 'OBSERVE',
    bizStep: 'inspecting',
    persistentDisposition: { set: [alert.disposition] },
    bizTransactionList: [{ type: 'urn:alliance:sensor-alert', bizTransaction: `urn:alliance:sensor-alert:${alert.alertId}` }],
    sensorElementList: [
      {
        sensorMetadata: { startTime: alert.from, endTime: alert.to, bizRules: `urn:alliance:sensor-rule:${alert.organizationId}:${alert.ruleId}` },
        sensorReport: [{ type: alert.measurementType, exception: 'ALARM_CONDITION', value: Number(alert.worstValue), uom: alert.uom }],
      },
    ],
  };
}
