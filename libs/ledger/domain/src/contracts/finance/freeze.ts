import { reject } from '../agent-keys';
import type { ContractContext, ContractHandler, ContractOutcome } from '../types';
import { ASSET_KINDS, type AssetKind, type AssetRecord, assetOf, assetWrite, financeInvalid, financePayloadOf, type Freeze, idOf, isObserverOrganization, isOutcome, textOf } from './assets';
import { creatorOf, unknownAsset } from './fields';

/**
 * The freeze of a finance asset (issue 6): an observer organization — a
 * regulator, or a court through it — freezes any receivable, warehouse receipt
 * or lease, and an observer lifts it. While `frozen` is set every other
 * finance transaction on the asset is refused `FINANCE.FROZEN` (a repayment
 * skips a frozen leaf). The only finance contracts observers sign.
 *
 *   unfrozen ──freeze (observer)──→ frozen ──unfreeze (observer)──→ unfrozen
 */
interface Target {
  readonly kind: AssetKind;
  readonly id: string;
  readonly asset: AssetRecord;
  readonly reason: string;
  readonly payload: Record<string, unknown>;
}

function target(ctx: ContractContext, fields: readonly string[], verb: string): Target | ContractOutcome {
  const organizationId = creatorOf(ctx);
  if (!isObserverOrganization(ctx, organizationId)) return reject('IDENTITY.NOT_ALLOWED', `only an observer organization (regulator, court) ${verb} finance assets; ${organizationId} is not one`);
  const payload = financePayloadOf(ctx, fields);
  if (isOutcome(payload)) return payload;
  const kind = payload['assetKind'] as AssetKind;
  if (!ASSET_KINDS.includes(kind)) return financeInvalid(`payload.assetKind must be one of ${ASSET_KINDS.join(', ')}`);
  const id = idOf(payload['assetId'], 'assetId');
  if (isOutcome(id)) return id;
  const reason = textOf(payload['reason'], 'reason', true);
  if (isOutcome(reason)) return reason;
  const asset = assetOf(ctx, kind, id);
  if (!asset) return unknownAsset(kind, id);
  return { kind, id, asset, reason: reason as string, payload };
}

/** `finance.asset.freeze` `{ assetKind, assetId, reason, orderReference? }` — by an observer organization. */
export const assetFreezeContract: ContractHandler = {
  type: 'finance.asset.freeze',
  configuration: false,
  observers: true,
  execute(ctx) {
    const t = target(ctx, ['assetKind', 'assetId', 'reason', 'orderReference'], 'freezes');
    if (isOutcome(t)) return t;
    const orderReference = textOf(t.payload['orderReference'], 'orderReference');
    if (isOutcome(orderReference)) return orderReference;
    if (t.asset.frozen) return reject('FINANCE.ALREADY_FROZEN', `${t.kind} ${t.id} is frozen by ${t.asset.frozen.by} since block ${t.asset.frozen.atBlock} (${t.asset.frozen.reason})`);
    const frozen: Freeze = { by: creatorOf(ctx), reason: t.reason, orderReference, atBlock: ctx.blockNumber, at: ctx.blockTimestamp };
    return { ok: true, writes: [assetWrite(ctx, t.kind, t.id, { ...t.asset, frozen })] };
  },
};

/** `finance.asset.unfreeze` `{ assetKind, assetId, reason }` — by an observer organization. */
export const assetUnfreezeContract: ContractHandler = {
  type: 'finance.asset.unfreeze',
  configuration: false,
  observers: true,
  execute(ctx) {
    const t = target(ctx, ['assetKind', 'assetId', 'reason'], 'unfreezes');
    if (isOutcome(t)) return t;
    if (!t.asset.frozen) return reject('FINANCE.NOT_FROZEN', `${t.kind} ${t.id} is not frozen`);
    return { ok: true, writes: [assetWrite(ctx, t.kind, t.id, { ...t.asset, frozen: null })] };
  },
};

export const freezeContracts: readonly ContractHandler[] = [assetFreezeContract, assetUnfreezeContract];
