// Test helpers of the ledger domain: records, a manual clock, block fingerprints.
import type { CutBlock, OrderedRecord, OrderedRecordKind, OrderingClock } from '../src';

export const EPOCH_MS = Date.UTC(2026, 10, 26, 8, 0, 0);

/** The first byte that marks a configuration transaction in these tests. */
export const CONFIG_MARKER = 0xc0;
export const isConfigTransaction = (bytes: Uint8Array): boolean => bytes[0] === CONFIG_MARKER;

export function tx(size: number, fill = 1): Uint8Array {
  return new Uint8Array(size).fill(fill === CONFIG_MARKER ? 1 : fill);
}

export function configTx(size = 4): Uint8Array {
  const bytes = new Uint8Array(Math.max(1, size)).fill(2);
  bytes[0] = CONFIG_MARKER;
  return bytes;
}

/** Builds log records with consecutive offsets and a clock that moves 1 ms per record. */
export class RecordStream {
  private nextOffset: number;
  private ms: number;
  readonly records: OrderedRecord[] = [];

  constructor(firstOffset = 0, startMs = EPOCH_MS) {
    this.nextOffset = firstOffset;
    this.ms = startMs;
  }

  add(kind: OrderedRecordKind, bytes: Uint8Array, gap = 0, advanceMs = 1): OrderedRecord {
    this.nextOffset += gap;
    this.ms += advanceMs;
    const record: OrderedRecord = { offset: this.nextOffset, timestamp: new Date(this.ms).toISOString(), kind, bytes };
    this.nextOffset += 1;
    this.records.push(record);
    return record;
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** A byte-exact rendering of blocks: two lists are identical iff their fingerprints are equal. */
export function fingerprint(blocks: readonly CutBlock[]): string {
  return JSON.stringify(
    blocks.map((b) => [b.blockNumber, b.firstOffset, b.lastOffset, b.cutOffset, b.timestamp, b.reason, b.records.map((r) => [r.offset, r.timestamp, r.kind, hex(r.bytes)])]),
  );
}

/** Lets queued promise callbacks and immediates run (the code under test awaits between steps). */
export async function flush(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Polls `condition` (flushing in between) until true, or fails after `rounds`. */
export async function eventually(description: string, condition: () => boolean, rounds = 2_000): Promise<void> {
  for (let i = 0; i < rounds; i += 1) {
    if (condition()) return;
    await flush(1);
  }
  throw new Error(`timed out waiting for ${description}`);
}

/** A clock whose time moves only when the test says so. */
export class ManualClock implements OrderingClock {
  now = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): unknown {
    this.seq += 1;
    this.timers.set(this.seq, { at: this.now + Math.max(0, ms), callback });
    return this.seq;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward, running due timers in time order and letting their effects settle. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      await flush();
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = next[1].at;
      next[1].callback();
    }
    this.now = target;
    await flush();
  }
}
