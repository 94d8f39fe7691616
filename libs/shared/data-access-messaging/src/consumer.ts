import { randomUUID } from 'node:crypto';
import { deadLetterTopicOf, type EventEnvelope, type PayloadOf, type TopicDefinition } from '@alliance/contracts';
import { type Pool, type PoolClient, withTransaction } from '@alliance/shared/data-access-postgres';
import { type BackoffOptions, backoffDelay, sleep, withBackoffDefaults } from './backoff';
import { type DeadLetterPayload, decodeRecord } from './codec';
import { classifyFailure, describeFailure, type FailureDescription, MessagingErrorCodes } from './errors';
import { assertSchemaName } from './outbox';
import { type MessagingLogger, type RecordBatch, silentLogger, type Subscription, type Transport, type TransportRecord } from './ports';

/** Where the event being handled came from, for logs and handlers that care. */
export interface DeliveryContext {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** 1 on the first try; counts only failures the event could be blamed for. */
  readonly attempt: number;
}

export type EventHandler<T> = (event: EventEnvelope<T>, client: PoolClient, context: DeliveryContext) => Promise<void>;

/** `D` is the union of the topic definitions; handlers receive the union of their payloads. */
export interface ConsumerOptions<D extends TopicDefinition<unknown>> {
  readonly transport: Transport;
  readonly pool: Pool;
  /** The service's schema holding `processed_events`. */
  readonly schema: string;
  /** Consumer group: each group sees every event once; instances of one group share the work. */
  readonly group: string;
  readonly topics: readonly D[];
  /**
   * Runs inside the transaction that also records the event as processed:
   * write with `client` only, and throw to roll back. Throw an AllianceError of
   * kind `invalid` for an event that can never be processed (dead-lettered at
   * once), kind `unavailable` when a dependency is down (retried without limit).
   */
  readonly handler: EventHandler<PayloadOf<D>>;
  /** Attempts before a failing event is dead-lettered (default 5). */
  readonly maxAttempts?: number;
  /** Delay between attempts (default 200 ms doubling to 10 s, with jitter). */
  readonly backoff?: Partial<BackoffOptions>;
  /** `producer` of dead-letter envelopes (default: the group). */
  readonly producer?: string;
  readonly logger?: MessagingLogger;
  /** Called once per settled record, e.g. to count outcomes in metrics. */
  readonly onOutcome?: (outcome: ConsumerOutcome) => void;
}

export type OutcomeKind = 'processed' | 'duplicate' | 'dead-lettered';

export interface ConsumerOutcome {
  readonly outcome: OutcomeKind;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The envelope's id, or `raw:<topic>:<partition>:<offset>` for records without a usable one. */
  readonly eventId: string;
  readonly attempts: number;
  readonly error?: FailureDescription;
}

export interface Consumer {
  readonly group: string;
  /** Finishes the record in flight (its transaction and offset commit), then leaves. */
  close(): Promise<void>;
}

/** Poison before the handler ran, or the handler's verdict. */
interface Verdict {
  readonly failure: FailureDescription;
  readonly attempts: number;
}

/**
 * Subscribes `group` to `topics` and hands each event to `handler` effectively
 * once: delivery is at-least-once, and the processed_events row written in the
 * handler's own transaction turns redeliveries into no-ops. The transport's
 * position moves past a record only after that transaction committed.
 */
export async function startConsumer<D extends TopicDefinition<unknown>>(options: ConsumerOptions<D>): Promise<Consumer> {
  type T = PayloadOf<D>;
  const schema = assertSchemaName(options.schema);
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('maxAttempts must be a positive integer');
  const backoff = withBackoffDefaults(options.backoff, { initialMs: 200, maxMs: 10_000 });
  const log = options.logger ?? silentLogger;
  const { transport, pool, group, handler } = options;
  const producer = options.producer ?? group;

  const definitions = new Map<string, TopicDefinition<T>>();
  // Sound: every D is a TopicDefinition of its own payload, which is part of T.
  for (const topic of options.topics as readonly TopicDefinition<T>[]) definitions.set(topic.name, topic);
  if (definitions.size === 0) throw new RangeError('a consumer needs at least one topic');
  const names = [...definitions.keys()];
  // Dead-letter topics too: the first poison record must not fail for want of a topic.
  await transport.ensureTopics([...names, ...names.map(deadLetterTopicOf)]);

  const report = (outcome: ConsumerOutcome): void => {
    try {
      options.onOutcome?.(outcome);
    } catch {
      // An observer's bug must not stop consumption.
    }
  };

  /** Waits `ms`, heart-beating so a long backoff does not cost the group membership. */
  async function pause(ms: number, batch: RecordBatch): Promise<void> {
    const until = Date.now() + ms;
    while (batch.isActive() && Date.now() < until) {
      await sleep(Math.min(1_000, until - Date.now()));
      await batch.heartbeat();
    }
  }

  async function runHandler(event: EventEnvelope<T>, record: TransportRecord, attempt: number): Promise<'processed' | 'duplicate'> {
    return withTransaction(pool, async (client) => {
      // Inserted first: a concurrent delivery of the same event (rebalance overlap) blocks here until we commit, then skips.
      const claimed = await client.query(
        `INSERT INTO "${schema}".processed_events (group_id, event_id, topic, source_partition, source_offset, outcome)
         VALUES ($1, $2, $3, $4, $5, 'processed') ON CONFLICT DO NOTHING`,
        [group, event.eventId, record.topic, record.partition, record.offset],
      );
      if (claimed.rowCount === 0) return 'duplicate';
      await handler(event, client, { group, topic: record.topic, partition: record.partition, offset: record.offset, attempt });
      return 'processed';
    });
  }

  async function deadLetter(record: TransportRecord, eventId: string, original: { json: unknown; correlationId: string | null; eventId: string | null }, verdict: Verdict): Promise<'dead-lettered' | 'duplicate'> {
    return withTransaction(pool, async (client) => {
      const claimed = await client.query(
        `INSERT INTO "${schema}".processed_events (group_id, event_id, topic, source_partition, source_offset, outcome)
         VALUES ($1, $2, $3, $4, $5, 'dead-lettered') ON CONFLICT DO NOTHING`,
        [group, eventId, record.topic, record.partition, record.offset],
      );
      if (claimed.rowCount === 0) return 'duplicate';
      const payload: DeadLetterPayload = {
        group,
        originalTopic: record.topic,
        originalPartition: record.partition,
        originalOffset: record.offset,
        originalKey: record.key,
        originalTimestamp: record.timestamp,
        originalEventId: original.eventId,
        originalValue: record.value === null ? null : record.value.toString('base64'),
        originalEnvelope: original.json ?? null,
        error: verdict.failure,
        attempts: verdict.attempts,
        deadLetteredAt: new Date().toISOString(),
      };
      const envelope: EventEnvelope<DeadLetterPayload> = {
        eventId: randomUUID(),
        topic: deadLetterTopicOf(record.topic),
        occurredAt: payload.deadLetteredAt,
        correlationId: original.correlationId ?? eventId,
        causationId: original.eventId,
        producer,
        key: record.key ?? '',
        payload,
      };
      // Published before the commit: a crash in between dead-letters twice (at-least-once), never zero times.
      await transport.publish([envelope]);
      return 'dead-lettered';
    });
  }

  /** Settles one record: processed, skipped as a duplicate, or dead-lettered; undefined when stopped first. */
  async function settle(record: TransportRecord, batch: RecordBatch): Promise<ConsumerOutcome | undefined> {
    const definition = definitions.get(record.topic);
    const decoded = definition
      ? decodeRecord(record, definition)
      : ({ ok: false, failure: { code: MessagingErrorCodes.unknownTopic, message: `no definition for topic ${record.topic}` }, json: undefined, eventId: null, correlationId: null } as const);
    const eventId = decoded.ok ? decoded.event.eventId : (decoded.eventId ?? `raw:${record.topic}:${record.partition}:${record.offset}`);
    const original = decoded.ok
      ? { json: undefined, correlationId: decoded.event.correlationId, eventId: decoded.event.eventId }
      : { json: decoded.json, correlationId: decoded.correlationId, eventId: decoded.eventId };
    let verdict: Verdict | undefined = decoded.ok ? undefined : { failure: decoded.failure, attempts: 0 };
    let attempts = 0;
    let outages = 0;
    const where = { group, topic: record.topic, partition: record.partition, offset: record.offset, eventId };

    while (batch.isActive()) {
      if (verdict) {
        try {
          const outcome = await deadLetter(record, eventId, { ...original, json: original.json ?? jsonOf(record) }, verdict);
          if (outcome === 'dead-lettered') log({ level: 'warn', message: `dead-lettered ${record.topic} record: ${verdict.failure.code}`, context: { ...where, error: verdict.failure } });
          return { outcome, topic: record.topic, partition: record.partition, offset: record.offset, eventId, attempts: verdict.attempts, error: verdict.failure };
        } catch (error) {
          // The dead-letter topic or our database is unreachable: the record is not to blame, keep trying.
          outages += 1;
          log({ level: outages === 1 ? 'warn' : 'debug', message: 'cannot dead-letter yet; retrying', context: { ...where, error: describeFailure(error) } });
          await pause(backoffDelay(outages, backoff), batch);
          continue;
        }
      }
      if (!decoded.ok) break; // unreachable: a decode failure always has a verdict
      attempts += 1;
      try {
        const outcome = await runHandler(decoded.event, record, attempts);
        return { outcome, topic: record.topic, partition: record.partition, offset: record.offset, eventId, attempts };
      } catch (error) {
        const kind = classifyFailure(error);
        const failure = describeFailure(error);
        if (kind === 'poison') {
          verdict = { failure, attempts };
        } else if (kind === 'unavailable') {
          attempts -= 1;
          outages += 1;
          log({ level: outages === 1 ? 'warn' : 'debug', message: 'dependency unavailable while handling; retrying', context: { ...where, error: failure } });
          await pause(backoffDelay(outages, backoff), batch);
        } else if (attempts >= maxAttempts) {
          verdict = { failure: { code: MessagingErrorCodes.retriesExhausted, message: `${failure.code}: ${failure.message}` }, attempts };
        } else {
          log({ level: 'info', message: `handler failed (attempt ${attempts} of ${maxAttempts}); retrying`, context: { ...where, error: failure } });
          await pause(backoffDelay(attempts, backoff), batch);
        }
      }
    }
    return undefined;
  }

  const subscription: Subscription = await transport.subscribe({
    group,
    topics: names,
    async handle(batch) {
      for (const record of batch.records) {
        if (!batch.isActive()) return;
        const outcome = await settle(record, batch);
        if (!outcome) return; // stopping: the record stays uncommitted and is redelivered
        await batch.commit(record);
        report(outcome);
        await batch.heartbeat();
      }
    },
  });

  return { group, close: () => subscription.close() };
}

/** Best-effort JSON view of a record's bytes for the dead-letter record. */
function jsonOf(record: TransportRecord): unknown {
  if (record.value === null) return undefined;
  try {
    return JSON.parse(record.value.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
