import { exactFields, reject } from '../agent-keys';
import type { ContractContext, ContractOutcome, JsonValue, StateWrite } from '../types';

/**
 * What every finance asset shares (issue 6): one record per asset under
 * `finance/<kind>/<id>`, written whole on every change (each write is one
 * state change the finance service publishes), with the two locks the
 * contracts enforce — the encumbrance of a financing and a regulator's or
 * court's freeze. See docs/finance.md.
 */
export type AssetKind = 'receivable' | 'warehouse-receipt' | 'lease';
export const ASSET_KINDS: readonly AssetKind[] = ['receivable', 'warehouse-receipt', 'lease'];

export type EncumbranceKind = 'discounting' | 'factoring' | 'pledge' | 'lease-refinancing';

/** The lock a financing puts on an asset: while it is set, the asset is not transferred, split, delivered or financed again. */
export interface Encumbrance {
  readonly kind: EncumbranceKind;
  /** The financing (or, for `lease-refinancing`, the receivable) that holds the lock. */
  readonly financingId: string;
  readonly financier: string;
  readonly sinceBlock: number;
}

/** A freeze ordered by an observer organization (regulator, court): no finance transaction touches the asset until it is lifted. */
export interface Freeze {
  readonly by: string;
  readonly reason: string;
  readonly orderReference: string | null;
  readonly atBlock: number;
  readonly at: string;
}

/** The fields every asset record carries. */
export interface AssetRecord {
  readonly status: string;
  readonly frozen: Freeze | null;
  readonly encumbrance: Encumbrance | null;
  readonly createdAtBlock: number;
  readonly updatedAtBlock: number;
  readonly lastTransactionId: string;
}

/** Client-chosen ids of assets, financings, payments: a retry with the same id is refused as a duplicate, never applied twice. */
export const FINANCE_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Longest free text (reasons, references). */
export const MAX_FINANCE_TEXT = 500;
const TEXT = new RegExp(`^[^\\p{Cc}]{1,${MAX_FINANCE_TEXT}}$`, 'u');

export const assetKeyOf = (kind: AssetKind, id: string) => `finance/${kind}/${id}`;

export const financeInvalid = (detail: string) => reject('FINANCE.INVALID', detail);

export const isOutcome = (v: unknown): v is ContractOutcome => typeof v === 'object' && v !== null && 'ok' in v && typeof (v as { ok: unknown }).ok === 'boolean';

/** The payload when it has no field outside `fields`, else the refusal naming the extra ones. */
export function financePayloadOf(ctx: ContractContext, fields: readonly string[]): Record<string, unknown> | ContractOutcome {
  const payload = ctx.transaction.payload as Record<string, unknown>;
  const extra = exactFields(payload, fields);
  return extra && !extra.ok ? financeInvalid(`${extra.detail}; expected only ${fields.join(', ')}`) : payload;
}

export function idOf(value: unknown, field: string): string | ContractOutcome {
  return typeof value === 'string' && FINANCE_ID.test(value) ? value : financeInvalid(`payload.${field} must be 8-64 of [A-Za-z0-9_-]`);
}

/** Optional free text: null when absent. */
export function textOf(value: unknown, field: string, required = false): string | null | ContractOutcome {
  if (value === undefined && !required) return null;
  if (typeof value !== 'string' || !TEXT.test(value)) return financeInvalid(`payload.${field}${required ? '' : ', when given,'} must be 1-${MAX_FINANCE_TEXT} characters without control characters`);
  return value;
}

/** The record at `key`, or undefined when there is none (or it was deleted). */
export function recordOf<T>(ctx: ContractContext, key: string): T | undefined {
  const value = ctx.state.get(key)?.value;
  return value === null || value === undefined ? undefined : (value as unknown as T);
}

export const assetOf = <T extends AssetRecord>(ctx: ContractContext, kind: AssetKind, id: string): T | undefined => recordOf<T>(ctx, assetKeyOf(kind, id));

/** The record written whole, stamped with this transaction. */
export function assetWrite<T extends AssetRecord>(ctx: ContractContext, kind: AssetKind, id: string, record: T): StateWrite {
  return { key: assetKeyOf(kind, id), value: { ...record, updatedAtBlock: ctx.blockNumber, lastTransactionId: ctx.transactionId } as unknown as JsonValue };
}

export const isMember = (ctx: ContractContext, organizationId: unknown): organizationId is string =>
  typeof organizationId === 'string' && ctx.config.members.some((m) => m.organizationId === organizationId);

export const isObserverOrganization = (ctx: ContractContext, organizationId: string) => (ctx.config.observers ?? []).some((o) => o.organizationId === organizationId);

/** `FINANCE.FROZEN` when frozen, `FINANCE.ENCUMBERED` when locked by a financing: the guard of transfer, split, delivery and financing. */
export function unlocked(record: AssetRecord, what: string): ContractOutcome | undefined {
  if (record.frozen) return reject('FINANCE.FROZEN', `${what} is frozen by ${record.frozen.by} (${record.frozen.reason})`);
  if (record.encumbrance) return reject('FINANCE.ENCUMBERED', `${what} is encumbered by ${record.encumbrance.kind} ${record.encumbrance.financingId} of ${record.encumbrance.financier}`);
  return undefined;
}

export const notFrozen = (record: AssetRecord, what: string): ContractOutcome | undefined =>
  record.frozen ? reject('FINANCE.FROZEN', `${what} is frozen by ${record.frozen.by} (${record.frozen.reason})`) : undefined;

/**
 * How the financing contracts see an asset of one kind: who may apply to
 * finance it, whether it can be financed now, and its value and term. Each
 * asset module exports one; `financing.ts` looks them up by kind.
 */
export interface FinanceableAsset<T extends AssetRecord = AssetRecord> {
  readonly kind: AssetKind;
  /** The organization that may apply to finance it (holder, lessor…). */
  holderOf(record: T): string;
  /** Why it cannot be financed in this state (a refusal), or undefined. Locks are checked by the caller. */
  notFinanceable(record: T): ContractOutcome | undefined;
  readonly currencyOf: (record: T) => string;
  /** Its value in minor units as financed (face value, receipt value, outstanding rent). */
  readonly valueOf: (record: T) => string;
  /** When it pays out (UTC date): the term of a discount or loan. */
  readonly dueDateOf: (record: T) => string;
}
