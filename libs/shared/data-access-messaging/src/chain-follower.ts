import { Topics } from '@alliance/contracts';
import type { JsonValue } from '@alliance/protocol';
import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { type Consumer, startConsumer } from './consumer';
import type { MessagingLogger, Transport } from './ports';

/** A state write of a committed transaction (`value: null` deleted the key). */
export interface CommittedWrite {
  readonly key: string;
  readonly value: JsonValue;
  readonly version: number;
}

/** One transaction of a committed block, as read models apply it. */
export interface CommittedTransaction {
  readonly transactionId: string;
  /** Its leaf in the chain's log (what an inclusion proof proves). */
  readonly leafIndex: number;
  readonly type: string | null;
  readonly organizationId: string | null;
  readonly code: string;
  /** The signed transaction's payload (null for an undecodable envelope). */
  readonly payload: Record<string, unknown> | null;
  readonly writes: readonly CommittedWrite[];
}

/** One committed block: from the ledger's `ledger.block.committed.v1` event or its REST API. */
export interface CommittedBlock {
  readonly chainId: string;
  readonly blockNumber: number;
  readonly headerHash: string;
  /** The block's timestamp from the ordering log (RFC 3339, UTC). */
  readonly committedAt: string;
  readonly transactions: readonly CommittedTransaction[];
}

export type ApplyOutcome = 'applied' | 'duplicate' | 'gap';

/** A read model that applies committed blocks strictly in order, each in one PostgreSQL transaction with its position. */
export interface BlockProjection {
  /** The last block applied (-1: none). */
  lastBlock(): Promise<number>;
  /** Applies `block` when it is the next one (in the caller's transaction when `client` is given). */
  apply(block: CommittedBlock, client?: PoolClient): Promise<ApplyOutcome>;
}

export const ChainFollowerErrors = {
  gap: (service: string, blockNumber: number, reason: string) => new AllianceError(`${service}.GAP`, 'unavailable', `block ${blockNumber} arrived before the blocks before it and ${reason}`),
  forged: (service: string, blockNumber: number, reason: string) =>
    new AllianceError(`${service}.FORGED_BLOCK_EVENT`, 'invalid', `the ledger.block.committed.v1 event of block ${blockNumber} does not match the ledger node: ${reason}; not applied`, { details: { blockNumber, reason } }),
  ledgerUnavailable: (service: string, detail: string, cause?: unknown) => new AllianceError(`${service}.LEDGER_UNAVAILABLE`, 'unavailable', detail, { cause }),
};

/** Reads committed blocks from an organization's ledger node (`LEDGER_URL`), for gaps and rebuilds. */
export class LedgerBlockSource {
  constructor(
    private readonly baseUrl: string,
    /** Prefix of the error codes (the service's, e.g. `IDENTITY`). */
    private readonly service: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The block, or null when the node has not committed it (yet). */
  async block(blockNumber: number): Promise<CommittedBlock | null> {
    const header = await this.get<{ headerHash: string; header: { chainId: string; timestamp: string } }>(`/ledger/v1/blocks/${blockNumber}`);
    if (!header) return null;
    const body = await this.get<{ transactions: Array<{ transactionId: string; leafIndex: number; type: string | null; organizationId: string | null; code: string; envelope: string; result: string }> }>(
      `/ledger/v1/blocks/${blockNumber}/transactions`,
    );
    if (!body) return null;
    return {
      chainId: header.header.chainId,
      blockNumber,
      headerHash: header.headerHash,
      committedAt: header.header.timestamp,
      transactions: body.transactions.map((t) => {
        const result = JSON.parse(Buffer.from(t.result, 'base64').toString('utf8')) as { writes: CommittedWrite[] };
        return { transactionId: t.transactionId, leafIndex: t.leafIndex, type: t.type, organizationId: t.organizationId, code: t.code, payload: payloadOf(t.envelope), writes: result.writes };
      }),
    };
  }

  private async get<T>(path: string): Promise<T | null> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json' } });
    } catch (error) {
      throw ChainFollowerErrors.ledgerUnavailable(this.service, `the ledger node at ${this.baseUrl} does not answer: ${(error as Error).message}`, error);
    }
    if (response.status === 404) return null;
    if (!response.ok) throw ChainFollowerErrors.ledgerUnavailable(this.service, `the ledger node at ${this.baseUrl} answered ${response.status} for ${path}`);
    return (await response.json()) as T;
  }
}

/** What differs between an announced block and the node's (header, transaction ids, codes, written keys and versions), or undefined. */
function differenceOf(announced: CommittedBlock, block: CommittedBlock): string | undefined {
  if (announced.headerHash !== block.headerHash) return `header hash ${announced.headerHash} is not the node's ${block.headerHash}`;
  if (announced.transactions.length !== block.transactions.length) return `${announced.transactions.length} transactions, the node's block has ${block.transactions.length}`;
  for (const [i, t] of announced.transactions.entries()) {
    const n = block.transactions[i];
    if (t.transactionId !== n.transactionId || t.code !== n.code) return `transaction ${i} is ${t.transactionId} ${t.code}, the node's is ${n.transactionId} ${n.code}`;
    const writes = (list: readonly CommittedWrite[]) => list.map((w) => `${w.key}@${w.version}`).join(',');
    if (writes(t.writes) !== writes(n.writes)) return `transaction ${t.transactionId} writes other keys or versions than the node's`;
  }
  return undefined;
}

function payloadOf(envelopeBase64: string): Record<string, unknown> | null {
  try {
    const envelope = JSON.parse(Buffer.from(envelopeBase64, 'base64').toString('utf8')) as { transaction?: { payload?: unknown } };
    const payload = envelope.transaction?.payload;
    return payload && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export interface ChainFollowerOptions {
  readonly projection: BlockProjection;
  readonly pool: Pool;
  readonly transport?: Transport;
  /** The service's schema (its consumer's inbox and offsets live there) and error-code prefix. */
  readonly schema: string;
  readonly service: string;
  /** Consumer group of this organization's service. */
  readonly group: string;
  /** Only this node's `ledger.block.committed.v1` events are applied (all members' nodes may share one broker). */
  readonly nodeId: string;
  readonly chainId: string;
  /** This organization's ledger node; without it gaps wait for the events that fill them. */
  readonly ledger?: LedgerBlockSource;
  /** How often to ask the ledger node for blocks the events have not brought (0: only on gaps). */
  readonly pollIntervalMs: number;
  readonly logger: MessagingLogger;
}

/**
 * Keeps a read model at its ledger node's head: applies each
 * `ledger.block.committed.v1` of its node as it arrives, fills gaps (a first
 * start, a rebuild, lost events) from the node's REST API, and polls that API
 * too, so the model converges even while the broker is down. Every service
 * that projects the chain (identity, provenance, finance, audit) follows it
 * with one of these.
 */
export class ChainFollower {
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  private lastError: string | undefined;

  constructor(private readonly options: ChainFollowerOptions) {}

  async start(): Promise<void> {
    const { transport } = this.options;
    if (transport) {
      this.consumer = await startConsumer({
        transport,
        pool: this.options.pool,
        schema: this.options.schema,
        group: this.options.group,
        topics: [Topics.ledgerBlockCommitted],
        logger: this.options.logger,
        handler: async (event, client) => {
          const b = event.payload;
          if (b.nodeId !== this.options.nodeId || b.chainId !== this.options.chainId) return;
          await this.announced({ chainId: b.chainId, blockNumber: b.blockNumber, headerHash: b.headerHash, committedAt: b.committedAt, transactions: b.transactions as CommittedTransaction[] }, client);
        },
      });
    }
    if (this.options.ledger && this.options.pollIntervalMs > 0) this.schedule(0);
  }

  /**
   * Applies one announced block in the consumer's transaction `client`.
   * Anyone who can write to the topic can announce a block: with a ledger node
   * to ask, the event is only a notice — its block is the node's, and an event
   * that does not match the node's is refused (poison). A gap before it is
   * filled from the node first, in transactions of their own: `apply` locks the
   * read model's position in `client` until the consumer commits, and a
   * catch-up started after that would wait for the lock while the handler waits
   * for the catch-up — for ever (found by the fuzz suite: concurrent rebuilds
   * left provenance's read model stuck, every later rebuild timing out).
   */
  async announced(announced: CommittedBlock, client: PoolClient): Promise<void> {
    const { ledger, projection, service } = this.options;
    const last = ledger ? await projection.lastBlock() : undefined;
    const block = last === undefined ? announced : await this.confirmed(announced, last);
    if (last !== undefined && last < block.blockNumber - 1) await this.catchUp(block.blockNumber - 1);
    if ((await projection.apply(block, client)) !== 'gap') return;
    // Still a gap (a rebuild emptied the read model meanwhile, or the node lags): retried, as a dependency not ready.
    throw ChainFollowerErrors.gap(service, block.blockNumber, ledger ? 'the ledger node does not have them yet' : 'LEDGER_URL is not set to fetch them');
  }

  /** The node's own copy of an announced block (the read model stands at `last`); an announcement the node does not confirm is a forgery. */
  private async confirmed(announced: CommittedBlock, last: number): Promise<CommittedBlock> {
    const { ledger, service } = this.options;
    if (!ledger || last >= announced.blockNumber) return announced;
    const block = await ledger.block(announced.blockNumber);
    if (block === null) throw ChainFollowerErrors.forged(service, announced.blockNumber, 'the ledger node has no such block');
    const mismatch = differenceOf(announced, block);
    if (mismatch) throw ChainFollowerErrors.forged(service, announced.blockNumber, mismatch);
    return block;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.catchUp().then(
        () => this.schedule(this.options.pollIntervalMs),
        () => this.schedule(this.options.pollIntervalMs),
      );
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Applies the ledger node's blocks after the read model's position, up to
   * `until` (default: the node's head), one transaction per block. A call
   * while a run is going joins that run. Resolves to the read model's last block.
   */
  catchUp(until = Number.MAX_SAFE_INTEGER): Promise<number> {
    const { ledger, projection, service } = this.options;
    if (!ledger) return projection.lastBlock();
    const run = (this.running ??= (async () => {
      try {
        let last = await projection.lastBlock();
        while (!this.stopped && last < until) {
          const block = await ledger.block(last + 1);
          if (!block) break;
          await projection.apply(block);
          last = block.blockNumber;
          if (last % 100 === 0) this.options.logger({ level: 'info', message: `${service.toLowerCase()} read model catching up`, context: { block: last } });
        }
        this.lastError = undefined;
        return last;
      } catch (error) {
        this.lastError = (error as Error).message;
        this.options.logger({ level: 'warn', message: `${service.toLowerCase()} read model cannot catch up from the ledger node`, context: { err: this.lastError } });
        throw error;
      } finally {
        this.running = undefined;
      }
    })());
    return run;
  }

  /**
   * Empties the read model with `reset` and catches up from the ledger node
   * again. A catch-up run in flight read the position before the reset and
   * would answer the old head: it finishes first, and no run starts until the
   * reset committed (one that asks meanwhile joins the reset). Resolves to the
   * read model's last block, back at the node's head.
   */
  async rebuild(reset: () => Promise<void>): Promise<number> {
    for (let run = this.running; run; run = this.running) await run.catch(() => undefined);
    const resetting = (async () => {
      try {
        await reset();
        return this.options.projection.lastBlock();
      } finally {
        this.running = undefined;
      }
    })();
    this.running = resetting;
    await resetting;
    return this.catchUp();
  }

  /** Whether there is a ledger node to rebuild from. */
  get canRebuild(): boolean {
    return this.options.ledger !== undefined;
  }

  /** Why the last catch-up failed, for readiness details. */
  get problem(): string | undefined {
    return this.lastError;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await this.consumer?.close();
  }
}
