import { gs1CheckDigitOk } from './gs1';
import { isTimestamp, type SignedTelemetry, toBase64Url, toHex, validateSignedTelemetry, type Verifier } from '@alliance/protocol';
import { exactFields, reject } from './agent-keys';
import { verifyDeviceTelemetry } from './devices';
import { mayActWith } from './roles';
import type { ContractContext, ContractHandler, ContractOutcome, JsonValue } from './types';

/**
 * Sensor data (issue 5, sixth part): device-signed readings anchored against
 * what they measure, and the threshold rules an organization evaluates them
 * with. Two kinds of record, both small; the readings themselves travel in the
 * transaction payload, so every member's read model has them from the blocks:
 *
 *   provenance/sensor-rule/<organizationId>/<ruleId>  → SensorRule
 *   provenance/sensor-batch/<batchId>                 → SensorBatchRecord
 *
 * A rule is `subject` + `measurementType` + `uom` + bounds `[min, max]` (decimal
 * strings, either may be open) + `durationSeconds`; the read model evaluates it
 * (`evaluateRule` in the provenance domain) and derives an alert and an EPCIS
 * event setting the rule's persistent disposition. Only the owner of a device
 * submits its readings (`PROVENANCE.NOT_DEVICE_OWNER`): the device signs the
 * reading but not the subject, batch or series — those are the submitter's
 * claim, so a third party relaying another organization's readings could bind
 * them to something that device never measured. A custodian measures what it
 * holds with its own devices.
 */
export type SensorSubjectKind = 'product' | 'shipment' | 'item';

export interface SensorSubject {
  readonly kind: SensorSubjectKind;
  /** The canonical GS1 Digital Link on https://id.gs1.org/ (`sensorSubjectKindOf` gives its kind). */
  readonly id: string;
}

export interface SensorRule {
  readonly organizationId: string;
  readonly ruleId: string;
  readonly subject: SensorSubject;
  /** A CBV measurement type by short name (`Temperature`) or the absolute URI of another type, as in the telemetry. */
  readonly measurementType: string;
  /** UN/CEFACT Rec. 20 code; readings in another unit are not this rule's (no conversion). */
  readonly uom: string;
  /** Decimal strings; null is an open bound; at least one is given, and min ≤ max. */
  readonly min: string | null;
  readonly max: string | null;
  /** A breach counts when consecutive readings stay outside [min, max] at least this long; 0: any single reading. */
  readonly durationSeconds: number;
  /** The CBV 2.0 disposition (bare word) the breach sets persistently. */
  readonly disposition: BreachDisposition;
  /** 1 at the first definition, +1 at each redefinition; a retired rule defined again starts at 1. */
  readonly version: number;
  readonly definedAtBlock: number;
  /** The defining block's timestamp. */
  readonly definedAt: string;
  readonly transactionId: string;
}

/** The `provenance.sensor.readings` payload. */
export interface SensorBatch {
  readonly batchId: string;
  /** The canonical GS1 Digital Link of what the devices measured. */
  readonly subject: string;
  readonly readings: readonly SignedTelemetry[];
  /** The SHA-256 of a high-rate raw series kept off the ledger, its sample count and time range. */
  readonly series?: SensorSeries;
}

export interface SensorSeries {
  readonly sha256: string;
  readonly count: number;
  readonly from: string;
  readonly to: string;
}

export interface SensorBatchRecord {
  readonly batchId: string;
  readonly organizationId: string;
  readonly subject: string;
  readonly readingCount: number;
  /** The device ids of its readings, sorted, each once. */
  readonly devices: readonly string[];
  /** The first and the last reading's observedAt. */
  readonly from: string;
  readonly to: string;
  readonly series: SensorSeries | null;
  readonly blockNumber: number;
  readonly transactionId: string;
}

/** The permission an agent needs to define and retire its organization's sensor rules (admin keys need none). */
export const SENSOR_MANAGE_PERMISSION = 'provenance.sensor.manage';
/** The permission an agent needs to submit its organization's devices' readings. */
export const SENSOR_CAPTURE_PERMISSION = 'provenance.sensor.capture';
/** Most signed readings in one batch; a higher rate goes off the ledger as a `series` hash. */
export const MAX_SENSOR_READINGS = 500;
/** Longest `durationSeconds`: 366 days. */
export const MAX_RULE_DURATION_SECONDS = 31_622_400;
export const MAX_SUBJECT_LENGTH = 300;

/**
 * The dispositions a breach may set: the CBV 2.0 terms that say what an
 * excursion can mean for the goods. The default is `non_conformant` — CBV 2.0:
 * "the object has been determined to not meet the requirements" — because a
 * reading outside its limits shows exactly that, and no more: it does not
 * prove the goods `damaged` or `expired`, which an inspection may set later.
 */
export const BREACH_DISPOSITIONS = ['non_conformant', 'damaged', 'expired', 'needs_replacement', 'non_sellable_other', 'unavailable'] as const;
export type BreachDisposition = (typeof BREACH_DISPOSITIONS)[number];
export const DEFAULT_BREACH_DISPOSITION: BreachDisposition = 'non_conformant';

export const sensorRuleKeyOf = (organizationId: string, ruleId: string) => `provenance/sensor-rule/${organizationId}/${ruleId}`;
export const sensorBatchKeyOf = (batchId: string) => `provenance/sensor-batch/${batchId}`;

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const BATCH_ID = /^[A-Za-z0-9_-]{8,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;
/** As the telemetry format (libs/protocol/src/telemetry.ts): a CBV short name, or an absolute URI outside gs1.org/voc. */
const CBV_TYPE = /^[A-Z][A-Za-z0-9]{0,63}$/;
const URI_TYPE = /^https?:\/\/[\x21-\x7e]{1,248}$/;
const GS1_VOCABULARY = /^https?:\/\/(?:www\.)?gs1\.org\/voc\//;
const UOM = /^[A-Z0-9]{2,3}$/;
/** As the telemetry's values: optional minus, no leading zeros, optional fraction, at most 40 characters, no negative zero. */
const BOUND = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;
const NEGATIVE_ZERO = /^-0(?:\.0+)?$/;

/** A Digital Link value: GS1 character set 82 as the canonical link writes it (upper-case %-escapes for the rest). */
const V = "(?:[A-Za-z0-9!'()*+,\\-.:;=_]|%[0-9A-F]{2})+";
const DL = 'https://id\\.gs1\\.org/';
const PRODUCT = new RegExp(`^${DL}01/(\\d{14})$`);
const SHIPMENT = new RegExp(`^${DL}00/(\\d{18})$`);
/** Instance keys of physical things: SGTIN (21) or TPX (235) of a GTIN, serialised ITIP, serialised CPI, serialised GRAI, GIAI. */
const ITEMS: ReadonlyArray<{ re: RegExp; checked?: (m: RegExpExecArray) => string }> = [
  { re: new RegExp(`^${DL}01/(\\d{14})/(?:21|235)/${V}$`), checked: (m) => m[1] },
  { re: new RegExp(`^${DL}8006/(\\d{14})\\d{4}/21/${V}$`), checked: (m) => m[1] },
  { re: new RegExp(`^${DL}8010/${V}/8011/\\d{1,12}$`) },
  { re: new RegExp(`^${DL}8003/(\\d{14})${V}$`), checked: (m) => m[1] },
  { re: new RegExp(`^${DL}8004/${V}$`) },
];

/**
 * What a sensor subject is, from its canonical GS1 Digital Link on
 * `https://id.gs1.org/`: `product` a GTIN (`…/01/<gtin>`), `shipment` an SSCC
 * (`…/00/<sscc>`), `item` an instance key (SGTIN, TPX, serialised ITIP, CPI or
 * GRAI, GIAI); undefined for anything else, a wrong length or check digit, or
 * more than MAX_SUBJECT_LENGTH characters. The service normalises a URN or
 * another domain's link first (`parseGs1Key`); the chain takes only this form.
 */
export function sensorSubjectKindOf(id: unknown): SensorSubjectKind | undefined {
  if (typeof id !== 'string' || id.length > MAX_SUBJECT_LENGTH) return undefined;
  const product = PRODUCT.exec(id);
  if (product) return gs1CheckDigitOk(product[1]) ? 'product' : undefined;
  const shipment = SHIPMENT.exec(id);
  if (shipment) return gs1CheckDigitOk(shipment[1]) ? 'shipment' : undefined;
  for (const { re, checked } of ITEMS) {
    const m = re.exec(id);
    if (m) return !checked || gs1CheckDigitOk(checked(m)) ? 'item' : undefined;
  }
  return undefined;
}

/** The GTIN Digital Link (`https://id.gs1.org/01/<gtin>`) of an SGTIN or TPX subject; undefined for other subjects. */
export function productOfSubject(id: string): string | undefined {
  const m = new RegExp(`^${DL}01/(\\d{14})/(?:21|235)/`).exec(id);
  return m && sensorSubjectKindOf(id) === 'item' ? `https://id.gs1.org/01/${m[1]}` : undefined;
}

function scaledPair(a: string, b: string): [bigint, bigint] {
  const parse = (text: string) => {
    const m = typeof text === 'string' ? /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text) : null;
    if (!m) throw new Error(`${JSON.stringify(text)} is not a decimal number (digits, optional sign and fraction, no exponent)`);
    return { sign: m[1] === '-' ? '-' : '', int: m[2], frac: m[3] ?? '' };
  };
  const x = parse(a);
  const y = parse(b);
  const scale = Math.max(x.frac.length, y.frac.length);
  return [BigInt(`${x.sign}${x.int}${x.frac.padEnd(scale, '0')}`), BigInt(`${y.sign}${y.int}${y.frac.padEnd(scale, '0')}`)];
}

/**
 * Exact comparison of two decimal strings (`"-18.25"`, `"4"`, `"4.000"`): −1,
 * 0 or 1, by integer arithmetic at the longer fraction's scale — no floating
 * point, so `"0.1"` and `"0.10"` are equal and 40-digit values compare exactly.
 * Throws for a string that is not a plain decimal (no exponent).
 */
export function compareDecimal(a: string, b: string): -1 | 0 | 1 {
  const [x, y] = scaledPair(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** |a − b| as an exact decimal string (trailing fraction zeros kept to the longer scale). */
export function decimalDistance(a: string, b: string): string {
  const fraction = (t: string) => /\.(\d+)$/.exec(t)?.[1].length ?? 0;
  const scale = Math.max(fraction(a), fraction(b));
  const [x, y] = scaledPair(a, b);
  const d = (x > y ? x - y : y - x).toString().padStart(scale + 1, '0');
  return scale === 0 ? d : `${d.slice(0, -scale)}.${d.slice(-scale)}`;
}

const invalidRule = (detail: string) => reject('PROVENANCE.INVALID_RULE', detail);
const invalidReadings = (detail: string) => reject('PROVENANCE.INVALID_READINGS', detail);

function payloadOf(ctx: ContractContext, fields: readonly string[], refuse: (detail: string) => ContractOutcome): Record<string, unknown> | ContractOutcome {
  const payload = ctx.transaction.payload as Record<string, unknown>;
  const extra = exactFields(payload, fields);
  return extra ? refuse(`${extra.ok ? '' : extra.detail}; expected only ${fields.join(', ')}`) : payload;
}

const isOutcome = (v: unknown): v is ContractOutcome => typeof v === 'object' && v !== null && 'ok' in v && (v as { ok: unknown }).ok === false;
const isBound = (v: unknown): v is string => typeof v === 'string' && v.length <= 40 && BOUND.test(v) && !NEGATIVE_ZERO.test(v);
const isMeasurementType = (v: unknown): v is string => typeof v === 'string' && (CBV_TYPE.test(v) || (URI_TYPE.test(v) && !GS1_VOCABULARY.test(v)));

/**
 * `provenance.sensor.rule.define`: `{ ruleId, subject: { kind, id }, measurementType, uom, min?, max?, durationSeconds, disposition? }`,
 * by an admin key or an agent holding `provenance.sensor.manage`. Defining an
 * existing ruleId of the organization replaces the rule (version + 1).
 */
export const sensorRuleDefineContract: ContractHandler = {
  type: 'provenance.sensor.rule.define',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, SENSOR_MANAGE_PERMISSION, 'manages its sensor rules');
    if (denied) return denied;
    const payload = payloadOf(ctx, ['ruleId', 'subject', 'measurementType', 'uom', 'min', 'max', 'durationSeconds', 'disposition'], invalidRule);
    if (isOutcome(payload)) return payload;
    const { ruleId, subject, measurementType, uom, durationSeconds } = payload;
    const min = payload['min'] ?? null;
    const max = payload['max'] ?? null;
    const disposition = payload['disposition'] ?? DEFAULT_BREACH_DISPOSITION;
    if (typeof ruleId !== 'string' || !RULE_ID.test(ruleId)) return invalidRule('payload.ruleId must be 1-64 of [A-Za-z0-9_.-], starting with a letter or digit');
    const s = subject as { kind?: unknown; id?: unknown } | null;
    if (!s || typeof s !== 'object' || Array.isArray(s) || Object.keys(s).some((k) => k !== 'kind' && k !== 'id')) return invalidRule('payload.subject must be { "kind": "product" | "shipment" | "item", "id" }');
    const kind = sensorSubjectKindOf(s.id);
    if (!kind) return invalidRule('payload.subject.id must be a GTIN (https://id.gs1.org/01/<gtin>), an SSCC (https://id.gs1.org/00/<sscc>) or an instance key as its canonical Digital Link, with a valid check digit');
    if (s.kind !== kind) return invalidRule(`payload.subject.kind must be "${kind}" for ${String(s.id)}`);
    if (!isMeasurementType(measurementType)) return invalidRule('payload.measurementType must be a CBV sensor measurement type by short name (e.g. "Temperature") or the absolute URI of another type');
    if (typeof uom !== 'string' || !UOM.test(uom)) return invalidRule('payload.uom must be a UN/CEFACT Recommendation 20 unit code (2-3 of [A-Z0-9], e.g. "CEL")');
    for (const [name, bound] of [['min', min], ['max', max]] as const) {
      if (bound !== null && !isBound(bound)) return invalidRule(`payload.${name}, when given, must be a decimal string like "-18.25" (no exponent, no leading zeros, at most 40 characters)`);
    }
    if (min === null && max === null) return invalidRule('a rule needs payload.min, payload.max or both');
    if (min !== null && max !== null && compareDecimal(min as string, max as string) > 0) return invalidRule(`payload.min (${String(min)}) is above payload.max (${String(max)})`);
    if (typeof durationSeconds !== 'number' || !Number.isInteger(durationSeconds) || durationSeconds < 0 || durationSeconds > MAX_RULE_DURATION_SECONDS)
      return invalidRule(`payload.durationSeconds must be an integer 0-${MAX_RULE_DURATION_SECONDS} (0: any single reading outside the bounds)`);
    if (!(BREACH_DISPOSITIONS as readonly unknown[]).includes(disposition)) return invalidRule(`payload.disposition, when given, must be one of ${BREACH_DISPOSITIONS.join(', ')} (default ${DEFAULT_BREACH_DISPOSITION})`);
    const organizationId = ctx.transaction.creator.organizationId;
    const key = sensorRuleKeyOf(organizationId, ruleId);
    const previous = ctx.state.get(key)?.value as SensorRule | null | undefined;
    const rule: SensorRule = {
      organizationId,
      ruleId,
      subject: { kind, id: s.id as string },
      measurementType,
      uom,
      min: min as string | null,
      max: max as string | null,
      durationSeconds,
      disposition: disposition as BreachDisposition,
      version: (previous?.version ?? 0) + 1,
      definedAtBlock: ctx.blockNumber,
      definedAt: ctx.blockTimestamp,
      transactionId: ctx.transactionId,
    };
    return { ok: true, writes: [{ key, value: rule as unknown as JsonValue }] };
  },
};

/** `provenance.sensor.rule.retire`: `{ ruleId }` — deletes the organization's rule (`PROVENANCE.UNKNOWN_RULE` when there is none). */
export const sensorRuleRetireContract: ContractHandler = {
  type: 'provenance.sensor.rule.retire',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, SENSOR_MANAGE_PERMISSION, 'manages its sensor rules');
    if (denied) return denied;
    const payload = payloadOf(ctx, ['ruleId'], invalidRule);
    if (isOutcome(payload)) return payload;
    const ruleId = payload['ruleId'];
    if (typeof ruleId !== 'string' || !RULE_ID.test(ruleId)) return invalidRule('payload.ruleId must be a rule id');
    const key = sensorRuleKeyOf(ctx.transaction.creator.organizationId, ruleId);
    if (!ctx.state.get(key)) return reject('PROVENANCE.UNKNOWN_RULE', `${ctx.transaction.creator.organizationId} has no sensor rule ${ruleId}`);
    return { ok: true, writes: [{ key, value: null }] };
  },
};

function seriesOf(value: unknown): SensorSeries | null | ContractOutcome {
  if (value === undefined) return null;
  const s = value as Record<string, unknown> | null;
  const shape = 'payload.series must be { "sha256": hex SHA-256 of the raw series, "count": integer ≥ 1, "from", "to": RFC 3339 UTC ms, from ≤ to }';
  if (!s || typeof s !== 'object' || Array.isArray(s) || exactFields(s, ['sha256', 'count', 'from', 'to'])) return invalidReadings(shape);
  const { sha256, count, from, to } = s;
  if (typeof sha256 !== 'string' || !HEX64.test(sha256) || typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || !isTimestamp(from) || !isTimestamp(to) || from > to) return invalidReadings(shape);
  return { sha256, count, from, to };
}

/**
 * `provenance.sensor.readings`: `{ batchId, subject, readings: [SignedTelemetry…] (1–MAX_SENSOR_READINGS), series? }`,
 * by an admin key or an agent holding `provenance.sensor.capture`. All or
 * nothing: the batch is refused, naming the reading's index, when a reading is
 * not of one of the creator's organization's devices (`PROVENANCE.NOT_DEVICE_OWNER`),
 * is out of order (observedAt must not decrease), repeats a device's instant,
 * is later than the block's timestamp plus the chain's timestamp window, or
 * does not count by `verifyDeviceTelemetry` (its `IDENTITY.*` code: unknown
 * or inactive device, a key that is not the device's, a bad signature).
 */
export const sensorReadingsContract: ContractHandler = {
  type: 'provenance.sensor.readings',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, SENSOR_CAPTURE_PERMISSION, 'submits its devices’ readings');
    if (denied) return denied;
    const payload = payloadOf(ctx, ['batchId', 'subject', 'readings', 'series'], invalidReadings);
    if (isOutcome(payload)) return payload;
    const { batchId, subject, readings } = payload;
    if (typeof batchId !== 'string' || !BATCH_ID.test(batchId)) return invalidReadings('payload.batchId must be 8-64 of [A-Za-z0-9_-]');
    if (!sensorSubjectKindOf(subject)) return invalidReadings('payload.subject must be a GTIN, an SSCC or an instance key as its canonical Digital Link on https://id.gs1.org/, with a valid check digit');
    if (!Array.isArray(readings) || readings.length < 1 || readings.length > MAX_SENSOR_READINGS) return invalidReadings(`payload.readings must hold 1-${MAX_SENSOR_READINGS} signed readings`);
    const series = seriesOf(payload['series']);
    if (isOutcome(series)) return series;
    if (ctx.state.get(sensorBatchKeyOf(batchId))) return reject('PROVENANCE.DUPLICATE_BATCH', `sensor batch ${batchId} is already anchored`);
    const organizationId = ctx.transaction.creator.organizationId;
    const latest = Date.parse(ctx.blockTimestamp) + ctx.config.timestampWindowMs;
    const instants = new Set<string>();
    let previous = '';
    // The cheap checks of every reading first, then the signatures.
    for (const [i, r] of readings.entries()) {
      let reading: SignedTelemetry['reading'];
      try {
        reading = validateSignedTelemetry(r).reading;
      } catch (error) {
        return reject('IDENTITY.INVALID', `payload.readings[${i}]: malformed telemetry: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (reading.organizationId !== organizationId) return reject('PROVENANCE.NOT_DEVICE_OWNER', `payload.readings[${i}] is of a device of ${reading.organizationId}; ${organizationId} submits only its own devices’ readings`);
      if (reading.observedAt < previous) return invalidReadings(`payload.readings[${i}] (${reading.observedAt}) is before the reading before it (${previous}): observedAt must not decrease`);
      const instant = `${reading.deviceId}\n${reading.observedAt}`;
      if (instants.has(instant)) return invalidReadings(`payload.readings[${i}] repeats device ${reading.deviceId} at ${reading.observedAt}`);
      if (Date.parse(reading.observedAt) > latest) return invalidReadings(`payload.readings[${i}] is observed at ${reading.observedAt}, after the block's time ${ctx.blockTimestamp} and the ${ctx.config.timestampWindowMs} ms window`);
      instants.add(instant);
      previous = reading.observedAt;
    }
    const verifier: Verifier = (algorithm, publicKey, domain, message, signature) => ctx.verifySignature(algorithm, toHex(publicKey), domain, message, toBase64Url(signature));
    for (const [i, r] of (readings as SignedTelemetry[]).entries()) {
      const verdict = verifyDeviceTelemetry(ctx.state, r, verifier);
      if (!verdict.ok) return reject(verdict.code, `payload.readings[${i}]: ${verdict.detail}`);
    }
    const list = readings as SignedTelemetry[];
    const record: SensorBatchRecord = {
      batchId,
      organizationId,
      subject: subject as string,
      readingCount: list.length,
      devices: [...new Set(list.map((r) => r.reading.deviceId))].sort(),
      from: list[0].reading.observedAt,
      to: list[list.length - 1].reading.observedAt,
      series,
      blockNumber: ctx.blockNumber,
      transactionId: ctx.transactionId,
    };
    return { ok: true, writes: [{ key: sensorBatchKeyOf(batchId), value: record as unknown as JsonValue }] };
  },
};

export const sensorContracts: readonly ContractHandler[] = [sensorRuleDefineContract, sensorRuleRetireContract, sensorReadingsContract];
