import { ProtocolErrorCode, fail } from './errors';

/**
 * Byte encodings used by the protocol. Every decoder is strict: it accepts
 * exactly one text for each byte string (lower-case hex; base64 with zero
 * padding bits), so a flipped bit in an encoded hash or signature can never
 * decode to the same bytes. Written here rather than taken from Node's Buffer
 * because the library also runs in browsers.
 */

const HEX = '0123456789abcdef';
const HEX_PATTERN = /^(?:[0-9a-f]{2})*$/;

/** Also true for a Uint8Array of another realm (iframe, vm context), where instanceof fails. */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && value.constructor?.name === 'Uint8Array');
}

// Node's Buffer when present (servers): 5–10× faster hex for the ids and
// hashes every transaction goes through. Browsers take the portable loops;
// both give the same strings (encoding.spec.ts compares them).
interface HexBuffer {
  from(data: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: 'hex'): string };
  from(text: string, encoding: 'hex'): Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: HexBuffer }).Buffer;

export function toHex(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined && bytes.length > 8) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
  return portableToHex(bytes);
}

/** The browser path of `toHex`, for cross-tests. */
export function portableToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    out += HEX.charAt(b >> 4) + HEX.charAt(b & 15);
  }
  return out;
}

/** Lower-case hex only; `expectedLength` is in bytes. */
export function fromHex(text: string, expectedLength?: number): Uint8Array {
  if (typeof text !== 'string' || !HEX_PATTERN.test(text)) fail(ProtocolErrorCode.BAD_ENCODING, 'not lower-case hex');
  if (expectedLength !== undefined && text.length !== expectedLength * 2) {
    fail(ProtocolErrorCode.BAD_ENCODING, `hex must encode ${expectedLength} bytes`);
  }
  if (NodeBuffer !== undefined && text.length > 16) return new Uint8Array(NodeBuffer.from(text, 'hex'));
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** True for a lower-case hex string of exactly `bytes` bytes. */
export function isHex(text: unknown, bytes: number): text is string {
  return typeof text === 'string' && text.length === bytes * 2 && HEX_PATTERN.test(text);
}

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function encode64(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += alphabet.charAt(n >> 18) + alphabet.charAt((n >> 12) & 63) + alphabet.charAt((n >> 6) & 63) + alphabet.charAt(n & 63);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += alphabet.charAt(n >> 18) + alphabet.charAt((n >> 12) & 63) + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += alphabet.charAt(n >> 18) + alphabet.charAt((n >> 12) & 63) + alphabet.charAt((n >> 6) & 63) + (pad ? '=' : '');
  }
  return out;
}

function decode64(text: string, alphabet: string, pad: boolean, what: string): Uint8Array {
  if (typeof text !== 'string') fail(ProtocolErrorCode.BAD_ENCODING, `${what} must be a string`);
  let body = text;
  if (pad) {
    if (text.length % 4 !== 0) fail(ProtocolErrorCode.BAD_ENCODING, `${what} length must be a multiple of 4`);
    if (text.endsWith('==')) body = text.slice(0, -2);
    else if (text.endsWith('=')) body = text.slice(0, -1);
  } else if (text.length % 4 === 1) {
    fail(ProtocolErrorCode.BAD_ENCODING, `${what} has an impossible length`);
  }
  const values = new Array<number>(body.length);
  for (let i = 0; i < body.length; i++) {
    const v = alphabet.indexOf(body.charAt(i));
    if (v < 0) fail(ProtocolErrorCode.BAD_ENCODING, `${what} contains a character outside its alphabet`);
    values[i] = v;
  }
  const out = new Uint8Array(Math.floor((body.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const v of values) {
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Strictness: unused low bits must be zero, so one text ↔ one byte string.
  if ((acc & ((1 << bits) - 1)) !== 0) fail(ProtocolErrorCode.BAD_ENCODING, `${what} has non-zero padding bits`);
  if (encode64(out, alphabet, pad) !== text) fail(ProtocolErrorCode.BAD_ENCODING, `${what} is not canonical`);
  return out;
}

/** RFC 4648 §4, with padding (used only inside C2SP notes and checkpoints). */
export function toBase64(bytes: Uint8Array): string {
  return encode64(bytes, STD, true);
}

export function fromBase64(text: string): Uint8Array {
  return decode64(text, STD, true, 'base64');
}

/** RFC 4648 §5 without padding (signature values in JSON). */
export function toBase64Url(bytes: Uint8Array): string {
  return encode64(bytes, URL, false);
}

export function fromBase64Url(text: string): Uint8Array {
  return decode64(text, URL, false, 'base64url');
}

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Strict UTF-8: invalid sequences throw; a BOM is kept (so it can be rejected), not skipped. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail(ProtocolErrorCode.MALFORMED_JSON, 'not valid UTF-8');
  }
}

/** ASCII bytes of a string known to be ASCII (domain tags, algorithm names). */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) throw new Error('not ASCII');
    out[i] = c;
  }
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
