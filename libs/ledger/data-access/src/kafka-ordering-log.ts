import {
  assertOrderingId,
  assertRecordsToAppend,
  isOffset,
  isOrderedRecordKind,
  type OrderedRecord,
  OrderingErrorCodes,
  type OrderingLog,
  type OrderingLogger,
  type OrderingReader,
  orderingLogClosed,
  orderingLogUnavailable,
  orderingTopicOf,
  offsetOutOfRange,
  type ReadOptions,
  type RecordToAppend,
  silentOrderingLogger,
  toLogTimestamp,
} from '@alliance/ledger/domain';
import { MAX_ENVELOPE_BYTES } from '@alliance/protocol';
import { AllianceError } from '@alliance/shared/util-errors';
import {
  type Batch,
  ConfigResourceTypes,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  Kafka,
  type KafkaMessage,
  logLevel,
  type Message,
  type KafkaConfig,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { AppendQueue } from './append-queue';
import { backoffDelay, kafkaLogCreator, sleep, withTimeout } from '@alliance/shared/data-access-messaging';
import { messageOf, toBuffer, toUint8Array } from './util';

/** Header that carries the record's kind; the value is the whole message, as the producer gave it. */
export const KIND_HEADER = 'alliance-kind';

/** The consumer group of one organization's node: `ledger.<chainId>.<organizationId>`. */
export function orderingGroupOf(chainId: string, organizationId: string): string {
  assertOrderingId(chainId);
  assertOrderingId(organizationId, 'organization id');
  return `ledger.${chainId}.${organizationId}`;
}

export interface KafkaOrderingLogOptions {
  readonly brokers: readonly string[];
  readonly chainId: string;
  /** This node's organization: its consumer group is `ledger.<chainId>.<organizationId>`. */
  readonly organizationId: string;
  readonly clientId?: string;
  /** Receives kafkajs's own log lines too (from `info` up); nothing goes to the console. */
  readonly logger?: OrderingLogger;
  /** Replication factor when this log creates the topic (default 1, the single dev broker; 3 in production). */
  readonly replicationFactor?: number;
  /** `min.insync.replicas` of a created topic, and the least an existing one may have (default 1; 2 with 3 replicas). */
  readonly minInsyncReplicas?: number;
  /**
   * Consumer group session timeout (default 10 s; the broker's minimum is 6 s). A node restarted
   * after `kill -9` joins only once the broker dropped its old member, so this is its restart time.
   * Slow commits cannot cost the membership: the reader heartbeats while it waits.
   */
  readonly sessionTimeoutMs?: number;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Ceiling of ping() (default 2 s). */
  readonly pingTimeoutMs?: number;
  /**
   * Bytes per produce request (default 900 kB, under the broker's default
   * message.max.bytes of 1 MiB); concurrent appends are coalesced up to this.
   */
  readonly maxRequestBytes?: number;
  /** Records per `handle` call, at most (default 1000). */
  readonly maxBatchRecords?: number;
  /** Fetch long-poll (default 500 ms): how long an idle reader waits for news per request. */
  readonly maxWaitTimeInMs?: number;
  /** TLS and SASL of the broker connections (kafkajs `ssl`, `sasl`); none by default. */
  readonly security?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
}

/** Topic settings that protect the chain (ARCHITECTURE §4), checked on every start, not only at creation. */
function requiredTopicConfig(minInsyncReplicas: number): Record<string, string> {
  return {
    // The broker stamps each record: timestamps come from the log, never from a node's clock.
    'message.timestamp.type': 'LogAppendTime',
    // Never delete history: a node that was away for a year must still find its offset.
    'retention.ms': '-1',
    'retention.bytes': '-1',
    'cleanup.policy': 'delete',
    // An out-of-sync replica must never become leader: that would rewrite acknowledged history.
    'unclean.leader.election.enable': 'false',
    'min.insync.replicas': String(minInsyncReplicas),
    // A largest envelope (MAX_ENVELOPE_BYTES) plus record and batch framing must fit; the broker's default (1 MiB) does not.
    'max.message.bytes': String(MAX_RECORD_BATCH_BYTES),
  };
}

/** Settings an existing topic must have at least (more is as safe); the rest must match exactly. */
const AT_LEAST = new Set(['min.insync.replicas', 'max.message.bytes']);
const MAX_RECORD_BATCH_BYTES = 2 * MAX_ENVELOPE_BYTES;




// Per-record overhead of the record batch format plus our header, for request sizing.
const RECORD_OVERHEAD = 64;

/**
 * The production ordering log: one single-partition topic per chain
 * (`ledger.<chainId>.ordering.v1`), LogAppendTime, infinite retention.
 * Appends go through one idempotent producer (acks=all, one request in
 * flight), coalesced so concurrent callers share round trips. Reading uses the
 * organization's consumer group for membership and lag monitoring only: the
 * position is the caller's (`fromOffset`), enforced on every batch, so a
 * rebalance, a crash, or a committed offset from elsewhere cannot make it skip
 * or repeat a record.
 */
export class KafkaOrderingLog implements OrderingLog {
  readonly chainId: string;
  readonly topic: string;
  readonly group: string;
  private readonly kafka: Kafka;
  /** A quiet twin for ping(): readiness probes of a stopped broker would flood the log otherwise. */
  private readonly probe: Kafka;
  private readonly log: OrderingLogger;
  private readonly replicationFactor: number;
  private readonly minInsyncReplicas: number;
  private readonly sessionTimeoutMs: number;
  private readonly pingTimeoutMs: number;
  private readonly maxRequestBytes: number;
  private readonly maxBatchRecords: number;
  private readonly maxWaitTimeInMs: number;
  private producer: Promise<Producer> | undefined;
  private topicReady: Promise<void> | undefined;
  private readonly appends: AppendQueue;
  private readonly readers = new Set<KafkaReader>();
  private closed = false;

  constructor(options: KafkaOrderingLogOptions) {
    if (options.brokers.length === 0) throw new RangeError('KafkaOrderingLog needs at least one broker');
    this.chainId = options.chainId;
    this.topic = orderingTopicOf(options.chainId);
    this.group = orderingGroupOf(options.chainId, options.organizationId);
    this.log = options.logger ?? silentOrderingLogger;
    this.replicationFactor = options.replicationFactor ?? 1;
    this.minInsyncReplicas = options.minInsyncReplicas ?? 1;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 2_000;
    this.maxRequestBytes = options.maxRequestBytes ?? 900_000;
    this.maxBatchRecords = options.maxBatchRecords ?? 1_000;
    this.maxWaitTimeInMs = options.maxWaitTimeInMs ?? 500;
    const common = {
      clientId: options.clientId ?? `${this.group}`,
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      ...options.security,
    };
    this.kafka = new Kafka({
      ...common,
      // Bounded: an append during an outage fails within seconds; the caller (or the batch timer) retries.
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 5 },
      logLevel: logLevel.INFO,
      logCreator: kafkaLogCreator(this.log),
    });
    this.probe = new Kafka({ ...common, retry: { retries: 0 }, logLevel: logLevel.NOTHING });
    this.appends = new AppendQueue({
      send: (records) => this.send(records),
      // One append too large for a request: its own requests, in order (not atomic, like any failed append).
      sendOversized: (records) => this.sendChunked(records),
      maxBytes: this.maxRequestBytes,
      maxRecords: Number.MAX_SAFE_INTEGER,
      recordOverhead: RECORD_OVERHEAD,
    });
  }

  /**
   * Creates the chain's topic if it does not exist, then checks that it has
   * one partition and the settings that protect the chain; refuses
   * (LEDGER.ORDERING_TOPIC_MISCONFIGURED) otherwise. Called by append and read.
   */
  ensureTopic(): Promise<void> {
    this.topicReady ??= this.createAndCheckTopic().catch((error: unknown) => {
      this.topicReady = undefined;
      throw error;
    });
    return this.topicReady;
  }

  async append(records: readonly RecordToAppend[]): Promise<number[]> {
    if (this.closed) throw orderingLogClosed('kafka');
    assertRecordsToAppend(records);
    if (records.length === 0) return [];
    return this.appends.append(records);
  }

  async read(options: ReadOptions): Promise<OrderingReader> {
    if (this.closed) throw orderingLogClosed('kafka');
    await this.ensureTopic();
    await this.checkOffset(options.fromOffset);
    const reader = new KafkaReader(this.kafka, this.topic, this.group, options, {
      sessionTimeoutMs: this.sessionTimeoutMs,
      maxBatchRecords: this.maxBatchRecords,
      maxWaitTimeInMs: this.maxWaitTimeInMs,
      log: this.log,
      onClosed: () => this.readers.delete(reader),
    });
    await reader.start();
    this.readers.add(reader);
    return reader;
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
    await Promise.allSettled([...this.readers].map((reader) => reader.close()));
    await this.appends.idle();
    await this.resetProducer();
  }

  // --- appending -------------------------------------------------------------

  /** Splits one oversized append into requests of at most maxRequestBytes, sent in order. */
  private async sendChunked(records: readonly RecordToAppend[]): Promise<number[]> {
    const offsets: number[] = [];
    let known = true;
    let chunk: RecordToAppend[] = [];
    let bytes = 0;
    const flush = async () => {
      const sent = await this.send(chunk);
      known &&= sent.length > 0;
      offsets.push(...sent);
      chunk = [];
      bytes = 0;
    };
    for (const record of records) {
      const size = record.bytes.length + RECORD_OVERHEAD;
      if (chunk.length > 0 && bytes + size > this.maxRequestBytes) await flush();
      chunk.push(record);
      bytes += size;
    }
    await flush();
    return known ? offsets : [];
  }

  /** One produce request; resolves to the records' offsets when the broker reports them. */
  private async send(records: readonly RecordToAppend[]): Promise<number[]> {
    try {
      await this.ensureTopic();
      const producer = await this.connectProducer();
      const messages: Message[] = records.map((record) => ({ partition: 0, value: toBuffer(record.bytes), headers: { [KIND_HEADER]: record.kind } }));
      const metadata = await producer.send({ topic: this.topic, messages, acks: -1 });
      const base = Number(metadata.find((m) => m.partition === 0)?.baseOffset ?? -1);
      // A retried request answered as a duplicate may not say where the records went.
      return isOffset(base) && isOffset(base + records.length) ? records.map((_, i) => base + i) : [];
    } catch (error) {
      if (error instanceof AllianceError) throw error;
      // A fresh producer after any failure: an idempotent producer whose last send has an unknown
      // outcome can be left with unusable sequence numbers (as in the messaging library).
      await this.resetProducer();
      throw orderingLogUnavailable('kafka', error);
    }
  }

  private connectProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Every record names partition 0; explicit so kafkajs does not warn about its default.
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

  // --- topic -------------------------------------------------------------------

  private async createAndCheckTopic(): Promise<void> {
    const required = requiredTopicConfig(this.minInsyncReplicas);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(this.topic)) {
        // Resolves false instead of failing when another node created it first.
        await admin.createTopics({
          topics: [
            {
              topic: this.topic,
              numPartitions: 1,
              replicationFactor: this.replicationFactor,
              configEntries: Object.entries(required).map(([name, value]) => ({ name, value })),
            },
          ],
          waitForLeaders: true,
        });
      }
      const problems: string[] = [];
      const { topics } = await admin.fetchTopicMetadata({ topics: [this.topic] });
      const partitions = topics[0]?.partitions.length ?? 0;
      if (partitions !== 1) problems.push(`${partitions} partitions (one total order needs exactly 1)`);
      const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: this.topic, configNames: Object.keys(required) }], includeSynonyms: false });
      const actual = new Map((described.resources[0]?.configEntries ?? []).map((entry) => [entry.configName, entry.configValue]));
      for (const [name, value] of Object.entries(required)) {
        const found = actual.get(name);
        const ok = AT_LEAST.has(name) ? Number(found) >= Number(value) : found === value;
        if (!ok) problems.push(`${name}=${found ?? '(unset)'} (needs ${AT_LEAST.has(name) ? '>= ' : ''}${value})`);
      }
      if (problems.length > 0) {
        throw new AllianceError(OrderingErrorCodes.topicMisconfigured, 'internal', `ordering topic ${this.topic} is unsafe: ${problems.join('; ')}`, { details: { topic: this.topic, problems } });
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** The stored position must lie inside the partition: otherwise history was lost or this is another log. */
  private async checkOffset(fromOffset: number): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const partition = (await admin.fetchTopicOffsets(this.topic)).find((p) => p.partition === 0);
      const low = Number(partition?.low ?? 0);
      const high = Number(partition?.high ?? 0);
      if (!isOffset(fromOffset) || fromOffset < low || fromOffset > high) throw offsetOutOfRange(fromOffset, low, high, `topic ${this.topic}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

interface ReaderSettings {
  readonly sessionTimeoutMs: number;
  readonly maxBatchRecords: number;
  readonly maxWaitTimeInMs: number;
  readonly log: OrderingLogger;
  readonly onClosed: () => void;
}

/**
 * One supervised kafkajs consumer in the organization's group. `position` (the
 * next offset to deliver) is the only truth: every fetched batch is checked
 * against it, a batch fetched from elsewhere (rebalance, committed offset,
 * offset reset) makes it seek back, and records before it are dropped.
 */
class KafkaReader implements OrderingReader {
  private position: number;
  private consumer: Consumer | undefined;
  private closing = false;
  private readonly closed = new AbortController();
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** kafkajs may overlap a restarted consumer's first batch with the old one's last: deliveries are serialized. */
  private delivering: Promise<void> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly group: string,
    private readonly options: ReadOptions,
    private readonly settings: ReaderSettings,
  ) {
    this.position = options.fromOffset;
  }

  async start(): Promise<void> {
    const heartbeatInterval = Math.max(500, Math.floor(this.settings.sessionTimeoutMs / 10));
    const consumer = this.kafka.consumer({
      groupId: this.group,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.settings.maxWaitTimeInMs,
      retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10, restartOnFailure: async () => !this.closing },
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart && !this.closing) this.scheduleRestart(payload.error);
    });
    // After every (re)join the group's committed offset is where kafkajs would fetch from; ours wins.
    consumer.on(consumer.events.GROUP_JOIN, () => this.seek(consumer));
    this.consumer = consumer;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.onBatch(consumer, payload, heartbeatInterval),
      });
      this.seek(consumer);
      this.restarts = 0;
    } catch (error) {
      this.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.closed.abort();
    clearTimeout(this.restartTimer);
    // kafkajs's disconnect waits for the running eachBatch, which returns after its current handle().
    await this.consumer?.disconnect().catch(() => undefined);
    await this.delivering;
    this.settings.onClosed();
  }

  private seek(consumer: Consumer): void {
    try {
      consumer.seek({ topic: this.topic, partition: 0, offset: String(this.position) });
    } catch (error) {
      this.settings.log({ level: 'debug', message: `seek of ${this.topic} deferred`, context: { error: messageOf(error) } });
    }
  }

  private onBatch(consumer: Consumer, payload: EachBatchPayload, heartbeatInterval: number): Promise<void> {
    const run = this.delivering.then(() => this.deliver(consumer, payload, heartbeatInterval));
    this.delivering = run.catch(() => undefined);
    return run;
  }

  private async deliver(consumer: Consumer, payload: EachBatchPayload, heartbeatInterval: number): Promise<void> {
    const { batch } = payload;
    const start = startOf(batch);
    if (start === undefined || start > this.position) {
      // Fetched from somewhere after our position: go back, never skip.
      this.settings.log({ level: 'info', message: `${this.topic}: fetched from offset ${start ?? '?'}, position is ${this.position}; seeking back`, context: { group: this.group } });
      this.seek(consumer);
      return;
    }
    let records: OrderedRecord[] = [];
    let last = this.position - 1;
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset < this.position) continue; // already delivered (refetch after a rebalance or seek)
      const record = toOrderedRecord(message, offset);
      if (record) records.push(record);
      else this.settings.log({ level: 'warn', message: `${this.topic}: offset ${offset} has no valid ${KIND_HEADER} header; skipped`, context: { group: this.group } });
      last = offset;
      if (records.length >= this.settings.maxBatchRecords) {
        if (!(await this.handOver(consumer, payload, records, last, heartbeatInterval))) return;
        records = [];
      }
    }
    if (last >= this.position && !(await this.handOver(consumer, payload, records, last, heartbeatInterval))) return;
    // Monitoring only (consumer lag per organization); correctness never reads it back.
    await payload
      .commitOffsetsIfNecessary({ topics: [{ topic: this.topic, partitions: [{ partition: 0, offset: String(this.position) }] }] })
      .catch((error: unknown) => this.settings.log({ level: 'debug', message: `${this.topic}: offset commit skipped`, context: { error: messageOf(error) } }));
  }

  /** Delivers records up to offset `last`; false when the batch must be abandoned (closing, rebalance, refusal). */
  private async handOver(consumer: Consumer, payload: EachBatchPayload, records: readonly OrderedRecord[], last: number, heartbeatInterval: number): Promise<boolean> {
    if (this.closing || !payload.isRunning() || payload.isStale()) return false;
    if (records.length > 0) {
      // A slow handler (commits waiting on PostgreSQL) must not cost the group membership.
      const keepAlive = setInterval(() => void payload.heartbeat().catch(() => undefined), heartbeatInterval);
      try {
        await this.options.handle(records);
      } catch (error) {
        this.settings.log({ level: 'warn', message: `${this.topic}: handler refused offsets ${records[0].offset}..${last}; delivering them again`, context: { error: messageOf(error) } });
        await sleep(1_000, this.closed.signal);
        this.seek(consumer);
        return false;
      } finally {
        clearInterval(keepAlive);
      }
    }
    this.position = last + 1;
    payload.resolveOffset(String(last));
    await payload.heartbeat().catch(() => undefined);
    return true;
  }

  private scheduleRestart(error: Error): void {
    this.restarts += 1;
    const delayMs = backoffDelay(Math.max(1, this.restarts), { initialMs: 1_000, maxMs: 30_000, jitter: 0.25 });
    this.settings.log({ level: 'error', message: `ordering consumer of group ${this.group} stopped; restarting in ${delayMs} ms`, context: { error: error.message } });
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

/** The offset this batch was fetched from (kafkajs keeps it untyped), else its first record's. */
function startOf(batch: Batch): number | undefined {
  const fetched = (batch as Batch & { fetchedOffset?: unknown }).fetchedOffset;
  if (typeof fetched === 'string' && /^\d+$/.test(fetched)) return Number(fetched);
  const first = batch.messages[0]?.offset;
  return first === undefined ? undefined : Number(first);
}

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const single = Array.isArray(value) ? value[0] : value;
  return single === undefined ? undefined : Buffer.isBuffer(single) ? single.toString('utf8') : String(single);
}

function toOrderedRecord(message: KafkaMessage, offset: number): OrderedRecord | undefined {
  const kind = headerText(message.headers, KIND_HEADER);
  if (!isOrderedRecordKind(kind) || !isOffset(offset)) return undefined;
  return {
    offset,
    // LogAppendTime: kafkajs reports the broker's append time for such batches.
    timestamp: toLogTimestamp(Number(message.timestamp)),
    kind,
    bytes: message.value ? toUint8Array(message.value) : new Uint8Array(),
  };
}
