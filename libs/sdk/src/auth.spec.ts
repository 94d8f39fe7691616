import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureDomain, canonicalBytes, fromBase64Url, toHex, verify } from '@alliance/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CliIo, main } from './cli';
import {
  AUTH_CHALLENGE_TYPE,
  type AllianceKey,
  AllianceApiError,
  AllianceClient,
  type AuthChallengeResponse,
  type AuthPrincipal,
  AllianceSdkError,
  SdkErrorCode,
  generateKey,
  plainKeyFile,
  signChallenge,
  signIn,
} from './index';
import { rejection } from './test/rejection';

/**
 * A tiny identity service with the /identity/v1/auth routes: it issues
 * challenges for registered keys, checks the signature with the protocol's
 * `verify`, issues tokens, rotates refresh tokens (one family per sign-in) and
 * ends the family when a spent refresh token comes back. GET /ledger/v1/blocks/0
 * stands for any API call that needs a valid access token.
 */
interface Registered {
  readonly key: AllianceKey;
  readonly principal: AuthPrincipal;
}

interface Family {
  revoked: boolean;
  readonly principal: AuthPrincipal;
}

class FakeIdentity {
  server!: Server;
  url = '';
  /** Seconds an access token lives. */
  accessTtl = 60;
  /** When set, the next challenge answer is passed through this first. */
  tamper: ((answer: AuthChallengeResponse) => unknown) | null = null;
  readonly keys = new Map<string, Registered>();
  readonly requests: Array<{ method: string; url: string; body: unknown; authorization?: string }> = [];
  private readonly challenges = new Map<string, { challenge: AuthChallengeResponse['challenge']; used: boolean }>();
  private readonly refresh = new Map<string, { family: Family; spent: boolean }>();
  private readonly access = new Map<string, { expiresAt: number; principal: AuthPrincipal }>();

  register(key: AllianceKey, principal: Partial<AuthPrincipal> = {}): void {
    this.keys.set(`${key.organizationId}/${key.keyId}`, {
      key,
      principal: { organizationId: key.organizationId, agentId: 'erp-1', keyId: key.keyId, roles: ['operator'], admin: false, organizationRole: 'manufacturer', permissions: {}, ...principal },
    });
  }

  count(url: string): number {
    return this.requests.filter((r) => r.url === url).length;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => {
        const body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', body, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
        this.handle(req, res, body ?? {});
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Whether the server would accept this access token now. */
  accepts(token: string): boolean {
    const t = this.access.get(token);
    return t !== undefined && t.expiresAt > Date.now();
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): void {
    const route = `${req.method} ${req.url}`;
    if (route === 'POST /identity/v1/auth/challenges') {
      const registered = this.keys.get(`${String(body['organizationId'])}/${String(body['keyId'])}`);
      if (!registered) return problem(res, 401, 'AUTH.KEY_UNKNOWN', 'no such key');
      const challengeId = randomUUID();
      const now = Date.now();
      const challenge = {
        type: AUTH_CHALLENGE_TYPE,
        chainId: 'alliance-test',
        issuer: 'identity.test',
        organizationId: registered.key.organizationId,
        keyId: registered.key.keyId,
        challengeId,
        issuedAt: new Date(now).toISOString(),
        expiresAt: new Date(now + 120_000).toISOString(),
      } as const;
      this.challenges.set(challengeId, { challenge, used: false });
      const answer: AuthChallengeResponse = { challengeId, domain: SignatureDomain.authChallenge, expiresAt: challenge.expiresAt, challenge };
      const tamper = this.tamper;
      this.tamper = null;
      return json(res, 201, tamper ? tamper(answer) : answer);
    }
    if (route === 'POST /identity/v1/auth/tokens') {
      const stored = this.challenges.get(String(body['challengeId']));
      if (!stored || stored.used) return problem(res, 401, 'AUTH.CHALLENGE_UNKNOWN', 'no such challenge, or used already');
      stored.used = true;
      const registered = this.keys.get(`${stored.challenge.organizationId}/${stored.challenge.keyId}`);
      let signature: Uint8Array;
      try {
        signature = fromBase64Url(String(body['signature']));
      } catch {
        return problem(res, 401, 'AUTH.BAD_SIGNATURE', 'not base64url');
      }
      if (!registered || !verify(registered.key.algorithm, registered.key.publicKey, SignatureDomain.authChallenge, canonicalBytes(stored.challenge), signature)) {
        return problem(res, 401, 'AUTH.BAD_SIGNATURE', 'the signature does not verify with the registered key');
      }
      return json(res, 200, this.issue({ revoked: false, principal: registered.principal }));
    }
    if (route === 'POST /identity/v1/auth/refresh') {
      const stored = this.refresh.get(String(body['refreshToken']));
      if (!stored || stored.family.revoked) return problem(res, 401, 'AUTH.REFRESH_INVALID', 'unknown or revoked refresh token');
      if (stored.spent) {
        stored.family.revoked = true;
        return problem(res, 401, 'AUTH.REFRESH_REUSED', 'this refresh token was used already: the session is ended');
      }
      stored.spent = true;
      return json(res, 200, this.issue(stored.family));
    }
    if (route === 'POST /identity/v1/auth/logout') {
      const stored = this.refresh.get(String(body['refreshToken']));
      if (stored) stored.family.revoked = true;
      res.writeHead(204);
      res.end();
      return;
    }
    if (route === 'GET /ledger/v1/blocks/0') {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !this.accepts(token)) return problem(res, 401, 'AUTH.TOKEN_INVALID', 'a valid bearer token is required');
      return json(res, 200, { blockNumber: 0, headerHash: '', header: {}, certified: true, signatures: [], transactions: [] });
    }
    problem(res, 404, 'COMMON.ROUTE_NOT_FOUND', `Cannot ${route}`);
  }

  private issue(family: Family): Record<string, unknown> {
    const accessToken = `at-${randomUUID()}`;
    const refreshToken = `rt-${randomUUID()}`;
    this.access.set(accessToken, { expiresAt: Date.now() + this.accessTtl * 1000, principal: family.principal });
    this.refresh.set(refreshToken, { family, spent: false });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.accessTtl, refreshToken, refreshExpiresIn: 3600, principal: family.principal };
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value));
}

function problem(res: ServerResponse, status: number, code: string, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json; charset=utf-8' });
  res.end(JSON.stringify({ type: `urn:alliance:problem:${code}`, title: code, status, detail, code }));
}


const identity = new FakeIdentity();
const erp = generateKey({ organizationId: 'org1' });
const admin = generateKey({ organizationId: 'org2', algorithm: 'ecdsa-p256' });
const stranger = generateKey({ organizationId: 'org1' });

beforeAll(async () => {
  identity.register(erp);
  identity.register(admin, { agentId: null, roles: [], admin: true });
  await identity.start();
});

afterAll(async () => {
  await identity.stop();
});

beforeEach(() => {
  identity.requests.length = 0;
  identity.accessTtl = 60;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('signChallenge', () => {
  const answer = (): AuthChallengeResponse => ({
    challengeId: 'c-1',
    domain: SignatureDomain.authChallenge,
    expiresAt: '2026-12-02T08:02:00.000Z',
    challenge: { type: AUTH_CHALLENGE_TYPE, chainId: 'alliance-test', issuer: 'identity.test', organizationId: 'org1', keyId: erp.keyId, challengeId: 'c-1', issuedAt: '2026-12-02T08:00:00.000Z', expiresAt: '2026-12-02T08:02:00.000Z' },
  });

  it('signs the canonical challenge in the auth-challenge domain, and nothing else verifies', () => {
    const signed = signChallenge(answer(), erp);
    expect(signed.challengeId).toBe('c-1');
    const signature = fromBase64Url(signed.signature);
    const message = canonicalBytes(answer().challenge);
    expect(verify('ed25519', erp.publicKey, SignatureDomain.authChallenge, message, signature)).toBe(true);
    expect(verify('ed25519', erp.publicKey, SignatureDomain.transaction, message, signature)).toBe(false);
    expect(verify('ed25519', stranger.publicKey, SignatureDomain.authChallenge, message, signature)).toBe(false);
  });

  it('refuses a challenge for another organization, another key, another type or domain (SDK.BAD_CHALLENGE)', () => {
    const base = answer();
    const cases: Array<[string, unknown, RegExp]> = [
      ['other org', { ...base, challenge: { ...base.challenge, organizationId: 'org9' } }, /organization "org9"/],
      ['other key', { ...base, challenge: { ...base.challenge, keyId: stranger.keyId } }, new RegExp(`key "${stranger.keyId}"`)],
      ['other type', { ...base, challenge: { ...base.challenge, type: 'alliance.transaction' } }, /type is "alliance.transaction"/],
      ['other domain', { ...base, domain: SignatureDomain.transaction }, /domain is "alliance\/transaction\/v1"/],
      ['ids differ', { ...base, challengeId: 'c-2' }, /challengeId/],
      ['not an object', 'sign me', /not a JSON object/],
    ];
    for (const [name, value, message] of cases) {
      let error: unknown;
      try {
        signChallenge(value, { ...erp });
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(AllianceSdkError);
      expect((error as AllianceSdkError).code, name).toBe(SdkErrorCode.BAD_CHALLENGE);
      expect((error as AllianceSdkError).message, name).toMatch(message);
    }
    // Without organizationId/keyId the key's own id is still required.
    expect(() => signChallenge({ ...base, challenge: { ...base.challenge, keyId: stranger.keyId } }, { algorithm: erp.algorithm, privateKey: erp.privateKey })).toThrow(/refusing to sign/);
    expect(signChallenge(base, { algorithm: erp.algorithm, privateKey: erp.privateKey }).challengeId).toBe('c-1');
  });
});

describe('signIn', () => {
  it('signs in with an agent key and with an ECDSA admin key: principal, token, authorization header, no refresh', async () => {
    const session = await signIn(`${identity.url}/`, erp);
    expect(session.principal).toEqual({ organizationId: 'org1', agentId: 'erp-1', keyId: erp.keyId, roles: ['operator'], admin: false, organizationRole: 'manufacturer', permissions: {} });
    const token = await session.accessToken();
    expect(identity.accepts(token)).toBe(true);
    expect(await session.authorizationHeader()).toBe(`Bearer ${token}`);
    expect(identity.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /identity/v1/auth/challenges', 'POST /identity/v1/auth/tokens']);
    expect(identity.requests[0].body).toEqual({ organizationId: 'org1', keyId: erp.keyId });
    expect(Object.keys(identity.requests[1].body as object).sort()).toEqual(['challengeId', 'signature']);

    const adminSession = await signIn(identity.url, { organizationId: admin.organizationId, algorithm: admin.algorithm, privateKey: admin.privateKey });
    expect(adminSession.principal).toMatchObject({ organizationId: 'org2', agentId: null, keyId: admin.keyId, admin: true });
    expect(identity.accepts(await adminSession.accessToken())).toBe(true);
  });

  it('passes the server refusals on as AllianceApiError: a key that is not the registered one signs badly', async () => {
    // Claims erp's key id, signs with another key: the server's verify fails.
    const error = await rejection(signIn(identity.url, { organizationId: 'org1', keyId: erp.keyId, algorithm: 'ed25519', privateKey: stranger.privateKey }));
    expect(error).toBeInstanceOf(AllianceApiError);
    expect(error).toMatchObject({ code: 'AUTH.BAD_SIGNATURE', status: 401 });
    const unknown = await rejection(signIn(identity.url, stranger));
    expect(unknown).toMatchObject({ code: 'AUTH.KEY_UNKNOWN', status: 401 });
  });

  it('refuses a challenge for another organization or key, or of another type, before signing anything', async () => {
    const tampers: Array<(a: AuthChallengeResponse) => unknown> = [
      (a) => ({ ...a, challenge: { ...a.challenge, organizationId: 'org2' } }),
      (a) => ({ ...a, challenge: { ...a.challenge, keyId: admin.keyId } }),
      (a) => ({ ...a, challenge: { ...a.challenge, type: 'alliance.transaction' } }),
      (a) => ({ ...a, domain: SignatureDomain.configUpdate }),
    ];
    for (const tamper of tampers) {
      identity.requests.length = 0;
      identity.tamper = tamper;
      const error = await rejection(signIn(identity.url, erp));
      expect(error.code).toBe(SdkErrorCode.BAD_CHALLENGE);
      expect(identity.count('/identity/v1/auth/challenges')).toBe(1);
      expect(identity.count('/identity/v1/auth/tokens')).toBe(0); // no signature ever left
    }
  });

  it('accessToken() refreshes near expiry, rotating the refresh token; two concurrent calls share one refresh', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now());
    const session = await signIn(identity.url, erp, { refreshMarginSeconds: 10 });
    const first = await session.accessToken();
    const firstRefresh = session.tokens.refreshToken;

    vi.setSystemTime(Date.now() + 45_000); // 15 s left: more than the margin
    expect(await session.accessToken()).toBe(first);
    expect(identity.count('/identity/v1/auth/refresh')).toBe(0);

    vi.setSystemTime(Date.now() + 6_000); // 9 s left: less than the margin
    const [a, b] = await Promise.all([session.accessToken(), session.accessToken()]);
    expect(identity.count('/identity/v1/auth/refresh')).toBe(1);
    expect(a).toBe(b);
    expect(a).not.toBe(first);
    expect(identity.accepts(a)).toBe(true);
    expect(identity.requests.find((r) => r.url === '/identity/v1/auth/refresh')?.body).toEqual({ refreshToken: firstRefresh });
    expect(session.tokens.refreshToken).not.toBe(firstRefresh);
    expect(await session.accessToken()).toBe(a); // fresh again: no second refresh
    expect(identity.count('/identity/v1/auth/refresh')).toBe(1);
  });

  it('a 401 on refresh ends the session: that error, every time after, with no further request', async () => {
    identity.accessTtl = 5; // always within the 10 s margin: every accessToken() refreshes
    const session = await signIn(identity.url, erp);
    const stolen = session.tokens.refreshToken;
    // Someone else spends the session's refresh token first.
    const thief = await fetch(`${identity.url}/identity/v1/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: stolen }) });
    expect(thief.status).toBe(200);
    const ended = await rejection(session.accessToken());
    expect(ended).toBeInstanceOf(AllianceApiError);
    expect(ended).toMatchObject({ code: 'AUTH.REFRESH_REUSED', status: 401 });
    const refreshes = identity.count('/identity/v1/auth/refresh');
    expect(await rejection(session.accessToken())).toBe(ended);
    expect(await rejection(session.authorizationHeader())).toBe(ended);
    expect(identity.count('/identity/v1/auth/refresh')).toBe(refreshes);
    // The server ended the whole family: the thief's new token is refused too.
    const thiefTokens = (await thief.json()) as { refreshToken: string };
    const again = await fetch(`${identity.url}/identity/v1/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: thiefTokens.refreshToken }) });
    expect(again.status).toBe(401);
  });

  it('a transport failure on refresh does not end the session', async () => {
    identity.accessTtl = 5;
    let fail = false;
    const session = await signIn(identity.url, erp, {
      fetch: async (input, init) => {
        if (fail) throw new TypeError('fetch failed');
        return fetch(input, init);
      },
    });
    fail = true;
    expect(await rejection(session.accessToken())).toMatchObject({ code: SdkErrorCode.NETWORK_ERROR, status: 0 });
    fail = false;
    expect(identity.accepts(await session.accessToken())).toBe(true);
  });

  it('logout posts the refresh token; afterwards no token, and a second logout posts nothing', async () => {
    identity.accessTtl = 5;
    const session = await signIn(identity.url, erp);
    await session.accessToken(); // one refresh: logout must send the current refresh token
    const current = session.tokens.refreshToken;
    await session.logout();
    const logouts = identity.requests.filter((r) => r.url === '/identity/v1/auth/logout');
    expect(logouts).toHaveLength(1);
    expect(logouts[0]).toMatchObject({ method: 'POST', body: { refreshToken: current } });
    expect(await rejection(session.accessToken())).toMatchObject({ code: SdkErrorCode.SIGNED_OUT });
    await session.logout();
    expect(identity.count('/identity/v1/auth/logout')).toBe(1);
    // The server ended it: the refresh token no longer refreshes.
    const refused = await fetch(`${identity.url}/identity/v1/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: current }) });
    expect(refused.status).toBe(401);
  });

  it('rejects a base URL that is not http(s) and a malformed token answer', async () => {
    expect(await rejection(signIn('localhost:3000', erp))).toMatchObject({ code: SdkErrorCode.INVALID_ARGUMENT });
    const broken = await rejection(
      signIn(identity.url, erp, {
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (!input.endsWith('/auth/tokens')) return response;
          const body = (await response.json()) as Record<string, unknown>;
          return new Response(JSON.stringify({ ...body, tokenType: 'mac' }), { status: 200, headers: { 'content-type': 'application/json' } });
        },
      }),
    );
    expect(broken).toMatchObject({ code: SdkErrorCode.BAD_RESPONSE });
    const noRole = await rejection(
      signIn(identity.url, erp, {
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (!input.endsWith('/auth/tokens')) return response;
          const body = (await response.json()) as { principal: Record<string, unknown> };
          const { organizationRole: _dropped, ...principal } = body.principal;
          return new Response(JSON.stringify({ ...body, principal }), { status: 200, headers: { 'content-type': 'application/json' } });
        },
      }),
    );
    expect(noRole).toMatchObject({ code: SdkErrorCode.BAD_RESPONSE, message: expect.stringContaining('organizationRole') });
  });
});

describe('AllianceClient with auth', () => {
  it('sends Authorization: Bearer <current token>, refreshed when near expiry, replacing a static one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now());
    const session = await signIn(identity.url, erp);
    const client = new AllianceClient({ baseUrl: identity.url, auth: session, headers: { Authorization: 'Bearer stale' } });
    expect((await client.block(0)).blockNumber).toBe(0);
    const sent = identity.requests.filter((r) => r.url === '/ledger/v1/blocks/0');
    expect(sent[0].authorization).toBe(`Bearer ${session.tokens.accessToken}`);

    vi.setSystemTime(Date.now() + 55_000);
    expect((await client.block(0)).blockNumber).toBe(0);
    const second = identity.requests.filter((r) => r.url === '/ledger/v1/blocks/0')[1];
    expect(identity.count('/identity/v1/auth/refresh')).toBe(1);
    expect(second.authorization).toBe(`Bearer ${session.tokens.accessToken}`);
    expect(second.authorization).not.toBe(sent[0].authorization);

    const anonymous = new AllianceClient(identity.url);
    expect(await rejection(anonymous.block(0))).toMatchObject({ code: 'AUTH.TOKEN_INVALID', status: 401 });
    expect(() => new AllianceClient({ baseUrl: identity.url, auth: {} as never })).toThrow(/accessToken/);
  });
});

describe('alliance sign-in', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alliance-sign-in-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function io(): CliIo & { out: string; err: string } {
    const state = { out: '', err: '' };
    return Object.assign(state, {
      stdout: { write: (t: string | Uint8Array) => (state.out += typeof t === 'string' ? t : new TextDecoder().decode(t)) },
      stderr: { write: (t: string) => (state.err += t) },
      env: {},
      readStdin: async () => new Uint8Array(),
    });
  }

  it('prints the token answer, never the private key; a refused key exits 1, a bad URL 2', async () => {
    const keyFile = join(dir, 'erp.key.json');
    writeFileSync(keyFile, JSON.stringify(plainKeyFile(erp)));
    const ok = io();
    expect(await main(['sign-in', '--url', identity.url, '--key-file', keyFile], ok)).toBe(0);
    const tokens = JSON.parse(ok.out) as Record<string, unknown>;
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 60, principal: { organizationId: 'org1', keyId: erp.keyId } });
    expect(identity.accepts(tokens['accessToken'] as string)).toBe(true);
    expect(ok.out + ok.err).not.toContain(toHex(erp.privateKey));

    const strangerFile = join(dir, 'stranger.key.json');
    writeFileSync(strangerFile, JSON.stringify(plainKeyFile(stranger)));
    const refused = io();
    expect(await main(['sign-in', '--url', identity.url, '--key-file', strangerFile], refused)).toBe(1);
    expect(refused.err).toMatch(/refused: AUTH.KEY_UNKNOWN \(HTTP 401\)/);
    expect(refused.out).toBe('');

    // --key-id names erp's key, the file holds another: the server refuses the signature.
    const claimed = io();
    expect(await main(['sign-in', '--url', identity.url, '--key-file', strangerFile, '--key-id', erp.keyId], claimed)).toBe(1);
    expect(claimed.err).toMatch(/AUTH.BAD_SIGNATURE/);

    const usage = io();
    expect(await main(['sign-in', '--url', 'nope', '--key-file', keyFile], usage)).toBe(2);
    expect(await main(['sign-in', '--url', identity.url], io())).toBe(2);
    const help = io();
    expect(await main(['sign-in', '--help'], help)).toBe(0);
    expect(help.out).toMatch(/usage: alliance sign-in --url/);
  });
});
