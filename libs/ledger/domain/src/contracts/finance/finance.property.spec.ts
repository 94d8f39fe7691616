import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BANK_1, BANK_2, CORE, FinanceChain, type Outcome, REGULATOR, sha, SUPPLIER_1, SUPPLIER_2, tx, type Tx } from '../../../test/finance-chain';
import type { CreditLine } from './credit-lines';
import { addDays } from './money';
import type { Financing } from './financing';
import type { Payment, Receivable, UnderlyingDocument } from './receivables';

/**
 * Random sequences of finance operations from two suppliers, a core enterprise (the debtor), two financiers and
 * a regulator, each applied to one in-memory world state when valid; after every step the totals must reconcile
 * and no asset may be encumbered twice. Actors are mostly the ones the rules expect (so that operations succeed
 * often) and sometimes anyone (so that refusals are exercised); ids index what exists when the step runs.
 */
const ORGS = [SUPPLIER_1, SUPPLIER_2, CORE, BANK_1, BANK_2, REGULATOR];
const SUPPLIERS = [SUPPLIER_1, SUPPLIER_2];
const BANKS = [BANK_1, BANK_2];
/** Who receives split parts: mostly suppliers and banks, sometimes the debtor (refused). */
const SPLIT_HOLDERS = [SUPPLIER_1, SUPPLIER_2, SUPPLIER_1, SUPPLIER_2, BANK_1, BANK_2, SUPPLIER_1, SUPPLIER_2, BANK_1, CORE];
const LINES = ['line-bank-1', 'line-bank-2'];
const DELIVERY_EVENT = 'urn:uuid:5b0f6a0e-5a3e-4c52-9d0b-3f1e8b7a6c01';
const DOCUMENTS = [
  { docType: 'purchase-order', hash: sha('PO 1'), amount: '500000' },
  { docType: 'invoice', hash: sha('INV 1'), amount: '300000' },
  { docType: 'delivery', hash: sha('DESADV 1'), amount: '400000', eventId: DELIVERY_EVENT },
  { docType: 'contract', hash: sha('CONTRACT 1'), amount: '250000' },
  { docType: 'invoice', hash: sha('INV 2'), amount: '200000' },
];
const KINDS = ['discounting', 'factoring', 'pledge'] as const;

type Actor = number | null;
type Op =
  | { op: 'issue'; supplier: number; face: number; dueIn: number; docs: number[]; wrongAmount: boolean; reuseId: boolean }
  | { op: 'confirm'; r: number; line: number; actor: Actor }
  | { op: 'reject' | 'cancel'; r: number; actor: Actor }
  | { op: 'transfer'; r: number; to: number; actor: Actor }
  | { op: 'split'; r: number; weights: number[]; holders: number[]; skew: number; actor: Actor }
  | { op: 'apply'; r: number; financier: number; kind: number; both: boolean; principalPct: number; actor: Actor }
  | { op: 'approve'; f: number; rateBps: number; fee: number; act365: boolean; actor: Actor }
  | { op: 'race'; r: number; rateBps: number }
  | { op: 'disburse' | 'release' | 'recourse' | 'withdraw' | 'rejectFinancing'; f: number; actor: Actor }
  | { op: 'repay'; r: number; pct: number; actor: Actor }
  | { op: 'freeze' | 'unfreeze'; r: number; actor: Actor }
  | { op: 'overdue' | 'default'; r: number; actor: Actor }
  | { op: 'line'; line: number; limit: number; suspend: boolean }
  | { op: 'advance'; days: number };

/** Mostly the natural signer (null), one time in six anyone. */
const actor: fc.Arbitrary<Actor> = fc.oneof({ arbitrary: fc.constant(null), weight: 5 }, { arbitrary: fc.nat(ORGS.length - 1), weight: 1 });
const r = fc.nat(1000);
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('issue' as const), supplier: fc.nat(1), face: fc.integer({ min: 1, max: 200_000 }), dueIn: fc.integer({ min: 1, max: 90 }), docs: fc.uniqueArray(fc.nat(DOCUMENTS.length - 1), { minLength: 1, maxLength: 2 }), wrongAmount: fc.nat(14).map((x) => x === 0), reuseId: fc.nat(9).map((x) => x === 0) }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('confirm' as const), r, line: fc.nat(1), actor }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constantFrom('reject' as const, 'cancel' as const), r, actor }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('transfer' as const), r, to: fc.nat(ORGS.length - 1), actor }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('split' as const), r, weights: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 2, maxLength: 3 }), holders: fc.array(fc.nat(SPLIT_HOLDERS.length - 1), { minLength: 3, maxLength: 3 }), skew: fc.constantFrom(0, 0, 0, 0, 0, 0, 1, -1), actor }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('apply' as const), r, financier: fc.nat(1), kind: fc.nat(2), both: fc.boolean(), principalPct: fc.integer({ min: 1, max: 100 }), actor }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('approve' as const), f: r, rateBps: fc.integer({ min: 0, max: 3000 }), fee: fc.integer({ min: 0, max: 2000 }), act365: fc.boolean(), actor }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('race' as const), r, rateBps: fc.integer({ min: 0, max: 3000 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constantFrom('disburse' as const, 'release' as const, 'recourse' as const, 'withdraw' as const, 'rejectFinancing' as const), f: r, actor }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('repay' as const), r, pct: fc.integer({ min: 1, max: 101 }), actor }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constantFrom('freeze' as const, 'unfreeze' as const), r, actor }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constantFrom('overdue' as const, 'default' as const), r, actor }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('line' as const), line: fc.nat(1), limit: fc.integer({ min: 0, max: 800_000 }), suspend: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('advance' as const), days: fc.integer({ min: 0, max: 45 }) }), weight: 5 },
);

const pick = <T>(list: readonly T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined);
function choose<T>(all: readonly T[], i: number, wanted: (x: T) => boolean): T | undefined {
  const some = all.filter(wanted);
  return i % 5 === 0 || some.length === 0 ? pick(all, i) : pick(some, i);
}
const unlockedConfirmed = (x: Receivable) => x.status === 'confirmed' && !x.frozen && !x.encumbrance;
const who = (a: Actor, natural: string | undefined): string => (a === null || natural === undefined ? (natural ?? ORGS[0]!) : ORGS[a % ORGS.length]!);

/** What the test keeps besides the chain: the ids it made, in order. */
class World {
  readonly chain = new FinanceChain();
  readonly receivables: string[] = [];
  readonly financings: string[] = [];
  private n = 0;
  readonly codes = new Map<string, number>();

  constructor() {
    this.chain.anchorEvent(DELIVERY_EVENT);
    this.chain.ok(tx(BANK_1, 'finance.credit-line.grant', { creditLineId: LINES[0], debtor: CORE, currency: 'CNY', limit: '400000' }));
    this.chain.ok(tx(BANK_2, 'finance.credit-line.grant', { creditLineId: LINES[1], debtor: CORE, currency: 'CNY', limit: '600000', expiresOn: '2027-06-30' }));
  }

  id(prefix: string): string {
    return `${prefix}-${String(++this.n).padStart(5, '0')}`;
  }
  /**
   * The i-th (modulo) of the receivables that exist and are `wanted` (the ones the operation can succeed on),
   * or — one time in five, or when none is wanted — of all that exist.
   */
  receivable(i: number, wanted: (x: Receivable) => boolean = () => true): Receivable | undefined {
    return choose(this.receivables.map((id) => this.chain.receivable(id)).filter((x): x is Receivable => x !== undefined), i, wanted);
  }
  financing(i: number, ...statuses: string[]): Financing | undefined {
    return this.financingWhere(i, (f) => statuses.includes(f.status));
  }
  financingWhere(i: number, wanted: (f: Financing) => boolean): Financing | undefined {
    return choose(this.financings.map((id) => this.chain.financing(id)).filter((x): x is Financing => x !== undefined), i, wanted);
  }
  all<T>(prefix: string): T[] {
    return [...this.chain.state.entries()].filter(([k, v]) => k.startsWith(prefix) && v.value !== null).map(([, v]) => v.value as unknown as T);
  }
  count(out: Outcome, type: string): void {
    for (const k of [out.code, `${type}:${out.code}`]) this.codes.set(k, (this.codes.get(k) ?? 0) + 1);
  }
}

interface Step {
  readonly txs: Tx[];
  /** For the checks: the unfreeze it attempts and the credit line a confirm would charge. */
  readonly unfreezes?: string;
  readonly charges?: string;
  readonly race?: boolean;
}

function stepOf(w: World, o: Op): Step | undefined {
  const c = w.chain;
  switch (o.op) {
    case 'issue': {
      const supplier = SUPPLIERS[o.supplier]!;
      const receivableId = o.reuseId && w.receivables.length ? w.receivables[o.face % w.receivables.length]! : w.id('recv');
      const documents = o.docs.map((i, j) => {
        const d = DOCUMENTS[i]!;
        return { ...d, amount: o.wrongAmount && j === 0 ? String(Number(d.amount) + 1) : d.amount };
      });
      const dueDate = new Date(Date.parse(`${c.today}T00:00:00Z`) + o.dueIn * 86_400_000).toISOString().slice(0, 10);
      if (!w.receivables.includes(receivableId)) w.receivables.push(receivableId);
      return { txs: [tx(supplier, 'finance.receivable.issue', { receivableId, debtor: CORE, currency: 'CNY', faceValue: String(o.face), dueDate, documents })] };
    }
    case 'confirm': {
      const rec = w.receivable(o.r, (x) => x.status === 'issued');
      if (!rec) return undefined;
      return { txs: [tx(who(o.actor, rec.debtor), 'finance.receivable.confirm', { receivableId: rec.receivableId, creditLineId: LINES[o.line]! })], charges: LINES[o.line] };
    }
    case 'reject':
    case 'cancel': {
      const rec = w.receivable(o.r, (x) => x.status === 'issued');
      if (!rec) return undefined;
      return { txs: [tx(who(o.actor, o.op === 'reject' ? rec.debtor : rec.issuer), `finance.receivable.${o.op}`, { receivableId: rec.receivableId, reason: 'property test' })] };
    }
    case 'transfer': {
      const rec = w.receivable(o.r, unlockedConfirmed);
      if (!rec) return undefined;
      return { txs: [tx(who(o.actor, rec.holder), 'finance.receivable.transfer', { receivableId: rec.receivableId, to: ORGS[o.to]! })] };
    }
    case 'split': {
      const rec = w.receivable(o.r, (x) => unlockedConfirmed(x) && x.paidAmount === '0');
      if (!rec) return undefined;
      const face = BigInt(rec.faceValue);
      const total = BigInt(o.weights.reduce((s, x) => s + x, 0));
      const values = o.weights.map((x) => (face * BigInt(x)) / total);
      values[0] = values[0]! + face - values.reduce((s, x) => s + x, 0n) + BigInt(o.skew);
      const parts = values.map((v, i) => {
        const receivableId = w.id('part');
        w.receivables.push(receivableId);
        return { receivableId, faceValue: v < 0n ? '0' : v.toString(), holder: SPLIT_HOLDERS[o.holders[i]! % SPLIT_HOLDERS.length]! };
      });
      return { txs: [tx(who(o.actor, rec.holder), 'finance.receivable.split', { receivableId: rec.receivableId, parts })] };
    }
    case 'apply': {
      const rec = w.receivable(o.r, unlockedConfirmed);
      if (!rec) return undefined;
      const kind = KINDS[o.kind]!;
      const principal = kind === 'pledge' ? { principal: String(((BigInt(rec.faceValue) - BigInt(rec.paidAmount)) * BigInt(o.principalPct)) / 100n || 1n) } : {};
      const financiers = o.both ? BANKS : [BANKS[o.financier]!];
      return {
        txs: financiers.map((financier) => {
          const financingId = w.id('fin');
          w.financings.push(financingId);
          return tx(who(o.actor, rec.holder), 'finance.financing.apply', { financingId, assetKind: 'receivable', assetId: rec.receivableId, financier, kind, ...principal });
        }),
      };
    }
    case 'approve': {
      const f = w.financing(o.f, 'applied');
      if (!f) return undefined;
      return { txs: [tx(who(o.actor, f.financier), 'finance.financing.approve', { financingId: f.financingId, rateBps: o.rateBps, dayCount: o.act365 ? 'ACT/365F' : 'ACT/360', feeMinor: String(o.fee) })] };
    }
    case 'race': {
      // Two open applications of one receivable to different financiers, approved in one block.
      const open = w.financings.map((id) => c.financing(id)).filter((f): f is Financing => f?.status === 'applied');
      const assets = [...new Set(open.map((f) => f.assetId))].filter((a) => new Set(open.filter((f) => f.assetId === a).map((f) => f.financier)).size > 1);
      const asset = pick(assets, o.r);
      if (!asset) return undefined;
      const [a, b] = BANKS.map((bank) => open.find((f) => f.assetId === asset && f.financier === bank)!);
      const terms = { rateBps: o.rateBps, dayCount: 'ACT/360', feeMinor: '0' };
      return { txs: [tx(a!.financier, 'finance.financing.approve', { financingId: a!.financingId, ...terms }), tx(b!.financier, 'finance.financing.approve', { financingId: b!.financingId, ...terms })], race: true };
    }
    case 'disburse':
    case 'release':
    case 'recourse':
    case 'withdraw':
    case 'rejectFinancing': {
      const f =
        o.op === 'recourse'
          ? w.financingWhere(o.f, (x) => x.status === 'disbursed' && c.receivable(x.assetId)?.status === 'defaulted')
          : w.financing(o.f, ...{ disburse: ['approved'], release: ['approved', 'disbursed'], withdraw: ['applied'], rejectFinancing: ['applied'] }[o.op]);
      if (!f) return undefined;
      const signer = who(o.actor, o.op === 'withdraw' ? f.applicant : f.financier);
      const payload =
        o.op === 'disburse' ? { financingId: f.financingId, paymentReference: 'SWIFT' } : o.op === 'release' ? { financingId: f.financingId } : o.op === 'withdraw' ? { financingId: f.financingId } : { financingId: f.financingId, reason: 'property test' };
      return { txs: [tx(signer, `finance.financing.${o.op === 'rejectFinancing' ? 'reject' : o.op}`, payload)] };
    }
    case 'repay': {
      const rec = w.receivable(o.r, (x) => ['confirmed', 'overdue', 'defaulted'].includes(x.status));
      if (!rec) return undefined;
      const root = c.receivable(rec.rootId)!;
      const owed = leaves(c, root)
        .filter((l) => ['confirmed', 'overdue', 'defaulted'].includes(l.status) && !l.frozen)
        .reduce((s, l) => s + BigInt(l.faceValue) - BigInt(l.paidAmount), 0n);
      const amount = o.pct === 101 ? owed + 1n : (owed * BigInt(o.pct) + 99n) / 100n;
      return { txs: [tx(who(o.actor, root.debtor), 'finance.receivable.repay', { paymentId: w.id('pay'), rootId: root.receivableId, amount: (amount === 0n ? 1n : amount).toString(), paymentReference: 'wire' })] };
    }
    case 'freeze':
    case 'unfreeze': {
      const rec = w.receivable(o.r, (x) => (o.op === 'freeze') === !x.frozen);
      if (!rec) return undefined;
      return { txs: [tx(who(o.actor, REGULATOR), `finance.asset.${o.op}`, { assetKind: 'receivable', assetId: rec.receivableId, reason: 'property test' })], unfreezes: o.op === 'unfreeze' ? rec.receivableId : undefined };
    }
    case 'overdue':
    case 'default': {
      const rec = w.receivable(o.r, (x) => (o.op === 'overdue' ? x.status === 'confirmed' && x.dueDate < c.today : x.status === 'overdue' && addDays(x.dueDate, 30) <= c.today));
      if (!rec) return undefined;
      const natural = o.op === 'overdue' ? [rec.holder, rec.debtor, rec.encumbrance?.financier ?? rec.holder][o.r % 3] : [rec.holder, rec.encumbrance?.financier ?? rec.holder][o.r % 2];
      return { txs: [tx(who(o.actor, natural), o.op === 'overdue' ? 'finance.receivable.mark-overdue' : 'finance.receivable.declare-default', { receivableId: rec.receivableId, ...(o.op === 'default' ? { reason: 'property test' } : {}) })] };
    }
    case 'line':
      return { txs: [tx(BANKS[o.line]!, 'finance.credit-line.update', { creditLineId: LINES[o.line]!, limit: String(o.limit), status: o.suspend ? 'suspended' : 'active' })] };
    case 'advance':
      c.advanceDays(o.days);
      return undefined;
  }
}

function leaves(c: FinanceChain, root: Receivable): Receivable[] {
  if (root.status !== 'split') return [root];
  return root.children.flatMap((id) => leaves(c, c.receivable(id)!));
}

const LOCKING = ['approved', 'disbursed'];

/** Every invariant, after every step; `before` is the state before the step, `outs` its outcomes. */
function check(w: World, step: Step, outs: Outcome[], frozenBefore: Map<string, string>, financingsOfFrozen: Map<string, string>): void {
  const c = w.chain;
  const receivables = w.all<Receivable>('finance/receivable/');
  const financings = w.all<Financing>('finance/financing/');
  const byId = new Map(receivables.map((x) => [x.receivableId, x]));
  for (const out of outs) expect(out.code, out.detail).not.toBe('LEDGER.CONTRACT_FAILED');

  // Trees: children sum to their parent; every root's leaves sum to the root; paid within face.
  for (const x of receivables) {
    expect(BigInt(x.paidAmount) <= BigInt(x.faceValue), `${x.receivableId} paid over face`).toBe(true);
    expect(x.status === 'settled', `${x.receivableId} settled iff paid in full`).toBe(x.paidAmount === x.faceValue);
    if (x.status === 'split') {
      expect(x.children.length).toBeGreaterThanOrEqual(2);
      expect(x.paidAmount).toBe('0');
      const kids = x.children.map((id) => byId.get(id)!);
      for (const k of kids) expect([k.parentId, k.rootId, k.debtor, k.dueDate, k.creditLineId]).toEqual([x.receivableId, x.rootId, x.debtor, x.dueDate, x.creditLineId]);
      expect(kids.reduce((s, k) => s + BigInt(k.faceValue), 0n), `children of ${x.receivableId}`).toBe(BigInt(x.faceValue));
    }
    if (x.parentId === null) expect(leaves(c, x).reduce((s, l) => s + BigInt(l.faceValue), 0n), `leaves of root ${x.receivableId}`).toBe(BigInt(x.faceValue));
  }

  // Locks: each encumbrance is one approved or disbursed financing of that asset, and each such financing holds it.
  for (const x of receivables) {
    if (!x.encumbrance) continue;
    const f = c.financing(x.encumbrance.financingId)!;
    expect([f.assetId, f.financier, LOCKING.includes(f.status)], `lock of ${x.receivableId}`).toEqual([x.receivableId, x.encumbrance.financier, true]);
    expect(['confirmed', 'overdue', 'defaulted']).toContain(x.status);
  }
  const locking = financings.filter((f) => LOCKING.includes(f.status));
  for (const f of locking) expect(byId.get(f.assetId)?.encumbrance?.financingId, `financing ${f.financingId} holds no lock`).toBe(f.financingId);
  expect(new Set(locking.map((f) => f.assetId)).size, 'two approved or disbursed financings of one asset').toBe(locking.length);

  // Documents: backed = Σ face of the live roots listed, within the amount; every live root is listed.
  for (const d of w.all<UnderlyingDocument>('finance/document/')) {
    expect(BigInt(d.backed) <= BigInt(d.amount), `document ${d.hash} overcommitted`).toBe(true);
    expect(d.receivables.reduce((s, id) => s + BigInt(byId.get(id)!.faceValue), 0n)).toBe(BigInt(d.backed));
    for (const id of d.receivables) expect(['rejected', 'cancelled']).not.toContain(byId.get(id)!.status);
  }
  for (const x of receivables)
    if (x.parentId === null && !['rejected', 'cancelled'].includes(x.status)) for (const doc of x.documents) expect(c.document(doc.docType, doc.hash)?.receivables).toContain(x.receivableId);

  // Credit lines: used = Σ over the confirmed roots charged of face less settled leaves; a charge only within the limit.
  for (const line of w.all<CreditLine>('finance/credit-line/')) {
    const used = receivables
      .filter((x) => x.parentId === null && x.creditLineId === line.creditLineId)
      .reduce((s, root) => s + BigInt(root.faceValue) - leaves(c, root).filter((l) => l.status === 'settled').reduce((t, l) => t + BigInt(l.faceValue), 0n), 0n);
    expect(BigInt(line.used), `used of ${line.creditLineId}`).toBe(used);
  }
  if (step.charges && step.txs[0]!.type === 'finance.receivable.confirm' && outs[0]!.ok) {
    const line = c.creditLine(step.charges)!;
    expect(BigInt(line.used) <= BigInt(line.limit), `charge beyond the limit of ${line.creditLineId}`).toBe(true);
  }

  // Payments: allocations sum to the amount; all payments of a root = what its leaves were paid.
  const paidByRoot = new Map<string, bigint>();
  for (const p of w.all<Payment>('finance/payment/')) {
    expect(p.allocations.reduce((s, a) => s + BigInt(a.amount), 0n), `allocations of ${p.paymentId}`).toBe(BigInt(p.amount));
    for (const a of p.allocations) expect(BigInt(a.amount) > 0n).toBe(true);
    paidByRoot.set(p.rootId, (paidByRoot.get(p.rootId) ?? 0n) + BigInt(p.amount));
  }
  for (const x of receivables) if (x.parentId === null) expect(leaves(c, x).reduce((s, l) => s + BigInt(l.paidAmount), 0n), `paid of ${x.receivableId}`).toBe(paidByRoot.get(x.receivableId) ?? 0n);

  // Freeze: nothing frozen changed, except by its unfreeze (which changes only the freeze); nor did its financings.
  for (const [id, before] of frozenBefore) {
    const now = c.receivable(id)!;
    if (step.unfreezes === id && outs[0]!.ok) {
      const was = JSON.parse(before) as Receivable;
      expect({ ...now, frozen: was.frozen, updatedAtBlock: was.updatedAtBlock, lastTransactionId: was.lastTransactionId }).toEqual(was);
      expect(now.frozen).toBeNull();
    } else expect(JSON.stringify(now), `frozen ${id} changed`).toBe(before);
  }
  for (const [id, before] of financingsOfFrozen) expect(JSON.stringify(c.financing(id)), `financing ${id} of a frozen asset changed`).toBe(before);
}

describe('finance contracts under random operation sequences', () => {
  it('keep every total reconciled and every asset encumbered at most once', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 60, size: 'max' }), (ops) => {
        const w = new World();
        for (const o of ops) {
          const step = stepOf(w, o);
          if (!step) continue;
          const frozenBefore = new Map(w.all<Receivable>('finance/receivable/').filter((x) => x.frozen).map((x) => [x.receivableId, JSON.stringify(x)]));
          const financingsOfFrozen = new Map(w.all<Financing>('finance/financing/').filter((f) => frozenBefore.has(f.assetId)).map((f) => [f.financingId, JSON.stringify(f)]));
          const outs = w.chain.runBlock(...step.txs);
          outs.forEach((out, i) => w.count(out, step.txs[i]!.type));
          if (step.race) {
            expect(outs.every((x) => x.ok), 'both financiers of one receivable approved in one block').toBe(false);
            if (outs[0]!.ok) {
              expect(outs[1]!.code).toBe('FINANCE.ALREADY_ENCUMBERED');
              w.count({ ...outs[1]!, code: 'second refused' }, 'race');
            }
          }
          check(w, step, outs, frozenBefore, financingsOfFrozen);
          for (const [k, v] of w.codes) seen.set(k, (seen.get(k) ?? 0) + v);
          w.codes.clear();
        }
      }),
      // A fixed seed: the same 200 sequences on every run, so the coverage check below cannot flake (one run in CI
      // missed declare-default). FINANCE_PROPERTY_SEED explores others; fast-check prints the seed of a failure.
      { numRuns: 200, seed: Number(process.env['FINANCE_PROPERTY_SEED'] ?? 20_261_206) },
    );
    if (process.env['FINANCE_PROPERTY_STATS']) console.log(JSON.stringify(Object.fromEntries([...seen.entries()].sort()), null, 1));
    // The sequences reached the interesting cases: a test that never financed or never raced proves nothing.
    for (const code of [
      'race:second refused',
      'finance.receivable.confirm:VALID',
      'finance.receivable.transfer:VALID',
      'finance.receivable.split:VALID',
      'finance.receivable.reject:VALID',
      'finance.receivable.cancel:VALID',
      'finance.financing.approve:VALID',
      'finance.financing.disburse:VALID',
      'finance.financing.release:VALID',
      'finance.financing.withdraw:VALID',
      'finance.financing.reject:VALID',
      'finance.receivable.repay:VALID',
      'finance.receivable.mark-overdue:VALID',
      'finance.receivable.declare-default:VALID',
      'finance.asset.freeze:VALID',
      'finance.asset.unfreeze:VALID',
      'FINANCE.ALREADY_ENCUMBERED',
      'FINANCE.ENCUMBERED',
      'FINANCE.FROZEN',
      'FINANCE.CREDIT_LINE_EXCEEDED',
      'FINANCE.DOCUMENT_OVERCOMMITTED',
      'FINANCE.DOCUMENT_MISMATCH',
      'FINANCE.OVERPAYMENT',
      'FINANCE.SPLIT_SUM_MISMATCH',
      'FINANCE.NOT_HOLDER',
      'FINANCE.NOT_OVERDUE',
      'FINANCE.DUPLICATE_ID',
    ])
      expect(seen.get(code) ?? 0, code).toBeGreaterThan(0);
    // 200 sequences of up to 60 blocks each: seconds of work, more on a loaded machine.
  }, 120_000);
});
