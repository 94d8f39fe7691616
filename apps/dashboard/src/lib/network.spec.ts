import { describe, expect, it } from 'vitest';
import { type BlockSummary, memberRows, mergeBlock, type Organization, pinnedMembers } from './network';

const org = (organizationId: string, status = 'member', node = true): Organization => ({
  organizationId,
  role: 'manufacturer',
  status,
  nodeKey: node ? { algorithm: 'ed25519', publicKey: `${organizationId}-pk`, keyId: `${organizationId}-kid` } : null,
});
const block = (blockNumber: number, signedBy: string[], certified = true): BlockSummary => ({ blockNumber, headerHash: `h${blockNumber}`, timestamp: '2026-12-06T00:00:00.000Z', transactionCount: 1, certified, signedBy });

describe('memberRows', () => {
  it('gives each member the newest block its node signed, and whether that block is certified', () => {
    const rows = memberRows([org('org1'), org('org2'), org('org3'), org('regulator', 'observer', false)], [block(5, ['org1', 'org2'], false), block(4, ['org1', 'org2', 'org3']), block(3, ['org1', 'org3'])]);
    expect(rows.map((r) => [r.organizationId, r.nodeHead, r.certified])).toEqual([
      ['org1', 5, false],
      ['org2', 5, false],
      ['org3', 4, true],
      ['regulator', null, null],
    ]);
  });

  it('has no head for a member whose node signed none of the blocks', () => {
    expect(memberRows([org('org4')], [block(1, ['org1'])])[0]).toMatchObject({ nodeHead: null, certified: null });
  });
});

describe('mergeBlock', () => {
  it('keeps blocks newest first, once each (a later copy replaces the earlier), at most max', () => {
    let list: BlockSummary[] = [];
    for (const n of [2, 0, 1, 3]) list = mergeBlock(list, block(n, ['org1'], false), 3);
    expect(list.map((b) => b.blockNumber)).toEqual([3, 2, 1]);
    list = mergeBlock(list, block(2, ['org1', 'org2'], true), 3);
    expect(list.map((b) => [b.blockNumber, b.certified])).toEqual([
      [3, false],
      [2, true],
      [1, false],
    ]);
  });
});

describe('pinnedMembers', () => {
  it('pins members with a node key only: departed members and observers sign no receipt', () => {
    expect(pinnedMembers([org('org1'), org('org2', 'departed'), org('regulator', 'observer', false)])).toEqual([{ organizationId: 'org1', algorithm: 'ed25519', publicKey: 'org1-pk' }]);
  });
});
