import { type PrivatePurge, privatePurgeKeyOf } from '@alliance/ledger/domain';
import { disclosePrivate, mayReadPrivate, openCommitment, privateReferencesOf } from '@alliance/provenance/domain';
import type { Pool } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import type { ChainWriter } from '@alliance/shared/data-access-messaging';
import type { ProvenanceReadModel } from './read-model';

export const PrivateDataErrors = {
  none: (eventId: string) => new AllianceError('PROVENANCE.PRIVATE_DATA_NOT_FOUND', 'not-found', `event ${eventId} has no private data`),
  notOwner: (eventId: string, owner: string) => new AllianceError('PROVENANCE.NOT_OWNER', 'forbidden', `event ${eventId} was captured by ${owner}; only it purges its private data`),
  invalid: (detail: string) => new AllianceError('PROVENANCE.INVALID_PURGE', 'invalid', detail),
  nothingToPurge: (eventId: string) => new AllianceError('PROVENANCE.ALREADY_PURGED', 'conflict', `the private data of event ${eventId} is already purged`),
};

/** What one organization sees of one private group of an event. */
export interface PrivateGroupView {
  readonly commitment: string;
  readonly fields: readonly string[];
  readonly readers: readonly string[];
  /**
   * `disclosed`: payload and salt follow and open the commitment; `purged`: deleted, `purge` is the chain's record;
   * `not-entitled`: the viewer is neither the capturing organization nor a reader; `not-held`: this store has no copy
   * (another organization's service captured it).
   */
  readonly status: 'disclosed' | 'purged' | 'not-entitled' | 'not-held';
  readonly payload?: Record<string, unknown>;
  readonly payloadText?: string;
  readonly salt?: string;
  readonly purge?: PrivatePurge;
}

interface PayloadRow {
  commitment: string;
  organization_id: string;
  readers: string[];
  payload: string | null;
  salt: string | null;
}

/**
 * This organization's private-data store (docs/provenance.md, Private data):
 * puts payloads back into the events an entitled organization reads, shows
 * each group's state, and purges — the chain's `provenance.private.purge`
 * record first, then the payload and salt (the read model deletes them at
 * every member when it applies that block, so a crash between the two
 * leaves nothing behind).
 */
export class PrivateDataStore {
  constructor(
    private readonly pool: Pool,
    private readonly readModel: ProvenanceReadModel,
    private readonly writer: ChainWriter,
    /** Waits until the read model has applied a block (so its records can be read back). */
    private readonly settle: (blockNumber: number) => Promise<void>,
  ) {}

  /** The events with the private payloads `viewer` may read put back (others unchanged). */
  async disclose(events: ReadonlyArray<Record<string, unknown>>, viewer: string | undefined): Promise<Array<Record<string, unknown>>> {
    const commitments = events.flatMap((e) => privateReferencesOf(e).map((r) => r.commitment));
    if (commitments.length === 0 || viewer === undefined) return [...events];
    const rows = await this.rows(commitments);
    const readable = new Map<string, string>();
    for (const r of rows.values()) if (r.payload !== null && mayReadPrivate(r, r.organization_id, viewer)) readable.set(r.commitment, r.payload);
    return events.map((e) => (privateReferencesOf(e).some((r) => readable.has(r.commitment)) ? disclosePrivate(e, readable) : e));
  }

  /** Every private group of an anchored event as `viewer` may see it. */
  async groups(eventId: string, event: Record<string, unknown>, viewer: string): Promise<PrivateGroupView[]> {
    const refs = privateReferencesOf(event);
    if (refs.length === 0) throw PrivateDataErrors.none(eventId);
    const owner = await this.ownerOf(eventId);
    const rows = await this.rows(refs.map((r) => r.commitment));
    const out: PrivateGroupView[] = [];
    for (const ref of refs) {
      const base = { commitment: ref.commitment, fields: [...ref.fields], readers: [...ref.readers] };
      const purge = await this.readModel.record<PrivatePurge>(privatePurgeKeyOf(ref.commitment));
      const row = rows.get(ref.commitment);
      if (purge) out.push({ ...base, status: 'purged', purge });
      else if (!owner || !mayReadPrivate(ref, owner, viewer)) out.push({ ...base, status: 'not-entitled' });
      else if (!row || row.payload === null || row.salt === null || !openCommitment(ref.commitment, row.payload, row.salt)) out.push({ ...base, status: 'not-held' });
      else out.push({ ...base, status: 'disclosed', payload: JSON.parse(row.payload) as Record<string, unknown>, payloadText: row.payload, salt: row.salt });
    }
    return out;
  }

  /**
   * Purges the named groups (default: every group not purged yet) of an event
   * this organization captured: the purge transaction is committed first, then
   * this store's copy is emptied.
   */
  async purge(eventId: string, event: Record<string, unknown>, organizationId: string, input: { commitments?: unknown; reason?: unknown }): Promise<{ transactionId: string; blockNumber: number; purged: PrivatePurge[] }> {
    const refs = privateReferencesOf(event);
    if (refs.length === 0) throw PrivateDataErrors.none(eventId);
    const owner = await this.ownerOf(eventId);
    if (owner !== organizationId) throw PrivateDataErrors.notOwner(eventId, owner ?? 'another organization');
    if (typeof input.reason !== 'string' || input.reason.trim() === '' || input.reason.length > 500) throw PrivateDataErrors.invalid('reason must be 1-500 characters: why the data is purged (it stays on the chain)');
    let commitments: string[];
    if (input.commitments === undefined) {
      commitments = [];
      for (const r of refs) if (!(await this.readModel.record(privatePurgeKeyOf(r.commitment)))) commitments.push(r.commitment);
      if (commitments.length === 0) throw PrivateDataErrors.nothingToPurge(eventId);
    } else if (Array.isArray(input.commitments) && input.commitments.every((c) => typeof c === 'string')) {
      commitments = input.commitments as string[];
    } else {
      throw PrivateDataErrors.invalid('commitments must be a list of the event’s private-data commitments');
    }
    const done = await this.writer.submitAndWait('provenance.private.purge', { eventId, commitments, reason: input.reason });
    await this.pool.query(
      `UPDATE provenance.private_payloads SET payload = NULL, salt = NULL, purged_at = COALESCE(purged_at, now()), purge_transaction_id = $2, purge_block_number = $3 WHERE commitment = ANY($1)`,
      [commitments, done.transactionId, done.blockNumber],
    );
    await this.settle(done.blockNumber);
    const purged: PrivatePurge[] = [];
    for (const c of commitments) {
      const record = await this.readModel.record<PrivatePurge>(privatePurgeKeyOf(c));
      if (record) purged.push(record);
    }
    return { ...done, purged };
  }

  /** The organization that captured an event (whose store holds its private data). */
  private async ownerOf(eventId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ organization_id: string }>("SELECT organization_id FROM provenance.events WHERE event_id = $1 AND origin = 'capture' LIMIT 1", [eventId]);
    return rows[0]?.organization_id;
  }

  private async rows(commitments: readonly string[]): Promise<Map<string, PayloadRow>> {
    const { rows } = await this.pool.query<PayloadRow>('SELECT commitment, organization_id, readers, payload, salt FROM provenance.private_payloads WHERE commitment = ANY($1)', [commitments]);
    return new Map(rows.map((r) => [r.commitment, r]));
  }
}
