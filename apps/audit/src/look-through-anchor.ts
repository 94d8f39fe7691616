import {
  type CertificationPolicy,
  type ConsortiumMember,
  checkpointOrigin,
  fromBase64,
  fromHex,
  memberNoteKeys,
  nodeVerify,
  ProtocolError,
  toHex,
  validateMembers,
  validatePolicy,
  verifyCheckpoint,
  verifyConsistency,
  verifyReceipt,
} from '@alliance/protocol';
import { AllianceError } from '@alliance/shared/util-errors';
import type { Upstreams } from './upstream';

/**
 * What the look-through views verify their proofs against (docs/audit.md,
 * Look-through views): the regulator's own observer node — the node that
 * re-verified every block from the pinned genesis. Its newest checkpoint is
 * verified against the chain configuration it holds (`config/chain`: the
 * members' node keys and the certification policy); a receipt is then
 * verified completely (the SDK's `verifyReceipt`, i.e. the protocol's, with
 * the node's signature verifier: structure, transaction id, creator key,
 * result, RFC 9162 log inclusion, result inclusion, certification, envelope
 * signature — members pinned to the observer's configuration when the block
 * was made under it), its block's header must be the one the observer holds,
 * and its log (size, root) must be a prefix of the checkpoint's tree (an RFC
 * 9162 consistency proof from the observer). `verified: true` only when every
 * step holds; otherwise `reason` names the first that failed.
 *
 * The code is the SDK's (`libs/sdk` verifyReceipt / verifyCheckpoint /
 * verifyTreeExtension are thin wrappers over these @alliance/protocol
 * functions); the protocol library is imported because Nx boundaries let an
 * app depend on type:protocol, not on type:sdk.
 */

export interface ObserverHead {
  readonly chainId: string;
  /** The configuration the observer holds now. */
  readonly sequence: number;
  readonly members: readonly ConsortiumMember[];
  readonly policy: CertificationPolicy;
  /** The newest checkpoint: the block it certifies, its tree. */
  readonly blockNumber: number;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly checkpointVerified: boolean;
  readonly checkpointReason: string | null;
  readonly signedBy: readonly string[];
}

export interface ReceiptCheck {
  readonly verified: boolean;
  /** Why not, naming the first check that failed; null when verified. */
  readonly reason: string | null;
  readonly transactionId: string | null;
  readonly blockNumber: number | null;
  readonly leafIndex: number | null;
  readonly headerHash: string | null;
  /** The checkpoint's tree size it was checked against. */
  readonly checkpointTreeSize: number | null;
}

interface HeaderFields {
  readonly blockNumber: number;
  readonly logSize: number;
  readonly logRoot: string;
  readonly configSequence: number | null;
}

function headerOf(receipt: unknown): HeaderFields | null {
  const header = (receipt as { block?: { header?: Record<string, unknown> } } | null)?.block?.header;
  if (!header || typeof header !== 'object') return null;
  const { blockNumber, logSize, logRoot, configSequence } = header;
  if (typeof blockNumber !== 'number' || typeof logSize !== 'number' || typeof logRoot !== 'string') return null;
  return { blockNumber, logSize, logRoot, configSequence: typeof configSequence === 'number' ? configSequence : null };
}

const no = (reason: string, partial: Partial<ReceiptCheck> = {}): ReceiptCheck => ({
  verified: false,
  reason,
  transactionId: null,
  blockNumber: null,
  leafIndex: null,
  headerHash: null,
  checkpointTreeSize: null,
  ...partial,
});

/**
 * The verdict on one receipt against the observer's head (pure): `consistency` is the observer's RFC 9162 proof
 * from the receipt's log size to the checkpoint's tree size (null when the sizes are equal or it could not be
 * had), `observerHeaderHash` the hash of the receipt's block as the observer holds it (null when it holds none).
 */
export function judgeReceipt(receipt: unknown, head: ObserverHead, extras: { consistency: readonly string[] | null; observerHeaderHash: string | null }): ReceiptCheck {
  const fields = headerOf(receipt);
  const pin = fields && fields.configSequence === head.sequence ? { trustedMembers: head.members, trustedPolicy: head.policy } : {};
  const verdict = verifyReceipt(receipt, { chainId: head.chainId, verifier: nodeVerify, ...pin });
  if (!verdict.ok) return no(`receipt: ${verdict.reason}: ${verdict.detail}`);
  const at: Partial<ReceiptCheck> = { transactionId: verdict.transactionId, blockNumber: verdict.blockNumber, leafIndex: verdict.leafIndex, headerHash: verdict.headerHash, checkpointTreeSize: head.treeSize };
  if (!fields) return no('receipt: no block header', at);
  if (!head.checkpointVerified) return no(`checkpoint: the observer's checkpoint does not verify (${head.checkpointReason ?? 'unknown'})`, at);
  if (extras.observerHeaderHash === null) return no(`observer: the observer node holds no block ${fields.blockNumber}`, at);
  if (extras.observerHeaderHash !== verdict.headerHash) return no(`observer: the observer node holds another block ${fields.blockNumber} (header ${extras.observerHeaderHash}, the receipt's ${verdict.headerHash})`, at);
  if (fields.logSize > head.treeSize) return no(`checkpoint: block ${fields.blockNumber} (log size ${fields.logSize}) is beyond the observer's checkpoint (tree size ${head.treeSize})`, at);
  if (fields.logSize === head.treeSize) {
    if (fields.logRoot !== head.rootHash) return no(`checkpoint: the receipt's log root at size ${fields.logSize} is not the checkpoint's root`, at);
  } else {
    if (extras.consistency === null) return no(`checkpoint: no consistency proof from size ${fields.logSize} to ${head.treeSize}`, at);
    let ok = false;
    try {
      ok = verifyConsistency({ fromSize: fields.logSize, toSize: head.treeSize, fromRoot: fromHex(fields.logRoot, 32), toRoot: fromHex(head.rootHash, 32), proof: extras.consistency.map((h) => fromHex(h, 32)) });
    } catch {
      ok = false;
    }
    if (!ok) return no(`checkpoint: the receipt's log (size ${fields.logSize}) is not a prefix of the checkpoint's tree (size ${head.treeSize}): the consistency proof fails`, at);
  }
  return { verified: true, reason: null, transactionId: verdict.transactionId, blockNumber: verdict.blockNumber, leafIndex: verdict.leafIndex, headerHash: verdict.headerHash, checkpointTreeSize: head.treeSize };
}

/** Members and certification policy of a chain configuration (`config/chain`). */
export function trustOfConfig(config: unknown): { sequence: number; members: ConsortiumMember[]; policy: CertificationPolicy } {
  const c = (config ?? {}) as { sequence?: unknown; members?: unknown; policies?: { certification?: unknown } };
  if (!Array.isArray(c.members) || typeof c.sequence !== 'number') throw new Error('not a chain configuration');
  const members = validateMembers(
    c.members.map((m: { organizationId?: unknown; nodeKey?: { algorithm?: unknown; publicKey?: unknown } }) => ({ organizationId: m.organizationId, algorithm: m.nodeKey?.algorithm, publicKey: m.nodeKey?.publicKey })),
  );
  return { sequence: c.sequence, members, policy: validatePolicy(c.policies?.certification ?? { type: 'majority' }, members.length) };
}

const CONFIG_KEY = 'config/chain';

/** Runs `fn` over `items`, at most `limit` at a time, answers in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** One request's view of the observer node (with the caller's token): its head, its blocks, its proofs; cached for the request. */
export class ObserverAnchor {
  private headPromise: Promise<ObserverHead> | null = null;
  private readonly headers = new Map<number, Promise<string | null>>();
  private readonly proofs = new Map<string, Promise<string[] | null>>();

  constructor(
    private readonly upstreams: Upstreams,
    private readonly authorization: string | undefined,
    private readonly chainId: string,
  ) {}

  head(): Promise<ObserverHead> {
    this.headPromise ??= this.readHead();
    return this.headPromise;
  }

  private async readHead(): Promise<ObserverHead> {
    const page = await this.upstreams.get<{ items: Array<{ key: string; value: string | null }> }>('ledger', `/ledger/v1/state?after=${encodeURIComponent('config/chai')}&limit=100`, this.authorization);
    const row = page.items.find((r) => r.key === CONFIG_KEY);
    if (!row?.value) throw new AllianceError('AUDIT.UPSTREAM_FAILED', 'unavailable', 'the observer node holds no chain configuration (config/chain)');
    const trust = trustOfConfig(JSON.parse(new TextDecoder().decode(fromBase64(row.value))));
    const checkpoint = await this.upstreams.get<{ blockNumber: number; treeSize: number; rootHash: string; note: string; signedBy: string[] }>('ledger', '/ledger/v1/checkpoints/latest', this.authorization);
    let checkpointVerified = false;
    let checkpointReason: string | null = null;
    let treeSize = checkpoint.treeSize;
    let rootHash = checkpoint.rootHash;
    try {
      const v = verifyCheckpoint(checkpoint.note, memberNoteKeys(trust.members), { policy: trust.policy, origin: checkpointOrigin(this.chainId) });
      treeSize = v.treeSize;
      rootHash = toHex(v.rootHash);
      checkpointVerified = true;
      if (treeSize !== checkpoint.treeSize || rootHash !== checkpoint.rootHash) {
        checkpointVerified = false;
        checkpointReason = 'the signed note names another tree than the answer around it';
      }
    } catch (error) {
      checkpointReason = error instanceof ProtocolError ? `${error.code}: ${error.message}` : 'unreadable checkpoint';
    }
    return { chainId: this.chainId, ...trust, blockNumber: checkpoint.blockNumber, treeSize, rootHash, checkpointVerified, checkpointReason, signedBy: checkpoint.signedBy };
  }

  private observerHeaderHash(blockNumber: number): Promise<string | null> {
    let p = this.headers.get(blockNumber);
    if (!p) {
      p = this.upstreams.get<{ headerHash: string }>('ledger', `/ledger/v1/blocks/${blockNumber}`, this.authorization).then(
        (b) => b.headerHash,
        () => null,
      );
      this.headers.set(blockNumber, p);
    }
    return p;
  }

  private consistency(from: number, to: number): Promise<string[] | null> {
    const key = `${from}-${to}`;
    let p = this.proofs.get(key);
    if (!p) {
      p = this.upstreams.get<{ proof: string[] }>('ledger', `/ledger/v1/proofs/consistency?from=${from}&to=${to}`, this.authorization).then(
        (r) => r.proof,
        () => null,
      );
      this.proofs.set(key, p);
    }
    return p;
  }

  /** A receipt verified against the observer (a checkpoint newer than the one read is fetched once when the receipt is beyond it). */
  async check(receipt: unknown): Promise<ReceiptCheck> {
    let head = await this.head();
    const fields = headerOf(receipt);
    if (fields && fields.logSize > head.treeSize) {
      this.headPromise = null;
      head = await this.head();
    }
    const observerHeaderHash = fields ? await this.observerHeaderHash(fields.blockNumber) : null;
    const consistency = fields && fields.logSize < head.treeSize && fields.logSize > 0 ? await this.consistency(fields.logSize, head.treeSize) : null;
    return judgeReceipt(receipt, head, { consistency, observerHeaderHash });
  }

  /** The receipt of a transaction from the observer node (the ledger's receipt route), verified. */
  async checkTransaction(transactionId: string): Promise<ReceiptCheck & { receipt: unknown }> {
    let answer: { status?: string; certified?: boolean; receipt?: unknown };
    try {
      answer = await this.upstreams.get('ledger', `/ledger/v1/transactions/${encodeURIComponent(transactionId)}`, this.authorization);
    } catch (error) {
      const e = error as AllianceError;
      return { ...no(`ledger: ${e.code ?? 'UNAVAILABLE'}: ${e.message}`, { transactionId }), receipt: null };
    }
    if (!answer.receipt) return { ...no(answer.status === 'committed' ? 'ledger: the block is not certified yet' : `ledger: the transaction is ${answer.status ?? 'unknown'}`, { transactionId }), receipt: null };
    const check = await this.check(answer.receipt);
    if (check.verified && check.transactionId !== transactionId) return { ...no(`receipt: it is the receipt of ${check.transactionId}, not of ${transactionId}`, check), receipt: answer.receipt };
    return { ...check, receipt: answer.receipt };
  }
}
