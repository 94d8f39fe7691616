// The broker goes away and comes back under a running node: appends fail while
// it is away, and afterwards every reader continues in order, without a gap or
// a repeat, and the node's blocks are those any node cuts from the log.
//
// It stops a broker, so it runs its own (privateKafka: kafka.sh on free ports,
// own data folder), never the broker other suites use.
import { randomBytes } from 'node:crypto';
import { type OrderedRecord } from '@alliance/ledger/domain';
import { privateKafka, type PrivateKafka } from '@alliance/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectInOrder, fingerprint, referenceBlocks, SimulatedNode, transaction, waitFor } from '../test/ordering-scenarios';
import { KafkaOrderingLog } from './kafka-ordering-log';

describe('KafkaOrderingLog: broker down and back', () => {
  let broker: PrivateKafka;
  const logs: KafkaOrderingLog[] = [];
  const chainId = `outage${randomBytes(3).toString('hex')}`;
  const open = (organizationId: string): KafkaOrderingLog => {
    const log = new KafkaOrderingLog({ brokers: broker.brokers, chainId, organizationId, sessionTimeoutMs: 6_000, connectionTimeoutMs: 1_000, requestTimeoutMs: 5_000 });
    logs.push(log);
    return log;
  };

  beforeAll(async () => {
    broker = await privateKafka('alliance-kafka-ledger-outage');
    await broker.kafkaSh('start');
  });

  afterAll(async () => {
    await Promise.allSettled(logs.map((log) => log.close()));
    await broker?.remove();
  });

  it('appends fail while the broker is away; then readers continue in order with nothing lost or repeated', async () => {
    const started = Date.now();
    const writer = open('writer');
    await writer.ensureTopic();
    const node = new SimulatedNode('org1', async (org) => open(org), 200);
    await node.start();
    const seen: OrderedRecord[] = [];
    const watcher = await open('org2').read({ fromOffset: 0, handle: async (batch) => void seen.push(...batch) });

    let seq = 0;
    const batch = (n: number) => Array.from({ length: n }, () => transaction(1, seq++, 100));
    for (let i = 0; i < 5; i += 1) await writer.append(batch(7));
    await waitFor('35 transactions committed before the outage', () => node.transactions === 35, 30_000);
    expect(await writer.ping()).toBe(true);

    await broker.kafkaSh('stop');
    expect(await writer.ping()).toBe(false);
    const failedAt = Date.now();
    await expect(writer.append(batch(3))).rejects.toMatchObject({ code: 'LEDGER.ORDERING_LOG_UNAVAILABLE' });
    const failedAfterMs = Date.now() - failedAt;
    seq -= 3; // nothing reached the log: the broker was down

    await broker.kafkaSh('start');
    await waitFor('the broker to answer', () => writer.ping(), 60_000, 500);
    // The first append after the restart may still meet stale connections: retry like a caller would.
    await waitFor('an append to succeed', () => writer.append(batch(5)).then(() => true, () => ((seq -= 5), false)), 60_000, 500);
    for (let i = 0; i < 4; i += 1) await writer.append(batch(5));
    const total = seq;
    await waitFor(`all ${total} transactions committed after the outage (have ${node.transactions})`, () => node.transactions === total, 90_000, 100);
    await waitFor('the watcher to see every record', async () => seen.length > 0 && seen.filter((r) => r.kind === 'transaction').length === total, 30_000);
    await watcher.close();
    await node.kill();

    expectInOrder(seen, 0);
    expect(seen.filter((r) => r.kind === 'transaction').map((r) => Buffer.from(r.bytes).toString('utf8', 0, 12).split(':')[1])).toEqual(
      Array.from({ length: total }, (_, i) => String(i)),
    );
    const reference = await referenceBlocks(open('reference'), node.blocks.length, 30_000);
    expect(fingerprint(node.blocks)).toBe(fingerprint(reference));
    console.info(`[kafka outage] append failed after ${failedAfterMs} ms; ${total} transactions, ${node.blocks.length} blocks; ${Date.now() - started} ms in all`);
  }, 240_000);
});
