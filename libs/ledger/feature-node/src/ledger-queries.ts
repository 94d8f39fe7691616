import {
  type BlockHeader,
  buildReceipt,
  checkpointOrigin,
  decodeEnvelope,
  formatCheckpoint,
  fromHex,
  inclusionProof,
  leafHash,
  type Receipt,
  isSignatureAlgorithm,
  toBase64,
  toBase64Url,
  toHex,
  type HeaderSignature,
  type StateRow,
  type StoredBlockColumns,
  type StoredTransactionRow,
} from '@alliance/protocol';
import type { StoredBlockRow, StoredSignature } from '@alliance/ledger/data-access';
import { AllianceError } from '@alliance/shared/util-errors';
import { LedgerErrors, type LedgerNode, type TransactionStatus } from './ledger-node';

const decoder = new TextDecoder();

export interface BlockView {
  readonly blockNumber: number;
  readonly headerHash: string;
  readonly header: BlockHeader;
  readonly certified: boolean;
  readonly signatures: ReadonlyArray<{ organizationId: string; keyId: string; algorithm: string; value: string }>;
  readonly transactions: ReadonlyArray<{ transactionId: string; leafIndex: number; code: string }>;
  /**
   * The block row's columns that no hash covers, as stored, so a verifier
   * can check each against the header instead of trusting this node
   * (docs/protocol.md §14.2).
   */
  readonly stored: StoredBlockColumns;
}

export interface CheckpointView {
  readonly blockNumber: number;
  readonly treeSize: number;
  readonly rootHash: string;
  /** The C2SP signed note: checkpoint body plus one signature line per member that signed it. */
  readonly note: string;
  readonly signedBy: readonly string[];
}

/** Read side of a ledger node: blocks, statuses, receipts, checkpoints, proofs. */
export class LedgerQueries {
  constructor(private readonly node: LedgerNode) {}

  async block(blockNumber: number): Promise<BlockView> {
    const block = await this.node.blockStore.blockRow(blockNumber);
    if (!block) throw LedgerErrors.blockNotFound(blockNumber);
    return this.view(block);
  }

  async blocks(from: number, limit: number): Promise<{ items: BlockView[]; nextFrom: number | null }> {
    const rows = await this.node.blockStore.blockRows(from, limit + 1);
    const items = await Promise.all(rows.slice(0, limit).map((b) => this.view(b)));
    return { items, nextFrom: rows.length > limit ? rows[limit].blockNumber : null };
  }

  private async view(block: StoredBlockRow): Promise<BlockView> {
    const [signatures, transactions] = await Promise.all([this.node.blockStore.signatures(block.blockNumber), this.node.blockStore.blockTransactionCodes(block.blockNumber)]);
    return {
      blockNumber: block.blockNumber,
      headerHash: toHex(block.headerHash),
      header: JSON.parse(decoder.decode(block.header)) as BlockHeader,
      certified: signatures.length >= this.node.requiredSignatures(block.blockNumber),
      signatures: signatures.map(signatureView),
      transactions,
      stored: {
        header: toBase64(block.header),
        previousHash: toHex(block.previousHash),
        transactionCount: block.transactionCount,
        logSize: block.logSize,
        firstOffset: block.firstOffset,
        lastOffset: block.lastOffset,
        blockTime: block.blockTime,
        configSequence: block.configSequence,
        signatures: signatures.map((s) => ({ organizationId: s.organizationId, algorithm: s.algorithm, headerHash: toHex(s.headerHash), checkpointSignature: s.checkpointSignature })),
      },
    };
  }

  /**
   * A block's transactions exactly as stored: the envelope and result bytes
   * (base64 of the canonical JSON that was hashed) so a verifier can recompute
   * the data and results roots and the log root without trusting this node.
   */
  async blockTransactions(blockNumber: number): Promise<{ blockNumber: number; transactions: StoredTransactionRow[] }> {
    const block = await this.node.blockStore.block(blockNumber);
    if (!block) throw LedgerErrors.blockNotFound(blockNumber);
    const rows = await this.node.blockStore.transactionRows(blockNumber);
    return {
      blockNumber,
      transactions: rows.map((t) => ({
        leafIndex: t.leafIndex,
        position: t.position,
        transactionId: t.transactionId,
        code: t.code,
        detail: t.detail,
        type: t.type,
        organizationId: t.organizationId,
        leafHash: toHex(t.leafHash),
        envelope: toBase64(t.envelope),
        result: toBase64(t.result),
      })),
    };
  }

  /**
   * The world state as stored, in byte order of the keys after `after`: what
   * a verifier compares with the writes it replayed from verified results.
   */
  async state(after: string | null, limit: number): Promise<{ items: StateRow[]; nextAfter: string | null }> {
    const rows = await this.node.blockStore.stateRows(after, limit + 1);
    const items = rows.slice(0, limit).map((r) => ({ key: r.key, value: r.value === null ? null : toBase64(r.value), version: r.version, blockNumber: r.blockNumber, transactionId: r.transactionId }));
    return { items, nextAfter: rows.length > limit ? items[items.length - 1].key : null };
  }

  async status(transactionId: string): Promise<TransactionStatus> {
    const copies = await this.node.blockStore.transactionsById(transactionId);
    // The first valid copy decides; else the first copy (its code says why it was refused).
    const chosen = copies.find((c) => c.code === 'VALID') ?? copies[0];
    if (!chosen) {
      if (this.node.isPending(transactionId)) return { status: 'pending', transactionId };
      throw LedgerErrors.transactionNotFound(transactionId);
    }
    const certified = chosen.blockNumber <= this.node.certifiedBlock;
    return chosen.code === 'VALID'
      ? { status: 'committed', transactionId, blockNumber: chosen.blockNumber, leafIndex: chosen.leafIndex, code: 'VALID', certified }
      : { status: 'invalid', transactionId, blockNumber: chosen.blockNumber, leafIndex: chosen.leafIndex, code: chosen.code, detail: chosen.detail, certified };
  }

  /** A self-contained receipt (docs/protocol.md, Receipts) for a committed transaction in a certified block. */
  async receipt(transactionId: string): Promise<Receipt> {
    const copies = await this.node.blockStore.transactionsById(transactionId);
    const tx = copies.find((c) => c.code === 'VALID') ?? copies[0];
    if (!tx) throw LedgerErrors.transactionNotFound(transactionId);
    if (tx.blockNumber > this.node.certifiedBlock) throw new AllianceError('LEDGER.NOT_CERTIFIED', 'conflict', `block ${tx.blockNumber} is committed but not yet certified; retry shortly`);
    const block = await this.node.blockStore.block(tx.blockNumber);
    if (!block) throw LedgerErrors.blockNotFound(tx.blockNumber);
    const [signatures, blockTxs] = await Promise.all([this.node.blockStore.signatures(block.blockNumber), this.node.blockStore.blockTransactions(block.blockNumber)]);
    const header = JSON.parse(decoder.decode(block.header)) as BlockHeader;
    // Members and policy that certify this block; the creator's key as it was when the block executed.
    const config = this.node.certifiersOf(tx.blockNumber);
    const envelope = decodeEnvelope(tx.envelope);
    const creator = this.node.creatorKeyAt(tx.blockNumber, envelope.transaction.creator.organizationId, envelope.signature.keyId);
    if (!creator || !isSignatureAlgorithm(creator.algorithm)) throw new AllianceError('LEDGER.UNKNOWN_KEY', 'conflict', `the creator key of this transaction was not registered at block ${tx.blockNumber}`);
    return buildReceipt({
      envelope,
      creatorPublicKey: fromHex(creator.publicKey),
      result: JSON.parse(decoder.decode(tx.result)),
      header,
      signatures: signatures.map(signatureView),
      leafIndex: tx.leafIndex,
      inclusionProof: this.node.inclusionProof(tx.leafIndex, header.logSize),
      resultProof: inclusionProof(blockTxs.map((t) => leafHash(t.result)), tx.position),
      dataProof: inclusionProof(blockTxs.map((t) => t.leafHash), tx.position),
      members: config.members.map((m) => ({ organizationId: m.organizationId, algorithm: 'ed25519' as const, publicKey: m.nodeKey.publicKey })),
      policy: config.policies.certification,
    });
  }

  /** The checkpoint of the newest certified block, signed by every member that signed that block. */
  async latestCheckpoint(): Promise<CheckpointView> {
    const certified = this.node.certifiedBlock;
    if (certified < 0) throw new AllianceError('LEDGER.NO_CHECKPOINT', 'not-found', 'no block is certified yet');
    return this.checkpointAt(certified);
  }

  async checkpointAt(blockNumber: number): Promise<CheckpointView> {
    const block = await this.node.blockStore.block(blockNumber);
    if (!block) throw LedgerErrors.blockNotFound(blockNumber);
    const header = JSON.parse(decoder.decode(block.header)) as BlockHeader;
    const signatures = await this.node.blockStore.signatures(blockNumber);
    const body = formatCheckpoint({ origin: checkpointOrigin(this.node.chainId), treeSize: header.logSize, rootHash: fromHex(header.logRoot) });
    const lines = signatures.map((s) => `\u2014 ${s.organizationId} ${s.checkpointSignature}\n`);
    return { blockNumber, treeSize: header.logSize, rootHash: header.logRoot, note: `${body}\n${lines.join('')}`, signedBy: signatures.map((s) => s.organizationId) };
  }

  /** RFC 9162 consistency proof between two tree sizes of this chain's log. */
  consistency(fromSize: number, toSize: number): { fromSize: number; toSize: number; proof: string[] } {
    const head = this.node.logSize;
    if (!Number.isSafeInteger(fromSize) || !Number.isSafeInteger(toSize) || fromSize < 1 || fromSize > toSize || toSize > head) {
      throw new AllianceError('LEDGER.INVALID_RANGE', 'invalid', `need 1 <= from <= to <= ${head} (the current log size)`);
    }
    return { fromSize, toSize, proof: this.node.consistencyProof(fromSize, toSize).map(toHex) };
  }
}

function signatureView(s: StoredSignature): HeaderSignature {
  return { organizationId: s.organizationId, keyId: s.keyId, algorithm: 'ed25519', value: toBase64Url(s.signature) };
}
