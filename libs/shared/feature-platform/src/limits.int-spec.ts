// Rate limits, security headers and GraphQL bounds of the platform, on a real
// service started by `startService` (real PostgreSQL, embedded messaging),
// over real HTTP.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Module } from '@nestjs/common';
import { Field, ObjectType, Query as GqlQuery, Resolver, ResolveField } from '@nestjs/graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@alliance/shared/testing';
import type { Principal } from '@alliance/shared/util-auth';
import { AllianceError } from '@alliance/shared/util-errors';
import { type RunningService, type ServiceDefinition, startService } from './bootstrap';
import { Authenticated, Public, TOKEN_VERIFIER, type TokenVerifier } from './access';

@ObjectType('LimitsTestNode')
class TestNode {
  @Field()
  id!: string;
}

@Public('limits test routes')
@Controller()
class LimitsController {
  @Get('ping')
  ping(): { ok: true } {
    return { ok: true };
  }
}

@Resolver(() => TestNode)
@Public('limits test fields')
class LimitsResolver {
  @GqlQuery(() => TestNode, { name: 'limitsNode' })
  node(): TestNode {
    return { id: 'n' };
  }

  @ResolveField(() => TestNode, { name: 'child' })
  child(): TestNode {
    return { id: 'c' };
  }
}

@Controller('private')
class PrivateController {
  @Authenticated()
  @Get()
  mine(): { ok: true } {
    return { ok: true };
  }
}

/** Tokens `ok.<org>.<agent>` are valid; anything else is refused. */
const verifier: TokenVerifier = {
  async verify(token: string): Promise<Principal> {
    const [ok, organizationId, agentId] = token.split('.');
    if (ok !== 'ok' || !organizationId || !agentId) throw new AllianceError('AUTH.TOKEN_INVALID', 'unauthenticated', 'bad token');
    return { organizationId, agentId, keyId: 'k', admin: false, organizationRole: 'manufacturer', roles: [], permissions: {} };
  },
};

@Module({ controllers: [LimitsController, PrivateController], providers: [LimitsResolver, { provide: TOKEN_VERIFIER, useValue: verifier }], exports: [TOKEN_VERIFIER] })
class LimitsModule {}

const definition = (schema: string, migrationsDir: string): ServiceDefinition => ({
  name: 'identity',
  title: 'Limits test service',
  description: 'Used only by the limits integration tests.',
  schema,
  restPrefix: 'identity/v1',
  configShape: {},
  migrationsDir,
  graphql: 'subgraph',
  messaging: false,
  imports: () => [LimitsModule],
});

let db: TestDatabase;
let dir: string;
const services: RunningService[] = [];

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function start(schema: string, env: Record<string, string>): Promise<RunningService> {
  const service = await startService(definition(schema, dir), { PORT: String(await freePort()), DATABASE_URL: db.url, MESSAGING: 'postgres', LOG_LEVEL: 'silent', ...env } as never);
  services.push(service);
  return service;
}

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'), 'limits');
  dir = mkdtempSync(join(tmpdir(), 'alliance-limits-'));
});

afterAll(async () => {
  await Promise.allSettled(services.map((s) => s.close()));
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers });
const gql = (url: string, query: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });

describe('per-client rate limit', () => {
  let svc: RunningService;
  beforeAll(async () => {
    // A slow refill, so the test's own pace never earns a token back.
    svc = await start('limits_rate', { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3', RATE_LIMIT_EXEMPT: 'none' });
  });

  it('answers 429 problem+json PLATFORM.RATE_LIMITED with Retry-After and RateLimit-* once a client spent its burst', async () => {
    const from = { 'x-forwarded-for': '203.0.113.1' };
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await get(`${svc.url}/identity/v1/ping`, from));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[0].headers.get('ratelimit-limit')).toBe('3');
    expect(answers[0].headers.get('ratelimit-remaining')).toBe('2');
    expect(answers[0].headers.get('ratelimit-policy')).toBe('3;w=3');
    const limited = answers[3];
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    const problem = (await limited.json()) as { code: string; status: number };
    expect(problem).toMatchObject({ code: 'PLATFORM.RATE_LIMITED', status: 429 });
    // Health probes are never limited; another client (address) has its own bucket.
    expect((await get(`${svc.url}/health/live`, from)).status).toBe(200);
    expect((await get(`${svc.url}/identity/v1/ping`, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(200);
  });

  it('keys a signed-in client by its verified principal, wherever it comes from; an invalid token counts against its address', async () => {
    const alice = { authorization: 'Bearer ok.org1.alice' };
    const statuses = [];
    for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']) statuses.push((await get(`${svc.url}/identity/v1/private`, { ...alice, 'x-forwarded-for': ip })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    // Another principal from the same address is not limited by alice's spending.
    expect((await get(`${svc.url}/identity/v1/private`, { authorization: 'Bearer ok.org2.bob', 'x-forwarded-for': '198.51.100.4' })).status).toBe(200);
    // Random invalid tokens do not buy new buckets.
    const forged = [];
    for (let i = 0; i < 4; i++) forged.push((await get(`${svc.url}/identity/v1/ping`, { authorization: `Bearer forged${i}`, 'x-forwarded-for': '198.51.100.9' })).status);
    expect(forged).toEqual([200, 200, 200, 429]);
  });

  it('counts GraphQL requests too and answers a GraphQL error with extensions.code', async () => {
    const from = { 'x-forwarded-for': '203.0.113.50' };
    const statuses = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await gql(svc.url, '{ limitsNode { id } }', from);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const body = (await last!.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0].extensions.code).toBe('PLATFORM.RATE_LIMITED');
  });
});

describe('the default exemption and RATE_LIMIT_PER_SECOND=0', () => {
  it('does not limit unauthenticated loopback callers by default, but does limit their principals', async () => {
    const svc = await start('limits_exempt', { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '2' });
    const anonymous = [];
    for (let i = 0; i < 5; i++) anonymous.push((await get(`${svc.url}/identity/v1/ping`)).status);
    expect(anonymous).toEqual([200, 200, 200, 200, 200]);
    const signedIn = [];
    for (let i = 0; i < 3; i++) signedIn.push((await get(`${svc.url}/identity/v1/private`, { authorization: 'Bearer ok.org1.carol' })).status);
    expect(signedIn).toEqual([200, 200, 429]);
  });

  it('turns the limit off with 0', async () => {
    const svc = await start('limits_off', { RATE_LIMIT_PER_SECOND: '0', RATE_LIMIT_BURST: '1', RATE_LIMIT_EXEMPT: 'none' });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(`${svc.url}/identity/v1/ping`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it('refuses a bad RATE_LIMIT_EXEMPT at start-up', async () => {
    await expect(start('limits_bad', { RATE_LIMIT_EXEMPT: '10.0.0.0/8,not-an-ip' })).rejects.toThrow(/RATE_LIMIT_EXEMPT must be IP addresses or CIDR ranges/);
  });
});

describe('security headers and GraphQL bounds', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await start('limits_headers', {});
  });

  it('puts the security headers on answers, errors and 404s alike, and no X-Powered-By', async () => {
    for (const res of [await get(`${svc.url}/identity/v1/ping`), await get(`${svc.url}/identity/v1/private`), await get(`${svc.url}/nowhere`)]) {
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('refuses a query nested deeper than the bound with GRAPHQL.DEPTH_LIMIT, and accepts one within it', async () => {
    const nest = (n: number) => `{ limitsNode { ${'child { '.repeat(n)}id${' }'.repeat(n)} } }`;
    const ok = (await (await gql(svc.url, nest(13))).json()) as { data?: unknown; errors?: unknown };
    expect(ok.errors).toBeUndefined();
    const deep = await gql(svc.url, nest(20));
    expect(deep.status).toBe(400);
    const body = (await deep.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0].extensions.code).toBe('GRAPHQL.DEPTH_LIMIT');
  });

  it('refuses too many aliases with GRAPHQL.ALIAS_LIMIT and too long a query with GRAPHQL.QUERY_TOO_LARGE', async () => {
    const aliased = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: limitsNode { id }`).join(' ')} }`;
    const a = (await (await gql(svc.url, aliased)).json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(a.errors.map((e) => e.extensions.code)).toContain('GRAPHQL.ALIAS_LIMIT');
    const long = `{ limitsNode { id } } ${'#'.repeat(40_000)}`;
    const l = (await (await gql(svc.url, long)).json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(l.errors[0].extensions.code).toBe('GRAPHQL.QUERY_TOO_LARGE');
  });
});
