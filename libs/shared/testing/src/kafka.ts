import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type IHeaders, type KafkaConfig } from 'kafkajs';

/** One record as read back by {@link readAll}. */
export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** Either it works, or a sentence saying why not (used in the harness's error messages). */
export type Availability = { available: true } | { available: false; reason: string };

// Helpers fail by throwing; kafkajs's own console logging would only repeat (or,
// for retriable coordinator errors during group joins, alarm) what the caller sees.
function client(brokers: string[], clientId: string, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, ...extra });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A real Kafka API call (Metadata, via admin.listTopics) against `brokers`, bounded
 * by `timeoutMs`. An open port is not enough: a starting broker accepts connections
 * before it serves requests.
 */
export async function probeKafka(brokers: string[], timeoutMs = 3000): Promise<Availability> {
  const admin = client(brokers, 'shared-testing-probe', {
    connectionTimeout: Math.min(timeoutMs, 2000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([admin.connect().then(() => admin.listTopics()), deadline]);
    return { available: true };
  } catch (error) {
    return { available: false, reason: errorMessage(error) };
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * A topic name no other test (or earlier run against the same broker) uses:
 * `<prefix>.<time>-<random>`, restricted to Kafka's legal characters.
 */
export function uniqueTopicName(prefix: string): string {
  const safe = prefix.replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 200) || 'test';
  return `${safe}.${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Creates `name` and waits until its partitions have leaders, so a producer can
 * write at once (the brokers here run with auto.create.topics.enable=false).
 * The replication factor is the broker's default. Does nothing if it exists.
 */
export async function createTopic(brokers: string[], name: string, partitions = 1): Promise<void> {
  const admin = client(brokers, 'shared-testing-admin').admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Every record of `topic` from the beginning up to its end *at the time of the
 * call* (committed records only: transaction markers and aborted records are
 * skipped), ordered by partition then offset. Throws if they cannot all be read
 * within `timeoutMs`.
 *
 * Uses a throw-away consumer group (kafkajs cannot consume without one) and
 * deletes it afterwards.
 */
export async function readAll(brokers: string[], topic: string, timeoutMs = 30_000): Promise<KafkaRecord[]> {
  const kafka = client(brokers, 'shared-testing-reader');
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `shared-testing-readall-${randomBytes(6).toString('hex')}`;
  try {
    // The end of each partition now; records produced later are not waited for.
    const ends = new Map<number, bigint>();
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(high) > BigInt(low)) ends.set(partition, BigInt(high));
    }
    if (ends.size === 0) return [];

    const records: KafkaRecord[] = [];
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const positions = new Map<number, bigint>();
    const done = (): boolean => [...ends].every(([p, end]) => (positions.get(p) ?? -1n) >= end);

    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const progress = [...ends].map(([p, end]) => `partition ${p}: ${positions.get(p) ?? 0n}/${end}`).join(', ');
          reject(new Error(`readAll(${topic}): timed out after ${timeoutMs} ms (${progress})`));
        }, timeoutMs);
        const finish = (error?: Error): void => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        };
        // Batch events also fire for batches holding only transaction markers, which
        // eachMessage never sees; their lastOffset still moves the position forward.
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          positions.set(payload.partition, BigInt(payload.lastOffset) + 1n);
          if (done()) finish();
        });
        consumer.on(consumer.events.CRASH, ({ payload }) => finish(payload.error));
        consumer
          .connect()
          .then(() => consumer.subscribe({ topic, fromBeginning: true }))
          .then(() =>
            consumer.run({
              eachMessage: async ({ partition, message }) => {
                if (BigInt(message.offset) >= (ends.get(partition) ?? 0n)) return;
                records.push({
                  topic,
                  partition,
                  offset: message.offset,
                  timestamp: message.timestamp,
                  key: message.key,
                  value: message.value,
                  headers: message.headers ?? {},
                });
              },
            }),
          )
          .catch((error: unknown) => finish(error instanceof Error ? error : new Error(String(error))));
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    return records.sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  } finally {
    // Best effort: an undeletable leftover group harms nothing.
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
