import type { JsonValue } from '@alliance/protocol';
import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';
import type { CommittedBlock, CommittedTransaction, CommittedWrite } from './chain-follower';

export interface ChainStateMirrorOptions {
  readonly pool: Pool;
  /** The service's schema holding `chain_state` and `chain_state_history` (each service creates them in a migration of its own). */
  readonly schema: string;
  /** The world-state keys kept (`provenance/…`, `finance/…`). */
  readonly mirrored: (key: string) => boolean;
}

const SCHEMA = /^[a-z_][a-z0-9_]*$/;

/**
 * A read model's mirror of world-state records: the current value of every
 * kept key (`<schema>.chain_state`) and every version it had
 * (`<schema>.chain_state_history`), written in the transaction applying the
 * block, so it moves block by block with the rest of the read model and is
 * rebuilt with it. Provenance and finance keep one each.
 */
export class ChainStateMirror {
  private readonly state: string;
  private readonly history: string;

  constructor(private readonly options: ChainStateMirrorOptions) {
    if (!SCHEMA.test(options.schema)) throw new Error(`not a schema name: ${options.schema}`);
    this.state = `${options.schema}.chain_state`;
    this.history = `${options.schema}.chain_state_history`;
  }

  /** The tables a read model empties when it resets (with its own). */
  get tables(): readonly string[] {
    return [this.state, this.history];
  }

  /** The kept writes of a block's valid transactions, in transaction order. */
  writesOf(block: CommittedBlock): Array<{ tx: CommittedTransaction; write: CommittedWrite }> {
    const writes: Array<{ tx: CommittedTransaction; write: CommittedWrite }> = [];
    for (const tx of block.transactions) {
      if (tx.code !== 'VALID') continue;
      for (const write of tx.writes) if (this.options.mirrored(write.key)) writes.push({ tx, write });
    }
    return writes;
  }

  /** Records the writes (default: the block's kept writes) in the caller's transaction; the last write of a key in the block wins. */
  async mirror(client: PoolClient, block: CommittedBlock, writes: ReadonlyArray<{ tx: CommittedTransaction; write: CommittedWrite }> = this.writesOf(block)): Promise<void> {
    if (writes.length === 0) return;
    const keys = writes.map((w) => w.write.key);
    const versions = writes.map((w) => w.write.version);
    const values = writes.map((w) => (w.write.value === null ? null : JSON.stringify(w.write.value)));
    const txs = writes.map((w) => w.tx.transactionId);
    await client.query(
      `INSERT INTO ${this.history} (key, version, value, block_number, transaction_id)
       SELECT k, v, j::jsonb, $4, t FROM unnest($1::text[], $2::int[], $3::text[], $5::text[]) AS w(k, v, j, t) ON CONFLICT (key, version) DO NOTHING`,
      [keys, versions, values, block.blockNumber, txs],
    );
    // Writes come in transaction order: the last one of a key is its value after the block.
    const last = new Map<string, number>();
    writes.forEach((w, i) => last.set(w.write.key, i));
    const idx = [...last.values()];
    await client.query(
      `INSERT INTO ${this.state} (key, value, version, block_number, transaction_id)
       SELECT k, j::jsonb, v, $4, t FROM unnest($1::text[], $2::int[], $3::text[], $5::text[]) AS w(k, v, j, t)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, block_number = EXCLUDED.block_number, transaction_id = EXCLUDED.transaction_id`,
      [idx.map((i) => keys[i]), idx.map((i) => versions[i]), idx.map((i) => values[i]), block.blockNumber, idx.map((i) => txs[i])],
    );
  }

  /** The current value of a kept record, or null (never written, or deleted). */
  async record<T = JsonValue>(key: string, client: Pool | PoolClient = this.options.pool): Promise<T | null> {
    const { rows } = await client.query<{ value: T | null }>(`SELECT value FROM ${this.state} WHERE key = $1`, [key]);
    return rows[0]?.value ?? null;
  }

  /** Current records under a key prefix, in key order (bytewise) after `after`, at most `limit`. */
  async records<T = JsonValue>(prefix: string, after: string | null, limit: number, client: Pool | PoolClient = this.options.pool): Promise<Array<{ key: string; value: T }>> {
    const { rows } = await client.query<{ key: string; value: T }>(
      `SELECT key, value FROM ${this.state} WHERE starts_with(key, $1) AND value IS NOT NULL AND ($2::text IS NULL OR key COLLATE "C" > $2) ORDER BY key COLLATE "C" LIMIT $3`,
      [prefix, after, limit],
    );
    return rows;
  }
}
