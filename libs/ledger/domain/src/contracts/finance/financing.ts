import { reject } from '../agent-keys';
import { mayActWith } from '../roles';
import type { ContractContext, ContractHandler, ContractOutcome, StateWrite } from '../types';
import { type AssetKind, type AssetRecord, assetOf, assetWrite, type FinanceableAsset, financeInvalid, financePayloadOf, idOf, isMember, isOutcome, notFrozen, textOf, unlocked } from './assets';
import { amountField, creatorOf, FINANCING_MANAGE_PERMISSION, recordOf, recordWrite, todayOf, unknownAsset } from './fields';
import { amountOf, DAY_COUNTS, type DayCount, daysBetween, MAX_RATE_BPS, simpleInterest, toMinor } from './money';

/**
 * Financing of an asset (issue 6): the holder applies to a financier for
 * discounting, factoring or a pledge loan; the financier approves — which puts
 * the encumbrance lock on the asset, so no second financing, transfer, split
 * or delivery can follow — or rejects; it disburses, and the lock ends when
 * the asset is repaid, when the financier releases it, or by recourse. State:
 *
 *   finance/financing/<financingId> → Financing
 *
 *   applied ──approve (financier)──→ approved ──disburse──→ disbursed
 *     ├──reject (financier)──→ rejected      │                 ├── repaid    (the debtor's repayment settles the asset)
 *     └──withdraw (applicant)─→ withdrawn    └─── release ─────┼── released  (by the financier)
 *                                                              └── recourse (asset defaulted, recourse: true)
 *
 * The contracts are generic over asset kinds: each kind's module exports a
 * `FinanceableAsset` adapter (who may apply, whether it can be financed, its
 * value, currency and due date) and `financingContractsFor(adapters)` builds
 * the handlers over the kinds given. Several applications for one asset may be
 * open at once (the holder shops around); the first approval takes the lock
 * and every later one — in the same block too — is refused
 * `FINANCE.ALREADY_ENCUMBERED`.
 *
 * Terms at approval, with money.ts: `days` = dueDate − today (actual days,
 * today = the block timestamp's UTC date), `discount` (discounting,
 * factoring) = faceValue × rateBps × days / (10 000 × basis), basis 360
 * (ACT/360) or 365 (ACT/365F), rounded once half-even; the advance
 * `disbursedAmount` = faceValue − discount − fee. A pledge lends `principal`
 * (≤ faceValue): `interest` = principal × rateBps × days / (10 000 × basis)
 * the same way, due at maturity, and `disbursedAmount` = principal − fee.
 */
export type FinancingKind = 'discounting' | 'factoring' | 'pledge';
export const FINANCING_KINDS: readonly FinancingKind[] = ['discounting', 'factoring', 'pledge'];
export type FinancingStatus = 'applied' | 'approved' | 'rejected' | 'withdrawn' | 'disbursed' | 'repaid' | 'released' | 'recourse';
/** The statuses in which a financing holds its asset's encumbrance lock. */
export const LOCKING_STATUSES: readonly FinancingStatus[] = ['approved', 'disbursed'];

/** Recourse when the application does not say: discounting and pledges are with recourse, factoring without. */
export const DEFAULT_RECOURSE: Record<FinancingKind, boolean> = { discounting: true, factoring: false, pledge: true };

export interface Financing {
  readonly financingId: string;
  readonly assetKind: AssetKind;
  readonly assetId: string;
  /** The asset's holder (lessor) that applied, and the organization the financier has recourse against. */
  readonly applicant: string;
  readonly financier: string;
  readonly kind: FinancingKind;
  readonly recourse: boolean;
  readonly currency: string;
  /** The asset's value at application (a receivable's outstanding face value). */
  readonly faceValue: string;
  /** Pledge: the loan requested (≤ faceValue); discounting and factoring: faceValue. */
  readonly principal: string;
  /** The asset's due date at application: the end of the term. */
  readonly dueDate: string;
  readonly rateBps: number | null;
  readonly dayCount: DayCount | null;
  readonly feeMinor: string | null;
  readonly discount: string | null;
  readonly interest: string | null;
  readonly disbursedAmount: string | null;
  /** Days from the approval's date to dueDate. */
  readonly days: number | null;
  /** The UTC date of the approving block: the start of the term. */
  readonly approvedOn: string | null;
  readonly status: FinancingStatus;
  readonly paymentReference: string | null;
  readonly reason: string | null;
  readonly appliedAtBlock: number;
  readonly decidedAtBlock: number | null;
  readonly disbursedAtBlock: number | null;
  readonly closedAtBlock: number | null;
  readonly updatedAtBlock: number;
  readonly lastTransactionId: string;
}

export const financingKeyOf = (financingId: string) => `finance/financing/${financingId}`;

export const financingOf = (ctx: ContractContext, financingId: string) => recordOf<Financing>(ctx, financingKeyOf(financingId));

/** The financing written whole, stamped with this transaction. */
export const financingWrite = (ctx: ContractContext, financing: Financing): StateWrite =>
  recordWrite(financingKeyOf(financing.financingId), { ...financing, updatedAtBlock: ctx.blockNumber, lastTransactionId: ctx.transactionId });

/** The financing closed in `status` at this block. */
export const closedFinancing = (ctx: ContractContext, financing: Financing, status: 'repaid' | 'released' | 'recourse', reason: string | null = financing.reason): Financing => ({
  ...financing,
  status,
  reason,
  closedAtBlock: ctx.blockNumber,
});

/** The terms of an approval, computed exactly (see the module comment). */
export function financingTerms(
  financing: Pick<Financing, 'kind' | 'faceValue' | 'principal'>,
  days: number,
  rateBps: number,
  dayCount: DayCount,
  feeMinor: string,
): { discount: string | null; interest: string | null; disbursedAmount: string } | ContractOutcome {
  const fee = toMinor(feeMinor);
  if (financing.kind === 'pledge') {
    const interest = simpleInterest(financing.principal, days, { rateBps, dayCount });
    if (fee >= toMinor(financing.principal)) return financeInvalid(`payload.feeMinor (${feeMinor}) leaves nothing of the principal ${financing.principal} to disburse`);
    return { discount: null, interest, disbursedAmount: amountOf(toMinor(financing.principal) - fee) };
  }
  const discount = simpleInterest(financing.faceValue, days, { rateBps, dayCount });
  const advance = toMinor(financing.faceValue) - toMinor(discount) - fee;
  if (advance <= 0n) return financeInvalid(`discount ${discount} and fee ${feeMinor} leave nothing of the face value ${financing.faceValue} to advance`);
  return { discount, interest: null, disbursedAmount: amountOf(advance) };
}

// The financing named by the payload, with the creator in `role`, in one of `statuses`, and its asset.
interface Found {
  readonly payload: Record<string, unknown>;
  readonly financing: Financing;
  readonly adapter: FinanceableAsset;
  readonly asset: AssetRecord;
}

/**
 * The financing handlers over the asset kinds of `adapters` (one per kind).
 * Adapters are typed by their own record (`FinanceableAsset<Receivable>`…),
 * hence the parameter type.
 */
export function financingContractsFor(adapters: readonly FinanceableAsset<never>[]): readonly ContractHandler[] {
  const byKind = new Map<AssetKind, FinanceableAsset>();
  for (const adapter of adapters) {
    if (byKind.has(adapter.kind)) throw new Error(`two financeable-asset adapters for ${adapter.kind}`);
    byKind.set(adapter.kind, adapter as unknown as FinanceableAsset);
  }
  const kinds = [...byKind.keys()];

  function found(ctx: ContractContext, fields: readonly string[], role: 'financier' | 'applicant', statuses: readonly FinancingStatus[], what: string): Found | ContractOutcome {
    const denied = mayActWith(ctx, FINANCING_MANAGE_PERMISSION, what);
    if (denied) return denied;
    const payload = financePayloadOf(ctx, fields);
    if (isOutcome(payload)) return payload;
    const financingId = idOf(payload['financingId'], 'financingId');
    if (isOutcome(financingId)) return financingId;
    for (const field of ['reason', 'paymentReference'] as const) {
      if (!fields.includes(field)) continue;
      const text = textOf(payload[field], field, field === 'paymentReference' || role === 'financier');
      if (isOutcome(text)) return text;
    }
    const financing = financingOf(ctx, financingId);
    if (!financing) return reject('FINANCE.UNKNOWN_FINANCING', `financing ${financingId} does not exist`);
    if (financing[role] !== creatorOf(ctx))
      return reject(role === 'financier' ? 'FINANCE.NOT_FINANCIER' : 'FINANCE.NOT_APPLICANT', `only the ${role} ${financing[role]} of financing ${financingId} signs ${ctx.transaction.type}`);
    if (!statuses.includes(financing.status)) return reject('FINANCE.INVALID_STATE', `financing ${financingId} is ${financing.status}; this needs it ${statuses.join(' or ')}`);
    const adapter = byKind.get(financing.assetKind);
    if (!adapter) return reject('FINANCE.INVALID_STATE', `this node finances no ${financing.assetKind}`);
    const asset = assetOf(ctx, financing.assetKind, financing.assetId);
    if (!asset) return unknownAsset(financing.assetKind, financing.assetId);
    return { payload, financing, adapter, asset };
  }

  // The financing closed and, when it holds the asset's lock, the asset without it.
  const closedWrites = (ctx: ContractContext, asset: AssetRecord, closed: Financing): StateWrite[] => [
    financingWrite(ctx, closed),
    ...(asset.encumbrance?.financingId === closed.financingId ? [assetWrite(ctx, closed.assetKind, closed.assetId, { ...asset, encumbrance: null })] : []),
  ];

  /** `finance.financing.apply` `{ financingId, assetKind, assetId, financier, kind, recourse?, principal? }` — by the asset's holder. */
  const apply: ContractHandler = {
    type: 'finance.financing.apply',
    configuration: false,
    execute(ctx) {
      const denied = mayActWith(ctx, FINANCING_MANAGE_PERMISSION, 'applies for its financings');
      if (denied) return denied;
      const payload = financePayloadOf(ctx, ['financingId', 'assetKind', 'assetId', 'financier', 'kind', 'recourse', 'principal']);
      if (isOutcome(payload)) return payload;
      const financingId = idOf(payload['financingId'], 'financingId');
      if (isOutcome(financingId)) return financingId;
      const adapter = byKind.get(payload['assetKind'] as AssetKind);
      if (!adapter) return financeInvalid(`payload.assetKind must be one of ${kinds.join(', ')}`);
      const assetId = idOf(payload['assetId'], 'assetId');
      if (isOutcome(assetId)) return assetId;
      const applicant = creatorOf(ctx);
      const financier = payload['financier'];
      if (!isMember(ctx, financier) || financier === applicant) return financeInvalid('payload.financier must be a member organization other than the applicant');
      const kind = payload['kind'] as FinancingKind;
      if (!FINANCING_KINDS.includes(kind)) return financeInvalid(`payload.kind must be one of ${FINANCING_KINDS.join(', ')}`);
      const recourse = payload['recourse'] ?? DEFAULT_RECOURSE[kind];
      if (typeof recourse !== 'boolean') return financeInvalid('payload.recourse, when given, must be true or false');
      const requested = payload['principal'] === undefined ? undefined : amountField(payload['principal'], 'principal');
      if (isOutcome(requested)) return requested;
      if (financingOf(ctx, financingId)) return reject('FINANCE.DUPLICATE_ID', `financing ${financingId} already exists`);
      const asset = assetOf(ctx, adapter.kind, assetId);
      if (!asset) return unknownAsset(adapter.kind, assetId);
      const what = `${adapter.kind} ${assetId}`;
      const frozen = notFrozen(asset, what);
      if (frozen) return frozen;
      const holder = adapter.holderOf(asset);
      if (holder !== applicant) return reject('FINANCE.NOT_HOLDER', `only the holder ${holder} of ${what} applies to finance it`);
      const lock = unlocked(asset, what);
      if (lock) return lock;
      const state = adapter.notFinanceable(asset);
      if (state) return state;
      const faceValue = adapter.valueOf(asset);
      if (toMinor(faceValue) === 0n) return reject('FINANCE.INVALID_STATE', `${what} has nothing outstanding to finance`);
      const dueDate = adapter.dueDateOf(asset);
      if (daysBetween(todayOf(ctx), dueDate) < 1) return reject('FINANCE.INVALID_STATE', `${what} is due on ${dueDate}: nothing is left of its term`);
      if (kind !== 'pledge' && requested !== undefined && requested !== faceValue)
        return financeInvalid(`payload.principal of ${kind}, when given, must be the value of ${what} (${faceValue})`);
      if (requested !== undefined && toMinor(requested) > toMinor(faceValue)) return financeInvalid(`payload.principal (${requested}) exceeds the value of ${what} (${faceValue})`);
      const financing: Financing = {
        financingId,
        assetKind: adapter.kind,
        assetId,
        applicant,
        financier,
        kind,
        recourse,
        currency: adapter.currencyOf(asset),
        faceValue,
        principal: requested ?? faceValue,
        dueDate,
        rateBps: null,
        dayCount: null,
        feeMinor: null,
        discount: null,
        interest: null,
        disbursedAmount: null,
        days: null,
        approvedOn: null,
        status: 'applied',
        paymentReference: null,
        reason: null,
        appliedAtBlock: ctx.blockNumber,
        decidedAtBlock: null,
        disbursedAtBlock: null,
        closedAtBlock: null,
        updatedAtBlock: ctx.blockNumber,
        lastTransactionId: ctx.transactionId,
      };
      return { ok: true, writes: [financingWrite(ctx, financing)] };
    },
  };

  /**
   * `finance.financing.approve` `{ financingId, rateBps, dayCount, feeMinor }` — by the financier, while applied.
   * THE LOCK: the asset must still be unencumbered (`FINANCE.ALREADY_ENCUMBERED`), not frozen, held by the
   * applicant, financeable and worth what it was worth at application.
   */
  const approve: ContractHandler = {
    type: 'finance.financing.approve',
    configuration: false,
    execute(ctx) {
      const f = found(ctx, ['financingId', 'rateBps', 'dayCount', 'feeMinor'], 'financier', ['applied'], 'approves its financings');
      if (isOutcome(f)) return f;
      const { payload, financing, adapter, asset } = f;
      const rateBps = payload['rateBps'];
      if (typeof rateBps !== 'number' || !Number.isSafeInteger(rateBps) || rateBps < 0 || rateBps > MAX_RATE_BPS) return financeInvalid(`payload.rateBps must be a whole number of basis points 0-${MAX_RATE_BPS}`);
      const dayCount = payload['dayCount'] as DayCount;
      if (!DAY_COUNTS.includes(dayCount)) return financeInvalid(`payload.dayCount must be one of ${DAY_COUNTS.join(', ')}`);
      const feeMinor = amountField(payload['feeMinor'], 'feeMinor', false);
      if (isOutcome(feeMinor)) return feeMinor;
      const what = `${financing.assetKind} ${financing.assetId}`;
      if (asset.encumbrance)
        return reject('FINANCE.ALREADY_ENCUMBERED', `${what} is already financed: ${asset.encumbrance.kind} ${asset.encumbrance.financingId} of ${asset.encumbrance.financier} since block ${asset.encumbrance.sinceBlock}`);
      const frozen = notFrozen(asset, what);
      if (frozen) return frozen;
      const holder = adapter.holderOf(asset);
      if (holder !== financing.applicant) return reject('FINANCE.NOT_HOLDER', `${what} is now held by ${holder}, not the applicant ${financing.applicant}`);
      const state = adapter.notFinanceable(asset);
      if (state) return state;
      const value = adapter.valueOf(asset);
      if (value !== financing.faceValue) return reject('FINANCE.INVALID_STATE', `${what} is worth ${value} now, ${financing.faceValue} when applied for: apply again`);
      const today = todayOf(ctx);
      const days = daysBetween(today, financing.dueDate);
      if (days < 1) return reject('FINANCE.INVALID_STATE', `${what} is due on ${financing.dueDate}: nothing is left of its term`);
      const terms = financingTerms(financing, days, rateBps, dayCount, feeMinor);
      if (isOutcome(terms)) return terms;
      const approved: Financing = { ...financing, ...terms, rateBps, dayCount, feeMinor, days, approvedOn: today, status: 'approved', decidedAtBlock: ctx.blockNumber };
      const encumbered = { ...asset, encumbrance: { kind: financing.kind, financingId: financing.financingId, financier: financing.financier, sinceBlock: ctx.blockNumber } };
      return { ok: true, writes: [financingWrite(ctx, approved), assetWrite(ctx, financing.assetKind, financing.assetId, encumbered)] };
    },
  };

  // Reject and withdraw: an application closes; the asset is not touched (but a frozen one refuses it too).
  const decline = (type: string, role: 'financier' | 'applicant', status: 'rejected' | 'withdrawn', what: string): ContractHandler => ({
    type,
    configuration: false,
    execute(ctx) {
      const f = found(ctx, ['financingId', 'reason'], role, ['applied'], what);
      if (isOutcome(f)) return f;
      const frozen = notFrozen(f.asset, `${f.financing.assetKind} ${f.financing.assetId}`);
      if (frozen) return frozen;
      const reason = (f.payload['reason'] as string | undefined) ?? null;
      return { ok: true, writes: [financingWrite(ctx, { ...f.financing, status, reason, decidedAtBlock: ctx.blockNumber, closedAtBlock: ctx.blockNumber })] };
    },
  });

  /** `finance.financing.reject` `{ financingId, reason }` — by the financier, while applied. */
  const rejectApplication = decline('finance.financing.reject', 'financier', 'rejected', 'rejects its financings');
  /** `finance.financing.withdraw` `{ financingId, reason? }` — by the applicant, while applied. */
  const withdraw = decline('finance.financing.withdraw', 'applicant', 'withdrawn', 'withdraws its financings');

  /** `finance.financing.disburse` `{ financingId, paymentReference }` — by the financier, while approved: the advance or loan is paid. */
  const disburse: ContractHandler = {
    type: 'finance.financing.disburse',
    configuration: false,
    execute(ctx) {
      const f = found(ctx, ['financingId', 'paymentReference'], 'financier', ['approved'], 'disburses its financings');
      if (isOutcome(f)) return f;
      const frozen = notFrozen(f.asset, `${f.financing.assetKind} ${f.financing.assetId}`);
      if (frozen) return frozen;
      const disbursed: Financing = { ...f.financing, status: 'disbursed', paymentReference: f.payload['paymentReference'] as string, disbursedAtBlock: ctx.blockNumber };
      return { ok: true, writes: [financingWrite(ctx, disbursed)] };
    },
  };

  /** `finance.financing.release` `{ financingId }` — by the financier, while approved or disbursed (a pledge repaid off-chain): the lock ends. */
  const release: ContractHandler = {
    type: 'finance.financing.release',
    configuration: false,
    execute(ctx) {
      const f = found(ctx, ['financingId'], 'financier', LOCKING_STATUSES, 'releases its financings');
      if (isOutcome(f)) return f;
      const { financing, asset } = f;
      const frozen = notFrozen(asset, `${financing.assetKind} ${financing.assetId}`);
      if (frozen) return frozen;
      return { ok: true, writes: closedWrites(ctx, asset, closedFinancing(ctx, financing, 'released')) };
    },
  };

  /**
   * `finance.financing.recourse` `{ financingId, reason }` — by the financier of a disbursed financing with
   * `recourse: true` whose asset defaulted: the applicant owes the financier; the lock ends and the asset's
   * claim is the applicant's again (it held the asset throughout: an encumbered asset changes no hands).
   */
  const recourse: ContractHandler = {
    type: 'finance.financing.recourse',
    configuration: false,
    execute(ctx) {
      const f = found(ctx, ['financingId', 'reason'], 'financier', ['disbursed'], 'takes recourse on its financings');
      if (isOutcome(f)) return f;
      const { financing, asset, payload } = f;
      const what = `${financing.assetKind} ${financing.assetId}`;
      if (!financing.recourse) return reject('FINANCE.NO_RECOURSE', `financing ${financing.financingId} is without recourse`);
      const frozen = notFrozen(asset, what);
      if (frozen) return frozen;
      if (asset.status !== 'defaulted') return reject('FINANCE.INVALID_STATE', `${what} is ${asset.status}; recourse needs it defaulted`);
      return { ok: true, writes: closedWrites(ctx, asset, closedFinancing(ctx, financing, 'recourse', payload['reason'] as string)) };
    },
  };

  return [apply, approve, rejectApplication, withdraw, disburse, release, recourse];
}
