import { fromUtf8, isBytes, utf8 } from './encoding';
import { ProtocolErrorCode, fail } from './errors';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * JCS was designed so that ECMAScript's own serializers are the reference:
 * strings serialize exactly as `JSON.stringify` does (escape `"`, `\` and
 * U+0000–U+001F only, short forms for \b \t \n \f \r, lower-case `\u00xx`
 * otherwise), numbers exactly as `Number.prototype.toString`, and object
 * members are sorted by their keys' UTF-16 code units (JavaScript's default
 * string order). What this module adds is strictness: protocol values are
 * null, booleans, strings, arrays, plain objects and safe integers only.
 */

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * Deepest nesting of arrays/objects the protocol accepts. Without a fixed
 * limit, whether a deep payload is valid would depend on each platform's stack
 * size — and every node must reach the same verdict.
 */
export const MAX_JSON_DEPTH = 64;

export interface CanonicalizeOptions {
  /**
   * `integers` (the default, the protocol's rule) accepts only integers with
   * |n| ≤ 2^53 − 1 and rejects every other number; `jcs` accepts any finite
   * number and formats it per RFC 8785 §3.2.2.3 (for interoperability tests).
   */
  readonly numbers?: 'integers' | 'jcs';
}

// A lone surrogate cannot be encoded in UTF-8, so it has no canonical bytes.
const LONE_SURROGATE = /\p{Cs}/u;

// JSON Pointer of where a failure is, built only when one happens (building
// it for every member was a tenth of the cost of canonicalising).
interface Where {
  readonly parent: Where | undefined;
  readonly key: string | number;
}

function pointer(where: Where | undefined): string {
  let out = '';
  for (let w = where; w; w = w.parent) out = `/${typeof w.key === 'number' ? w.key : escapePointer(w.key)}${out}`;
  return out;
}

function serialize(value: unknown, jcsNumbers: boolean, depth: number, where: Where | undefined, out: string[]): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'string':
      if (LONE_SURROGATE.test(value)) fail(ProtocolErrorCode.UNSUPPORTED_VALUE, 'string contains a lone surrogate', pointer(where));
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(ProtocolErrorCode.UNSUPPORTED_VALUE, `${String(value)} is not a JSON number`, pointer(where));
      if (!jcsNumbers && !Number.isSafeInteger(value)) {
        fail(ProtocolErrorCode.NUMBER_NOT_ALLOWED, 'numbers must be integers with |n| <= 2^53 - 1', pointer(where));
      }
      // -0 serializes as 0 (RFC 8785 §3.2.2.3); JSON.stringify does exactly that.
      out.push(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      fail(ProtocolErrorCode.UNSUPPORTED_VALUE, `a ${typeof value} is not a JSON value`, pointer(where));
  }
  if (depth >= MAX_JSON_DEPTH) fail(ProtocolErrorCode.TOO_DEEP, `nesting deeper than ${MAX_JSON_DEPTH}`, pointer(where));
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      // Holes read as undefined and are rejected like any other undefined.
      serialize(value[i], jcsNumbers, depth + 1, { parent: where, key: i }, out);
    }
    out.push(']');
    return;
  }
  if (!isPlainObject(value)) fail(ProtocolErrorCode.UNSUPPORTED_VALUE, 'only plain objects and arrays are JSON containers', pointer(where));
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
  const keys = Object.keys(record).sort();
  out.push('{');
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (LONE_SURROGATE.test(key)) fail(ProtocolErrorCode.UNSUPPORTED_VALUE, 'key contains a lone surrogate', pointer(where));
    if (i > 0) out.push(',');
    out.push(JSON.stringify(key), ':');
    serialize(record[key], jcsNumbers, depth + 1, { parent: where, key }, out);
  }
  out.push('}');
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The RFC 8785 canonical text of a value; throws ProtocolError for values the protocol does not allow. */
export function canonicalize(value: unknown, options: CanonicalizeOptions = {}): string {
  const out: string[] = [];
  serialize(value, options.numbers === 'jcs', 0, undefined, out);
  return out.join('');
}

/** UTF-8 bytes of `canonicalize(value)`: what the protocol hashes and signs. */
export function canonicalBytes(value: unknown, options: CanonicalizeOptions = {}): Uint8Array {
  return utf8(canonicalize(value, options));
}

/**
 * Parses bytes that must already be canonical. Anything that is not
 * byte-identical to the canonical form of what it parses to — whitespace,
 * member order, duplicate keys, alternative escapes, number spellings, a BOM,
 * trailing bytes — is rejected, so two different byte strings can never stand
 * for one protocol object.
 */
export function parseCanonical(bytes: Uint8Array): JsonValue {
  if (!isBytes(bytes)) fail(ProtocolErrorCode.MALFORMED_JSON, 'input must be bytes');
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    fail(ProtocolErrorCode.NON_CANONICAL, 'input starts with a byte order mark');
  }
  const text = fromUtf8(bytes);
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    return fail(ProtocolErrorCode.MALFORMED_JSON, 'not JSON');
  }
  // The canonical form of the parsed value is unique; comparing strings is
  // comparing bytes, as both sides are well-formed Unicode.
  if (canonicalize(value) !== text) fail(ProtocolErrorCode.NON_CANONICAL, 'input is not in RFC 8785 canonical form');
  return value;
}

/**
 * An object literal, JSON.parse result or Object.create(null) — of any realm:
 * its prototype is null or an Object.prototype (whose own prototype is null).
 * Dates, Maps, typed arrays and class instances are not.
 */
function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || (Object.getPrototypeOf(proto) === null && Object.prototype.toString.call(value) === '[object Object]');
}

/** True when the value is a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && isPlainObject(value);
}
