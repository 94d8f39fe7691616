import { toBase64Url, utf8 } from '@alliance/protocol';
import { reject } from '../agent-keys';
import { type CustodyItem, itemKeyOf } from '../custody';
import { type AnchoredEvent, eventKeyOf } from '../provenance';
import { mayActWith } from '../roles';
import type { ContractContext, ContractHandler, ContractOutcome, StateWrite } from '../types';
import {
  type AssetRecord,
  assetOf,
  assetWrite,
  type FinanceableAsset,
  FINANCE_ID,
  financeInvalid,
  financePayloadOf,
  idOf,
  isMember,
  isOutcome,
  notFrozen,
  textOf,
  unlocked,
} from './assets';
import { existingAsset, newAssetFields } from './existing-asset';
import { amountField, creatorOf, currencyField, recordOf, recordWrite, todayOf, unknownAsset } from './fields';
import { amountOf, isAmount, isDate, toMinor } from './money';

/**
 * Warehouse receipts (issue 6, third part): the document of title a warehouse
 * issues for goods in its custody — one lot (`…/01/<gtin>/10/<lot>`) or one
 * logistic unit (`…/00/<sscc>`) — which its holder may pledge to a lender
 * (through the financing contracts, `warehouseReceiptAsset`), split and merge,
 * and finally have delivered. A sensor alarm or a stock shortfall puts it on
 * hold. State:
 *
 *   finance/warehouse-receipt/<receiptId>  → WarehouseReceipt
 *   finance/lot-receipt/<b64u(item)>       → LotReceipts: the live receipts of one lot or SSCC
 *
 *   active ──split (holder)──────────→ split    (children active)
 *     │  ├──merge (holder)───────────→ merged   (one new receipt active)
 *     │  ├──deliver (warehouse)──────→ delivered   after the holder's request-delivery
 *     │  └──cancel (warehouse)───────→ cancelled
 *     └──hold (warehouse | lender)──→ held ──release-hold (lender if encumbered, else warehouse)──→ active
 *
 * What the contract verifies against the chain's provenance state: the goods
 * are a registered custody item whose custodian is the issuing warehouse (no
 * custody or ownership transfer open) and whose owner is the holder; every
 * evidence event is anchored and was captured by the warehouse's organization;
 * one lot or SSCC has at most one live family of receipts (the receipts split
 * or merged from one issue), whose quantities together never exceed what was
 * issued, and the issue never exceeds the on-hand quantity the warehouse
 * attests in the same transaction. The chain does not hold EPCIS quantities
 * (anchors carry ids and hashes, not event bodies), so the physical on-hand
 * figure is the warehouse's signed statement; the finance service compares it
 * and the live receipts with provenance's read model (quantities of the
 * receiving, shipping and sensor events) and places a `stock-shortfall` or
 * `sensor-alarm` hold when they disagree. See docs/finance.md.
 */
export type ReceiptStatus = 'active' | 'held' | 'split' | 'merged' | 'delivered' | 'cancelled';
export type HoldCause = 'sensor-alarm' | 'stock-shortfall';
export const HOLD_CAUSES: readonly HoldCause[] = ['sensor-alarm', 'stock-shortfall'];

export interface WarehouseGoods {
  /** The canonical GS1 Digital Link of a lot or an SSCC, a registered custody item. */
  readonly item: string;
  /** A whole number of `uom`, > 0, as a decimal string. */
  readonly quantity: string;
  /** UN/ECE Recommendation 20 unit code (KGM, EA, …). */
  readonly uom: string;
}

export interface ReceiptHold {
  readonly cause: HoldCause;
  /** The alert, inspection or stock count it rests on. */
  readonly reference: string;
  readonly by: string;
  readonly atBlock: number;
  readonly at: string;
}

export interface WarehouseReceipt extends AssetRecord {
  readonly receiptId: string;
  /** The issuing warehouse (organization). */
  readonly warehouse: string;
  /** The depositor, owner of the goods. */
  readonly holder: string;
  readonly goods: WarehouseGoods;
  /** Anchored EPCIS events captured by the warehouse (the receiving…), sorted. */
  readonly evidence: readonly string[];
  readonly currency: string;
  /** The goods' value in minor units, > 0. */
  readonly value: string;
  /** End of the storage term (UTC date): the term a pledge loan runs to. */
  readonly expiresOn: string;
  readonly status: ReceiptStatus;
  readonly hold: ReceiptHold | null;
  /** The block of the holder's request-delivery still standing, or null. */
  readonly deliveryRequestedAtBlock: number | null;
  readonly parentIds: readonly string[];
  readonly childIds: readonly string[];
  /** The block that ended it (split, merged, delivered, cancelled), or null. */
  readonly closedAtBlock: number | null;
  /** The reason given with a cancellation, or null. */
  readonly reason: string | null;
}

/** The live (active or held) receipts of one lot or SSCC: one family, one holder. */
export interface LotReceipts {
  readonly item: string;
  readonly warehouse: string;
  readonly holder: string;
  readonly uom: string;
  /** The on-hand quantity the warehouse attested at issue, less what it delivered since. */
  readonly onHand: string;
  /** Σ quantity of the live receipts; ≤ onHand. */
  readonly issued: string;
  /** The live receipts, sorted. */
  readonly receiptIds: readonly string[];
  readonly updatedAtBlock: number;
}

/** The permission an agent needs for every warehouse-receipt transaction of its organization (admin keys need none). */
export const WAREHOUSE_RECEIPT_MANAGE_PERMISSION = 'finance.warehouse-receipt.manage';
export const MAX_RECEIPT_EVIDENCE = 20;
export const MAX_RECEIPT_PARTS = 50;

const V = "(?:[A-Za-z0-9!'()*+,\\-.:;=_]|%[0-9A-F]{2})+";
const LOT = new RegExp(`^https://id\\.gs1\\.org/01/\\d{14}/10/${V}$`);
const SSCC = /^https:\/\/id\.gs1\.org\/00\/\d{18}$/;
const UOM = /^[A-Z0-9]{2,3}$/;
const EVENT_ID = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]{1,200}$/;

export const lotReceiptKeyOf = (item: string) => `finance/lot-receipt/${toBase64Url(utf8(item))}`;

const KIND = 'warehouse-receipt' as const;
const receiptOf = (ctx: ContractContext, id: string) => assetOf<WarehouseReceipt>(ctx, KIND, id);
const lotOf = (ctx: ContractContext, item: string) => recordOf<LotReceipts>(ctx, lotReceiptKeyOf(item));
const positive = (v: unknown): v is string => isAmount(v) && v !== '0';
const sorted = (list: Iterable<string>) => [...new Set(list)].sort();

/** The lot record after replacing `remove` by `add` among its live receipts; deleted when none is left. */
function lotWrite(ctx: ContractContext, lot: LotReceipts, remove: readonly string[], add: readonly string[], change: { issued?: bigint; onHand?: bigint } = {}): StateWrite {
  const receiptIds = sorted([...lot.receiptIds.filter((id) => !remove.includes(id)), ...add]);
  if (receiptIds.length === 0) return { key: lotReceiptKeyOf(lot.item), value: null };
  const issued = toMinor(lot.issued) + (change.issued ?? 0n);
  const onHand = toMinor(lot.onHand) + (change.onHand ?? 0n);
  const next: LotReceipts = { ...lot, receiptIds, issued: amountOf(issued), onHand: amountOf(onHand < 0n ? 0n : onHand), updatedAtBlock: ctx.blockNumber };
  return recordWrite(lotReceiptKeyOf(lot.item), next);
}

/** The refusal of an operation that needs an active receipt: held → FINANCE.RECEIPT_HELD, anything else → FINANCE.INVALID_STATE. */
function notActive(r: WarehouseReceipt): ContractOutcome | undefined {
  if (r.status === 'held') return reject('FINANCE.RECEIPT_HELD', `warehouse receipt ${r.receiptId} is held (${r.hold?.cause ?? '?'}: ${r.hold?.reference ?? ''}) by ${r.hold?.by ?? '?'}`);
  if (r.status !== 'active') return reject('FINANCE.INVALID_STATE', `warehouse receipt ${r.receiptId} is ${r.status}, not active`);
  return undefined;
}

const deliveryRequested = (r: WarehouseReceipt) =>
  r.deliveryRequestedAtBlock !== null ? reject('FINANCE.DELIVERY_REQUESTED', `the holder of warehouse receipt ${r.receiptId} requested its delivery at block ${r.deliveryRequestedAtBlock}; it withdraws the request first`) : undefined;

// The common start of every transaction on one existing receipt: permission, payload, the record.
function existing(ctx: ContractContext, fields: readonly string[], what: string): { payload: Record<string, unknown>; receipt: WarehouseReceipt; org: string } | ContractOutcome {
  const found = existingAsset<WarehouseReceipt>(ctx, KIND, 'receiptId', WAREHOUSE_RECEIPT_MANAGE_PERMISSION, fields, what);
  return isOutcome(found) ? found : { payload: found.payload, receipt: found.record, org: found.org };
}

/** The fields of a receipt new in this transaction: active, no hold, request, family, lock or history yet. */
const fresh = (ctx: ContractContext) =>
  ({
    status: 'active',
    hold: null,
    deliveryRequestedAtBlock: null,
    parentIds: [],
    childIds: [],
    closedAtBlock: null,
    reason: null,
    ...newAssetFields(ctx),
  }) as const;

const notHolder = (r: WarehouseReceipt, org: string) => (r.holder !== org ? reject('FINANCE.NOT_HOLDER', `only the holder ${r.holder} of warehouse receipt ${r.receiptId} does this`) : undefined);
const notWarehouse = (r: WarehouseReceipt, org: string) => (r.warehouse !== org ? reject('FINANCE.NOT_WAREHOUSE', `only the warehouse ${r.warehouse} that issued receipt ${r.receiptId} does this`) : undefined);

const ok = (...writes: StateWrite[]): ContractOutcome => ({ ok: true, writes });

function goodsOf(value: unknown): WarehouseGoods | ContractOutcome {
  const g = value as Record<string, unknown> | null;
  if (!g || typeof g !== 'object' || Array.isArray(g)) return financeInvalid('payload.goods must be { item, quantity, uom }');
  const extra = Object.keys(g).filter((k) => !['item', 'quantity', 'uom'].includes(k));
  if (extra.length) return financeInvalid(`payload.goods has unexpected field(s): ${extra.join(', ')}`);
  const { item, quantity, uom } = g;
  if (typeof item !== 'string' || item.length > 300 || !(LOT.test(item) || SSCC.test(item)))
    return financeInvalid('payload.goods.item must be the canonical GS1 Digital Link of a lot (https://id.gs1.org/01/<gtin>/10/<lot>) or an SSCC (https://id.gs1.org/00/<sscc>)');
  if (!positive(quantity)) return financeInvalid('payload.goods.quantity must be a whole number > 0 as a decimal string');
  if (typeof uom !== 'string' || !UOM.test(uom)) return financeInvalid('payload.goods.uom must be a UN/ECE Recommendation 20 code (2-3 of A-Z, 0-9), e.g. KGM or EA');
  return { item, quantity, uom };
}

/**
 * `finance.warehouse-receipt.issue`
 * `{ receiptId, holder, goods: { item, quantity, uom }, evidence: [eventId…] (1-20), currency, value, onHand, expiresOn }`
 * by the warehouse (the creator's organization) → active. The custody item
 * must be held by the warehouse with no transfer open
 * (`FINANCE.GOODS_NOT_IN_CUSTODY`) and owned by `holder`
 * (`FINANCE.NOT_ASSET_OWNER`); each evidence event anchored and captured by
 * the warehouse (`FINANCE.UNKNOWN_EVENT`); no live receipt for the lot or SSCC
 * (`FINANCE.RECEIPT_EXISTS`); `quantity ≤ onHand` (`FINANCE.QUANTITY_EXCEEDS_ON_HAND`).
 */
export const receiptIssueContract: ContractHandler = {
  type: 'finance.warehouse-receipt.issue',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, WAREHOUSE_RECEIPT_MANAGE_PERMISSION, 'issues its warehouse receipts');
    if (denied) return denied;
    const payload = financePayloadOf(ctx, ['receiptId', 'holder', 'goods', 'evidence', 'currency', 'value', 'onHand', 'expiresOn']);
    if (isOutcome(payload)) return payload;
    const receiptId = idOf(payload['receiptId'], 'receiptId');
    if (isOutcome(receiptId)) return receiptId;
    const { holder, evidence, onHand, expiresOn } = payload;
    if (!isMember(ctx, holder)) return financeInvalid('payload.holder must be a member organization (the depositor, owner of the goods)');
    const goods = goodsOf(payload['goods']);
    if (isOutcome(goods)) return goods;
    if (!Array.isArray(evidence) || evidence.length < 1 || evidence.length > MAX_RECEIPT_EVIDENCE || !evidence.every((e) => typeof e === 'string' && EVENT_ID.test(e)) || new Set(evidence).size !== evidence.length)
      return financeInvalid(`payload.evidence must list 1-${MAX_RECEIPT_EVIDENCE} distinct EPCIS event ids`);
    const currency = currencyField(payload['currency']);
    if (isOutcome(currency)) return currency;
    const value = amountField(payload['value'], 'value');
    if (isOutcome(value)) return value;
    if (!isAmount(onHand)) return financeInvalid('payload.onHand must be the on-hand quantity of the item in goods.uom, a whole number as a decimal string');
    if (!isDate(expiresOn) || expiresOn <= todayOf(ctx)) return financeInvalid(`payload.expiresOn must be a date YYYY-MM-DD after today (${todayOf(ctx)}), the end of the storage term`);
    if (receiptOf(ctx, receiptId)) return reject('FINANCE.DUPLICATE_ID', `warehouse receipt ${receiptId} already exists`);
    const warehouse = creatorOf(ctx);
    const custody = ctx.state.get(itemKeyOf(goods.item))?.value as CustodyItem | null | undefined;
    if (!custody) return reject('FINANCE.GOODS_NOT_IN_CUSTODY', `${goods.item} is not a registered custody item`);
    if (custody.custodian !== warehouse) return reject('FINANCE.GOODS_NOT_IN_CUSTODY', `${goods.item} is in the custody of ${custody.custodian}, not of the warehouse ${warehouse}`);
    if (custody.pendingTransfer !== null) return reject('FINANCE.GOODS_NOT_IN_CUSTODY', `transfer ${custody.pendingTransfer} of ${goods.item} is open; a receipt is issued for goods that stay`);
    if (custody.owner !== holder) return reject('FINANCE.NOT_ASSET_OWNER', `${goods.item} is owned by ${custody.owner}; a receipt is issued to the owner of the goods, not to ${holder}`);
    for (const eventId of evidence as string[]) {
      const anchored = ctx.state.get(eventKeyOf(eventId))?.value as AnchoredEvent | null | undefined;
      if (!anchored) return reject('FINANCE.UNKNOWN_EVENT', `evidence event ${eventId} is not anchored on the chain`);
      if (anchored.organizationId !== warehouse) return reject('FINANCE.UNKNOWN_EVENT', `evidence event ${eventId} was captured by ${anchored.organizationId}, not by the warehouse ${warehouse}`);
    }
    const lot = lotOf(ctx, goods.item);
    if (lot) return reject('FINANCE.RECEIPT_EXISTS', `${goods.item} already has live warehouse receipt(s) ${lot.receiptIds.join(', ')}; one lot or SSCC, one receipt`);
    if (toMinor(goods.quantity) > toMinor(onHand)) return reject('FINANCE.QUANTITY_EXCEEDS_ON_HAND', `quantity ${goods.quantity} ${goods.uom} exceeds the ${onHand} ${goods.uom} on hand`);
    const receipt: WarehouseReceipt = {
      receiptId,
      warehouse,
      holder,
      goods,
      evidence: sorted(evidence as string[]),
      currency,
      value,
      expiresOn,
      ...fresh(ctx),
    };
    const record: LotReceipts = { item: goods.item, warehouse, holder, uom: goods.uom, onHand, issued: goods.quantity, receiptIds: [receiptId], updatedAtBlock: ctx.blockNumber };
    return ok(assetWrite(ctx, KIND, receiptId, receipt), recordWrite(lotReceiptKeyOf(goods.item), record));
  },
};

/** The guards of split and merge for one receipt: holder, active (not held), unlocked, no delivery request. */
function divisible(r: WarehouseReceipt, org: string): ContractOutcome | undefined {
  return notHolder(r, org) ?? notActive(r) ?? unlocked(r, `warehouse receipt ${r.receiptId}`) ?? deliveryRequested(r);
}

/** A new receipt of the same family: warehouse, holder, item, uom, currency and evidence as given. */
function child(ctx: ContractContext, from: WarehouseReceipt, receiptId: string, quantity: string, value: string, parentIds: string[], extra: Partial<WarehouseReceipt> = {}): WarehouseReceipt {
  return {
    ...from,
    receiptId,
    goods: { ...from.goods, quantity },
    value,
    ...fresh(ctx),
    parentIds,
    ...extra,
  };
}

/**
 * `finance.warehouse-receipt.split` `{ receiptId, parts: [{ receiptId, quantity, value }] (2-50) }`
 * by the holder, while active, unencumbered, not frozen, not held and without
 * a delivery request: Σ quantities and Σ values equal the parent's exactly
 * (`FINANCE.SPLIT_SUM_MISMATCH`); the children are active receipts of the same
 * goods, holder and evidence; the parent → split. The lot's family keeps its
 * issued total.
 */
export const receiptSplitContract: ContractHandler = {
  type: 'finance.warehouse-receipt.split',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['parts'], 'splits its warehouse receipts');
    if (isOutcome(found)) return found;
    const { payload, receipt, org } = found;
    const parts = payload['parts'];
    if (!Array.isArray(parts) || parts.length < 2 || parts.length > MAX_RECEIPT_PARTS) return financeInvalid(`payload.parts must list 2-${MAX_RECEIPT_PARTS} parts { receiptId, quantity, value }`);
    const seen = new Set<string>();
    for (const [i, p] of parts.entries()) {
      const part = p as Record<string, unknown> | null;
      if (!part || typeof part !== 'object' || Object.keys(part).some((k) => !['receiptId', 'quantity', 'value'].includes(k))) return financeInvalid(`payload.parts[${i}] must be { receiptId, quantity, value }`);
      const id = idOf(part['receiptId'], `parts[${i}].receiptId`);
      if (isOutcome(id)) return id;
      if (!positive(part['quantity']) || !positive(part['value'])) return financeInvalid(`payload.parts[${i}]: quantity and value must be whole numbers > 0 as decimal strings`);
      if (seen.has(id) || id === receipt.receiptId) return financeInvalid(`payload.parts[${i}].receiptId ${id} appears twice`);
      seen.add(id);
    }
    const denied = divisible(receipt, org);
    if (denied) return denied;
    for (const id of seen) if (receiptOf(ctx, id)) return reject('FINANCE.DUPLICATE_ID', `warehouse receipt ${id} already exists`);
    const list = parts as Array<{ receiptId: string; quantity: string; value: string }>;
    const quantity = list.reduce((s, p) => s + toMinor(p.quantity), 0n);
    const value = list.reduce((s, p) => s + toMinor(p.value), 0n);
    if (quantity !== toMinor(receipt.goods.quantity) || value !== toMinor(receipt.value))
      return reject('FINANCE.SPLIT_SUM_MISMATCH', `the parts sum to ${quantity} ${receipt.goods.uom} worth ${value}; receipt ${receipt.receiptId} is ${receipt.goods.quantity} ${receipt.goods.uom} worth ${receipt.value}`);
    const lot = lotOf(ctx, receipt.goods.item) as LotReceipts;
    const children = list.map((p) => child(ctx, receipt, p.receiptId, p.quantity, p.value, [receipt.receiptId]));
    return ok(
      assetWrite(ctx, KIND, receipt.receiptId, { ...receipt, status: 'split', childIds: list.map((p) => p.receiptId), closedAtBlock: ctx.blockNumber }),
      ...children.map((c) => assetWrite(ctx, KIND, c.receiptId, c)),
      lotWrite(ctx, lot, [receipt.receiptId], list.map((p) => p.receiptId)),
    );
  },
};

/**
 * `finance.warehouse-receipt.merge` `{ receiptId, receiptIds: [id…] (2-50) }`
 * by the holder of every one: active receipts of the same lot or SSCC
 * (`FINANCE.MERGE_MISMATCH` otherwise), each unencumbered, not frozen, not
 * held and without a delivery request → one new active receipt (Σ quantity,
 * Σ value, the union of the evidence, the earliest `expiresOn`); the parents → merged.
 */
export const receiptMergeContract: ContractHandler = {
  type: 'finance.warehouse-receipt.merge',
  configuration: false,
  execute(ctx) {
    const denied = mayActWith(ctx, WAREHOUSE_RECEIPT_MANAGE_PERMISSION, 'merges its warehouse receipts');
    if (denied) return denied;
    const payload = financePayloadOf(ctx, ['receiptId', 'receiptIds']);
    if (isOutcome(payload)) return payload;
    const receiptId = idOf(payload['receiptId'], 'receiptId');
    if (isOutcome(receiptId)) return receiptId;
    const ids = payload['receiptIds'];
    if (!Array.isArray(ids) || ids.length < 2 || ids.length > MAX_RECEIPT_PARTS || !ids.every((id) => typeof id === 'string' && FINANCE_ID.test(id)) || new Set(ids).size !== ids.length || ids.includes(receiptId))
      return financeInvalid(`payload.receiptIds must list 2-${MAX_RECEIPT_PARTS} distinct receipt ids other than payload.receiptId`);
    const org = creatorOf(ctx);
    const parents: WarehouseReceipt[] = [];
    for (const id of ids as string[]) {
      const r = receiptOf(ctx, id);
      if (!r) return unknownAsset(KIND, id);
      const bad = divisible(r, org);
      if (bad) return bad;
      if (parents.length > 0 && r.goods.item !== parents[0].goods.item) return reject('FINANCE.MERGE_MISMATCH', `receipt ${id} is for ${r.goods.item}, receipt ${parents[0].receiptId} for ${parents[0].goods.item}; only receipts of one lot or SSCC merge`);
      parents.push(r);
    }
    if (receiptOf(ctx, receiptId)) return reject('FINANCE.DUPLICATE_ID', `warehouse receipt ${receiptId} already exists`);
    const first = parents[0];
    const quantity = amountOf(parents.reduce((s, r) => s + toMinor(r.goods.quantity), 0n));
    const value = amountOf(parents.reduce((s, r) => s + toMinor(r.value), 0n));
    const merged = child(ctx, first, receiptId, quantity, value, ids as string[], {
      evidence: sorted(parents.flatMap((r) => r.evidence)),
      expiresOn: parents.map((r) => r.expiresOn).sort()[0],
    });
    const lot = lotOf(ctx, first.goods.item) as LotReceipts;
    return ok(
      ...parents.map((r) => assetWrite(ctx, KIND, r.receiptId, { ...r, status: 'merged', childIds: [receiptId], closedAtBlock: ctx.blockNumber })),
      assetWrite(ctx, KIND, receiptId, merged),
      lotWrite(ctx, lot, ids as string[], [receiptId]),
    );
  },
};

/**
 * `finance.warehouse-receipt.hold` `{ receiptId, cause: 'sensor-alarm' | 'stock-shortfall', reference }`
 * by the warehouse or the lender (the financier of its encumbrance), while
 * active and not frozen → held: it is not split, merged, delivered, cancelled
 * or financed until released. The finance service notifies the lender from
 * the record's change.
 */
export const receiptHoldContract: ContractHandler = {
  type: 'finance.warehouse-receipt.hold',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['cause', 'reference'], 'holds warehouse receipts');
    if (isOutcome(found)) return found;
    const { payload, receipt, org } = found;
    const cause = payload['cause'];
    if (!HOLD_CAUSES.includes(cause as HoldCause)) return financeInvalid(`payload.cause must be one of ${HOLD_CAUSES.join(', ')}`);
    const reference = textOf(payload['reference'], 'reference', true);
    if (isOutcome(reference)) return reference;
    const lender = receipt.encumbrance?.financier;
    if (org !== receipt.warehouse && org !== lender)
      return reject('FINANCE.NOT_WAREHOUSE_OR_LENDER', `only the warehouse ${receipt.warehouse}${lender ? ` or the lender ${lender}` : ''} holds warehouse receipt ${receipt.receiptId}`);
    const bad = notActive(receipt) ?? notFrozen(receipt, `warehouse receipt ${receipt.receiptId}`);
    if (bad) return bad;
    const hold: ReceiptHold = { cause: cause as HoldCause, reference: reference as string, by: org, atBlock: ctx.blockNumber, at: ctx.blockTimestamp };
    return ok(assetWrite(ctx, KIND, receipt.receiptId, { ...receipt, status: 'held', hold }));
  },
};

/**
 * `finance.warehouse-receipt.release-hold` `{ receiptId }` by the lender when
 * the receipt is encumbered (`FINANCE.NOT_LENDER`), else by the warehouse
 * (`FINANCE.NOT_WAREHOUSE`), while held and not frozen → active.
 */
export const receiptReleaseHoldContract: ContractHandler = {
  type: 'finance.warehouse-receipt.release-hold',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, [], 'releases holds of warehouse receipts');
    if (isOutcome(found)) return found;
    const { receipt, org } = found;
    if (receipt.encumbrance) {
      if (org !== receipt.encumbrance.financier) return reject('FINANCE.NOT_LENDER', `warehouse receipt ${receipt.receiptId} is pledged to ${receipt.encumbrance.financier}; only that lender releases its hold`);
    } else {
      const bad = notWarehouse(receipt, org);
      if (bad) return bad;
    }
    if (receipt.status !== 'held') return reject('FINANCE.INVALID_STATE', `warehouse receipt ${receipt.receiptId} is ${receipt.status}, not held`);
    const bad = notFrozen(receipt, `warehouse receipt ${receipt.receiptId}`);
    if (bad) return bad;
    return ok(assetWrite(ctx, KIND, receipt.receiptId, { ...receipt, status: 'active', hold: null }));
  },
};

/**
 * `finance.warehouse-receipt.request-delivery` `{ receiptId }` by the holder,
 * while active and not frozen (an encumbered receipt may be asked for: the
 * lender's release must still come before the delivery). While the request
 * stands the receipt is not split, merged or financed.
 */
export const receiptRequestDeliveryContract: ContractHandler = {
  type: 'finance.warehouse-receipt.request-delivery',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, [], 'requests the delivery of its goods');
    if (isOutcome(found)) return found;
    const { receipt, org } = found;
    const bad = notHolder(receipt, org) ?? notActive(receipt) ?? notFrozen(receipt, `warehouse receipt ${receipt.receiptId}`) ?? deliveryRequested(receipt);
    if (bad) return bad;
    return ok(assetWrite(ctx, KIND, receipt.receiptId, { ...receipt, deliveryRequestedAtBlock: ctx.blockNumber }));
  },
};

/** `finance.warehouse-receipt.withdraw-delivery` `{ receiptId }` by the holder, while its request stands (active or held, not frozen). */
export const receiptWithdrawDeliveryContract: ContractHandler = {
  type: 'finance.warehouse-receipt.withdraw-delivery',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, [], 'withdraws its delivery requests');
    if (isOutcome(found)) return found;
    const { receipt, org } = found;
    const bad = notHolder(receipt, org) ?? notFrozen(receipt, `warehouse receipt ${receipt.receiptId}`);
    if (bad) return bad;
    if (receipt.deliveryRequestedAtBlock === null || (receipt.status !== 'active' && receipt.status !== 'held'))
      return reject('FINANCE.DELIVERY_NOT_REQUESTED', `no delivery of warehouse receipt ${receipt.receiptId} is requested`);
    return ok(assetWrite(ctx, KIND, receipt.receiptId, { ...receipt, deliveryRequestedAtBlock: null }));
  },
};

/**
 * `finance.warehouse-receipt.deliver` `{ receiptId }` by the warehouse, after
 * the holder's request, while active (not held), not frozen and unencumbered
 * (`FINANCE.ENCUMBERED`: the lender releases its pledge first) → delivered.
 * The lot's issued total and attested on-hand quantity drop by the receipt's quantity.
 */
export const receiptDeliverContract: ContractHandler = {
  type: 'finance.warehouse-receipt.deliver',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, [], 'delivers goods against its warehouse receipts');
    if (isOutcome(found)) return found;
    const { receipt, org } = found;
    const bad = notWarehouse(receipt, org) ?? notActive(receipt) ?? unlocked(receipt, `warehouse receipt ${receipt.receiptId}`);
    if (bad) return bad;
    if (receipt.deliveryRequestedAtBlock === null) return reject('FINANCE.DELIVERY_NOT_REQUESTED', `the holder ${receipt.holder} has not requested the delivery of warehouse receipt ${receipt.receiptId}`);
    const q = toMinor(receipt.goods.quantity);
    return ok(
      assetWrite(ctx, KIND, receipt.receiptId, { ...receipt, status: 'delivered', closedAtBlock: ctx.blockNumber }),
      lotWrite(ctx, lotOf(ctx, receipt.goods.item) as LotReceipts, [receipt.receiptId], [], { issued: -q, onHand: -q }),
    );
  },
};

/**
 * `finance.warehouse-receipt.cancel` `{ receiptId, reason }` by the warehouse,
 * while active (not held), not frozen and unencumbered → cancelled; the goods
 * stay on hand and the lot may have a receipt again.
 */
export const receiptCancelContract: ContractHandler = {
  type: 'finance.warehouse-receipt.cancel',
  configuration: false,
  execute(ctx) {
    const found = existing(ctx, ['reason'], 'cancels its warehouse receipts');
    if (isOutcome(found)) return found;
    const { payload, receipt, org } = found;
    const reason = textOf(payload['reason'], 'reason', true);
    if (isOutcome(reason)) return reason;
    const bad = notWarehouse(receipt, org) ?? notActive(receipt) ?? unlocked(receipt, `warehouse receipt ${receipt.receiptId}`);
    if (bad) return bad;
    return ok(
      assetWrite(ctx, KIND, receipt.receiptId, { ...receipt, status: 'cancelled', closedAtBlock: ctx.blockNumber, reason }),
      lotWrite(ctx, lotOf(ctx, receipt.goods.item) as LotReceipts, [receipt.receiptId], [], { issued: -toMinor(receipt.goods.quantity) }),
    );
  },
};

/**
 * How financing sees a warehouse receipt: the holder applies (a pledge, as a
 * rule); financeable while active, not held and without a delivery request;
 * its value is the receipt's value, its term the end of the storage term.
 */
export const warehouseReceiptAsset: FinanceableAsset<WarehouseReceipt> = {
  kind: KIND,
  holderOf: (r) => r.holder,
  notFinanceable: (r) => notActive(r) ?? deliveryRequested(r),
  currencyOf: (r) => r.currency,
  valueOf: (r) => r.value,
  dueDateOf: (r) => r.expiresOn,
};

export const warehouseReceiptContracts: readonly ContractHandler[] = [
  receiptIssueContract,
  receiptSplitContract,
  receiptMergeContract,
  receiptHoldContract,
  receiptReleaseHoldContract,
  receiptRequestDeliveryContract,
  receiptWithdrawDeliveryContract,
  receiptDeliverContract,
  receiptCancelContract,
];
