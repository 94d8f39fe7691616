import { isJsonObject } from './canonical-json';
import { fromBase64Url, isHex } from './encoding';
import { ProtocolErrorCode, fail } from './errors';
import { SIGNATURE_LENGTH } from './keys';

/**
 * Field rules shared by transactions, headers, results and receipts. Every
 * protocol object has an exact field set: a missing or an extra field is an
 * error, so there is one way to write each object and no field a verifier
 * could overlook.
 */

/**
 * Chain and organization ids: 1–64 of [a-z0-9._-], starting with [a-z0-9].
 * The set excludes '/', NUL, LF, spaces and '+', which the checkpoint origin
 * (`alliance/<chainId>`) and C2SP key names (the organization id) rely on.
 */
export const IDENTIFIER_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Transaction types: dot-separated lower-case words, e.g. `ledger.anchor`; ≤ 128 characters. */
export const TRANSACTION_TYPE_PATTERN = /^[a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)*$/;
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A key id (§3.2): 32 lower-case hex digits. */
export const KEY_ID_PATTERN = /^[0-9a-f]{32}$/;
/** RFC 3339, UTC, exactly millisecond precision, upper-case T and Z. */
export const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** `VALID`, or `<MODULE>.<REASON>` in upper case, like every error code in the system. */
export const RESULT_CODE_PATTERN = /^(?:VALID|[A-Z][A-Z0-9_]*\.[A-Z][A-Z0-9_]*)$/;
/** World-state keys: 1–256 printable ASCII characters without space, so byte, code-unit and code-point order agree. */
export const STATE_KEY_PATTERN = /^[\x21-\x7e]{1,256}$/;

export type Fields = Record<string, unknown>;

/** The value as an object with exactly these fields. */
export function exactObject(value: unknown, fields: readonly string[], code: ProtocolErrorCode, path: string, optional: readonly string[] = []): Fields {
  if (!isJsonObject(value)) fail(code, 'must be a JSON object', path || '/');
  const record = value as Fields;
  for (const f of fields) if (!Object.prototype.hasOwnProperty.call(record, f)) fail(code, 'missing field', `${path}/${f}`);
  for (const k of Object.keys(record)) {
    if (!fields.includes(k) && !optional.includes(k)) fail(code, 'unknown field', `${path}/${k}`);
  }
  return record;
}

export function expectString(value: unknown, pattern: RegExp, code: ProtocolErrorCode, path: string, what: string, maxLength = Infinity): string {
  if (typeof value !== 'string' || value.length > maxLength || !pattern.test(value)) fail(code, `must be ${what}`, path);
  return value;
}

export function expectInteger(value: unknown, min: number, code: ProtocolErrorCode, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) fail(code, `must be an integer >= ${min}`, path);
  return value;
}

export function expectHex(value: unknown, bytes: number, code: ProtocolErrorCode, path: string): string {
  if (!isHex(value, bytes)) fail(code, `must be ${bytes * 2} lower-case hex characters`, path);
  return value;
}

export function expectIdentifier(value: unknown, code: ProtocolErrorCode, path: string): string {
  return expectString(value, IDENTIFIER_PATTERN, code, path, 'an identifier: 1-64 of [a-z0-9._-], starting with [a-z0-9]');
}

/** A timestamp the protocol accepts; the pattern alone would allow 2026-02-30. */
export function isTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !TIMESTAMP_PATTERN.test(value)) return false;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && new Date(ms).toISOString() === value;
}

export function expectTimestamp(value: unknown, path: string, code: ProtocolErrorCode = ProtocolErrorCode.BAD_TIMESTAMP): string {
  if (!isTimestamp(value)) fail(code, 'must be an RFC 3339 UTC timestamp with milliseconds, e.g. 2026-11-25T20:00:00.000Z', path);
  return value;
}

/** Milliseconds since the epoch of a protocol timestamp. */
export function parseTimestamp(value: string): number {
  expectTimestamp(value, '');
  return Date.parse(value);
}

/** The protocol spelling of an instant. */
export function formatTimestamp(instant: Date | number): string {
  const date = typeof instant === 'number' ? new Date(instant) : instant;
  const text = date.toISOString();
  if (!isTimestamp(text)) fail(ProtocolErrorCode.BAD_TIMESTAMP, 'instant outside years 0000-9999');
  return text;
}

export function expectArray(value: unknown, code: ProtocolErrorCode, path: string, maxLength = Infinity): unknown[] {
  if (!Array.isArray(value)) fail(code, 'must be an array', path);
  if (value.length > maxLength) fail(code, `must have at most ${maxLength} elements`, path);
  return value;
}

/** A signature `value`: base64url without padding of exactly SIGNATURE_LENGTH bytes (envelopes, header signatures, telemetry). */
export function expectSignatureValue(value: unknown, code: ProtocolErrorCode, path: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = fromBase64Url(value as string);
  } catch {
    return fail(code, 'must be base64url without padding', path);
  }
  if (raw.length !== SIGNATURE_LENGTH) fail(code, `must encode ${SIGNATURE_LENGTH} bytes`, path);
  return raw;
}
