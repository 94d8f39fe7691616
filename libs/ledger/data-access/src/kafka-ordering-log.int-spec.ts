// The Kafka ordering log against a real broker (the harness's): topic settings,
// LogAppendTime, positions owned by the reader, rebalances, and three
// organizations cutting identical blocks from one topic.
import { randomBytes } from 'node:crypto';
import { isLogTimestamp, type OrderedRecord, orderingTopicOf } from '@alliance/ledger/domain';
import { MAX_ENVELOPE_BYTES } from '@alliance/protocol';
import { createTopic, readAll } from '@alliance/shared/testing';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectInOrder, fingerprint, readRecords, referenceBlocks, runConsortium, transaction, waitFor } from '../test/ordering-scenarios';
import { KafkaOrderingLog, type KafkaOrderingLogOptions, KIND_HEADER } from './kafka-ordering-log';

const newChainId = (): string => `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

describe('KafkaOrderingLog', () => {
  let brokers: string[];
  let admin: ReturnType<Kafka['admin']>;
  const logs: KafkaOrderingLog[] = [];
  const open = (chainId: string, organizationId: string, options: Partial<KafkaOrderingLogOptions> = {}): KafkaOrderingLog => {
    const log = new KafkaOrderingLog({ brokers, chainId, organizationId, sessionTimeoutMs: 6_000, ...options });
    logs.push(log);
    return log;
  };

  beforeAll(async () => {
    brokers = inject('kafkaBrokers');
    admin = new Kafka({ clientId: 'ledger-ordering-test', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.allSettled(logs.map((log) => log.close()));
    await admin?.disconnect();
  });

  it('creates one single-partition topic per chain with the settings that protect the chain', async () => {
    const chainId = newChainId();
    const log = open(chainId, 'org1');
    expect(log.topic).toBe(`ledger.${chainId}.ordering.v1`);
    expect(log.group).toBe(`ledger.${chainId}.org1`);
    await log.ensureTopic();
    await log.ensureTopic(); // idempotent, also from a second node
    await open(chainId, 'org2').ensureTopic();
    const { topics } = await admin.fetchTopicMetadata({ topics: [log.topic] });
    expect(topics[0].partitions).toHaveLength(1);
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: log.topic }], includeSynonyms: false });
    const config = Object.fromEntries(described.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
    expect(config).toMatchObject({
      'message.timestamp.type': 'LogAppendTime',
      'retention.ms': '-1',
      'retention.bytes': '-1',
      'cleanup.policy': 'delete',
      'unclean.leader.election.enable': 'false',
      'min.insync.replicas': '1',
      'max.message.bytes': String(2 * MAX_ENVELOPE_BYTES),
    });
  });

  it('carries a record of the largest envelope the protocol allows (more than the broker default of 1 MiB)', async () => {
    const log = open(newChainId(), 'org1');
    const largest = new Uint8Array(MAX_ENVELOPE_BYTES).fill(0x61);
    const [offset] = await log.append([{ kind: 'transaction', bytes: largest }]);
    const [record] = await readRecords(log, offset, 1);
    expect(record.bytes.length).toBe(MAX_ENVELOPE_BYTES);
    expect(record.bytes.every((b) => b === 0x61)).toBe(true);
  });

  it('refuses an existing topic whose settings would let history change (CreateTime timestamps, retention)', async () => {
    const chainId = newChainId();
    await createTopic(brokers, orderingTopicOf(chainId)); // broker defaults: CreateTime
    const log = open(chainId, 'org1');
    await expect(log.append([transaction(1, 1, 10)])).rejects.toMatchObject({ code: 'LEDGER.ORDERING_TOPIC_MISCONFIGURED', message: expect.stringContaining('message.timestamp.type=CreateTime') });
    await expect(log.read({ fromOffset: 0, handle: async () => undefined })).rejects.toMatchObject({ code: 'LEDGER.ORDERING_TOPIC_MISCONFIGURED' });
  });

  it('appends in order (coalescing concurrent callers), reports offsets, and delivers kinds and bytes intact from any offset', async () => {
    const log = open(newChainId(), 'org1');
    expect(await log.append([transaction(0, 0, 30), { kind: 'time-to-cut', bytes: new Uint8Array([1, 2]) }, { kind: 'header-signature', bytes: new Uint8Array() }])).toEqual([0, 1, 2]);
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => log.append(Array.from({ length: 1 + (i % 4) }, (_, j) => transaction(i, j, 50)))));
    for (const offsets of results) expect(offsets).toEqual(offsets.map((_, j) => offsets[0] + j));
    const total = 3 + results.flat().length;
    expect(results.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: total - 3 }, (_, i) => i + 3));
    // Larger than one produce request: split into several, still in order.
    const big = Array.from({ length: 30 }, (_, j) => transaction(99, j, 40_000));
    const bigOffsets = await open(log.chainId, 'org1', { maxRequestBytes: 100_000 }).append(big);
    expect(bigOffsets).toEqual(bigOffsets.map((_, j) => total + j));

    const reader = open(log.chainId, 'org2');
    const all = await readRecords(reader, 0, total + big.length);
    expect(all.slice(0, 3).map((r) => [r.kind, [...r.bytes].length])).toEqual([
      ['transaction', 30],
      ['time-to-cut', 2],
      ['header-signature', 0],
    ]);
    expect(Buffer.from(all[total + 7].bytes).equals(Buffer.from(big[7].bytes))).toBe(true);
    for (const record of all) expect(isLogTimestamp(record.timestamp)).toBe(true);
    expect((await readRecords(reader, total - 2, 5)).map((r) => r.offset)).toEqual([total - 2, total - 1, total, total + 1, total + 2]);
  });

  it('reports the broker\'s LogAppendTime, not the timestamp a producer put on the record', async () => {
    const log = open(newChainId(), 'org1');
    await log.ensureTopic();
    const producer = new Kafka({ clientId: 'ledger-ordering-test-producer', brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const before = Date.now();
    try {
      const past = String(Date.UTC(2001, 0, 1));
      await producer.send({ topic: log.topic, acks: -1, messages: [{ partition: 0, value: Buffer.from('old'), timestamp: past, headers: { [KIND_HEADER]: 'transaction' } }] });
    } finally {
      await producer.disconnect();
    }
    await log.append([transaction(1, 1, 10)]);
    const after = Date.now();
    const records = await readRecords(open(log.chainId, 'org2'), 0, 2);
    for (const record of records) {
      const ms = Date.parse(record.timestamp);
      expect(ms).toBeGreaterThanOrEqual(before - 1_000);
      expect(ms).toBeLessThanOrEqual(after + 1_000);
    }
    // The raw record agrees: the broker overwrote the producer's 2001 timestamp.
    const raw = await readAll(brokers, log.topic);
    expect(Number(raw[0].timestamp)).toBe(Date.parse(records[0].timestamp));
  });

  it('reads from the caller\'s offset whatever the group committed, and refuses offsets outside the log', async () => {
    const chainId = newChainId();
    const log = open(chainId, 'org1');
    await log.append(Array.from({ length: 10 }, (_, i) => transaction(1, i, 20)));
    await readRecords(log, 0, 10); // the group has committed offset 10 now
    const offsets = await admin.fetchOffsets({ groupId: log.group, topics: [log.topic] });
    expect(offsets[0].partitions[0].offset).toBe('10');
    // Behind the committed offset (a node whose database is older than Kafka's view): from 3, not 10.
    expect((await readRecords(open(chainId, 'org1'), 3, 7)).map((r) => r.offset)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    await expect(open(chainId, 'org1').read({ fromOffset: 11, handle: async () => undefined })).rejects.toMatchObject({ code: 'LEDGER.ORDERING_OFFSET_OUT_OF_RANGE' });
  });

  it('delivers a batch its handler refused again, from the same offset', async () => {
    const log = open(newChainId(), 'org1');
    await log.append(Array.from({ length: 5 }, (_, i) => transaction(1, i, 20)));
    const seen: number[][] = [];
    let refusals = 2;
    const reader = await log.read({
      fromOffset: 1,
      handle: async (batch) => {
        seen.push(batch.map((r) => r.offset));
        if (refusals-- > 0) throw new Error('database busy');
      },
    });
    await waitFor('a third delivery', () => seen.length >= 3, 30_000);
    await reader.close();
    expect(seen.slice(0, 3)).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ]);
  });

  it('keeps each member\'s position through a rebalance: no skips, no repeats when the partition moves', async () => {
    const chainId = newChainId();
    const writer = open(chainId, 'writer');
    await writer.append(Array.from({ length: 200 }, (_, i) => transaction(1, i, 20)));
    const first: OrderedRecord[] = [];
    const second: OrderedRecord[] = [];
    const slow = async (into: OrderedRecord[], batch: readonly OrderedRecord[]) => {
      into.push(...batch);
      await new Promise((resolve) => setTimeout(resolve, 20));
    };
    const a = await open(chainId, 'shared', { maxBatchRecords: 10 }).read({ fromOffset: 0, handle: (batch) => slow(first, batch) });
    await waitFor('member A to start', () => first.length > 0);
    // A second member of the same group from another position: the group rebalances.
    const b = await open(chainId, 'shared', { maxBatchRecords: 10 }).read({ fromOffset: 150, handle: (batch) => slow(second, batch) });
    await writer.append(Array.from({ length: 50 }, (_, i) => transaction(2, i, 20)));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await a.close(); // the partition moves to B (if it had not already)
    await waitFor('member B to reach the end', () => second.at(-1)?.offset === 249, 30_000);
    await b.close();
    expectInOrder(first, 0);
    expectInOrder(second, 150);
  });

  it('three organizations cut identical blocks from concurrent appends with their own timers, across a restart', async () => {
    const chainId = newChainId();
    await open(chainId, 'setup').ensureTopic();
    const result = await runConsortium(async (org) => open(chainId, org), { rounds: 40, batchTimeoutMs: 150, timeoutMs: 60_000 });
    const [first, ...others] = result.nodes;
    expect(first.blocks.length).toBeGreaterThan(10);
    for (const node of others) expect(fingerprint(node.blocks)).toBe(fingerprint(first.blocks));
    expect(result.nodes[1].restarts).toBe(1);
    expect(result.resumedFrom.nextBlockNumber).toBeGreaterThan(1);
    expect(result.resumedFrom.nextBlockNumber).toBeLessThan(first.blocks.length);
    const reasons = new Set(first.blocks.map((b) => b.reason));
    for (const reason of ['max-transactions', 'time-to-cut', 'config-transaction'] as const) expect(reasons).toContain(reason);
    const reference = await referenceBlocks(open(chainId, 'reference'), first.blocks.length);
    expect(fingerprint(reference)).toBe(fingerprint(first.blocks));
    console.info(`[kafka] ${result.transactions} transactions → ${first.blocks.length} identical blocks on 3 nodes in ${result.elapsedMs} ms`);
  });
});
