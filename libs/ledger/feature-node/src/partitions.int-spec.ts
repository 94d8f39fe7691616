// The chain's tables partitioned by block range (apps/ledger/migrations/20261207090000_*; docs/ledger.md,
// Partitioning) on real PostgreSQL: a node with 3-block partitions, and a database of the old schema upgraded.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { canonicalBytes, formatTimestamp, sha256, toHex, transactionId, utf8 } from '@alliance/protocol';
import { anchorContract, ContractRegistry, genesisContract, type JsonValue } from '@alliance/ledger/domain';
import { PostgresOrderingLog } from '@alliance/ledger/data-access';
import { createPool, readMigrations, runMigrations, withTransaction, type Pool } from '@alliance/shared/data-access-postgres';
import { createTestDatabase, type TestDatabase } from '@alliance/shared/testing';
import { LedgerNode } from './ledger-node';
import { VerifierPool } from './verifier-pool';
import { until } from '../test/until';
import { chainFixture } from '../test/chain-fixture';

const MIGRATIONS = readMigrations(join(__dirname, '../../../../apps/ledger/migrations'));
const PARTITIONING = '20261207090000';
const SIZE = 3;
const CHAINED = ['blocks', 'transactions', 'header_signatures'] as const;

const { chainId, signed, nodeOptions } = chainFixture('partition-test', { organizations: ['org1'], batchTimeoutMs: 30 });
const anchor = (n: string) => canonicalBytes(signed('ledger.anchor', { hash: toHex(sha256(utf8(n))) }, n) as unknown as JsonValue);

/** Each partition of `table` with its range, in block order. */
async function partitionsOf(pool: Pool, table: string): Promise<Array<{ name: string; from: number; to: number }>> {
  const { rows } = await pool.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
    [table],
  );
  return rows.map((r) => {
    const [, from, to] = /FROM \('(\d+)'\) TO \('(\d+)'\)/.exec(r.bound)!;
    return { name: r.name, from: Number(from), to: Number(to) };
  });
}

/** Every row of `table` as PostgreSQL's text of it (bytea as hex, timestamps to the microsecond), in key order. */
async function rowsOf(pool: Pool, table: string, order: string): Promise<string[]> {
  return (await pool.query<{ r: string }>(`SELECT to_jsonb(t)::text AS r FROM ${table} t ORDER BY ${order}`)).rows.map((x) => x.r);
}
const ORDER: Record<string, string> = { blocks: 'block_number', transactions: 'leaf_index', header_signatures: 'block_number, organization_id', state: 'key', node_position: 'chain_id' };

describe('ledger tables partitioned by block range', () => {
  let database: TestDatabase;
  let upgraded: TestDatabase;
  let pool: Pool;
  let oldPool: Pool;
  let orderingPool: Pool;
  let log: PostgresOrderingLog;
  const verifierPool = new VerifierPool({ threads: 1 });
  const nodes: LedgerNode[] = [];
  const ids: string[] = [];
  const envelopes: Uint8Array[] = [];

  const startNode = async (on: Pool, partitionBlocks = SIZE): Promise<LedgerNode> => {
    const node = new LedgerNode(nodeOptions(on, log, new ContractRegistry([genesisContract, anchorContract]), verifierPool, { partitionBlocks }));
    nodes.push(node);
    await node.start();
    return node;
  };

  /** Submits one anchor and waits for its block (one transaction per block: each submission waits for the last). */
  const commitOne = async (node: LedgerNode, on: Pool, nonce: string): Promise<{ id: string; bytes: Uint8Array; blockNumber: number }> => {
    const bytes = anchor(nonce);
    const [id] = await node.submit([bytes]);
    const blockNumber = await until(`block of ${nonce}`, async () => {
      const { rows } = await on.query<{ block_number: string; code: string }>('SELECT block_number, code FROM transactions WHERE transaction_id = $1', [id]);
      return rows[0] ? Number(rows[0].block_number) : undefined;
    });
    return { id, bytes, blockNumber };
  };

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'ledger_partitions');
    upgraded = await createTestDatabase(inject('databaseUrl'), 'ledger_partitions_upgrade');
    pool = createPool(database.url, { applicationName: 'ledger-partitions-test', schema: 'ledger', max: 6 });
    oldPool = createPool(upgraded.url, { applicationName: 'ledger-partitions-upgrade', schema: 'ledger', max: 6 });
    orderingPool = createPool(database.url, { applicationName: 'ledger-partitions-ordering', max: 4 });
    await runMigrations(pool, 'ledger', MIGRATIONS);
    log = new PostgresOrderingLog({ pool: orderingPool, chainId, pollIntervalMs: 30 });
  });

  afterAll(async () => {
    for (const node of nodes) await node.stop().catch(() => undefined);
    await log?.close().catch(() => undefined);
    await verifierPool.close();
    await pool?.end().catch(() => undefined);
    await oldPool?.end().catch(() => undefined);
    await orderingPool?.end().catch(() => undefined);
    await database?.drop();
    await upgraded?.drop();
  });

  it('creates partitions a whole partition ahead as blocks cross the boundaries, and puts every row in the partition of its block', async () => {
    // A fresh database has no partition; the genesis block's transaction creates [0,3) and [3,6).
    for (const table of CHAINED) expect(await partitionsOf(pool, table)).toEqual([]);
    const node = await startNode(pool);
    const ranges = async () => (await partitionsOf(pool, 'blocks')).map((p) => [p.from, p.to]);
    expect(await ranges()).toEqual([
      [0, 3],
      [3, 6],
    ]);
    const seen: number[][][] = [];
    for (let i = 1; node.headBlock < 7; i++) {
      const { id, bytes, blockNumber } = await commitOne(node, pool, `p${i}`);
      ids.push(id);
      envelopes.push(bytes);
      seen[blockNumber] = await ranges();
    }
    expect(node.headBlock).toBe(7);
    // Blocks 1 and 2 found [3,6) there; block 3 entered the last partition and created [6,9), block 6 created [9,12).
    expect(seen[2]).toEqual([
      [0, 3],
      [3, 6],
    ]);
    expect(seen[3]).toEqual([
      [0, 3],
      [3, 6],
      [6, 9],
    ]);
    expect(seen[5]).toEqual(seen[3]);
    expect(seen[6]).toEqual([...seen[3], [9, 12]]);
    for (const table of CHAINED) {
      expect((await partitionsOf(pool, table)).map((p) => p.name)).toEqual([0, 3, 6, 9].map((n) => `${table}_${String(n).padStart(12, '0')}`));
    }
    // The node's own signature of every block comes back through the log.
    await until('the signature of block 7', async () => ((await pool.query('SELECT 1 FROM header_signatures WHERE block_number = 7')).rowCount ?? 0) > 0);
    for (const table of CHAINED) {
      const { rows } = await pool.query<{ partition: string; block_number: string }>(`SELECT tableoid::regclass::text AS partition, block_number FROM ${table}`);
      expect(rows.length).toBeGreaterThanOrEqual(7);
      for (const r of rows) expect(r.partition).toBe(`${table}_${String(Math.floor(Number(r.block_number) / SIZE) * SIZE).padStart(12, '0')}`);
    }
    // Every VALID transaction, and only those, has its row in valid_transactions.
    const valid = await pool.query<{ transaction_id: string; block_number: string; leaf_index: string }>(
      "SELECT transaction_id, block_number, leaf_index FROM transactions WHERE code = 'VALID' ORDER BY leaf_index",
    );
    expect(valid.rows).toHaveLength(8);
    expect((await pool.query('SELECT transaction_id, block_number, leaf_index FROM valid_transactions ORDER BY leaf_index')).rows).toEqual(valid.rows);
    // Lookups by id have an index in every partition (the partitioned index transactions_by_id).
    const indexed = await pool.query<{ partition: string }>(
      "SELECT t.relname AS partition FROM pg_inherits i JOIN pg_index x ON x.indexrelid = i.inhrelid JOIN pg_class t ON t.oid = x.indrelid WHERE i.inhparent = 'transactions_by_id'::regclass ORDER BY 1",
    );
    expect(indexed.rows.map((r) => r.partition)).toEqual((await partitionsOf(pool, 'transactions')).map((p) => p.name));
    await node.stop();
  });

  it('keeps a transaction id VALID at most once across partitions: a later copy is a duplicate, a second VALID row refuses the whole block', async () => {
    const node = await startNode(pool);
    // The first anchor (block 1, partition [0,3)) written straight onto the log again, past the validity checks of the door.
    const first = ids[0];
    const copy = envelopes[0];
    expect(transactionId(JSON.parse(new TextDecoder().decode(copy)).transaction)).toBe(first);
    await log.append([{ kind: 'transaction', bytes: copy }]);
    const copies = await until('the second copy', async () => {
      const { rows } = await pool.query<{ partition: string; code: string }>('SELECT tableoid::regclass::text AS partition, code FROM transactions WHERE transaction_id = $1 ORDER BY leaf_index', [first]);
      return rows.length === 2 ? rows : undefined;
    });
    expect(copies).toEqual([
      { partition: 'transactions_000000000000', code: 'VALID' },
      { partition: `transactions_${String(Math.floor(node.headBlock / SIZE) * SIZE).padStart(12, '0')}`, code: 'LEDGER.DUPLICATE_TRANSACTION' },
    ]);
    expect(node.headBlock).toBeGreaterThanOrEqual(SIZE * 2);
    await node.stop();

    // A node that recorded the copy VALID (a bug, or a hand-made block) cannot commit that block.
    const head = (await node.blockStore.block(node.headBlock))!;
    const block = (n: number, code: string) => ({
      chainId,
      blockNumber: n,
      header: utf8('{}'),
      headerHash: sha256(utf8(`forged ${n}`)),
      previousHash: head.headerHash,
      transactionCount: 1,
      logSize: head.logSize + 1,
      firstOffset: null,
      lastOffset: null,
      blockTime: formatTimestamp(Date.now()),
      configSequence: 0,
      transactions: [{ leafIndex: head.logSize, transactionId: first, position: 0, envelope: copy, leafHash: sha256(copy), type: 'ledger.anchor', organizationId: 'org1', code, detail: null, result: utf8('{}') }],
      writes: [],
    });
    const n = head.blockNumber + 1;
    await expect(withTransaction(pool, (client) => node.blockStore.insertBlock(client, block(n, 'VALID')))).rejects.toThrow(/valid_transactions_pkey/);
    expect(await node.blockStore.block(n)).toBeUndefined();
    // The same block recording the copy as a duplicate would commit (rolled back here: the chain stays as it was).
    const ROLLBACK = new Error('rollback');
    await expect(
      withTransaction(pool, async (client) => {
        await node.blockStore.insertBlock(client, block(n, 'LEDGER.DUPLICATE_TRANSACTION'));
        expect((await client.query('SELECT 1 FROM blocks WHERE block_number = $1', [n])).rowCount).toBe(1);
        throw ROLLBACK;
      }),
    ).rejects.toBe(ROLLBACK);
    // And by hand: the key is the id alone, whatever block and leaf a row names.
    await expect(pool.query('INSERT INTO valid_transactions (transaction_id, block_number, leaf_index) SELECT transaction_id, block_number, leaf_index FROM transactions WHERE transaction_id = $1 AND code <> $2', [first, 'VALID'])).rejects.toThrow(
      /valid_transactions_pkey/,
    );
  });

  it('refuses to start a node whose database lost a partition, and starts again once it is attached back', async () => {
    // Each range of transactions references its own range of blocks.
    await expect(pool.query('INSERT INTO transactions SELECT leaf_index + 1000, transaction_id, 10, position, envelope, leaf_hash, type, organization_id, code, detail, result FROM transactions WHERE leaf_index = 1')).rejects.toThrow(
      /transactions_000000000009_block_fkey/,
    );
    // An operator "archives" blocks 3..5: the log is three leaves short and the next header would fork.
    await pool.query('ALTER TABLE transactions DETACH PARTITION transactions_000000000003');
    try {
      await expect(startNode(pool)).rejects.toMatchObject({ code: 'LEDGER.STORE_INCOMPLETE', message: expect.stringMatching(/holds \d+ transactions of the \d+ up to block/) });
    } finally {
      await pool.query('ALTER TABLE transactions ATTACH PARTITION transactions_000000000003 FOR VALUES FROM (3) TO (6)');
    }
    const node = await startNode(pool);
    expect(node.headBlock).toBeGreaterThanOrEqual(SIZE * 2);
    await node.stop();
  });

  it('upgrades a database holding the old schema: every row copied byte for byte into partitions, and its node carries on', async () => {
    // The database as it was before the partitioning migration, holding this chain's rows.
    const old = MIGRATIONS.filter((m) => m.version < PARTITIONING);
    expect(old.length).toBe(MIGRATIONS.length - 1);
    await runMigrations(oldPool, 'ledger', old);
    expect((await oldPool.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'ledger' AND indexname = 'transactions_valid_once'")).rowCount).toBe(1);
    const before: Record<string, string[]> = {};
    for (const table of ['blocks', 'transactions', 'state', 'header_signatures', 'node_position']) {
      before[table] = await rowsOf(pool, table, ORDER[table]);
      await oldPool.query(`INSERT INTO ${table} SELECT * FROM jsonb_populate_recordset(null::${table}, $1::jsonb)`, [`[${before[table].join(',')}]`]);
    }
    expect(before.transactions).toHaveLength(9); // genesis, seven anchors and the duplicate copy

    const result = await runMigrations(oldPool, 'ledger', MIGRATIONS);
    expect(result.applied).toEqual([`${PARTITIONING}_ledger_partition_by_block_range`]);
    for (const table of Object.keys(before)) expect(await rowsOf(oldPool, table, ORDER[table])).toEqual(before[table]);
    // The rows there were fit one partition of the default size; the old tables and index are gone.
    for (const table of CHAINED) expect(await partitionsOf(oldPool, table)).toEqual([{ name: `${table}_000000000000`, from: 0, to: 100_000 }]);
    expect((await oldPool.query("SELECT tablename FROM pg_tables WHERE schemaname = 'ledger' AND tablename LIKE '%_v1'")).rowCount).toBe(0);
    expect(Number((await oldPool.query('SELECT count(*) AS n FROM valid_transactions')).rows[0].n)).toBe(before.transactions.filter((r) => JSON.parse(r).code === 'VALID').length);

    // Its node starts on the upgraded tables (same leaves, head and ids) and commits the next block.
    const head = Number((await pool.query('SELECT max(block_number) AS n FROM blocks')).rows[0].n);
    const node = await startNode(oldPool);
    expect(node.headBlock).toBe(head);
    await expect(node.submit([envelopes[0]])).rejects.toMatchObject({ code: 'LEDGER.DUPLICATE_TRANSACTION' });
    const next = await commitOne(node, oldPool, 'after-upgrade');
    expect(next.blockNumber).toBe(head + 1);
    expect((await oldPool.query('SELECT code FROM transactions WHERE transaction_id = $1', [next.id])).rows).toEqual([{ code: 'VALID' }]);
    expect((await oldPool.query('SELECT block_number FROM valid_transactions WHERE transaction_id = $1', [next.id])).rows).toEqual([{ block_number: String(head + 1) }]);
    await node.stop();
  });
});
