import { AllianceError } from '@alliance/shared/util-errors';
import { invalidRecord, OrderingErrorCodes } from './ordering-errors';

/**
 * The ordering port (ARCHITECTURE §4): one totally ordered, append-only log per
 * chain. Kafka implements it in production (one single-partition topic), a
 * PostgreSQL table in the embedded "solo" mode, an in-memory array in tests.
 * Every ledger node reads the whole log and cuts the same blocks from it.
 */

export type OrderedRecordKind = 'transaction' | 'time-to-cut' | 'header-signature';

export const ORDERED_RECORD_KINDS: readonly OrderedRecordKind[] = ['transaction', 'time-to-cut', 'header-signature'];

export function isOrderedRecordKind(value: unknown): value is OrderedRecordKind {
  return typeof value === 'string' && (ORDERED_RECORD_KINDS as readonly string[]).includes(value);
}

export interface OrderedRecord {
  /** Position in the chain's log: a safe integer, strictly increasing in read order. */
  readonly offset: number;
  /**
   * When the LOG appended the record (Kafka LogAppendTime, PostgreSQL
   * clock_timestamp()), RFC 3339 UTC with milliseconds: `2026-11-26T08:00:00.000Z`.
   * Never a node's clock: every node must derive the same block timestamps.
   */
  readonly timestamp: string;
  readonly kind: OrderedRecordKind;
  readonly bytes: Uint8Array;
}

export interface RecordToAppend {
  readonly kind: OrderedRecordKind;
  readonly bytes: Uint8Array;
}

export interface ReadOptions {
  /** First offset to deliver (inclusive): the stored offset of the last committed block + 1. */
  readonly fromOffset: number;
  /**
   * Receives records in offset order, batched, never concurrently. The next
   * batch is delivered only after this resolves, which is the reader's
   * backpressure. If it rejects, the same records are delivered again after a
   * backoff: handlers skip offsets they have already seen.
   */
  handle(batch: readonly OrderedRecord[]): Promise<void>;
}

export interface OrderingReader {
  /** Stops delivering; resolves after the in-flight `handle` call has settled. */
  close(): Promise<void>;
}

export interface OrderingLog {
  /**
   * Appends the records in the given order, contiguously as far as the log
   * allows, and resolves once they are durable (Kafka: acknowledged by all
   * in-sync replicas). Resolves to their offsets when the log reports them,
   * else to `[]`. A rejection means some may have been appended anyway:
   * callers retry, and duplicate transactions are rejected by the ledger.
   */
  append(records: readonly RecordToAppend[]): Promise<number[]>;
  /**
   * Delivers every record from `fromOffset` on, forever, in offset order. The
   * log keeps no position of its own that correctness depends on: the reader
   * persists what it consumed and passes it back after a restart. Rejects when
   * `fromOffset` lies outside the log (LEDGER.ORDERING_OFFSET_OUT_OF_RANGE).
   */
  read(options: ReadOptions): Promise<OrderingReader>;
  /** True when the log answers now (readiness); never throws. */
  ping(): Promise<boolean>;
  /** Closes readers and connections; appends still in flight settle first. */
  close(): Promise<void>;
}

/** Same shape as the messaging library's logger, so a service passes one function to both. */
export type OrderingLogLevel = 'error' | 'warn' | 'info' | 'debug';
export interface OrderingLogEntry {
  readonly level: OrderingLogLevel;
  readonly message: string;
  readonly context?: Readonly<Record<string, unknown>>;
}
export type OrderingLogger = (entry: OrderingLogEntry) => void;
export const silentOrderingLogger: OrderingLogger = () => undefined;

// Dots separate the parts of topic and group names, so ids may not contain any.
const CHAIN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** Throws LEDGER.INVALID_CHAIN_ID unless `id` fits into Kafka topic and group names. */
export function assertOrderingId(id: string, what = 'chain id'): void {
  if (!CHAIN_ID_PATTERN.test(id)) {
    throw new AllianceError(OrderingErrorCodes.invalidChainId, 'invalid', `${what} "${id}" must be 1-100 letters, digits, '-' or '_', starting with a letter or digit`);
  }
}

/** The Kafka topic that orders chain `chainId`: `ledger.<chainId>.ordering.v1`. */
export function orderingTopicOf(chainId: string): string {
  assertOrderingId(chainId);
  return `ledger.${chainId}.ordering.v1`;
}

const LOG_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** RFC 3339 UTC with exactly three fraction digits and `Z`, as logs report record timestamps. */
export function isLogTimestamp(value: string): boolean {
  if (!LOG_TIMESTAMP.test(value)) return false;
  const ms = Date.parse(value);
  // Round-tripping rejects impossible dates such as 2026-02-30 that Date.parse would roll over.
  return Number.isFinite(ms) && new Date(ms).toISOString() === value;
}

/** Milliseconds since the epoch → log timestamp (years 0000-9999 only, as RFC 3339 allows). */
export function toLogTimestamp(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < -62167219200000 || ms > 253402300799999) {
    throw new RangeError(`timestamp ${ms} ms is not a representable RFC 3339 instant`);
  }
  return new Date(ms).toISOString();
}

export function isOffset(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Validates records before they reach a log; every implementation refuses the same inputs. */
export function assertRecordsToAppend(records: readonly RecordToAppend[]): void {
  if (!Array.isArray(records)) throw invalidRecord('append() takes an array of records');
  records.forEach((record, index) => {
    if (!isOrderedRecordKind(record?.kind)) throw invalidRecord(`record ${index} has unknown kind ${JSON.stringify(record?.kind)}`);
    if (!(record.bytes instanceof Uint8Array)) throw invalidRecord(`record ${index} has no bytes (Uint8Array)`);
  });
}
