import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import type { TokenResponse } from '@alliance/contracts';
import { type Principal, principalOf } from '@alliance/identity/domain';
import { canonicalBytes, fromBase64Url, KEY_ID_PATTERN, fromHex, isSignatureAlgorithm, SignatureDomain, verify } from '@alliance/protocol';
import { type JsonValue, ORGANIZATION_ID_PATTERN } from '@alliance/ledger/domain';
import { type Pool, withTransaction } from '@alliance/shared/data-access-postgres';
import { AccessErrors, TOKEN_AUDIENCE, type TokenVerifier } from '@alliance/shared/feature-platform';
import { principalFromClaims, hashToken, type Jwk, type Jwks, jwkThumbprint, keyObjectFromJwk, type PrivateJwk, privateKeyFromJwk, publicJwkOf, randomToken, signJwt, verifyJwt } from '@alliance/shared/util-auth';
import { AllianceError } from '@alliance/shared/util-errors';
import type { IdentityReadModel } from './read-model';

export const CHALLENGE_TYPE = 'alliance.auth.challenge';
/** Every Alliance service accepts tokens for this audience. */

export const SignInErrors = {
  invalid: (message: string) => new AllianceError('AUTH.INVALID_REQUEST', 'invalid', message),
  /** Why a key signs nobody in, from the principal rule's refusal. */
  refused: (r: { readonly code: 'AUTH.KEY_UNKNOWN' | 'AUTH.KEY_REVOKED'; readonly detail: string }) => new AllianceError(r.code, 'unauthenticated', r.detail),
  challengeUnknown: () => new AllianceError('AUTH.CHALLENGE_UNKNOWN', 'unauthenticated', 'no such challenge: ask for a new one'),
  challengeUsed: () => new AllianceError('AUTH.CHALLENGE_USED', 'unauthenticated', 'this challenge was already signed in with; ask for a new one'),
  challengeExpired: () => new AllianceError('AUTH.CHALLENGE_EXPIRED', 'unauthenticated', 'the challenge expired; ask for a new one'),
  badSignature: () => new AllianceError('AUTH.BAD_SIGNATURE', 'unauthenticated', 'the signature does not verify with the key over the challenge (domain alliance/auth-challenge/v1)'),
  refreshUnknown: () => new AllianceError('AUTH.REFRESH_UNKNOWN', 'unauthenticated', 'unknown refresh token; sign in again'),
  refreshExpired: () => new AllianceError('AUTH.REFRESH_EXPIRED', 'unauthenticated', 'the refresh token expired; sign in again'),
  refreshRevoked: (reason: string | null) => new AllianceError('AUTH.REFRESH_REVOKED', 'unauthenticated', `the session ended${reason ? ` (${reason})` : ''}; sign in again`),
  refreshReused: () => new AllianceError('AUTH.REFRESH_REUSED', 'unauthenticated', 'this refresh token was already used; the session is ended for safety (sign in again)'),
};

export interface SignInOptions {
  readonly pool: Pool;
  readonly readModel: IdentityReadModel;
  readonly chainId: string;
  /** The organization that runs this identity service (the challenge's and the token's issuer). */
  readonly issuerOrganizationId: string;
  readonly challengeTtlSeconds: number;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly now?: () => Date;
}

export type { TokenResponse };

/** The claims of an Alliance access token (docs/identity.md, Sign-in). */
export interface AccessClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly org: string;
  readonly agent: string | null;
  readonly key: string;
  readonly admin: boolean;
  readonly orgRole: string;
  readonly roles: readonly string[];
  readonly perms: Readonly<Record<string, readonly string[]>>;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * Sign-in by proof of key possession: a single-use, short-lived challenge in
 * its own signature domain, exchanged for a short-lived EdDSA access token and
 * a rotating refresh token. The key is checked against the read model with
 * the rule the ledger applies, at issue and at every refresh, so a revoked
 * key's session ends at its next refresh — within one access-token lifetime.
 */
export class SignInService implements TokenVerifier {
  private signingKey: { kid: string; privateKey: KeyObject; publicKey: KeyObject } | undefined;
  private readonly now: () => Date;

  constructor(private readonly options: SignInOptions) {
    this.now = options.now ?? (() => new Date());
  }

  get issuer(): string {
    return `alliance:${this.options.chainId}:${this.options.issuerOrganizationId}`;
  }

  /** Loads the token signing key, creating it on first start (every instance of the service shares it). */
  async init(): Promise<void> {
    const existing = await this.options.pool.query<{ kid: string; private_jwk: PrivateJwk }>('SELECT kid, private_jwk FROM identity.token_keys ORDER BY created_at DESC LIMIT 1');
    if (existing.rows[0]) {
      this.useKey(existing.rows[0].kid, existing.rows[0].private_jwk);
      return;
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' }) as unknown as PrivateJwk;
    const kid = jwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
    const pub = publicJwkOf(keyObjectFromJwk({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }), kid);
    await this.options.pool.query('INSERT INTO identity.token_keys (kid, private_jwk, public_jwk) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [kid, { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d }, pub]);
    // Another instance may have won the race: use whatever is newest.
    const row = (await this.options.pool.query<{ kid: string; private_jwk: PrivateJwk }>('SELECT kid, private_jwk FROM identity.token_keys ORDER BY created_at DESC LIMIT 1')).rows[0];
    this.useKey(row.kid, row.private_jwk);
  }

  private useKey(kid: string, jwk: PrivateJwk): void {
    const privateKey = privateKeyFromJwk(jwk);
    this.signingKey = { kid, privateKey, publicKey: keyObjectFromJwk({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }) };
  }

  private key() {
    if (!this.signingKey) throw new AllianceError('AUTH.NOT_READY', 'unavailable', 'the identity service is starting');
    return this.signingKey;
  }

  async jwks(): Promise<Jwks> {
    const { rows } = await this.options.pool.query<{ public_jwk: Jwk }>('SELECT public_jwk FROM identity.token_keys ORDER BY created_at DESC');
    return { keys: rows.map((r) => r.public_jwk) };
  }

  private async principal(organizationId: string, keyId: string): Promise<Principal> {
    const snapshot = await this.options.readModel.snapshot();
    const resolved = principalOf(snapshot.state, organizationId, keyId);
    if (!resolved.ok) throw SignInErrors.refused(resolved);
    return resolved.principal;
  }

  async challenge(body: unknown): Promise<{ challengeId: string; domain: string; expiresAt: string; challenge: Record<string, string> }> {
    const { organizationId, keyId } = (body ?? {}) as { organizationId?: unknown; keyId?: unknown };
    if (typeof organizationId !== 'string' || !ORGANIZATION_ID_PATTERN.test(organizationId)) throw SignInErrors.invalid('organizationId must be an organization id (lower-case letters, digits, dashes)');
    if (typeof keyId !== 'string' || !KEY_ID_PATTERN.test(keyId)) throw SignInErrors.invalid('keyId must be a key id: 32 lower-case hex digits (docs/protocol.md §3.2)');
    await this.principal(organizationId, keyId);
    const now = this.now();
    const expires = new Date(now.getTime() + this.options.challengeTtlSeconds * 1000);
    const challengeId = randomToken(32);
    const challenge = { type: CHALLENGE_TYPE, chainId: this.options.chainId, issuer: this.issuer, organizationId, keyId, challengeId, issuedAt: now.toISOString(), expiresAt: expires.toISOString() };
    await this.options.pool.query('INSERT INTO identity.auth_challenges (challenge_id, organization_id, key_id, challenge, expires_at) VALUES ($1, $2, $3, $4, $5)', [challengeId, organizationId, keyId, challenge, expires]);
    // Expired challenges are kept a day for the record, then swept.
    await this.options.pool.query(`DELETE FROM identity.auth_challenges WHERE expires_at < now() - interval '1 day'`);
    return { challengeId, domain: SignatureDomain.authChallenge, expiresAt: challenge.expiresAt, challenge };
  }

  /** Spends the challenge (once, before it expires) if the signature verifies with the key as the chain holds it now. */
  async exchange(body: unknown): Promise<TokenResponse> {
    const { challengeId, signature } = (body ?? {}) as { challengeId?: unknown; signature?: unknown };
    if (typeof challengeId !== 'string' || !/^[A-Za-z0-9_-]{20,64}$/.test(challengeId)) throw SignInErrors.invalid('challengeId must be the id of a challenge');
    if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{40,200}$/.test(signature)) throw SignInErrors.invalid('signature must be base64url (no padding) of the signature over the challenge');
    const outcome = await withTransaction(this.options.pool, async (client) => {
      const { rows } = await client.query<{ organization_id: string; key_id: string; challenge: Record<string, string>; expires_at: Date; used_at: Date | null }>(
        'SELECT organization_id, key_id, challenge, expires_at, used_at FROM identity.auth_challenges WHERE challenge_id = $1 FOR UPDATE',
        [challengeId],
      );
      const row = rows[0];
      if (!row) return { error: SignInErrors.challengeUnknown() };
      if (row.used_at) return { error: SignInErrors.challengeUsed() };
      if (row.expires_at.getTime() <= this.now().getTime()) return { error: SignInErrors.challengeExpired() };
      // Spent whatever the verdict: a challenge is one attempt.
      await client.query('UPDATE identity.auth_challenges SET used_at = now() WHERE challenge_id = $1', [challengeId]);
      const resolved = principalOf((await this.options.readModel.snapshot()).state, row.organization_id, row.key_id);
      if (!resolved.ok) return { error: SignInErrors.refused(resolved) };
      if (!signatureVerifies(resolved.key, row.challenge, signature)) return { error: SignInErrors.badSignature() };
      return { tokens: await this.issue(client, resolved.principal, randomUUID()) };
    });
    // The spent challenge is committed; the caller gets the refusal.
    if ('error' in outcome) throw outcome.error;
    return outcome.tokens;
  }

  private async issue(client: { query: Pool['query'] }, principal: Principal, familyId: string): Promise<TokenResponse> {
    const now = this.now();
    const key = this.key();
    const claims: AccessClaims = {
      iss: this.issuer,
      aud: TOKEN_AUDIENCE,
      sub: principal.agentId ? `${principal.organizationId}/${principal.agentId}` : `${principal.organizationId}/admin:${principal.keyId}`,
      iat: seconds(now),
      exp: seconds(now) + this.options.accessTokenTtlSeconds,
      jti: randomUUID(),
      org: principal.organizationId,
      agent: principal.agentId,
      key: principal.keyId,
      admin: principal.admin,
      orgRole: principal.organizationRole,
      roles: principal.roles,
      perms: principal.permissions,
    };
    const accessToken = signJwt(claims as unknown as Record<string, unknown>, { kid: key.kid, privateKey: key.privateKey });
    const refreshToken = randomToken(32);
    await client.query('INSERT INTO identity.refresh_tokens (token_hash, family_id, organization_id, key_id, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      hashToken(refreshToken),
      familyId,
      principal.organizationId,
      principal.keyId,
      new Date(now.getTime() + this.options.refreshTokenTtlSeconds * 1000),
    ]);
    return { accessToken, tokenType: 'Bearer', expiresIn: this.options.accessTokenTtlSeconds, refreshToken, refreshExpiresIn: this.options.refreshTokenTtlSeconds, principal };
  }

  /** Spends a refresh token for a new pair; a spent one presented again ends its whole family. */
  async refresh(body: unknown): Promise<TokenResponse> {
    const token = refreshTokenOf(body);
    const outcome = await withTransaction(this.options.pool, async (client) => {
      const { rows } = await client.query<{ family_id: string; organization_id: string; key_id: string; expires_at: Date; spent_at: Date | null; revoked_at: Date | null; revoked_reason: string | null }>(
        'SELECT family_id, organization_id, key_id, expires_at, spent_at, revoked_at, revoked_reason FROM identity.refresh_tokens WHERE token_hash = $1 FOR UPDATE',
        [hashToken(token)],
      );
      const row = rows[0];
      if (!row) return { error: SignInErrors.refreshUnknown() };
      if (row.revoked_at) return { error: SignInErrors.refreshRevoked(row.revoked_reason) };
      if (row.spent_at) {
        await this.revokeFamily(client, row.family_id, 'refresh token reused');
        return { error: SignInErrors.refreshReused() };
      }
      if (row.expires_at.getTime() <= this.now().getTime()) return { error: SignInErrors.refreshExpired() };
      await client.query('UPDATE identity.refresh_tokens SET spent_at = now() WHERE token_hash = $1', [hashToken(token)]);
      const snapshot = await this.options.readModel.snapshot();
      const resolved = principalOf(snapshot.state, row.organization_id, row.key_id);
      if (!resolved.ok) {
        await this.revokeFamily(client, row.family_id, resolved.code === 'AUTH.KEY_REVOKED' ? 'key revoked' : 'key unknown');
        return { error: SignInErrors.refused(resolved) };
      }
      return { tokens: await this.issue(client, resolved.principal, row.family_id) };
    });
    // The revocations above are committed; the caller gets the refusal.
    if ('error' in outcome) throw outcome.error;
    return outcome.tokens;
  }

  async logout(body: unknown): Promise<void> {
    const token = refreshTokenOf(body);
    const { rows } = await this.options.pool.query<{ family_id: string }>('SELECT family_id FROM identity.refresh_tokens WHERE token_hash = $1', [hashToken(token)]);
    if (!rows[0]) throw SignInErrors.refreshUnknown();
    await this.revokeFamily(this.options.pool, rows[0].family_id, 'logged out');
  }

  private async revokeFamily(client: { query: Pool['query'] }, familyId: string, reason: string): Promise<void> {
    await client.query('UPDATE identity.refresh_tokens SET revoked_at = now(), revoked_reason = $2 WHERE family_id = $1 AND revoked_at IS NULL', [familyId, reason]);
  }

  /** Ends every session of a key (its revocation or rotation reached the read model), in the caller's transaction. */
  async revokeKey(client: { query: Pool['query'] }, organizationId: string, keyId: string | null, reason: string): Promise<void> {
    await client.query(
      'UPDATE identity.refresh_tokens SET revoked_at = now(), revoked_reason = $3 WHERE organization_id = $1 AND ($2::text IS NULL OR key_id = $2) AND revoked_at IS NULL',
      [organizationId, keyId, reason],
    );
  }

  /** The platform guard's verifier in this service: its own key, no JWKS round trip (other services read the JWKS). */
  async verify(token: string): Promise<Principal> {
    const key = this.key();
    const { claims } = verifyJwt(token, { keys: (kid) => (kid === key.kid ? key.publicKey : undefined), now: this.now(), issuer: this.issuer, audience: TOKEN_AUDIENCE });
    const principal = principalFromClaims(claims);
    if (!principal) throw AccessErrors.claims();
    return principal;
  }
}

function signatureVerifies(key: { algorithm: string; publicKey: string }, challenge: Record<string, string>, signature: string): boolean {
  if (!isSignatureAlgorithm(key.algorithm)) return false;
  try {
    return verify(key.algorithm, fromHex(key.publicKey), SignatureDomain.authChallenge, canonicalBytes(challenge as unknown as JsonValue), fromBase64Url(signature));
  } catch {
    return false;
  }
}

function refreshTokenOf(body: unknown): string {
  const token = (body as { refreshToken?: unknown } | null)?.refreshToken;
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{20,200}$/.test(token)) throw SignInErrors.invalid('refreshToken must be the refresh token of a sign-in');
  return token;
}
