import { offsetOutOfRange, orderingLogClosed } from './ordering-errors';
import { assertRecordsToAppend, isOffset, type OrderedRecord, type OrderingLog, type OrderingReader, type ReadOptions, type RecordToAppend, toLogTimestamp } from './ordering';

export interface InMemoryOrderingLogOptions {
  /** The log's clock (ms since the epoch); timestamps never go backwards, like one Kafka partition's. */
  readonly now?: () => number;
  /** Records per delivered batch, at most (default 100). */
  readonly batchSize?: number;
  /** Called before every append; throwing makes the append fail (tests of outages). */
  readonly beforeAppend?: (records: readonly RecordToAppend[]) => void | Promise<void>;
  /** Delay after a rejected `handle` before the same records are delivered again (default 10 ms). */
  readonly redeliveryDelayMs?: number;
}

/**
 * The ordering port in memory: same semantics as the Kafka and PostgreSQL logs
 * (gapless offsets from 0, log-assigned timestamps, in-order batched delivery,
 * redelivery after a rejected batch). For tests and single-process simulations.
 */
export class InMemoryOrderingLog implements OrderingLog {
  private readonly entries: OrderedRecord[] = [];
  private readonly now: () => number;
  private readonly batchSize: number;
  private readonly redeliveryDelayMs: number;
  private readonly beforeAppend: InMemoryOrderingLogOptions['beforeAppend'];
  private readonly readers = new Set<InMemoryReader>();
  private lastTimestampMs = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(options: InMemoryOrderingLogOptions = {}) {
    this.now = options.now ?? Date.now;
    this.batchSize = options.batchSize ?? 100;
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? 10;
    this.beforeAppend = options.beforeAppend;
  }

  /** Every record appended so far, in offset order. */
  records(): readonly OrderedRecord[] {
    return this.entries;
  }

  async append(records: readonly RecordToAppend[]): Promise<number[]> {
    if (this.closed) throw orderingLogClosed('in-memory');
    assertRecordsToAppend(records);
    await this.beforeAppend?.(records);
    if (this.closed) throw orderingLogClosed('in-memory');
    // One timestamp per append, like one Kafka record batch with LogAppendTime.
    this.lastTimestampMs = Math.max(this.lastTimestampMs, Math.trunc(this.now()));
    const timestamp = toLogTimestamp(this.lastTimestampMs);
    const offsets = records.map((record) => {
      const offset = this.entries.length;
      this.entries.push({ offset, timestamp, kind: record.kind, bytes: Uint8Array.from(record.bytes) });
      return offset;
    });
    for (const reader of this.readers) reader.wake();
    return offsets;
  }

  async read(options: ReadOptions): Promise<OrderingReader> {
    if (this.closed) throw orderingLogClosed('in-memory');
    if (!isOffset(options.fromOffset) || options.fromOffset > this.entries.length) {
      throw offsetOutOfRange(options.fromOffset, 0, this.entries.length, 'the in-memory log');
    }
    const reader = new InMemoryReader(this.entries, options, this.batchSize, this.redeliveryDelayMs, () => this.readers.delete(reader));
    this.readers.add(reader);
    reader.start();
    return reader;
  }

  async ping(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.readers].map((reader) => reader.close()));
  }
}

class InMemoryReader implements OrderingReader {
  private position: number;
  private closing = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly entries: readonly OrderedRecord[],
    private readonly options: ReadOptions,
    private readonly batchSize: number,
    private readonly redeliveryDelayMs: number,
    private readonly onClosed: () => void,
  ) {
    this.position = options.fromOffset;
  }

  start(): void {
    this.loop = this.run();
  }

  wake(): void {
    this.wakeUp?.();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wake();
    await this.loop;
    this.onClosed();
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      if (this.position >= this.entries.length) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        this.wakeUp = undefined;
        continue;
      }
      const batch = this.entries.slice(this.position, this.position + this.batchSize);
      try {
        await this.options.handle(batch);
        this.position += batch.length;
      } catch {
        // Same records again after a pause, like the durable logs.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.redeliveryDelayMs);
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeUp = undefined;
      }
    }
  }
}
