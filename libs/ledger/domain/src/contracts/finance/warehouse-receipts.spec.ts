import { describe, expect, it } from 'vitest';
import { apply, approve, BANK, BANK_2, DEPOSITOR, freeze, GoodsChain, OTHER, releaseFinancing, tx, unfreeze, WAREHOUSE } from '../../../test/goods-finance-chain';
import type { Financing } from './financing';
import { type LotReceipts, lotReceiptKeyOf, WAREHOUSE_RECEIPT_MANAGE_PERMISSION, type WarehouseReceipt, warehouseReceiptAsset } from './warehouse-receipts';

const LOT = 'https://id.gs1.org/01/09521234543213/10/LOT-7';
const LOT_B = 'https://id.gs1.org/01/09521234543213/10/LOT-8';
const SSCC = 'https://id.gs1.org/00/095212345678901234';
const EV1 = 'urn:uuid:6f1a2b3c-0000-4000-8000-000000000001';
const EV2 = 'urn:uuid:6f1a2b3c-0000-4000-8000-000000000002';
const EV_DEPOSITOR = 'urn:uuid:6f1a2b3c-0000-4000-8000-0000000000d1';

const goods = (item = LOT, quantity = '1000', uom = 'KGM') => ({ item, quantity, uom });
const issue = (receiptId: string, extra: Record<string, unknown> = {}, org = WAREHOUSE) =>
  tx(org, 'finance.warehouse-receipt.issue', { receiptId, holder: DEPOSITOR, goods: goods(), evidence: [EV1], currency: 'EUR', value: '5000000', onHand: '1000', expiresOn: '2027-07-01', ...extra });
const op = (org: string, verb: string, payload: Record<string, unknown>) => tx(org, `finance.warehouse-receipt.${verb}`, payload);
const split = (receiptId: string, parts: Array<[string, string, string]>, org = DEPOSITOR) => op(org, 'split', { receiptId, parts: parts.map(([id, quantity, value]) => ({ receiptId: id, quantity, value })) });
const merge = (receiptId: string, receiptIds: string[], org = DEPOSITOR) => op(org, 'merge', { receiptId, receiptIds });
const hold = (receiptId: string, org = WAREHOUSE, cause = 'sensor-alarm', reference = 'alert 2027-01-04/17') => op(org, 'hold', { receiptId, cause, reference });
const releaseHold = (receiptId: string, org = WAREHOUSE) => op(org, 'release-hold', { receiptId });
const requestDelivery = (receiptId: string, org = DEPOSITOR) => op(org, 'request-delivery', { receiptId });
const withdrawDelivery = (receiptId: string, org = DEPOSITOR) => op(org, 'withdraw-delivery', { receiptId });
const deliver = (receiptId: string, org = WAREHOUSE) => op(org, 'deliver', { receiptId });
const cancel = (receiptId: string, org = WAREHOUSE, reason = 'issued in error') => op(org, 'cancel', { receiptId, reason });

/** The depositor registered LOT and handed its custody to the warehouse, which captured its receiving (EV1, EV2); the depositor captured EV_DEPOSITOR. */
function stocked(): GoodsChain {
  const chain = new GoodsChain();
  chain.registerAndHand(DEPOSITOR, LOT, WAREHOUSE);
  chain.capture(WAREHOUSE, EV1, EV2);
  chain.capture(DEPOSITOR, EV_DEPOSITOR);
  return chain;
}

/** `stocked()` with receipt `wr-00000001` for 1000 KGM of LOT worth 50,000.00 EUR. */
function issued(): GoodsChain {
  const chain = stocked();
  chain.ok(issue('wr-00000001'));
  return chain;
}

/** `issued()` with the receipt pledged to BANK (financing `fin-00000001`, approved: the lock). */
function pledged(): GoodsChain {
  const chain = issued();
  chain.ok(apply(DEPOSITOR, 'fin-00000001', 'warehouse-receipt', 'wr-00000001', { principal: '3000000' }));
  chain.ok(approve('fin-00000001'));
  return chain;
}

const receipt = (chain: GoodsChain, id: string) => chain.get<WarehouseReceipt>(`finance/warehouse-receipt/${id}`) as WarehouseReceipt;
const lot = (chain: GoodsChain, item = LOT) => chain.get<LotReceipts>(lotReceiptKeyOf(item));

describe('finance.warehouse-receipt.issue', () => {
  it('issues a receipt for goods in the warehouse’s custody, owned by the holder, with anchored evidence of its own', () => {
    const chain = stocked();
    expect(chain.run(issue('wr-00000001', { evidence: [EV2, EV1] }))).toEqual([{ code: 'VALID', detail: null }]);
    const block = chain.block;
    expect(receipt(chain, 'wr-00000001')).toMatchObject({
      receiptId: 'wr-00000001',
      warehouse: WAREHOUSE,
      holder: DEPOSITOR,
      goods: { item: LOT, quantity: '1000', uom: 'KGM' },
      evidence: [EV1, EV2],
      currency: 'EUR',
      value: '5000000',
      expiresOn: '2027-07-01',
      status: 'active',
      hold: null,
      deliveryRequestedAtBlock: null,
      parentIds: [],
      childIds: [],
      closedAtBlock: null,
      reason: null,
      frozen: null,
      encumbrance: null,
      createdAtBlock: block,
      updatedAtBlock: block,
    } satisfies Omit<WarehouseReceipt, 'lastTransactionId'>);
    expect(lot(chain)).toEqual({ item: LOT, warehouse: WAREHOUSE, holder: DEPOSITOR, uom: 'KGM', onHand: '1000', issued: '1000', receiptIds: ['wr-00000001'], updatedAtBlock: block } satisfies LotReceipts);
  });

  it('issues for an SSCC as well, and to the warehouse itself when it owns the goods', () => {
    const chain = stocked();
    chain.registerAndHand(WAREHOUSE, SSCC);
    expect(chain.code(issue('wr-sscc-0001', { holder: WAREHOUSE, goods: goods(SSCC, '1', 'EA'), onHand: '1' }))).toBe('VALID');
    expect(lot(chain, SSCC)).toMatchObject({ holder: WAREHOUSE, issued: '1', receiptIds: ['wr-sscc-0001'] });
  });

  it('refuses goods the chain does not show in the warehouse’s custody, or not owned by the holder', () => {
    const chain = stocked();
    expect(chain.run(issue('wr-00000001', { goods: goods(LOT_B) }))[0]).toMatchObject({ code: 'FINANCE.GOODS_NOT_IN_CUSTODY', detail: `${LOT_B} is not a registered custody item` });
    chain.registerAndHand(DEPOSITOR, LOT_B); // still with the depositor
    expect(chain.run(issue('wr-00000001', { goods: goods(LOT_B) }))[0]).toMatchObject({ code: 'FINANCE.GOODS_NOT_IN_CUSTODY', detail: `${LOT_B} is in the custody of ${DEPOSITOR}, not of the warehouse ${WAREHOUSE}` });
    // A transfer out of the warehouse is open: the goods may be leaving.
    chain.ok(tx(WAREHOUSE, 'provenance.transfer.propose', { transferId: 'out-00000001', item: LOT, kind: 'custody', to: OTHER }));
    expect(chain.run(issue('wr-00000001'))[0]).toMatchObject({ code: 'FINANCE.GOODS_NOT_IN_CUSTODY', detail: expect.stringMatching(/^transfer out-00000001 of .* is open/) });
    chain.ok(tx(WAREHOUSE, 'provenance.transfer.cancel', { transferId: 'out-00000001' }));
    expect(chain.run(issue('wr-00000001', { holder: OTHER }))[0]).toMatchObject({ code: 'FINANCE.NOT_ASSET_OWNER', detail: expect.stringContaining(`owned by ${DEPOSITOR}`) });
    expect(chain.code(issue('wr-00000001'))).toBe('VALID');
  });

  it('refuses evidence that is not anchored or not captured by the warehouse', () => {
    const chain = stocked();
    expect(chain.run(issue('wr-00000001', { evidence: [EV1, 'urn:uuid:not-anchored'] }))[0]).toMatchObject({ code: 'FINANCE.UNKNOWN_EVENT', detail: 'evidence event urn:uuid:not-anchored is not anchored on the chain' });
    expect(chain.run(issue('wr-00000001', { evidence: [EV_DEPOSITOR] }))[0]).toMatchObject({ code: 'FINANCE.UNKNOWN_EVENT', detail: `evidence event ${EV_DEPOSITOR} was captured by ${DEPOSITOR}, not by the warehouse ${WAREHOUSE}` });
    expect(lot(chain)).toBeUndefined();
  });

  it('never issues more than on hand', () => {
    const chain = stocked();
    expect(chain.run(issue('wr-00000001', { goods: goods(LOT, '1001') }))[0]).toMatchObject({ code: 'FINANCE.QUANTITY_EXCEEDS_ON_HAND', detail: 'quantity 1001 KGM exceeds the 1000 KGM on hand' });
    expect(chain.code(issue('wr-00000001', { goods: goods(LOT, '1000'), onHand: '1200' }))).toBe('VALID');
    expect(lot(chain)).toMatchObject({ onHand: '1200', issued: '1000' });
  });

  it('keeps one live receipt family per lot: a second issue is refused — in the same block too — until the first ends', () => {
    const chain = stocked();
    const [first, second] = chain.run(issue('wr-00000001'), issue('wr-00000002', { goods: goods(LOT, '1') }));
    expect(first.code).toBe('VALID');
    expect(second).toMatchObject({ code: 'FINANCE.RECEIPT_EXISTS', detail: `${LOT} already has live warehouse receipt(s) wr-00000001; one lot or SSCC, one receipt` });
    expect(chain.code(issue('wr-00000001'))).toBe('FINANCE.DUPLICATE_ID');
    // Split children are the same goods: still one family.
    chain.ok(split('wr-00000001', [['wr-00000011', '400', '2000000'], ['wr-00000012', '600', '3000000']]));
    expect(chain.run(issue('wr-00000002'))[0]).toMatchObject({ code: 'FINANCE.RECEIPT_EXISTS', detail: expect.stringContaining('wr-00000011, wr-00000012') });
    chain.ok(cancel('wr-00000011'));
    expect(chain.code(issue('wr-00000002'))).toBe('FINANCE.RECEIPT_EXISTS');
    chain.ok(cancel('wr-00000012'));
    expect(lot(chain)).toBeUndefined();
    expect(chain.code(issue('wr-00000002'))).toBe('VALID');
  });

  it('refuses malformed payloads', () => {
    const chain = stocked();
    const bad: Record<string, unknown>[] = [
      { receiptId: 'short' },
      { holder: 'nobody' },
      { goods: goods('https://id.gs1.org/01/09521234543213') }, // a GTIN, not a lot
      { goods: goods('https://id.gs1.org/01/09521234543213/21/7') }, // a serialised item
      { goods: goods(LOT, '0') },
      { goods: goods(LOT, '1.5') },
      { goods: goods(LOT, '10', 'kg') },
      { goods: { ...goods(), colour: 'red' } },
      { evidence: [] },
      { evidence: [EV1, EV1] },
      { currency: 'eur' },
      { value: '0' },
      { value: '050' },
      { onHand: '-1' },
      { expiresOn: chain.today },
      { expiresOn: '2027-02-30' },
      { note: 'extra' },
    ];
    for (const extra of bad) expect(chain.code(issue('wr-00000001', extra)), JSON.stringify(extra)).toBe('FINANCE.INVALID');
    expect(receipt(chain, 'wr-00000001')).toBeUndefined();
  });

  it('is for an admin key or an agent with finance.warehouse-receipt.manage', () => {
    const chain = stocked();
    const clerk = chain.agent(WAREHOUSE, 'clerk', ['provenance.custody.manage']);
    const officer = chain.agent(WAREHOUSE, 'officer', [WAREHOUSE_RECEIPT_MANAGE_PERMISSION]);
    expect(chain.code({ ...issue('wr-00000001'), key: clerk })).toBe('IDENTITY.NOT_ALLOWED');
    expect(chain.code({ ...issue('wr-00000001'), key: officer })).toBe('VALID');
    // The depositor cannot issue a receipt for goods it holds itself in the warehouse's name: the warehouse is the signer.
    expect(chain.code(issue('wr-00000002', { goods: goods(LOT_B) }, DEPOSITOR))).toBe('FINANCE.GOODS_NOT_IN_CUSTODY');
  });
});

describe('finance.warehouse-receipt.split', () => {
  it('splits into active children whose quantities and values sum exactly to the parent’s', () => {
    const chain = issued();
    expect(chain.code(split('wr-00000001', [['wr-00000011', '250', '1250000'], ['wr-00000012', '750', '3750000']]))).toBe('VALID');
    const block = chain.block;
    expect(receipt(chain, 'wr-00000001')).toMatchObject({ status: 'split', childIds: ['wr-00000011', 'wr-00000012'], closedAtBlock: block });
    expect(receipt(chain, 'wr-00000011')).toMatchObject({
      status: 'active',
      holder: DEPOSITOR,
      warehouse: WAREHOUSE,
      goods: { item: LOT, quantity: '250', uom: 'KGM' },
      value: '1250000',
      evidence: [EV1],
      expiresOn: '2027-07-01',
      parentIds: ['wr-00000001'],
      childIds: [],
      createdAtBlock: block,
    });
    expect(lot(chain)).toMatchObject({ issued: '1000', receiptIds: ['wr-00000011', 'wr-00000012'] });
  });

  it('refuses sums that differ, malformed parts, taken ids and anyone but the holder', () => {
    const chain = issued();
    expect(chain.run(split('wr-00000001', [['wr-00000011', '250', '1250000'], ['wr-00000012', '749', '3750000']]))[0]).toMatchObject({
      code: 'FINANCE.SPLIT_SUM_MISMATCH',
      detail: 'the parts sum to 999 KGM worth 5000000; receipt wr-00000001 is 1000 KGM worth 5000000',
    });
    expect(chain.code(split('wr-00000001', [['wr-00000011', '250', '1250000'], ['wr-00000012', '750', '3750001']]))).toBe('FINANCE.SPLIT_SUM_MISMATCH');
    expect(chain.code(split('wr-00000001', [['wr-00000011', '1000', '5000000']]))).toBe('FINANCE.INVALID');
    expect(chain.code(split('wr-00000001', [['wr-00000011', '0', '1'], ['wr-00000012', '1000', '4999999']]))).toBe('FINANCE.INVALID');
    expect(chain.code(split('wr-00000001', [['wr-00000011', '500', '2500000'], ['wr-00000011', '500', '2500000']]))).toBe('FINANCE.INVALID');
    expect(chain.code(split('wr-00000001', [['wr-00000001', '500', '2500000'], ['wr-00000012', '500', '2500000']]))).toBe('FINANCE.INVALID');
    expect(chain.code(split('wr-00000001', [['wr-00000011', '500', '2500000'], ['wr-00000012', '500', '2500000']], WAREHOUSE))).toBe('FINANCE.NOT_HOLDER');
    expect(chain.code(split('wr-00000009', [['wr-00000011', '500', '2500000'], ['wr-00000012', '500', '2500000']]))).toBe('FINANCE.UNKNOWN_WAREHOUSE_RECEIPT');
    chain.ok(split('wr-00000001', [['wr-00000011', '500', '2500000'], ['wr-00000012', '500', '2500000']]));
    expect(chain.code(split('wr-00000001', [['wr-00000021', '500', '2500000'], ['wr-00000022', '500', '2500000']]))).toBe('FINANCE.INVALID_STATE');
    expect(chain.code(split('wr-00000011', [['wr-00000012', '250', '1250000'], ['wr-00000022', '250', '1250000']]))).toBe('FINANCE.DUPLICATE_ID');
    expect(receipt(chain, 'wr-00000011').status).toBe('active');
  });

  it('refuses a held, frozen, pledged or delivery-requested receipt', () => {
    const parts: Array<[string, string, string]> = [['wr-00000011', '500', '2500000'], ['wr-00000012', '500', '2500000']];
    const held = issued();
    held.ok(hold('wr-00000001'));
    expect(held.code(split('wr-00000001', parts))).toBe('FINANCE.RECEIPT_HELD');
    const frozen = issued();
    frozen.ok(freeze('warehouse-receipt', 'wr-00000001'));
    expect(frozen.code(split('wr-00000001', parts))).toBe('FINANCE.FROZEN');
    frozen.ok(unfreeze('warehouse-receipt', 'wr-00000001'));
    expect(frozen.code(split('wr-00000001', parts))).toBe('VALID');
    const chain = pledged();
    expect(chain.run(split('wr-00000001', parts))[0]).toMatchObject({ code: 'FINANCE.ENCUMBERED', detail: `warehouse receipt wr-00000001 is encumbered by pledge fin-00000001 of ${BANK}` });
    const requested = issued();
    requested.ok(requestDelivery('wr-00000001'));
    expect(requested.code(split('wr-00000001', parts))).toBe('FINANCE.DELIVERY_REQUESTED');
  });
});

describe('finance.warehouse-receipt.merge', () => {
  it('merges active receipts of one lot and holder into a new one; the parents end merged', () => {
    const chain = issued();
    chain.ok(split('wr-00000001', [['wr-00000011', '200', '1000000'], ['wr-00000012', '300', '1500000'], ['wr-00000013', '500', '2500000']]));
    expect(chain.code(merge('wr-00000020', ['wr-00000013', 'wr-00000011']))).toBe('VALID');
    const block = chain.block;
    expect(receipt(chain, 'wr-00000020')).toMatchObject({ status: 'active', goods: { item: LOT, quantity: '700', uom: 'KGM' }, value: '3500000', parentIds: ['wr-00000013', 'wr-00000011'], childIds: [], createdAtBlock: block });
    for (const id of ['wr-00000011', 'wr-00000013']) expect(receipt(chain, id)).toMatchObject({ status: 'merged', childIds: ['wr-00000020'], closedAtBlock: block });
    expect(lot(chain)).toMatchObject({ issued: '1000', receiptIds: ['wr-00000012', 'wr-00000020'] });
  });

  it('refuses receipts of different goods or holders, unknown, repeated or taken ids, and locked receipts', () => {
    const chain = issued();
    chain.registerAndHand(DEPOSITOR, LOT_B, WAREHOUSE);
    chain.ok(issue('wr-00000002', { goods: goods(LOT_B, '10') }));
    expect(chain.run(merge('wr-00000020', ['wr-00000001', 'wr-00000002']))[0]).toMatchObject({ code: 'FINANCE.MERGE_MISMATCH', detail: expect.stringContaining('only receipts of one lot or SSCC merge') });
    chain.ok(split('wr-00000001', [['wr-00000011', '500', '2500000'], ['wr-00000012', '500', '2500000']]));
    expect(chain.code(merge('wr-00000020', ['wr-00000011', 'wr-00000012'], WAREHOUSE))).toBe('FINANCE.NOT_HOLDER');
    expect(chain.code(merge('wr-00000020', ['wr-00000011', 'wr-00000099']))).toBe('FINANCE.UNKNOWN_WAREHOUSE_RECEIPT');
    expect(chain.code(merge('wr-00000020', ['wr-00000011']))).toBe('FINANCE.INVALID');
    expect(chain.code(merge('wr-00000020', ['wr-00000011', 'wr-00000011']))).toBe('FINANCE.INVALID');
    expect(chain.code(merge('wr-00000011', ['wr-00000011', 'wr-00000012']))).toBe('FINANCE.INVALID');
    expect(chain.code(merge('wr-00000002', ['wr-00000011', 'wr-00000012']))).toBe('FINANCE.DUPLICATE_ID');
    expect(chain.code(merge('wr-00000020', ['wr-00000001', 'wr-00000012']))).toBe('FINANCE.INVALID_STATE'); // the split parent
    chain.ok(hold('wr-00000012', WAREHOUSE, 'stock-shortfall', 'count 2027-01-04'));
    expect(chain.code(merge('wr-00000020', ['wr-00000011', 'wr-00000012']))).toBe('FINANCE.RECEIPT_HELD');
    chain.ok(releaseHold('wr-00000012'));
    chain.ok(apply(DEPOSITOR, 'fin-00000011', 'warehouse-receipt', 'wr-00000011'));
    chain.ok(approve('fin-00000011'));
    expect(chain.code(merge('wr-00000020', ['wr-00000011', 'wr-00000012']))).toBe('FINANCE.ENCUMBERED');
    chain.ok(releaseFinancing('fin-00000011'));
    expect(chain.code(merge('wr-00000020', ['wr-00000011', 'wr-00000012']))).toBe('VALID');
    expect(lot(chain)).toMatchObject({ receiptIds: ['wr-00000020'] });
  });
});

describe('finance.warehouse-receipt.hold and release-hold', () => {
  it('the warehouse holds an unpledged receipt and releases it', () => {
    const chain = issued();
    expect(chain.code(hold('wr-00000001', WAREHOUSE, 'stock-shortfall', 'cycle count 2027-01-04: 940 KGM'))).toBe('VALID');
    expect(receipt(chain, 'wr-00000001')).toMatchObject({ status: 'held', hold: { cause: 'stock-shortfall', reference: 'cycle count 2027-01-04: 940 KGM', by: WAREHOUSE, atBlock: chain.block, at: `${chain.today}T08:00:${String(chain.block).padStart(2, '0')}.000Z` } });
    expect(chain.code(hold('wr-00000001'))).toBe('FINANCE.RECEIPT_HELD');
    expect(chain.code(releaseHold('wr-00000001', DEPOSITOR))).toBe('FINANCE.NOT_WAREHOUSE');
    expect(chain.code(releaseHold('wr-00000001'))).toBe('VALID');
    expect(receipt(chain, 'wr-00000001')).toMatchObject({ status: 'active', hold: null });
    expect(chain.code(releaseHold('wr-00000001'))).toBe('FINANCE.INVALID_STATE');
  });

  it('the lender of a pledged receipt holds it too, and then only the lender releases it', () => {
    const chain = pledged();
    expect(chain.code(hold('wr-00000001', BANK, 'sensor-alarm', 'rule cold-chain-2 breach'))).toBe('VALID');
    expect(receipt(chain, 'wr-00000001').hold).toMatchObject({ cause: 'sensor-alarm', by: BANK });
    expect(chain.run(releaseHold('wr-00000001'))[0]).toMatchObject({ code: 'FINANCE.NOT_LENDER', detail: `warehouse receipt wr-00000001 is pledged to ${BANK}; only that lender releases its hold` });
    expect(chain.code(releaseHold('wr-00000001', BANK))).toBe('VALID');
    // The warehouse's own hold on a pledged receipt is the lender's to lift as well.
    chain.ok(hold('wr-00000001', WAREHOUSE));
    expect(chain.code(releaseHold('wr-00000001'))).toBe('FINANCE.NOT_LENDER');
    expect(chain.code(releaseHold('wr-00000001', BANK))).toBe('VALID');
  });

  it('refuses anyone but the warehouse and the lender, bad causes, missing references, frozen and closed receipts', () => {
    const chain = issued();
    for (const org of [DEPOSITOR, BANK, OTHER]) expect(chain.code(hold('wr-00000001', org))).toBe('FINANCE.NOT_WAREHOUSE_OR_LENDER');
    expect(chain.code(hold('wr-00000001', WAREHOUSE, 'flood'))).toBe('FINANCE.INVALID');
    expect(chain.code(op(WAREHOUSE, 'hold', { receiptId: 'wr-00000001', cause: 'sensor-alarm' }))).toBe('FINANCE.INVALID');
    expect(chain.code(hold('wr-00000009'))).toBe('FINANCE.UNKNOWN_WAREHOUSE_RECEIPT');
    chain.ok(hold('wr-00000001'));
    chain.ok(freeze('warehouse-receipt', 'wr-00000001'));
    expect(chain.code(releaseHold('wr-00000001'))).toBe('FINANCE.FROZEN');
    chain.ok(unfreeze('warehouse-receipt', 'wr-00000001'));
    chain.ok(releaseHold('wr-00000001'));
    chain.ok(freeze('warehouse-receipt', 'wr-00000001'));
    expect(chain.code(hold('wr-00000001'))).toBe('FINANCE.FROZEN');
    chain.ok(unfreeze('warehouse-receipt', 'wr-00000001'));
    chain.ok(cancel('wr-00000001'));
    expect(chain.code(hold('wr-00000001'))).toBe('FINANCE.INVALID_STATE');
  });

  it('a held receipt is not financed, and a hold placed after the application blocks the approval', () => {
    const chain = issued();
    chain.ok(apply(DEPOSITOR, 'fin-00000001', 'warehouse-receipt', 'wr-00000001'));
    chain.ok(hold('wr-00000001'));
    expect(chain.code(approve('fin-00000001'))).toBe('FINANCE.RECEIPT_HELD');
    expect(chain.code(apply(DEPOSITOR, 'fin-00000002', 'warehouse-receipt', 'wr-00000001'))).toBe('FINANCE.RECEIPT_HELD');
    chain.ok(releaseHold('wr-00000001'));
    expect(chain.code(approve('fin-00000001'))).toBe('VALID');
  });
});

describe('delivery', () => {
  it('needs the holder’s request and the lender’s release first', () => {
    const chain = pledged();
    expect(chain.run(deliver('wr-00000001'))[0]).toMatchObject({ code: 'FINANCE.ENCUMBERED' });
    expect(chain.code(requestDelivery('wr-00000001', WAREHOUSE))).toBe('FINANCE.NOT_HOLDER');
    expect(chain.code(requestDelivery('wr-00000001'))).toBe('VALID');
    expect(receipt(chain, 'wr-00000001').deliveryRequestedAtBlock).toBe(chain.block);
    expect(chain.code(requestDelivery('wr-00000001'))).toBe('FINANCE.DELIVERY_REQUESTED');
    expect(chain.run(deliver('wr-00000001'))[0]).toMatchObject({ code: 'FINANCE.ENCUMBERED', detail: `warehouse receipt wr-00000001 is encumbered by pledge fin-00000001 of ${BANK}` });
    chain.ok(releaseFinancing('fin-00000001'));
    expect(chain.code(deliver('wr-00000001', DEPOSITOR))).toBe('FINANCE.NOT_WAREHOUSE');
    expect(chain.code(deliver('wr-00000001'))).toBe('VALID');
    expect(receipt(chain, 'wr-00000001')).toMatchObject({ status: 'delivered', closedAtBlock: chain.block, encumbrance: null });
    expect(lot(chain)).toBeUndefined();
    expect(chain.code(deliver('wr-00000001'))).toBe('FINANCE.INVALID_STATE');
    expect(chain.code(apply(DEPOSITOR, 'fin-00000002', 'warehouse-receipt', 'wr-00000001'))).toBe('FINANCE.INVALID_STATE');
  });

  it('is refused without a request, while held or frozen; a withdrawn request must be made again', () => {
    const chain = issued();
    expect(chain.run(deliver('wr-00000001'))[0]).toMatchObject({ code: 'FINANCE.DELIVERY_NOT_REQUESTED', detail: `the holder ${DEPOSITOR} has not requested the delivery of warehouse receipt wr-00000001` });
    chain.ok(requestDelivery('wr-00000001'));
    // While the request stands the receipt is not financed.
    expect(chain.code(apply(DEPOSITOR, 'fin-00000001', 'warehouse-receipt', 'wr-00000001'))).toBe('FINANCE.DELIVERY_REQUESTED');
    chain.ok(hold('wr-00000001', WAREHOUSE, 'sensor-alarm', 'humidity alert 9'));
    expect(chain.code(deliver('wr-00000001'))).toBe('FINANCE.RECEIPT_HELD');
    expect(chain.code(requestDelivery('wr-00000001'))).toBe('FINANCE.RECEIPT_HELD');
    chain.ok(releaseHold('wr-00000001'));
    chain.ok(freeze('warehouse-receipt', 'wr-00000001'));
    expect(chain.code(deliver('wr-00000001'))).toBe('FINANCE.FROZEN');
    expect(chain.code(withdrawDelivery('wr-00000001'))).toBe('FINANCE.FROZEN');
    chain.ok(unfreeze('warehouse-receipt', 'wr-00000001'));
    expect(chain.code(withdrawDelivery('wr-00000001', WAREHOUSE))).toBe('FINANCE.NOT_HOLDER');
    expect(chain.code(withdrawDelivery('wr-00000001'))).toBe('VALID');
    expect(receipt(chain, 'wr-00000001').deliveryRequestedAtBlock).toBeNull();
    expect(chain.code(withdrawDelivery('wr-00000001'))).toBe('FINANCE.DELIVERY_NOT_REQUESTED');
    expect(chain.code(deliver('wr-00000001'))).toBe('FINANCE.DELIVERY_NOT_REQUESTED');
    expect(chain.code(apply(DEPOSITOR, 'fin-00000001', 'warehouse-receipt', 'wr-00000001'))).toBe('VALID');
  });

  it('of a split child lowers the lot’s issued and on-hand quantities by what left', () => {
    const chain = issued();
    chain.ok(split('wr-00000001', [['wr-00000011', '300', '1500000'], ['wr-00000012', '700', '3500000']]));
    chain.ok(requestDelivery('wr-00000011'));
    chain.ok(deliver('wr-00000011'));
    expect(lot(chain)).toMatchObject({ onHand: '700', issued: '700', receiptIds: ['wr-00000012'] });
  });
});

describe('finance.warehouse-receipt.cancel', () => {
  it('the warehouse cancels an unpledged, unheld receipt with a reason; the goods stay on hand', () => {
    const chain = issued();
    chain.ok(split('wr-00000001', [['wr-00000011', '300', '1500000'], ['wr-00000012', '700', '3500000']]));
    expect(chain.code(op(WAREHOUSE, 'cancel', { receiptId: 'wr-00000011' }))).toBe('FINANCE.INVALID');
    expect(chain.code(cancel('wr-00000011', DEPOSITOR))).toBe('FINANCE.NOT_WAREHOUSE');
    expect(chain.code(cancel('wr-00000011'))).toBe('VALID');
    expect(receipt(chain, 'wr-00000011')).toMatchObject({ status: 'cancelled', reason: 'issued in error', closedAtBlock: chain.block });
    expect(lot(chain)).toMatchObject({ onHand: '1000', issued: '700', receiptIds: ['wr-00000012'] });
    expect(chain.code(cancel('wr-00000011'))).toBe('FINANCE.INVALID_STATE');
    chain.ok(hold('wr-00000012'));
    expect(chain.code(cancel('wr-00000012'))).toBe('FINANCE.RECEIPT_HELD');
  });

  it('is refused while pledged', () => {
    const chain = pledged();
    expect(chain.code(cancel('wr-00000001'))).toBe('FINANCE.ENCUMBERED');
    expect(receipt(chain, 'wr-00000001').status).toBe('active');
  });
});

describe('financing a warehouse receipt (warehouseReceiptAsset)', () => {
  it('the holder pledges it for its value until the storage term ends; one lock, the second approval loses', () => {
    const chain = issued();
    expect(chain.code(apply(OTHER, 'fin-00000001', 'warehouse-receipt', 'wr-00000001'))).toBe('FINANCE.NOT_HOLDER');
    chain.ok(apply(DEPOSITOR, 'fin-00000001', 'warehouse-receipt', 'wr-00000001', { principal: '4000000' }));
    chain.ok(apply(DEPOSITOR, 'fin-00000002', 'warehouse-receipt', 'wr-00000001', { financier: BANK_2 }));
    expect(chain.get<Financing>('finance/financing/fin-00000001')).toMatchObject({ faceValue: '5000000', principal: '4000000', dueDate: '2027-07-01', currency: 'EUR' });
    const [first, second] = chain.run(approve('fin-00000001'), approve('fin-00000002', BANK_2));
    expect(first.code).toBe('VALID');
    expect(second.code).toBe('FINANCE.ALREADY_ENCUMBERED');
    expect(receipt(chain, 'wr-00000001').encumbrance).toEqual({ kind: 'pledge', financingId: 'fin-00000001', financier: BANK, sinceBlock: chain.block });
  });

  it('states holder, financeability, currency, value and term', () => {
    const chain = issued();
    const r = receipt(chain, 'wr-00000001');
    expect([warehouseReceiptAsset.kind, warehouseReceiptAsset.holderOf(r), warehouseReceiptAsset.currencyOf(r), warehouseReceiptAsset.valueOf(r), warehouseReceiptAsset.dueDateOf(r)]).toEqual([
      'warehouse-receipt',
      DEPOSITOR,
      'EUR',
      '5000000',
      '2027-07-01',
    ]);
    expect(warehouseReceiptAsset.notFinanceable(r)).toBeUndefined();
    for (const status of ['split', 'merged', 'delivered', 'cancelled'] as const) expect(warehouseReceiptAsset.notFinanceable({ ...r, status })).toMatchObject({ code: 'FINANCE.INVALID_STATE' });
    expect(warehouseReceiptAsset.notFinanceable({ ...r, status: 'held' })).toMatchObject({ code: 'FINANCE.RECEIPT_HELD' });
    expect(warehouseReceiptAsset.notFinanceable({ ...r, deliveryRequestedAtBlock: 3 })).toMatchObject({ code: 'FINANCE.DELIVERY_REQUESTED' });
  });
});
