import { BlockCutter, type BlockCutterConfig, type BlockCutterState, type CutBlock, cutterStateAfter, encodeTimeToCut } from './block-cutter';
import { type OrderedRecord, type OrderingLog, type OrderingLogger, type OrderingReader, silentOrderingLogger } from './ordering';

/** Timers the driver uses (batch timer, retry backoff); tests pass a manual clock. */
export interface OrderingClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: OrderingClock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface OrderingDriverOptions {
  readonly log: OrderingLog;
  readonly cutter: BlockCutterConfig;
  /** Restored from the last committed block (`cutterStateAfter(block)`), or INITIAL_CUTTER_STATE. */
  readonly state: BlockCutterState;
  /** How long a non-empty batch may wait before this node appends a time-to-cut record. */
  readonly batchTimeoutMs: number;
  /**
   * Persists the block and `consumedOffset` (= block.lastOffset) atomically,
   * e.g. in one PostgreSQL transaction. Called once per block, in block order,
   * never concurrently. After a rejection whose outcome is unknown (connection
   * lost during COMMIT) the same block is offered again: make it idempotent
   * by block number.
   */
  commit(block: CutBlock, consumedOffset: number): Promise<void>;
  /**
   * Header signatures in log order, interleaved with commits: a signature is
   * handed over only after every block cut before it in the log is committed.
   * Delivered at least once (again after a restart, since the consumed offset
   * moves with blocks only): make it idempotent.
   */
  onHeaderSignature?(record: OrderedRecord): Promise<void>;
  readonly clock?: OrderingClock;
  /** Cut blocks waiting for commit before reading pauses (default 8): bounded read-ahead. */
  readonly maxUncommittedBlocks?: number;
  /** Backoff between attempts of a failed commit or signature hand-over (default 100 ms .. 5 s). */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  /** Errors that must halt the node (e.g. a fork) instead of being retried; default: none. */
  isFatal?(error: unknown): boolean;
  readonly logger?: OrderingLogger;
}

export interface OrderingDriverStats {
  blocksCommitted: number;
  headerSignatures: number;
  timeToCutPosted: number;
  timeToCutFailed: number;
  redeliveredSkipped: number;
  commitRetries: number;
}

type Work = { readonly type: 'block'; readonly block: CutBlock } | { readonly type: 'signature'; readonly record: OrderedRecord };

/**
 * Glues a log, a cutter, the batch timer and the ledger's commit together for
 * one chain on one node (framework-free; the ledger app wraps it):
 * reads from the stored offset, cuts blocks, commits them in order through a
 * short queue (reading pauses while it is full), and appends a time-to-cut
 * record when a batch has waited `batchTimeoutMs`. Any node may post one; the
 * first for a block number wins and the rest are stale, so the timers of all
 * nodes need no coordination.
 */
export class OrderingDriver {
  readonly stats: OrderingDriverStats = { blocksCommitted: 0, headerSignatures: 0, timeToCutPosted: 0, timeToCutFailed: 0, redeliveredSkipped: 0, commitRetries: 0 };
  private readonly options: OrderingDriverOptions;
  private readonly cutter: BlockCutter;
  private readonly clock: OrderingClock;
  private readonly log: OrderingLogger;
  private readonly maxUncommitted: number;
  private committed: BlockCutterState;
  private reader: OrderingReader | undefined;
  private readonly queue: Work[] = [];
  private working: Promise<void> | undefined;
  private progressWaiters: (() => void)[] = [];
  private sleepers = new Set<() => void>();
  private readonly appends = new Set<Promise<void>>();
  private timer: unknown;
  private armedFor: number | undefined;
  private started = false;
  private stopping = false;
  private shutdown: Promise<void> | undefined;
  private readonly finished: Promise<void>;
  private settle!: (error?: unknown) => void;

  constructor(options: OrderingDriverOptions) {
    if (!(options.batchTimeoutMs > 0)) throw new RangeError(`batchTimeoutMs must be > 0, got ${options.batchTimeoutMs}`);
    this.options = options;
    this.cutter = new BlockCutter(options.cutter, options.state);
    this.committed = { nextBlockNumber: options.state.nextBlockNumber, lastOffset: options.state.lastOffset };
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentOrderingLogger;
    this.maxUncommitted = Math.max(1, options.maxUncommittedBlocks ?? 8);
    this.finished = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Observed through whenStopped(); an unobserved halt must not crash the process as an unhandled rejection.
    this.finished.catch(() => undefined);
  }

  /** Starts reading at `state.lastOffset + 1`; rejects when the log refuses that position. */
  async start(): Promise<void> {
    if (this.started) throw new Error('OrderingDriver.start() called twice');
    this.started = true;
    this.reader = await this.options.log.read({ fromOffset: this.committed.lastOffset + 1, handle: (batch) => this.handle(batch) });
    if (this.stopping) await this.reader.close();
  }

  /** Stops reading and timers; lets the in-flight commit finish; uncommitted blocks are cut again after a restart. */
  async stop(): Promise<void> {
    await this.close(undefined);
  }

  /** Resolves after stop(); rejects with the error that halted the driver (see `isFatal`, or a cutter failure). */
  whenStopped(): Promise<void> {
    return this.finished;
  }

  /** What the ledger has durably committed through this driver. */
  get committedState(): BlockCutterState {
    return this.committed;
  }

  get nextBlockNumber(): number {
    return this.cutter.nextBlockNumber;
  }

  private async handle(batch: readonly OrderedRecord[]): Promise<void> {
    for (const record of batch) {
      if (this.stopping) return;
      if (record.offset <= this.cutter.lastFedOffset) {
        this.stats.redeliveredSkipped += 1;
        continue;
      }
      let blocks: CutBlock[];
      try {
        blocks = this.cutter.feed(record);
      } catch (error) {
        // Deterministic input, deterministic failure: retrying would fail forever, skipping would fork.
        this.log({ level: 'error', message: `ordering halted: record ${record.offset} cannot be cut`, context: { error: messageOf(error) } });
        void this.close(error);
        return;
      }
      if (record.kind === 'header-signature' && this.options.onHeaderSignature) this.queue.push({ type: 'signature', record });
      for (const block of blocks) this.queue.push({ type: 'block', block });
      if (this.queue.length > 0) this.kick();
      while (this.queue.length >= this.maxUncommitted && !this.stopping) await this.nextProgress();
    }
    this.updateTimer();
  }

  private kick(): void {
    this.working ??= this.work().finally(() => {
      this.working = undefined;
      if (this.queue.length > 0 && !this.stopping) this.kick();
    });
  }

  private async work(): Promise<void> {
    while (this.queue.length > 0 && !this.stopping) {
      const item = this.queue[0];
      const done = await this.attempt(item);
      if (!done) break;
      this.queue.shift();
      if (item.type === 'block') {
        this.committed = cutterStateAfter(item.block);
        this.stats.blocksCommitted += 1;
      } else {
        this.stats.headerSignatures += 1;
      }
      this.notifyProgress();
    }
    this.notifyProgress();
  }

  /** Runs one queued item until it succeeds (true), the driver stops, or a fatal error halts it (false). */
  private async attempt(item: Work): Promise<boolean> {
    const { initialMs, maxMs } = this.options.retry ?? { initialMs: 100, maxMs: 5_000 };
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        if (item.type === 'block') await this.options.commit(item.block, item.block.lastOffset);
        else await this.options.onHeaderSignature?.(item.record);
        return true;
      } catch (error) {
        const what = item.type === 'block' ? `commit of block ${item.block.blockNumber}` : `header signature at offset ${item.record.offset}`;
        if (this.options.isFatal?.(error)) {
          this.log({ level: 'error', message: `ordering halted: ${what} failed fatally`, context: { error: messageOf(error) } });
          void this.close(error);
          return false;
        }
        this.stats.commitRetries += 1;
        const delayMs = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
        this.log({ level: attempt === 1 ? 'warn' : 'debug', message: `${what} failed; retrying in ${delayMs} ms`, context: { attempt, error: messageOf(error) } });
        await this.sleep(delayMs);
      }
    }
    return false;
  }

  // Batch timer: armed when a batch starts waiting for block n, disarmed when n is cut.
  private updateTimer(): void {
    if (this.stopping) return;
    if (this.cutter.pendingSince() === null) {
      this.disarm();
      return;
    }
    const blockNumber = this.cutter.nextBlockNumber;
    if (this.armedFor === blockNumber) return;
    this.disarm();
    this.armedFor = blockNumber;
    this.timer = this.clock.setTimeout(() => this.onTimer(blockNumber), this.options.batchTimeoutMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
  }

  private onTimer(blockNumber: number): void {
    this.timer = undefined;
    if (this.stopping || this.armedFor !== blockNumber) return;
    const posted = this.options.log.append([{ kind: 'time-to-cut', bytes: encodeTimeToCut(blockNumber) }]).then(
      () => {
        this.stats.timeToCutPosted += 1;
      },
      (error: unknown) => {
        this.stats.timeToCutFailed += 1;
        this.log({ level: 'warn', message: `time-to-cut for block ${blockNumber} not appended`, context: { error: messageOf(error) } });
      },
    );
    this.appends.add(posted);
    void posted.finally(() => this.appends.delete(posted));
    // Posted again one timeout later if the block is still not cut then (append lost, or another node's
    // duplicate is harmless: it is stale by the time it is read).
    this.timer = this.clock.setTimeout(() => this.onTimer(blockNumber), this.options.batchTimeoutMs);
  }

  private nextProgress(): Promise<void> {
    return new Promise((resolve) => this.progressWaiters.push(resolve));
  }

  private notifyProgress(): void {
    const waiters = this.progressWaiters;
    this.progressWaiters = [];
    for (const wake of waiters) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.clock.clearTimeout(handle);
        this.sleepers.delete(wake);
        resolve();
      };
      const handle = this.clock.setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private close(error: unknown): Promise<void> {
    this.shutdown ??= (async () => {
      this.stopping = true;
      this.disarm();
      if (error !== undefined) this.queue.length = 0;
      for (const wake of [...this.sleepers]) wake();
      this.notifyProgress();
      await this.reader?.close().catch((closeError: unknown) => {
        this.log({ level: 'warn', message: 'closing the ordering reader failed', context: { error: messageOf(closeError) } });
      });
      await this.working;
      await Promise.allSettled([...this.appends]);
      this.settle(error);
    })();
    return this.shutdown;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
