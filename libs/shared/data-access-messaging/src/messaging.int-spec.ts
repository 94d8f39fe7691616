// The outbox, relay and idempotent consumer against real PostgreSQL and a real
// transport, once per transport: the same test bodies for Kafka and for the
// embedded PostgreSQL log.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { deadLetterTopicOf, type EventEnvelope, envelopeSchema } from '@alliance/contracts';
import { withTransaction } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  applyEffect,
  collectingLogger,
  effectCounts,
  envelopeOf,
  type Item,
  itemTopic,
  kafkaFixture,
  openDatabase,
  postgresFixture,
  SCHEMA,
  type TestDb,
  type TransportFixture,
  waitFor,
} from '../test/support';
import { deadLetterPayloadSchema } from './codec';
import { type Consumer, type ConsumerOutcome, startConsumer } from './consumer';
import { MessagingErrorCodes } from './errors';
import { MAX_EVENT_BYTES, Outbox, OutboxRelay } from './outbox';
import { uniqueTopicName } from '@alliance/shared/testing';
import { z } from 'zod';
import type { LogEntry, Transport } from './ports';

const REPO_ROOT = resolve(__dirname, '../../../..');
const CHILD = join(__dirname, '../test/consumer-child.ts');
const FAST_RETRY = { initialMs: 20, maxMs: 200 };

const fixtures: Record<'kafka' | 'postgres', () => TransportFixture> = {
  kafka: () => kafkaFixture(inject('kafkaBrokers')),
  postgres: () => postgresFixture(),
};

describe.each(['kafka', 'postgres'] as const)('messaging over %s', (kind) => {
  let fixture: TransportFixture;
  let db: TestDb;
  let transport: Transport;
  let logs: LogEntry[];
  const cleanups: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    fixture = fixtures[kind]();
    db = await openDatabase(inject('databaseUrl'), `messaging_${kind}`);
    const collected = collectingLogger();
    logs = collected.lines;
    transport = fixture.create(db.pool, collected.logger);
  });

  afterEach(async (context) => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await transport.close();
    await db.close();
    if (context.task.result?.state === 'fail') {
      console.error(`[${kind}] transport log:\n${logs.map((l) => `${l.level} ${l.message} ${JSON.stringify(l.context ?? {})}`).join('\n')}`);
    }
  });

  async function consume(group: string, topic: ReturnType<typeof itemTopic>, outcomes: ConsumerOutcome[], appliedBy: string, maxAttempts = 5): Promise<Consumer> {
    const consumer = await startConsumer({
      transport,
      pool: db.pool,
      schema: SCHEMA,
      group,
      topics: [topic],
      maxAttempts,
      backoff: FAST_RETRY,
      handler: (event, client) => applyEffect(client, event, appliedBy),
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    cleanups.push(() => consumer.close());
    return consumer;
  }

  it('a. relays committed outbox rows (never rolled-back ones) and applies each event exactly once, also when redelivered', async () => {
    const topic = itemTopic();
    const group = `group-a-${randomUUID()}`;
    await transport.ensureTopics([topic.name]);
    const outbox = new Outbox({ schema: SCHEMA, producer: 'test' });

    // 12 events in 6 transactions over 3 keys.
    const enqueued: EventEnvelope<Item>[] = [];
    for (let t = 0; t < 6; t += 1) {
      await withTransaction(db.pool, async (client) => {
        for (let i = 0; i < 2; i += 1) {
          const seq = t * 2 + i;
          const key = `k${seq % 3}`;
          enqueued.push(await outbox.enqueue(client, topic, { key, seq, n: seq }, { key, correlationId: `c-${seq}` }));
        }
      });
    }
    let rolledBack: EventEnvelope<Item> | undefined;
    await expect(
      withTransaction(db.pool, async (client) => {
        rolledBack = await outbox.enqueue(client, topic, { key: 'k0', seq: 999, n: 999 }, { key: 'k0', correlationId: 'rolled-back' });
        throw new Error('the business change failed');
      }),
    ).rejects.toThrow('the business change failed');
    expect(rolledBack).toBeDefined();

    // Polling only every minute: within this test, only NOTIFY can wake a relay.
    const relay = new OutboxRelay({ pool: db.pool, schema: SCHEMA, transport, batchSize: 5, pollIntervalMs: 60_000 });
    expect(await relay.pending()).toBe(12);
    // Two replicas of the service, each with its relay: batches must still leave in outbox order.
    const replica = new OutboxRelay({ pool: db.pool, schema: SCHEMA, transport, batchSize: 5, pollIntervalMs: 60_000 });
    relay.start();
    replica.start();
    cleanups.push(() => relay.stop(), () => replica.stop());

    const outcomes: ConsumerOutcome[] = [];
    const consumer = await consume(group, topic, outcomes, 'first');
    await waitFor('12 effects', () => effectCounts(db.pool), (c) => c.total >= 12);
    await waitFor('an empty outbox', () => relay.pending(), (n) => n === 0);

    // Enqueued while both relays sleep: relayed at once because the commit notifies them.
    const late = await withTransaction(db.pool, (client) => outbox.enqueue(client, topic, { key: 'k1', seq: 12, n: 12 }, { key: 'k1', correlationId: 'c-12' }));
    enqueued.push(late);
    await waitFor('13 effects', () => effectCounts(db.pool), (c) => c.total >= 13);
    await new Promise((r) => setTimeout(r, 500)); // room for a late duplicate to show up
    expect(await effectCounts(db.pool)).toEqual({ total: 13, distinct: 13 });
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(13).fill('processed'));

    const { rows } = await db.pool.query<{ event_id: string; key: string; seq: number }>(`SELECT event_id, key, seq FROM ${SCHEMA}.effects ORDER BY id`);
    expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(enqueued.map((e) => e.eventId)));
    expect(rows.map((r) => r.event_id)).not.toContain(rolledBack?.eventId);
    for (const key of ['k0', 'k1', 'k2']) {
      const seqs = rows.filter((r) => r.key === key).map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // On the wire: exactly the committed envelopes, in outbox order, nothing else.
    expect(await fixture.readTopic(db.pool, topic.name)).toEqual(enqueued);
    const published = await db.pool.query<{ count: string }>(`SELECT count(*) AS count FROM ${SCHEMA}.outbox WHERE published_at IS NOT NULL`);
    expect(Number(published.rows[0].count)).toBe(13);

    // Redelivery of everything (the group's position rewound): all duplicates, no new effect.
    await consumer.close();
    await fixture.rewind(db.pool, group, topic.name);
    const again: ConsumerOutcome[] = [];
    await consume(group, topic, again, 'second');
    await waitFor('13 redeliveries', async () => again.length, (n) => n >= 13);
    expect(again.map((o) => o.outcome)).toEqual(Array(13).fill('duplicate'));
    expect(await effectCounts(db.pool)).toEqual({ total: 13, distinct: 13 });
  });

  it('b. a consumer killed (SIGKILL) mid-batch loses nothing: a new member of the group applies the rest, each event once', async () => {
    const topic = itemTopic();
    const group = `group-b-${randomUUID()}`;
    await transport.ensureTopics([topic.name, deadLetterTopicOf(topic.name)]);
    const events = Array.from({ length: 20 }, (_, seq) => envelopeOf(topic.name, { key: 'only', seq, n: seq }, 'only', randomUUID()));
    await transport.publish(events);

    const crashAt = 8;
    const child = spawn(process.execPath, ['-r', '@swc-node/register', CHILD], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...fixture.childEnv(db.url), CHILD_TOPIC: topic.name, CHILD_GROUP: group, CHILD_CRASH_AT: String(crashAt) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    clearTimeout(watchdog);
    const lines = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { batch?: number; crashingAt?: string });
    expect({ exit, crashed: lines.some((l) => l.crashingAt !== undefined), stderr }).toEqual({ exit: { code: null, signal: 'SIGKILL' }, crashed: true, stderr: '' });
    // The kill landed inside a batch that still had records to go.
    expect(Math.max(...lines.map((l) => l.batch ?? 0))).toBeGreaterThan(crashAt);
    expect(lines.find((l) => l.crashingAt !== undefined)?.crashingAt).toBe(String(crashAt - 1));
    // Record 8's transaction committed before its offset: 8 effects, offset at 7.
    expect(await effectCounts(db.pool)).toEqual({ total: crashAt, distinct: crashAt });

    const outcomes: ConsumerOutcome[] = [];
    await consume(group, topic, outcomes, 'survivor');
    await waitFor('20 effects', () => effectCounts(db.pool), (c) => c.total >= 20, 90_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await effectCounts(db.pool)).toEqual({ total: 20, distinct: 20 });
    // Only the record whose offset commit the kill prevented came back, and it was recognised.
    expect(outcomes.filter((o) => o.outcome === 'duplicate').map((o) => o.offset)).toEqual([String(crashAt - 1)]);
    expect(outcomes.filter((o) => o.outcome === 'processed')).toHaveLength(20 - crashAt);
    const { rows } = await db.pool.query<{ applied_by: string; count: string }>(`SELECT applied_by, count(*) AS count FROM ${SCHEMA}.effects GROUP BY applied_by ORDER BY applied_by`);
    expect(rows.map((r) => [r.applied_by, Number(r.count)])).toEqual([
      ['child', crashAt],
      ['survivor', 20 - crashAt],
    ]);
  });

  it('c. poison goes to the dead-letter topic with its error code, once, and the records after it are still processed', async () => {
    const topic = itemTopic();
    const dlq = deadLetterTopicOf(topic.name);
    const group = `group-c-${randomUUID()}`;
    await transport.ensureTopics([topic.name, dlq]);
    const good = (seq: number, n = seq) => envelopeOf(topic.name, { key: 'p', seq, n }, 'p', randomUUID());

    const first = good(0);
    await transport.publish([first]); // offset 0
    const garbage = await fixture.injectGarbage(db.pool, topic.name); // offset 1
    const badPayload = envelopeOf(topic.name, { key: 'p', seq: 'one' }, 'p', randomUUID());
    const rejected = good(2, -1); // the handler refuses it as invalid
    const flaky = good(3, 42); // fails twice, then succeeds
    const broken = good(4, 99); // fails every time
    const last = good(5);
    await transport.publish([good(1), badPayload, rejected, flaky, broken, last]); // offsets 2..7

    const outcomes: ConsumerOutcome[] = [];
    const handlerCalls: string[] = [];
    const start = () =>
      startConsumer({
        transport,
        pool: db.pool,
        schema: SCHEMA,
        group,
        topics: [topic],
        maxAttempts: 3,
        backoff: FAST_RETRY,
        onOutcome: (outcome) => outcomes.push(outcome),
        handler: async (event, client, context) => {
          handlerCalls.push(`${event.payload.seq}@${context.attempt}`);
          if (event.payload.n === -1) throw new AllianceError('TEST.REJECTED', 'invalid', 'n must not be negative');
          if (event.payload.n === 42 && context.attempt < 3) throw new Error('transient hiccup');
          if (event.payload.n === 99) throw new Error('flaky dependency keeps failing');
          await applyEffect(client, event, 'c');
        },
      });
    const consumer = await start();
    cleanups.push(() => consumer.close());
    await waitFor('8 settled records', async () => outcomes.length, (n) => n >= 8);

    expect(outcomes.map((o) => [o.offset, o.outcome, o.attempts, o.error?.code])).toEqual([
      ['0', 'processed', 1, undefined],
      ['1', 'dead-lettered', 0, garbage.code],
      ['2', 'processed', 1, undefined],
      ['3', 'dead-lettered', 0, MessagingErrorCodes.invalidPayload],
      ['4', 'dead-lettered', 1, 'TEST.REJECTED'],
      ['5', 'processed', 3, undefined],
      ['6', 'dead-lettered', 3, MessagingErrorCodes.retriesExhausted],
      ['7', 'processed', 1, undefined],
    ]);
    expect(handlerCalls).toEqual(['0@1', '1@1', '2@1', '3@1', '3@2', '3@3', '4@1', '4@2', '4@3', '5@1']);
    const { rows } = await db.pool.query<{ seq: number }>(`SELECT seq FROM ${SCHEMA}.effects ORDER BY id`);
    expect(rows.map((r) => r.seq)).toEqual([0, 1, 3, 5]);

    const dead = (await fixture.readTopic(db.pool, dlq)).map((value) => envelopeSchema.parse(value));
    expect(dead).toHaveLength(4);
    const payloads = dead.map((e) => deadLetterPayloadSchema.parse(e.payload));
    for (const e of dead) expect(e.topic).toBe(dlq);
    expect(payloads.map((p) => [p.originalOffset, p.error.code, p.attempts, p.group, p.originalTopic])).toEqual([
      ['1', garbage.code, 0, group, topic.name],
      ['3', MessagingErrorCodes.invalidPayload, 0, group, topic.name],
      ['4', 'TEST.REJECTED', 1, group, topic.name],
      ['6', MessagingErrorCodes.retriesExhausted, 3, group, topic.name],
    ]);
    // The garbage travels byte for byte; the rest with their envelope and lineage.
    expect(Buffer.from(payloads[0].originalValue ?? '', 'base64')).toEqual(garbage.bytes);
    expect(payloads[0].originalEventId).toBeNull();
    expect(payloads[1].originalEnvelope).toEqual(badPayload);
    expect(payloads[1].error.message).toMatch(/seq/);
    expect(dead[1].causationId).toBe(badPayload.eventId);
    expect(dead[1].correlationId).toBe(badPayload.correlationId);
    expect(payloads[2].originalEventId).toBe(rejected.eventId);
    expect(payloads[3].error.message).toMatch(/flaky dependency keeps failing/);

    // Everything redelivered: nothing applied or dead-lettered a second time.
    await consumer.close();
    await fixture.rewind(db.pool, group, topic.name);
    outcomes.length = 0;
    const again = await start();
    cleanups.push(() => again.close());
    await waitFor('8 redeliveries', async () => outcomes.length, (n) => n >= 8);
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(8).fill('duplicate'));
    expect(await fixture.readTopic(db.pool, dlq)).toHaveLength(4);
    expect(await effectCounts(db.pool)).toEqual({ total: 4, distinct: 4 });
  });

  it('d. a backlog of large events (20 × 1 MiB) is published in byte-bounded batches; an event over the limit is refused at enqueue', async () => {
    const topic = { name: uniqueTopicName('test.blob.created.v1'), payload: z.object({ i: z.number().int(), blob: z.string() }), description: 'large test events' };
    await transport.ensureTopics([topic.name]);
    const outbox = new Outbox({ schema: SCHEMA, producer: 'test' });
    const enqueued: EventEnvelope[] = [];
    for (let i = 0; i < 20; i += 1) {
      enqueued.push(await withTransaction(db.pool, (client) => outbox.enqueue(client, topic, { i, blob: String(i % 10).repeat(1024 * 1024) }, { key: 'k', correlationId: `big-${i}` })));
    }
    await expect(withTransaction(db.pool, (client) => outbox.enqueue(client, topic, { i: 99, blob: 'x'.repeat(MAX_EVENT_BYTES) }, { key: 'k', correlationId: 'too-big' }))).rejects.toMatchObject({
      code: MessagingErrorCodes.eventTooLarge,
    });
    // Default batch size (100 rows): one publish of everything would be a 20 MiB record batch.
    const relay = new OutboxRelay({ pool: db.pool, schema: SCHEMA, transport, pollIntervalMs: 60_000 });
    relay.start();
    cleanups.push(() => relay.stop());
    await waitFor('an empty outbox', () => relay.pending(), (n) => n === 0, 60_000);
    const read = (await fixture.readTopic(db.pool, topic.name)) as EventEnvelope[];
    expect(read.map((e) => e.eventId)).toEqual(enqueued.map((e) => e.eventId));
    expect(read.every((e, i) => (e.payload as { blob: string }).blob.length === 1024 * 1024 && (e.payload as { i: number }).i === i)).toBe(true);
  }, 120_000);

  it('graceful stop: the relay finishes its in-flight batch, the consumer its in-flight record (committed, not redelivered)', async () => {
    const topic = itemTopic();
    const group = `group-stop-${randomUUID()}`;
    await transport.ensureTopics([topic.name]);
    const outbox = new Outbox({ schema: SCHEMA, producer: 'test' });
    await withTransaction(db.pool, async (client) => {
      for (let seq = 0; seq < 3; seq += 1) await outbox.enqueue(client, topic, { key: 's', seq, n: seq }, { key: 's', correlationId: `c-${seq}` });
    });

    // The real transport, with a publish slow enough to stop the relay in the middle of it.
    let publishing!: () => void;
    const publishStarted = new Promise<void>((done) => (publishing = done));
    const slow: Transport = {
      kind: transport.kind,
      publish: async (records) => {
        publishing();
        await new Promise((r) => setTimeout(r, 700));
        await transport.publish(records);
      },
      subscribe: (options) => transport.subscribe(options),
      ensureTopics: (names) => transport.ensureTopics(names),
      ping: () => transport.ping(),
      close: () => transport.close(),
    };
    const relay = new OutboxRelay({ pool: db.pool, schema: SCHEMA, transport: slow, pollIntervalMs: 100 });
    relay.start();
    await publishStarted;
    const stopping = Date.now();
    await relay.stop();
    expect(Date.now() - stopping).toBeGreaterThanOrEqual(500);
    expect(relay.running).toBe(false);
    expect(await relay.pending()).toBe(0);
    expect(await fixture.readTopic(db.pool, topic.name)).toHaveLength(3);

    let entered!: () => void;
    const inHandler = new Promise<void>((done) => (entered = done));
    let release!: () => void;
    const gate = new Promise<void>((done) => (release = done));
    const outcomes: ConsumerOutcome[] = [];
    const consumer = await startConsumer({
      transport,
      pool: db.pool,
      schema: SCHEMA,
      group,
      topics: [topic],
      onOutcome: (outcome) => outcomes.push(outcome),
      handler: async (event, client) => {
        await applyEffect(client, event, 'before-close');
        if (event.payload.seq === 0) {
          entered();
          await gate;
        }
      },
    });
    await inHandler;
    const closing = consumer.close();
    await new Promise((r) => setTimeout(r, 300));
    release();
    await closing;
    expect(outcomes.map((o) => [o.offset, o.outcome])).toEqual([['0', 'processed']]);
    expect(await effectCounts(db.pool)).toEqual({ total: 1, distinct: 1 });

    // The next member starts after the record that was in flight: it was committed, not abandoned.
    const next: ConsumerOutcome[] = [];
    await consume(group, topic, next, 'after-close');
    await waitFor('2 more records', async () => next.length, (n) => n >= 2);
    expect(next.map((o) => [o.offset, o.outcome])).toEqual([
      ['1', 'processed'],
      ['2', 'processed'],
    ]);
    expect(await effectCounts(db.pool)).toEqual({ total: 3, distinct: 3 });
  });
});
