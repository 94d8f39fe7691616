import { AllianceError } from '@alliance/shared/util-errors';

/** Stable codes of the token verifier; every one is an `unauthenticated` (401) AllianceError. */
export const AuthErrorCodes = {
  malformed: 'AUTH.TOKEN_MALFORMED',
  algorithm: 'AUTH.TOKEN_ALGORITHM',
  keyUnknown: 'AUTH.TOKEN_KEY_UNKNOWN',
  signature: 'AUTH.TOKEN_SIGNATURE',
  expired: 'AUTH.TOKEN_EXPIRED',
  notYetValid: 'AUTH.TOKEN_NOT_YET_VALID',
  claims: 'AUTH.TOKEN_CLAIMS',
} as const;

export type AuthErrorCode = (typeof AuthErrorCodes)[keyof typeof AuthErrorCodes];

/** Code of a JWK that is not an Ed25519 (OKP) key; kind `invalid` (400): it is a configuration or input mistake, not a token. */
export const KEY_INVALID = 'AUTH.KEY_INVALID';

export function tokenError(code: AuthErrorCode, message: string, details?: Record<string, unknown>): AllianceError {
  return new AllianceError(code, 'unauthenticated', message, { details });
}

export function keyError(message: string, details?: Record<string, unknown>): AllianceError {
  return new AllianceError(KEY_INVALID, 'invalid', message, { details });
}
