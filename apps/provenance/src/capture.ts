import { createHash, randomBytes } from 'node:crypto';
import { MAX_CAPTURE_EVENTS, MAX_EVENT_TEXT } from '@alliance/ledger/domain';
import { MAX_ENVELOPE_BYTES } from '@alliance/protocol';
import { ALLIANCE_EPCIS_NAMESPACE, eventHashId, eventsOf, type PrivateGroup, PRIVATE_SALT_BYTES, splitPrivate, validateEpcisDocument } from '@alliance/provenance/domain';
import { type Pool, withTransaction } from '@alliance/shared/data-access-postgres';
import type { Principal } from '@alliance/shared/util-auth';
import { AllianceError } from '@alliance/shared/util-errors';
import type { ChainWriter } from '@alliance/shared/data-access-messaging';

export const CaptureErrors = {
  invalidDocument: (problems: ReadonlyArray<{ path: string; message: string }>) =>
    new AllianceError('PROVENANCE.INVALID_DOCUMENT', 'invalid', `the document is not a valid EPCIS 2.0 document: ${problems[0]?.path ?? '/'} ${problems[0]?.message ?? ''}`.trim(), { details: { problems } }),
  tooMany: (count: number) => new AllianceError('PROVENANCE.CAPTURE_TOO_LARGE', 'too-large', `a capture holds 1-${MAX_CAPTURE_EVENTS} events (GS1-EPCIS-Capture-Limit); this document has ${count}`),
  tooLarge: (bytes: number) => new AllianceError('PROVENANCE.CAPTURE_TOO_LARGE', 'too-large', `the capture transaction would be ${bytes} bytes; one capture is at most ${MAX_ENVELOPE_BYTES} (split the document)`),
  eventTooLarge: (index: number) => new AllianceError('PROVENANCE.CAPTURE_TOO_LARGE', 'too-large', `event ${index} is longer than ${MAX_EVENT_TEXT} characters of JSON`),
  duplicate: (eventId: string, existing: string) =>
    new AllianceError('PROVENANCE.DUPLICATE_EVENT', 'conflict', `event ${eventId} is already captured as ${existing}`, { details: { eventID: eventId, existingEventID: existing } }),
  duplicateInDocument: (eventId: string) => new AllianceError('PROVENANCE.DUPLICATE_EVENT', 'invalid', `event ${eventId} appears twice in this document`, { details: { eventID: eventId } }),
  behaviour: (value: string) =>
    new AllianceError('PROVENANCE.UNSUPPORTED_CAPTURE_BEHAVIOUR', 'invalid', `GS1-Capture-Error-Behaviour must be rollback: a document is anchored all or nothing in one ledger transaction (got "${value}")`),
  idempotencyReused: (key: string) => new AllianceError('PROVENANCE.IDEMPOTENCY_KEY_REUSED', 'conflict', `Idempotency-Key ${key} was used for another document`),
  notFound: (captureId: string) => new AllianceError('PROVENANCE.CAPTURE_NOT_FOUND', 'not-found', `no capture job ${captureId} of this organization`),
  privateData: (index: number, detail: string) => new AllianceError('PROVENANCE.INVALID_PRIVATE_DATA', 'invalid', `event ${index}: ${detail}`, { details: { event: index } }),
};

/**
 * The document's `@context` with the `alliance` prefix declared, for a
 * document whose events carry Alliance's private-data extension (its events
 * are hashed and served with it).
 */
function withAllianceContext(context: unknown): unknown {
  const declares = (c: unknown): boolean => (Array.isArray(c) ? c.some(declares) : !!c && typeof c === 'object' && (c as Record<string, unknown>)['alliance'] !== undefined);
  if (declares(context)) return context;
  const own = { alliance: ALLIANCE_EPCIS_NAMESPACE };
  if (context === undefined) return ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld', own];
  return [...(Array.isArray(context) ? context : [context]), own];
}

/** A capture job as the GS1 REST binding shows it (CaptureJob), with where it landed on the chain. */
export interface CaptureJob {
  readonly captureID: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly running: boolean;
  readonly success: boolean;
  readonly captureErrorBehaviour: 'rollback';
  readonly errors: ReadonlyArray<{ type: string; title: string; status: number; detail: string; code: string }>;
  readonly eventCount: number;
  readonly eventIDs: readonly string[];
  readonly transactionId: string | null;
  readonly blockNumber: number | null;
}

interface JobRow {
  capture_id: string;
  status: 'pending' | 'submitted' | 'committed' | 'failed';
  event_count: number;
  event_ids: string[];
  document_hash: string;
  envelope: Buffer | null;
  transaction_id: string | null;
  block_number: string | null;
  errors: Array<{ code: string; detail: string }> | null;
  created_at: Date;
  finished_at: Date | null;
  submitted_at?: Date;
}

export interface CaptureServiceOptions {
  readonly pool: Pool;
  readonly writer: ChainWriter;
  /** How often open jobs are driven (submitted, checked) while any exist. */
  readonly pollIntervalMs?: number;
  /** Open jobs submitted or checked at once in one pass (default 8): the node orders them, so their order here does not matter. */
  readonly concurrency?: number;
  readonly logger?: (level: 'info' | 'warn', message: string, context?: Record<string, unknown>) => void;
}

/**
 * The capture interface (GS1 REST binding, `/capture`): a document is
 * validated against the EPCIS 2.0 schema, each event named (its CBV 2.0 hash
 * ID as `eventID` when it has none), and the whole document signed for this
 * organization as one `provenance.epcis.capture` transaction, stored with the
 * job before anything is sent. A worker submits stored envelopes and follows
 * them to a verdict; after a crash it submits the same bytes again (the ledger
 * refuses the copy as a duplicate), so a job commits once. The job turns
 * `committed` when the read model applies its block — its events are queryable
 * from that moment.
 */
export class CaptureService {
  private timer: NodeJS.Timeout | undefined;
  private driving: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: CaptureServiceOptions) {}

  /** Validates, names, signs and stores a document's capture; the job is driven in the background. */
  async capture(document: unknown, principal: Principal, options: { idempotencyKey?: string; errorBehaviour?: string } = {}): Promise<CaptureJob> {
    const behaviour = options.errorBehaviour?.trim().toLowerCase();
    if (behaviour && behaviour !== 'rollback') throw CaptureErrors.behaviour(options.errorBehaviour ?? '');
    const validation = validateEpcisDocument(document);
    if (!validation.ok) throw CaptureErrors.invalidDocument(validation.problems);
    const events = eventsOf(document);
    if (events.length < 1 || events.length > MAX_CAPTURE_EVENTS) throw CaptureErrors.tooMany(events.length);
    const organizationId = this.options.writer.organizationId ?? principal.organizationId;
    // Idempotency compares what the client sent; the chain gets the document as anchored (private fields replaced by commitments).
    const documentHash = createHash('sha256').update(JSON.stringify(document)).digest('hex');

    if (options.idempotencyKey) {
      const existing = await this.byIdempotencyKey(organizationId, options.idempotencyKey);
      if (existing) {
        if (existing.document_hash !== documentHash) throw CaptureErrors.idempotencyReused(options.idempotencyKey);
        return jobOf(existing);
      }
    }

    const privateGroups: Array<{ index: number; groups: readonly PrivateGroup[] }> = [];
    const anchoredEvents = events.map((event, i) => {
      const split = splitPrivate(event, organizationId, () => randomBytes(PRIVATE_SALT_BYTES));
      if (!split.ok) throw CaptureErrors.privateData(i, split.detail);
      if (split.groups.length > 0) privateGroups.push({ index: i, groups: split.groups });
      return split.event;
    });
    const original = (document as Record<string, unknown>)['@context'];
    const context = privateGroups.length > 0 ? withAllianceContext(original) : original;
    const anchoredDocument = privateGroups.length > 0 ? anchoredDocumentOf(document as Record<string, unknown>, context, anchoredEvents) : document;
    const chainDocumentHash = privateGroups.length > 0 ? createHash('sha256').update(JSON.stringify(anchoredDocument)).digest('hex') : documentHash;

    const entries = anchoredEvents.map((event, i) => {
      const eventHash = eventHashId(event, { context });
      const eventId = typeof event['eventID'] === 'string' && event['eventID'].length > 0 ? event['eventID'] : eventHash;
      const text = JSON.stringify(event['eventID'] === eventId ? event : { eventID: eventId, ...event });
      if (text.length > MAX_EVENT_TEXT) throw CaptureErrors.eventTooLarge(i);
      return { eventId, eventHash, type: String(event['type']), eventTime: String(event['eventTime']), event: text };
    });
    const ids = new Set<string>();
    for (const e of entries) {
      if (ids.has(e.eventId) || ids.has(e.eventHash)) throw CaptureErrors.duplicateInDocument(e.eventId);
      ids.add(e.eventId);
      ids.add(e.eventHash);
    }
    // Known duplicates are refused now; the contract refuses those that race this one onto the chain.
    const known = await this.options.pool.query<{ event_id: string; event_hash: string }>('SELECT event_id, event_hash FROM provenance.events WHERE event_id = ANY($1) OR event_hash = ANY($2) LIMIT 1', [
      entries.map((e) => e.eventId),
      entries.map((e) => e.eventHash),
    ]);
    if (known.rows[0]) {
      const clash = entries.find((e) => e.eventId === known.rows[0].event_id || e.eventHash === known.rows[0].event_hash);
      throw CaptureErrors.duplicate(clash?.eventId ?? known.rows[0].event_id, known.rows[0].event_id);
    }

    const captureId = `c${randomBytes(15).toString('base64url')}`;
    const payload = { captureId, documentHash: chainDocumentHash, context: context === undefined ? null : JSON.stringify(context), events: entries };
    const signed = this.options.writer.sign('provenance.epcis.capture', payload);
    if (signed.bytes.length > MAX_ENVELOPE_BYTES) throw CaptureErrors.tooLarge(signed.bytes.length);
    const requestedBy = principal.agentId ? `${principal.organizationId}/${principal.agentId}` : `${principal.organizationId}/admin:${principal.keyId}`;
    const row = await withTransaction(this.options.pool, async (client) => {
      const inserted = await client.query<JobRow>(
        `INSERT INTO provenance.capture_jobs (capture_id, organization_id, requested_by, idempotency_key, status, event_count, event_ids, document_hash, envelope, transaction_id)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9)
         ON CONFLICT (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING *`,
        [captureId, organizationId, requestedBy, options.idempotencyKey ?? null, entries.length, entries.map((e) => e.eventId), documentHash, Buffer.from(signed.bytes), signed.transactionId],
      );
      const job = inserted.rows[0];
      const stored = privateGroups.flatMap(({ index, groups }) => groups.map((g) => ({ ...g, eventId: entries[index].eventId })));
      if (job && stored.length > 0) {
        await client.query(
          `INSERT INTO provenance.private_payloads (commitment, event_id, capture_id, organization_id, readers, fields, payload, salt)
           SELECT c, e, $3, $4, ARRAY(SELECT jsonb_array_elements_text(r)), ARRAY(SELECT jsonb_array_elements_text(f)), p, s
           FROM unnest($1::text[], $2::text[], $5::jsonb[], $6::jsonb[], $7::text[], $8::text[]) AS g(c, e, r, f, p, s)`,
          [stored.map((g) => g.commitment), stored.map((g) => g.eventId), captureId, organizationId, stored.map((g) => JSON.stringify(g.readers)), stored.map((g) => JSON.stringify(g.fields)), stored.map((g) => g.payload), stored.map((g) => g.salt)],
        );
      }
      return job;
    });
    if (!row) {
      // A concurrent request with the same Idempotency-Key won (only a key conflict inserts nothing).
      const key = options.idempotencyKey ?? '';
      const existing = await this.byIdempotencyKey(organizationId, key);
      if (!existing || existing.document_hash !== documentHash) throw CaptureErrors.idempotencyReused(key);
      return jobOf(existing);
    }
    this.wake();
    return jobOf(row);
  }

  async job(captureId: string, organizationId: string): Promise<CaptureJob> {
    const { rows } = await this.options.pool.query<JobRow>('SELECT * FROM provenance.capture_jobs WHERE capture_id = $1 AND organization_id = $2', [captureId, organizationId]);
    if (!rows[0]) throw CaptureErrors.notFound(captureId);
    return jobOf(rows[0]);
  }

  /** This organization's jobs, newest first, `limit` per page; `after` is the last capture id of the previous page. */
  async jobs(organizationId: string, limit: number, after?: string): Promise<{ items: CaptureJob[]; next: string | null }> {
    const { rows } = await this.options.pool.query<JobRow>(
      `SELECT * FROM provenance.capture_jobs WHERE organization_id = $1
         AND ($2::text IS NULL OR (created_at, capture_id) < (SELECT created_at, capture_id FROM provenance.capture_jobs WHERE capture_id = $2))
       ORDER BY created_at DESC, capture_id DESC LIMIT $3`,
      [organizationId, after ?? null, limit + 1],
    );
    const items = rows.slice(0, limit).map(jobOf);
    return { items, next: rows.length > limit ? items[items.length - 1].captureID : null };
  }

  /** Marks the jobs whose transactions a block committed (called by the read model in its transaction). */
  static async markCommitted(client: { query: Pool['query'] }, committed: ReadonlyArray<{ transactionId: string; blockNumber: number }>): Promise<void> {
    if (committed.length === 0) return;
    await client.query(
      `UPDATE provenance.capture_jobs j SET status = 'committed', block_number = c.b, finished_at = now(), envelope = NULL
       FROM unnest($1::text[], $2::bigint[]) AS c(t, b) WHERE j.transaction_id = c.t AND j.status IN ('pending', 'submitted')`,
      [committed.map((c) => c.transactionId), committed.map((c) => c.blockNumber)],
    );
  }

  start(): void {
    this.schedule(0);
  }

  wake(): void {
    if (!this.stopped && !this.driving) this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.driving = this.drive()
        .catch((error: unknown) => this.options.logger?.('warn', 'capture jobs cannot be driven now', { err: (error as Error).message }))
        .then((open) => {
          this.driving = undefined;
          if (open !== false) this.schedule(this.options.pollIntervalMs ?? 250);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One pass over open jobs: submits pending ones, asks the ledger about submitted ones. Resolves whether any stay open. */
  private async drive(): Promise<boolean> {
    const { rows } = await this.options.pool.query<JobRow>(`SELECT * FROM provenance.capture_jobs WHERE status IN ('pending', 'submitted') ORDER BY created_at LIMIT 200`);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let job = rows[next++]; job && !this.stopped; job = rows[next++]) await this.step(job);
    };
    await Promise.all(Array.from({ length: Math.min(rows.length, this.options.concurrency ?? 8) }, worker));
    return rows.length > 0;
  }

  /** Moves one open job on: a pending one is submitted, a submitted one asked about. */
  private async step(job: JobRow): Promise<void> {
    if (job.status === 'pending' && job.envelope) {
      const outcome = await this.options.writer.submit(job.envelope).catch((error: unknown) => {
        if (error instanceof AllianceError && error.code === 'PROVENANCE.LEDGER_REFUSED') return error;
        throw error;
      });
      if (outcome instanceof AllianceError) await this.fail(job, [{ code: String(outcome.details?.['ledgerCode'] ?? outcome.code), detail: outcome.message }]);
      else if (outcome === 'expired') await this.resign({ ...job, envelope: job.envelope });
      else await this.options.pool.query(`UPDATE provenance.capture_jobs SET status = 'submitted' WHERE capture_id = $1 AND status = 'pending' AND transaction_id = $2`, [job.capture_id, job.transaction_id]);
      return;
    }
    if (job.status === 'submitted' && job.transaction_id) {
      const status = await this.options.writer.status(job.transaction_id);
      if (status.status === 'invalid') await this.fail(job, [{ code: status.code, detail: status.detail ?? status.code }], status.blockNumber);
      // Committed: the read model marks the job when it applies the block. Unknown: the node lost it (restart) — submit again.
      else if (status.status === 'unknown') await this.options.pool.query(`UPDATE provenance.capture_jobs SET status = 'pending' WHERE capture_id = $1 AND status = 'submitted' AND transaction_id = $2`, [job.capture_id, job.transaction_id]);
    }
  }

  /**
   * A stored envelope that aged out of the ledger's timestamp window was never ordered: sign the same payload again.
   * Every change of a job is conditioned on the transaction it was read with (compare-and-set): replicas of this
   * service share the jobs table, and two that both found the envelope expired must not both re-sign — the
   * second's new transaction would be ordered beside the first's, committing the capture twice.
   */
  private async resign(job: JobRow & { envelope: Buffer }): Promise<void> {
    const envelope = JSON.parse(job.envelope.toString('utf8')) as { transaction: { payload: Record<string, unknown> } };
    const signed = this.options.writer.sign('provenance.epcis.capture', envelope.transaction.payload);
    const { rowCount } = await this.options.pool.query(`UPDATE provenance.capture_jobs SET envelope = $2, transaction_id = $3 WHERE capture_id = $1 AND status = 'pending' AND transaction_id = $4`, [
      job.capture_id,
      Buffer.from(signed.bytes),
      signed.transactionId,
      job.transaction_id,
    ]);
    if (rowCount) this.options.logger?.('info', 'capture re-signed after its timestamp left the ledger window', { captureId: job.capture_id });
  }

  /** The job's transaction was refused: the job fails, unless another replica has moved it to a newer transaction. */
  private async fail(job: JobRow, errors: Array<{ code: string; detail: string }>, blockNumber?: number): Promise<void> {
    await withTransaction(this.options.pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE provenance.capture_jobs SET status = 'failed', errors = $2, block_number = $3, finished_at = now(), envelope = NULL WHERE capture_id = $1 AND status IN ('pending', 'submitted') AND transaction_id = $4`,
        [job.capture_id, JSON.stringify(errors), blockNumber ?? null, job.transaction_id],
      );
      // A refused capture anchored nothing: its private payloads have nothing to open.
      if (rowCount) await client.query('DELETE FROM provenance.private_payloads WHERE capture_id = $1', [job.capture_id]);
    });
  }

  private async byIdempotencyKey(organizationId: string, key: string): Promise<JobRow | undefined> {
    const { rows } = await this.options.pool.query<JobRow>('SELECT * FROM provenance.capture_jobs WHERE organization_id = $1 AND idempotency_key = $2', [organizationId, key]);
    return rows[0];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.driving;
  }
}

/** The document as the chain anchors it: the anchored events (private fields replaced) under its (extended) context. */
function anchoredDocumentOf(document: Record<string, unknown>, context: unknown, events: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
  const body = (document['epcisBody'] ?? {}) as Record<string, unknown>;
  return { ...document, '@context': context, epcisBody: { ...body, eventList: events } };
}

const STATUS_OF_CODE = (code: string) => (code.endsWith('DUPLICATE_EVENT') || code.endsWith('DUPLICATE_CAPTURE') ? 409 : code.startsWith('LEDGER.') ? 422 : 400);

function jobOf(row: JobRow): CaptureJob {
  const running = row.status === 'pending' || row.status === 'submitted';
  return {
    captureID: row.capture_id,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    running,
    success: row.status !== 'failed',
    captureErrorBehaviour: 'rollback',
    errors: (row.errors ?? []).map((e) => ({ type: `urn:alliance:problem:${e.code}`, title: 'capture refused by the ledger', status: STATUS_OF_CODE(e.code), detail: e.detail, code: e.code })),
    eventCount: row.event_count,
    eventIDs: row.event_ids,
    transactionId: row.transaction_id,
    blockNumber: row.block_number === null ? null : Number(row.block_number),
  };
}
