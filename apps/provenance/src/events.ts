import type { Pool } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import type { ChainWriter } from '@alliance/shared/data-access-messaging';
import type { PrivateDataStore } from './private-data';
import { encodePageToken, type EventQuery, eventPageSql } from './event-query';

/** The EPCIS 2.0 JSON-LD context every response names first. */
export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/epcis-context.jsonld';

export const EventErrors = {
  notFound: (eventId: string) => new AllianceError('PROVENANCE.EVENT_NOT_FOUND', 'not-found', `no event ${eventId} in this repository (it may not be committed yet)`),
};

interface EventRow {
  seq: string;
  event_id: string;
  body: string;
  record_time: Date;
  context: string | null;
}

/** An event as the repository returns it: its text as captured, `recordTime` the block's timestamp (when the chain recorded it). */
export function eventOf(row: Pick<EventRow, 'body' | 'record_time'>): Record<string, unknown> {
  const event = JSON.parse(row.body) as Record<string, unknown>;
  return { ...event, recordTime: row.record_time.toISOString() };
}

/** The union of the documents' contexts, the EPCIS context first: what a query document's `@context` must hold for its events. */
export function contextOf(contexts: ReadonlyArray<string | null>): unknown[] {
  const out: unknown[] = [EPCIS_CONTEXT];
  const seen = new Set<string>([JSON.stringify(EPCIS_CONTEXT), JSON.stringify('https://gs1.github.io/EPCIS/epcis-context.jsonld')]);
  for (const text of contexts) {
    if (!text) continue;
    const parsed = JSON.parse(text) as unknown;
    for (const entry of Array.isArray(parsed) ? parsed : [parsed]) {
      const key = JSON.stringify(entry);
      if (typeof entry === 'string' && /epcis-context\.jsonld$/.test(entry)) continue;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(entry);
      }
    }
  }
  return out;
}

export interface EventPage {
  readonly document: Record<string, unknown>;
  readonly events: ReadonlyArray<Record<string, unknown>>;
  readonly nextPageToken: string | null;
}

export const CSV_COLUMNS = ['eventID', 'type', 'eventTime', 'eventTimeZoneOffset', 'recordTime', 'action', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'epcs', 'parentID', 'organizationID', 'blockNumber', 'transactionID'] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled; a leading = + - @ is prefixed with ' so no spreadsheet runs it. */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Reads events from the read model: query pages, one event, its ledger proof. */
export class EventRepository {
  constructor(
    private readonly pool: Pool,
    private readonly writer: ChainWriter,
    /** Puts private payloads back for the organizations entitled to them (absent: every reader sees the commitments). */
    private readonly privateData?: PrivateDataStore,
  ) {}

  /** One query page; `viewer` (the caller's organization) sees the private fields it is entitled to. */
  async page(query: EventQuery, viewer?: string): Promise<EventPage> {
    const sql = eventPageSql(query);
    const { rows } = await this.pool.query<EventRow>(sql.text, sql.values);
    const page = rows.slice(0, query.perPage);
    const events = await this.disclose(page.map(eventOf), viewer);
    const nextPageToken = rows.length > query.perPage ? encodePageToken(query.fingerprint, Number(page[page.length - 1].seq)) : null;
    return { document: queryDocument(events, page.map((r) => r.context)), events, nextPageToken };
  }

  /** One page as CSV rows (header first): the columns of CSV_COLUMNS, identifiers in their stored form. */
  async csv(query: EventQuery): Promise<{ text: string; nextPageToken: string | null }> {
    const sql = eventPageSql(
      query,
      `e.seq, e.event_id, e.type, e.event_time, e.event_time_zone_offset, e.record_time, e.action, e.biz_step, e.disposition, e.read_point, e.biz_location, e.organization_id, e.block_number, e.transaction_id,
       (SELECT string_agg(x.epc, '|' ORDER BY x.epc) FROM provenance.event_epcs x WHERE x.seq = e.seq AND x.role <> 'parent') AS epcs,
       (SELECT min(x.epc) FROM provenance.event_epcs x WHERE x.seq = e.seq AND x.role = 'parent') AS parent`,
    );
    const { rows } = await this.pool.query<Record<string, unknown> & { seq: string }>(sql.text, sql.values);
    const page = rows.slice(0, query.perPage);
    const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v);
    const lines = [CSV_COLUMNS.join(',')];
    for (const r of page) {
      lines.push(
        [r['event_id'], r['type'], iso(r['event_time']), r['event_time_zone_offset'], iso(r['record_time']), r['action'], r['biz_step'], r['disposition'], r['read_point'], r['biz_location'], r['epcs'], r['parent'], r['organization_id'], r['block_number'], r['transaction_id']]
          .map(csvField)
          .join(','),
      );
    }
    return { text: `${lines.join('\r\n')}\r\n`, nextPageToken: rows.length > query.perPage ? encodePageToken(query.fingerprint, Number(page[page.length - 1].seq)) : null };
  }

  async event(eventId: string, viewer?: string): Promise<Record<string, unknown>> {
    const row = await this.row(eventId);
    const contexts = contextOf([row.context]);
    const [event] = await this.disclose([eventOf(row)], viewer);
    return { '@context': contexts.length === 1 ? contexts[0] : contexts, ...event };
  }

  /** The event as anchored (private fields replaced by their commitments), whoever asks. */
  async anchoredEvent(eventId: string): Promise<{ eventId: string; event: Record<string, unknown> }> {
    const row = await this.row(eventId);
    return { eventId: row.event_id, event: eventOf(row) };
  }

  private disclose(events: Array<Record<string, unknown>>, viewer: string | undefined): Promise<Array<Record<string, unknown>>> {
    return this.privateData && viewer ? this.privateData.disclose(events, viewer) : Promise.resolve(events);
  }

  /**
   * What proves the event: the transaction that carries it (its text at
   * `payload.events[position]`, or the transaction it is derived from), that
   * transaction's receipt from this organization's ledger node — envelope,
   * header, RFC 9162 inclusion proof, member signatures: it verifies offline
   * with the SDK — and the node's latest checkpoint.
   */
  async proof(eventId: string): Promise<Record<string, unknown>> {
    const row = await this.row(eventId);
    const [transaction, checkpoint] = await Promise.all([
      this.writer.get<{ receipt?: unknown; certified?: boolean; blockNumber?: number }>(`/ledger/v1/transactions/${row.transaction_id}`),
      this.writer.get<Record<string, unknown>>('/ledger/v1/checkpoints/latest'),
    ]);
    if (!transaction?.receipt) throw new AllianceError('PROVENANCE.NOT_CERTIFIED', 'conflict', `the block of event ${eventId} (block ${row.block_number}) is not certified yet; retry shortly`);
    return {
      eventID: row.event_id,
      eventHash: row.event_hash,
      hashVerified: row.hash_verified,
      origin: row.origin,
      transactionId: row.transaction_id,
      blockNumber: Number(row.block_number),
      leafIndex: Number(row.leaf_index),
      // Where the event's text sits in the transaction (captured events) — seq = leafIndex × 1024 + position.
      position: Number(row.seq) - Number(row.leaf_index) * 1024,
      receipt: transaction.receipt,
      checkpoint,
    };
  }

  private async row(eventId: string): Promise<EventRow & { event_hash: string; hash_verified: boolean; origin: string; transaction_id: string; block_number: string; leaf_index: string }> {
    const { rows } = await this.pool.query<EventRow & { event_hash: string; hash_verified: boolean; origin: string; transaction_id: string; block_number: string; leaf_index: string }>(
      'SELECT seq, event_id, body, record_time, context, event_hash, hash_verified, origin, transaction_id, block_number, leaf_index FROM provenance.events WHERE event_id = $1 OR event_hash = $1 ORDER BY seq LIMIT 1',
      [eventId],
    );
    if (!rows[0]) throw EventErrors.notFound(eventId);
    return rows[0];
  }
}

/** An EPCISQueryDocument holding `events` (GS1 EPCIS 2.0 §9, the REST binding's query answer). */
export function queryDocument(events: ReadonlyArray<Record<string, unknown>>, contexts: ReadonlyArray<string | null>, now = new Date()): Record<string, unknown> {
  return {
    '@context': contextOf(contexts),
    type: 'EPCISQueryDocument',
    schemaVersion: '2.0',
    creationDate: now.toISOString(),
    epcisBody: { queryResults: { queryName: 'SimpleEventQuery', resultsBody: { eventList: events } } },
  };
}
