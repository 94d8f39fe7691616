import { mayActWith } from '../roles';
import type { ContractContext, ContractOutcome } from '../types';
import { type AssetKind, type AssetRecord, assetOf, financePayloadOf, idOf, isOutcome } from './assets';
import { creatorOf, unknownAsset } from './fields';

/**
 * The common start of a transaction on one existing asset of `kind`, named by
 * `payload[idField]`: an admin key or an agent with `permission`, a payload of
 * `idField` and `fields` only, the record (`FINANCE.UNKNOWN_<KIND>` when there
 * is none) and the signer's organization.
 */
export function existingAsset<T extends AssetRecord>(
  ctx: ContractContext,
  kind: AssetKind,
  idField: string,
  permission: string,
  fields: readonly string[],
  what: string,
): { payload: Record<string, unknown>; record: T; org: string } | ContractOutcome {
  const denied = mayActWith(ctx, permission, what);
  if (denied) return denied;
  const payload = financePayloadOf(ctx, [idField, ...fields]);
  if (isOutcome(payload)) return payload;
  const id = idOf(payload[idField], idField);
  if (isOutcome(id)) return id;
  const record = assetOf<T>(ctx, kind, id);
  if (!record) return unknownAsset(kind, id);
  return { payload, record, org: creatorOf(ctx) };
}

/** The lock and history fields of an asset record new in this transaction: unfrozen, unencumbered, created, updated and last written now. */
export const newAssetFields = (ctx: ContractContext) =>
  ({ frozen: null, encumbrance: null, createdAtBlock: ctx.blockNumber, updatedAtBlock: ctx.blockNumber, lastTransactionId: ctx.transactionId }) as const;
