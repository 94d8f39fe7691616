import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';
import { toBuffer } from './util';

/**
 * One member's copy of the chain in PostgreSQL (schema `ledger`, migrations in
 * apps/ledger/migrations). A block, its transactions, their results, the state
 * writes and the consumed ordering offset are written in ONE transaction, so a
 * crash at any instant leaves either the whole block or none of it.
 */
export interface PersistedTransaction {
  readonly leafIndex: number;
  readonly transactionId: string;
  readonly position: number;
  readonly envelope: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly type: string | null;
  readonly organizationId: string | null;
  readonly code: string;
  readonly detail: string | null;
  readonly result: Uint8Array;
}

export interface PersistedStateWrite {
  readonly key: string;
  /** Canonical JSON bytes; null deletes. */
  readonly value: Uint8Array | null;
  readonly version: number;
  readonly transactionId: string;
}

export interface PersistedBlock {
  readonly chainId: string;
  readonly blockNumber: number;
  readonly header: Uint8Array;
  readonly headerHash: Uint8Array;
  readonly previousHash: Uint8Array;
  readonly transactionCount: number;
  readonly logSize: number;
  readonly firstOffset: number | null;
  readonly lastOffset: number | null;
  readonly blockTime: string;
  readonly configSequence: number;
  readonly transactions: readonly PersistedTransaction[];
  readonly writes: readonly PersistedStateWrite[];
}

export interface NodePosition {
  readonly lastOffset: number;
  readonly headBlock: number;
  readonly halted: boolean;
  readonly haltReason: string | null;
}

export interface StoredBlock {
  readonly blockNumber: number;
  readonly header: Uint8Array;
  readonly headerHash: Uint8Array;
  readonly transactionCount: number;
  readonly logSize: number;
}

export interface StoredTransaction {
  readonly leafIndex: number;
  readonly transactionId: string;
  readonly blockNumber: number;
  readonly position: number;
  readonly envelope: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly code: string;
  readonly detail: string | null;
  readonly result: Uint8Array;
}

export interface StoredSignature {
  readonly blockNumber: number;
  readonly organizationId: string;
  readonly keyId: string;
  readonly algorithm: string;
  readonly headerHash: Uint8Array;
  readonly signature: Uint8Array;
  /** The signer's signed-note signature body over the checkpoint at this block. */
  readonly checkpointSignature: string;
}

const num = (v: string | number) => Number(v);

/** Blocks per partition of blocks, transactions and header_signatures unless configured (LEDGER_PARTITION_BLOCKS). */
export const DEFAULT_PARTITION_BLOCKS = 100_000;

export interface BlockStoreOptions {
  /**
   * Blocks per new partition (docs/ledger.md, Partitioning). The node keeps
   * partitions created through its newest block + this many blocks; a change
   * applies to partitions created from then on.
   */
  readonly partitionBlocks?: number;
}

export class BlockStore {
  private readonly partitionBlocks: number;
  /**
   * Exclusive upper block number the partitions cover, as last seen without
   * creating any (so it is committed); unknown until the first block.
   */
  private partitionsEnd: number | undefined;

  constructor(
    private readonly pool: Pool,
    options: BlockStoreOptions = {},
  ) {
    const size = options.partitionBlocks ?? DEFAULT_PARTITION_BLOCKS;
    if (!Number.isSafeInteger(size) || size < 1) throw new Error(`partitionBlocks must be a positive integer (got ${size})`);
    this.partitionBlocks = size;
  }

  async position(chainId: string): Promise<NodePosition | undefined> {
    const { rows } = await this.pool.query<{ last_offset: string; head_block: string; halted: boolean; halt_reason: string | null }>(
      'SELECT last_offset, head_block, halted, halt_reason FROM node_position WHERE chain_id = $1',
      [chainId],
    );
    const r = rows[0];
    return r ? { lastOffset: num(r.last_offset), headBlock: num(r.head_block), halted: r.halted, haltReason: r.halt_reason } : undefined;
  }

  /** Writes the block and everything it implies in the caller's transaction. */
  async insertBlock(client: PoolClient, block: PersistedBlock): Promise<void> {
    await this.ensurePartitions(client, block.blockNumber);
    await client.query(
      `INSERT INTO blocks (block_number, header_hash, header, previous_hash, transaction_count, log_size, first_offset, last_offset, block_time, config_sequence)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [block.blockNumber, toBuffer(block.headerHash), toBuffer(block.header), toBuffer(block.previousHash), block.transactionCount, block.logSize, block.firstOffset, block.lastOffset, block.blockTime, block.configSequence],
    );
    if (block.transactions.length > 0) {
      const t = block.transactions;
      // One round trip per block, whatever its size. The VALID ones also go to valid_transactions,
      // whose primary key refuses the block if an id was committed VALID before, in any partition.
      await client.query(
        `WITH inserted AS (
           INSERT INTO transactions (leaf_index, transaction_id, block_number, position, envelope, leaf_hash, type, organization_id, code, detail, result)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::int[], $5::bytea[], $6::bytea[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[])
           RETURNING transaction_id, block_number, leaf_index, code)
         INSERT INTO valid_transactions (transaction_id, block_number, leaf_index)
         SELECT transaction_id, block_number, leaf_index FROM inserted WHERE code = 'VALID'`,
        [
          t.map((x) => x.leafIndex),
          t.map((x) => x.transactionId),
          t.map(() => block.blockNumber),
          t.map((x) => x.position),
          t.map((x) => toBuffer(x.envelope)),
          t.map((x) => toBuffer(x.leafHash)),
          t.map((x) => x.type),
          t.map((x) => x.organizationId),
          t.map((x) => x.code),
          t.map((x) => x.detail),
          t.map((x) => toBuffer(x.result)),
        ],
      );
    }
    if (block.writes.length > 0) {
      const w = block.writes;
      await client.query(
        `INSERT INTO state (key, value, version, block_number, transaction_id)
         SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bigint[], $5::text[])
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, block_number = EXCLUDED.block_number, transaction_id = EXCLUDED.transaction_id`,
        [w.map((x) => x.key), w.map((x) => (x.value ? toBuffer(x.value) : null)), w.map((x) => x.version), w.map(() => block.blockNumber), w.map((x) => x.transactionId)],
      );
    }
    await client.query(
      `INSERT INTO node_position (chain_id, last_offset, head_block) VALUES ($1, $2, $3)
       ON CONFLICT (chain_id) DO UPDATE SET last_offset = EXCLUDED.last_offset, head_block = EXCLUDED.head_block, updated_at = clock_timestamp()`,
      [block.chainId, block.lastOffset ?? -1, block.blockNumber],
    );
  }

  /**
   * Keeps the partitions a whole partition ahead of `blockNumber`, in the
   * block's transaction: when the block enters the last partition, the next
   * one is created (and rolled back with the block if the block is). Costs a
   * round trip only around a partition boundary.
   */
  private async ensurePartitions(client: PoolClient, blockNumber: number): Promise<void> {
    const through = blockNumber + this.partitionBlocks;
    if (this.partitionsEnd !== undefined && through < this.partitionsEnd) return;
    const { rows } = await client.query<{ created: number; covered_to: string }>('SELECT created, covered_to FROM ensure_block_partitions($1, $2)', [through, this.partitionBlocks]);
    // Only what existed already is known to be committed; after creating, the next block asks again.
    this.partitionsEnd = rows[0].created === 0 ? num(rows[0].covered_to) : undefined;
  }

  /** Marks the node halted (in the caller's transaction when `client` is given). */
  async halt(chainId: string, reason: string, client: Pick<PoolClient, 'query'> = this.pool): Promise<void> {
    await client.query(
      `INSERT INTO node_position (chain_id, last_offset, head_block, halted, halt_reason) VALUES ($1, -1, -1, true, $2)
       ON CONFLICT (chain_id) DO UPDATE SET halted = true, halt_reason = EXCLUDED.halt_reason, updated_at = clock_timestamp()`,
      [chainId, reason],
    );
  }

  /** The whole world state (the node keeps it in memory; contracts read it synchronously). */
  async loadState(): Promise<Map<string, { value: Uint8Array | null; version: number }>> {
    const { rows } = await this.pool.query<{ key: string; value: Buffer | null; version: string }>('SELECT key, value, version FROM state');
    return new Map(rows.map((r) => [r.key, { value: r.value, version: num(r.version) }]));
  }

  async loadTransactionIds(): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ transaction_id: string }>('SELECT DISTINCT transaction_id FROM transactions');
    return new Set(rows.map((r) => r.transaction_id));
  }

  /** Leaf hashes of the global log from index 0, in order. */
  async leafHashes(treeSize?: number): Promise<Uint8Array[]> {
    const { rows } = await this.pool.query<{ leaf_hash: Buffer }>(
      treeSize === undefined ? 'SELECT leaf_hash FROM transactions ORDER BY leaf_index' : 'SELECT leaf_hash FROM transactions WHERE leaf_index < $1 ORDER BY leaf_index',
      treeSize === undefined ? [] : [treeSize],
    );
    return rows.map((r) => new Uint8Array(r.leaf_hash));
  }

  async block(blockNumber: number): Promise<StoredBlock | undefined> {
    const { rows } = await this.pool.query<{ block_number: string; header: Buffer; header_hash: Buffer; transaction_count: number; log_size: string }>(
      'SELECT block_number, header, header_hash, transaction_count, log_size FROM blocks WHERE block_number = $1',
      [blockNumber],
    );
    return rows[0] ? mapBlock(rows[0]) : undefined;
  }

  async blocks(from: number, limit: number): Promise<StoredBlock[]> {
    const { rows } = await this.pool.query<{ block_number: string; header: Buffer; header_hash: Buffer; transaction_count: number; log_size: string }>(
      'SELECT block_number, header, header_hash, transaction_count, log_size FROM blocks WHERE block_number >= $1 ORDER BY block_number LIMIT $2',
      [from, limit],
    );
    return rows.map(mapBlock);
  }

  /** The block whose log size first reaches `treeSize` (checkpoints and consistency proofs are at block boundaries). */
  async blockAtLogSize(treeSize: number): Promise<StoredBlock | undefined> {
    const { rows } = await this.pool.query<{ block_number: string; header: Buffer; header_hash: Buffer; transaction_count: number; log_size: string }>(
      'SELECT block_number, header, header_hash, transaction_count, log_size FROM blocks WHERE log_size = $1 ORDER BY block_number LIMIT 1',
      [treeSize],
    );
    return rows[0] ? mapBlock(rows[0]) : undefined;
  }

  async blockTransactions(blockNumber: number): Promise<StoredTransaction[]> {
    const { rows } = await this.pool.query<TxRow>(`${TX_SELECT} WHERE block_number = $1 ORDER BY position`, [blockNumber]);
    return rows.map(mapTx);
  }

  /**
   * The valid results of the blocks that put a configuration in force (block 0
   * and every block whose config_sequence differs from its predecessor's), in
   * log order: configuration transactions are alone in their block, so this
   * reads a handful of rows at start-up, never the whole transactions table.
   */
  async configurationResults(): Promise<Array<{ blockNumber: number; result: Uint8Array }>> {
    const { rows } = await this.pool.query<{ block_number: string; result: Buffer }>(
      `SELECT t.block_number, t.result FROM transactions t
         JOIN (SELECT block_number, config_sequence, lag(config_sequence) OVER (ORDER BY block_number) AS previous FROM blocks) b USING (block_number)
        WHERE (b.previous IS NULL OR b.previous <> b.config_sequence) AND t.code = 'VALID'
        ORDER BY t.leaf_index`,
    );
    return rows.map((r) => ({ blockNumber: num(r.block_number), result: new Uint8Array(r.result) }));
  }

  /** A block's transactions without their bytes (block listings: ids and codes only). */
  async blockTransactionCodes(blockNumber: number): Promise<Array<{ leafIndex: number; transactionId: string; code: string }>> {
    const { rows } = await this.pool.query<{ leaf_index: string; transaction_id: string; code: string }>('SELECT leaf_index, transaction_id, code FROM transactions WHERE block_number = $1 ORDER BY position', [blockNumber]);
    return rows.map((r) => ({ leafIndex: num(r.leaf_index), transactionId: r.transaction_id, code: r.code }));
  }

  /** Every copy of a transaction id, in log order (a duplicate is recorded, never applied). */
  async transactionsById(transactionId: string): Promise<StoredTransaction[]> {
    const { rows } = await this.pool.query<TxRow>(`${TX_SELECT} WHERE transaction_id = $1 ORDER BY leaf_index`, [transactionId]);
    return rows.map(mapTx);
  }

  async saveSignature(signature: StoredSignature): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO header_signatures (block_number, organization_id, key_id, algorithm, header_hash, signature, checkpoint_signature)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (block_number, organization_id) DO NOTHING`,
      [signature.blockNumber, signature.organizationId, signature.keyId, signature.algorithm, toBuffer(signature.headerHash), toBuffer(signature.signature), signature.checkpointSignature],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async signatures(blockNumber: number): Promise<StoredSignature[]> {
    const { rows } = await this.pool.query<{ block_number: string; organization_id: string; key_id: string; algorithm: string; header_hash: Buffer; signature: Buffer; checkpoint_signature: string }>(
      'SELECT block_number, organization_id, key_id, algorithm, header_hash, signature, checkpoint_signature FROM header_signatures WHERE block_number = $1 ORDER BY organization_id',
      [blockNumber],
    );
    return rows.map((r) => ({
      blockNumber: num(r.block_number),
      organizationId: r.organization_id,
      keyId: r.key_id,
      algorithm: r.algorithm,
      headerHash: new Uint8Array(r.header_hash),
      signature: new Uint8Array(r.signature),
      checkpointSignature: r.checkpoint_signature,
    }));
  }

  /** Blocks from `from` on that carry no signature of `organizationId` yet, in order. */
  async blocksWithoutSignature(organizationId: string, from: number): Promise<StoredBlock[]> {
    const { rows } = await this.pool.query<{ block_number: string; header: Buffer; header_hash: Buffer; transaction_count: number; log_size: string }>(
      `SELECT b.block_number, b.header, b.header_hash, b.transaction_count, b.log_size FROM blocks b
        WHERE b.block_number >= $2 AND NOT EXISTS (SELECT 1 FROM header_signatures s WHERE s.block_number = b.block_number AND s.organization_id = $1)
        ORDER BY b.block_number`,
      [organizationId, from],
    );
    return rows.map(mapBlock);
  }

  /** The highest block with at least `required` member signatures, or -1. */
  /** The organizations whose header signatures are stored, per block, for blocks `from`..`to`. */
  async signersBetween(from: number, to: number): Promise<Map<number, string[]>> {
    const { rows } = await this.pool.query<{ block_number: string; organization_id: string }>(
      'SELECT block_number, organization_id FROM header_signatures WHERE block_number BETWEEN $1 AND $2',
      [from, to],
    );
    const out = new Map<number, string[]>();
    for (const r of rows) {
      const n = num(r.block_number);
      out.set(n, [...(out.get(n) ?? []), r.organization_id]);
    }
    return out;
  }

  // ---- every stored column, for the verification API (what the node itself reads is above)

  async blockRow(blockNumber: number): Promise<StoredBlockRow | undefined> {
    const { rows } = await this.pool.query<BlockRowColumns>(`${BLOCK_ROW_SELECT} WHERE block_number = $1`, [blockNumber]);
    return rows[0] ? mapBlockRow(rows[0]) : undefined;
  }

  async blockRows(from: number, limit: number): Promise<StoredBlockRow[]> {
    const { rows } = await this.pool.query<BlockRowColumns>(`${BLOCK_ROW_SELECT} WHERE block_number >= $1 ORDER BY block_number LIMIT $2`, [from, limit]);
    return rows.map(mapBlockRow);
  }

  async transactionRows(blockNumber: number): Promise<TransactionRow[]> {
    const { rows } = await this.pool.query<TxRow & { type: string | null; organization_id: string | null }>(
      'SELECT leaf_index, transaction_id, block_number, position, envelope, leaf_hash, code, detail, result, type, organization_id FROM transactions WHERE block_number = $1 ORDER BY position',
      [blockNumber],
    );
    return rows.map((r) => ({ ...mapTx(r), type: r.type, organizationId: r.organization_id }));
  }

  /** State rows with keys after `after` in byte order (COLLATE "C"), at most `limit`. */
  async stateRows(after: string | null, limit: number): Promise<StoredStateRow[]> {
    const { rows } = await this.pool.query<{ key: string; value: Buffer | null; version: string; block_number: string; transaction_id: string }>(
      // Two statements, so each can walk the state_key_bytes index (migration 20261126090000).
      after === null
        ? 'SELECT key, value, version, block_number, transaction_id FROM state ORDER BY key COLLATE "C" LIMIT $1'
        : 'SELECT key, value, version, block_number, transaction_id FROM state WHERE key COLLATE "C" > $2 ORDER BY key COLLATE "C" LIMIT $1',
      after === null ? [limit] : [limit, after],
    );
    return rows.map((r) => ({ key: r.key, value: r.value === null ? null : new Uint8Array(r.value), version: num(r.version), blockNumber: num(r.block_number), transactionId: r.transaction_id }));
  }
}

interface TxRow {
  leaf_index: string;
  transaction_id: string;
  block_number: string;
  position: number;
  envelope: Buffer;
  leaf_hash: Buffer;
  code: string;
  detail: string | null;
  result: Buffer;
}
const TX_SELECT = 'SELECT leaf_index, transaction_id, block_number, position, envelope, leaf_hash, code, detail, result FROM transactions';

function mapTx(r: TxRow): StoredTransaction {
  return {
    leafIndex: num(r.leaf_index),
    transactionId: r.transaction_id,
    blockNumber: num(r.block_number),
    position: r.position,
    envelope: new Uint8Array(r.envelope),
    leafHash: new Uint8Array(r.leaf_hash),
    code: r.code,
    detail: r.detail,
    result: new Uint8Array(r.result),
  };
}

function mapBlock(r: { block_number: string; header: Buffer; header_hash: Buffer; transaction_count: number; log_size: string }): StoredBlock {
  return { blockNumber: num(r.block_number), header: new Uint8Array(r.header), headerHash: new Uint8Array(r.header_hash), transactionCount: r.transaction_count, logSize: num(r.log_size) };
}

/**
 * Every column of a `blocks` row as stored, for the read API: a verifier checks
 * each column that no hash covers against the header (docs/protocol.md §14.2).
 * `blockTime` is UTC with microseconds: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
 */
export type StoredBlockRow = Omit<PersistedBlock, 'chainId' | 'transactions' | 'writes'>;

/** Every column of a `transactions` row that the read API serves. */
export interface TransactionRow extends StoredTransaction {
  readonly type: string | null;
  readonly organizationId: string | null;
}

/** One `state` row: the latest write of a key (value null once deleted). */
export interface StoredStateRow {
  readonly key: string;
  readonly value: Uint8Array | null;
  readonly version: number;
  readonly blockNumber: number;
  readonly transactionId: string;
}

interface BlockRowColumns {
  block_number: string;
  header: Buffer;
  header_hash: Buffer;
  transaction_count: number;
  log_size: string;
  previous_hash: Buffer;
  first_offset: string | null;
  last_offset: string | null;
  block_time: string;
  config_sequence: string;
}
// Formatted by PostgreSQL so no precision is lost on the way (a JavaScript Date keeps milliseconds only).
const BLOCK_ROW_SELECT = `SELECT block_number, header, header_hash, transaction_count, log_size, previous_hash, first_offset, last_offset,
  to_char(block_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS block_time, config_sequence FROM blocks`;
const nullableNum = (v: string | null) => (v === null ? null : Number(v));

function mapBlockRow(r: BlockRowColumns): StoredBlockRow {
  return {
    ...mapBlock(r),
    previousHash: new Uint8Array(r.previous_hash),
    firstOffset: nullableNum(r.first_offset),
    lastOffset: nullableNum(r.last_offset),
    blockTime: r.block_time,
    configSequence: num(r.config_sequence),
  };
}
