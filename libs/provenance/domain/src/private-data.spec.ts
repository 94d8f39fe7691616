import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { disclosePrivate, mayReadPrivate, openCommitment, PRIVATE_DATA, PRIVATE_MARK, privateCommitment, privateReferencesOf, splitPrivate } from './private-data';

const salt = (n: number) => () => new Uint8Array(32).fill(n);
const event = () => ({
  type: 'ObjectEvent',
  eventTime: '2026-12-01T08:00:00.000+08:00',
  eventTimeZoneOffset: '+08:00',
  action: 'OBSERVE',
  epcList: ['urn:epc:id:sgtin:0614141.107346.2017'],
  bizStep: 'shipping',
  bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:PO-1' }],
  'example:unitPrice': '12.50',
  [PRIVATE_MARK]: [
    { fields: ['bizTransactionList', 'example:unitPrice'], readers: ['org2', 'org3'] },
  ],
});

describe('private data of EPCIS events', () => {
  it('takes marked fields out, states a salted SHA-256 commitment an independent hash reproduces, and keeps the rest', () => {
    const split = splitPrivate(event(), 'org1', salt(7));
    expect(split.ok).toBe(true);
    if (!split.ok) return;
    expect(split.event).not.toHaveProperty('bizTransactionList');
    expect(split.event).not.toHaveProperty('example:unitPrice');
    expect(split.event).not.toHaveProperty(PRIVATE_MARK);
    expect(split.event['bizStep']).toBe('shipping');
    const [group] = split.groups;
    expect(group.payload).toBe('{"bizTransactionList":[{"type":"po","bizTransaction":"urn:epcglobal:cbv:bt:0614141073467:PO-1"}],"example:unitPrice":"12.50"}');
    const independent = createHash('sha256').update(Buffer.concat([Buffer.alloc(32, 7), Buffer.from(group.payload, 'utf8')])).digest('hex');
    expect(group.commitment).toBe(independent);
    expect(split.event[PRIVATE_DATA]).toEqual([{ commitment: independent, fields: ['bizTransactionList', 'example:unitPrice'], readers: ['org2', 'org3'] }]);
    expect(JSON.stringify(split.event)).not.toContain('PO-1');
    expect(JSON.stringify(split.event)).not.toContain('12.50');
  });

  it('opens a commitment only with its payload and salt', () => {
    const split = splitPrivate(event(), 'org1', salt(1));
    if (!split.ok) throw new Error(split.detail);
    const g = split.groups[0];
    expect(openCommitment(g.commitment, g.payload, g.salt)).toBe(true);
    expect(openCommitment(g.commitment, g.payload.replace('12.50', '12.51'), g.salt)).toBe(false);
    expect(openCommitment(g.commitment, g.payload, '00'.repeat(32))).toBe(false);
    expect(openCommitment(g.commitment, g.payload, 'zz')).toBe(false);
  });

  it('gives different commitments to the same payload under different salts', () => {
    const a = splitPrivate(event(), 'org1', salt(1));
    const b = splitPrivate(event(), 'org1', salt(2));
    if (!a.ok || !b.ok) throw new Error('split');
    expect(a.groups[0].commitment).not.toBe(b.groups[0].commitment);
    expect(privateCommitment('x', new Uint8Array(32))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('puts the payloads back for a reader and names who may read', () => {
    const split = splitPrivate(event(), 'org1', salt(3));
    if (!split.ok) throw new Error(split.detail);
    const g = split.groups[0];
    const back = disclosePrivate(split.event, new Map([[g.commitment, g.payload]]));
    expect(back['example:unitPrice']).toBe('12.50');
    expect(back['bizTransactionList']).toEqual(event().bizTransactionList);
    expect(back[PRIVATE_DATA]).toEqual(split.event[PRIVATE_DATA]);
    expect(disclosePrivate(split.event, new Map())).toEqual(split.event);
    const [ref] = privateReferencesOf(split.event);
    expect(mayReadPrivate(ref, 'org1', 'org1')).toBe(true);
    expect(mayReadPrivate(ref, 'org1', 'org3')).toBe(true);
    expect(mayReadPrivate(ref, 'org1', 'org4')).toBe(false);
  });

  it('leaves an event without the mark unchanged', () => {
    const { [PRIVATE_MARK]: _mark, ...plain } = event();
    const split = splitPrivate(plain, 'org1', salt(0));
    expect(split).toEqual({ ok: true, event: plain, groups: [] });
  });

  it.each([
    [{ fields: ['epcList'], readers: ['org2'] }, 'cannot be private'],
    [{ fields: ['eventTime'], readers: ['org2'] }, 'cannot be private'],
    [{ fields: ['ilmd'], readers: ['org2'] }, 'has no field ilmd'],
    [{ fields: [], readers: ['org2'] }, 'non-empty list'],
    [{ fields: ['bizStep'], readers: [] }, 'readers must list'],
    [{ fields: ['bizStep'], readers: ['Org 2'] }, 'readers must list'],
    [{ fields: ['bizStep'], readers: ['org2', 'org2'] }, 'twice'],
    [{ fields: ['bizStep'], readers: ['org2'], extra: 1 }, 'unknown property extra'],
    [[{ fields: ['bizStep'], readers: ['org2'] }, { fields: ['bizStep'], readers: ['org3'] }], 'already private'],
    ['bizStep', 'must be an object'],
  ])('refuses a malformed mark %j', (mark, message) => {
    const split = splitPrivate({ ...event(), [PRIVATE_MARK]: mark }, 'org1', salt(0));
    expect(split.ok).toBe(false);
    if (!split.ok) {
      expect(split.code).toBe('PROVENANCE.INVALID_PRIVATE_DATA');
      expect(split.detail).toContain(message);
    }
  });

  it('refuses an event that states private data itself', () => {
    const split = splitPrivate({ ...event(), [PRIVATE_DATA]: [] }, 'org1', salt(0));
    expect(split.ok).toBe(false);
  });
});
