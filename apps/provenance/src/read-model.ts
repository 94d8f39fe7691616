import { type JsonValue, type PrivatePurge, type Transfer, transferEventOf } from '@alliance/ledger/domain';
import { eventHashId, type EventIndex, indexEvent } from '@alliance/provenance/domain';
import { type ApplyOutcome, type BlockProjection, ChainStateMirror, type CommittedBlock, type CommittedTransaction, ProjectionCursor, type ProjectionPosition } from '@alliance/shared/data-access-messaging';
import { type Pool, type PoolClient, withTransaction } from '@alliance/shared/data-access-postgres';

/** Events per transaction a sequence number leaves room for (a capture anchors at most 1,000). */
const SEQ_PER_TRANSACTION = 1024;

/** An event the repository holds: captured, or derived from a transaction by every member alike. */
export interface RepositoryEvent {
  readonly eventId: string;
  readonly eventHash: string;
  readonly hashVerified: boolean;
  /** The event's JSON text as on the chain (captured) or as derived. */
  readonly body: string;
  readonly context: string | null;
  readonly origin: string;
  readonly captureId: string;
}

/**
 * Events a transaction yields beside what it captures, derived the same way
 * at every member from the committed transaction and its writes (an accepted
 * transfer's shipping and receiving events; a sensor batch's event and its
 * alerts' dispositions). Derived events carry no `eventID` of their own: they
 * are named by their CBV 2.0 hash ID. `client` is the block's transaction: a
 * deriver that needs what earlier blocks left (the sensor readings it
 * evaluates rules over) reads and keeps its own read-model tables with it, so
 * they move with the block; `reset()` empties them too.
 */
export type EventDeriver = (
  tx: CommittedTransaction,
  block: CommittedBlock,
  client: PoolClient,
) => ReadonlyArray<{ readonly event: Record<string, unknown>; readonly origin: string }> | Promise<ReadonlyArray<{ readonly event: Record<string, unknown>; readonly origin: string }>>;

/** An accepted transfer yields its shipping and receiving events (docs/provenance.md, Custody and ownership transfer). */
export const transferEvents: EventDeriver = (tx) => {
  if (tx.type !== 'provenance.transfer.answer') return [];
  const write = tx.writes.find((w) => w.key.startsWith('provenance/transfer/'));
  const transfer = write?.value as Transfer | null | undefined;
  if (!transfer || transfer.status !== 'accepted') return [];
  return [
    { event: transferEventOf(transfer, 'shipping'), origin: `transfer:${transfer.transferId}` },
    { event: transferEventOf(transfer, 'receiving'), origin: `transfer:${transfer.transferId}` },
  ];
};

/** World-state keys the read model mirrors in `chain_state`: every provenance record but the per-event anchors. */
const mirrored = (key: string) => key.startsWith('provenance/') && !key.startsWith('provenance/event/') && !key.startsWith('provenance/event-hash/');

export interface ProvenanceReadModelOptions {
  readonly pool: Pool;
  readonly chainId: string;
  readonly nodeId: string;
  readonly derivers?: readonly EventDeriver[];
  /** Called in the transaction that applied a block, with the events it added (alerts, Kafka events). */
  readonly onApplied?: (client: PoolClient, block: CommittedBlock, added: ReadonlyArray<{ seq: number; event: RepositoryEvent; index: EventIndex; tx: CommittedTransaction }>, publish: boolean) => Promise<void>;
}

interface Row {
  seq: number;
  event: RepositoryEvent;
  index: EventIndex;
  tx: CommittedTransaction;
}

/**
 * The provenance read model in PostgreSQL (schema `provenance`,
 * docs/provenance.md, Read model): the EPCIS repository and lineage index of
 * this organization's node, built from committed blocks alone. Blocks are
 * applied strictly in order, each in one transaction with the position, so a
 * crash leaves it at a block boundary and a redelivered block is a no-op.
 */
export class ProvenanceReadModel implements BlockProjection {
  private readonly state: ChainStateMirror;
  private readonly cursor: ProjectionCursor;

  constructor(private readonly options: ProvenanceReadModelOptions) {
    this.state = new ChainStateMirror({ pool: options.pool, schema: 'provenance', mirrored });
    this.cursor = new ProjectionCursor({ pool: options.pool, schema: 'provenance', service: 'PROVENANCE', chainId: options.chainId, nodeId: options.nodeId });
  }

  position(client: Pool | PoolClient = this.options.pool): Promise<ProjectionPosition> {
    return this.cursor.position(client);
  }

  lastBlock(): Promise<number> {
    return this.cursor.lastBlock();
  }

  apply(block: CommittedBlock, client?: PoolClient): Promise<ApplyOutcome> {
    return client ? this.applyWith(client, block) : withTransaction(this.options.pool, (c) => this.applyWith(c, block));
  }

  private async applyWith(client: PoolClient, block: CommittedBlock): Promise<ApplyOutcome> {
    const opened = await this.cursor.open(client, block);
    if (typeof opened === 'string') return opened;
    const { publish } = opened;

    const added: Row[] = [];
    const problems: Array<{ tx: CommittedTransaction; code: string; detail: string }> = [];
    for (const tx of block.transactions) {
      if (tx.code !== 'VALID') continue;
      const base = tx.leafIndex * SEQ_PER_TRANSACTION;
      let position = 0;
      if (tx.type === 'provenance.epcis.capture' && tx.payload) {
        const payload = tx.payload as { captureId: string; context: string | null; events: Array<{ eventId: string; eventHash: string; event: string }> };
        const context = payload.context === null ? undefined : (JSON.parse(payload.context) as unknown);
        for (const entry of payload.events) {
          const event = JSON.parse(entry.event) as Record<string, unknown>;
          const computed = safeHash(event, context);
          if (computed !== entry.eventHash) problems.push({ tx, code: 'PROVENANCE.HASH_MISMATCH', detail: `event ${entry.eventId} states hash ${entry.eventHash}; its text hashes to ${computed ?? '(not computable)'}` });
          added.push({
            seq: base + position++,
            event: { eventId: entry.eventId, eventHash: entry.eventHash, hashVerified: computed === entry.eventHash, body: entry.event, context: payload.context, origin: 'capture', captureId: payload.captureId },
            index: indexEvent(event),
            tx,
          });
        }
      }
      for (const derive of this.options.derivers ?? []) {
        for (const { event: derived, origin } of await derive(tx, block, client)) {
          const hash = eventHashId(derived);
          const event = { eventID: hash, ...derived };
          added.push({ seq: base + position++, event: { eventId: hash, eventHash: hash, hashVerified: true, body: JSON.stringify(event), context: null, origin, captureId: `tx-${tx.transactionId}` }, index: indexEvent(event), tx });
        }
      }
    }
    const inserted = await this.insertEvents(client, block, added);
    for (const row of added) if (!inserted.has(row.seq)) problems.push({ tx: row.tx, code: 'PROVENANCE.DUPLICATE_EVENT', detail: `event ${row.event.eventId} (${row.event.origin}) is already in the repository; this copy is not indexed` });
    await this.state.mirror(client, block);
    await purgePrivatePayloads(client, block);
    for (const p of problems) {
      await client.query('INSERT INTO provenance.problems (block_number, transaction_id, organization_id, code, detail) VALUES ($1, $2, $3, $4, $5)', [block.blockNumber, p.tx.transactionId, p.tx.organizationId, p.code, p.detail]);
    }
    await this.cursor.advance(client, block);
    await this.options.onApplied?.(
      client,
      block,
      added.filter((r) => inserted.has(r.seq)),
      publish,
    );
    return 'applied';
  }

  private async insertEvents(client: PoolClient, block: CommittedBlock, rows: readonly Row[]): Promise<Set<number>> {
    if (rows.length === 0) return new Set();
    const col = <T>(f: (r: Row) => T) => rows.map(f);
    const { rows: done } = await client.query<{ seq: string }>(
      `INSERT INTO provenance.events (seq, event_id, event_hash, hash_verified, type, action, biz_step, disposition, read_point, biz_location, transformation_id,
         persistent_set, persistent_unset, event_time, event_time_zone_offset, record_time, error_declaration_time, organization_id, capture_id,
         block_number, transaction_id, leaf_index, origin, body, context)
       SELECT s, i, h, v, t, a, bs, d, rp, bl, tf, ARRAY(SELECT jsonb_array_elements_text(ps)), ARRAY(SELECT jsonb_array_elements_text(pu)), et::timestamptz, eo, $18::timestamptz, edt::timestamptz, o, c, $19, tx, li, og, b, cx
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
         $12::jsonb[], $13::jsonb[], $14::text[], $15::text[], $16::text[], $17::text[], $20::text[], $21::text[], $22::bigint[], $23::text[], $24::text[], $25::text[])
         AS x(s, i, h, v, t, a, bs, d, rp, bl, tf, ps, pu, et, eo, edt, o, c, tx, li, og, b, cx)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING seq`,
      [
        col((r) => r.seq),
        col((r) => r.event.eventId),
        col((r) => r.event.eventHash),
        col((r) => r.event.hashVerified),
        col((r) => r.index.type),
        col((r) => r.index.action),
        col((r) => r.index.bizStep),
        col((r) => r.index.disposition),
        col((r) => r.index.readPoint),
        col((r) => r.index.bizLocation),
        col((r) => r.index.transformationId),
        col((r) => JSON.stringify(r.index.persistentSet)),
        col((r) => JSON.stringify(r.index.persistentUnset)),
        col((r) => r.index.eventTime),
        col((r) => r.index.eventTimeZoneOffset),
        col((r) => r.index.errorDeclarationTime),
        col((r) => r.tx.organizationId ?? ''),
        block.committedAt,
        block.blockNumber,
        col((r) => r.event.captureId),
        col((r) => r.tx.transactionId),
        col((r) => r.tx.leafIndex),
        col((r) => r.event.origin),
        col((r) => r.event.body),
        col((r) => r.event.context),
      ],
    );
    const inserted = new Set(done.map((d) => Number(d.seq)));
    const kept = rows.filter((r) => inserted.has(r.seq));
    const flat = <T>(f: (r: Row) => readonly T[]) => kept.flatMap((r) => f(r).map((item) => ({ seq: r.seq, item, time: r.index.eventTime })));
    const epcs = flat((r) => r.index.epcs);
    if (epcs.length > 0) {
      await client.query(`INSERT INTO provenance.event_epcs (seq, role, epc, quantity, uom) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::numeric[], $5::text[])`, [
        epcs.map((e) => e.seq),
        epcs.map((e) => e.item.role),
        epcs.map((e) => e.item.epc),
        epcs.map((e) => e.item.quantity ?? null),
        epcs.map((e) => e.item.uom ?? null),
      ]);
    }
    const biz = flat((r) => r.index.bizTransactions);
    if (biz.length > 0) {
      await client.query(`INSERT INTO provenance.event_biz_transactions (seq, type, biz_transaction) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])`, [biz.map((b) => b.seq), biz.map((b) => b.item.type), biz.map((b) => b.item.bizTransaction)]);
    }
    const parties = flat((r) => r.index.parties);
    if (parties.length > 0) {
      await client.query(`INSERT INTO provenance.event_parties (seq, kind, type, party) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])`, [
        parties.map((p) => p.seq),
        parties.map((p) => p.item.kind),
        parties.map((p) => p.item.type),
        parties.map((p) => p.item.party),
      ]);
    }
    const sensors = flat((r) => r.index.sensorReports);
    if (sensors.length > 0) {
      await client.query(
        `INSERT INTO provenance.event_sensor_reports (seq, type, device_id, value, min_value, max_value, mean_value, uom, time)
         SELECT s, t, d, v, mn, mx, me, u, tm::timestamptz FROM unnest($1::bigint[], $2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[], $8::text[], $9::text[]) AS x(s, t, d, v, mn, mx, me, u, tm)`,
        [
          sensors.map((s) => s.seq),
          sensors.map((s) => s.item.type),
          sensors.map((s) => s.item.deviceId),
          sensors.map((s) => s.item.value),
          sensors.map((s) => s.item.minValue),
          sensors.map((s) => s.item.maxValue),
          sensors.map((s) => s.item.meanValue),
          sensors.map((s) => s.item.uom),
          sensors.map((s) => s.item.time),
        ],
      );
    }
    const edges = flat((r) => r.index.lineage);
    if (edges.length > 0) {
      await client.query(`INSERT INTO provenance.lineage (from_node, to_node, kind, seq, event_time) SELECT f, t, k, s, et::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) AS x(f, t, k, s, et)`, [
        edges.map((e) => e.item.from),
        edges.map((e) => e.item.to),
        edges.map((e) => e.item.kind),
        edges.map((e) => e.seq),
        edges.map((e) => e.time),
      ]);
    }
    return inserted;
  }

  /** The current value of a mirrored chain record (item, transfer, sensor rule, master data), or null. */
  async record<T = JsonValue>(key: string, client: Pool | PoolClient = this.options.pool): Promise<T | null> {
    return this.state.record<T>(key, client);
  }

  /** Current mirrored records under a key prefix, in key order after `after`, at most `limit`. */
  records<T = JsonValue>(prefix: string, after: string | null, limit: number): Promise<Array<{ key: string; value: T }>> {
    return this.state.records<T>(prefix, after, limit);
  }

  /** Problems found in committed data (stated hashes that do not recompute, duplicate derived events), newest first. */
  async problems(limit = 100): Promise<Array<{ blockNumber: number; transactionId: string; organizationId: string | null; code: string; detail: string; foundAt: string }>> {
    const { rows } = await this.options.pool.query<{ block_number: string; transaction_id: string; organization_id: string | null; code: string; detail: string; found_at: Date }>(
      'SELECT block_number, transaction_id, organization_id, code, detail, found_at FROM provenance.problems ORDER BY id DESC LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({ blockNumber: Number(r.block_number), transactionId: r.transaction_id, organizationId: r.organization_id, code: r.code, detail: r.detail, foundAt: r.found_at.toISOString() }));
  }

  /** Empties the read model; the next catch-up rebuilds it from block 0 (nothing is announced again). */
  async reset(): Promise<void> {
    await withTransaction(this.options.pool, (client) =>
      this.cursor.rewind(client, async (c) => {
        await c.query(`TRUNCATE provenance.events, provenance.event_epcs, provenance.event_biz_transactions, provenance.event_parties, provenance.event_sensor_reports, provenance.lineage, provenance.problems, ${this.state.tables.join(', ')}, provenance.sensor_readings, provenance.sensor_alerts, provenance.stock`);
      }),
    );
  }
}

/**
 * A committed `provenance.private.purge` empties this store's copy of the
 * payloads it names (docs/provenance.md, Private data): at every member, on
 * first apply and on every rebuild alike.
 */
async function purgePrivatePayloads(client: PoolClient, block: CommittedBlock): Promise<void> {
  for (const tx of block.transactions) {
    if (tx.code !== 'VALID' || tx.type !== 'provenance.private.purge') continue;
    const purges = tx.writes.filter((w) => w.key.startsWith('provenance/private-purge/')).map((w) => w.value as unknown as PrivatePurge);
    await client.query(
      `UPDATE provenance.private_payloads p SET payload = NULL, salt = NULL, purged_at = u.at::timestamptz, purge_transaction_id = $3, purge_block_number = $4
       FROM unnest($1::text[], $2::text[]) AS u(c, at) WHERE p.commitment = u.c`,
      [purges.map((p) => p.commitment), purges.map((p) => p.purgedAt), tx.transactionId, block.blockNumber],
    );
  }
}

function safeHash(event: Record<string, unknown>, context: unknown): string | null {
  try {
    return eventHashId(event, { context });
  } catch {
    return null;
  }
}
