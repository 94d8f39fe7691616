// The broker goes away and comes back while a service keeps running: the
// outbox holds the events, ping() reports the outage, and everything drains
// once the broker is back, with nothing lost or applied twice.
//
// It stops a broker, so it runs its own: the same deploy/kafka/kafka.sh on
// other ports with its own data directory (the jars are shared), leaving the
// broker other suites and other people use untouched.
import { randomUUID } from 'node:crypto';
import { withTransaction } from '@alliance/shared/data-access-postgres';
import { privateKafka, type PrivateKafka } from '@alliance/shared/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyEffect, collectingLogger, effectCounts, itemTopic, openDatabase, SCHEMA, type TestDb, waitFor } from '../test/support';
import { type ConsumerOutcome, startConsumer } from './consumer';
import { KafkaTransport } from './kafka-transport';
import { Outbox, OutboxRelay } from './outbox';

describe('Kafka broker down and back', () => {
  let broker: PrivateKafka;
  let db: TestDb;

  beforeAll(async () => {
    broker = await privateKafka('alliance-kafka-outage');
    await broker.kafkaSh('start');
    db = await openDatabase(inject('databaseUrl'), 'messaging_outage');
  });

  afterAll(async () => {
    await db?.close();
    await broker?.remove();
  });

  it('keeps events in the outbox while the broker is stopped and delivers each exactly once after it restarts', async () => {
    const started = Date.now();
    const { lines, logger } = collectingLogger();
    const transport = new KafkaTransport({ brokers: broker.brokers, clientId: 'outage-test', sessionTimeoutMs: 6_000, logger });
    const topic = itemTopic();
    const outbox = new Outbox({ schema: SCHEMA, producer: 'test' });
    const relay = new OutboxRelay({ pool: db.pool, schema: SCHEMA, transport, pollIntervalMs: 200, backoff: { initialMs: 200, maxMs: 2_000 } });
    const outcomes: ConsumerOutcome[] = [];
    const enqueue = (seq: number) =>
      withTransaction(db.pool, (client) => outbox.enqueue(client, topic, { key: `k${seq % 2}`, seq, n: seq }, { key: `k${seq % 2}`, correlationId: `c-${seq}` }));
    try {
      await transport.ensureTopics([topic.name]);
      relay.start();
      const consumer = await startConsumer({
        transport,
        pool: db.pool,
        schema: SCHEMA,
        group: `outage-${randomUUID()}`,
        topics: [topic],
        backoff: { initialMs: 100, maxMs: 1_000 },
        handler: (event, client) => applyEffect(client, event, 'outage'),
        onOutcome: (outcome) => outcomes.push(outcome),
      });

      for (let seq = 0; seq < 5; seq += 1) await enqueue(seq);
      await waitFor('5 effects before the outage', () => effectCounts(db.pool), (c) => c.total >= 5);
      expect(await transport.ping()).toBe(true);

      await broker.kafkaSh('stop');
      await waitFor('ping() to notice the outage', () => transport.ping(), (up) => !up, 10_000);

      for (let seq = 5; seq < 10; seq += 1) await enqueue(seq);
      // The relay tries, fails and keeps the rows: pending, with the failure recorded.
      await waitFor(
        'a failed relay attempt',
        async () => (await db.pool.query<{ attempts: number }>(`SELECT max(attempts) AS attempts FROM ${SCHEMA}.outbox`)).rows[0].attempts,
        (attempts) => attempts >= 1,
        60_000,
      );
      expect(await relay.pending()).toBe(5);
      expect(await effectCounts(db.pool)).toEqual({ total: 5, distinct: 5 });
      expect(await transport.ping()).toBe(false);

      await broker.kafkaSh('start');
      await waitFor('ping() to see the broker again', () => transport.ping(), (up) => up, 30_000);
      await waitFor('an empty outbox', () => relay.pending(), (n) => n === 0, 60_000);
      await waitFor('10 effects', () => effectCounts(db.pool), (c) => c.total >= 10, 60_000);
      await new Promise((r) => setTimeout(r, 500));

      expect(await effectCounts(db.pool)).toEqual({ total: 10, distinct: 10 });
      const { rows } = await db.pool.query<{ key: string; seq: number }>(`SELECT key, seq FROM ${SCHEMA}.effects ORDER BY id`);
      for (const key of ['k0', 'k1']) {
        const seqs = rows.filter((r) => r.key === key).map((r) => r.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
      expect(outcomes.filter((o) => o.outcome === 'processed')).toHaveLength(10);
      expect(lines.some((l) => l.level === 'error' || l.level === 'warn')).toBe(true); // the outage was logged, through our logger
      await consumer.close();
      expect(Date.now() - started).toBeLessThan(120_000);
    } finally {
      await relay.stop();
      await transport.close();
    }
  }, 150_000);
});
