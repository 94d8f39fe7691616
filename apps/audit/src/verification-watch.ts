// The observer watch (docs/audit.md, Observer watch): every member node's latest signed checkpoint,
// verified and compared with the observer's; forks and withheld blocks raised once each.
 
import { AllianceApiError, type CheckpointView, verifyCheckpoint, verifyTreeExtension } from '@alliance/sdk';
import { type AlertKind, type AlertSeverity, alertIdOf, type AlertStore } from './alerts-store';
import { type AuditNode, clientOf, type NodeDirectory, type TrustAnchor } from './verification-nodes';

/** A checkpoint as the watch saw it: what the node served and whether its signatures verified. */
export interface SeenCheckpoint {
  readonly blockNumber: number;
  readonly treeSize: number;
  readonly rootHash: string;
  /** Members whose signatures verified (empty when it did not verify). */
  readonly verifiedBy: readonly string[];
  readonly verified: boolean;
  readonly reason: string | null;
}

export type NodeStatus =
  /** The observer itself: what the members are compared with. */
  | 'reference'
  | 'in-sync'
  /** Ahead of the observer (a block it lacks yet), the extension proven consistent or not (yet) proven. */
  | 'ahead'
  | 'behind'
  | 'fork'
  | 'bad-checkpoint'
  | 'no-checkpoint'
  | 'unreachable'
  /** The member's checkpoint verified, but the observer has none to compare it with. */
  | 'not-compared';

export interface NodeObservation {
  readonly node: string;
  readonly organizationId: string | null;
  readonly url: string;
  readonly checkpoint: SeenCheckpoint | null;
  readonly status: NodeStatus;
  /** Consistency of the member's tree with the observer's: proven, failed, or not known (equal sizes need none). */
  readonly consistency: 'proven' | 'failed' | 'unproven' | null;
  /** Since when the node has been ahead or behind (this process's observation), RFC 3339 UTC. */
  readonly since: string | null;
  readonly detail: string | null;
  readonly checkedAt: string;
}

interface Lag {
  /** The tree size the lagging side lacks (the other side's, when the lag was first seen). */
  readonly size: number;
  /** The first block the lagging side lacks. */
  readonly blockNumber: number;
  readonly since: number;
}

export type Comparison = { readonly status: 'in-sync' | 'fork' } | { readonly status: 'ahead' | 'behind'; readonly from: SeenCheckpoint; readonly to: SeenCheckpoint };

/** Where a member's verified checkpoint stands against the observer's (the proof, when one is needed, is the caller's). */
export function compareCheckpoints(observer: Pick<SeenCheckpoint, 'treeSize' | 'rootHash'>, member: Pick<SeenCheckpoint, 'treeSize' | 'rootHash'>): 'in-sync' | 'fork' | 'ahead' | 'behind' {
  if (member.treeSize === observer.treeSize) return member.rootHash === observer.rootHash ? 'in-sync' : 'fork';
  return member.treeSize > observer.treeSize ? 'ahead' : 'behind';
}

/**
 * Whether a lag has lasted long enough to be a withheld block. A lag is kept while the side that lacks
 * still lacks its first missing size (so a chain that keeps moving does not restart the clock); a new
 * one starts otherwise.
 */
export function nextLag(previous: Lag | undefined, lackingSize: number, lackedSize: number, firstLackedBlock: number, now: number): Lag {
  if (previous && lackingSize < previous.size) return previous;
  return { size: lackedSize, blockNumber: firstLackedBlock, since: now };
}

export class ObserverWatch {
  private readonly ahead = new Map<string, Lag>();
  private readonly behind = new Map<string, Lag>();
  private last: NodeObservation[] = [];
  private inFlight: Promise<NodeObservation[]> | null = null;

  constructor(
    private readonly nodes: NodeDirectory,
    private readonly trust: TrustAnchor,
    private readonly alerts: AlertStore,
    private readonly withheldAfterMs: number,
    private readonly log: (error: unknown, what: string) => void,
  ) {}

  /** The last observation (empty before the first check). */
  get observations(): readonly NodeObservation[] {
    return this.last;
  }

  /** One check of every node; a check already going is shared. */
  check(): Promise<NodeObservation[]> {
    if (!this.inFlight) {
      this.inFlight = this.checkAll().finally(() => (this.inFlight = null));
    }
    return this.inFlight;
  }

  private async latest(node: AuditNode): Promise<CheckpointView | 'none' | { error: string }> {
    try {
      return await clientOf(node, 10_000).latestCheckpoint();
    } catch (error) {
      if (error instanceof AllianceApiError && error.code === 'LEDGER.NO_CHECKPOINT') return 'none';
      return { error: error instanceof AllianceApiError ? `${error.code}: ${error.message}` : (error as Error).message };
    }
  }

  private async raise(kind: AlertKind, severity: AlertSeverity, node: AuditNode, parts: ReadonlyArray<string | number>, blockNumber: number | null, summary: string, detail: Record<string, unknown>, at: string): Promise<void> {
    await this.alerts
      .raise({ alertId: alertIdOf(kind, node.name, ...parts), kind, severity, subject: `node:${node.name}`, organizationId: node.organizationId, blockNumber, transactionId: null, summary, detail: { node: node.name, url: node.url, ...detail }, occurredAt: at })
      .catch((error: unknown) => this.log(error, `raising a ${kind} alert`));
  }

  private async checkAll(): Promise<NodeObservation[]> {
    const now = Date.now();
    const checkedAt = new Date(now).toISOString();
    const observer = this.nodes.observer;
    const trust = await this.trust.current();
    const seen = async (node: AuditNode): Promise<{ seen: SeenCheckpoint | null; status: NodeStatus | null; detail: string | null }> => {
      const cp = await this.latest(node);
      if (cp === 'none') return { seen: null, status: 'no-checkpoint', detail: 'the node has no certified checkpoint yet' };
      if ('error' in cp) return { seen: null, status: 'unreachable', detail: cp.error };
      const v = verifyCheckpoint(cp.note, { trust, ...(trust.chainId ? { chainId: trust.chainId } : {}) });
      if (!v.ok) return { seen: { blockNumber: cp.blockNumber, treeSize: cp.treeSize, rootHash: cp.rootHash, verifiedBy: [], verified: false, reason: v.reason }, status: 'bad-checkpoint', detail: v.detail };
      // The signed note's size and root, not the JSON beside it.
      return { seen: { blockNumber: cp.blockNumber, treeSize: v.treeSize, rootHash: v.rootHash, verifiedBy: v.verifiedBy, verified: true, reason: null }, status: null, detail: null };
    };
    const all = [observer, ...this.nodes.members];
    const results = await Promise.all(all.map((n) => seen(n)));
    const out: NodeObservation[] = [];
    const reference = results[0];
    for (let i = 0; i < all.length; i++) {
      const node = all[i];
      const r = results[i];
      const base = { node: node.name, organizationId: node.organizationId, url: node.url, checkpoint: r.seen, checkedAt };
      if (r.status === 'bad-checkpoint' && r.seen) {
        await this.raise('verification-failure', 'critical', node, ['checkpoint', r.seen.treeSize, r.seen.rootHash], r.seen.blockNumber, `the latest checkpoint of node ${node.name} does not verify against the members: ${r.seen.reason}`, { treeSize: r.seen.treeSize, rootHash: r.seen.rootHash, reason: r.seen.reason, why: r.detail }, checkedAt);
      }
      if (i === 0) {
        out.push({ ...base, status: r.status ?? 'reference', consistency: null, since: null, detail: r.detail });
        continue;
      }
      if (r.status !== null || !r.seen) {
        out.push({ ...base, status: r.status ?? 'unreachable', consistency: null, since: null, detail: r.detail });
        continue;
      }
      if (!reference.seen?.verified) {
        out.push({ ...base, status: 'not-compared', consistency: null, since: null, detail: `not compared: the observer's checkpoint is ${reference.status}` });
        continue;
      }
      out.push(await this.compare(node, reference.seen, r.seen, now, checkedAt));
    }
    this.last = out;
    return out;
  }

  private async compare(node: AuditNode, o: SeenCheckpoint, m: SeenCheckpoint, now: number, checkedAt: string): Promise<NodeObservation> {
    const base = { node: node.name, organizationId: node.organizationId, url: node.url, checkpoint: m, checkedAt };
    const status = compareCheckpoints(o, m);
    if (status !== 'ahead') this.ahead.delete(node.name);
    if (status !== 'behind') this.behind.delete(node.name);
    if (status === 'in-sync') return { ...base, status, consistency: null, since: null, detail: null };
    if (status === 'fork') {
      await this.raise('fork', 'critical', node, [m.treeSize, m.rootHash], m.blockNumber, `node ${node.name} signed another log than the observer's at tree size ${m.treeSize}: a fork`, { treeSize: m.treeSize, memberRoot: m.rootHash, observerRoot: o.rootHash, observerBlock: o.blockNumber, memberBlock: m.blockNumber }, checkedAt);
      return { ...base, status, consistency: null, since: null, detail: `same tree size ${m.treeSize}, roots ${m.rootHash} (member) and ${o.rootHash} (observer)` };
    }
    // Ahead: the member proves its bigger tree extends the observer's; behind: the observer proves its own extends the member's.
    const [older, newer, prover] = status === 'ahead' ? [o, m, node] : [m, o, this.nodes.observer];
    let consistency: 'proven' | 'failed' | 'unproven';
    let proofDetail: string | null = null;
    try {
      const proof = await clientOf(prover, 10_000).consistencyProof(older.treeSize, newer.treeSize);
      consistency = verifyTreeExtension({ treeSize: older.treeSize, rootHash: older.rootHash }, { treeSize: newer.treeSize, rootHash: newer.rootHash }, proof.proof) ? 'proven' : 'failed';
    } catch (error) {
      consistency = 'unproven';
      proofDetail = `no consistency proof from ${prover.name}: ${error instanceof AllianceApiError ? `${error.code}: ${error.message}` : (error as Error).message}`;
    }
    if (consistency === 'failed') {
      await this.raise('fork', 'critical', node, ['inconsistent', older.treeSize, older.rootHash, newer.treeSize, newer.rootHash], m.blockNumber, `the log of node ${node.name} (size ${m.treeSize}) is not consistent with the observer's (size ${o.treeSize}): a fork`, { memberTreeSize: m.treeSize, memberRoot: m.rootHash, observerTreeSize: o.treeSize, observerRoot: o.rootHash, prover: prover.name }, checkedAt);
      return { ...base, status: 'fork', consistency, since: null, detail: `the consistency proof from size ${older.treeSize} to ${newer.treeSize} (served by ${prover.name}) does not verify` };
    }
    const lags = status === 'ahead' ? this.ahead : this.behind;
    // The first block the lagging side lacks: the one after its own checkpoint's.
    const lag = status === 'ahead' ? nextLag(lags.get(node.name), o.treeSize, m.treeSize, o.blockNumber + 1, now) : nextLag(lags.get(node.name), m.treeSize, o.treeSize, m.blockNumber + 1, now);
    lags.set(node.name, lag);
    const since = new Date(lag.since).toISOString();
    if (now - lag.since >= this.withheldAfterMs) {
      if (status === 'ahead') {
        await this.raise('withheld-block', 'warning', node, ['observer-lacks', lag.size], lag.blockNumber, `node ${node.name} has a checkpoint (tree size ${lag.size}) with blocks from ${lag.blockNumber} on that the observer has lacked since ${since}`, { lackedBy: 'observer', treeSize: lag.size, blockNumber: lag.blockNumber, since, observerTreeSize: o.treeSize, consistency }, checkedAt);
      } else {
        await this.raise('withheld-block', 'warning', node, ['member-behind', lag.size], lag.blockNumber, `node ${node.name} has lacked the observer's blocks from ${lag.blockNumber} on (tree size ${lag.size}) since ${since}: its checkpoint is at tree size ${m.treeSize}`, { lackedBy: node.name, treeSize: lag.size, blockNumber: lag.blockNumber, since, memberTreeSize: m.treeSize, consistency }, checkedAt);
      }
    }
    return { ...base, status, consistency, since, detail: proofDetail };
  }
}
