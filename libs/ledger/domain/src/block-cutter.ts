import { isLogTimestamp, isOffset, isOrderedRecordKind, type OrderedRecord } from './ordering';

/**
 * Deterministic block cutting (Hyperledger Fabric 1.x's Kafka orderer,
 * ARCHITECTURE §4). Every node feeds the same log into its own cutter and must
 * get byte-identical blocks, so nothing here reads a clock, a random source or
 * anything but the records and the configuration.
 *
 * Rules, in the order they are checked for a transaction:
 * 0. A record the chain does not accept (`acceptsTransaction` false: not a
 *    well-formed envelope of this chain) goes in no block; it is consumed like a
 *    header signature, so blocks carry only envelopes a verifier can decode.
 * 1. A configuration transaction cuts the pending batch (if any), then forms a block alone.
 * 2. A transaction larger than `maxBytes` cuts the pending batch (if any), then forms a block alone.
 * 3. A transaction that would push the pending batch over `maxBytes` cuts it first and starts the next.
 * 4. A batch is cut as soon as it holds `maxTransactions`.
 * A time-to-cut record naming block n cuts the pending batch iff n is the number
 * that batch would get and the batch is not empty; any other (older, duplicate,
 * future, malformed) is stale and ignored. Header signatures are not the cutter's business.
 */

export interface BlockCutterConfig {
  /** Transactions per block, at most (integer >= 1). */
  readonly maxTransactions: number;
  /** Sum of transaction byte lengths per block, at most, unless one transaction alone is larger (integer >= 1). */
  readonly maxBytes: number;
  /** Must be deterministic and total: the same answer on every node, for any bytes. */
  isConfigTransaction(bytes: Uint8Array): boolean;
  /** Whether a transaction record may go in a block at all (default: every one); deterministic and total too. Asked first. */
  acceptsTransaction?(bytes: Uint8Array): boolean;
}

/** What a node persists with each committed block to resume cutting after a restart. */
export interface BlockCutterState {
  /** Number the next cut block gets. */
  readonly nextBlockNumber: number;
  /** `lastOffset` of the last committed block, -1 before any: reading resumes at `lastOffset + 1`. */
  readonly lastOffset: number;
}

/**
 * Before any block was cut. Block 0 is the genesis block, built from the
 * consortium configuration rather than cut from the log, so cutting starts at 1.
 */
export const INITIAL_CUTTER_STATE: BlockCutterState = Object.freeze({ nextBlockNumber: 1, lastOffset: -1 });

export type CutReason =
  | 'max-transactions' // the batch reached maxTransactions
  | 'max-bytes' // the next transaction would not fit; it starts the next batch
  | 'oversized-transaction' // one transaction larger than maxBytes, alone
  | 'before-config-transaction' // the pending batch, flushed by a configuration transaction
  | 'config-transaction' // a configuration transaction, alone
  | 'time-to-cut'; // the first time-to-cut record for this block number

export interface CutBlock {
  readonly blockNumber: number;
  /** Transactions only, in log order. */
  readonly records: readonly OrderedRecord[];
  /** Offset of the block's first transaction. */
  readonly firstOffset: number;
  /**
   * Everything up to and including this offset is consumed once the block is
   * committed; a restarted node reads from `lastOffset + 1`. It is the offset of
   * the record that caused the cut, or the one before it when that record was
   * not part of this block (it belongs to the next batch and must be read again).
   */
  readonly lastOffset: number;
  /** Offset of the record that caused the cut. */
  readonly cutOffset: number;
  /** Log timestamp of the record that caused the cut: the same on every node. */
  readonly timestamp: string;
  readonly reason: CutReason;
}

/** The state to persist once `block` is committed (also from a stored block's number and offset). */
export function cutterStateAfter(block: Pick<CutBlock, 'blockNumber' | 'lastOffset'>): BlockCutterState {
  return { nextBlockNumber: block.blockNumber + 1, lastOffset: block.lastOffset };
}

export class BlockCutter {
  private readonly maxTransactions: number;
  private readonly maxBytes: number;
  private readonly isConfigTransaction: (bytes: Uint8Array) => boolean;
  private readonly acceptsTransaction: (bytes: Uint8Array) => boolean;
  private pending: OrderedRecord[] = [];
  private pendingBytes = 0;
  private next: number;
  private lastFed: number;

  constructor(config: BlockCutterConfig, restoredState: BlockCutterState = INITIAL_CUTTER_STATE) {
    if (!Number.isSafeInteger(config.maxTransactions) || config.maxTransactions < 1) throw new RangeError(`maxTransactions must be an integer >= 1, got ${config.maxTransactions}`);
    if (!Number.isSafeInteger(config.maxBytes) || config.maxBytes < 1) throw new RangeError(`maxBytes must be an integer >= 1, got ${config.maxBytes}`);
    if (typeof config.isConfigTransaction !== 'function') throw new TypeError('isConfigTransaction must be a function');
    if (!isOffset(restoredState.nextBlockNumber)) throw new RangeError(`nextBlockNumber must be a safe integer >= 0, got ${restoredState.nextBlockNumber}`);
    if (!Number.isSafeInteger(restoredState.lastOffset) || restoredState.lastOffset < -1) throw new RangeError(`lastOffset must be a safe integer >= -1, got ${restoredState.lastOffset}`);
    this.maxTransactions = config.maxTransactions;
    this.maxBytes = config.maxBytes;
    this.isConfigTransaction = config.isConfigTransaction;
    if (config.acceptsTransaction !== undefined && typeof config.acceptsTransaction !== 'function') throw new TypeError('acceptsTransaction must be a function');
    this.acceptsTransaction = config.acceptsTransaction ?? (() => true);
    this.next = restoredState.nextBlockNumber;
    this.lastFed = restoredState.lastOffset;
  }

  /** The number the pending batch will get; a time-to-cut record must name it. */
  get nextBlockNumber(): number {
    return this.next;
  }

  /** Offset of the last record fed (or the restored `lastOffset`). */
  get lastFedOffset(): number {
    return this.lastFed;
  }

  get pendingTransactions(): number {
    return this.pending.length;
  }

  /**
   * The first pending transaction, or null when nothing waits. The node runs
   * its batch timer while this is non-null and, when it fires, appends
   * `encodeTimeToCut(nextBlockNumber)`.
   */
  pendingSince(): { readonly offset: number; readonly timestamp: string } | null {
    const first = this.pending[0];
    return first ? { offset: first.offset, timestamp: first.timestamp } : null;
  }

  /** Feeds the next record of the log; returns the blocks it cuts (0, 1 or 2), in order. */
  feed(record: OrderedRecord): CutBlock[] {
    this.assertNext(record);
    switch (record.kind) {
      case 'header-signature':
        this.lastFed = record.offset;
        return [];
      case 'time-to-cut': {
        this.lastFed = record.offset;
        if (this.pending.length === 0 || decodeTimeToCut(record.bytes) !== this.next) return [];
        return [this.cut(record, 'time-to-cut', record.offset)];
      }
      case 'transaction':
        return this.feedTransaction(record);
    }
  }

  private feedTransaction(record: OrderedRecord): CutBlock[] {
    // Asked before any state changes: if they throw, the cutter is still consistent.
    if (this.acceptsTransaction(record.bytes) !== true) {
      this.lastFed = record.offset;
      return [];
    }
    const isConfig = this.isConfigTransaction(record.bytes) === true;
    this.lastFed = record.offset;
    const size = record.bytes.length;
    const blocks: CutBlock[] = [];
    if (isConfig || size > this.maxBytes) {
      if (this.pending.length > 0) blocks.push(this.cut(record, isConfig ? 'before-config-transaction' : 'max-bytes', record.offset - 1));
      this.add(record);
      blocks.push(this.cut(record, isConfig ? 'config-transaction' : 'oversized-transaction', record.offset));
      return blocks;
    }
    if (this.pending.length > 0 && this.pendingBytes + size > this.maxBytes) blocks.push(this.cut(record, 'max-bytes', record.offset - 1));
    this.add(record);
    if (this.pending.length >= this.maxTransactions) blocks.push(this.cut(record, 'max-transactions', record.offset));
    return blocks;
  }

  private add(record: OrderedRecord): void {
    this.pending.push(record);
    this.pendingBytes += record.bytes.length;
  }

  private cut(cause: OrderedRecord, reason: CutReason, lastOffset: number): CutBlock {
    const records = this.pending;
    const block: CutBlock = {
      blockNumber: this.next,
      records,
      firstOffset: records[0].offset,
      lastOffset,
      cutOffset: cause.offset,
      timestamp: cause.timestamp,
      reason,
    };
    this.next += 1;
    this.pending = [];
    this.pendingBytes = 0;
    return block;
  }

  /** A record out of order is a bug of the reader, never something to cut around. */
  private assertNext(record: OrderedRecord): void {
    if (!isOffset(record.offset) || record.offset <= this.lastFed) {
      throw new RangeError(`record offset ${record.offset} does not follow offset ${this.lastFed}: records must be fed once each, in offset order`);
    }
    if (!isOrderedRecordKind(record.kind)) throw new TypeError(`record ${record.offset} has unknown kind ${JSON.stringify(record.kind)}`);
    if (!isLogTimestamp(record.timestamp)) throw new TypeError(`record ${record.offset} has timestamp ${JSON.stringify(record.timestamp)}, not RFC 3339 UTC with milliseconds`);
    if (!(record.bytes instanceof Uint8Array)) throw new TypeError(`record ${record.offset} has no bytes`);
  }
}

// Time-to-cut payload: the UTF-8 bytes of {"blockNumber":n}, which is already
// RFC 8785 canonical JSON for a safe integer n. Decoding accepts that exact
// form only, so every node reads the same number from the same bytes.
const TIME_TO_CUT = /^\{"blockNumber":(0|[1-9][0-9]{0,15})\}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function encodeTimeToCut(blockNumber: number): Uint8Array {
  if (!isOffset(blockNumber)) throw new RangeError(`block number must be a safe integer >= 0, got ${blockNumber}`);
  return new TextEncoder().encode(`{"blockNumber":${blockNumber}}`);
}

/** The block number a time-to-cut record names, or undefined when its bytes are not exactly the canonical form. */
export function decodeTimeToCut(bytes: Uint8Array): number | undefined {
  if (bytes.length > 64) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  const match = TIME_TO_CUT.exec(text);
  if (!match) return undefined;
  const blockNumber = Number(match[1]);
  return Number.isSafeInteger(blockNumber) ? blockNumber : undefined;
}
