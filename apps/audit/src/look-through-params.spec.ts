import { describe, expect, it } from 'vitest';
import { AllianceError } from '@alliance/shared/util-errors';
import { intOf, itemOf, onlyParameters, oneOf, organizationIdOf, receivableIdOf, TRACE_DIRECTIONS, windowOf } from './look-through-params';
import { carriesEvent, relationOf } from './look-through-views';

const refused = (fn: () => unknown, parameter: string) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AllianceError);
    expect((error as AllianceError).code).toBe('AUDIT.INVALID_QUERY');
    expect((error as AllianceError).details).toMatchObject({ parameter });
    return;
  }
  throw new Error('not refused');
};

describe('look-through parameters', () => {
  it('checks ids, integers, enums, items and windows, naming the parameter', () => {
    expect(organizationIdOf('org-1')).toBe('org-1');
    refused(() => organizationIdOf('Org1'), 'organizationId');
    expect(receivableIdOf('abc_DEF-12')).toBe('abc_DEF-12');
    refused(() => receivableIdOf('short'), 'receivableId');
    expect(intOf(undefined, 'depth', 1, 50)).toBeUndefined();
    expect(intOf('50', 'depth', 1, 50)).toBe(50);
    refused(() => intOf('51', 'depth', 1, 50), 'depth');
    refused(() => intOf('1.5', 'depth', 1, 50), 'depth');
    expect(oneOf('both', TRACE_DIRECTIONS, 'direction')).toBe('both');
    refused(() => oneOf('up', TRACE_DIRECTIONS, 'direction'), 'direction');
    refused(() => itemOf(' '), 'item');
    expect(windowOf('2027-01-01', '2027-01-01')).toEqual({ from: '2027-01-01', to: '2027-01-01' });
    refused(() => windowOf('2027-01-02', '2027-01-01'), 'to');
    refused(() => windowOf('2027-02-29', '2027-03-01'), 'from');
    refused(() => onlyParameters({ epc: 'x' }, ['item']), 'epc');
    refused(() => onlyParameters({ item: ['a', 'b'] }, ['item']), 'item');
  });

  it('how a proposal concerns an organization; whether a capture carries an event at its position', () => {
    const p = { organizationId: 'org5', proposedBy: 'org1', votes: { org2: false, org1: true } };
    expect(relationOf(p, 'org5')).toEqual(['subject']);
    expect(relationOf(p, 'org1')).toEqual(['proposer', 'voter']);
    expect(relationOf(p, 'org3')).toEqual([]);
    const receipt = { envelope: { transaction: { payload: { events: [{ eventId: 'e1' }, { eventId: 'e2' }] } } } };
    expect(carriesEvent(receipt, 1, 'e2')).toBe(true);
    expect(carriesEvent(receipt, 0, 'e2')).toBe(false);
    expect(carriesEvent({}, 0, 'e1')).toBe(false);
  });
});
