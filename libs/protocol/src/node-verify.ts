import type * as NodeCrypto from 'node:crypto';
import { concatBytes, isBytes, toHex } from './encoding';
import { isSignatureDomain, signingInput } from './hash';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, Verifier, isSignatureAlgorithm, verify } from './keys';
import { type NodeCryptoModule as Crypto, nodeCrypto } from './node-crypto';

/**
 * Server hot path: Ed25519 and P-256 verification through node:crypto
 * (OpenSSL), an order of magnitude faster than the portable code. Where there
 * is no Node (a browser), `nodeVerify` is `verify`. Both implement one rule
 * (docs/protocol.md §3.3), cross-tested both ways.
 */

type KeyObject = NodeCrypto.KeyObject;

// DER prefixes of SubjectPublicKeyInfo for a raw Ed25519 key (RFC 8410) and a
// compressed P-256 point (RFC 5480); OpenSSL decompresses and validates it.
const ED25519_SPKI = new Uint8Array([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const P256_SPKI = new Uint8Array([
  0x30, 0x39, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
  0x07, 0x03, 0x22, 0x00,
]);

// Encodings of the eight small-order Ed25519 points, plus the two x = 0
// points with the sign bit set (RFC 8032 decoding rejects those; OpenSSL does
// not). OpenSSL accepts such keys; the protocol does not (keys.ts).
const ED25519_SMALL_ORDER = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
]);

/** Exported for tests: the list above must be exactly the small-order points. */
export const ED25519_REJECTED_KEYS: ReadonlySet<string> = ED25519_SMALL_ORDER;

/** y ≥ p = 2^255 − 19 (little-endian, sign bit ignored): not a canonical encoding. */
function ed25519NonCanonical(pk: Uint8Array): boolean {
  if ((pk[31] & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (pk[i] !== 0xff) return false;
  return pk[0] >= 0xed;
}

// L and n/2 (P-256), big-endian / little-endian byte strings for cheap range checks.
const ED25519_L_LE = hexBytes('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
const P256_HALF_N_BE = hexBytes('7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8');

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Little-endian a < b over 32 bytes. */
function lessThanLE(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/** Big-endian a ≤ b over 32 bytes. */
function atMostBE(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return true;
}

// Parsed keys, by algorithm and hex. Bounded; cleared wholesale when full,
// which is cheap and enough for a consortium's few thousand active keys.
const KEY_CACHE_LIMIT = 10_000;
const keyCache = new Map<string, KeyObject | null>();

function keyObject(c: Crypto, algorithm: 'ed25519' | 'ecdsa-p256', publicKey: Uint8Array, hex: string): KeyObject | null {
  const id = `${algorithm}:${hex}`;
  const hit = keyCache.get(id);
  if (hit !== undefined) return hit;
  let key: KeyObject | null;
  try {
    const der = concatBytes(algorithm === 'ed25519' ? ED25519_SPKI : P256_SPKI, publicKey);
    key = c.createPublicKey({ key: der as unknown as Buffer, format: 'der', type: 'spki' });
  } catch {
    key = null;
  }
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  keyCache.set(id, key);
  return key;
}

/** `verify` with node:crypto for Ed25519 and P-256; same rule, same never-throws contract. */
export const nodeVerify: Verifier = (algorithm, publicKey, domain, message, signature) => {
  try {
    if (!isSignatureAlgorithm(algorithm) || !isSignatureDomain(domain)) return false;
    const c = nodeCrypto();
    if (c === null || algorithm === 'ecdsa-secp256k1') return verify(algorithm, publicKey, domain, message, signature);
    if (!isBytes(publicKey) || !isBytes(message) || !isBytes(signature)) return false;
    if (publicKey.length !== PUBLIC_KEY_LENGTH[algorithm] || signature.length !== SIGNATURE_LENGTH) return false;
    const data = signingInput(domain, message);
    const hex = toHex(publicKey);
    if (algorithm === 'ed25519') {
      if (ed25519NonCanonical(publicKey) || ED25519_SMALL_ORDER.has(hex)) return false;
      if (!lessThanLE(signature.subarray(32), ED25519_L_LE)) return false;
      const key = keyObject(c, algorithm, publicKey, hex);
      return key !== null && c.verify(null, data, key, signature);
    }
    if (publicKey[0] !== 0x02 && publicKey[0] !== 0x03) return false;
    // Low-S only (OpenSSL accepts both); OpenSSL itself checks 0 < r, s < n.
    if (!atMostBE(signature.subarray(32), P256_HALF_N_BE)) return false;
    const key = keyObject(c, algorithm, publicKey, hex);
    return key !== null && c.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
};

/** For tests and benchmarks: whether node:crypto is in use. */
export function nodeCryptoAvailable(): boolean {
  return nodeCrypto() !== null;
}
