import { describe, expect, it } from 'vitest';
import type { CommittedBlock, CommittedTransaction } from '@alliance/shared/data-access-messaging';
import { alertsOfBlock, doubleFinancingOf, freezeOfRecordChange, membershipAlertOf, membershipFactsOf, recallsOf, sensorBreachOf } from './alerts-derive';
import { membershipFactOfEvent } from './alerts-watch';
import { alertIdOf } from './alerts-store';

const T = (n: number) => n.toString(16).padStart(64, '0');
const AT = '2026-12-06T10:00:00.000Z';
const tx = (over: Partial<CommittedTransaction>): CommittedTransaction => ({ transactionId: T(1), leafIndex: 0, type: null, organizationId: 'org1', code: 'VALID', payload: {}, writes: [], ...over });
const block = (transactions: CommittedTransaction[], blockNumber = 7): CommittedBlock => ({ chainId: 'c', blockNumber, headerHash: T(99), committedAt: AT, transactions });

describe('alerts derived from blocks', () => {
  it('raises a refused double financing for the codes that mean one, and only for the types they mean it for', () => {
    const approve = tx({ type: 'finance.financing.approve', code: 'FINANCE.ALREADY_ENCUMBERED', organizationId: 'org4', payload: { financingId: 'f2', rateBps: 1 } });
    const a = doubleFinancingOf(block([]), approve);
    expect(a).toMatchObject({ alertId: alertIdOf('double-financing-refused', T(1)), kind: 'double-financing-refused', severity: 'warning', subject: 'finance/financing/f2', organizationId: 'org4', blockNumber: 7, occurredAt: AT });
    expect(a?.detail).toMatchObject({ code: 'FINANCE.ALREADY_ENCUMBERED', transactionType: 'finance.financing.approve' });
    expect(doubleFinancingOf(block([]), tx({ type: 'finance.financing.apply', code: 'FINANCE.ENCUMBERED', payload: { assetKind: 'receivable', assetId: 'r1' } }))?.subject).toBe('finance/receivable/r1');
    expect(doubleFinancingOf(block([]), tx({ type: 'finance.receivable.issue', code: 'FINANCE.DOCUMENT_OVERCOMMITTED', payload: { receivableId: 'r2' } }))?.subject).toBe('finance/receivable/r2');
    // Moving a pledged asset, a credit limit, another refusal, a valid transaction: no alert.
    expect(doubleFinancingOf(block([]), tx({ type: 'finance.receivable.transfer', code: 'FINANCE.ENCUMBERED', payload: { receivableId: 'r1' } }))).toBeNull();
    expect(doubleFinancingOf(block([]), tx({ type: 'finance.receivable.confirm', code: 'FINANCE.CREDIT_LINE_EXCEEDED' }))).toBeNull();
    expect(doubleFinancingOf(block([]), tx({ type: 'finance.financing.approve', code: 'FINANCE.FROZEN' }))).toBeNull();
    expect(doubleFinancingOf(block([]), tx({ type: 'finance.financing.approve' }))).toBeNull();
  });

  it('raises a freeze (warning) and its lifting (info) from the asset write, the same alert as from the finance event', () => {
    const record = { receivableId: 'r1', holder: 'org1', status: 'issued', frozen: { by: 'reg', reason: 'court order', orderReference: 'C-1', atBlock: 7, at: AT } };
    const frozen = alertsOfBlock(block([tx({ type: 'finance.asset.freeze', organizationId: 'reg', writes: [{ key: 'finance/receivable/r1', value: record, version: 3 }] })]));
    expect(frozen).toHaveLength(1);
    expect(frozen[0]).toMatchObject({ kind: 'asset-frozen', severity: 'warning', subject: 'finance/receivable/r1', organizationId: 'org1', detail: { change: 'frozen', by: 'reg', reason: 'court order', orderReference: 'C-1' } });
    const fromEvent = freezeOfRecordChange({ chainId: 'c', blockNumber: 7, transactionId: T(1), transactionType: 'finance.asset.freeze', key: 'finance/receivable/r1', id: 'r1', previousStatus: 'issued', status: 'issued', record }, AT);
    expect(fromEvent).toEqual(frozen[0]);
    const lifted = alertsOfBlock(block([tx({ transactionId: T(2), type: 'finance.asset.unfreeze', writes: [{ key: 'finance/receivable/r1', value: { ...record, frozen: null }, version: 4 }] })]));
    expect(lifted[0]).toMatchObject({ kind: 'asset-frozen', severity: 'info', detail: { change: 'unfrozen' } });
    expect(lifted[0].alertId).not.toBe(frozen[0].alertId);
    // Other writes of finance records are not freezes.
    expect(alertsOfBlock(block([tx({ type: 'finance.receivable.transfer', writes: [{ key: 'finance/receivable/r1', value: record, version: 5 }] })]))).toEqual([]);
  });

  it('raises a recall for each anchored event with the disposition recalled, in any of its spellings', () => {
    const event = (id: string, extra: Record<string, unknown>) => ({
      eventId: id,
      event: JSON.stringify({ type: 'ObjectEvent', eventID: id, eventTime: AT, action: 'OBSERVE', epcList: ['urn:epc:id:sgtin:0614141.107346.2018'], ...extra }),
    });
    const capture = tx({
      type: 'provenance.epcis.capture',
      payload: {
        events: [
          event('ni:///a', { disposition: 'https://ref.gs1.org/cbv/Disp-recalled' }),
          event('ni:///b', { disposition: 'in_transit' }),
          event('ni:///c', { persistentDisposition: { set: ['urn:epcglobal:cbv:disp:recalled'] } }),
          { eventId: 'ni:///d', event: '{not json' },
        ],
      },
    });
    const recalls = recallsOf(block([]), capture);
    expect(recalls.map((r) => r.detail['eventId'])).toEqual(['ni:///a', 'ni:///c']);
    expect(recalls[0]).toMatchObject({ kind: 'recall', severity: 'critical', subject: 'urn:epc:id:sgtin:0614141.107346.2018', organizationId: 'org1', alertId: alertIdOf('recall', 'ni:///a') });
    expect(recallsOf(block([]), { ...capture, code: 'PROVENANCE.DUPLICATE_EVENT' })).toEqual([]);
  });

  it('reads membership changes from the writes alone, the same facts the identity events state', () => {
    const proposal = (status: string, kind: string, decidedAtBlock: number | null) => ({ kind, organizationId: 'org9', application: kind === 'join' ? { role: 'supplier' } : null, status, decidedAtBlock, votes: {} });
    const joined = membershipFactsOf(7, tx({ writes: [{ key: 'config/chain', value: { members: [] }, version: 2 }, { key: `identity/proposal/${T(5)}`, value: proposal('approved', 'join', 7), version: 2 }] }));
    expect(joined).toEqual([
      { change: 'proposal.decided', proposalId: T(5), kind: 'join', organizationId: 'org9', status: 'approved' },
      { change: 'organization.joined', organizationId: 'org9', role: 'supplier' },
    ]);
    expect(membershipFactsOf(7, tx({ writes: [{ key: `identity/proposal/${T(5)}`, value: proposal('open', 'join', null), version: 1 }] }))).toEqual([]);
    expect(membershipFactsOf(7, tx({ writes: [{ key: `identity/proposal/${T(6)}`, value: proposal('approved', 'expel', 7), version: 3 }] }))[1]).toEqual({ change: 'organization.left', organizationId: 'org9', reason: 'expel' });
    expect(membershipFactsOf(0, tx({ writes: [{ key: 'config/chain', value: { members: [{ organizationId: 'org1', role: 'manufacturer' }] }, version: 1 }] }))).toEqual([{ change: 'organization.joined', organizationId: 'org1', role: 'manufacturer' }]);
    const agent = { organizationId: 'org1', agentId: 'a1', keys: [{ keyId: 'k-old', endedAtBlock: 3, endReason: 'revoked' }, { keyId: 'k1', endedAtBlock: 7, endReason: 'revoked' }, { keyId: 'k2', endedAtBlock: 7, endReason: 'rotated' }] };
    expect(membershipFactsOf(7, tx({ writes: [{ key: 'identity/agent/org1/a1', value: agent, version: 4 }] }))).toEqual([{ change: 'key.revoked', organizationId: 'org1', agentId: 'a1', keyId: 'k1' }]);
    // From an identity event: the same alert.
    const origin = { blockNumber: 7, transactionId: T(1), occurredAt: AT };
    const fromEvent = membershipFactOfEvent('identity.organization.joined.v1', { chainId: 'c', blockNumber: 7, transactionId: T(1), organizationId: 'org9', role: 'supplier' });
    expect(membershipAlertOf(fromEvent!, origin)).toEqual(membershipAlertOf(joined[1], origin));
    expect(membershipAlertOf(joined[1], origin)).toMatchObject({ kind: 'membership-change', severity: 'info', subject: 'org9', organizationId: 'org9' });
  });

  it('keeps a sensor breach’s identity from the provenance alert', () => {
    const a = sensorBreachOf({ chainId: 'c', blockNumber: 3, transactionId: T(3), batchId: 'b', alertId: T(4), organizationId: 'org1', ruleId: 'cold', ruleVersion: 1, subject: 'https://id.gs1.org/01/09506000134352', measurementType: 'Temperature', uom: 'CEL', min: null, max: '8', from: AT, to: AT, durationSeconds: 0, worstValue: '12.5', disposition: 'damaged', eventId: 'ni:///e' });
    expect(a).toMatchObject({ alertId: alertIdOf('sensor-breach', T(4)), kind: 'sensor-breach', subject: 'https://id.gs1.org/01/09506000134352', organizationId: 'org1', blockNumber: 3, detail: { worstValue: '12.5', max: '8' } });
  });
});
