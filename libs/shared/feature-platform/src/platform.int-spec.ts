// The service platform as a caller and an operator meet it: a real service
// started in-process by `startService` against real PostgreSQL (embedded
// messaging, so no Kafka), talked to over real HTTP connections.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Body, Controller, Get, HttpCode, Module, Param, Post, Query } from '@nestjs/common';
import { Field, ObjectType, Query as GqlQuery, Resolver } from '@nestjs/graphql';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messagingMigrations } from '@alliance/shared/data-access-messaging';
import { createTestDatabase, type TestDatabase } from '@alliance/shared/testing';
import { ConfigError, type Env } from '@alliance/shared/util-config';
import { AllianceError } from '@alliance/shared/util-errors';
import { type RunningService, type ServiceDefinition, startService } from './bootstrap';
import type { HealthReport } from './health';
import { Public } from './access';
import type { ProblemDocument } from './problem';

// ---------------------------------------------------------------------------
// The test service: one feature module with the routes the assertions need.

const MIGRATION_FILE = '20260101000000_test.sql';
const MIGRATION_SQL = 'CREATE TABLE test_things (id integer PRIMARY KEY, name text NOT NULL);\n';
const SECRET = 'secret internals';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** When the last `slow` handler finished, so shutdown order is checked without racing the client. */
let slowFinishedAt = 0;

@ObjectType('PlatformTestThing')
class TestThing {
  @Field()
  id!: string;
}

@Public('platform test routes')
@Controller()
class TestController {
  @Get('slow')
  async slow(@Query('ms') ms?: string): Promise<{ done: boolean }> {
    await delay(Number(ms ?? 0));
    slowFinishedAt = Date.now();
    return { done: true };
  }

  @Get('things/:id')
  thing(@Param('id') id: string): TestThing {
    throw new AllianceError('TEST.THING_NOT_FOUND', 'not-found', `thing ${id} not found`);
  }

  @Get('boom')
  boom(): TestThing {
    throw new Error(SECRET);
  }

  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: Record<string, unknown>): Record<string, unknown> {
    return body;
  }
}

@Resolver(() => TestThing)
@Public('platform test fields')
class TestThingResolver {
  @GqlQuery(() => TestThing, { name: 'testThing' })
  thing(): TestThing {
    throw new AllianceError('TEST.THING_NOT_FOUND', 'not-found', 'thing 7 not found');
  }

  @GqlQuery(() => TestThing, { name: 'testBoom' })
  boom(): TestThing {
    throw new Error(SECRET);
  }
}

@Module({ controllers: [TestController], providers: [TestThingResolver] })
class PlatformTestModule {}

function testDefinition(schema: string, migrationsDir: string): ServiceDefinition {
  return {
    name: 'identity',
    title: 'Platform test service',
    description: 'A service definition used only by the platform integration tests.',
    schema,
    restPrefix: 'identity/v1',
    configShape: {},
    migrationsDir,
    graphql: 'subgraph',
    imports: () => [PlatformTestModule],
  };
}

function migrationsDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'alliance-platform-'));
  writeFileSync(join(dir, MIGRATION_FILE), MIGRATION_SQL);
  return dir;
}

// ---------------------------------------------------------------------------
// Helpers: fresh connections (agent: false) so draining and refusal are observable.

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly body: unknown;
}

interface SendOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

function send(url: string, options: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function postJson(url: string, body: string, headers: Readonly<Record<string, string>> = {}): Promise<Reply> {
  return send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

function problemOf(reply: Reply): ProblemDocument {
  expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
  return reply.body as ProblemDocument;
}

interface GraphQLReply {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: ReadonlyArray<{ readonly message: string; readonly extensions?: Record<string, unknown> }>;
}

async function graphql(service: RunningService, query: string): Promise<{ reply: Reply; result: GraphQLReply }> {
  const reply = await postJson(`${service.url}/graphql`, JSON.stringify({ query }));
  return { reply, result: reply.body as GraphQLReply };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** 'connected', or the error code of a refused/failed TCP connection. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Status of GET `path` on a new connection, or the connection's error code. */
function statusOrError(url: string): Promise<number | string> {
  return send(url).then(
    (reply) => reply.status,
    (error: NodeJS.ErrnoException) => error.code ?? error.message,
  );
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(100);
  }
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------

let db: TestDatabase;
let databaseName: string;
const started: RunningService[] = [];
const tempDirs: string[] = [];

async function env(overrides: Readonly<Record<string, string>> = {}): Promise<Env> {
  return {
    PORT: String(await freePort()),
    DATABASE_URL: db.url,
    MESSAGING: 'postgres',
    LOG_LEVEL: 'silent',
    BODY_LIMIT_BYTES: '1024',
    ...overrides,
  };
}

async function start(definition: ServiceDefinition, overrides: Readonly<Record<string, string>> = {}): Promise<RunningService> {
  const service = await startService(definition, await env(overrides));
  started.push(service);
  return service;
}

function newTempDir(): string {
  const dir = migrationsDirectory();
  tempDirs.push(dir);
  return dir;
}

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'), 'platform');
  databaseName = new URL(db.url).pathname.slice(1);
});

afterAll(async () => {
  // close() is idempotent: tests that closed their service already are no-ops here.
  await Promise.allSettled(started.map((s) => s.close()));
  await db?.drop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('migrations at start-up', () => {
  const schema = 'platform_migrations_test';
  let dir: string;
  let firstRun: Array<{ version: string; applied_at: Date }>;

  const appliedRows = () =>
    withClient(db.url, async (c) => (await c.query<{ version: string; applied_at: Date }>(`SELECT version, applied_at FROM ${schema}.schema_migrations ORDER BY version`)).rows);

  it('applies the service migration and the messaging migrations into the service schema', async () => {
    dir = newTempDir();
    const service = await start(testDefinition(schema, dir));
    await service.close();

    const table = await withClient(db.url, async (c) => (await c.query<{ t: string | null }>(`SELECT to_regclass('${schema}.test_things')::text AS t`)).rows[0].t);
    expect(table).toBe(`${schema}.test_things`);
    firstRun = await appliedRows();
    const expected = ['20260101000000', ...messagingMigrations().map((m) => m.version)].sort();
    expect(messagingMigrations().length).toBeGreaterThan(0);
    expect(firstRun.map((r) => r.version)).toEqual(expected);
    await withClient(db.url, (c) => c.query(`INSERT INTO ${schema}.test_things (id, name) VALUES (1, 'kept')`));
  });

  it('applies nothing new on a second start', async () => {
    const service = await start(testDefinition(schema, dir));
    await service.close();

    // The migration has no IF NOT EXISTS, so a re-run would have failed this start.
    expect(await appliedRows()).toEqual(firstRun);
    const names = await withClient(db.url, async (c) => (await c.query<{ name: string }>(`SELECT name FROM ${schema}.test_things`)).rows.map((r) => r.name));
    expect(names).toEqual(['kept']);
  });

  it('refuses to start when an applied migration was changed, and leaves no connection behind', async () => {
    writeFileSync(join(dir, MIGRATION_FILE), `${MIGRATION_SQL}-- edited after the fact\n`);
    const attempt = startService(testDefinition(schema, dir), await env());
    await expect(attempt).rejects.toThrow(/was changed after it was applied/);
    await expect(attempt).rejects.toThrow(/20260101000000_test/);

    const count = () =>
      withClient(db.url, async (c) =>
        Number((await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'alliance-identity'", [databaseName])).rows[0].n),
      );
    await waitUntil('the failed start to release its connections', async () => (await count()) === 0, 3_000);
  });
});

describe('a running service', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await start(testDefinition('platform_test', newTempDir()));
  });

  afterAll(async () => {
    await service?.close();
  });

  it('keeps an idle keep-alive connection open past Node’s 5 s default, so a client reusing it does not race the close', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = httpRequest(`${service.url}/health/live`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get()).toEqual({ status: 200, reused: false });
      await delay(6_000);
      expect(await get()).toEqual({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  }, 20_000);

  describe('errors as problem+json', () => {
    it('maps an AllianceError to its status and stable code, with the correlation id', async () => {
      const reply = await send(`${service.url}/identity/v1/things/7`);
      expect(reply.status).toBe(404);
      const problem = problemOf(reply);
      expect(problem).toMatchObject({
        type: 'urn:alliance:problem:TEST.THING_NOT_FOUND',
        title: 'TEST.THING_NOT_FOUND',
        status: 404,
        code: 'TEST.THING_NOT_FOUND',
        detail: 'thing 7 not found',
        instance: '/identity/v1/things/7',
      });
      expect(reply.headers['x-correlation-id']).toMatch(UUID);
      expect(problem.correlationId).toBe(reply.headers['x-correlation-id']);
    });

    it('hides the message of an unexpected error behind COMMON.INTERNAL', async () => {
      const reply = await send(`${service.url}/identity/v1/boom`);
      expect(reply.status).toBe(500);
      expect(problemOf(reply)).toMatchObject({ code: 'COMMON.INTERNAL', status: 500, detail: 'internal error' });
      expect(reply.text).not.toContain(SECRET);
    });

    it('answers unknown routes with COMMON.ROUTE_NOT_FOUND', async () => {
      for (const path of ['/identity/v1/nothing-here', '/nothing-here']) {
        const reply = await send(`${service.url}${path}`);
        expect(reply.status, path).toBe(404);
        expect(problemOf(reply).code, path).toBe('COMMON.ROUTE_NOT_FOUND');
      }
    });

    it('echoes a well-formed JSON body', async () => {
      const reply = await postJson(`${service.url}/identity/v1/echo`, JSON.stringify({ hello: 'world', n: 1 }));
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ hello: 'world', n: 1 });
    });

    it('answers malformed JSON with 400 COMMON.MALFORMED_JSON', async () => {
      const reply = await postJson(`${service.url}/identity/v1/echo`, '{"hello": ');
      expect(reply.status).toBe(400);
      const problem = problemOf(reply);
      expect(problem).toMatchObject({ code: 'COMMON.MALFORMED_JSON', status: 400 });
      expect(problem.correlationId).toBe(reply.headers['x-correlation-id']);
    });

    it('answers a body over BODY_LIMIT_BYTES with 413 COMMON.PAYLOAD_TOO_LARGE', async () => {
      const reply = await postJson(`${service.url}/identity/v1/echo`, JSON.stringify({ data: 'x'.repeat(2_000) }));
      expect(reply.status).toBe(413);
      expect(problemOf(reply)).toMatchObject({ code: 'COMMON.PAYLOAD_TOO_LARGE', status: 413 });
      // Just under the limit still passes.
      const fits = await postJson(`${service.url}/identity/v1/echo`, JSON.stringify({ data: 'x'.repeat(900) }));
      expect(fits.status).toBe(200);
    });

    it('answers a body that cannot be decompressed with 400, not an internal error', async () => {
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const reply = await postJson(`${service.url}/identity/v1/echo`, 'not compressed at all', { 'content-encoding': encoding });
        expect(reply.status, encoding).toBe(400);
        expect(problemOf(reply).code, encoding).toBe('COMMON.MALFORMED_JSON');
      }
      const gzipped = await send(`${service.url}/identity/v1/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"zipped":true}') });
      expect(gzipped.status).toBe(200);
    });

    it('answers a JSON body whose bytes are not UTF-8 with 400 COMMON.MALFORMED_JSON, not U+FFFD in its place', async () => {
      for (const bytes of [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), Buffer.from('{"a":"\xc0\xaf"}', 'latin1')]) {
        const reply = await send(`${service.url}/identity/v1/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
        expect(reply.status).toBe(400);
        expect(problemOf(reply)).toMatchObject({ code: 'COMMON.MALFORMED_JSON', detail: expect.stringContaining('UTF-8') });
      }
      const utf16 = await send(`${service.url}/identity/v1/echo`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-16' }, body: Buffer.from('{"a":1}', 'utf16le') });
      expect([utf16.status, problemOf(utf16).code]).toEqual([415, 'COMMON.UNSUPPORTED_MEDIA_TYPE']);
      const utf8 = await postJson(`${service.url}/identity/v1/echo`, JSON.stringify({ a: 'żółw 🐢' }), { 'content-type': 'application/json; charset=UTF-8' });
      expect(utf8.body).toEqual({ a: 'żółw 🐢' });
    });

    it('refuses a body that is not JSON with 415 COMMON.UNSUPPORTED_MEDIA_TYPE before any route, and lets bodiless requests through', async () => {
      for (const type of ['application/xml', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        for (const path of ['/identity/v1/echo', '/identity/v1/status']) {
          const reply = await send(`${service.url}${path}`, { method: 'POST', headers, body: '<a>1</a>' });
          expect(reply.status, `${type} ${path}`).toBe(415);
          expect(problemOf(reply), `${type} ${path}`).toMatchObject({ code: 'COMMON.UNSUPPORTED_MEDIA_TYPE', status: 415 });
        }
      }
      expect((await postJson(`${service.url}/identity/v1/echo`, '{"x":1}', { 'content-type': 'application/vnd.test+json' })).status).toBe(200);
      expect((await send(`${service.url}/identity/v1/status`, { headers: { 'content-type': 'text/plain' } })).status).toBe(200);
    });

    it('answers what Node’s HTTP parser refuses as problem+json and closes the connection', async () => {
      const long = await send(`${service.url}/identity/v1/status?q=${'x'.repeat(20_000)}`);
      expect(long.status).toBe(431);
      expect(long.headers['connection']).toBe('close');
      expect(problemOf(long)).toMatchObject({ code: 'COMMON.HEADERS_TOO_LARGE', status: 431 });

      const { port } = new URL(service.url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.end('NOT HTTP AT ALL\r\n\r\n');
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(raw).toContain('Content-Type: application/problem+json');
      expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'COMMON.MALFORMED_HTTP', status: 400 });
    });

    it('echoes a well-formed caller correlation id and replaces a bad one', async () => {
      const mine = await send(`${service.url}/identity/v1/things/7`, { headers: { 'X-Correlation-Id': 'my-id-1' } });
      expect(mine.headers['x-correlation-id']).toBe('my-id-1');
      expect(problemOf(mine).correlationId).toBe('my-id-1');

      const viaRequestId = await send(`${service.url}/identity/v1/status`, { headers: { 'X-Request-Id': 'req-42' } });
      expect(viaRequestId.headers['x-correlation-id']).toBe('req-42');

      for (const bad of ['a'.repeat(300), 'has spaces in it']) {
        const reply = await send(`${service.url}/identity/v1/things/7`, { headers: { 'X-Correlation-Id': bad } });
        expect(reply.headers['x-correlation-id']).toMatch(UUID);
        expect(problemOf(reply).correlationId).toBe(reply.headers['x-correlation-id']);
      }
    });
  });

  describe('GraphQL and OpenAPI', () => {
    it('carries the AllianceError code in errors[0].extensions', async () => {
      const { reply, result } = await graphql(service, '{ testThing { id } }');
      expect(reply.status).toBe(200);
      expect(result.errors?.[0]?.message).toBe('thing 7 not found');
      expect(result.errors?.[0]?.extensions?.['code']).toBe('TEST.THING_NOT_FOUND');
      expect(result.errors?.[0]?.extensions?.['correlationId']).toBe(reply.headers['x-correlation-id']);
    });

    it('hides an unexpected resolver error behind COMMON.INTERNAL', async () => {
      const { reply, result } = await graphql(service, '{ testBoom { id } }');
      expect(result.errors?.[0]?.extensions?.['code']).toBe('COMMON.INTERNAL');
      expect(result.errors?.[0]?.message).toBe('internal error');
      expect(reply.text).not.toContain(SECRET);
    });

    it('keeps the caller’s query mistakes as GraphQL reports them, not as internal errors', async () => {
      const cases: Array<[string, string, RegExp, Record<string, unknown>?]> = [
        ['{ noSuchField }', 'GRAPHQL_VALIDATION_FAILED', /noSuchField/],
        ['{ identityStatus {', 'GRAPHQL_PARSE_FAILED', /Syntax Error/],
        ['query Q($b: Boolean!) { __typename @include(if: $b) }', 'BAD_USER_INPUT', /\$b/, { b: 'not a boolean' }],
      ];
      for (const [query, code, message, variables] of cases) {
        const reply = await postJson(`${service.url}/graphql`, JSON.stringify({ query, variables }));
        const result = reply.body as GraphQLReply;
        expect(result.errors?.[0]?.extensions?.['code'], query).toBe(code);
        expect(result.errors?.[0]?.message, query).toMatch(message);
        expect(reply.status, query).toBe(400);
      }
    });

    it('answers the status query', async () => {
      const { result } = await graphql(service, '{ identityStatus { name organizationId } }');
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ identityStatus: { name: 'identity', organizationId: 'org1' } });
    });

    it('serves the OpenAPI document at both addresses, with the prefixed routes', async () => {
      for (const path of ['/openapi.json', '/identity/v1/openapi.json']) {
        const reply = await send(`${service.url}${path}`);
        expect(reply.status, path).toBe(200);
        const paths = Object.keys((reply.body as { paths: Record<string, unknown> }).paths);
        expect(paths, path).toEqual(
          expect.arrayContaining(['/identity/v1/status', '/identity/v1/slow', '/identity/v1/things/{id}', '/identity/v1/boom', '/identity/v1/echo', '/health/ready', '/health/live']),
        );
        expect(paths, path).not.toContain('/identity/v1/health/ready');
      }
    });
  });

  describe('health', () => {
    it('is live and ready with postgres and messaging up', async () => {
      expect((await send(`${service.url}/health/live`)).status).toBe(200);
      const ready = await send(`${service.url}/health/ready`);
      expect(ready.status).toBe(200);
      const report = ready.body as HealthReport;
      expect(report.ready).toBe(true);
      expect(report.checks['postgres']?.status).toBe('up');
      expect(report.checks['messaging']?.status).toBe('up');
    });

    it('recovers readiness after its PostgreSQL connections are terminated', async () => {
      expect((await send(`${service.url}/health/ready`)).status).toBe(200); // the pool holds idle connections now
      const terminated = await withClient(db.url, async (c) =>
        (await c.query<{ t: boolean }>('SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [databaseName])).rows.filter((r) => r.t).length,
      );
      expect(terminated).toBeGreaterThan(0);

      await waitUntil('readiness to recover', async () => (await statusOrError(`${service.url}/health/ready`)) === 200, 5_000);
      expect((await send(`${service.url}/health/live`)).status).toBe(200);
      expect((await send(`${service.url}/identity/v1/status`)).status).toBe(200);
    });
  });
});

describe('graceful shutdown', () => {
  it('stops accepting, lets the in-flight request finish, then closes', async () => {
    const service = await start(testDefinition('platform_shutdown_test', newTempDir()));
    const begun = Date.now();
    const slow = send(`${service.url}/identity/v1/slow?ms=1500`);
    slow.catch(() => undefined); // awaited below; a failure must not surface as unhandled first
    await delay(200);

    let closedAt = 0;
    const closing = service.close().then(() => {
      closedAt = Date.now();
    });
    await delay(50);
    // The listener is closed while draining: a new connection is refused (or told 503).
    expect([503, 'ECONNREFUSED']).toContain(await statusOrError(`${service.url}/health/ready`));
    expect(service.runtime.draining).toBe(true);

    const reply = await slow;
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ done: true });
    await closing;
    expect(closedAt).toBeGreaterThanOrEqual(slowFinishedAt);
    expect(closedAt - begun).toBeGreaterThanOrEqual(1_450);
    expect(await tryConnect(service.port)).toBe('ECONNREFUSED');
  });

  it('does not wait for a request past SHUTDOWN_TIMEOUT_MS', async () => {
    const service = await start(testDefinition('platform_shutdown_test', newTempDir()), { SHUTDOWN_TIMEOUT_MS: '500' });
    const slow = send(`${service.url}/identity/v1/slow?ms=3000`).then(
      (reply) => reply.status,
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    await delay(200);

    const closeStarted = Date.now();
    await service.close();
    const took = Date.now() - closeStarted;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(1_500);
    // The connection was cut: the caller sees a reset, not a late 200.
    expect(await slow).not.toBe(200);
    expect(await tryConnect(service.port)).toBe('ECONNREFUSED');
  });
});

describe('configuration', () => {
  it('rejects a bad PORT with a one-line ConfigError naming it', async () => {
    const attempt = startService(testDefinition('platform_config_test', newTempDir()), { ...(await env()), PORT: 'x' });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    const error = (await attempt.catch((e: unknown) => e)) as ConfigError;
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/^alliance-identity: invalid configuration: /);
    expect(error.message).toContain('PORT must be an integer port number (got "x")');
    // Nothing was created: the schema of a service that refused its config does not exist.
    const schema = await withClient(db.url, async (c) => (await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_namespace WHERE nspname = 'platform_config_test'")).rows[0].n);
    expect(schema).toBe('0');
  });
});
