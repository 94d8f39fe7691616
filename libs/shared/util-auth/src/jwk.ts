import { createHash, createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { decodeBase64url, encodeBase64url } from './base64url';
import { keyError } from './errors';

/** A public Ed25519 key as a JWK (RFC 8037 §2). */
export interface Jwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  /** base64url of the 32-byte public key. */
  readonly x: string;
  readonly kid?: string;
  readonly alg?: 'EdDSA';
  readonly use?: 'sig';
}

/** A private Ed25519 key as a JWK: the public members plus `d`, base64url of the 32-byte seed. */
export interface PrivateJwk extends Jwk {
  readonly d: string;
}

/** A JWK Set (RFC 7517 §5). */
export interface Jwks {
  readonly keys: Jwk[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keyBytes(jwk: Record<string, unknown>, member: 'x' | 'd'): string {
  const value = jwk[member];
  const bytes = typeof value === 'string' ? decodeBase64url(value) : undefined;
  if (bytes === undefined || bytes.length !== 32) {
    throw keyError(`JWK member "${member}" must be the base64url of 32 bytes`, { member });
  }
  return value as string;
}

/** Checks the members every Ed25519 JWK must have; returns the validated `x`. */
function checkOkp(jwk: unknown): { record: Record<string, unknown>; x: string } {
  if (!isRecord(jwk)) throw keyError('a JWK must be a JSON object');
  if (jwk['kty'] !== 'OKP' || jwk['crv'] !== 'Ed25519') {
    throw keyError('only OKP keys on curve Ed25519 are supported', { kty: jwk['kty'], crv: jwk['crv'] });
  }
  if (jwk['alg'] !== undefined && jwk['alg'] !== 'EdDSA') throw keyError('JWK "alg" must be EdDSA when present', { alg: jwk['alg'] });
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') throw keyError('JWK "use" must be sig when present', { use: jwk['use'] });
  if (jwk['kid'] !== undefined && (typeof jwk['kid'] !== 'string' || jwk['kid'] === '')) throw keyError('JWK "kid" must be a non-empty string when present');
  return { record: jwk, x: keyBytes(jwk, 'x') };
}

function ed25519(key: KeyObject, expected: 'public' | 'private'): KeyObject {
  if (!(key instanceof KeyObject)) throw keyError('a KeyObject is required');
  if (key.asymmetricKeyType !== 'ed25519') throw keyError('the key is not an Ed25519 key', { type: key.asymmetricKeyType ?? key.type });
  if (expected === 'private' && key.type !== 'private') throw keyError('a private Ed25519 key is required');
  return key;
}

/** The public key of an Ed25519 JWK (OKP/Ed25519 only; a `d` member is ignored, only `x` is used). */
export function keyObjectFromJwk(jwk: unknown): KeyObject {
  const { x } = checkOkp(jwk);
  try {
    return ed25519(createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }), 'public');
  } catch (cause) {
    throw keyError('the JWK is not a valid Ed25519 public key', { cause: String(cause) });
  }
}

/** The private key of an Ed25519 JWK with `d`; its `x` must be the public key of `d`. */
export function privateKeyFromJwk(jwk: unknown): KeyObject {
  const { record, x } = checkOkp(jwk);
  const d = keyBytes(record, 'd');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x, d }, format: 'jwk' });
  } catch (cause) {
    throw keyError('the JWK is not a valid Ed25519 private key', { cause: String(cause) });
  }
  if (createPublicKey(key).export({ format: 'jwk' }).x !== x) throw keyError('JWK "x" is not the public key of "d"');
  return ed25519(key, 'private');
}

/** The public JWK of an Ed25519 key (public or private KeyObject), labelled with `kid`. */
export function publicJwkOf(key: KeyObject, kid: string): Jwk {
  if (typeof kid !== 'string' || kid === '') throw keyError('kid must be a non-empty string');
  const { x } = toPublicKey(key).export({ format: 'jwk' });
  if (typeof x !== 'string') throw keyError('the key has no public component');
  return { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' };
}

/** RFC 7638 thumbprint: base64url(SHA-256) of the required members `crv`, `kty`, `x` in lexicographic order. */
export function jwkThumbprint(jwk: unknown): string {
  const { x } = checkOkp(jwk);
  const canonical = JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x });
  return encodeBase64url(createHash('sha256').update(canonical, 'utf8').digest());
}

/** A KeyObject or a private JWK, as a private Ed25519 KeyObject. */
export function toPrivateKey(key: KeyObject | PrivateJwk): KeyObject {
  if (key instanceof KeyObject) return ed25519(key, 'private');
  return privateKeyFromJwk(key);
}

/** A KeyObject as a public Ed25519 KeyObject (a private key yields its public half). */
export function toPublicKey(key: KeyObject): KeyObject {
  ed25519(key, 'public');
  return key.type === 'private' ? createPublicKey(key) : key;
}
