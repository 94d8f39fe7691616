import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from './database';
import { findPostgresBinDir, resolveKafka, resolvePostgres, startPrivatePostgres, type ResolvedKafka, type ResolvedPostgres } from './infrastructure';
import { createTopic, readAll, uniqueTopicName } from './kafka';

async function selectOne(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
    return rows[0].one;
  } finally {
    await client.end();
  }
}

describe('test infrastructure (real PostgreSQL and Kafka)', () => {
  let postgres: ResolvedPostgres;
  let kafka: ResolvedKafka;

  beforeAll(async () => {
    // The global setup has exported TEST_DATABASE_URL / TEST_KAFKA_BROKERS, so this resolves the same servers.
    [postgres, kafka] = await Promise.all([resolvePostgres(), resolveKafka()]);
  });

  afterAll(async () => {
    await Promise.all([postgres?.stop(), kafka?.stop()]);
  });

  it('provides the same servers to tests through inject()', () => {
    expect(inject('databaseUrl')).toBe(postgres.url);
    expect(inject('kafkaBrokers')).toEqual(kafka.brokers);
  });

  it('answers SELECT 1, also in a fresh database that is dropped afterwards', async () => {
    expect(await selectOne(postgres.url)).toBe(1);

    const database = await createTestDatabase(postgres.url, 'shared_testing');
    expect(await selectOne(database.url)).toBe(1);
    await database.drop();
    await database.drop(); // idempotent

    await expect(selectOne(database.url)).rejects.toThrow(/does not exist/);
  });

  it('round-trips a message through a fresh topic', async () => {
    const topic = uniqueTopicName('shared-testing.round-trip');
    await createTopic(kafka.brokers, topic);
    expect(await readAll(kafka.brokers, topic, 10_000)).toEqual([]);

    const producer = new Kafka({ clientId: 'shared-testing-int', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
    });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value: 'hello ledger', headers: { kind: 'test' } }] });
    } finally {
      await producer.disconnect();
    }

    const records = await readAll(kafka.brokers, topic, 60_000);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ topic, partition: 0, offset: '0' });
    expect(records[0].key?.toString()).toBe('k1');
    expect(records[0].value?.toString()).toBe('hello ledger');
    expect(records[0].headers['kind']?.toString()).toBe('test');
  });

  it('reads past transaction markers and skips aborted records', async () => {
    const topic = uniqueTopicName('shared-testing.transactions');
    await createTopic(kafka.brokers, topic, 2);
    const producer = new Kafka({ clientId: 'shared-testing-int-tx', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId: `${topic}-tx`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic, messages: [{ partition: 0, value: 'a' }, { partition: 1, value: 'b' }] });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [{ partition: 0, value: 'dropped' }] });
      await aborted.abort();
    } finally {
      await producer.disconnect();
    }

    const records = await readAll(kafka.brokers, topic, 60_000);
    expect(records.map((record) => [record.partition, record.value?.toString()])).toEqual([
      [0, 'a'],
      [1, 'b'],
    ]);
  });

  // The fallback used where no server runs; skipped on machines that only have TEST_DATABASE_URL.
  it.skipIf(!findPostgresBinDir())('can start a private PostgreSQL from the local binaries', async () => {
    const server = await startPrivatePostgres();
    try {
      expect(server.value).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(await selectOne(server.value)).toBe(1);
    } finally {
      await server.stop();
    }
    await expect(selectOne(server.value)).rejects.toThrow();
  });
});
