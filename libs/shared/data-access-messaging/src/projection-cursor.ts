import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import type { CommittedBlock } from './chain-follower';

/** Where a read model stands on its chain. */
export interface ProjectionPosition {
  readonly chainId: string | null;
  readonly nodeId: string | null;
  /** The last block applied (-1: none). */
  readonly lastBlock: number;
  readonly lastHeaderHash: string | null;
  readonly updatedAt: string;
}

export interface ProjectionCursorOptions {
  readonly pool: Pool;
  /** The service's schema holding its one-row `projection` table (chain_id, node_id, last_block, last_header_hash, published_through, updated_at). */
  readonly schema: string;
  /** Error-code prefix (`PROVENANCE`, `FINANCE`). */
  readonly service: string;
  readonly chainId: string;
  readonly nodeId: string;
}

const SCHEMA = /^[a-z_][a-z0-9_]*$/;

/**
 * The position of a read model that applies blocks strictly in order, kept in
 * its `<schema>.projection` row and moved in the transaction applying each
 * block: a crash leaves it at a block boundary, a redelivered block is a
 * no-op, and `published_through` keeps a rebuild from announcing again what
 * the first apply announced.
 */
export class ProjectionCursor {
  private readonly table: string;

  constructor(private readonly options: ProjectionCursorOptions) {
    if (!SCHEMA.test(options.schema)) throw new Error(`not a schema name: ${options.schema}`);
    this.table = `${options.schema}.projection`;
  }

  async position(client: Pool | PoolClient = this.options.pool): Promise<ProjectionPosition> {
    const { rows } = await client.query<{ chain_id: string | null; node_id: string | null; last_block: string; last_header_hash: string | null; updated_at: Date }>(
      `SELECT chain_id, node_id, last_block, last_header_hash, updated_at FROM ${this.table}`,
    );
    const r = rows[0];
    return { chainId: r.chain_id, nodeId: r.node_id, lastBlock: Number(r.last_block), lastHeaderHash: r.last_header_hash, updatedAt: r.updated_at.toISOString() };
  }

  async lastBlock(): Promise<number> {
    return (await this.position()).lastBlock;
  }

  /**
   * Locks the position for `block` in the caller's transaction: 'duplicate'
   * (applied already), 'gap' (blocks before it are missing), or whether its
   * events are to be published (its first apply).
   */
  async open(client: PoolClient, block: CommittedBlock): Promise<'duplicate' | 'gap' | { publish: boolean }> {
    if (block.chainId !== this.options.chainId) throw new AllianceError(`${this.options.service}.WRONG_CHAIN`, 'invalid', `the read model follows chain ${this.options.chainId}, not ${block.chainId}`);
    const { rows } = await client.query<{ last_block: string; published_through: string }>(`SELECT last_block, published_through FROM ${this.table} FOR UPDATE`);
    const last = Number(rows[0].last_block);
    if (block.blockNumber <= last) return 'duplicate';
    if (block.blockNumber > last + 1) return 'gap';
    return { publish: block.blockNumber > Number(rows[0].published_through) };
  }

  /** Moves the position to `block` (after its rows are written, in the same transaction). */
  async advance(client: PoolClient, block: CommittedBlock): Promise<void> {
    await client.query(`UPDATE ${this.table} SET chain_id = $1, node_id = $2, last_block = $3, last_header_hash = $4, published_through = GREATEST(published_through, $3), updated_at = now()`, [
      block.chainId,
      this.options.nodeId,
      block.blockNumber,
      block.headerHash,
    ]);
  }

  /**
   * Empties the read model in the caller's transaction (`empty` truncates its
   * tables) with the position locked, and puts it before the genesis: the next
   * catch-up rebuilds it; what was published stays published.
   */
  async rewind(client: PoolClient, empty: (client: PoolClient) => Promise<void>): Promise<void> {
    await client.query(`SELECT 1 FROM ${this.table} FOR UPDATE`);
    await empty(client);
    await client.query(`UPDATE ${this.table} SET last_block = -1, last_header_hash = NULL, updated_at = now()`);
  }
}
