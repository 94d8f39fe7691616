import type { EventEnvelope } from '@alliance/contracts';
import {
  type Admin,
  type Consumer as KafkaConsumer,
  type EachBatchPayload,
  Kafka,
  logLevel,
  type Message,
  type KafkaConfig,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { backoffDelay } from './backoff';
import { kafkaLogCreator, withTimeout } from './kafka-support';
import { encodeEnvelope } from './codec';
import { publishFailed, transportClosed } from './errors';
import { MAX_EVENT_BYTES } from './outbox';
import { type MessagingLogger, type RecordBatch, silentLogger, type SubscribeOptions, type Subscription, type Transport, type TransportRecord } from './ports';

export interface KafkaTransportOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Receives kafkajs's own log lines too (from `info` up); nothing goes to the console. */
  readonly logger?: MessagingLogger;
  /** Partitions of topics created by ensureTopics (default 1: one total order per topic). */
  readonly numPartitions?: number;
  /** Replication factor of topics created by ensureTopics (default 1, the single dev broker; 3 in production). */
  readonly replicationFactor?: number;
  /** Consumer group session timeout (default 30 s); a killed member's partitions move after it. */
  readonly sessionTimeoutMs?: number;
  /** TCP connect timeout (default 3 s). */
  readonly connectionTimeoutMs?: number;
  /** Request timeout (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Ceiling of ping() (default 2 s, under the readiness probe's own timeout). */
  readonly pingTimeoutMs?: number;
  /** TLS and SASL of the broker connections (kafkajs `ssl`, `sasl`); none by default. */
  readonly security?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
}



// Record and batch framing around the largest event (key, headers, batch header).
const EVENT_FRAMING_BYTES = 64 * 1024;


/**
 * The production transport over kafkajs. The producer is idempotent with one
 * request in flight and acks from all in-sync replicas, so a retried send
 * neither duplicates nor reorders within a partition. Consumers commit offsets
 * explicitly, record by record, after the caller's work is durable. Every
 * client reconnects on its own, so a broker restart needs no service restart.
 */
export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  /** A quiet twin for ping(): readiness probes of a stopped broker would flood the log otherwise. */
  private readonly probe: Kafka;
  private readonly log: MessagingLogger;
  private readonly numPartitions: number;
  private readonly replicationFactor: number;
  private readonly sessionTimeoutMs: number;
  private readonly pingTimeoutMs: number;
  private producer: Promise<Producer> | undefined;
  /** Publishes run one after the other, so a producer reset never races a send. */
  private publishing: Promise<unknown> = Promise.resolve();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;

  constructor(options: KafkaTransportOptions) {
    if (options.brokers.length === 0) throw new RangeError('KafkaTransport needs at least one broker');
    this.log = options.logger ?? silentLogger;
    this.numPartitions = options.numPartitions ?? 1;
    this.replicationFactor = options.replicationFactor ?? 1;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 2_000;
    const common = {
      clientId: options.clientId,
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      ...options.security,
    };
    this.kafka = new Kafka({
      ...common,
      // Bounded, so a publish during an outage fails within seconds and the outbox keeps the rows.
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 5 },
      logLevel: logLevel.INFO,
      logCreator: kafkaLogCreator(this.log),
    });
    this.probe = new Kafka({ ...common, retry: { retries: 0 }, logLevel: logLevel.NOTHING });
  }

  async publish(records: readonly EventEnvelope[]): Promise<void> {
    if (this.closed) throw transportClosed('kafka');
    if (records.length === 0) return;
    // Per topic, in the given order; the partitioner keeps one key on one partition.
    const byTopic = new Map<string, Message[]>();
    for (const envelope of records) {
      const messages = byTopic.get(envelope.topic) ?? [];
      messages.push({ key: envelope.key, value: encodeEnvelope(envelope) });
      byTopic.set(envelope.topic, messages);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const send = this.publishing.then(async () => {
      try {
        const producer = await this.connectProducer();
        await producer.sendBatch({ topicMessages, acks: -1 });
      } catch (error) {
        // A fresh producer after any failure: kafkajs's idempotent state can be
        // poisoned by a send whose outcome is unknown (see docs of this module).
        await this.resetProducer();
        throw publishFailed('kafka', error);
      }
    });
    this.publishing = send.catch(() => undefined);
    await send;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw transportClosed('kafka');
    const subscription = new KafkaSubscription(this.kafka, options, this.sessionTimeoutMs, this.log, () => this.subscriptions.delete(subscription));
    await subscription.start();
    this.subscriptions.add(subscription);
    return subscription;
  }

  async ensureTopics(names: readonly string[]): Promise<void> {
    const wanted = [...new Set(names)];
    if (wanted.length === 0) return;
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((name) => !existing.has(name));
      if (missing.length === 0) return;
      // Returns false instead of failing when another process created them first.
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: this.numPartitions, replicationFactor: this.replicationFactor, configEntries: [{ name: 'max.message.bytes', value: String(MAX_EVENT_BYTES + EVENT_FRAMING_BYTES) }] })),
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    const admin = this.probe.admin({ retry: { retries: 0 } });
    const attempt = admin.connect().then(() => admin.describeCluster());
    try {
      await withTimeout(attempt, this.pingTimeoutMs);
      return true;
    } catch {
      return false;
    } finally {
      // Disconnect once the attempt settles, so a connect still under way cannot leave a socket behind.
      void attempt
        .catch(() => undefined)
        .then(() => admin.disconnect())
        .catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    await this.publishing;
    await this.resetProducer();
  }

  private connectProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Explicit, so keys land where Java clients put them (and kafkajs does not warn).
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 5 },
      });
      this.producer = producer.connect().then(
        () => producer,
        async (error: unknown) => {
          this.producer = undefined;
          await producer.disconnect().catch(() => undefined);
          throw error;
        },
      );
    }
    return this.producer;
  }

  private async resetProducer(): Promise<void> {
    const pending = this.producer;
    this.producer = undefined;
    const producer = await pending?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }
}

/**
 * One kafkajs consumer, supervised: kafkajs restarts itself after retriable
 * crashes; after any other crash this restarts it with backoff, so nothing but
 * close() ends a subscription.
 */
class KafkaSubscription implements Subscription {
  private consumer: KafkaConsumer | undefined;
  private closing = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: SubscribeOptions,
    private readonly sessionTimeoutMs: number,
    private readonly log: MessagingLogger,
    private readonly onClosed: () => void,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.options.group,
      sessionTimeout: this.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(this.sessionTimeoutMs / 10)),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1_000,
      retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10, restartOnFailure: async () => !this.closing },
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart && !this.closing) this.scheduleRestart(payload.error);
    });
    this.consumer = consumer;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        // Unhandled records of a batch must be fetched again, not skipped.
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.onBatch(payload),
      });
      this.restarts = 0;
    } catch (error) {
      this.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    // kafkajs's disconnect waits for the running eachBatch, which stops after its current record.
    await this.consumer?.disconnect().catch(() => undefined);
    this.onClosed();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const records: TransportRecord[] = batch.messages.map((message) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      key: message.key === null ? null : message.key.toString('utf8'),
      value: message.value,
      timestamp: new Date(Number(message.timestamp)).toISOString(),
    }));
    const recordBatch: RecordBatch = {
      topic: batch.topic,
      partition: batch.partition,
      records,
      commit: async (record) => {
        payload.resolveOffset(record.offset);
        // Kafka's committed offset is the next one to read.
        const next = (BigInt(record.offset) + 1n).toString();
        await payload.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
      },
      heartbeat: () => payload.heartbeat(),
      isActive: () => !this.closing && payload.isRunning() && !payload.isStale(),
    };
    await this.options.handle(recordBatch);
  }

  private scheduleRestart(error: Error): void {
    this.restarts += 1;
    const delayMs = backoffDelay(this.restarts, { initialMs: 1_000, maxMs: 30_000 });
    this.log({ level: 'error', message: `kafka consumer of group ${this.options.group} stopped; restarting in ${delayMs} ms`, context: { error: error.message } });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.closing) return;
      const previous = this.consumer;
      void (previous?.disconnect().catch(() => undefined) ?? Promise.resolve())
        .then(() => (this.closing ? undefined : this.start()))
        .catch((failure: Error) => this.scheduleRestart(failure));
    }, delayMs);
  }
}
