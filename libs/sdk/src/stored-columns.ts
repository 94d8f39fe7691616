import {
  BlockHeader,
  Envelope,
  ProtocolError,
  ResultEntry,
  bytesEqual,
  canonicalBytes,
  checkpointOrigin,
  formatCheckpoint,
  fromHex,
  leafHash,
  memberNoteKeys,
  toHex,
  verifyNote,
} from '@alliance/protocol';
import { strictBase64 } from './bytes';
import type { BlockTransactionsView, BlockView } from './client';
import type { ChainTrust } from './trust';

/**
 * Checks of the columns a node stores beside the hashed bytes (docs/protocol.md
 * §14.2): none of them is covered by a hash, so each is compared with the
 * hashed bytes it is derived from. Each check returns what differs, or null.
 */

const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/** `blocks` row columns and the `header_signatures` columns other than the signature, against the verified header. */
export function storedBlockDifference(view: BlockView, header: BlockHeader, headerHash: string): string | null {
  const stored = view.stored;
  if (typeof stored !== 'object' || stored === null) return 'the node does not serve the block row’s stored columns (`stored`)';
  const headerBytes = strictBase64(stored.header);
  if (headerBytes === null || !bytesEqual(headerBytes, canonicalBytes(header))) return 'the stored header bytes (blocks.header) are not the canonical form of the header';
  const says = (field: string, value: unknown) => `the header says ${field} ${show(value)}`;
  // Genesis is not read from the ordering log: its row stores -1/-1 where its header records 0/0.
  const genesis = header.blockNumber === 0 ? 'block 0 stores -1 (it is not read from the ordering log)' : null;
  const expected: Array<[column: string, actual: unknown, wanted: unknown, why: string]> = [
    ['blocks.previous_hash', stored.previousHash, header.previousHash, says('previousHash', header.previousHash)],
    ['blocks.transaction_count', stored.transactionCount, header.transactionCount, says('transactionCount', header.transactionCount)],
    ['blocks.log_size', stored.logSize, header.logSize, says('logSize', header.logSize)],
    ['blocks.first_offset', stored.firstOffset, genesis ? -1 : header.ordering.firstOffset, genesis ?? says('ordering.firstOffset', header.ordering.firstOffset)],
    ['blocks.last_offset', stored.lastOffset, genesis ? -1 : header.ordering.lastOffset, genesis ?? says('ordering.lastOffset', header.ordering.lastOffset)],
    ['blocks.block_time', stored.blockTime, `${header.timestamp.slice(0, -1)}000Z`, says('timestamp', `${header.timestamp.slice(0, -1)}000Z`)],
    ['blocks.config_sequence', stored.configSequence, header.configSequence, says('configSequence', header.configSequence)],
  ];
  for (const [column, actual, wanted, why] of expected) {
    if (actual !== wanted) return `${column} is ${show(actual)}, ${why}`;
  }
  const rows = stored.signatures;
  if (!Array.isArray(rows) || rows.length !== view.signatures.length) return `the node lists ${Array.isArray(rows) ? rows.length : 'no'} signature rows for ${view.signatures.length} signatures`;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const who = view.signatures[i]?.organizationId;
    if (row?.organizationId !== who) return `signature row ${i} is of ${show(row?.organizationId)}, the signature of ${show(who)}`;
    if (row.algorithm !== 'ed25519') return `header_signatures.algorithm of ${who} is ${show(row.algorithm)}, node keys are ed25519`;
    if (row.headerHash !== headerHash) return `header_signatures.header_hash of ${who} is ${show(row.headerHash)}, the header hashes to ${headerHash}`;
  }
  return null;
}

/**
 * Every stored checkpoint signature of the block (header_signatures.checkpoint_signature)
 * must be its member's valid note signature over the checkpoint of this block.
 */
export function checkpointSignatureDifference(view: BlockView, header: BlockHeader, trust: ChainTrust): string | null {
  const rows = view.stored?.signatures ?? [];
  const text = formatCheckpoint({ origin: checkpointOrigin(header.chainId), treeSize: header.logSize, rootHash: fromHex(header.logRoot) });
  if (rows.length === 0) return null;
  const note = `${text}\n${rows.map((r) => `\u2014 ${r.organizationId} ${r.checkpointSignature}\n`).join('')}`;
  let verifiedBy: readonly string[];
  try {
    verifiedBy = verifyNote(note, memberNoteKeys(trust.members)).verifiedBy;
  } catch (error) {
    return `a stored checkpoint signature (header_signatures.checkpoint_signature) does not verify over the checkpoint of this block: ${error instanceof ProtocolError ? error.message : String(error)}`;
  }
  const unmatched = rows.map((r) => r.organizationId).filter((o) => !verifiedBy.includes(o));
  return unmatched.length === 0 ? null : `the stored checkpoint signature of ${unmatched.join(', ')} (header_signatures.checkpoint_signature) is not by its node key`;
}

/** A `transactions` row's columns against its record bytes and result entry. */
export function storedTransactionDifference(row: BlockTransactionsView['transactions'][number], record: Uint8Array, envelope: Envelope | null, result: ResultEntry): string | null {
  const leaf = toHex(leafHash(record));
  if (row.leafHash !== leaf) return `transactions.leaf_hash is ${show(row.leafHash)}, the record's leaf hash is ${leaf}`;
  const type = envelope?.transaction.type ?? null;
  if (row.type !== type) return `transactions.type is ${show(row.type)}, the record says ${show(type)}`;
  const organizationId = envelope?.transaction.creator.organizationId ?? null;
  if (row.organizationId !== organizationId) return `transactions.organization_id is ${show(row.organizationId)}, the record's creator is ${show(organizationId)}`;
  const valid = result.code === 'VALID';
  if (valid ? row.detail !== null : typeof row.detail !== 'string') {
    return `transactions.detail is ${show(row.detail)}, but a ${valid ? 'VALID transaction has no detail' : `transaction with code ${result.code} has one`}`;
  }
  return null;
}
