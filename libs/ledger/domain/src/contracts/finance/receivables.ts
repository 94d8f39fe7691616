import { reject } from '../agent-keys';
import { eventKeyOf } from '../provenance';
import { mayActWith } from '../roles';
import type { ContractContext, ContractHandler, ContractOutcome, StateWrite } from '../types';
import { type AssetRecord, assetOf, assetWrite, type FinanceableAsset, financeInvalid, financePayloadOf, idOf, isMember, isOutcome, notFrozen, textOf, unlocked } from './assets';
import { creditLineOf, creditLineWrite, refusedCharge } from './credit-lines';
import { amountField, creatorOf, currencyField, dateField, FINANCING_MANAGE_PERMISSION, mayActWithAny, RECEIVABLE_MANAGE_PERMISSION, recordOf, recordWrite, todayOf } from './fields';
import { closedFinancing, FINANCING_KINDS, type FinancingKind, financingOf, financingWrite } from './financing';
import { addDays, amountOf, daysBetween, toMinor } from './money';

/**
 * Receivable certificates (issue 6): the digital debt certificate of
 * supply-chain finance. A supplier issues one on a debtor (a core enterprise)
 * against underlying documents, each by hash and amount; the debtor confirms
 * it — charging one of its credit lines — or rejects it; the holder transfers
 * it or splits it among its own suppliers (children inherit root, issuer,
 * debtor, currency, due date, documents and credit line; their face values sum
 * exactly to the parent's, and the parent ends `split`); the debtor's
 * repayment of a root is allocated over the tree's live leaves to their
 * holders or their financiers; overdue and default follow the due date. State:
 *
 *   finance/receivable/<receivableId>        → Receivable
 *   finance/document/<docType>/<sha256hex>   → UnderlyingDocument
 *   finance/payment/<paymentId>              → Payment
 *
 *   issued ──confirm (debtor)──→ confirmed ──split (holder)──→ split (parent ends; children confirmed)
 *     ├──reject (debtor)──→ rejected   │ ├──repay in full──→ settled
 *     └──cancel (issuer)──→ cancelled  │ └──mark-overdue (after the due date)──→ overdue ──repay in full──→ settled
 *                                      └ transfer (holder) keeps it confirmed     └──declare-default (≥ 30 days)──→ defaulted ──repay in full──→ settled
 *
 * A document's `backed` — Σ face values of the roots issued against it and
 * neither rejected nor cancelled — never exceeds its amount. Every transaction
 * on a frozen receivable is refused `FINANCE.FROZEN` (repayment skips frozen
 * leaves); transfer, split and a second financing also need it unencumbered.
 */
export type ReceivableStatus = 'issued' | 'confirmed' | 'split' | 'settled' | 'overdue' | 'defaulted' | 'rejected' | 'cancelled';
export type DocType = 'purchase-order' | 'invoice' | 'delivery' | 'contract' | 'other';
export const DOC_TYPES: readonly DocType[] = ['purchase-order', 'invoice', 'delivery', 'contract', 'other'];
export const MAX_DOCUMENTS = 20;
export const MIN_SPLIT_PARTS = 2;
export const MAX_SPLIT_PARTS = 50;
/** Days after the due date from which an overdue receivable may be declared defaulted. */
export const DEFAULT_AFTER_DAYS = 30;
/** The statuses of a leaf that still owes: repayment is allocated over these. */
export const LIVE_STATUSES: readonly ReceivableStatus[] = ['confirmed', 'overdue', 'defaulted'];

export interface ReceivableDocument {
  readonly docType: DocType;
  /** SHA-256 of the document, lower-case hex. */
  readonly hash: string;
  readonly amount: string;
  /** A delivery's EPCIS event anchored in provenance, when given. */
  readonly eventId?: string;
}

export interface Receivable extends AssetRecord {
  readonly receivableId: string;
  readonly rootId: string;
  readonly parentId: string | null;
  readonly children: readonly string[];
  /** The supplier that issued the root. */
  readonly issuer: string;
  readonly debtor: string;
  readonly holder: string;
  readonly currency: string;
  readonly faceValue: string;
  readonly paidAmount: string;
  readonly dueDate: string;
  /** The root's documents; children copy them. */
  readonly documents: readonly ReceivableDocument[];
  /** Set at the root's confirmation and inherited. */
  readonly creditLineId: string | null;
  readonly status: ReceivableStatus;
}

export interface UnderlyingDocument {
  readonly docType: DocType;
  readonly hash: string;
  readonly currency: string;
  readonly amount: string;
  /** Σ face values of the roots in `receivables`. */
  readonly backed: string;
  /** The roots issued against it and neither rejected nor cancelled. */
  readonly receivables: readonly string[];
}

export interface PaymentAllocation {
  readonly receivableId: string;
  /** The leaf's financier when a discounting, factoring or pledge encumbers it, else its holder. */
  readonly payee: string;
  readonly amount: string;
  readonly financingId: string | null;
}

export interface Payment {
  readonly paymentId: string;
  readonly rootId: string;
  readonly debtor: string;
  readonly currency: string;
  readonly amount: string;
  readonly paymentReference: string;
  /** Σ amounts = amount, in receivableId order. */
  readonly allocations: readonly PaymentAllocation[];
  /** Frozen leaves the payment skipped (their share stays outstanding). */
  readonly skippedFrozen: readonly string[];
  readonly atBlock: number;
  readonly at: string;
}

export const receivableKeyOf = (receivableId: string) => `finance/receivable/${receivableId}`;
export const documentKeyOf = (docType: string, hash: string) => `finance/document/${docType}/${hash}`;
export const paymentKeyOf = (paymentId: string) => `finance/payment/${paymentId}`;

const HASH = /^[0-9a-f]{64}$/;
const EVENT_ID = /^[\x21-\x7e]{1,300}$/;

export const receivableOf = (ctx: ContractContext, receivableId: string) => assetOf<Receivable>(ctx, 'receivable', receivableId);
const write = (ctx: ContractContext, r: Receivable) => assetWrite(ctx, 'receivable', r.receivableId, r);
export const outstandingOf = (r: Pick<Receivable, 'faceValue' | 'paidAmount'>): bigint => toMinor(r.faceValue) - toMinor(r.paidAmount);

/** How financing sees a receivable: its holder applies; only a confirmed one, for what is outstanding, until its due date. */
export const receivableAsset: FinanceableAsset<Receivable> = {
  kind: 'receivable',
  holderOf: (r) => r.holder,
  notFinanceable: (r) => (r.status === 'confirmed' ? undefined : reject('FINANCE.INVALID_STATE', `receivable ${r.receivableId} is ${r.status}; only a confirmed receivable is financed`)),
  currencyOf: (r) => r.currency,
  valueOf: (r) => amountOf(outstandingOf(r)),
  dueDateOf: (r) => r.dueDate,
};

// The documents of an issue, checked for shape and, for deliveries, their provenance anchor.
function documentsOf(ctx: ContractContext, value: unknown): ReceivableDocument[] | ContractOutcome {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_DOCUMENTS) return financeInvalid(`payload.documents must list 1-${MAX_DOCUMENTS} documents { docType, hash, amount, eventId? }`);
  const out: ReceivableDocument[] = [];
  const seen = new Set<string>();
  for (const [i, d] of value.entries()) {
    const at = `payload.documents[${i}]`;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return financeInvalid(`${at} must be { docType, hash, amount, eventId? }`);
    const doc = d as Record<string, unknown>;
    const extra = Object.keys(doc).filter((k) => !['docType', 'hash', 'amount', 'eventId'].includes(k));
    if (extra.length) return financeInvalid(`${at} has unexpected field(s): ${extra.join(', ')}`);
    if (!DOC_TYPES.includes(doc['docType'] as DocType)) return financeInvalid(`${at}.docType must be one of ${DOC_TYPES.join(', ')}`);
    if (typeof doc['hash'] !== 'string' || !HASH.test(doc['hash'])) return financeInvalid(`${at}.hash must be a SHA-256 in lower-case hex`);
    const amount = amountField(doc['amount'], `documents[${i}].amount`);
    if (isOutcome(amount)) return amount;
    const docType = doc['docType'] as DocType;
    const key = documentKeyOf(docType, doc['hash']);
    if (seen.has(key)) return financeInvalid(`${at} appears twice`);
    seen.add(key);
    const eventId = doc['eventId'];
    if (eventId !== undefined) {
      if (docType !== 'delivery') return financeInvalid(`${at}.eventId is for a delivery document only`);
      if (typeof eventId !== 'string' || !EVENT_ID.test(eventId)) return financeInvalid(`${at}.eventId must be an EPCIS event id of 1-300 printable characters`);
      if (!ctx.state.get(eventKeyOf(eventId))) return reject('FINANCE.UNKNOWN_EVENT', `${at}.eventId ${eventId} is not anchored in provenance`);
    }
    out.push({ docType, hash: doc['hash'], amount, ...(eventId !== undefined ? { eventId: eventId as string } : {}) });
  }
  return out;
}

/**
 * `finance.receivable.issue` `{ receivableId, debtor, currency, faceValue, dueDate, documents }` — by the
 * supplier, which becomes issuer and holder; on another member, due after today; each document backs at most
 * its amount.
 */
export const receivableIssueContract: ContractHandler = {
  type: 'finance.receivable.issue',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, RECEIVABLE_MANAGE_PERMISSION, 'issues its receivables');
    if (denied) return denied;
    const payload = financePayloadOf(ctx, ['receivableId', 'debtor', 'currency', 'faceValue', 'dueDate', 'documents']);
    if (isOutcome(payload)) return payload;
    const receivableId = idOf(payload['receivableId'], 'receivableId');
    if (isOutcome(receivableId)) return receivableId;
    const issuer = creatorOf(ctx);
    const debtor = payload['debtor'];
    if (!isMember(ctx, debtor) || debtor === issuer) return financeInvalid('payload.debtor must be a member organization other than the issuer');
    const currency = currencyField(payload['currency']);
    if (isOutcome(currency)) return currency;
    const faceValue = amountField(payload['faceValue'], 'faceValue');
    if (isOutcome(faceValue)) return faceValue;
    const dueDate = dateField(payload['dueDate'], 'dueDate');
    if (isOutcome(dueDate)) return dueDate;
    if (daysBetween(todayOf(ctx), dueDate) < 1) return financeInvalid(`payload.dueDate (${dueDate}) must be after today (${todayOf(ctx)}, the block's UTC date)`);
    const documents = documentsOf(ctx, payload['documents']);
    if (isOutcome(documents)) return documents;
    if (receivableOf(ctx, receivableId)) return reject('FINANCE.DUPLICATE_ID', `receivable ${receivableId} already exists`);
    const writes: StateWrite[] = [];
    for (const doc of documents) {
      const key = documentKeyOf(doc.docType, doc.hash);
      const seen = recordOf<UnderlyingDocument>(ctx, key);
      if (seen && (seen.amount !== doc.amount || seen.currency !== currency))
        return reject('FINANCE.DOCUMENT_MISMATCH', `${doc.docType} ${doc.hash} is on the chain for ${seen.amount} ${seen.currency}, not ${doc.amount} ${currency}`);
      const backed = toMinor(seen?.backed ?? '0') + toMinor(faceValue);
      if (backed > toMinor(doc.amount))
        return reject('FINANCE.DOCUMENT_OVERCOMMITTED', `${doc.docType} ${doc.hash} of ${doc.amount} already backs ${seen?.backed ?? '0'}; ${faceValue} more exceeds it`);
      const next: UnderlyingDocument = { docType: doc.docType, hash: doc.hash, currency, amount: doc.amount, backed: amountOf(backed), receivables: [...(seen?.receivables ?? []), receivableId] };
      writes.push(recordWrite(key, next));
    }
    const receivable: Receivable = {
      receivableId,
      rootId: receivableId,
      parentId: null,
      children: [],
      issuer,
      debtor,
      holder: issuer,
      currency,
      faceValue,
      paidAmount: '0',
      dueDate,
      documents,
      creditLineId: null,
      status: 'issued',
      frozen: null,
      encumbrance: null,
      createdAtBlock: ctx.blockNumber,
      updatedAtBlock: ctx.blockNumber,
      lastTransactionId: ctx.transactionId,
    };
    return { ok: true, writes: [write(ctx, receivable), ...writes] };
  },
};

// The receivable named by payload.receivableId, not frozen, after the permission and payload checks.
function existing(
  ctx: ContractContext,
  fields: readonly string[],
  what: string,
  permissions: readonly string[] = [RECEIVABLE_MANAGE_PERMISSION],
  requiredReason = true,
): { payload: Record<string, unknown>; receivable: Receivable } | ContractOutcome {
  const denied = mayActWithAny(ctx, permissions, what);
  if (denied) return denied;
  const payload = financePayloadOf(ctx, fields);
  if (isOutcome(payload)) return payload;
  const receivableId = idOf(payload['receivableId'], 'receivableId');
  if (isOutcome(receivableId)) return receivableId;
  if (fields.includes('reason')) {
    const reason = textOf(payload['reason'], 'reason', requiredReason);
    if (isOutcome(reason)) return reason;
  }
  const receivable = receivableOf(ctx, receivableId);
  if (!receivable) return reject('FINANCE.UNKNOWN_RECEIVABLE', `receivable ${receivableId} does not exist`);
  const frozen = notFrozen(receivable, `receivable ${receivableId}`);
  if (frozen) return frozen;
  return { payload, receivable };
}

const notIn = (r: Receivable, ...statuses: ReceivableStatus[]): ContractOutcome | undefined =>
  statuses.includes(r.status) ? undefined : reject('FINANCE.INVALID_STATE', `receivable ${r.receivableId} is ${r.status}; this needs it ${statuses.join(' or ')}`);

/** `finance.receivable.confirm` `{ receivableId, creditLineId }` — by the debtor, while issued: charges the credit line. */
export const receivableConfirmContract: ContractHandler = {
  type: 'finance.receivable.confirm',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['receivableId', 'creditLineId'], 'confirms its receivables');
    if (isOutcome(found)) return found;
    const { payload, receivable } = found;
    const creditLineId = idOf(payload['creditLineId'], 'creditLineId');
    if (isOutcome(creditLineId)) return creditLineId;
    if (receivable.debtor !== creatorOf(ctx)) return reject('FINANCE.NOT_DEBTOR', `only the debtor ${receivable.debtor} confirms receivable ${receivable.receivableId}`);
    const state = notIn(receivable, 'issued');
    if (state) return state;
    const line = creditLineOf(ctx, creditLineId);
    if (!line) return reject('FINANCE.UNKNOWN_CREDIT_LINE', `credit line ${creditLineId} does not exist`);
    const refused = refusedCharge(ctx, line, receivable.debtor, receivable.currency, receivable.faceValue);
    if (refused) return refused;
    return {
      ok: true,
      writes: [write(ctx, { ...receivable, status: 'confirmed', creditLineId }), creditLineWrite(ctx, { ...line, used: amountOf(toMinor(line.used) + toMinor(receivable.faceValue)) })],
    };
  },
};

// Reject and cancel: the issued root ends and gives its documents' backing back.
function released(ctx: ContractContext, receivable: Receivable, status: 'rejected' | 'cancelled'): ContractOutcome {
  const writes: StateWrite[] = [write(ctx, { ...receivable, status })];
  for (const doc of receivable.documents) {
    const key = documentKeyOf(doc.docType, doc.hash);
    const record = recordOf<UnderlyingDocument>(ctx, key);
    if (!record?.receivables.includes(receivable.receivableId)) continue;
    writes.push(recordWrite(key, { ...record, backed: amountOf(toMinor(record.backed) - toMinor(receivable.faceValue)), receivables: record.receivables.filter((id) => id !== receivable.receivableId) }));
  }
  return { ok: true, writes };
}

// Reject (by the debtor) and cancel (by the issuer) of an issued root: it ends and gives its backing back.
function ending(type: string, role: 'debtor' | 'issuer', status: 'rejected' | 'cancelled', verb: string): ContractHandler {
  return {
    type,
    configuration: false,
    execute(ctx) {
      const found = existing(ctx, ['receivableId', 'reason'], `${verb} receivables`);
      if (isOutcome(found)) return found;
      const { receivable } = found;
      if (receivable[role] !== creatorOf(ctx))
        return reject(role === 'debtor' ? 'FINANCE.NOT_DEBTOR' : 'FINANCE.NOT_ISSUER', `only the ${role} ${receivable[role]} ${verb} receivable ${receivable.receivableId}`);
      return notIn(receivable, 'issued') ?? released(ctx, receivable, status);
    },
  };
}

/** `finance.receivable.reject` `{ receivableId, reason }` — by the debtor, while issued. */
export const receivableRejectContract = ending('finance.receivable.reject', 'debtor', 'rejected', 'rejects');
/** `finance.receivable.cancel` `{ receivableId, reason }` — by the issuer, while issued. */
export const receivableCancelContract = ending('finance.receivable.cancel', 'issuer', 'cancelled', 'cancels');

// A new holder: a member other than the debtor (which would hold its own debt).
function holderField(ctx: ContractContext, value: unknown, field: string, debtor: string): string | ContractOutcome {
  if (!isMember(ctx, value)) return financeInvalid(`payload.${field} must be a member organization`);
  if (value === debtor) return financeInvalid(`payload.${field} cannot be the debtor ${debtor}`);
  return value;
}

/** `finance.receivable.transfer` `{ receivableId, to }` — by the holder, confirmed, unencumbered, not frozen. */
export const receivableTransferContract: ContractHandler = {
  type: 'finance.receivable.transfer',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['receivableId', 'to'], 'transfers its receivables');
    if (isOutcome(found)) return found;
    const { payload, receivable } = found;
    if (receivable.holder !== creatorOf(ctx)) return reject('FINANCE.NOT_HOLDER', `only the holder ${receivable.holder} transfers receivable ${receivable.receivableId}`);
    const to = holderField(ctx, payload['to'], 'to', receivable.debtor);
    if (isOutcome(to)) return to;
    if (to === receivable.holder) return financeInvalid(`payload.to is already the holder of receivable ${receivable.receivableId}`);
    const refused = notIn(receivable, 'confirmed') ?? unlocked(receivable, `receivable ${receivable.receivableId}`);
    if (refused) return refused;
    return { ok: true, writes: [write(ctx, { ...receivable, holder: to })] };
  },
};

/**
 * `finance.receivable.split` `{ receivableId, parts: [{ receivableId, faceValue, holder }] (2-50) }` — by the
 * holder, confirmed, unpaid, unencumbered, not frozen; the parts' face values sum to the parent's exactly.
 */
export const receivableSplitContract: ContractHandler = {
  type: 'finance.receivable.split',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['receivableId', 'parts'], 'splits its receivables');
    if (isOutcome(found)) return found;
    const { payload, receivable: parent } = found;
    if (parent.holder !== creatorOf(ctx)) return reject('FINANCE.NOT_HOLDER', `only the holder ${parent.holder} splits receivable ${parent.receivableId}`);
    const parts = payload['parts'];
    if (!Array.isArray(parts) || parts.length < MIN_SPLIT_PARTS || parts.length > MAX_SPLIT_PARTS)
      return financeInvalid(`payload.parts must list ${MIN_SPLIT_PARTS}-${MAX_SPLIT_PARTS} parts { receivableId, faceValue, holder }`);
    const children: Receivable[] = [];
    const ids = new Set<string>([parent.receivableId]);
    let sum = 0n;
    for (const [i, p] of parts.entries()) {
      const at = `parts[${i}]`;
      if (typeof p !== 'object' || p === null || Array.isArray(p)) return financeInvalid(`payload.${at} must be { receivableId, faceValue, holder }`);
      const part = p as Record<string, unknown>;
      const extra = Object.keys(part).filter((k) => !['receivableId', 'faceValue', 'holder'].includes(k));
      if (extra.length) return financeInvalid(`payload.${at} has unexpected field(s): ${extra.join(', ')}`);
      const id = idOf(part['receivableId'], `${at}.receivableId`);
      if (isOutcome(id)) return id;
      if (ids.has(id)) return financeInvalid(`payload.${at}.receivableId ${id} appears twice (or is the parent's)`);
      ids.add(id);
      const faceValue = amountField(part['faceValue'], `${at}.faceValue`);
      if (isOutcome(faceValue)) return faceValue;
      const holder = holderField(ctx, part['holder'], `${at}.holder`, parent.debtor);
      if (isOutcome(holder)) return holder;
      sum += toMinor(faceValue);
      children.push({
        ...parent,
        receivableId: id,
        parentId: parent.receivableId,
        children: [],
        holder,
        faceValue,
        paidAmount: '0',
        status: 'confirmed',
        frozen: null,
        encumbrance: null,
        createdAtBlock: ctx.blockNumber,
      });
    }
    // A retry of a split that went through finds its parts: a duplicate, not a state error.
    for (const child of children) if (receivableOf(ctx, child.receivableId)) return reject('FINANCE.DUPLICATE_ID', `receivable ${child.receivableId} already exists`);
    const refused = notIn(parent, 'confirmed') ?? unlocked(parent, `receivable ${parent.receivableId}`);
    if (refused) return refused;
    if (parent.paidAmount !== '0') return reject('FINANCE.INVALID_STATE', `receivable ${parent.receivableId} is partly paid (${parent.paidAmount}); only an unpaid one splits`);
    if (sum !== toMinor(parent.faceValue)) return reject('FINANCE.SPLIT_SUM_MISMATCH', `the parts sum to ${amountOf(sum)}, receivable ${parent.receivableId} is worth ${parent.faceValue}`);
    return { ok: true, writes: [write(ctx, { ...parent, status: 'split', children: children.map((c) => c.receivableId) }), ...children.map((c) => write(ctx, c))] };
  },
};

/** The leaves of `root`'s tree (itself when it is not split), in receivableId order. */
export function leavesOf(ctx: ContractContext, root: Receivable): Receivable[] {
  const out: Receivable[] = [];
  const stack: Receivable[] = [root];
  while (stack.length) {
    const node = stack.pop() as Receivable;
    if (node.status !== 'split') {
      out.push(node);
      continue;
    }
    for (const id of node.children) {
      const child = receivableOf(ctx, id);
      if (child) stack.push(child);
    }
  }
  return out.sort((a, b) => (a.receivableId < b.receivableId ? -1 : a.receivableId > b.receivableId ? 1 : 0));
}

const isFinancingLock = (kind: string | undefined): kind is FinancingKind => FINANCING_KINDS.includes(kind as FinancingKind);

/**
 * `finance.receivable.repay` `{ paymentId, rootId, amount, paymentReference }` — by the debtor. The amount is
 * allocated over the root's live leaves (confirmed, overdue, defaulted) in receivableId order, each up to what it
 * still owes, to the leaf's financier when a financing encumbers it, else to its holder; frozen leaves are skipped.
 * A leaf paid in full is settled: its financing is repaid and the lock ends, and the credit line gets its face
 * value back. More than the payable leaves owe is refused (`FINANCE.OVERPAYMENT`).
 */
export const receivableRepayContract: ContractHandler = {
  type: 'finance.receivable.repay',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, RECEIVABLE_MANAGE_PERMISSION, 'repays receivables on it');
    if (denied) return denied;
    const payload = financePayloadOf(ctx, ['paymentId', 'rootId', 'amount', 'paymentReference']);
    if (isOutcome(payload)) return payload;
    const paymentId = idOf(payload['paymentId'], 'paymentId');
    if (isOutcome(paymentId)) return paymentId;
    const rootId = idOf(payload['rootId'], 'rootId');
    if (isOutcome(rootId)) return rootId;
    const amount = amountField(payload['amount'], 'amount');
    if (isOutcome(amount)) return amount;
    const paymentReference = textOf(payload['paymentReference'], 'paymentReference', true);
    if (isOutcome(paymentReference)) return paymentReference;
    if (recordOf<Payment>(ctx, paymentKeyOf(paymentId))) return reject('FINANCE.DUPLICATE_ID', `payment ${paymentId} already exists`);
    const root = receivableOf(ctx, rootId);
    if (!root) return reject('FINANCE.UNKNOWN_RECEIVABLE', `receivable ${rootId} does not exist`);
    if (root.rootId !== root.receivableId) return financeInvalid(`payload.rootId must name a root; ${rootId} is part of ${root.rootId}`);
    if (root.debtor !== creatorOf(ctx)) return reject('FINANCE.NOT_DEBTOR', `only the debtor ${root.debtor} repays receivable ${rootId}`);
    if (['issued', 'rejected', 'cancelled'].includes(root.status)) return reject('FINANCE.INVALID_STATE', `receivable ${rootId} is ${root.status}; only a confirmed one is repaid`);
    const live = leavesOf(ctx, root).filter((leaf) => LIVE_STATUSES.includes(leaf.status));
    const payable = live.filter((leaf) => !leaf.frozen);
    const skippedFrozen = live.filter((leaf) => leaf.frozen).map((leaf) => leaf.receivableId);
    const owed = payable.reduce((s, leaf) => s + outstandingOf(leaf), 0n);
    if (toMinor(amount) > owed)
      return reject('FINANCE.OVERPAYMENT', `${amount} exceeds the ${amountOf(owed)} the payable leaves of ${rootId} owe${skippedFrozen.length ? ` (frozen and skipped: ${skippedFrozen.join(', ')})` : ''}`);
    const writes: StateWrite[] = [];
    const allocations: PaymentAllocation[] = [];
    let left = toMinor(amount);
    let settledFace = 0n;
    for (const leaf of payable) {
      if (left === 0n) break;
      const share = outstandingOf(leaf) < left ? outstandingOf(leaf) : left;
      if (share === 0n) continue;
      left -= share;
      const lock = leaf.encumbrance;
      const financed = lock && isFinancingLock(lock.kind) ? lock : null;
      allocations.push({ receivableId: leaf.receivableId, payee: financed ? financed.financier : leaf.holder, amount: amountOf(share), financingId: financed ? financed.financingId : null });
      const paidAmount = amountOf(toMinor(leaf.paidAmount) + share);
      if (paidAmount !== leaf.faceValue) {
        writes.push(write(ctx, { ...leaf, paidAmount }));
        continue;
      }
      settledFace += toMinor(leaf.faceValue);
      writes.push(write(ctx, { ...leaf, paidAmount, status: 'settled', encumbrance: financed ? null : leaf.encumbrance }));
      const financing = financed ? financingOf(ctx, financed.financingId) : undefined;
      if (financing) writes.push(financingWrite(ctx, closedFinancing(ctx, financing, 'repaid')));
    }
    const line = settledFace > 0n && root.creditLineId ? creditLineOf(ctx, root.creditLineId) : undefined;
    if (line) writes.push(creditLineWrite(ctx, { ...line, used: amountOf(toMinor(line.used) - settledFace) }));
    const payment: Payment = { paymentId, rootId, debtor: root.debtor, currency: root.currency, amount, paymentReference: paymentReference as string, allocations, skippedFrozen, atBlock: ctx.blockNumber, at: ctx.blockTimestamp };
    writes.push(recordWrite(paymentKeyOf(paymentId), payment));
    return { ok: true, writes };
  },
};

/** `finance.receivable.mark-overdue` `{ receivableId }` — by its holder, financier or debtor, confirmed and past its due date. */
export const receivableMarkOverdueContract: ContractHandler = {
  type: 'finance.receivable.mark-overdue',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['receivableId'], 'marks receivables overdue', [RECEIVABLE_MANAGE_PERMISSION, FINANCING_MANAGE_PERMISSION]);
    if (isOutcome(found)) return found;
    const { receivable } = found;
    const parties = [receivable.holder, receivable.debtor, ...(receivable.encumbrance ? [receivable.encumbrance.financier] : [])];
    if (!parties.includes(creatorOf(ctx))) return reject('FINANCE.NOT_PARTY', `only the holder, its financier or the debtor (${parties.join(', ')}) marks receivable ${receivable.receivableId} overdue`);
    const state = notIn(receivable, 'confirmed');
    if (state) return state;
    const today = todayOf(ctx);
    if (today <= receivable.dueDate) return reject('FINANCE.NOT_OVERDUE', `receivable ${receivable.receivableId} is due on ${receivable.dueDate}; today is ${today}`);
    return { ok: true, writes: [write(ctx, { ...receivable, status: 'overdue' })] };
  },
};

/** `finance.receivable.declare-default` `{ receivableId, reason }` — by its holder or financier, overdue and at least 30 days past due. */
export const receivableDeclareDefaultContract: ContractHandler = {
  type: 'finance.receivable.declare-default',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['receivableId', 'reason'], 'declares receivables defaulted', [RECEIVABLE_MANAGE_PERMISSION, FINANCING_MANAGE_PERMISSION]);
    if (isOutcome(found)) return found;
    const { receivable } = found;
    const parties = [receivable.holder, ...(receivable.encumbrance ? [receivable.encumbrance.financier] : [])];
    if (!parties.includes(creatorOf(ctx))) return reject('FINANCE.NOT_PARTY', `only the holder or its financier (${parties.join(', ')}) declares receivable ${receivable.receivableId} defaulted`);
    const state = notIn(receivable, 'overdue');
    if (state) return state;
    const today = todayOf(ctx);
    const from = addDays(receivable.dueDate, DEFAULT_AFTER_DAYS);
    if (today < from) return reject('FINANCE.NOT_OVERDUE', `receivable ${receivable.receivableId} may be declared defaulted from ${from} (${DEFAULT_AFTER_DAYS} days after its due date); today is ${today}`);
    return { ok: true, writes: [write(ctx, { ...receivable, status: 'defaulted' })] };
  },
};

export const receivableContracts: readonly ContractHandler[] = [
  receivableIssueContract,
  receivableConfirmContract,
  receivableRejectContract,
  receivableCancelContract,
  receivableTransferContract,
  receivableSplitContract,
  receivableRepayContract,
  receivableMarkOverdueContract,
  receivableDeclareDefaultContract,
];
