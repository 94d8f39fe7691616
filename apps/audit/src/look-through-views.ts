import type { AllianceError } from '@alliance/shared/util-errors';
import { mapLimit, ObserverAnchor, type ObserverHead, type ReceiptCheck } from './look-through-anchor';
import type { TraceDirection } from './look-through-params';
import { paymentTerms, type PaymentTermsRow, type TermsPayment, type TermsReceivable } from './look-through-terms';
import type { Upstreams } from './upstream';

/**
 * The look-through views (docs/audit.md, Look-through views): each one reads
 * the regulator's own identity, provenance and finance services and its
 * observer node with the caller's bearer token, and adds what an auditor
 * needs on top — the proofs verified against the observer, the records a
 * register spreads over several routes gathered in one answer, the payment
 * terms judged. Nothing is stored; the figures are the upstreams' own.
 */

type Auth = string | undefined;
type Json = Record<string, unknown>;

/** At most this many proofs or receipts are fetched at once per answer. */
const PARALLEL = 8;
const PAGE = 500;

export interface CheckpointSummary {
  readonly blockNumber: number;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly verified: boolean;
  readonly reason: string | null;
  readonly signedBy: readonly string[];
}

const summaryOf = (h: ObserverHead): CheckpointSummary => ({ blockNumber: h.blockNumber, treeSize: h.treeSize, rootHash: h.rootHash, verified: h.checkpointVerified, reason: h.checkpointReason, signedBy: h.signedBy });

export type ProofCheck = Omit<ReceiptCheck, 'checkpointTreeSize'>;
const proofOf = (c: ReceiptCheck): ProofCheck => ({ verified: c.verified, reason: c.reason, transactionId: c.transactionId, blockNumber: c.blockNumber, leafIndex: c.leafIndex, headerHash: c.headerHash });

const qs = (params: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.append(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
};

export interface ProposalView extends Json {
  readonly proposalId: string;
  readonly organizationId: string;
  readonly proposedBy: string;
  readonly votes: Record<string, boolean>;
}

/** The DI token of the look-through views. */
export const LOOK_THROUGH = Symbol('alliance.audit-look-through');

export class LookThrough {
  constructor(
    private readonly upstreams: Upstreams,
    private readonly chainId: string,
    private readonly today: () => string = () => new Date().toISOString().slice(0, 10),
  ) {}

  // ---- Entity register (identity) ----

  async organizations(auth: Auth, atBlock?: number) {
    const { items } = await this.upstreams.get<{ items: Json[] }>('identity', `/identity/v1/organizations${qs({ atBlock })}`, auth);
    return { items, recordCount: items.length };
  }

  /** One organization with its agents (each with its key history), devices and the membership proposals that concern it. */
  async organization(auth: Auth, organizationId: string, atBlock?: number) {
    const org = encodeURIComponent(organizationId);
    const organization = await this.upstreams.get<Json>('identity', `/identity/v1/organizations/${org}${qs({ atBlock })}`, auth);
    const [agentList, devices, proposals] = await Promise.all([
      this.allPages<Json>((after) => this.upstreams.get('identity', `/identity/v1/organizations/${org}/agents${qs({ after, limit: PAGE, atBlock })}`, auth)),
      this.allPages<Json>((after) => this.upstreams.get('identity', `/identity/v1/devices${qs({ organizationId, after, limit: PAGE, atBlock })}`, auth)),
      this.upstreams.get<{ items: ProposalView[] }>('identity', `/identity/v1/proposals${qs({ atBlock })}`, auth),
    ]);
    const agents = await mapLimit(agentList, PARALLEL, async (a) => {
      const { items } = await this.upstreams.get<{ items: Json[] }>('identity', `/identity/v1/organizations/${org}/agents/${encodeURIComponent(String(a['agentId']))}/history`, auth);
      return { ...a, history: items };
    });
    const concerning = proposals.items
      .map((p) => ({ ...p, relation: relationOf(p, organizationId) }))
      .filter((p) => p.relation.length > 0);
    return { organization, agents, devices, proposals: concerning, recordCount: 1 + agents.length + devices.length + concerning.length };
  }

  devices(auth: Auth, filter: { organizationId?: string; status?: string; after?: string; limit?: number; atBlock?: number }) {
    return this.upstreams.get<{ items: Json[]; nextAfter: string | null }>('identity', `/identity/v1/devices${qs(filter)}`, auth);
  }

  async device(auth: Auth, deviceId: string) {
    const id = encodeURIComponent(deviceId);
    const device = await this.upstreams.get<Json>('identity', `/identity/v1/devices/${id}`, auth);
    const { items } = await this.upstreams.get<{ items: Json[] }>('identity', `/identity/v1/devices/${id}/history`, auth);
    return { device, history: items, recordCount: 1 + items.length };
  }

  /** Who holds a key and the history of its holder's record (an agent's versions: every key added, rotated, revoked; a device's changes). */
  async key(auth: Auth, keyId: string) {
    const key = await this.upstreams.get<{ kind: string; organizationId: string; agentId: string | null; deviceId: string | null }>('identity', `/identity/v1/keys/${encodeURIComponent(keyId)}`, auth);
    let history: Json[] = [];
    if (key.kind === 'agent' && key.agentId) history = (await this.upstreams.get<{ items: Json[] }>('identity', `/identity/v1/organizations/${encodeURIComponent(key.organizationId)}/agents/${encodeURIComponent(key.agentId)}/history`, auth)).items;
    else if (key.kind === 'device' && key.deviceId) history = (await this.upstreams.get<{ items: Json[] }>('identity', `/identity/v1/devices/${encodeURIComponent(key.deviceId)}/history`, auth)).items;
    return { key, history, recordCount: 1 + history.length };
  }

  async agentHistory(auth: Auth, organizationId: string, agentId: string) {
    const { items } = await this.upstreams.get<{ items: Json[] }>('identity', `/identity/v1/organizations/${encodeURIComponent(organizationId)}/agents/${encodeURIComponent(agentId)}/history`, auth);
    return { organizationId, agentId, items };
  }

  // ---- Trace with proofs (provenance) ----

  async trace(auth: Auth, query: { item: string; direction: TraceDirection; depth?: number; maxNodes?: number }) {
    const trace = await this.upstreams.get<{ events: Array<{ eventID: string }> } & Json>('provenance', `/provenance/v1/trace${qs({ epc: query.item, direction: query.direction, depth: query.depth, maxNodes: query.maxNodes })}`, auth);
    const anchor = new ObserverAnchor(this.upstreams, auth, this.chainId);
    await anchor.head();
    const events = await mapLimit(trace.events, PARALLEL, async (e) => ({ ...e, ...(await this.eventProof(auth, anchor, e.eventID)) }));
    return { ...trace, events, checkpoint: summaryOf(await anchor.head()), verifiedEvents: events.filter((e) => e.verified).length, recordCount: events.length };
  }

  private async eventProof(auth: Auth, anchor: ObserverAnchor, eventID: string) {
    let proof: { eventID: string; hashVerified: boolean; origin: string; transactionId: string; blockNumber: number; leafIndex: number; position: number; receipt: unknown };
    try {
      proof = await this.upstreams.get('provenance', `/provenance/v1/epcis/events/${encodeURIComponent(eventID)}/proof`, auth);
    } catch (error) {
      const e = error as AllianceError;
      return { origin: null, hashVerified: null, transactionId: null, blockNumber: null, leafIndex: null, position: null, verified: false, reason: `provenance: ${e.code}: ${e.message}` };
    }
    const check = await anchor.check(proof.receipt);
    const base = { origin: proof.origin, hashVerified: proof.hashVerified, transactionId: proof.transactionId, blockNumber: proof.blockNumber, leafIndex: proof.leafIndex, position: proof.position };
    const reason = !check.verified
      ? check.reason
      : check.transactionId !== proof.transactionId
        ? `receipt: it is the receipt of ${check.transactionId}, not of the anchoring transaction ${proof.transactionId}`
        : check.blockNumber !== proof.blockNumber || check.leafIndex !== proof.leafIndex
          ? `receipt: block ${check.blockNumber} leaf ${check.leafIndex}, not the event's block ${proof.blockNumber} leaf ${proof.leafIndex}`
          : !proof.hashVerified
            ? 'event: its CBV 2.0 hash does not match its text (PROVENANCE.HASH_MISMATCH)'
            : proof.origin === 'capture' && !carriesEvent(proof.receipt, proof.position, proof.eventID)
              ? `event: the anchoring transaction does not carry ${proof.eventID} at position ${proof.position}`
              : null;
    return { ...base, verified: reason === null, reason };
  }

  // ---- Receivable tree (finance) with receipts ----

  async receivableTree(auth: Auth, receivableId: string) {
    const tree = await this.upstreams.get<{ nodes: Array<Json & { lastTransactionId: string; financings: Array<Json & { lastTransactionId: string }> }>; payments: Array<Json & { lastTransactionId: string }> } & Json>(
      'finance',
      `/finance/v1/receivables/${encodeURIComponent(receivableId)}/tree`,
      auth,
    );
    const anchor = new ObserverAnchor(this.upstreams, auth, this.chainId);
    await anchor.head();
    const proofs = new Map<string, Promise<ProofCheck>>();
    const verify = (transactionId: string) => {
      let p = proofs.get(transactionId);
      if (!p) {
        p = anchor.checkTransaction(transactionId).then(proofOf);
        proofs.set(transactionId, p);
      }
      return p;
    };
    const nodes = await mapLimit(tree.nodes, PARALLEL, async (n) => ({
      ...n,
      proof: await verify(n.lastTransactionId),
      financings: await Promise.all(n.financings.map(async (f) => ({ ...f, proof: await verify(f.lastTransactionId) }))),
    }));
    const payments = await mapLimit(tree.payments, PARALLEL, async (p) => ({ ...p, proof: await verify(p.lastTransactionId) }));
    const all = [...nodes.map((n) => n.proof), ...nodes.flatMap((n) => n.financings.map((f) => f.proof)), ...payments.map((p) => p.proof)];
    return { ...tree, nodes, payments, checkpoint: summaryOf(await anchor.head()), verifiedRecords: all.filter((p) => p.verified).length, checkedRecords: all.length, recordCount: nodes.length };
  }

  // ---- Exposure (finance, passed through) ----

  async debtorExposure(auth: Auth, debtor: string) {
    const { items, asOfBlock } = await this.exposure(auth, 'debtors', 'debtor', debtor);
    return { debtor, asOfBlock, items };
  }

  async financierExposure(auth: Auth, financier: string) {
    const { items, asOfBlock } = await this.exposure(auth, 'financiers', 'financier', financier);
    return { financier, asOfBlock, items };
  }

  private async exposure(auth: Auth, path: 'debtors' | 'financiers', filter: string, organizationId: string) {
    const items: Json[] = [];
    let asOfBlock: number | null = null;
    for (let token: string | undefined; ; ) {
      const page = await this.upstreams.get<{ items: Json[]; nextPageToken: string | null; asOfBlock: number }>('finance', `/finance/v1/exposure/${path}${qs({ [filter]: organizationId, perPage: PAGE, nextPageToken: token })}`, auth);
      items.push(...page.items);
      asOfBlock ??= page.asOfBlock;
      if (!page.nextPageToken) break;
      token = page.nextPageToken;
    }
    return { items, asOfBlock };
  }

  // ---- Payment-term compliance (finance) ----

  async paymentTerms(auth: Auth, query: { debtor?: string; from: string; to: string }): Promise<{ debtor: string | null; from: string; to: string; asOf: string; items: PaymentTermsRow[] }> {
    // Receivables first, then payments: a receivable read as settled has its completing payment in the second read.
    const receivables = await this.financeList<TermsReceivable>(auth, '/finance/v1/receivables', { debtor: query.debtor, status: 'confirmed,overdue,defaulted,settled' });
    const payments = await this.financeList<TermsPayment>(auth, '/finance/v1/payments', { debtor: query.debtor });
    const asOf = this.today();
    return { debtor: query.debtor ?? null, from: query.from, to: query.to, asOf, items: paymentTerms(receivables, payments, { from: query.from, to: query.to, asOf }) };
  }

  private async financeList<T>(auth: Auth, path: string, filters: Record<string, string | undefined>): Promise<T[]> {
    const out: T[] = [];
    for (let token: string | undefined; ; ) {
      const page = await this.upstreams.get<{ items: T[]; nextPageToken: string | null }>('finance', `${path}${qs({ ...filters, perPage: PAGE, nextPageToken: token })}`, auth);
      out.push(...page.items);
      if (!page.nextPageToken) return out;
      token = page.nextPageToken;
    }
  }

  private async allPages<T>(read: (after: string | undefined) => Promise<{ items: T[]; nextAfter: string | null }>): Promise<T[]> {
    const out: T[] = [];
    for (let after: string | undefined; ; ) {
      const page = await read(after);
      out.push(...page.items);
      if (!page.nextAfter) return out;
      after = page.nextAfter;
    }
  }
}

/** How a membership proposal concerns an organization: its subject, its proposer, a voter. */
export function relationOf(p: { organizationId: string; proposedBy: string; votes: Record<string, boolean> }, organizationId: string): string[] {
  return [
    ...(p.organizationId === organizationId ? ['subject'] : []),
    ...(p.proposedBy === organizationId ? ['proposer'] : []),
    ...(Object.prototype.hasOwnProperty.call(p.votes ?? {}, organizationId) ? ['voter'] : []),
  ];
}

/** Whether a capture's receipt carries the event at `position` of its payload (the text the chain anchored). */
export function carriesEvent(receipt: unknown, position: number, eventID: string): boolean {
  const events = (receipt as { envelope?: { transaction?: { payload?: { events?: unknown } } } } | null)?.envelope?.transaction?.payload?.events;
  if (!Array.isArray(events)) return false;
  const entry = events[position] as { eventId?: unknown } | undefined;
  return entry?.eventId === eventID;
}

