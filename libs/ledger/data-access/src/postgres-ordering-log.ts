import {
  assertOrderingId,
  assertRecordsToAppend,
  isOffset,
  isOrderedRecordKind,
  type OrderedRecord,
  type OrderingLog,
  type OrderingLogger,
  type OrderingReader,
  offsetOutOfRange,
  orderingLogClosed,
  orderingLogUnavailable,
  type ReadOptions,
  type RecordToAppend,
  silentOrderingLogger,
} from '@alliance/ledger/domain';
import { type Pool, type PoolClient, pingPostgres, runMigrations } from '@alliance/shared/data-access-postgres';
import { AppendQueue } from './append-queue';
import { ORDERING_SCHEMA, orderingMigrations } from './migrations';
import { backoffDelay, sleep } from '@alliance/shared/data-access-messaging';
import { toUint8Array } from './util';

export interface PostgresOrderingLogOptions {
  /** Any pool on the node's database; the log lives in schema ledger_ordering (migrated on first use). */
  readonly pool: Pool;
  readonly chainId: string;
  readonly logger?: OrderingLogger;
  /** Poll even without notifications (default 1 s): a NOTIFY is lost while a listener reconnects. */
  readonly pollIntervalMs?: number;
  /** Records per delivered batch, at most (default 1000). */
  readonly batchSize?: number;
  /** Records per INSERT, at most, when concurrent appends are coalesced (default 10 000). */
  readonly maxAppendRecords?: number;
}

/** NOTIFY channel of appends; the payload is the chain id. */
const CHANNEL = 'ledger_ordering';

// One statement, so one round trip and atomic without an explicit transaction:
// the chain row's lock (taken by the UPDATE, held until commit) serializes
// appends, which therefore get gap-free offsets and become visible in order,
// and the timestamp is taken under that lock: the log's clock, like LogAppendTime.
const APPEND_SQL = `
WITH reserved AS (
  UPDATE ${ORDERING_SCHEMA}.chains
     SET next_offset = next_offset + $2::bigint,
         last_appended_at = GREATEST(last_appended_at, date_trunc('milliseconds', clock_timestamp()))
   WHERE chain_id = $1
  RETURNING next_offset - $2::bigint AS first_offset, last_appended_at
), inserted AS (
  INSERT INTO ${ORDERING_SCHEMA}.log (chain_id, "offset", kind, bytes, appended_at)
  SELECT $1, r.first_offset + t.ord - 1, t.kind, t.bytes, r.last_appended_at
    FROM reserved r, unnest($3::text[], $4::bytea[]) WITH ORDINALITY AS t(kind, bytes, ord)
  RETURNING "offset"
)
SELECT (SELECT min("offset") FROM inserted)::text AS first_offset,
       (SELECT count(*) FROM inserted)::int AS appended,
       pg_notify('${CHANNEL}', $1) AS notified`;

// Offsets are gap-free, so the next batch is exactly the range [from, from + limit): bounded
// whatever plan the statistics of a freshly filled table suggest (an open-ended ">= from"
// made PostgreSQL sort everything after `from` for every batch). Ordered by the bigint
// column, not by the text alias of the same name.
const READ_SQL = `
SELECT l."offset"::text AS "offset", l.kind, l.bytes,
       to_char(l.appended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS timestamp
  FROM ${ORDERING_SCHEMA}.log l
 WHERE l.chain_id = $1 AND l."offset" >= $2::bigint AND l."offset" < $2::bigint + $3::bigint
 ORDER BY l."offset"`;

/**
 * The solo ordering log for the embedded mode: a PostgreSQL table with the
 * Kafka log's semantics (gap-free increasing offsets from 0, timestamps from
 * the log's clock, in-order delivery from any offset), so the same cutter cuts
 * the same blocks from it.
 */
export class PostgresOrderingLog implements OrderingLog {
  readonly chainId: string;
  private readonly pool: Pool;
  private readonly log: OrderingLogger;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private prepared: Promise<void> | undefined;
  private readonly readers = new Set<PostgresReader>();
  private readonly appends: AppendQueue;
  private closed = false;

  constructor(options: PostgresOrderingLogOptions) {
    assertOrderingId(options.chainId);
    this.chainId = options.chainId;
    this.pool = options.pool;
    this.log = options.logger ?? silentOrderingLogger;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.batchSize = options.batchSize ?? 1_000;
    // Concurrent appends would queue on the chain row's lock one transaction at a time;
    // coalesced, they share one statement (and stay atomic per append).
    this.appends = new AppendQueue({ send: (records) => this.insert(records), maxRecords: options.maxAppendRecords ?? 10_000, maxBytes: 32 * 1024 * 1024, recordOverhead: 32 });
  }

  async append(records: readonly RecordToAppend[]): Promise<number[]> {
    if (this.closed) throw orderingLogClosed('postgres');
    assertRecordsToAppend(records);
    if (records.length === 0) return [];
    return this.appends.append(records);
  }

  async read(options: ReadOptions): Promise<OrderingReader> {
    if (this.closed) throw orderingLogClosed('postgres');
    await this.ready();
    const { rows } = await this.pool.query<{ next_offset: string }>(`SELECT next_offset::text AS next_offset FROM ${ORDERING_SCHEMA}.chains WHERE chain_id = $1`, [this.chainId]);
    const end = Number(rows[0]?.next_offset ?? 0);
    if (!isOffset(options.fromOffset) || options.fromOffset > end) throw offsetOutOfRange(options.fromOffset, 0, end, `chain ${this.chainId}`);
    const reader = new PostgresReader(this.pool, this.chainId, options, { pollIntervalMs: this.pollIntervalMs, batchSize: this.batchSize, log: this.log }, () =>
      this.readers.delete(reader),
    );
    this.readers.add(reader);
    reader.start();
    return reader;
  }

  async ping(): Promise<boolean> {
    return !this.closed && (await pingPostgres(this.pool));
  }

  /** Closes readers and waits for appends in flight; the pool belongs to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.readers].map((reader) => reader.close()));
    await this.appends.idle();
  }

  private async insert(records: readonly RecordToAppend[]): Promise<number[]> {
    try {
      await this.ready();
      const { rows } = await this.pool.query<{ first_offset: string | null; appended: number }>(APPEND_SQL, [
        this.chainId,
        records.length,
        records.map((r) => r.kind),
        records.map((r) => r.bytes),
      ]);
      const first = Number(rows[0]?.first_offset);
      if (rows[0]?.appended !== records.length || !isOffset(first)) throw new Error(`chain ${this.chainId} is not registered in ${ORDERING_SCHEMA}.chains`);
      return records.map((_, i) => first + i);
    } catch (error) {
      throw orderingLogUnavailable('postgres', error);
    }
  }

  /** Migrates and registers the chain once per instance; a failure is retried on the next call. */
  private ready(): Promise<void> {
    this.prepared ??= (async () => {
      await runMigrations(this.pool, ORDERING_SCHEMA, orderingMigrations());
      await this.pool.query(`INSERT INTO ${ORDERING_SCHEMA}.chains (chain_id) VALUES ($1) ON CONFLICT DO NOTHING`, [this.chainId]);
    })().catch((error: unknown) => {
      this.prepared = undefined;
      throw error;
    });
    return this.prepared;
  }
}

interface ReaderSettings {
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly log: OrderingLogger;
}

/**
 * One polling loop on a dedicated connection that also LISTENs, so appends
 * wake it at once. Its position is in memory only: the caller persists what it
 * consumed and starts a new reader from there after a restart.
 */
class PostgresReader implements OrderingReader {
  private position: number;
  private loop: Promise<void> | undefined;
  private readonly closing = new AbortController();
  private wakeUp = new AbortController();
  private notified = false;
  private connection: PoolClient | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly chainId: string,
    private readonly options: ReadOptions,
    private readonly settings: ReaderSettings,
    private readonly onClosed: () => void,
  ) {
    this.position = options.fromOffset;
  }

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
      let connection: PoolClient;
      let batch: OrderedRecord[];
      try {
        connection = await this.connect();
        this.notified = false;
        batch = await this.fetch(connection);
      } catch (error) {
        failures += 1;
        this.settings.log({
          level: failures === 1 ? 'warn' : 'debug',
          message: `solo ordering reader of chain ${this.chainId} lost its connection; retrying`,
          context: { error: error instanceof Error ? error.message : String(error), failures },
        });
        this.disconnect();
        await sleep(backoffDelay(Math.max(1, failures), { initialMs: 250, maxMs: 10_000, jitter: 0.25 }), this.closing.signal);
        continue;
      }
      failures = 0;
      if (batch.length === 0) {
        await this.idle();
        continue;
      }
      await this.deliver(batch);
    }
    this.disconnect();
  }

  private async fetch(connection: PoolClient): Promise<OrderedRecord[]> {
    const { rows } = await connection.query<{ offset: string; kind: string; bytes: Buffer; timestamp: string }>(READ_SQL, [this.chainId, this.position, this.settings.batchSize]);
    const batch: OrderedRecord[] = [];
    for (const row of rows) {
      const offset = Number(row.offset);
      // Offsets are gap-free and appear in order (see APPEND_SQL); anything else is a damaged table.
      if (offset !== this.position + batch.length) throw new Error(`chain ${this.chainId}: expected offset ${this.position + batch.length}, found ${row.offset}`);
      if (!isOrderedRecordKind(row.kind)) throw new Error(`chain ${this.chainId}: offset ${row.offset} has unknown kind ${row.kind}`);
      batch.push({ offset, timestamp: row.timestamp, kind: row.kind, bytes: toUint8Array(row.bytes) });
    }
    return batch;
  }

  /** Hands the batch over until it is accepted; the position moves only then. */
  private async deliver(batch: readonly OrderedRecord[]): Promise<void> {
    for (let attempt = 1; !this.closing.signal.aborted; attempt += 1) {
      try {
        await this.options.handle(batch);
        this.position = batch[batch.length - 1].offset + 1;
        return;
      } catch (error) {
        this.settings.log({
          level: attempt === 1 ? 'warn' : 'debug',
          message: `handler of chain ${this.chainId} refused offsets ${batch[0].offset}..${batch[batch.length - 1].offset}; delivering them again`,
          context: { error: error instanceof Error ? error.message : String(error), attempt },
        });
        await sleep(backoffDelay(Math.max(1, attempt), { initialMs: 100, maxMs: 5_000, jitter: 0.25 }), this.closing.signal);
      }
    }
  }

  private async connect(): Promise<PoolClient> {
    if (this.connection) return this.connection;
    const connection = await this.pool.connect();
    connection.on('error', () => {
      if (this.connection === connection) this.disconnect();
    });
    connection.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload === this.chainId) {
        this.notified = true;
        this.wakeUp.abort();
      }
    });
    try {
      await connection.query(`LISTEN ${CHANNEL}`);
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

  /** A dedicated connection is never handed back: its LISTEN and listeners go with it. */
  private disconnect(): void {
    const connection = this.connection;
    this.connection = undefined;
    connection?.release(true);
  }
}
