import { createHash, randomBytes } from 'node:crypto';
import { encodeBase64url } from './base64url';

/** Hex SHA-256 of a secret (e.g. a refresh token), for storing it without keeping the secret itself. */
export function hashToken(secret: string): string {
  if (typeof secret !== 'string' || secret === '') throw new TypeError('the secret must be a non-empty string');
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A fresh random secret of `bytes` random bytes (16 to 1024, default 32), base64url without padding. */
export function randomToken(bytes = 32): string {
  if (!Number.isSafeInteger(bytes) || bytes < 16 || bytes > 1024) throw new RangeError('randomToken needs 16 to 1024 bytes');
  return encodeBase64url(randomBytes(bytes));
}
