import { canonicalBytes, canonicalize } from './canonical-json';
import { fromBase64Url, isBytes, toBase64Url, utf8 } from './encoding';
import { ProtocolErrorCode, fail } from './errors';
import { SignatureDomain } from './hash';
import { type SignatureAlgorithm, type Verifier, isSignatureAlgorithm, keyId, publicKeyOf, sign, verify } from './keys';
import type { SigningKey } from './transaction';
import { exactObject, expectArray, expectHex, expectIdentifier, expectInteger, expectSignatureValue, expectString, expectTimestamp } from './validate';

/**
 * Device telemetry (docs/protocol.md §3.5, docs/identity.md "Devices"): one
 * reading of a registered device, signed by the device's own key in domain
 * `alliance/device-telemetry/v1` over the reading's canonical bytes. Values
 * are decimal strings or integers — never floating point — so the signed
 * bytes are the same on every platform. Whether the key is the device's and
 * the device is active is the ledger's question (`verifyDeviceTelemetry` in
 * the ledger domain); this module fixes the bytes.
 */
export interface TelemetryMeasurement {
  /** A CBV 2.0 sensor measurement type by its short name (`Temperature`), or the absolute URI of a type outside the CBV. */
  readonly type: string;
  /** A decimal string (`"-18.25"`) or an integer. */
  readonly value: string | number;
  /** A UN/CEFACT Recommendation 20 unit code (`CEL`, `KGM`, `P1`). */
  readonly uom: string;
}

export interface TelemetryReading {
  /** The device id as the ledger stores it (`urn:epc:id:giai:…` or `did:…`). */
  readonly deviceId: string;
  /** The device's owner organization. */
  readonly organizationId: string;
  /** keyId of the device key that signs the reading. */
  readonly keyId: string;
  /** Optional, integer ≥ 0: the device's own counter, for the consumer to spot gaps and replays. */
  readonly sequence?: number;
  /** When the device measured: RFC 3339 UTC with milliseconds. */
  readonly observedAt: string;
  /** 1–64 measurements. */
  readonly readings: readonly TelemetryMeasurement[];
}

export interface SignedTelemetry {
  readonly reading: TelemetryReading;
  readonly signature: { readonly algorithm: SignatureAlgorithm; readonly keyId: string; readonly value: string };
}

export const MAX_TELEMETRY_MEASUREMENTS = 64;
/** Printable ASCII without space, at most 128: the stored device id forms are ASCII (URN, DID). */
const DEVICE_ID = /^[\x21-\x7e]{1,128}$/;
/** A CBV measurement type's short name; or an absolute http(s) URI, not under gs1.org/voc (those are spelled by short name). */
const CBV_TYPE = /^[A-Z][A-Za-z0-9]{0,63}$/;
const URI_TYPE = /^https?:\/\/[\x21-\x7e]{1,248}$/;
const GS1_VOCABULARY = /^https?:\/\/(?:www\.)?gs1\.org\/voc\//;
/** Optional minus, no leading zeros, optional fraction; at most 40 characters. */
const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;
const NEGATIVE_ZERO = /^-0(?:\.0+)?$/;
const UOM = /^[A-Z0-9]{2,3}$/;
const T = ProtocolErrorCode.MALFORMED_TELEMETRY;

function checkMeasurement(value: unknown, path: string): void {
  const m = exactObject(value, ['type', 'value', 'uom'], T, path);
  const type = m['type'];
  if (typeof type !== 'string' || !(CBV_TYPE.test(type) || (URI_TYPE.test(type) && !GS1_VOCABULARY.test(type)))) {
    fail(T, 'must be a CBV sensor measurement type by short name (e.g. "Temperature") or the absolute URI of another type', `${path}/type`);
  }
  const v = m['value'];
  const decimal = typeof v === 'string' && v.length <= 40 && DECIMAL.test(v) && !NEGATIVE_ZERO.test(v);
  if (!decimal && !(typeof v === 'number' && Number.isSafeInteger(v))) {
    fail(T, 'must be an integer or a decimal string like "-18.25" (a fraction is never a JSON number; no exponent, no leading zeros, at most 40 characters)', `${path}/value`);
  }
  expectString(m['uom'], UOM, T, `${path}/uom`, 'a UN/CEFACT Recommendation 20 unit code (2-3 of [A-Z0-9], e.g. "CEL")');
}

/** Checks a reading against the format; returns it typed or throws ProtocolError (PROTOCOL.MALFORMED_TELEMETRY, or the field's own code). */
export function validateTelemetryReading(value: unknown): TelemetryReading {
  const r = exactObject(value, ['deviceId', 'organizationId', 'keyId', 'observedAt', 'readings'], T, '', ['sequence']);
  expectString(r['deviceId'], DEVICE_ID, T, '/deviceId', '1-128 printable ASCII characters: the device id as registered');
  expectIdentifier(r['organizationId'], T, '/organizationId');
  expectHex(r['keyId'], 16, T, '/keyId');
  if (r['sequence'] !== undefined) expectInteger(r['sequence'], 0, T, '/sequence');
  expectTimestamp(r['observedAt'], '/observedAt', T);
  const list = expectArray(r['readings'], T, '/readings', MAX_TELEMETRY_MEASUREMENTS);
  if (list.length === 0) fail(T, 'must hold at least one measurement', '/readings');
  list.forEach((m, i) => checkMeasurement(m, `/readings/${i}`));
  return value as TelemetryReading;
}

/** The signed message: the reading's canonical bytes (RFC 8785), after every format check. */
export function encodeTelemetryReading(reading: TelemetryReading): Uint8Array {
  return canonicalBytes(validateTelemetryReading(reading));
}

/** Checks a signed reading's fields; returns it typed or throws ProtocolError. Does not verify the signature. */
export function validateSignedTelemetry(value: unknown): SignedTelemetry {
  const s = exactObject(value, ['reading', 'signature'], T, '');
  const reading = validateTelemetryReading(s['reading']);
  const sig = exactObject(s['signature'], ['algorithm', 'keyId', 'value'], T, '/signature');
  if (!isSignatureAlgorithm(sig['algorithm'])) fail(ProtocolErrorCode.UNSUPPORTED_ALGORITHM, 'unsupported algorithm', '/signature/algorithm');
  expectHex(sig['keyId'], 16, T, '/signature/keyId');
  if (sig['keyId'] !== reading.keyId) fail(ProtocolErrorCode.KEY_ID_MISMATCH, 'differs from /reading/keyId', '/signature/keyId');
  expectSignatureValue(sig['value'], T, '/signature/value');
  return value as SignedTelemetry;
}

/** Signs a reading whose keyId is the key's id; returns the signed reading (with a private copy of the reading). */
export function signTelemetryReading(reading: TelemetryReading, key: SigningKey): SignedTelemetry {
  const text = canonicalize(validateTelemetryReading(reading));
  const id = keyId(key.algorithm, publicKeyOf(key.algorithm, key.privateKey));
  if (reading.keyId !== id) fail(ProtocolErrorCode.KEY_ID_MISMATCH, `reading.keyId is not the id of this ${key.algorithm} key (${id})`, '/keyId');
  const signature = sign(key.algorithm, key.privateKey, SignatureDomain.deviceTelemetry, utf8(text));
  return { reading: JSON.parse(text) as TelemetryReading, signature: { algorithm: key.algorithm, keyId: id, value: toBase64Url(signature) } };
}

/**
 * True when the signed reading is well-formed, `publicKey` is the key its
 * keyId names, and the signature verifies over the canonical reading in the
 * telemetry domain. Never throws.
 */
export function verifyTelemetrySignature(signed: SignedTelemetry, publicKey: Uint8Array, verifier: Verifier = verify): boolean {
  try {
    const s = validateSignedTelemetry(signed);
    if (!isBytes(publicKey) || keyId(s.signature.algorithm, publicKey) !== s.signature.keyId) return false;
    return verifier(s.signature.algorithm, publicKey, SignatureDomain.deviceTelemetry, canonicalBytes(s.reading), fromBase64Url(s.signature.value));
  } catch {
    return false;
  }
}
