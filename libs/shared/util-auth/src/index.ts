export { AuthErrorCodes, KEY_INVALID, type AuthErrorCode } from './errors';
export { jwkThumbprint, keyObjectFromJwk, privateKeyFromJwk, publicJwkOf, type Jwk, type Jwks, type PrivateJwk } from './jwk';
export {
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_TOKEN_LENGTH,
  signCompact,
  signJwt,
  verifyCompact,
  verifyJwt,
  type JwsHeader,
  type JwtClaims,
  type SigningKey,
  type VerifiedJwt,
  type VerifyCompactOptions,
  type VerifyJwtOptions,
} from './jws';
export { hashToken, randomToken } from './tokens';
export { isReadOnly, mayAct, principalFromClaims, type Principal } from './principal';
