import { describe, expect, it } from 'vitest';
import { addDecimal, stockLevelsOf } from './stock';

const LOT = 'https://id.gs1.org/01/09506000134352/10/L1';
const SSCC = 'https://id.gs1.org/00/106141410000000019';
let seq = 0;
const row = (over: Record<string, unknown>) => ({
  seq: String(++seq),
  event_id: `ev-${seq}`,
  type: 'ObjectEvent',
  action: 'OBSERVE',
  biz_step: null,
  origin: 'capture',
  organization_id: 'wh',
  role: 'quantity',
  quantity: null,
  uom: 'KGM',
  block_number: String(seq),
  party_org: null,
  ...over,
});
/** The rows the SQL would return (already in repository order); the rule under test is the fold over them. */
const levels = (item: string, rows: Array<Record<string, unknown>>) => stockLevelsOf({ query: async () => ({ rows }) } as never, item);

describe('addDecimal', () => {
  it('adds exactly at the longer scale, without trailing fraction zeros', () => {
    expect(addDecimal('0.1', '0.2')).toBe('0.3');
    expect(addDecimal('1000', '-300')).toBe('700');
    expect(addDecimal('12.50', '-0.5')).toBe('12');
    expect(addDecimal('99999999999999999999.999', '0.001')).toBe('100000000000000000000');
    expect(addDecimal('1', '-1.25')).toBe('-0.25');
    expect(() => addDecimal('1e3', '1')).toThrow(/not a plain decimal/);
  });
});

describe('stockLevelsOf: the on-hand rule over an item’s events', () => {
  it('receiving adds, shipping removes, a transformation consumes its input; other steps leave it', async () => {
    const result = await levels(LOT, [
      row({ biz_step: 'receiving', quantity: '1000' }),
      row({ biz_step: 'storing', quantity: '1000' }),
      row({ biz_step: 'shipping', quantity: '300' }),
      row({ type: 'TransformationEvent', action: null, role: 'input_quantity', quantity: '50.5' }),
      row({ biz_step: 'receiving', quantity: '7', uom: 'EA' }),
    ]);
    expect(result).toEqual([
      { item: LOT, organizationId: 'wh', uom: 'EA', onHand: '7', eventId: 'ev-5', blockNumber: 5 },
      { item: LOT, organizationId: 'wh', uom: 'KGM', onHand: '649.5', eventId: 'ev-4', blockNumber: 4 },
    ]);
  });

  it('a transfer’s derived events count for its sender and recipient; a shipment of an unstated quantity empties the sender', async () => {
    const result = await levels(LOT, [
      row({ organization_id: 'dep', biz_step: 'receiving', quantity: '40' }),
      row({ organization_id: 'wh', origin: 'transfer:t1', party_org: 'dep', biz_step: 'shipping' }),
      row({ organization_id: 'wh', origin: 'transfer:t1', party_org: 'wh', biz_step: 'receiving' }),
    ]);
    // The recipient's receiving of an unstated quantity adds nothing and makes no level of its own.
    expect(result.map((l) => [l.organizationId, l.uom, l.onHand, l.eventId])).toEqual([['dep', 'KGM', '0', 'ev-' + String(seq - 1)]]);
    const counted = await levels(LOT, [row({ biz_step: 'receiving', quantity: '12', uom: null })]);
    expect(counted.map((l) => [l.uom, l.onHand])).toEqual([['EA', '12']]);
  });

  it('never goes below zero; an instance counts 1 or 0; DELETE and ADD move it', async () => {
    expect((await levels(LOT, [row({ biz_step: 'shipping', quantity: '5' })]))[0].onHand).toBe('0');
    const unit = (over: Record<string, unknown>) => row({ role: 'epc', uom: null, ...over });
    expect((await levels(SSCC, [unit({ biz_step: 'receiving' }), unit({ biz_step: 'arriving' })]))[0]).toMatchObject({ uom: null, onHand: '1' });
    expect((await levels(SSCC, [unit({ action: 'ADD', biz_step: 'commissioning' }), unit({ biz_step: 'departing' })]))[0].onHand).toBe('0');
    expect((await levels(SSCC, [unit({ action: 'ADD' }), unit({ action: 'DELETE', biz_step: 'decommissioning' })]))[0].onHand).toBe('0');
    // An aggregation moves the pallet only through its parent's shipping and receiving, not by packing.
    expect(await levels(SSCC, [unit({ type: 'AggregationEvent', action: 'ADD', role: 'parent', biz_step: 'packing' })])).toEqual([]);
    expect((await levels(SSCC, [unit({ type: 'AggregationEvent', role: 'parent', biz_step: 'receiving' })]))[0].onHand).toBe('1');
  });
});
