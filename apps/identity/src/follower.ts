import { Topics } from '@alliance/contracts';
import { type Consumer, type MessagingLogger, startConsumer, type Transport } from '@alliance/shared/data-access-messaging';
import type { Pool } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import type { IdentityReadModel, LedgerBlockSource, ProjectedBlock } from './read-model';

export interface FollowerOptions {
  readonly readModel: IdentityReadModel;
  readonly pool: Pool;
  readonly transport?: Transport;
  /** Consumer group of this organization's identity service. */
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
 * Keeps the identity read model at its ledger node's head: applies each
 * `ledger.block.committed.v1` of its node as it arrives, fills gaps (a first
 * start, a rebuild, lost events) from the node's REST API, and polls that API
 * too, so the model converges even while the broker is down.
 */
export class IdentityFollower {
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  private lastError: string | undefined;

  constructor(private readonly options: FollowerOptions) {}

  async start(): Promise<void> {
    const { transport } = this.options;
    if (transport) {
      this.consumer = await startConsumer({
        transport,
        pool: this.options.pool,
        schema: 'identity',
        group: this.options.group,
        topics: [Topics.ledgerBlockCommitted],
        logger: this.options.logger,
        handler: async (event, client) => {
          const block = event.payload;
          if (block.nodeId !== this.options.nodeId || block.chainId !== this.options.chainId) return;
          const projected: ProjectedBlock = { chainId: block.chainId, blockNumber: block.blockNumber, headerHash: block.headerHash, transactions: block.transactions as ProjectedBlock['transactions'] };
          const outcome = await this.options.readModel.apply(projected, client);
          if (outcome !== 'gap') return;
          // Fill the gap from the node in transactions of their own, then apply this block.
          if (!this.options.ledger) throw new AllianceError('IDENTITY.GAP', 'unavailable', `block ${block.blockNumber} arrived before the blocks before it and LEDGER_URL is not set to fetch them`);
          await this.catchUp(block.blockNumber - 1);
          if ((await this.options.readModel.apply(projected, client)) === 'gap') throw new AllianceError('IDENTITY.GAP', 'unavailable', `the ledger node does not have the blocks before ${block.blockNumber} yet`);
        },
      });
    }
    if (this.options.ledger && this.options.pollIntervalMs > 0) this.schedule(0);
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
    const ledger = this.options.ledger;
    if (!ledger) return this.options.readModel.position().then((p) => p.lastBlock);
    const run = (this.running ??= (async () => {
      try {
        let last = (await this.options.readModel.position()).lastBlock;
        while (!this.stopped && last < until) {
          const block = await ledger.block(last + 1);
          if (!block) break;
          await this.options.readModel.apply(block);
          last = block.blockNumber;
          if (last % 100 === 0) this.options.logger({ level: 'info', message: 'identity read model catching up', context: { block: last } });
        }
        this.lastError = undefined;
        return last;
      } catch (error) {
        this.lastError = (error as Error).message;
        this.options.logger({ level: 'warn', message: 'identity read model cannot catch up from the ledger node', context: { err: this.lastError } });
        throw error;
      } finally {
        this.running = undefined;
      }
    })());
    return run;
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
