import { KeyObject, sign, verify } from 'node:crypto';
import { decodeBase64url, encodeBase64url } from './base64url';
import { AuthErrorCodes, tokenError } from './errors';
import { toPrivateKey, toPublicKey, type PrivateJwk } from './jwk';

/** The JOSE header of a verified token. `alg` is always `EdDSA`. */
export interface JwsHeader {
  readonly alg: 'EdDSA';
  readonly typ?: string;
  readonly kid?: string;
  readonly [member: string]: unknown;
}

export type JwtClaims = Record<string, unknown>;

export interface SigningKey {
  readonly kid: string;
  /** A private Ed25519 KeyObject or a private JWK (with `d`). */
  readonly privateKey: KeyObject | PrivateJwk;
}

export interface VerifyCompactOptions {
  /** Longest token accepted, in characters (default 8192). */
  readonly maxTokenLength?: number;
}

export interface VerifyJwtOptions extends VerifyCompactOptions {
  /** The public key for a `kid`, or undefined when the kid is not known. */
  readonly keys: (kid: string) => KeyObject | undefined;
  readonly now: Date;
  /** Tolerance for `exp`, `nbf` and `iat`, in seconds (default 5). */
  readonly clockSkewSeconds?: number;
  /** When given, `iss` must equal it. */
  readonly issuer?: string;
  /** When given, `aud` (a string or an array of strings) must be or contain it. */
  readonly audience?: string;
}

export interface VerifiedJwt {
  readonly header: JwsHeader;
  readonly claims: JwtClaims;
}

export const DEFAULT_MAX_TOKEN_LENGTH = 8192;
export const DEFAULT_CLOCK_SKEW_SECONDS = 5;
const SIGNATURE_BYTES = 64;
/** Header members a caller may not set through `signJwt`'s extras. */
const RESERVED_HEADER = ['alg', 'kid', 'crit'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonSegment(object: unknown): string {
  return encodeBase64url(Buffer.from(JSON.stringify(object), 'utf8'));
}

/**
 * Low level: the compact JWS `base64url(header).base64url(payload).base64url(signature)` of arbitrary payload
 * bytes, signed with Ed25519. The header is serialized with JSON.stringify as given (so RFC 8037 A.4 is
 * reproduced byte for byte); its `alg` must be `EdDSA`.
 */
export function signCompact(header: Record<string, unknown>, payload: Uint8Array, privateKey: KeyObject | PrivateJwk): string {
  if (!isRecord(header) || header['alg'] !== 'EdDSA') throw new TypeError('the JWS header must be an object with alg "EdDSA"');
  const key = toPrivateKey(privateKey);
  const signingInput = `${jsonSegment(header)}.${encodeBase64url(payload)}`;
  const signature = sign(null, Buffer.from(signingInput, 'ascii'), key);
  return `${signingInput}.${encodeBase64url(signature)}`;
}

interface ParsedCompact {
  readonly header: JwsHeader;
  readonly payload: Buffer;
  readonly signature: Buffer;
  readonly signingInput: string;
}

function malformed(message: string, details?: Record<string, unknown>) {
  return tokenError(AuthErrorCodes.malformed, message, details);
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw malformed(`the token ${what} is not UTF-8 JSON`, { part: what });
  }
}

function parseCompact(token: unknown, maxTokenLength: number): ParsedCompact {
  if (typeof token !== 'string') throw malformed('the token must be a string');
  if (token.length > maxTokenLength) throw malformed(`the token is longer than ${maxTokenLength} characters`, { length: token.length, maxTokenLength });
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('the token must have three dot-separated parts', { parts: parts.length });
  const [headerText, payloadText] = parts as [string, string, string];
  const names = ['header', 'payload', 'signature'];
  const [headerBytes, payload, signature] = parts.map((part, i) => {
    const bytes = decodeBase64url(part);
    if (bytes === undefined) throw malformed(`the token ${names[i]} is not unpadded base64url`, { part: names[i] });
    return bytes;
  }) as [Buffer, Buffer, Buffer];
  if (headerText === '') throw malformed('the token header is empty', { part: 'header' });
  const header = parseJson(headerBytes, 'header');
  if (!isRecord(header)) throw malformed('the token header is not a JSON object', { part: 'header' });
  if (header['alg'] !== 'EdDSA') {
    throw tokenError(AuthErrorCodes.algorithm, 'the token algorithm must be EdDSA', { alg: header['alg'] });
  }
  if ('crit' in header) throw tokenError(AuthErrorCodes.algorithm, 'the token header has critical extensions, none are supported');
  return { header: header as JwsHeader, payload, signature, signingInput: `${headerText}.${payloadText}` };
}

function checkSignature(parsed: ParsedCompact, key: KeyObject): void {
  if (parsed.signature.length !== SIGNATURE_BYTES) {
    throw tokenError(AuthErrorCodes.signature, `an EdDSA signature is ${SIGNATURE_BYTES} bytes`, { length: parsed.signature.length });
  }
  if (!verify(null, Buffer.from(parsed.signingInput, 'ascii'), key, parsed.signature)) {
    throw tokenError(AuthErrorCodes.signature, 'the token signature does not verify');
  }
}

function maxLength(options: VerifyCompactOptions): number {
  const max = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  if (!Number.isSafeInteger(max) || max <= 0) throw new TypeError('maxTokenLength must be a positive integer');
  return max;
}

/**
 * Low level: verifies a compact EdDSA JWS against one public key and returns its header and payload bytes.
 * Throws the same `AUTH.TOKEN_*` errors as verifyJwt (no claim checks: the payload need not be JSON).
 */
export function verifyCompact(token: string, publicKey: KeyObject, options: VerifyCompactOptions = {}): { header: JwsHeader; payload: Buffer } {
  const parsed = parseCompact(token, maxLength(options));
  checkSignature(parsed, toPublicKey(publicKey));
  return { header: parsed.header, payload: parsed.payload };
}

function checkTimeClaim(claims: JwtClaims, name: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = claims[name];
  if (value === undefined && name !== 'exp') return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    // exp is required: a token without a usable expiry is refused as expired (it never was valid).
    const code = name === 'exp' ? AuthErrorCodes.expired : AuthErrorCodes.claims;
    throw tokenError(code, `the "${name}" claim must be an integer number of seconds`, { claim: name });
  }
  return value;
}

function clockSkew(options: VerifyJwtOptions): number {
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (typeof skew !== 'number' || !Number.isFinite(skew) || skew < 0) throw new TypeError('clockSkewSeconds must be a non-negative number');
  if (!(options.now instanceof Date) || Number.isNaN(options.now.getTime())) throw new TypeError('now must be a valid Date');
  if (typeof options.keys !== 'function') throw new TypeError('keys must be a function of kid');
  return skew;
}

function checkClaims(claims: JwtClaims, options: VerifyJwtOptions, skew: number): void {
  const nowMs = options.now.getTime();
  const skewMs = skew * 1000;

  const exp = checkTimeClaim(claims, 'exp') as number;
  if (exp * 1000 <= nowMs - skewMs) throw tokenError(AuthErrorCodes.expired, 'the token has expired', { exp });
  for (const name of ['nbf', 'iat'] as const) {
    const at = checkTimeClaim(claims, name);
    if (at !== undefined && at * 1000 > nowMs + skewMs) {
      throw tokenError(AuthErrorCodes.notYetValid, `the token "${name}" is in the future`, { claim: name, [name]: at });
    }
  }

  if (options.issuer !== undefined && claims['iss'] !== options.issuer) {
    throw tokenError(AuthErrorCodes.claims, 'the token issuer is not the expected one', { claim: 'iss' });
  }
  if (options.audience !== undefined) {
    const aud = claims['aud'];
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? aud : [];
    if (!audiences.includes(options.audience)) {
      throw tokenError(AuthErrorCodes.claims, 'the token is not meant for this audience', { claim: 'aud' });
    }
  }
}

/**
 * Signs claims as a compact JWT with EdDSA (Ed25519), header `{ alg: 'EdDSA', typ: 'JWT', kid }` (RFC 8037 §3.1).
 * `exp` is required (verifyJwt refuses tokens without it) and `exp`/`nbf`/`iat` must be integers.
 * Header extras may set `typ` and other members, but not `alg`, `kid` or `crit`.
 */
export function signJwt(claims: JwtClaims, key: SigningKey, headerExtras: Record<string, unknown> = {}): string {
  if (!isRecord(claims)) throw new TypeError('JWT claims must be an object');
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    const value = claims[name];
    if ((name === 'exp' || value !== undefined) && !(typeof value === 'number' && Number.isSafeInteger(value))) {
      throw new TypeError(`the "${name}" claim must be an integer number of seconds${name === 'exp' ? ' (it is required)' : ''}`);
    }
  }
  if (typeof key?.kid !== 'string' || key.kid === '') throw new TypeError('the signing key needs a non-empty kid');
  if (!isRecord(headerExtras)) throw new TypeError('header extras must be an object');
  const reserved = RESERVED_HEADER.filter((member) => member in headerExtras);
  if (reserved.length > 0) throw new TypeError(`header extras may not set ${reserved.join(', ')}`);
  const header = { alg: 'EdDSA', typ: 'JWT', kid: key.kid, ...headerExtras };
  return signCompact(header, Buffer.from(JSON.stringify(claims), 'utf8'), key.privateKey);
}

/**
 * Verifies a compact EdDSA JWT: structure and size, `alg` exactly EdDSA without `crit`, the key for `kid`,
 * the 64-byte signature, then `exp` (required), `nbf`, `iat` with clock skew, and `iss`/`aud` when asked.
 * Every failure is an `unauthenticated` AllianceError with an `AUTH.TOKEN_*` code.
 */
export function verifyJwt(token: string, options: VerifyJwtOptions): VerifiedJwt {
  const skew = clockSkew(options);
  const parsed = parseCompact(token, maxLength(options));
  const kid = parsed.header.kid;
  if (typeof kid !== 'string' || kid === '') throw tokenError(AuthErrorCodes.keyUnknown, 'the token header has no kid');
  const key = options.keys(kid);
  if (!(key instanceof KeyObject) || key.asymmetricKeyType !== 'ed25519') {
    throw tokenError(AuthErrorCodes.keyUnknown, 'no Ed25519 key is known for the token kid', { kid });
  }
  checkSignature(parsed, toPublicKey(key));
  const claims = parseJson(parsed.payload, 'payload');
  if (!isRecord(claims)) throw malformed('the token payload is not a JSON object', { part: 'payload' });
  checkClaims(claims, options, skew);
  return { header: parsed.header, claims };
}
