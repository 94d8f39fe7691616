import {
  BlockHeader,
  CertificationPolicy,
  ConsortiumMember,
  Envelope,
  HeaderSignature,
  MerkleAccumulatorState,
  ProtocolError,
  ProtocolErrorCode,
  ReceiptVerification,
  ResultEntry,
  Verdict,
  checkpointOrigin,
  fromHex,
  memberNoteKeys,
  nodeVerify,
  toHex,
  verifyBlock as protocolVerifyBlock,
  verifyCheckpoint as protocolVerifyCheckpoint,
  verifyReceipt as protocolVerifyReceipt,
} from '@alliance/protocol';
import { verifyConsistency } from './proofs';
import type { ChainTrust } from './trust';

/**
 * Signatures are checked with the protocol's `nodeVerify`: node:crypto where
 * it exists (an order of magnitude faster, which a whole-chain check needs),
 * the portable verifier in browsers — one rule, cross-tested both ways.
 *
 * Offline verification with one calling convention: pass what you trust
 * (`trust`, from `parseTrust` / `trustFromGenesis`, or members and a policy),
 * get a verdict `{ ok: true, … }` or `{ ok: false, reason, detail }`. None of
 * these throws on malformed input.
 */

export type { ReceiptVerification, Verdict };

export interface TrustOptions {
  /** Pinned consortium trust; its members, policy and chain id are used. */
  readonly trust?: ChainTrust;
  /** Pinned members when there is no `trust`. */
  readonly members?: readonly ConsortiumMember[];
  /** Pinned certification policy when there is no `trust` (default: majority). */
  readonly policy?: CertificationPolicy;
  /** The chain the verifier expects. */
  readonly chainId?: string;
}

function pinned(options: TrustOptions): { members?: readonly ConsortiumMember[]; policy?: CertificationPolicy; chainId?: string } {
  const t = options.trust;
  return {
    ...(t?.members ?? options.members ? { members: t?.members ?? options.members } : {}),
    ...(t?.certification ?? options.policy ? { policy: t?.certification ?? options.policy } : {}),
    ...(options.chainId ?? t?.chainId ? { chainId: options.chainId ?? t?.chainId } : {}),
  };
}

/**
 * Verifies a receipt (object, canonical JSON text or bytes) completely:
 * proofs, result, certification, envelope signature (docs/protocol.md §9).
 * Without pinned members the receipt's own member list is used, which proves
 * only internal consistency: pass the consortium's members.
 */
export function verifyReceipt(receipt: unknown, options: TrustOptions = {}): ReceiptVerification {
  const p = pinned(options);
  return protocolVerifyReceipt(receipt, {
    ...(p.members ? { trustedMembers: p.members } : {}),
    ...(p.policy && p.members ? { trustedPolicy: p.policy } : {}),
    ...(p.chainId ? { chainId: p.chainId } : {}),
    verifier: nodeVerify,
  });
}

export interface BlockInput {
  readonly header: BlockHeader;
  readonly signatures: readonly HeaderSignature[];
  readonly envelopes?: readonly Envelope[];
  readonly results?: readonly ResultEntry[];
}

export interface BlockCheckOptions extends TrustOptions {
  /** The previous block's header: checks the link (number, previousHash, logSize, offsets). */
  readonly previous?: BlockHeader;
  /** The log's compact range before the block; with envelopes, logSize and logRoot are recomputed. */
  readonly logBefore?: MerkleAccumulatorState;
}

export type BlockVerification = Verdict<{ headerHash: string; certifiedBy: string[]; logAfter?: MerkleAccumulatorState }>;

/**
 * Verifies one block (a `GET /ledger/v1/blocks/{n}` answer or `{ header,
 * signatures, envelopes?, results? }`): certification by the pinned members,
 * contents against the roots when given, the link to the previous header.
 */
export function verifyBlock(block: BlockInput, options: BlockCheckOptions): BlockVerification {
  const p = pinned(options);
  if (!p.members) return { ok: false, reason: ProtocolErrorCode.MALFORMED_MEMBERS, detail: 'verifyBlock needs the members (trust or members)' };
  try {
    if (p.chainId !== undefined && block.header?.chainId !== p.chainId) {
      return { ok: false, reason: ProtocolErrorCode.CHAIN_MISMATCH, detail: `block of chain ${String(block.header?.chainId)}, expected ${p.chainId}` };
    }
    return protocolVerifyBlock(
      {
        header: block.header,
        signatures: block.signatures,
        ...(block.envelopes !== undefined ? { envelopes: block.envelopes } : {}),
        ...(block.results !== undefined ? { results: block.results } : {}),
        ...(options.previous !== undefined ? { previous: options.previous } : {}),
        ...(options.logBefore !== undefined ? { logBefore: options.logBefore } : {}),
      },
      { members: p.members, policy: p.policy ?? { type: 'majority' }, verifier: nodeVerify },
    );
  } catch {
    return { ok: false, reason: ProtocolErrorCode.MALFORMED_HEADER, detail: 'unreadable block' };
  }
}

export type CheckpointVerification = Verdict<{ origin: string; treeSize: number; rootHash: string; verifiedBy: string[] }>;

/**
 * Verifies a C2SP signed-note checkpoint against the pinned members: every
 * member's signature line must verify and enough members must have signed
 * for the policy; the origin must be `alliance/<chainId>` when the chain is
 * known. Never throws.
 */
export function verifyCheckpoint(note: string | Uint8Array, options: TrustOptions): CheckpointVerification {
  const p = pinned(options);
  try {
    if (!p.members) return { ok: false, reason: ProtocolErrorCode.MALFORMED_MEMBERS, detail: 'verifyCheckpoint needs the members (trust or members)' };
    const result = protocolVerifyCheckpoint(note, memberNoteKeys(p.members), {
      policy: p.policy ?? { type: 'majority' },
      ...(p.chainId ? { origin: checkpointOrigin(p.chainId) } : {}),
    });
    return { ok: true, origin: result.origin, treeSize: result.treeSize, rootHash: toHex(result.rootHash), verifiedBy: result.verifiedBy };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, reason: error.code, detail: error.message };
    return { ok: false, reason: ProtocolErrorCode.MALFORMED_NOTE, detail: 'unreadable checkpoint' };
  }
}

export interface TreeHead {
  readonly treeSize: number;
  /** Lower-case hex or 32 bytes. */
  readonly rootHash: string | Uint8Array;
}

/**
 * Whether `newer` extends `older` (a stored checkpoint and a fresh one), given
 * the proof from GET /ledger/v1/proofs/consistency (hex strings or bytes).
 * Never throws.
 */
export function verifyTreeExtension(older: TreeHead, newer: TreeHead, proof: ReadonlyArray<string | Uint8Array>): boolean {
  try {
    const bytes = (h: string | Uint8Array) => (typeof h === 'string' ? fromHex(h, 32) : h);
    if (!Array.isArray(proof)) return false;
    return verifyConsistency({
      fromSize: older.treeSize,
      toSize: newer.treeSize,
      fromRoot: bytes(older.rootHash),
      toRoot: bytes(newer.rootHash),
      proof: proof.map(bytes),
    });
  } catch {
    return false;
  }
}
