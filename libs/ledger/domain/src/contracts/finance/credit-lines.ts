import { reject } from '../agent-keys';
import { mayActWith } from '../roles';
import type { ContractContext, ContractHandler, ContractOutcome } from '../types';
import { financeInvalid, financePayloadOf, idOf, isMember, isOutcome } from './assets';
import { amountField, creatorOf, CREDIT_LINE_MANAGE_PERMISSION, currencyField, dateField, recordOf, recordWrite, todayOf } from './fields';
import { toMinor } from './money';

/**
 * Credit lines (issue 6): a financier grants a debtor (a core enterprise) a
 * limit in one currency; the debtor's confirmation of a receivable charges its
 * face value to one of its lines, and repayment gives back the face value of
 * every leaf it settles. State:
 *
 *   finance/credit-line/<creditLineId> → CreditLine
 *
 * Invariant: `used` = Σ over the confirmed roots charged to the line of their
 * face value less the face values of their settled leaves. A new charge needs
 * the line active, not expired (today ≤ expiresOn) and `used + face ≤ limit`;
 * a limit lowered below `used` only blocks new charges.
 *
 *   active ⇄ suspended;  active | suspended → closed (final)
 */
export type CreditLineStatus = 'active' | 'suspended' | 'closed';
export const CREDIT_LINE_STATUSES: readonly CreditLineStatus[] = ['active', 'suspended', 'closed'];

export interface CreditLine {
  readonly creditLineId: string;
  readonly financier: string;
  readonly debtor: string;
  readonly currency: string;
  readonly limit: string;
  readonly used: string;
  readonly status: CreditLineStatus;
  readonly expiresOn: string | null;
  readonly createdAtBlock: number;
  readonly updatedAtBlock: number;
  readonly lastTransactionId: string;
}

export const creditLineKeyOf = (creditLineId: string) => `finance/credit-line/${creditLineId}`;

export const creditLineOf = (ctx: ContractContext, creditLineId: string) => recordOf<CreditLine>(ctx, creditLineKeyOf(creditLineId));

/** The line written whole, stamped with this transaction. */
export const creditLineWrite = (ctx: ContractContext, line: CreditLine) =>
  recordWrite(creditLineKeyOf(line.creditLineId), { ...line, updatedAtBlock: ctx.blockNumber, lastTransactionId: ctx.transactionId });

/** Why `line` takes no new charge of `faceValue` in `currency` for `debtor` today, or undefined. */
export function refusedCharge(ctx: ContractContext, line: CreditLine, debtor: string, currency: string, faceValue: string): ContractOutcome | undefined {
  if (line.debtor !== debtor) return reject('FINANCE.CREDIT_LINE_MISMATCH', `credit line ${line.creditLineId} is granted to ${line.debtor}, not ${debtor}`);
  if (line.currency !== currency) return reject('FINANCE.CURRENCY_MISMATCH', `credit line ${line.creditLineId} is in ${line.currency}, the receivable in ${currency}`);
  if (line.status !== 'active') return reject('FINANCE.CREDIT_LINE_INACTIVE', `credit line ${line.creditLineId} is ${line.status}`);
  const today = todayOf(ctx);
  if (line.expiresOn !== null && today > line.expiresOn) return reject('FINANCE.CREDIT_LINE_INACTIVE', `credit line ${line.creditLineId} expired on ${line.expiresOn}`);
  if (toMinor(line.used) + toMinor(faceValue) > toMinor(line.limit))
    return reject('FINANCE.CREDIT_LINE_EXCEEDED', `credit line ${line.creditLineId}: used ${line.used} + ${faceValue} exceeds the limit ${line.limit}`);
  return undefined;
}

function expiresOnOf(ctx: ContractContext, value: unknown): string | null | ContractOutcome {
  if (value === null) return null;
  const date = dateField(value, 'expiresOn');
  if (isOutcome(date)) return date;
  return date < todayOf(ctx) ? financeInvalid(`payload.expiresOn (${date}) is before today (${todayOf(ctx)})`) : date;
}

/** `finance.credit-line.grant` `{ creditLineId, debtor, currency, limit, expiresOn? }` — by the financier, to another member. */
export const creditLineGrantContract: ContractHandler = {
  type: 'finance.credit-line.grant',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, CREDIT_LINE_MANAGE_PERMISSION, 'grants its credit lines');
    if (denied) return denied;
    const payload = financePayloadOf(ctx, ['creditLineId', 'debtor', 'currency', 'limit', 'expiresOn']);
    if (isOutcome(payload)) return payload;
    const creditLineId = idOf(payload['creditLineId'], 'creditLineId');
    if (isOutcome(creditLineId)) return creditLineId;
    const financier = creatorOf(ctx);
    const debtor = payload['debtor'];
    if (!isMember(ctx, debtor) || debtor === financier) return financeInvalid('payload.debtor must be a member organization other than the financier');
    const currency = currencyField(payload['currency']);
    if (isOutcome(currency)) return currency;
    const limit = amountField(payload['limit'], 'limit');
    if (isOutcome(limit)) return limit;
    const expiresOn = payload['expiresOn'] === undefined ? null : expiresOnOf(ctx, payload['expiresOn']);
    if (isOutcome(expiresOn)) return expiresOn;
    if (creditLineOf(ctx, creditLineId)) return reject('FINANCE.DUPLICATE_ID', `credit line ${creditLineId} already exists`);
    const line: CreditLine = {
      creditLineId,
      financier,
      debtor,
      currency,
      limit,
      used: '0',
      status: 'active',
      expiresOn,
      createdAtBlock: ctx.blockNumber,
      updatedAtBlock: ctx.blockNumber,
      lastTransactionId: ctx.transactionId,
    };
    return { ok: true, writes: [creditLineWrite(ctx, line)] };
  },
};

/**
 * `finance.credit-line.update` `{ creditLineId, limit?, status?, expiresOn? (a date or null) }` — by
 * the financier, at least one change; a closed line changes no more.
 */
export const creditLineUpdateContract: ContractHandler = {
  type: 'finance.credit-line.update',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, CREDIT_LINE_MANAGE_PERMISSION, 'updates its credit lines');
    if (denied) return denied;
    const payload = financePayloadOf(ctx, ['creditLineId', 'limit', 'status', 'expiresOn']);
    if (isOutcome(payload)) return payload;
    const creditLineId = idOf(payload['creditLineId'], 'creditLineId');
    if (isOutcome(creditLineId)) return creditLineId;
    if (payload['limit'] === undefined && payload['status'] === undefined && payload['expiresOn'] === undefined) return financeInvalid('payload needs at least one of limit, status, expiresOn');
    const limit = payload['limit'] === undefined ? undefined : amountField(payload['limit'], 'limit', false);
    if (isOutcome(limit)) return limit;
    const status = payload['status'];
    if (status !== undefined && !CREDIT_LINE_STATUSES.includes(status as CreditLineStatus)) return financeInvalid(`payload.status must be one of ${CREDIT_LINE_STATUSES.join(', ')}`);
    const expiresOn = payload['expiresOn'] === undefined ? undefined : expiresOnOf(ctx, payload['expiresOn']);
    if (isOutcome(expiresOn)) return expiresOn;
    const line = creditLineOf(ctx, creditLineId);
    if (!line) return reject('FINANCE.UNKNOWN_CREDIT_LINE', `credit line ${creditLineId} does not exist`);
    if (line.financier !== creatorOf(ctx)) return reject('FINANCE.NOT_FINANCIER', `only the financier ${line.financier} updates credit line ${creditLineId}`);
    if (line.status === 'closed') return reject('FINANCE.INVALID_STATE', `credit line ${creditLineId} is closed`);
    const next: CreditLine = {
      ...line,
      limit: limit ?? line.limit,
      status: (status as CreditLineStatus | undefined) ?? line.status,
      expiresOn: expiresOn === undefined ? line.expiresOn : expiresOn,
    };
    return { ok: true, writes: [creditLineWrite(ctx, next)] };
  },
};

export const creditLineContracts: readonly ContractHandler[] = [creditLineGrantContract, creditLineUpdateContract];
