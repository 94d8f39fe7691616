import { describe, expect, it } from 'vitest';
import { resolveKafka, resolvePostgres, type InfrastructureDeps, type Started } from './infrastructure';

// Every probe and starter is injected: these tests check the resolution order and
// the messages, never touching Docker, PostgreSQL or Kafka.

const LOCAL = 'postgres://postgres@127.0.0.1:5432/postgres';

function started<T>(value: T, stops: string[], name: string): Started<T> {
  return {
    value,
    stop: async () => {
      stops.push(name);
    },
  };
}

function unexpected(what: string): () => Promise<never> {
  return () => Promise.reject(new Error(`${what} should not have been used`));
}

interface Fake {
  deps: Partial<InfrastructureDeps>;
  logs: string[];
  stops: string[];
}

/** By default nothing is available; each test switches on what it needs. */
function fake(overrides: Partial<InfrastructureDeps> = {}): Fake {
  const logs: string[] = [];
  const stops: string[] = [];
  return {
    logs,
    stops,
    deps: {
      env: {},
      log: (line) => logs.push(line),
      containerRuntime: async () => ({ available: false, reason: 'DOCKER_HOST is unset and there is no Docker or Podman socket' }),
      postgresContainer: unexpected('postgresContainer'),
      kafkaContainer: unexpected('kafkaContainer'),
      localPostgres: () => Promise.reject(new Error('nothing usable at postgres://postgres@127.0.0.1:5432/postgres (ECONNREFUSED)')),
      localKafka: () => Promise.reject(new Error('no broker answered at 127.0.0.1:9092 and java is missing')),
      ...overrides,
    },
  };
}

describe('resolvePostgres', () => {
  it('uses TEST_DATABASE_URL without probing anything else', async () => {
    const { deps, logs } = fake({
      env: { TEST_DATABASE_URL: ' postgres://app:secret@db.example:6543/ci ' },
      containerRuntime: unexpected('containerRuntime'),
      localPostgres: unexpected('localPostgres'),
    });

    const resolved = await resolvePostgres(deps);

    expect(resolved.source).toBe('env');
    expect(resolved.url).toBe('postgres://app:secret@db.example:6543/ci');
    await resolved.stop(); // nothing to stop, must not throw
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('PostgreSQL from env (TEST_DATABASE_URL)');
    expect(logs[0]).not.toContain('secret');
  });

  it('rejects a malformed TEST_DATABASE_URL instead of silently falling back', async () => {
    const { deps } = fake({ env: { TEST_DATABASE_URL: 'mysql://root@localhost/db' } });
    await expect(resolvePostgres(deps)).rejects.toThrow(/TEST_DATABASE_URL must be a postgres:\/\/ URL/);
  });

  it('uses Testcontainers when a runtime answers, and stop() stops the container once', async () => {
    const { deps, stops, logs } = fake({
      containerRuntime: async () => ({ available: true }),
      postgresContainer: async () => started('postgres://test:test@localhost:32768/test', stops, 'container'),
      localPostgres: unexpected('localPostgres'),
    });

    const resolved = await resolvePostgres(deps);
    await resolved.stop();
    await resolved.stop();

    expect(resolved.source).toBe('testcontainers');
    expect(stops).toEqual(['container']);
    expect(logs).toEqual([expect.stringContaining('PostgreSQL from testcontainers')]);
  });

  it('falls back to local binaries when no container runtime answers', async () => {
    const { deps, stops } = fake({
      localPostgres: async () => ({ ...started('postgres://postgres@127.0.0.1:40001/postgres', stops, 'local'), detail: 'started' }),
    });

    const resolved = await resolvePostgres(deps);
    await resolved.stop();

    expect(resolved).toMatchObject({ source: 'local', url: 'postgres://postgres@127.0.0.1:40001/postgres' });
    expect(stops).toEqual(['local']);
  });

  it('falls back to local binaries when the runtime answers but the container fails', async () => {
    const { deps, logs } = fake({
      containerRuntime: async () => ({ available: true }),
      postgresContainer: () => Promise.reject(new Error('pull access denied')),
      localPostgres: async () => started(LOCAL, [], 'local'),
    });

    const resolved = await resolvePostgres(deps);

    expect(resolved.source).toBe('local');
    expect(logs[0]).toContain('Testcontainers failed (pull access denied)');
    expect(logs).toHaveLength(2);
  });

  it('names all three options, with the reason each failed, when nothing is available', async () => {
    const { deps } = fake();

    const error = await resolvePostgres(deps).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^No PostgreSQL available for tests\. Tried, in order:/);
    expect(message).toContain('1. TEST_DATABASE_URL: not set (e.g. TEST_DATABASE_URL=postgres://');
    expect(message).toContain('2. Testcontainers: no container runtime answered (DOCKER_HOST is unset');
    expect(message).toContain('3. local binaries: nothing usable at postgres://postgres@127.0.0.1:5432/postgres (ECONNREFUSED)');
    expect(message).toContain('install PostgreSQL 15+');
  });

  it('reports a container failure in the final error too', async () => {
    const { deps } = fake({
      containerRuntime: async () => ({ available: true }),
      postgresContainer: () => Promise.reject(new Error('image not found')),
    });
    await expect(resolvePostgres(deps)).rejects.toThrow(/2\. Testcontainers: a container runtime answered, but the container did not start: image not found/);
  });
});

describe('resolveKafka', () => {
  it('splits TEST_KAFKA_BROKERS on commas', async () => {
    const { deps, logs } = fake({
      env: { TEST_KAFKA_BROKERS: 'k1:9092, k2:9092,' },
      containerRuntime: unexpected('containerRuntime'),
    });

    const resolved = await resolveKafka(deps);

    expect(resolved).toMatchObject({ source: 'env', brokers: ['k1:9092', 'k2:9092'] });
    expect(logs).toEqual(['[shared-testing] Kafka from env (TEST_KAFKA_BROKERS): k1:9092,k2:9092']);
  });

  it('rejects brokers without a port', async () => {
    const { deps } = fake({ env: { TEST_KAFKA_BROKERS: 'localhost' } });
    await expect(resolveKafka(deps)).rejects.toThrow(/comma-separated list of host:port/);
  });

  it('prefers Testcontainers over a local broker', async () => {
    const { deps } = fake({
      containerRuntime: async () => ({ available: true }),
      kafkaContainer: async () => started(['localhost:41234'], [], 'container'),
      localKafka: unexpected('localKafka'),
    });
    await expect(resolveKafka(deps)).resolves.toMatchObject({ source: 'testcontainers', brokers: ['localhost:41234'] });
  });

  it('uses the local broker and passes its stop() through', async () => {
    const stops: string[] = [];
    const { deps } = fake({ localKafka: async () => started(['127.0.0.1:9092'], stops, 'kafka.sh stop') });

    const resolved = await resolveKafka(deps);
    await resolved.stop();

    expect(resolved.source).toBe('local');
    expect(stops).toEqual(['kafka.sh stop']);
  });

  it('names all three options when nothing is available', async () => {
    const { deps } = fake();
    const error = await resolveKafka(deps).catch((reason: unknown) => reason);
    const message = (error as Error).message;
    expect(message).toMatch(/^No Kafka available for tests\. Tried, in order:/);
    expect(message).toContain('1. TEST_KAFKA_BROKERS: not set (e.g. TEST_KAFKA_BROKERS=127.0.0.1:9092)');
    expect(message).toContain('2. Testcontainers: no container runtime answered');
    expect(message).toContain('3. local binaries: no broker answered at 127.0.0.1:9092 and java is missing');
    expect(message).toContain('deploy/kafka/README.md');
  });
});
