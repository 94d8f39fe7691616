import type { RecordToAppend } from '@alliance/ledger/domain';

export interface AppendQueueOptions {
  /** Writes one group of records in one request; resolves to their offsets, or [] when unknown. */
  send(records: readonly RecordToAppend[]): Promise<number[]>;
  /** Writes one append too large for a request (default: `send` alone). */
  sendOversized?(records: readonly RecordToAppend[]): Promise<number[]>;
  /** Size of one request, at most; appends are never split between requests unless oversized. */
  readonly maxBytes: number;
  readonly maxRecords: number;
  /** Bytes a record costs beyond its payload, for sizing. */
  readonly recordOverhead: number;
}

interface Pending {
  readonly records: readonly RecordToAppend[];
  readonly bytes: number;
  resolve(offsets: number[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit for appends: one request in flight per log instance; appends
 * arriving meanwhile wait and go together in the next request, in arrival
 * order. Concurrent callers then share round trips instead of queueing on a
 * lock (PostgreSQL) or on one in-flight request (an idempotent Kafka producer).
 */
export class AppendQueue {
  private readonly queue: Pending[] = [];
  private draining: Promise<void> | undefined;

  constructor(private readonly options: AppendQueueOptions) {}

  append(records: readonly RecordToAppend[]): Promise<number[]> {
    const bytes = records.reduce((sum, r) => sum + r.bytes.length + this.options.recordOverhead, 0);
    const offsets = new Promise<number[]>((resolve, reject) => this.queue.push({ records, bytes, resolve, reject }));
    this.kick();
    return offsets;
  }

  /** Resolves once everything queued so far has been sent (or has failed). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private kick(): void {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    const { maxBytes, maxRecords } = this.options;
    while (this.queue.length > 0) {
      const first = this.queue[0];
      if (first.bytes > maxBytes || first.records.length > maxRecords) {
        this.queue.shift();
        await (this.options.sendOversized ?? this.options.send)(first.records).then(first.resolve, first.reject);
        continue;
      }
      const group: Pending[] = [];
      let bytes = 0;
      let count = 0;
      for (let next = this.queue[0]; next !== undefined && bytes + next.bytes <= maxBytes && count + next.records.length <= maxRecords; next = this.queue[0]) {
        group.push(next);
        bytes += next.bytes;
        count += next.records.length;
        this.queue.shift();
      }
      try {
        const offsets = await this.options.send(group.flatMap((p) => p.records));
        let at = 0;
        for (const pending of group) {
          pending.resolve(offsets.length === 0 ? [] : offsets.slice(at, at + pending.records.length));
          at += pending.records.length;
        }
      } catch (error) {
        for (const pending of group) pending.reject(error);
      }
    }
  }
}
