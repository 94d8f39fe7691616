import { type JsonObject, type SignatureAlgorithm, SignatureDomain, canonicalBytes, isJsonObject, keyId as keyIdOf, publicKeyOf, sign, toBase64Url } from '@alliance/protocol';
import { type FetchLike, type ResponseLike, problemError } from './client';
import { AllianceApiError, AllianceSdkError, SdkErrorCode } from './errors';
import type { Principal, TokenResponse } from '@alliance/contracts';

/**
 * Sign-in with a key (the identity service's /identity/v1/auth API): an agent
 * or an ERP system proves it holds its registered key by signing a one-time
 * challenge in domain `alliance/auth-challenge/v1`, and gets a short-lived
 * access token and a refresh token. fetch only, so it runs in browsers too.
 * Guide: libs/sdk/README.md, "Signing in".
 */

export const AUTH_CHALLENGE_TYPE = 'alliance.auth.challenge';

/** What the client signs: canonical JSON of exactly these fields, as the server sent them. */
export interface AuthChallenge {
  readonly type: typeof AUTH_CHALLENGE_TYPE;
  readonly chainId: string;
  readonly issuer: string;
  readonly organizationId: string;
  readonly keyId: string;
  readonly challengeId: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
}

/** 201 of POST /identity/v1/auth/challenges. */
export interface AuthChallengeResponse {
  readonly challengeId: string;
  readonly domain: string;
  readonly expiresAt: string;
  readonly challenge: AuthChallenge;
}

/** Who the token speaks for (the wire shape in @alliance/contracts). */
export type AuthPrincipal = Principal;
export type { TokenResponse };

/** The key to sign in with: an `AllianceKey` fits. */
export interface SignInKey {
  readonly organizationId: string;
  /** Defaults to the key id of `privateKey`. */
  readonly keyId?: string;
  readonly algorithm: SignatureAlgorithm;
  readonly privateKey: Uint8Array;
}

export interface SignInOptions {
  /** Defaults to globalThis.fetch. */
  readonly fetch?: FetchLike;
  /** `accessToken()` refreshes when the token has less than this left; default 10 s. */
  readonly refreshMarginSeconds?: number;
  /** Per request; default 30 s. */
  readonly timeoutMs?: number;
}

/** A signed-in key: hands out valid access tokens, refreshing them as needed. */
export interface Session {
  /** From the latest token answer. */
  readonly principal: AuthPrincipal;
  /** The latest token answer (it holds the current refresh token: do not spend it elsewhere). */
  readonly tokens: TokenResponse;
  /**
   * An access token valid for at least the refresh margin, refreshed through
   * /auth/refresh when needed; concurrent callers share one refresh. A 401 on
   * refresh ends the session: that AllianceApiError is thrown from then on.
   */
  accessToken(): Promise<string>;
  /** `Bearer <accessToken()>`. */
  authorizationHeader(): Promise<string>;
  /** POST /auth/logout with the refresh token; afterwards `accessToken()` throws `SDK.SIGNED_OUT`. A second call does nothing. */
  logout(): Promise<void>;
}

function badChallenge(detail: string): never {
  throw new AllianceSdkError(SdkErrorCode.BAD_CHALLENGE, `refusing to sign the challenge: ${detail}`);
}

const str = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/**
 * Signs a challenge answer of POST /auth/challenges:
 * `toBase64Url(sign(algorithm, privateKey, alliance/auth-challenge/v1, canonicalBytes(challenge)))`.
 * Refuses (`SDK.BAD_CHALLENGE`) anything that is not an auth challenge in the
 * auth-challenge domain for the organization and key asked for (the key's
 * own id when `keyId` is not given), so the key never signs something else.
 */
export function signChallenge(
  response: AuthChallengeResponse | unknown,
  key: { readonly algorithm: SignatureAlgorithm; readonly privateKey: Uint8Array; readonly organizationId?: string; readonly keyId?: string },
): { readonly challengeId: string; readonly signature: string } {
  if (!isJsonObject(response)) badChallenge('the answer is not a JSON object');
  const r = response as Record<string, unknown>;
  if (r['domain'] !== SignatureDomain.authChallenge) badChallenge(`domain is ${JSON.stringify(r['domain'])}, not "${SignatureDomain.authChallenge}"`);
  const challenge = r['challenge'];
  if (!isJsonObject(challenge)) badChallenge('challenge is not a JSON object');
  const c = challenge as Record<string, unknown>;
  if (c['type'] !== AUTH_CHALLENGE_TYPE) badChallenge(`type is ${JSON.stringify(c['type'])}, not "${AUTH_CHALLENGE_TYPE}"`);
  if (!str(r['challengeId']) || c['challengeId'] !== r['challengeId']) badChallenge('challengeId is missing or differs from challenge.challengeId');
  if (key.organizationId !== undefined && c['organizationId'] !== key.organizationId) {
    badChallenge(`it is for organization ${JSON.stringify(c['organizationId'])}, not ${key.organizationId}`);
  }
  let expectedKeyId: string;
  try {
    expectedKeyId = key.keyId ?? keyIdOf(key.algorithm, publicKeyOf(key.algorithm, key.privateKey));
  } catch (error) {
    throw new AllianceSdkError(SdkErrorCode.INVALID_ARGUMENT, `not a valid ${String(key.algorithm)} private key`, { cause: error });
  }
  if (c['keyId'] !== expectedKeyId) badChallenge(`it is for key ${JSON.stringify(c['keyId'])}, not ${expectedKeyId}`);
  let message: Uint8Array;
  try {
    message = canonicalBytes(challenge as JsonObject);
  } catch (error) {
    throw new AllianceSdkError(SdkErrorCode.BAD_CHALLENGE, 'refusing to sign the challenge: it is not canonical JSON', { cause: error });
  }
  try {
    return { challengeId: r['challengeId'] as string, signature: toBase64Url(sign(key.algorithm, key.privateKey, SignatureDomain.authChallenge, message)) };
  } catch (error) {
    throw new AllianceSdkError(SdkErrorCode.INVALID_ARGUMENT, `cannot sign with this ${String(key.algorithm)} key: ${(error as Error).message}`, { cause: error });
  }
}

// ------------------------------------------------------------------ transport

interface Transport {
  readonly base: string;
  readonly fetch: FetchLike;
  readonly timeoutMs: number;
}

function transportOf(baseUrl: string, options: SignInOptions): Transport {
  let base = String(baseUrl ?? '').trim();
  if (!/^https?:\/\/[^/]/i.test(base)) throw new AllianceApiError(SdkErrorCode.INVALID_ARGUMENT, 0, `baseUrl must be an http(s) URL, got "${base}"`);
  base = base.replace(/\/+$/, '').replace(/\/identity\/v1$/, '');
  const f = options.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
  if (typeof f !== 'function') throw new AllianceApiError(SdkErrorCode.INVALID_ARGUMENT, 0, 'no fetch implementation: pass options.fetch');
  // Unbound window.fetch throws "Illegal invocation" in browsers.
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => (globalThis.fetch as unknown as FetchLike)(input, init));
  return { base, fetch: fetchImpl, timeoutMs: options.timeoutMs ?? 30_000 };
}

/** POST {base}/identity/v1/auth/{path}: JSON answer, or null for 204. Never repeated (each call spends something). */
async function post(t: Transport, path: string, body: JsonObject): Promise<unknown> {
  const url = `${t.base}/identity/v1/auth/${path}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), t.timeoutMs);
  let response: ResponseLike;
  let text: string;
  try {
    response = await t.fetch(url, {
      method: 'POST',
      headers: { accept: 'application/json, application/problem+json', 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    text = await response.text();
  } catch (error) {
    if (controller.signal.aborted) throw new AllianceApiError(SdkErrorCode.TIMEOUT, 0, `no answer from POST ${url} within ${t.timeoutMs} ms`, { method: 'POST', url, cause: error });
    throw new AllianceApiError(SdkErrorCode.NETWORK_ERROR, 0, `POST ${url} failed: ${error instanceof Error ? error.message : String(error)}`, { method: 'POST', url, cause: error });
  } finally {
    clearTimeout(timer);
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (!response.ok) throw problemError(response.status, contentType, text, 'POST', url, response.headers.get('x-correlation-id') ?? undefined);
  if (response.status === 204 || text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new AllianceApiError(SdkErrorCode.BAD_RESPONSE, response.status, `POST ${url} did not answer JSON (${contentType || 'no content type'})`, { method: 'POST', url, cause: error });
  }
}

function tokenResponse(value: unknown, what: string): TokenResponse {
  const bad = (detail: string): never => {
    throw new AllianceApiError(SdkErrorCode.BAD_RESPONSE, 200, `${what} did not answer a token response: ${detail}`);
  };
  if (!isJsonObject(value)) return bad('not a JSON object');
  const v = value as Record<string, unknown>;
  if (!str(v['accessToken'])) bad('accessToken missing');
  if (v['tokenType'] !== 'Bearer') bad(`tokenType is ${JSON.stringify(v['tokenType'])}, not "Bearer"`);
  if (typeof v['expiresIn'] !== 'number' || !(v['expiresIn'] > 0)) bad('expiresIn must be a positive number of seconds');
  if (!str(v['refreshToken'])) bad('refreshToken missing');
  if (typeof v['refreshExpiresIn'] !== 'number' || !(v['refreshExpiresIn'] > 0)) bad('refreshExpiresIn must be a positive number of seconds');
  const p = v['principal'];
  if (!isJsonObject(p)) return bad('principal missing');
  const principal = p as Record<string, unknown>;
  if (!str(principal['organizationId']) || !str(principal['keyId'])) bad('principal.organizationId and principal.keyId are required');
  if (principal['agentId'] !== null && !str(principal['agentId'])) bad('principal.agentId must be a string or null');
  if (!Array.isArray(principal['roles']) || typeof principal['admin'] !== 'boolean') bad('principal.roles (array) and principal.admin (boolean) are required');
  if (!str(principal['organizationRole']) || !isJsonObject(principal['permissions'])) bad('principal.organizationRole (string) and principal.permissions (object) are required');
  return value as unknown as TokenResponse;
}

// ------------------------------------------------------------------ sign-in

/**
 * Signs in with a key: POST /auth/challenges, `signChallenge`, POST
 * /auth/tokens. Server refusals are AllianceApiError with the server's code
 * (`AUTH.BAD_SIGNATURE`, `AUTH.KEY_REVOKED`, `AUTH.CHALLENGE_EXPIRED` …).
 */
export async function signIn(baseUrl: string, key: SignInKey, options: SignInOptions = {}): Promise<Session> {
  const margin = options.refreshMarginSeconds ?? 10;
  if (typeof margin !== 'number' || !Number.isFinite(margin) || margin < 0) throw new AllianceApiError(SdkErrorCode.INVALID_ARGUMENT, 0, 'refreshMarginSeconds must be a number >= 0');
  const t = transportOf(baseUrl, options);
  let keyId: string;
  try {
    keyId = key.keyId ?? keyIdOf(key.algorithm, publicKeyOf(key.algorithm, key.privateKey));
  } catch (error) {
    throw new AllianceApiError(SdkErrorCode.INVALID_ARGUMENT, 0, `not a valid ${String(key.algorithm)} private key`, { cause: error });
  }
  const challenge = await post(t, 'challenges', { organizationId: key.organizationId, keyId });
  const signed = signChallenge(challenge, { algorithm: key.algorithm, privateKey: key.privateKey, organizationId: key.organizationId, keyId });
  const started = Date.now();
  const tokens = tokenResponse(await post(t, 'tokens', { challengeId: signed.challengeId, signature: signed.signature }), 'POST /auth/tokens');
  return new KeySession(t, margin, tokens, started);
}

class KeySession implements Session {
  private current: TokenResponse;
  /** ms since the epoch; counted from when the request left, so never later than the server's. */
  private expiresAt: number;
  private refreshing: Promise<string> | null = null;
  private ended: Error | null = null;
  private loggedOut = false;
  private readonly signedOut = new AllianceSdkError(SdkErrorCode.SIGNED_OUT, 'the session was logged out: sign in again');

  constructor(
    private readonly transport: Transport,
    private readonly marginSeconds: number,
    tokens: TokenResponse,
    requestedAt: number,
  ) {
    this.current = tokens;
    this.expiresAt = requestedAt + tokens.expiresIn * 1000;
  }

  get principal(): AuthPrincipal {
    return this.current.principal;
  }

  get tokens(): TokenResponse {
    return this.current;
  }

  async accessToken(): Promise<string> {
    if (this.ended) throw this.ended;
    if (this.refreshing) return this.refreshing;
    if (Date.now() + this.marginSeconds * 1000 < this.expiresAt) return this.current.accessToken;
    this.refreshing = this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async authorizationHeader(): Promise<string> {
    return `Bearer ${await this.accessToken()}`;
  }

  async logout(): Promise<void> {
    if (this.loggedOut) return;
    // A refresh in flight would spend the token we are about to present.
    if (this.refreshing) await this.refreshing.catch(() => undefined);
    if (this.ended && this.ended !== this.signedOut) {
      this.loggedOut = true;
      return; // the server ended it already
    }
    // No token from now on, even if the logout request fails (a later logout() sends it again).
    this.ended = this.signedOut;
    await post(this.transport, 'logout', { refreshToken: this.current.refreshToken });
    this.loggedOut = true;
  }

  private async refresh(): Promise<string> {
    const started = Date.now();
    try {
      const tokens = tokenResponse(await post(this.transport, 'refresh', { refreshToken: this.current.refreshToken }), 'POST /auth/refresh');
      this.current = tokens;
      this.expiresAt = started + tokens.expiresIn * 1000;
      return tokens.accessToken;
    } catch (error) {
      // 401: the refresh token is spent, expired or revoked; the server ended the session.
      if (error instanceof AllianceApiError && error.status === 401) this.ended = error;
      throw error;
    }
  }
}
