import { reject } from '../agent-keys';
import { mayActWith } from '../roles';
import type { ContractContext, ContractOutcome, JsonValue, StateWrite } from '../types';
import { type AssetKind, financeInvalid } from './assets';
import { isAmount, isCurrency, isDate, toMinor, utcDateOf } from './money';

/**
 * The field checks and small rules the receivable, credit-line, financing and
 * freeze contracts share (issue 6). Kept apart from `assets.ts` (the record
 * parts every asset kind shares) and `money.ts` (the arithmetic).
 */

/** The permissions an agent needs (admin keys need none). */
export const RECEIVABLE_MANAGE_PERMISSION = 'finance.receivable.manage';
export const FINANCING_MANAGE_PERMISSION = 'finance.financing.manage';
export const CREDIT_LINE_MANAGE_PERMISSION = 'finance.credit-line.manage';

/** "Today" of every finance contract: the UTC calendar date of the block's timestamp. */
export const todayOf = (ctx: ContractContext): string => utcDateOf(ctx.blockTimestamp);

/** The organization that signed the transaction. */
export const creatorOf = (ctx: ContractContext): string => ctx.transaction.creator.organizationId;

/** An admin key, or an agent holding one of `permissions` in the creator's organization. */
export function mayActWithAny(ctx: ContractContext, permissions: readonly string[], what: string): ContractOutcome | undefined {
  let refusal: ContractOutcome | undefined;
  for (const permission of permissions) {
    refusal = mayActWith(ctx, permission, what);
    if (!refusal) return undefined;
  }
  return permissions.length > 1 ? reject('IDENTITY.NOT_ALLOWED', `only an admin key of ${creatorOf(ctx)} or its agent with ${permissions.join(' or ')} ${what}`) : refusal;
}

/** An amount string of minor units (`> 0` when `positive`). */
export function amountField(value: unknown, field: string, positive = true): string | ContractOutcome {
  if (!isAmount(value) || (positive && toMinor(value) === 0n))
    return financeInvalid(`payload.${field} must be ${positive ? 'a positive' : 'an'} amount in minor units as a string of digits without leading zeros`);
  return value;
}

export function currencyField(value: unknown, field = 'currency'): string | ContractOutcome {
  return isCurrency(value) ? value : financeInvalid(`payload.${field} must be an ISO 4217 alphabetic currency code`);
}

export function dateField(value: unknown, field: string): string | ContractOutcome {
  return isDate(value) ? value : financeInvalid(`payload.${field} must be a UTC calendar date YYYY-MM-DD`);
}

/** `FINANCE.UNKNOWN_RECEIVABLE`, `FINANCE.UNKNOWN_WAREHOUSE_RECEIPT`, `FINANCE.UNKNOWN_LEASE`. */
export const unknownAssetCode = (kind: AssetKind): string => `FINANCE.UNKNOWN_${kind.toUpperCase().replace(/-/g, '_')}`;

export const unknownAsset = (kind: AssetKind, id: string): ContractOutcome => reject(unknownAssetCode(kind), `${kind} ${id} does not exist`);

/** A record that is not an asset (financing, credit line, payment, document), written whole. */
export const recordWrite = (key: string, record: object): StateWrite => ({ key, value: record as unknown as JsonValue });

export { recordOf } from './assets';
