import { fromHex, sha256Concat, toHex, utf8 } from '@alliance/protocol';

/**
 * Private data of EPCIS events (docs/provenance.md, Private data; the
 * commitment is specified in docs/protocol.md). A capturing organization marks
 * fields of an event private to named organizations with the extension
 * `alliance:private`; before anything is signed, those fields leave the event
 * and a salted commitment to them takes their place in `alliance:privateData`.
 * The chain, and every member's repository, hold the commitment only; the
 * payload and its salt stay in the capturing organization's private store.
 */

/** The JSON-LD namespace of Alliance's EPCIS extensions (prefix `alliance`). */
export const ALLIANCE_EPCIS_NAMESPACE = 'urn:alliance:epcis:';
/** The capture-time mark: `[{ fields: [...], readers: [...] }]` (or one such object). */
export const PRIVATE_MARK = 'alliance:private';
/** What the anchored event carries instead: `[{ commitment, fields, readers }]`. */
export const PRIVATE_DATA = 'alliance:privateData';
/** Bytes of the random salt of one commitment. */
export const PRIVATE_SALT_BYTES = 32;
/** Most private groups in one event and most readers of one group. */
export const MAX_PRIVATE_GROUPS = 8;
export const MAX_PRIVATE_READERS = 64;

/**
 * Fields that stay public: what names, dates and types the event, and what
 * builds the lineage every member's index shares (a trace cannot follow what
 * it cannot see).
 */
export const PUBLIC_ONLY_FIELDS: readonly string[] = [
  '@context',
  'type',
  'eventID',
  'eventTime',
  'eventTimeZoneOffset',
  'recordTime',
  'action',
  'errorDeclaration',
  'epcList',
  'parentID',
  'childEPCs',
  'inputEPCList',
  'outputEPCList',
  'transformationID',
  'quantityList',
  'childQuantityList',
  'inputQuantityList',
  'outputQuantityList',
  PRIVATE_MARK,
  PRIVATE_DATA,
];

/** One group as the anchored event states it. */
export interface PrivateDataReference {
  /** Hex SHA-256 of salt ‖ UTF-8(payload text). */
  readonly commitment: string;
  /** The top-level fields the payload holds, in the order given. */
  readonly fields: readonly string[];
  /** Organizations entitled to read the payload beside the capturing one. */
  readonly readers: readonly string[];
}

/** One group with what only its store holds. */
export interface PrivateGroup extends PrivateDataReference {
  /** JSON text of an object holding exactly `fields` with their values. */
  readonly payload: string;
  /** Hex of the PRIVATE_SALT_BYTES random bytes. */
  readonly salt: string;
}

export type PrivateSplit =
  | { readonly ok: true; readonly event: Record<string, unknown>; readonly groups: readonly PrivateGroup[] }
  | { readonly ok: false; readonly code: 'PROVENANCE.INVALID_PRIVATE_DATA'; readonly detail: string };

const ORGANIZATION_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** The commitment to one payload text under one salt: hex SHA-256(salt ‖ UTF-8(payload)). */
export function privateCommitment(payload: string, salt: Uint8Array): string {
  if (salt.length !== PRIVATE_SALT_BYTES) throw new Error(`a private-data salt is ${PRIVATE_SALT_BYTES} bytes`);
  return toHex(sha256Concat(salt, utf8(payload)));
}

/** True when payload text and hex salt open the commitment. */
export function openCommitment(commitment: string, payload: string, saltHex: string): boolean {
  if (!HEX64.test(commitment) || !HEX64.test(saltHex)) return false;
  return privateCommitment(payload, fromHex(saltHex, PRIVATE_SALT_BYTES)) === commitment;
}

/**
 * Takes the fields an event marks private out of it: the event without
 * `alliance:private` and those fields, with `alliance:privateData` stating
 * each group's commitment, fields and readers; and the groups with their
 * payload and salt. An event without the mark comes back unchanged with no
 * groups. `randomSalt` gives PRIVATE_SALT_BYTES fresh random bytes per group.
 */
export function splitPrivate(event: Record<string, unknown>, organizationId: string, randomSalt: () => Uint8Array): PrivateSplit {
  const fail = (detail: string): PrivateSplit => ({ ok: false, code: 'PROVENANCE.INVALID_PRIVATE_DATA', detail });
  if (PRIVATE_DATA in event) return fail(`${PRIVATE_DATA} is written by the capture service; mark private fields with ${PRIVATE_MARK}`);
  if (!(PRIVATE_MARK in event)) return { ok: true, event, groups: [] };
  const mark = event[PRIVATE_MARK];
  const marks = Array.isArray(mark) ? mark : [mark];
  if (marks.length < 1 || marks.length > MAX_PRIVATE_GROUPS) return fail(`${PRIVATE_MARK} holds 1-${MAX_PRIVATE_GROUPS} groups`);
  const taken = new Set<string>();
  const groups: PrivateGroup[] = [];
  const rest: Record<string, unknown> = { ...event };
  delete rest[PRIVATE_MARK];
  for (const [i, m] of marks.entries()) {
    const where = `${PRIVATE_MARK}[${i}]`;
    if (!m || typeof m !== 'object' || Array.isArray(m)) return fail(`${where} must be an object { fields, readers }`);
    const keys = Object.keys(m);
    const unknown = keys.find((k) => k !== 'fields' && k !== 'readers');
    if (unknown) return fail(`${where} has an unknown property ${unknown}`);
    const { fields, readers } = m as { fields?: unknown; readers?: unknown };
    if (!Array.isArray(fields) || fields.length === 0 || !fields.every((f): f is string => typeof f === 'string')) return fail(`${where}.fields must be a non-empty list of the event's field names`);
    if (!Array.isArray(readers) || readers.length === 0 || readers.length > MAX_PRIVATE_READERS || !readers.every((r): r is string => typeof r === 'string' && ORGANIZATION_ID.test(r)))
      return fail(`${where}.readers must list 1-${MAX_PRIVATE_READERS} organization ids`);
    if (new Set(readers).size !== readers.length) return fail(`${where}.readers names an organization twice`);
    for (const f of fields) {
      if (PUBLIC_ONLY_FIELDS.includes(f)) return fail(`${where}: ${f} cannot be private: it names, dates or types the event, or builds the shared lineage`);
      if (!(f in event)) return fail(`${where}: the event has no field ${f}`);
      if (taken.has(f)) return fail(`${where}: ${f} is already private in another group`);
      taken.add(f);
    }
    const picked: Record<string, unknown> = {};
    for (const f of fields) {
      picked[f] = event[f];
      delete rest[f];
    }
    const payload = JSON.stringify(picked);
    const salt = randomSalt();
    groups.push({ commitment: privateCommitment(payload, salt), fields: [...fields], readers: readers.filter((r) => r !== organizationId), payload, salt: toHex(salt) });
  }
  rest[PRIVATE_DATA] = groups.map((g) => ({ commitment: g.commitment, fields: g.fields, readers: g.readers }));
  return { ok: true, event: rest, groups };
}

/** The private-data references an anchored event states (none when it has no private data or they are malformed). */
export function privateReferencesOf(event: Record<string, unknown>): PrivateDataReference[] {
  const refs = event[PRIVATE_DATA];
  if (!Array.isArray(refs)) return [];
  return refs.filter(
    (r): r is PrivateDataReference =>
      !!r &&
      typeof r === 'object' &&
      typeof (r as PrivateDataReference).commitment === 'string' &&
      HEX64.test((r as PrivateDataReference).commitment) &&
      Array.isArray((r as PrivateDataReference).fields) &&
      Array.isArray((r as PrivateDataReference).readers),
  );
}

/** Whether an organization may read a group: the capturing organization and the named readers. */
export function mayReadPrivate(reference: Pick<PrivateDataReference, 'readers'>, owner: string, organizationId: string): boolean {
  return organizationId === owner || reference.readers.includes(organizationId);
}

/**
 * The event with the payloads a reader may see put back in place (their fields
 * in the order of the payload), `alliance:privateData` kept so the reader
 * knows which fields were private and can open each commitment.
 */
export function disclosePrivate(event: Record<string, unknown>, payloads: ReadonlyMap<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...event };
  for (const ref of privateReferencesOf(event)) {
    const text = payloads.get(ref.commitment);
    if (text === undefined) continue;
    const fields = JSON.parse(text) as Record<string, unknown>;
    for (const [k, v] of Object.entries(fields)) out[k] = v;
  }
  return out;
}
