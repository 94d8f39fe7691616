import { canonicalBytes } from './canonical-json';
import { concatBytes, toHex, utf8 } from './encoding';
import { sha256 } from './hash';

/**
 * The regulator's access log (docs/audit.md, Access log): every audit query as
 * one entry, hash-chained — each entry's hash covers the one before it, so an
 * entry changed, removed or put out of order breaks every hash after it.
 */
export interface AccessLogEntry {
  /** 1, 2, 3 … without gaps. */
  readonly seq: number;
  /** When the query was answered (RFC 3339 UTC, milliseconds). */
  readonly at: string;
  readonly organizationId: string;
  /** The agent id, or `admin` for an organization's admin key. */
  readonly actor: string;
  readonly transport: 'rest' | 'graphql';
  /** `GET /audit/v1/…` (the route) or `Query.<field>` / `Subscription.<field>`. */
  readonly operation: string;
  /** The path parameters and query (REST) or arguments (GraphQL), as canonical JSON text. */
  readonly parameters: string;
  /** How many records the answer held (0 for an error). */
  readonly recordCount: number;
  /** `ok`, or the error code the query was answered with. */
  readonly outcome: string;
  /** The previous entry's hash; 64 zeros for the first. */
  readonly previousHash: string;
}

export const ACCESS_LOG_GENESIS_HASH = '0'.repeat(64);
const ENTRY_TAG = concatBytes(utf8('alliance/audit-log-entry/v1'), new Uint8Array([0]));

/** hex(SHA-256("alliance/audit-log-entry/v1" ‖ 0x00 ‖ canonical JSON of the entry)). */
export function accessLogEntryHash(entry: AccessLogEntry): string {
  const { seq, at, organizationId, actor, transport, operation, parameters, recordCount, outcome, previousHash } = entry;
  return toHex(sha256(concatBytes(ENTRY_TAG, canonicalBytes({ seq, at, organizationId, actor, transport, operation, parameters, recordCount, outcome, previousHash }))));
}

/** The bytes an access-log head signature covers: `alliance/audit-log/<chainId>\n<seq>\n<entryHash>\n`. */
export function accessLogHeadText(chainId: string, seq: number, entryHash: string): Uint8Array {
  return utf8(`alliance/audit-log/${chainId}\n${seq}\n${entryHash}\n`);
}

export type AccessLogVerdict = { readonly ok: true; readonly entries: number; readonly headHash: string } | { readonly ok: false; readonly seq: number; readonly reason: string };

/**
 * Verifies a run of entries with their stated hashes, from `previousHash`
 * (the genesis by default) and `firstSeq` (1): seq without gaps, each
 * `previousHash` the hash before it, each `entryHash` recomputed.
 */
export function verifyAccessLog(
  entries: ReadonlyArray<AccessLogEntry & { readonly entryHash: string }>,
  start: { readonly previousHash?: string; readonly firstSeq?: number } = {},
): AccessLogVerdict {
  let previous = start.previousHash ?? ACCESS_LOG_GENESIS_HASH;
  let seq = start.firstSeq ?? 1;
  for (const e of entries) {
    if (e.seq !== seq) return { ok: false, seq: e.seq, reason: `entry ${e.seq} where ${seq} was expected (an entry removed or moved)` };
    if (e.previousHash !== previous) return { ok: false, seq: e.seq, reason: `entry ${e.seq} names previous hash ${e.previousHash}, not ${previous}` };
    const hash = accessLogEntryHash(e);
    if (hash !== e.entryHash) return { ok: false, seq: e.seq, reason: `entry ${e.seq} hashes to ${hash}, not its stated ${e.entryHash} (the entry was changed)` };
    previous = hash;
    seq++;
  }
  return { ok: true, entries: entries.length, headHash: previous };
}
