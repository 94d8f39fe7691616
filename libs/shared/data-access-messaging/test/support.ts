// Shared by the integration tests of this library: real PostgreSQL and Kafka
// from the harness, one fresh database per test, one fresh topic per test.
import { createHash } from 'node:crypto';
import type { EventEnvelope, TopicDefinition } from '@alliance/contracts';
import { createPool, type Migration, type Pool, type PoolClient, runMigrations } from '@alliance/shared/data-access-postgres';
import { createTestDatabase, readAll, uniqueTopicName } from '@alliance/shared/testing';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { z } from 'zod';
import { BUS_SCHEMA, KafkaTransport, type LogEntry, MessagingErrorCodes, messagingMigrations, PostgresTransport, type Transport } from '../src';

/** The service schema the tests play: outbox, processed_events and a table of handler effects. */
export const SCHEMA = 'svc';

export const itemPayload = z.object({
  key: z.string(),
  seq: z.number().int().nonnegative(),
  n: z.number().int(),
});
export type Item = z.infer<typeof itemPayload>;

/** A test-only topic with the contracts' shape; the name is unique per test run. */
export function itemTopic(): TopicDefinition<Item> {
  return { name: uniqueTopicName('test.item.created.v1'), payload: itemPayload, description: 'test items' };
}

const effectsSql = `
CREATE TABLE effects (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id   uuid NOT NULL,   -- deliberately not unique: a double application must be visible, not an error
  key        text NOT NULL,
  seq        integer NOT NULL,
  n          integer NOT NULL,
  applied_by text NOT NULL
);`;

const effectsMigration: Migration = {
  version: '20991231000000',
  name: 'test_effects',
  sql: effectsSql,
  checksum: createHash('sha256').update(effectsSql).digest('hex'),
};

export interface TestDb {
  readonly url: string;
  readonly pool: Pool;
  close(): Promise<void>;
}

export async function openDatabase(baseUrl: string, prefix: string): Promise<TestDb> {
  const database = await createTestDatabase(baseUrl, prefix);
  const pool = createPool(database.url, { applicationName: `messaging-test-${prefix}`, schema: SCHEMA, max: 12 });
  await runMigrations(pool, SCHEMA, [...messagingMigrations(), effectsMigration]);
  return {
    url: database.url,
    pool,
    close: async () => {
      await pool.end().catch(() => undefined);
      await database.drop();
    },
  };
}

/** The handler the tests use: one row per application, in the handler's transaction. */
export async function applyEffect(client: PoolClient, event: EventEnvelope<Item>, appliedBy: string): Promise<void> {
  await client.query(`INSERT INTO ${SCHEMA}.effects (event_id, key, seq, n, applied_by) VALUES ($1, $2, $3, $4, $5)`, [
    event.eventId,
    event.payload.key,
    event.payload.seq,
    event.payload.n,
    appliedBy,
  ]);
}

export interface EffectCounts {
  readonly total: number;
  readonly distinct: number;
}

export async function effectCounts(pool: Pool): Promise<EffectCounts> {
  const { rows } = await pool.query<{ total: string; distinct: string }>(`SELECT count(*) AS total, count(DISTINCT event_id) AS distinct FROM ${SCHEMA}.effects`);
  return { total: Number(rows[0].total), distinct: Number(rows[0].distinct) };
}

export async function waitFor<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch {
      // The probe itself may fail while things restart; keep asking until the deadline.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function envelopeOf(topic: string, payload: unknown, key: string, eventId: string): EventEnvelope {
  return { eventId, topic, occurredAt: new Date().toISOString(), correlationId: `corr-${eventId}`, causationId: null, producer: 'test', key, payload };
}

/** Collects log lines (kafkajs's included), so a failing test can show them. */
export function collectingLogger(): { lines: LogEntry[]; logger: (entry: LogEntry) => void } {
  const lines: LogEntry[] = [];
  return { lines, logger: (entry) => lines.push(entry) };
}

/**
 * What differs between the transports in the shared test bodies. Everything
 * else (outbox, relay, consumer) is the same code against the same port.
 */
export interface TransportFixture {
  readonly kind: 'kafka' | 'postgres';
  create(pool: Pool, logger?: (entry: LogEntry) => void): Transport;
  /**
   * Appends bytes that no producer of ours would write; returns the error code
   * the consumer must dead-letter them with. Kafka carries arbitrary bytes; the
   * PostgreSQL log stores jsonb, so there the worst it can hold is JSON that is
   * not an envelope.
   */
  injectGarbage(pool: Pool, topic: string): Promise<{ code: string; bytes: Buffer }>;
  /** Every envelope on `topic`, in offset order. */
  readTopic(pool: Pool, topic: string): Promise<unknown[]>;
  /** Moves `group` back to the start of `topic` (the group must have no active member). */
  rewind(pool: Pool, group: string, topic: string): Promise<void>;
  /** Environment for a child process that builds the same transport. */
  childEnv(databaseUrl: string): Record<string, string>;
}

export function kafkaFixture(brokers: string[]): TransportFixture {
  const kafka = new Kafka({ clientId: 'messaging-test-tools', brokers, logLevel: logLevel.NOTHING });
  return {
    kind: 'kafka',
    // A short session so a killed member's partitions move to the survivor within seconds.
    create: (_pool, logger) => new KafkaTransport({ brokers, clientId: 'messaging-test', sessionTimeoutMs: 6_000, logger }),
    async injectGarbage(_pool, topic) {
      const bytes = Buffer.from([0x6e, 0x6f, 0x74, 0x20, 0x6a, 0x73, 0x6f, 0x6e, 0x20, 0x7b, 0x00, 0xff]); // "not json {" NUL 0xff
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        await producer.send({ topic, messages: [{ key: 'garbage', value: bytes }], acks: -1 });
      } finally {
        await producer.disconnect();
      }
      return { code: MessagingErrorCodes.malformedJson, bytes };
    },
    async readTopic(_pool, topic) {
      const records = await readAll(brokers, topic);
      return records.map((r) => (r.value === null ? null : (JSON.parse(r.value.toString('utf8')) as unknown)));
    },
    async rewind(_pool, group, topic) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.resetOffsets({ groupId: group, topic, earliest: true });
      } finally {
        await admin.disconnect();
      }
    },
    childEnv: (databaseUrl) => ({ CHILD_TRANSPORT: 'kafka', CHILD_BROKERS: brokers.join(','), CHILD_DATABASE_URL: databaseUrl }),
  };
}

export function postgresFixture(): TransportFixture {
  return {
    kind: 'postgres',
    // Long poll interval: deliveries in these tests must come from NOTIFY, not from polling.
    create: (pool, logger) => new PostgresTransport({ pool, pollIntervalMs: 10_000, logger }),
    async injectGarbage(pool, topic) {
      const json = JSON.stringify('not an envelope');
      const client = await pool.connect();
      try {
        // The transport's own append, by hand: reserve the offset under the topic lock, then insert.
        await client.query('BEGIN');
        const { rows } = await client.query<{ next_offset: string }>(`UPDATE ${BUS_SCHEMA}.topics SET next_offset = next_offset + 1 WHERE topic = $1 RETURNING next_offset`, [topic]);
        await client.query(`INSERT INTO ${BUS_SCHEMA}.log (topic, "offset", key, envelope, appended_at) VALUES ($1, $2, 'garbage', $3::jsonb, clock_timestamp())`, [
          topic,
          (BigInt(rows[0].next_offset) - 1n).toString(),
          json,
        ]);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      return { code: MessagingErrorCodes.invalidEnvelope, bytes: Buffer.from(json) };
    },
    async readTopic(pool, topic) {
      const { rows } = await pool.query<{ envelope: unknown }>(`SELECT envelope FROM ${BUS_SCHEMA}.log WHERE topic = $1 ORDER BY "offset"`, [topic]);
      return rows.map((r) => r.envelope);
    },
    async rewind(pool, group, topic) {
      await pool.query(`DELETE FROM ${BUS_SCHEMA}.consumer_offsets WHERE group_id = $1 AND topic = $2`, [group, topic]);
    },
    childEnv: (databaseUrl) => ({ CHILD_TRANSPORT: 'postgres', CHILD_DATABASE_URL: databaseUrl }),
  };
}
