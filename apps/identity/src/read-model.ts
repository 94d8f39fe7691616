import { Topics, type TopicDefinition } from '@alliance/contracts';
import { changesOf, type ConfigVersion, identityWritesOf, type IdentityChange, MapStateView, type ProjectedTransaction, type ProjectedWrite } from '@alliance/identity/domain';
import { CONFIG_KEY, type ChainConfig, type JsonValue, type Proposal, type VersionedValue } from '@alliance/ledger/domain';
import type { ApplyOutcome, BlockProjection, CommittedBlock, Outbox } from '@alliance/shared/data-access-messaging';
import { type Pool, type PoolClient, withTransaction } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';

/** One committed block as the read model applies it: from the ledger's event or its REST API. */
export type ProjectedBlock = CommittedBlock;

export const IdentityErrors = {
  notProjected: (atBlock: number, last: number) =>
    new AllianceError('IDENTITY.BLOCK_NOT_PROJECTED', 'conflict', `block ${atBlock} is not in the read model yet (it holds blocks up to ${last}); retry shortly`, { details: { atBlock, lastBlock: last } }),
  wrongChain: (expected: string, got: string) => new AllianceError('IDENTITY.WRONG_CHAIN', 'invalid', `the read model follows chain ${expected}, not ${got}`),
};

/** The state of the identity keys at one block, with what views need beside it. */
export interface IdentitySnapshot {
  readonly blockNumber: number;
  readonly state: MapStateView;
  readonly configVersions: readonly ConfigVersion[];
  readonly proposals: ReadonlyArray<Proposal & { readonly proposalId: string }>;
  /** The current value of every identity key under `prefix`, sorted by key. */
  valuesUnder(prefix: string): Array<{ key: string; value: JsonValue }>;
}

interface Position {
  readonly chainId: string | null;
  readonly nodeId: string | null;
  readonly lastBlock: number;
  readonly lastHeaderHash: string | null;
  readonly updatedAt: string;
}

const CHANGE_TOPICS: Record<IdentityChange['kind'], TopicDefinition<unknown>> = {
  'organization.joined': Topics.identityOrganizationJoined as TopicDefinition<unknown>,
  'organization.left': Topics.identityOrganizationLeft as TopicDefinition<unknown>,
  'agent.registered': Topics.identityAgentRegistered as TopicDefinition<unknown>,
  'key.rotated': Topics.identityKeyRotated as TopicDefinition<unknown>,
  'key.revoked': Topics.identityKeyRevoked as TopicDefinition<unknown>,
  'device.registered': Topics.identityDeviceRegistered as TopicDefinition<unknown>,
  'device.status-changed': Topics.identityDeviceStatusChanged as TopicDefinition<unknown>,
  'proposal.opened': Topics.identityProposalOpened as TopicDefinition<unknown>,
  'proposal.decided': Topics.identityProposalDecided as TopicDefinition<unknown>,
};

function eventPayloadOf(change: IdentityChange, origin: { chainId: string; blockNumber: number; transactionId: string }): Record<string, unknown> {
  const { kind, ...rest } = change;
  if (kind === 'proposal.opened' || kind === 'proposal.decided') {
    const { proposalKind, ...others } = rest as { proposalKind: string };
    return { ...origin, ...others, kind: proposalKind };
  }
  return { ...origin, ...rest };
}

export interface IdentityReadModelOptions {
  readonly pool: Pool;
  readonly chainId: string;
  readonly nodeId: string;
  /** Identity events go out through it in the transaction that applies the block; absent: none are published. */
  readonly outbox?: Outbox;
  /** Called after a transaction that applied a block committed (sessions of ended keys end here). */
  readonly onApplied?: (client: PoolClient, block: ProjectedBlock, changes: ReadonlyArray<{ change: IdentityChange; transactionId: string }>) => Promise<void>;
}

/**
 * The identity read model in PostgreSQL (schema `identity`, docs/identity.md,
 * Read model). Blocks are applied strictly in order, each in one transaction
 * that also moves the position, so a crash leaves it at a block boundary and a
 * redelivered or backfilled block is a no-op.
 */
export class IdentityReadModel implements BlockProjection {
  private cached: IdentitySnapshot | undefined;

  constructor(private readonly options: IdentityReadModelOptions) {}

  async position(client: Pool | PoolClient = this.options.pool): Promise<Position> {
    const { rows } = await client.query<{ chain_id: string | null; node_id: string | null; last_block: string; last_header_hash: string | null; updated_at: Date }>(
      'SELECT chain_id, node_id, last_block, last_header_hash, updated_at FROM identity.projection',
    );
    const r = rows[0];
    return { chainId: r.chain_id, nodeId: r.node_id, lastBlock: Number(r.last_block), lastHeaderHash: r.last_header_hash, updatedAt: r.updated_at.toISOString() };
  }

  async lastBlock(): Promise<number> {
    return (await this.position()).lastBlock;
  }

  /** Applies `block` when it is the next one (in the caller's transaction when `client` is given). */
  async apply(block: ProjectedBlock, client?: PoolClient): Promise<ApplyOutcome> {
    return client ? this.applyWith(client, block) : withTransaction(this.options.pool, (c) => this.applyWith(c, block));
  }

  private async applyWith(client: PoolClient, block: ProjectedBlock): Promise<ApplyOutcome> {
    if (block.chainId !== this.options.chainId) throw IdentityErrors.wrongChain(this.options.chainId, block.chainId);
    const { rows } = await client.query<{ last_block: string; published_through: string }>('SELECT last_block, published_through FROM identity.projection FOR UPDATE');
    const last = Number(rows[0].last_block);
    const publish = block.blockNumber > Number(rows[0].published_through);
    if (block.blockNumber <= last) return 'duplicate';
    if (block.blockNumber > last + 1) return 'gap';

    const writes = block.transactions.flatMap((tx) => identityWritesOf(tx));
    const keys = [...new Set(writes.map((w) => w.key))];
    const before = new MapStateView();
    if (keys.length > 0) {
      const existing = await client.query<{ key: string; value: JsonValue; version: number }>('SELECT key, value, version FROM identity.state WHERE key = ANY($1)', [keys]);
      for (const r of existing.rows) before.apply([{ key: r.key, value: r.value, version: r.version }]);
    }
    const changes: Array<{ change: IdentityChange; transactionId: string }> = [];
    for (const tx of block.transactions) {
      const txWrites = identityWritesOf(tx);
      if (txWrites.length === 0) continue;
      for (const change of changesOf(before, txWrites)) changes.push({ change, transactionId: tx.transactionId });
      before.apply(txWrites);
      await this.writeVersions(client, block.blockNumber, tx, txWrites);
    }
    await client.query('UPDATE identity.projection SET chain_id = $1, node_id = $2, last_block = $3, last_header_hash = $4, published_through = GREATEST(published_through, $3), updated_at = now()', [
      block.chainId,
      this.options.nodeId,
      block.blockNumber,
      block.headerHash,
    ]);
    const outbox = this.options.outbox;
    if (outbox && publish) {
      for (const { change, transactionId } of changes) {
        const origin = { chainId: block.chainId, blockNumber: block.blockNumber, transactionId };
        await outbox.enqueue(client, CHANGE_TOPICS[change.kind], eventPayloadOf(change, origin), {
          key: 'organizationId' in change ? change.organizationId : block.chainId,
          correlationId: `block-${block.blockNumber}`,
          causationId: null,
          producer: 'identity',
        });
      }
    }
    await this.options.onApplied?.(client, block, changes);
    this.cached = undefined;
    return 'applied';
  }

  private async writeVersions(client: PoolClient, blockNumber: number, tx: ProjectedTransaction, writes: readonly ProjectedWrite[]): Promise<void> {
    const json = writes.map((w) => (w.value === null ? null : JSON.stringify(w.value)));
    await client.query(
      `INSERT INTO identity.state_history (key, version, value, block_number, transaction_id, transaction_type, organization_id)
       SELECT k, v, j::jsonb, $4, $5, $6, $7 FROM unnest($1::text[], $2::int[], $3::text[]) AS w(k, v, j)
       ON CONFLICT (key, version) DO NOTHING`,
      [writes.map((w) => w.key), writes.map((w) => w.version), json, blockNumber, tx.transactionId, tx.type, tx.organizationId],
    );
    await client.query(
      `INSERT INTO identity.state (key, value, version, block_number, transaction_id)
       SELECT k, j::jsonb, v, $4, $5 FROM unnest($1::text[], $2::int[], $3::text[]) AS w(k, v, j)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, block_number = EXCLUDED.block_number, transaction_id = EXCLUDED.transaction_id`,
      [writes.map((w) => w.key), writes.map((w) => w.version), json, blockNumber, tx.transactionId],
    );
  }

  /** Empties the read model; the next catch-up rebuilds it from block 0 (no events are published again for what it re-applies). */
  async reset(): Promise<void> {
    await withTransaction(this.options.pool, async (client) => {
      await client.query('SELECT 1 FROM identity.projection FOR UPDATE');
      await client.query('TRUNCATE identity.state, identity.state_history');
      await client.query('UPDATE identity.projection SET last_block = -1, last_header_hash = NULL, updated_at = now()');
    });
    this.cached = undefined;
  }

  /**
   * The identity state at `atBlock` (default: the newest applied block). Read
   * whole: identity state is small (organizations, agents, roles, devices).
   */
  async snapshot(atBlock?: number): Promise<IdentitySnapshot> {
    const position = await this.position();
    if (atBlock !== undefined && atBlock > position.lastBlock) throw IdentityErrors.notProjected(atBlock, position.lastBlock);
    const at = atBlock ?? position.lastBlock;
    if (this.cached && this.cached.blockNumber === at && at === position.lastBlock) return this.cached;
    const rows =
      at === position.lastBlock
        ? (await this.options.pool.query<{ key: string; value: JsonValue; version: number }>('SELECT key, value, version FROM identity.state ORDER BY key COLLATE "C"')).rows
        : (
            await this.options.pool.query<{ key: string; value: JsonValue; version: number }>(
              `SELECT * FROM (SELECT DISTINCT ON (key) key, value, version FROM identity.state_history WHERE block_number <= $1 ORDER BY key, version DESC) AS at ORDER BY key COLLATE "C"`,
              [at],
            )
          ).rows;
    const configs = await this.options.pool.query<{ value: ChainConfig; block_number: string }>(
      `SELECT value, block_number FROM identity.state_history WHERE key = $1 AND block_number <= $2 AND value IS NOT NULL ORDER BY version`,
      [CONFIG_KEY, at],
    );
    const entries = new Map<string, VersionedValue>(rows.map((r) => [r.key, { value: r.value, version: r.version }]));
    const sorted = rows.filter((r) => r.value !== null).map((r) => ({ key: r.key, value: r.value }));
    const snapshot: IdentitySnapshot = {
      blockNumber: at,
      state: new MapStateView(entries),
      configVersions: configs.rows.map((r) => ({ blockNumber: Number(r.block_number), config: r.value })),
      proposals: sorted.filter((r) => r.key.startsWith('identity/proposal/')).map((r) => ({ ...(r.value as unknown as Proposal), proposalId: r.key.slice('identity/proposal/'.length) })),
      valuesUnder: (prefix) => sorted.filter((r) => r.key.startsWith(prefix)),
    };
    if (at === position.lastBlock) this.cached = snapshot;
    return snapshot;
  }

  /** Every version of the keys under `prefix` (or the one key), oldest first: an agent's or device's history. */
  async history(keyOrPrefix: string, prefix = false): Promise<Array<{ key: string; version: number; value: JsonValue; blockNumber: number; transactionId: string; transactionType: string | null; organizationId: string | null }>> {
    const { rows } = await this.options.pool.query<{ key: string; version: number; value: JsonValue; block_number: string; transaction_id: string; transaction_type: string | null; organization_id: string | null }>(
      prefix
        ? `SELECT * FROM identity.state_history WHERE starts_with(key, $1) ORDER BY block_number, key COLLATE "C", version`
        : `SELECT * FROM identity.state_history WHERE key = $1 ORDER BY version`,
      [keyOrPrefix],
    );
    return rows.map((r) => ({ key: r.key, version: r.version, value: r.value, blockNumber: Number(r.block_number), transactionId: r.transaction_id, transactionType: r.transaction_type, organizationId: r.organization_id }));
  }
}
