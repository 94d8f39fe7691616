import { toBase64Url, utf8 } from '@alliance/protocol';
import { exactFields, reject } from './agent-keys';
import { mayActWith } from './roles';
import { sensorContracts } from './sensors';
import type { ContractHandler, JsonValue, StateWrite } from './types';

/** The permission an agent needs to capture EPCIS events for its organization (admin keys need none). */
export const EVENT_CAPTURE_PERMISSION = 'provenance.event.capture';
/** Most events one capture anchors (the capture API splits nothing: a larger document is refused). */
export const MAX_CAPTURE_EVENTS = 1_000;
/** Longest JSON text of one event or of a document's `@context` (the envelope's 1 MiB bounds the sum). */
export const MAX_EVENT_TEXT = 262_144;

const HASH_ID = /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/;
const EVENT_ID = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]{1,200}$/;
const CAPTURE_ID = /^[A-Za-z0-9_-]{8,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const EVENT_TYPES = ['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent'];
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const b64u = (text: string) => toBase64Url(utf8(text));
/** An anchored event by its `eventID` → `{ eventId, eventHash, captureId, organizationId, type, eventTime, blockNumber, transactionId }`. */
export const eventKeyOf = (eventId: string) => `provenance/event/${b64u(eventId)}`;
/** The CBV 2.0 event hash index → `{ eventId }`: the same event under another id is a duplicate. */
export const eventHashKeyOf = (hashHex: string) => `provenance/event-hash/${hashHex}`;
export const captureKeyOf = (captureId: string) => `provenance/capture/${captureId}`;

export interface AnchoredEvent {
  readonly eventId: string;
  /** The CBV 2.0 event hash ID (`ni:///sha-256;…?ver=CBV2.0`), computed by the capture service from the event's content. */
  readonly eventHash: string;
  readonly captureId: string;
  readonly organizationId: string;
  readonly type: string;
  readonly eventTime: string;
  readonly blockNumber: number;
  readonly transactionId: string;
  /** The commitments of the event's private data (`alliance:privateData`), when it has any. */
  readonly privateCommitments?: readonly string[];
}

/**
 * `provenance.epcis.capture`: anchors the events of one EPCIS document, all or
 * none. Payload `{ captureId, documentHash, context, events: [{ eventId, eventHash, type, eventTime, event }] }`
 * (1–MAX_CAPTURE_EVENTS), by an admin key or an agent holding
 * `provenance.event.capture` in the creator's organization. `event` is the
 * event's JSON text as captured (with its `eventID`), `context` the JSON text
 * of the document's `@context` (or null): the chain carries every event in
 * full, so each member's read model — and anyone with the blocks — rebuilds
 * the EPCIS repository and recomputes every hash. (Text, not JSON values: EPCIS
 * has decimal numbers, which canonical transaction JSON does not.) Every node
 * refuses the whole capture when any event is already on the chain — under its
 * id, or under another id with the same event hash (`PROVENANCE.DUPLICATE_EVENT`,
 * naming the existing id) — or appears twice in it, and when an event's text
 * does not hold the id, type and time the entry states.
 */
export const epcisCaptureContract: ContractHandler = {
  type: 'provenance.epcis.capture',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, EVENT_CAPTURE_PERMISSION, 'captures its events');
    if (denied) return denied;
    const payload = ctx.transaction.payload as Record<string, unknown>;
    const bad = exactFields(payload, ['captureId', 'documentHash', 'context', 'events']);
    if (bad) return bad;
    const { captureId, documentHash, context, events } = payload as { captureId: unknown; documentHash: unknown; context: unknown; events: unknown };
    if (typeof captureId !== 'string' || !CAPTURE_ID.test(captureId)) return reject('PROVENANCE.INVALID_CAPTURE', 'payload.captureId must be 8-64 of [A-Za-z0-9_-]');
    if (typeof documentHash !== 'string' || !HEX64.test(documentHash)) return reject('PROVENANCE.INVALID_CAPTURE', 'payload.documentHash must be the hex SHA-256 of the captured document');
    if (context !== null && (typeof context !== 'string' || context.length > MAX_EVENT_TEXT || !isJsonText(context, (v) => typeof v === 'string' || (typeof v === 'object' && v !== null))))
      return reject('PROVENANCE.INVALID_CAPTURE', 'payload.context must be null or the JSON text of the document’s @context (a string, an object or an array)');
    if (!Array.isArray(events) || events.length < 1 || events.length > MAX_CAPTURE_EVENTS) return reject('PROVENANCE.INVALID_CAPTURE', `payload.events must hold 1-${MAX_CAPTURE_EVENTS} events`);
    if (ctx.state.get(captureKeyOf(captureId))) return reject('PROVENANCE.DUPLICATE_CAPTURE', `capture ${captureId} is already anchored`);
    const organizationId = ctx.transaction.creator.organizationId;
    const writes: StateWrite[] = [];
    const ids = new Set<string>();
    const hashes = new Set<string>();
    for (const [i, e] of events.entries()) {
      const event = e as Record<string, unknown> | null;
      if (!event || typeof event !== 'object' || Array.isArray(event)) return reject('PROVENANCE.INVALID_CAPTURE', `payload.events[${i}] must be an object`);
      const fields = exactFields(event, ['eventId', 'eventHash', 'type', 'eventTime', 'event']);
      if (fields) return reject('PROVENANCE.INVALID_CAPTURE', `payload.events[${i}]: ${fields.ok ? '' : fields.detail}`);
      const { eventId, eventHash, type, eventTime, event: text } = event as Record<string, string>;
      const hash = typeof eventHash === 'string' ? HASH_ID.exec(eventHash) : null;
      if (typeof eventId !== 'string' || !EVENT_ID.test(eventId)) return reject('PROVENANCE.INVALID_CAPTURE', `payload.events[${i}].eventId must be a URI of at most 200 characters`);
      if (!hash) return reject('PROVENANCE.INVALID_CAPTURE', `payload.events[${i}].eventHash must be a CBV 2.0 event hash ID (ni:///sha-256;<hex>?ver=CBV2.0)`);
      if (!EVENT_TYPES.includes(type)) return reject('PROVENANCE.INVALID_CAPTURE', `payload.events[${i}].type must be one of ${EVENT_TYPES.join(', ')}`);
      if (typeof eventTime !== 'string' || !TIME.test(eventTime) || Number.isNaN(Date.parse(eventTime))) return reject('PROVENANCE.INVALID_CAPTURE', `payload.events[${i}].eventTime must be an RFC 3339 time with an offset`);
      const content = typeof text === 'string' && text.length <= MAX_EVENT_TEXT ? parseObject(text) : undefined;
      if (!content) return reject('PROVENANCE.INVALID_CAPTURE', `payload.events[${i}].event must be the JSON text of an EPCIS event object, at most ${MAX_EVENT_TEXT} characters`);
      if (content['eventID'] !== eventId || content['type'] !== type || content['eventTime'] !== eventTime)
        return reject('PROVENANCE.INVALID_CAPTURE', `payload.events[${i}].event must hold the eventID, type and eventTime its entry states`);
      const commitments = privateCommitmentsOf(content);
      if (commitments === undefined) return reject('PROVENANCE.INVALID_CAPTURE', `payload.events[${i}].event: ${PRIVATE_DATA_FIELD} must list { commitment, fields, readers } with distinct 64-hex commitments`);
      if (ids.has(eventId) || hashes.has(hash[1])) return reject('PROVENANCE.DUPLICATE_EVENT', `payload.events[${i}] (${eventId}) appears twice in this capture`);
      ids.add(eventId);
      hashes.add(hash[1]);
      const existing = (ctx.state.get(eventKeyOf(eventId))?.value as { eventId?: string } | null | undefined) ?? (ctx.state.get(eventHashKeyOf(hash[1]))?.value as { eventId?: string } | null | undefined);
      if (existing) return reject('PROVENANCE.DUPLICATE_EVENT', `event ${eventId} is already captured as ${String(existing.eventId)}`);
      const anchored: AnchoredEvent = {
        eventId,
        eventHash,
        captureId,
        organizationId,
        type,
        eventTime,
        blockNumber: ctx.blockNumber,
        transactionId: ctx.transactionId,
        ...(commitments.length > 0 ? { privateCommitments: commitments } : {}),
      };
      writes.push({ key: eventKeyOf(eventId), value: anchored as unknown as JsonValue }, { key: eventHashKeyOf(hash[1]), value: { eventId } });
    }
    writes.push({ key: captureKeyOf(captureId), value: { captureId, organizationId, documentHash, eventCount: events.length, blockNumber: ctx.blockNumber, transactionId: ctx.transactionId } });
    return { ok: true, writes };
  },
};

/** The extension an anchored event states its private data in (libs/provenance/domain, private-data.ts). */
const PRIVATE_DATA_FIELD = 'alliance:privateData';

/** The commitments an event's `alliance:privateData` states: [] without it, undefined when it is malformed. */
function privateCommitmentsOf(event: Record<string, unknown>): string[] | undefined {
  if (!(PRIVATE_DATA_FIELD in event)) return [];
  const refs = event[PRIVATE_DATA_FIELD];
  if (!Array.isArray(refs) || refs.length === 0) return undefined;
  const out: string[] = [];
  for (const r of refs) {
    const ref = r as { commitment?: unknown; fields?: unknown; readers?: unknown } | null;
    if (!ref || typeof ref !== 'object' || typeof ref.commitment !== 'string' || !HEX64.test(ref.commitment) || !Array.isArray(ref.fields) || !Array.isArray(ref.readers)) return undefined;
    if (out.includes(ref.commitment)) return undefined;
    out.push(ref.commitment);
  }
  return out;
}

/** The permission an agent needs to purge its organization's private data (admin keys need none). */
export const PRIVATE_PURGE_PERMISSION = 'provenance.private.purge';
/** A purge of one private-data commitment → `{ eventId, commitment, organizationId, reason, purgedAt, blockNumber, transactionId }`. */
export const privatePurgeKeyOf = (commitment: string) => `provenance/private-purge/${commitment}`;

export interface PrivatePurge {
  readonly eventId: string;
  readonly commitment: string;
  readonly organizationId: string;
  readonly reason: string;
  /** The block's timestamp. */
  readonly purgedAt: string;
  readonly blockNumber: number;
  readonly transactionId: string;
}

/**
 * `provenance.private.purge`: records on the chain that the capturing
 * organization deleted the payload and salt of private data. Payload
 * `{ eventId, commitments: [hex, …], reason }` (1-8 commitments of that one
 * event, reason 1-500 characters), by an admin key or an agent holding
 * `provenance.private.purge` of the organization that captured the event;
 * each commitment must be one the anchored event states and not purged
 * before. Every member's provenance service deletes its copy of the payload
 * when it applies the block; the record stays.
 */
export const privatePurgeContract: ContractHandler = {
  type: 'provenance.private.purge',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, PRIVATE_PURGE_PERMISSION, 'purges its private data');
    if (denied) return denied;
    const payload = ctx.transaction.payload as Record<string, unknown>;
    const bad = exactFields(payload, ['eventId', 'commitments', 'reason']);
    if (bad) return bad;
    const { eventId, commitments, reason } = payload as { eventId: unknown; commitments: unknown; reason: unknown };
    if (typeof eventId !== 'string' || !EVENT_ID.test(eventId)) return reject('PROVENANCE.INVALID_PURGE', 'payload.eventId must be the id of an anchored event');
    if (!Array.isArray(commitments) || commitments.length < 1 || commitments.length > 8 || !commitments.every((c) => typeof c === 'string' && HEX64.test(c)) || new Set(commitments).size !== commitments.length)
      return reject('PROVENANCE.INVALID_PURGE', 'payload.commitments must list 1-8 distinct 64-hex commitments');
    if (typeof reason !== 'string' || reason.trim().length === 0 || reason.length > 500) return reject('PROVENANCE.INVALID_PURGE', 'payload.reason must be 1-500 characters');
    const anchored = ctx.state.get(eventKeyOf(eventId))?.value as AnchoredEvent | null | undefined;
    if (!anchored) return reject('PROVENANCE.EVENT_NOT_FOUND', `no event ${eventId} is anchored`);
    const organizationId = ctx.transaction.creator.organizationId;
    if (anchored.organizationId !== organizationId) return reject('PROVENANCE.NOT_OWNER', `event ${eventId} was captured by ${anchored.organizationId}; only it purges its private data`);
    const writes: StateWrite[] = [];
    for (const commitment of commitments as string[]) {
      if (!(anchored.privateCommitments ?? []).includes(commitment)) return reject('PROVENANCE.PRIVATE_DATA_NOT_FOUND', `event ${eventId} states no private data with commitment ${commitment}`);
      if (ctx.state.get(privatePurgeKeyOf(commitment))?.value) return reject('PROVENANCE.ALREADY_PURGED', `the private data ${commitment} of event ${eventId} is already purged`);
      const record: PrivatePurge = { eventId, commitment, organizationId, reason, purgedAt: ctx.blockTimestamp, blockNumber: ctx.blockNumber, transactionId: ctx.transactionId };
      writes.push({ key: privatePurgeKeyOf(commitment), value: record as unknown as JsonValue });
    }
    return { ok: true, writes };
  },
};

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isJsonText(text: string, accept: (value: unknown) => boolean): boolean {
  try {
    return accept(JSON.parse(text));
  } catch {
    return false;
  }
}

export const provenanceContracts: readonly ContractHandler[] = [epcisCaptureContract, privatePurgeContract, ...sensorContracts];
