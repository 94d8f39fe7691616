// The solo ordering log against a real PostgreSQL: the same semantics as Kafka's,
// and the same blocks cut from it by every organization's node.
import { isLogTimestamp, type OrderedRecord, type OrderingLog } from '@alliance/ledger/domain';
import { createPool, type Pool } from '@alliance/shared/data-access-postgres';
import { createTestDatabase, type TestDatabase } from '@alliance/shared/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectInOrder, fingerprint, readRecords, referenceBlocks, runConsortium, transaction, waitFor } from '../test/ordering-scenarios';
import { ORDERING_SCHEMA } from './migrations';
import { PostgresOrderingLog } from './postgres-ordering-log';

describe('PostgresOrderingLog (solo ordering)', () => {
  let database: TestDatabase;
  let pool: Pool;
  const logs: OrderingLog[] = [];
  const open = (chainId: string, options: { pollIntervalMs?: number; batchSize?: number; pool?: Pool } = {}): PostgresOrderingLog => {
    const log = new PostgresOrderingLog({ pool: options.pool ?? pool, chainId, pollIntervalMs: options.pollIntervalMs ?? 1_000, batchSize: options.batchSize });
    logs.push(log);
    return log;
  };

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'ledger_ordering');
    pool = createPool(database.url, { applicationName: 'ledger-ordering-test', max: 20 });
  });

  afterAll(async () => {
    await Promise.allSettled(logs.map((log) => log.close()));
    await pool?.end().catch(() => undefined);
    await database?.drop();
  });

  it('migrates on first use, numbers each chain from 0 without gaps, and delivers from any offset in order', async () => {
    const a = open('chain-a');
    const b = open('chain-b');
    expect(await a.append([transaction(1, 1, 10), { kind: 'time-to-cut', bytes: new Uint8Array([1]) }])).toEqual([0, 1]);
    expect(await b.append([transaction(2, 1, 10)])).toEqual([0]);
    expect(await a.append([{ kind: 'header-signature', bytes: new Uint8Array([2, 3]) }, { kind: 'transaction', bytes: new Uint8Array() }])).toEqual([2, 3]);
    expect(await a.append([])).toEqual([]);

    const all = await readRecords(a, 0, 4);
    expect(all.map((r) => r.kind)).toEqual(['transaction', 'time-to-cut', 'header-signature', 'transaction']);
    expect(all[2].bytes).toEqual(new Uint8Array([2, 3]));
    expect(all[3].bytes).toEqual(new Uint8Array());
    for (const record of all) expect(isLogTimestamp(record.timestamp)).toBe(true);
    expect((await readRecords(a, 2, 2)).map((r) => r.offset)).toEqual([2, 3]);
    expect((await readRecords(b, 0, 1))[0].offset).toBe(0);
    const { rows } = await pool.query<{ version: string }>(`SELECT version FROM ${ORDERING_SCHEMA}.schema_migrations`);
    expect(rows.map((r) => r.version)).toEqual(['20261126000000']);
  });

  it('gives concurrent appends gap-free offsets, contiguous per append, stamped by the database clock', async () => {
    const log = open('chain-concurrent');
    const before = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(Array.from({ length: 50 }, (_, j) => transaction(i, j, 40)))));
    const after = Date.now();
    for (const offsets of results) expect(offsets).toEqual(offsets.map((_, j) => offsets[0] + j));
    expect(results.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    const records = await readRecords(log, 0, 1_000);
    const times = records.map((r) => Date.parse(r.timestamp));
    // The log's clock never goes backwards, and one append shares one timestamp (like a Kafka record batch).
    for (let i = 1; i < times.length; i += 1) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
    for (const offsets of results) expect(new Set(offsets.map((o) => records[o].timestamp)).size).toBe(1);
    // Same machine: the database's clock agrees with ours to within a second.
    expect(times[0]).toBeGreaterThanOrEqual(before - 1_000);
    expect(times.at(-1)!).toBeLessThanOrEqual(after + 1_000);
  });

  it('refuses to read from an offset beyond the log, and refuses rewriting history', async () => {
    const log = open('chain-short');
    await log.append([transaction(1, 1, 5), transaction(1, 2, 5)]);
    await expect(log.read({ fromOffset: 3, handle: async () => undefined })).rejects.toMatchObject({ code: 'LEDGER.ORDERING_OFFSET_OUT_OF_RANGE' });
    const atEnd = await log.read({ fromOffset: 2, handle: async () => undefined });
    await atEnd.close();
    await expect(pool.query(`UPDATE ${ORDERING_SCHEMA}.log SET bytes = '\\x00' WHERE chain_id = 'chain-short'`)).rejects.toMatchObject({ code: '55000' });
    await expect(pool.query(`DELETE FROM ${ORDERING_SCHEMA}.log WHERE chain_id = 'chain-short'`)).rejects.toMatchObject({ code: '55000' });
  });

  it('delivers a refused batch again, then moves on', async () => {
    const log = open('chain-refused');
    await log.append([transaction(1, 1, 5), transaction(1, 2, 5), transaction(1, 3, 5)]);
    const seen: number[][] = [];
    let refusals = 1;
    const reader = await log.read({
      fromOffset: 0,
      handle: async (batch) => {
        seen.push(batch.map((r) => r.offset));
        if (refusals-- > 0) throw new Error('not now');
      },
    });
    await waitFor('the second delivery', () => seen.length >= 2);
    await log.append([transaction(1, 4, 5)]);
    await waitFor('offset 3', () => seen.flat().includes(3));
    await reader.close();
    expect(seen.slice(0, 2)).toEqual([
      [0, 1, 2],
      [0, 1, 2],
    ]);
    expect(seen.slice(1).flat()).toEqual([0, 1, 2, 3]);
  });

  it('a reader that loses its connection reconnects and continues without gaps or repeats', async () => {
    const readerPool = createPool(database.url, { applicationName: 'ledger-ordering-reader', max: 4 });
    try {
      const writer = open('chain-reconnect');
      const reading = open('chain-reconnect', { pool: readerPool, pollIntervalMs: 200 });
      const records: OrderedRecord[] = [];
      await writer.append(Array.from({ length: 10 }, (_, i) => transaction(1, i, 20)));
      const reader = await reading.read({ fromOffset: 3, handle: async (batch) => void records.push(...batch) });
      await waitFor('the first records', () => records.length === 7);
      const killed = await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ledger-ordering-reader' AND pid <> pg_backend_pid()`);
      expect(killed.rowCount).toBeGreaterThan(0);
      await writer.append(Array.from({ length: 10 }, (_, i) => transaction(2, i, 20)));
      await waitFor('the records appended after the disconnect', () => records.length === 17, 20_000);
      await reader.close();
      expectInOrder(records, 3);
    } finally {
      await readerPool.end();
    }
  });

  it('three organizations cut identical blocks from concurrent appends with their own timers, across a restart', async () => {
    const result = await runConsortium(async () => open('chain-consortium', { pollIntervalMs: 500 }), { rounds: 40, batchTimeoutMs: 150 });
    const [first, ...others] = result.nodes;
    expect(first.blocks.length).toBeGreaterThan(10);
    for (const node of others) expect(fingerprint(node.blocks)).toBe(fingerprint(first.blocks));
    // Organization 2's node was restarted with work left: it resumed mid-stream and still agrees.
    expect(result.nodes[1].restarts).toBe(1);
    expect(result.resumedFrom.nextBlockNumber).toBeGreaterThan(1);
    expect(result.resumedFrom.nextBlockNumber).toBeLessThan(first.blocks.length);
    // Every cut reason occurs, and the log's clock never goes backwards in block timestamps.
    const reasons = new Set(first.blocks.map((b) => b.reason));
    for (const reason of ['max-transactions', 'time-to-cut', 'config-transaction'] as const) expect(reasons).toContain(reason);
    for (let i = 1; i < first.blocks.length; i += 1) expect(first.blocks[i].timestamp >= first.blocks[i - 1].timestamp).toBe(true);
    // A node that never ran during the test, reading the log from 0, cuts the same.
    const reference = await referenceBlocks(open('chain-consortium'), first.blocks.length);
    expect(fingerprint(reference)).toBe(fingerprint(first.blocks));
    console.info(`[solo] ${result.transactions} transactions → ${first.blocks.length} identical blocks on 3 nodes in ${result.elapsedMs} ms`);
  });
});
