import { fromBase64 } from '@alliance/protocol';

/** True for a Uint8Array (a Buffer too), also of another realm (iframe, vm context), where instanceof fails. */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && value.constructor?.name === 'Uint8Array');
}

const utf8 = new TextEncoder();

/** Orders two strings by their UTF-8 bytes (the protocol's key order; PostgreSQL's COLLATE "C"). */
export function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Strict base64 (protocol.md §1.2) to bytes; null for anything else. */
export function strictBase64(text: unknown): Uint8Array | null {
  if (typeof text !== 'string') return null;
  try {
    return fromBase64(text);
  } catch {
    return null;
  }
}
