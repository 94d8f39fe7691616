import type { EventEnvelope } from '@alliance/contracts';
import { type Pool, type PoolClient, pingPostgres, runMigrations, withTransaction } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { type BackoffOptions, backoffDelay, sleep } from './backoff';
import { MessagingErrorCodes, publishFailed, transportClosed } from './errors';
import { BUS_SCHEMA, busMigrations } from './migrations';
import { type MessagingLogger, type RecordBatch, silentLogger, type SubscribeOptions, type Subscription, type Transport, type TransportRecord } from './ports';

export interface PostgresTransportOptions {
  /** Any pool on the database that holds (or may create) schema alliance_bus. */
  readonly pool: Pool;
  readonly logger?: MessagingLogger;
  /** Poll even without notifications (default 1 s): NOTIFY is lost while a listener reconnects. */
  readonly pollIntervalMs?: number;
  /** Records per delivered batch (default 100). */
  readonly batchSize?: number;
}

/** NOTIFY channel of appends; the payload is the topic. */
const BUS_CHANNEL = 'alliance_bus';
const RECONNECT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 10_000 };

/**
 * The embedded ("solo") transport: an append-only log per topic in PostgreSQL
 * (schema alliance_bus, migrated on first use) with Kafka's semantics where
 * the port needs them: one partition per topic with a total order, consumer
 * groups with a committed position, one active consumer per group and topic
 * (a session advisory lock; others stand by), at-least-once delivery.
 */
export class PostgresTransport implements Transport {
  readonly kind = 'postgres' as const;
  private readonly pool: Pool;
  private readonly log: MessagingLogger;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private migrated: Promise<void> | undefined;
  private readonly subscriptions = new Set<PostgresSubscription>();
  private closed = false;

  constructor(options: PostgresTransportOptions) {
    this.pool = options.pool;
    this.log = options.logger ?? silentLogger;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.batchSize = options.batchSize ?? 100;
  }

  async publish(records: readonly EventEnvelope[]): Promise<void> {
    if (this.closed) throw transportClosed('postgres');
    if (records.length === 0) return;
    const byTopic = new Map<string, EventEnvelope[]>();
    for (const envelope of records) byTopic.set(envelope.topic, [...(byTopic.get(envelope.topic) ?? []), envelope]);
    try {
      await this.ready();
      await withTransaction(this.pool, async (client) => {
        // Topics locked in name order, so two publishers of the same topics cannot deadlock.
        for (const topic of [...byTopic.keys()].sort()) {
          const envelopes = byTopic.get(topic) ?? [];
          // Reserving the offsets locks the topic's row until commit: appends to one topic are serialized
          // and become visible in offset order, without gaps.
          const { rows } = await client.query<{ next_offset: string }>(`UPDATE ${BUS_SCHEMA}.topics SET next_offset = next_offset + $2 WHERE topic = $1 RETURNING next_offset`, [
            topic,
            envelopes.length,
          ]);
          if (rows.length === 0) throw new AllianceError(MessagingErrorCodes.unknownTopic, 'not-found', `topic ${topic} does not exist (ensureTopics creates it)`);
          const first = BigInt(rows[0].next_offset) - BigInt(envelopes.length);
          await client.query(
            `INSERT INTO ${BUS_SCHEMA}.log (topic, "offset", key, envelope, appended_at)
             SELECT $1, $2::bigint + t.ord - 1, t.key, t.envelope::jsonb, clock_timestamp()
             FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS t(key, envelope, ord)`,
            [topic, first.toString(), envelopes.map((e) => e.key), envelopes.map((e) => JSON.stringify(e))],
          );
          await client.query('SELECT pg_notify($1, $2)', [BUS_CHANNEL, topic]);
        }
      });
    } catch (error) {
      throw publishFailed('postgres', error);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw transportClosed('postgres');
    await this.ready();
    const subscription = new PostgresSubscription(this.pool, options, { pollIntervalMs: this.pollIntervalMs, batchSize: this.batchSize, log: this.log }, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  async ensureTopics(names: readonly string[]): Promise<void> {
    const wanted = [...new Set(names)];
    if (wanted.length === 0) return;
    await this.ready();
    await this.pool.query(`INSERT INTO ${BUS_SCHEMA}.topics (topic) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [wanted]);
  }

  async ping(): Promise<boolean> {
    return !this.closed && (await pingPostgres(this.pool));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
  }

  /** Applies the bus migrations once per transport; a failure is retried on the next call. */
  private ready(): Promise<void> {
    this.migrated ??= runMigrations(this.pool, BUS_SCHEMA, busMigrations()).then(
      () => undefined,
      (error: unknown) => {
        this.migrated = undefined;
        throw error;
      },
    );
    return this.migrated;
  }
}

interface SubscriptionSettings {
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly log: MessagingLogger;
}

/**
 * One polling loop over a dedicated connection, which holds the LISTEN and the
 * advisory locks that make this subscriber the group's only active consumer of
 * a topic. Losing the connection loses the locks; the loop reconnects and
 * resumes from the committed position.
 */
class PostgresSubscription implements Subscription {
  private loop: Promise<void> | undefined;
  private readonly closing = new AbortController();
  private wakeUp = new AbortController();
  private notified = false;
  private connection: PoolClient | undefined;
  /** Topics whose lock we hold, with the next offset to deliver. */
  private readonly positions = new Map<string, bigint>();

  constructor(
    private readonly pool: Pool,
    private readonly options: SubscribeOptions,
    private readonly settings: SubscriptionSettings,
    private readonly onClosed: () => void,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.wakeUp.abort();
    await this.loop;
    this.onClosed();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closing.signal.aborted) {
      try {
        const connection = await this.connect();
        this.notified = false;
        let delivered = 0;
        for (const topic of this.options.topics) {
          if (this.closing.signal.aborted) break;
          delivered += await this.deliver(connection, topic);
        }
        failures = 0;
        if (delivered === 0) await this.idle();
      } catch (error) {
        failures += 1;
        const delayMs = backoffDelay(failures, RECONNECT_BACKOFF);
        this.settings.log({
          level: failures === 1 ? 'warn' : 'debug',
          message: `postgres bus subscription of group ${this.options.group} failed; retrying in ${delayMs} ms`,
          context: { error: error instanceof Error ? error.message : String(error) },
        });
        this.disconnect();
        await sleep(delayMs, this.closing.signal);
      }
    }
    this.disconnect();
  }

  /** Delivers one batch of `topic` if this subscriber owns it; returns how many records. */
  private async deliver(connection: PoolClient, topic: string): Promise<number> {
    const { group } = this.options;
    let from = this.positions.get(topic);
    if (from === undefined) {
      const { rows } = await connection.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked', [`alliance_bus:${group}`, topic]);
      if (!rows[0].locked) return 0; // another member of the group consumes this topic
      const position = await connection.query<{ next_offset: string }>(`SELECT next_offset FROM ${BUS_SCHEMA}.consumer_offsets WHERE group_id = $1 AND topic = $2`, [group, topic]);
      from = BigInt(position.rows[0]?.next_offset ?? 0);
      this.positions.set(topic, from);
    }
    const { rows } = await connection.query<{ offset: string; key: string | null; envelope: string; appended_at: Date }>(
      `SELECT "offset", key, envelope::text AS envelope, appended_at FROM ${BUS_SCHEMA}.log WHERE topic = $1 AND "offset" >= $2 ORDER BY "offset" LIMIT $3`,
      [topic, from.toString(), this.settings.batchSize],
    );
    if (rows.length === 0) return 0;
    const records: TransportRecord[] = rows.map((row) => ({
      topic,
      partition: 0,
      offset: row.offset,
      key: row.key,
      value: Buffer.from(row.envelope, 'utf8'),
      timestamp: row.appended_at.toISOString(),
    }));
    const batch: RecordBatch = {
      topic,
      partition: 0,
      records,
      commit: async (record) => {
        const next = BigInt(record.offset) + 1n;
        await connection.query(
          `INSERT INTO ${BUS_SCHEMA}.consumer_offsets (group_id, topic, next_offset) VALUES ($1, $2, $3)
           ON CONFLICT (group_id, topic) DO UPDATE SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()`,
          [group, topic, next.toString()],
        );
        if (next > (this.positions.get(topic) ?? 0n)) this.positions.set(topic, next);
      },
      // Ownership is the connection's lock, not a session with the broker: nothing to keep alive.
      heartbeat: async () => undefined,
      isActive: () => !this.closing.signal.aborted && this.connection === connection,
    };
    await this.options.handle(batch);
    return records.length;
  }

  private async connect(): Promise<PoolClient> {
    if (this.connection) return this.connection;
    const connection = await this.pool.connect();
    connection.on('error', () => {
      if (this.connection === connection) this.disconnect();
    });
    connection.on('notification', (message) => {
      if (message.channel === BUS_CHANNEL && message.payload !== undefined && this.options.topics.includes(message.payload)) {
        this.notified = true;
        this.wakeUp.abort();
      }
    });
    try {
      await connection.query(`LISTEN ${BUS_CHANNEL}`);
    } catch (error) {
      connection.release(true);
      throw error;
    }
    this.connection = connection;
    return connection;
  }

  private async idle(): Promise<void> {
    if (this.notified || this.closing.signal.aborted) return;
    this.wakeUp = new AbortController();
    await sleep(this.settings.pollIntervalMs, this.wakeUp.signal);
  }

  /**
   * Drops the connection: its locks and LISTEN go with it, and so do the
   * listeners attached above (a dedicated connection is never handed back to the pool).
   */
  private disconnect(): void {
    const connection = this.connection;
    this.connection = undefined;
    this.positions.clear();
    connection?.release(true);
  }
}
