import { randomUUID } from 'node:crypto';
import { type EventEnvelope, envelopeSchema, type SealingKey, sealEvent, type TopicDefinition } from '@alliance/contracts';
import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { type BackoffOptions, backoffDelay, sleep, withBackoffDefaults } from './backoff';
import { classifyFailure, MessagingErrorCodes } from './errors';
import { type MessagingLogger, silentLogger, type Transport } from './ports';

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]*$/;
/** Channel of the outbox trigger (see the migration); the payload is the schema. */
const OUTBOX_CHANNEL = 'alliance_outbox';

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_PATTERN.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  return schema;
}

export interface OutboxOptions {
  /** The service's schema holding the `outbox` table. */
  readonly schema: string;
  /** Default `producer` of the envelopes, e.g. `ledger`. */
  readonly producer?: string;
}

export interface EnqueueMeta {
  /** Partitioning key: events with one key keep their order. */
  readonly key: string;
  readonly correlationId: string;
  readonly causationId?: string | null;
  /** Overrides the outbox's default producer. */
  readonly producer?: string;
  /** Seals the event with this key (docs/protocol.md §3.1, Event seals): for consumers that act on it with their organization's key. */
  readonly seal?: SealingKey;
}

/**
 * Writes events into the service's outbox table with the caller's client, so
 * the event exists exactly when the caller's transaction commits.
 */
export class Outbox {
  readonly schema: string;
  private readonly producer: string | undefined;

  constructor(options: OutboxOptions) {
    this.schema = assertSchemaName(options.schema);
    this.producer = options.producer;
  }

  /**
   * Validates `payload` against the topic's schema and inserts the envelope.
   * `client` must be inside the caller's transaction (BEGIN … COMMIT); the
   * outbox never commits on its own. Returns the envelope as it will be published.
   */
  async enqueue<T>(client: PoolClient, topic: TopicDefinition<T>, payload: T, meta: EnqueueMeta): Promise<EventEnvelope<T>> {
    const parsed = topic.payload.safeParse(payload);
    if (!parsed.success) {
      throw new AllianceError(MessagingErrorCodes.invalidPayload, 'invalid', `payload of ${topic.name} is invalid`, {
        details: { topic: topic.name, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
      });
    }
    const producer = meta.producer ?? this.producer;
    const unsealed: EventEnvelope<T> = {
      eventId: randomUUID(),
      topic: topic.name,
      occurredAt: new Date().toISOString(),
      correlationId: meta.correlationId,
      causationId: meta.causationId ?? null,
      producer: producer ?? '',
      key: meta.key,
      payload: parsed.data,
    };
    const envelope: EventEnvelope<T> = meta.seal ? { ...unsealed, seal: sealEvent(unsealed, meta.seal) } : unsealed;
    const checked = envelopeSchema.safeParse(envelope);
    if (!checked.success) {
      throw new AllianceError(MessagingErrorCodes.invalidEnvelope, 'invalid', `event metadata for ${topic.name} is invalid`, {
        details: { topic: topic.name, issues: checked.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
      });
    }
    const json = JSON.stringify(envelope);
    if (Buffer.byteLength(json) > MAX_EVENT_BYTES) {
      throw new AllianceError(MessagingErrorCodes.eventTooLarge, 'too-large', `event ${topic.name} is ${Buffer.byteLength(json)} bytes; at most ${MAX_EVENT_BYTES} bytes can be published`);
    }
    await client.query(`INSERT INTO "${this.schema}".outbox (event_id, topic, key, envelope) VALUES ($1, $2, $3, $4::jsonb)`, [
      envelope.eventId,
      envelope.topic,
      envelope.key,
      json,
    ]);
    return envelope;
  }
}

/**
 * Largest serialized event an outbox accepts; event topics are created to
 * take it (`max.message.bytes`), so a committed event can always be published.
 */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;
/** Bytes of events per publish: several events are one record batch, which a broker bounds too. */
const MAX_PUBLISH_BYTES = 900 * 1024;

function encodedSize(envelope: EventEnvelope): number {
  return Buffer.byteLength(JSON.stringify(envelope));
}

export interface OutboxRelayOptions {
  readonly pool: Pool;
  readonly schema: string;
  readonly transport: Transport;
  /** Rows per publish (default 100). */
  readonly batchSize?: number;
  /** Poll even without notifications (default 1 s): NOTIFY is lost while the listener reconnects. */
  readonly pollIntervalMs?: number;
  /** Delay between failed attempts (default 250 ms doubling to 30 s, with jitter). */
  readonly backoff?: Partial<BackoffOptions>;
  /** How long published rows are kept for inspection (default 7 days). */
  readonly retainPublishedMs?: number;
  readonly logger?: MessagingLogger;
}

const PURGE_EVERY_MS = 60 * 60 * 1000;

/**
 * Moves committed outbox rows to the transport, oldest first. A batch is
 * claimed, published and stamped in one PostgreSQL transaction: if publishing
 * fails the stamp rolls back and the same rows, in the same order, are retried
 * after a backoff. One relay per schema publishes at a time (advisory lock),
 * so replicas of a service cannot interleave batches and reorder a key.
 */
export class OutboxRelay {
  private readonly pool: Pool;
  private readonly schema: string;
  private readonly transport: Transport;
  private readonly batchSize: number;
  /** The last drain left rows behind to keep its publish small: drain again without waiting. */
  private moreWaiting = false;
  private readonly pollIntervalMs: number;
  private readonly backoff: BackoffOptions;
  private readonly retainPublishedMs: number;
  private readonly log: MessagingLogger;

  private loop: Promise<void> | undefined;
  private stopping = new AbortController();
  private wakeUp = new AbortController();
  private notified = false;
  private listener: PoolClient | undefined;
  private lastPurge = 0;

  constructor(options: OutboxRelayOptions) {
    this.pool = options.pool;
    this.schema = assertSchemaName(options.schema);
    this.transport = options.transport;
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.backoff = withBackoffDefaults(options.backoff, { initialMs: 250, maxMs: 30_000 });
    this.retainPublishedMs = options.retainPublishedMs ?? 7 * 24 * 60 * 60 * 1000;
    this.log = options.logger ?? silentLogger;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  }

  get running(): boolean {
    return this.loop !== undefined;
  }

  /** Starts relaying in the background; idempotent. */
  start(): void {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.loop = this.run().finally(() => {
      this.loop = undefined;
    });
  }

  /** Lets the in-flight batch finish (published and stamped, or rolled back), then returns. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeUp.abort();
    await this.loop;
    this.unlisten();
  }

  /** Unpublished rows, for health and metrics. */
  async pending(): Promise<number> {
    const { rows } = await this.pool.query<{ count: string }>(`SELECT count(*) AS count FROM "${this.schema}".outbox WHERE published_at IS NULL`);
    return Number(rows[0].count);
  }

  /**
   * Publishes at most one batch; returns how many rows it published (0 when
   * none were pending or another relay holds the schema). Throws when the
   * transport refused the batch; the rows then stay pending, unchanged in order.
   */
  async drainOnce(): Promise<number> {
    const client = await this.pool.connect();
    let open = false;
    let broken = false;
    let publishError: unknown;
    try {
      await client.query('BEGIN');
      open = true;
      const { rows: lock } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked', [`alliance.outbox.${this.schema}`]);
      if (!lock[0].locked) return 0;
      const { rows } = await client.query<{ id: string; envelope: EventEnvelope }>(
        `SELECT id, envelope FROM "${this.schema}".outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      if (rows.length === 0) return 0;
      // One publish stays under what a broker takes in one record batch; the rest follow at once.
      let bytes = 0;
      let take = 0;
      for (; take < rows.length; take++) {
        const size = encodedSize(rows[take].envelope);
        if (take > 0 && bytes + size > MAX_PUBLISH_BYTES) break;
        bytes += size;
      }
      this.moreWaiting = take < rows.length;
      rows.length = take;
      const ids = rows.map((r) => r.id);
      try {
        await this.transport.publish(rows.map((r) => r.envelope));
      } catch (error) {
        publishError = error;
        open = false;
        await client.query('ROLLBACK');
        // Outside the rolled-back transaction, so operators see why rows wait.
        const reason = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
        await client.query(`UPDATE "${this.schema}".outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`, [ids, reason]).catch(() => undefined);
        throw error;
      }
      await client.query(`UPDATE "${this.schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[])`, [ids]);
      open = false;
      await client.query('COMMIT');
      return rows.length;
    } catch (error) {
      // PostgreSQL failures may leave the connection unusable; a refused publish does not.
      if (error !== publishError) broken = classifyFailure(error) === 'unavailable';
      throw error;
    } finally {
      if (open) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
      }
      // A connection that failed is not given back to the pool.
      client.release(broken ? true : undefined);
    }
  }

  /** Deletes rows published before `olderThanMs` ago; returns how many. */
  async purgePublished(olderThanMs: number = this.retainPublishedMs): Promise<number> {
    const result = await this.pool.query(
      `DELETE FROM "${this.schema}".outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1::double precision / 1000)`,
      [olderThanMs],
    );
    return result.rowCount ?? 0;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      await this.listen();
      this.notified = false;
      let published: number;
      try {
        published = await this.drainOnce();
        if (failures > 0) this.log({ level: 'info', message: 'outbox relay recovered', context: { schema: this.schema, failures } });
        failures = 0;
      } catch (error) {
        failures += 1;
        const delayMs = backoffDelay(failures, this.backoff);
        this.log({
          level: failures === 1 ? 'warn' : 'debug',
          message: `outbox relay could not publish; retrying in ${delayMs} ms`,
          context: { schema: this.schema, failures, error: (error as Error).message },
        });
        // Notifications do not cut a backoff short: a busy producer must not make us hammer a broker that is down.
        await sleep(delayMs, this.stopping.signal);
        continue;
      }
      await this.purgeIfDue();
      if (published < this.batchSize && !this.moreWaiting) await this.idle();
    }
  }

  /** Waits for a notification, the poll interval or stop, whichever comes first. */
  private async idle(): Promise<void> {
    if (this.notified || this.stopping.signal.aborted) return;
    this.wakeUp = new AbortController();
    await sleep(this.pollIntervalMs, this.wakeUp.signal);
  }

  private async purgeIfDue(): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    await this.purgePublished().catch((error: Error) => this.log({ level: 'warn', message: 'outbox purge failed', context: { schema: this.schema, error: error.message } }));
  }

  /** Best effort: without a listener the relay still polls. */
  private async listen(): Promise<void> {
    if (this.listener) return;
    let client: PoolClient | undefined;
    try {
      client = await this.pool.connect();
      const own = client;
      own.on('notification', (message) => {
        if (message.channel === OUTBOX_CHANNEL && message.payload === this.schema) {
          this.notified = true;
          this.wakeUp.abort();
        }
      });
      own.on('error', () => {
        if (this.listener === own) this.unlisten();
      });
      await own.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.listener = own;
    } catch {
      client?.release(true);
    }
  }

  /** Closes the listener's connection rather than pooling it, so its LISTEN and handlers go with it. */
  private unlisten(): void {
    const client = this.listener;
    this.listener = undefined;
    client?.release(true);
  }
}
