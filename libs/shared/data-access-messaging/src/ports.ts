import type { EventEnvelope } from '@alliance/contracts';

/**
 * The project's messaging port. The outbox relay and the idempotent consumer
 * are written once against it; Kafka (production) and the PostgreSQL log
 * (embedded "solo" mode) implement it. It deliberately says nothing about
 * partitions beyond what a consumer needs to report where a record came from.
 */
export interface Transport {
  /** `kafka` or `postgres`, for logs and readiness names. */
  readonly kind: TransportKind;

  /**
   * Appends the records; resolves only when every one is durably accepted
   * (Kafka: acknowledged by all in-sync replicas), rejects otherwise, in which
   * case some may have been written: callers retry and consumers deduplicate.
   * Records with one topic and key keep their order.
   */
  publish(records: readonly EventEnvelope[]): Promise<void>;

  /**
   * Delivers records of `topics` to `handle`, one batch (one topic partition)
   * at a time. A group without a committed position starts at the beginning.
   * Resolves once the subscription runs; rejects when it cannot start.
   */
  subscribe(options: SubscribeOptions): Promise<Subscription>;

  /** Creates the topics that do not exist yet; publishing to an unknown topic fails. */
  ensureTopics(names: readonly string[]): Promise<void>;

  /** True when the transport answers now (readiness); never throws. */
  ping(): Promise<boolean>;

  /** Closes subscriptions (after their in-flight record) and connections. */
  close(): Promise<void>;
}

export type TransportKind = 'kafka' | 'postgres';

/** One record as the transport holds it: the bytes are not trusted yet. */
export interface TransportRecord {
  readonly topic: string;
  readonly partition: number;
  /** Position within the partition, decimal (Kafka offsets are 64-bit). */
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  /** When the transport appended it (UTC ISO 8601). */
  readonly timestamp: string;
}

export interface RecordBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly TransportRecord[];
  /**
   * Durably moves the group's position past `record` (records are committed in
   * order). Until then the record is redelivered after a crash or rebalance.
   */
  commit(record: TransportRecord): Promise<void>;
  /** Keeps the group membership alive during long work; may throw when the group rebalances. */
  heartbeat(): Promise<void>;
  /** False once the subscription is closing or lost the partition: stop and leave the rest uncommitted. */
  isActive(): boolean;
}

export interface SubscribeOptions {
  readonly group: string;
  readonly topics: readonly string[];
  /**
   * Processes a batch, committing each record after it is handled. Returning
   * early leaves the uncommitted rest for redelivery; throwing makes the
   * transport back off and redeliver from the last committed position.
   */
  handle(batch: RecordBatch): Promise<void>;
}

export interface Subscription {
  /** Lets the in-flight record finish, commits it, and leaves the group. */
  close(): Promise<void>;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LogEntry {
  readonly level: LogLevel;
  readonly message: string;
  readonly context?: Readonly<Record<string, unknown>>;
}

/** Services pass their own logger (pino etc.); the library never writes to the console. */
export type MessagingLogger = (entry: LogEntry) => void;

export const silentLogger: MessagingLogger = () => undefined;
