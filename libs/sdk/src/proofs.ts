import {
  verifyConsistency as protocolVerifyConsistency,
  verifyInclusion as protocolVerifyInclusion,
} from '@alliance/protocol';
import { isBytes } from './bytes';

/**
 * RFC 9162 proof verification with the SDK's contract: hashes are
 * `Uint8Array`s of 32 bytes, sizes and indices are numbers (integers in
 * [0, 2^53 − 1]), proofs are arrays of hashes; anything else — null, strings,
 * NaN, negatives, fractions, huge numbers, sparse or non-array proofs, wrong
 * hash lengths, throwing getters — is `false`, never an exception.
 *
 * The protocol library already never throws; these wrappers copy the input
 * into plain values first (so a getter or a proxy cannot answer differently
 * on a second read) and add one more catch, because callers of a published
 * SDK hand it anything.
 */

export interface InclusionInput {
  readonly leafHash: Uint8Array;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly proof: readonly Uint8Array[];
  readonly root: Uint8Array;
}

export interface ConsistencyInput {
  readonly fromSize: number;
  readonly toSize: number;
  readonly fromRoot: Uint8Array;
  readonly toRoot: Uint8Array;
  readonly proof: readonly Uint8Array[];
}

const HASH_LENGTH = 32;
/** A tree of at most 2^53 − 1 leaves has paths of at most 53 hashes; the protocol allows 64. */
const MAX_PROOF_LENGTH = 64;

function hash(value: unknown): Uint8Array | null {
  return isBytes(value) && value.length === HASH_LENGTH ? value.slice() : null;
}

function size(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function proofOf(value: unknown): Uint8Array[] | null {
  if (!Array.isArray(value) || value.length > MAX_PROOF_LENGTH) return null;
  const out: Uint8Array[] = [];
  // Indexed, not every(): every() skips the holes of a sparse array.
  for (let i = 0; i < value.length; i++) {
    const h = hash(value[i]);
    if (h === null) return null;
    out.push(h);
  }
  return out;
}

function fieldsOf(input: unknown, names: readonly string[]): Record<string, unknown> | null {
  if (typeof input !== 'object' || input === null) return null;
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = (input as Record<string, unknown>)[name];
  return out;
}

/** RFC 9162 §2.1.3.2: is `leafHash` the leaf at `leafIndex` of the tree of `treeSize` leaves with `root`? Never throws. */
export function verifyInclusion(input: InclusionInput): boolean {
  try {
    const f = fieldsOf(input, ['leafHash', 'leafIndex', 'treeSize', 'proof', 'root']);
    if (f === null) return false;
    const leafHash = hash(f['leafHash']);
    const leafIndex = size(f['leafIndex']);
    const treeSize = size(f['treeSize']);
    const proof = proofOf(f['proof']);
    const root = hash(f['root']);
    if (leafHash === null || leafIndex === null || treeSize === null || proof === null || root === null) return false;
    return protocolVerifyInclusion({ leafHash, leafIndex, treeSize, proof, root }) === true;
  } catch {
    return false;
  }
}

/**
 * RFC 9162 §2.1.4.2: is the tree (`toSize`, `toRoot`) an append-only
 * extension of (`fromSize`, `fromRoot`)? Equal sizes hold iff the proof is
 * empty and the roots are equal; fromSize 0 holds iff the proof is empty and
 * fromRoot is SHA-256 of nothing (docs/protocol.md §5.5). Never throws.
 */
export function verifyConsistency(input: ConsistencyInput): boolean {
  try {
    const f = fieldsOf(input, ['fromSize', 'toSize', 'fromRoot', 'toRoot', 'proof']);
    if (f === null) return false;
    const fromSize = size(f['fromSize']);
    const toSize = size(f['toSize']);
    const fromRoot = hash(f['fromRoot']);
    const toRoot = hash(f['toRoot']);
    const proof = proofOf(f['proof']);
    if (fromSize === null || toSize === null || fromRoot === null || toRoot === null || proof === null) return false;
    return protocolVerifyConsistency({ fromSize, toSize, fromRoot, toRoot, proof }) === true;
  } catch {
    return false;
  }
}
