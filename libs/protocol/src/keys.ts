import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE, numberToBytesBE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { ascii, bytesEqual, concatBytes, isBytes, toHex } from './encoding';
import { ProtocolErrorCode, fail } from './errors';
import { SignatureDomain, isSignatureDomain, sha256, signingInput } from './hash';

/**
 * Keys and signatures, portable (browser and Node) through @noble/curves.
 *
 * Encodings: Ed25519 keys are the RFC 8032 32-byte seed (private) and 32-byte
 * point (public), signatures 64 bytes R ‖ S. ECDSA private keys are 32-byte
 * big-endian scalars, public keys SEC1 compressed (33 bytes), signatures
 * 64 bytes r ‖ s (IEEE P1363) over SHA-256(signing input), low-S only.
 */

export const SIGNATURE_ALGORITHMS = ['ed25519', 'ecdsa-p256', 'ecdsa-secp256k1'] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

export function isSignatureAlgorithm(value: unknown): value is SignatureAlgorithm {
  return typeof value === 'string' && (SIGNATURE_ALGORITHMS as readonly string[]).includes(value);
}

export interface KeyPair {
  readonly algorithm: SignatureAlgorithm;
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * Same shape as `verify`; the server passes `nodeVerify` wherever a verifier
 * is accepted. Algorithm and domain are plain strings because verifiers take
 * them from untrusted JSON: an unknown one is malformed input, so `false`.
 */
export type Verifier = (algorithm: string, publicKey: Uint8Array, domain: string, message: Uint8Array, signature: Uint8Array) => boolean;

export const PUBLIC_KEY_LENGTH: Readonly<Record<SignatureAlgorithm, number>> = {
  ed25519: 32,
  'ecdsa-p256': 33,
  'ecdsa-secp256k1': 33,
};
export const PRIVATE_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

const ecdsa = { 'ecdsa-p256': p256, 'ecdsa-secp256k1': secp256k1 } as const;

function assertAlgorithm(algorithm: unknown): asserts algorithm is SignatureAlgorithm {
  if (!isSignatureAlgorithm(algorithm)) fail(ProtocolErrorCode.UNSUPPORTED_ALGORITHM, `unsupported algorithm "${String(algorithm)}"`);
}

export function generateKeyPair(algorithm: SignatureAlgorithm = 'ed25519'): KeyPair {
  assertAlgorithm(algorithm);
  const { secretKey } = algorithm === 'ed25519' ? ed25519.keygen() : ecdsa[algorithm].keygen();
  return { algorithm, privateKey: secretKey, publicKey: publicKeyOf(algorithm, secretKey) };
}

export function publicKeyOf(algorithm: SignatureAlgorithm, privateKey: Uint8Array): Uint8Array {
  assertAlgorithm(algorithm);
  if (!isBytes(privateKey) || privateKey.length !== PRIVATE_KEY_LENGTH) fail(ProtocolErrorCode.BAD_KEY, 'private key must be 32 bytes');
  try {
    return algorithm === 'ed25519' ? ed25519.getPublicKey(privateKey) : ecdsa[algorithm].getPublicKey(privateKey, true);
  } catch {
    return fail(ProtocolErrorCode.BAD_KEY, `not a valid ${algorithm} private key`);
  }
}

/** Lower-case hex of the first 16 bytes of SHA-256(ASCII(algorithm) ‖ 0x00 ‖ publicKey). */
export function keyId(algorithm: SignatureAlgorithm, publicKey: Uint8Array): string {
  assertAlgorithm(algorithm);
  if (!isBytes(publicKey) || publicKey.length !== PUBLIC_KEY_LENGTH[algorithm]) {
    fail(ProtocolErrorCode.BAD_KEY, `${algorithm} public key must be ${PUBLIC_KEY_LENGTH[algorithm]} bytes`);
  }
  return toHex(sha256(concatBytes(ascii(algorithm), new Uint8Array([0]), publicKey)).subarray(0, 16));
}

export function sign(algorithm: SignatureAlgorithm, privateKey: Uint8Array, domain: SignatureDomain, message: Uint8Array): Uint8Array {
  if (!isBytes(message)) fail(ProtocolErrorCode.UNSUPPORTED_VALUE, 'message must be bytes');
  return signRaw(algorithm, privateKey, signingInput(domain, message));
}

/**
 * Signs exact bytes with no domain tag. Internal: only C2SP notes (whose
 * signed bytes are fixed by that spec) and `sign` use it.
 */
export function signRaw(algorithm: SignatureAlgorithm, privateKey: Uint8Array, data: Uint8Array): Uint8Array {
  assertAlgorithm(algorithm);
  if (!isBytes(privateKey) || privateKey.length !== PRIVATE_KEY_LENGTH) fail(ProtocolErrorCode.BAD_KEY, 'private key must be 32 bytes');
  try {
    if (algorithm === 'ed25519') return ed25519.sign(data, privateKey);
    // Deterministic RFC 6979 nonces; prehash = SHA-256 of the data; low-S.
    return ecdsa[algorithm].sign(data, privateKey, { prehash: true, lowS: true, format: 'compact' });
  } catch {
    return fail(ProtocolErrorCode.BAD_KEY, `not a valid ${algorithm} private key`);
  }
}

/** Verifies a protocol signature. Never throws: malformed input of any kind is `false`. */
export const verify: Verifier = (algorithm, publicKey, domain, message, signature) => {
  try {
    if (!isSignatureDomain(domain) || !isBytes(message)) return false;
    return verifyRaw(algorithm, publicKey, signingInput(domain, message), signature);
  } catch {
    return false;
  }
};

/** Verifies a signature over exact bytes (no domain tag). Never throws. */
export function verifyRaw(algorithm: string, publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (!isSignatureAlgorithm(algorithm) || !isBytes(publicKey) || !isBytes(data) || !isBytes(signature)) return false;
    if (publicKey.length !== PUBLIC_KEY_LENGTH[algorithm] || signature.length !== SIGNATURE_LENGTH) return false;
    if (algorithm === 'ed25519') return ed25519VerifyStrict(publicKey, data, signature);
    if (publicKey[0] !== 0x02 && publicKey[0] !== 0x03) return false;
    return ecdsa[algorithm].verify(signature, data, publicKey, { prehash: true, lowS: true, format: 'compact' });
  } catch {
    return false;
  }
}

const Point = ed25519.Point;
const L = Point.Fn.ORDER;

/**
 * Ed25519 verification with the exact rule OpenSSL (node:crypto) applies, plus
 * the key checks OpenSSL lacks, so the portable and the server verifier can
 * never disagree — a consensus system cannot have two nodes (or a node and an
 * offline verifier) reach different verdicts on one signature:
 *  1. A is the canonical encoding (y < p, RFC 8032 §5.1.3) of a curve point
 *     that is not of small order;
 *  2. S < L;
 *  3. the cofactorless equation: encode([S]B − [k]A) == R, byte for byte,
 *     k = SHA-512(R ‖ A ‖ M) mod L.
 * noble's own `verify` uses the cofactored equation and would accept
 * signatures with a mixed-order R that OpenSSL rejects (tested).
 */
function ed25519VerifyStrict(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  let A;
  try {
    A = Point.fromBytes(publicKey, false);
  } catch {
    return false;
  }
  if (A.isSmallOrder()) return false;
  const r = signature.subarray(0, 32);
  const s = bytesToNumberLE(signature.subarray(32, 64));
  if (s >= L) return false;
  const k = bytesToNumberLE(sha512(concatBytes(r, publicKey, message))) % L;
  const rCheck = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
  return bytesEqual(rCheck.toBytes(), r);
}

/**
 * True when the bytes are a public key a registry may accept: for Ed25519 the
 * canonical encoding of a point of prime order (no torsion component), for
 * ECDSA a SEC1 compressed point on the curve. Verification itself only
 * excludes small-order keys (a full subgroup check per signature is too slow
 * for the hot path), so registries must run this once per key.
 */
export function isValidPublicKey(algorithm: SignatureAlgorithm, publicKey: Uint8Array): boolean {
  try {
    if (!isSignatureAlgorithm(algorithm) || !isBytes(publicKey) || publicKey.length !== PUBLIC_KEY_LENGTH[algorithm]) return false;
    if (algorithm === 'ed25519') {
      const A = Point.fromBytes(publicKey, false);
      return !A.isSmallOrder() && A.isTorsionFree();
    }
    if (publicKey[0] !== 0x02 && publicKey[0] !== 0x03) return false;
    ecdsa[algorithm].Point.fromBytes(publicKey).assertValidity();
    return true;
  } catch {
    return false;
  }
}

/**
 * Converts an ECDSA r ‖ s signature to its low-S twin (s → n − s). For
 * integrators whose signer (an HSM, WebCrypto) emits high-S signatures, which
 * the protocol rejects. Ed25519 signatures are returned unchanged.
 */
export function normalizeSignature(algorithm: SignatureAlgorithm, signature: Uint8Array): Uint8Array {
  assertAlgorithm(algorithm);
  if (!isBytes(signature) || signature.length !== SIGNATURE_LENGTH) fail(ProtocolErrorCode.MALFORMED_SIGNATURE, 'signature must be 64 bytes');
  if (algorithm === 'ed25519') return signature;
  const n = ecdsa[algorithm].Point.Fn.ORDER;
  const s = bytesToNumberBE(signature.subarray(32));
  if (s <= n >> 1n) return signature;
  return concatBytes(signature.subarray(0, 32), numberToBytesBE(n - s, 32));
}
