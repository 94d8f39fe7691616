import { describe, expect, it } from 'vitest';
import type { Agent, ChainConfig, Device, JsonValue, Proposal } from '@alliance/ledger/domain';
import { changesOf, identityWritesOf, MapStateView } from './projection';
import { organizationsOf } from './views';

const member = (organizationId: string) => ({ organizationId, role: 'supplier', nodeKey: { algorithm: 'ed25519' as const, publicKey: 'aa' }, keys: [{ keyId: `ed25519:${organizationId}`, algorithm: 'ed25519', publicKey: 'bb' }] });
const config = (sequence: number, ...orgs: string[]): ChainConfig => ({
  chainId: 'c',
  sequence,
  members: orgs.map(member),
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 1, maxBytes: 1, batchTimeoutMs: 1 },
  timestampWindowMs: 1,
});
const j = (v: unknown) => v as JsonValue;
const agent = (keys: Agent['keys']): Agent => ({ organizationId: 'org1', agentId: 'erp', name: 'ERP', roles: [], keys });
const key = (keyId: string, endedAtBlock: number | null, endReason: 'rotated' | 'revoked' | null = null) => ({ keyId, algorithm: 'ed25519', publicKey: 'cc', addedAtBlock: 1, endedAtBlock, endReason });
const proposal = (p: Partial<Proposal>): Proposal => ({ kind: 'exit', organizationId: 'org2', application: null, proposedBy: 'org2', proposedAtBlock: 3, configSequence: 0, votes: {}, status: 'open', decidedAtBlock: null, ...p });

describe('identity projection', () => {
  it('keeps only the identity writes of valid transactions', () => {
    const writes = [
      { key: 'config/chain', value: j(config(0, 'org1')), version: 1 },
      { key: 'identity/agent/org1/erp', value: j({}), version: 1 },
      { key: 'anchor/x', value: j({}), version: 1 },
    ];
    expect(identityWritesOf({ transactionId: 't', type: 'x', organizationId: 'org1', code: 'VALID', writes }).map((w) => w.key)).toEqual(['config/chain', 'identity/agent/org1/erp']);
    expect(identityWritesOf({ transactionId: 't', type: 'x', organizationId: 'org1', code: 'IDENTITY.INVALID', writes })).toEqual([]);
  });

  it('derives joins and departures from configuration versions, naming an approved exit as the reason', () => {
    const before = new MapStateView();
    expect(changesOf(before, [{ key: 'config/chain', value: j(config(0, 'org1', 'org2')), version: 1 }])).toEqual([
      { kind: 'organization.joined', organizationId: 'org1', role: 'supplier' },
      { kind: 'organization.joined', organizationId: 'org2', role: 'supplier' },
    ]);
    before.apply([
      { key: 'config/chain', value: j(config(0, 'org1', 'org2')), version: 1 },
      { key: 'identity/proposal/p', value: j(proposal({})), version: 1 },
    ]);
    const exit = [
      { key: 'config/chain', value: j(config(1, 'org1')), version: 2 },
      { key: 'identity/proposal/p', value: j(proposal({ status: 'approved', decidedAtBlock: 4 })), version: 2 },
    ];
    expect(changesOf(before, exit)).toEqual([
      { kind: 'organization.left', organizationId: 'org2', reason: 'exit' },
      { kind: 'proposal.decided', proposalId: 'p', proposalKind: 'exit', organizationId: 'org2', status: 'approved' },
    ]);
    expect(changesOf(before, [exit[0]])).toEqual([{ kind: 'organization.left', organizationId: 'org2', reason: 'configuration' }]);
  });

  it('reports a registration, then each key that ends, once, as rotated or revoked', () => {
    const before = new MapStateView();
    expect(changesOf(before, [{ key: 'identity/agent/org1/erp', value: j(agent([key('k1', null)])), version: 1 }])).toEqual([{ kind: 'agent.registered', organizationId: 'org1', agentId: 'erp' }]);
    before.apply([{ key: 'identity/agent/org1/erp', value: j(agent([key('k1', null)])), version: 1 }]);
    const rotated = agent([key('k1', 5, 'rotated'), key('k2', null)]);
    expect(changesOf(before, [{ key: 'identity/agent/org1/erp', value: j(rotated), version: 2 }])).toEqual([{ kind: 'key.rotated', organizationId: 'org1', agentId: 'erp', keyId: 'k1' }]);
    before.apply([{ key: 'identity/agent/org1/erp', value: j(rotated), version: 2 }]);
    expect(changesOf(before, [{ key: 'identity/agent/org1/erp', value: j(agent([key('k1', 5, 'rotated'), key('k2', 7, 'revoked')])), version: 3 }])).toEqual([
      { kind: 'key.revoked', organizationId: 'org1', agentId: 'erp', keyId: 'k2' },
    ]);
  });

  it('reports device registrations and status changes, not binding changes', () => {
    const device: Device = { organizationId: 'org1', deviceId: 'did:example:1', model: 'm', key: { keyId: 'k', algorithm: 'ed25519', publicKey: 'dd' }, status: 'active', assets: [], locations: [], registeredAtBlock: 1, statusChangedAtBlock: 1, statusReason: null };
    const before = new MapStateView();
    const k = 'identity/device/org1/x';
    expect(changesOf(before, [{ key: k, value: j(device), version: 1 }])).toEqual([{ kind: 'device.registered', organizationId: 'org1', deviceId: 'did:example:1' }]);
    before.apply([{ key: k, value: j(device), version: 1 }]);
    expect(changesOf(before, [{ key: k, value: j({ ...device, assets: ['urn:epc:id:giai:1.2'] }), version: 2 }])).toEqual([]);
    expect(changesOf(before, [{ key: k, value: j({ ...device, status: 'retired', statusReason: 'scrapped' }), version: 2 }])).toEqual([
      { kind: 'device.status-changed', organizationId: 'org1', deviceId: 'did:example:1', from: 'active', to: 'retired', reason: 'scrapped' },
    ]);
  });

  it('lists members and departed organizations with the blocks that admitted and removed them', () => {
    const join = proposal({ kind: 'join', organizationId: 'org3', application: { organizationId: 'org3', legalName: 'Org Three Ltd', creditCode: '91350211MA2XXXXXX1', role: 'supplier', adminKeys: [], nodeKey: { algorithm: 'ed25519', publicKey: 'aa' } }, status: 'approved', decidedAtBlock: 6 });
    const exit = proposal({ kind: 'expel', organizationId: 'org2', status: 'approved', decidedAtBlock: 9 });
    const orgs = organizationsOf([{ blockNumber: 9, config: config(2, 'org1', 'org3') }, { blockNumber: 0, config: config(0, 'org1', 'org2') }, { blockNumber: 6, config: config(1, 'org1', 'org2', 'org3') }], [join, exit]);
    expect(orgs.map((o) => [o.organizationId, o.status, o.joinedAtBlock, o.leftAtBlock, o.leftReason, o.legalName])).toEqual([
      ['org1', 'member', 0, null, null, null],
      ['org2', 'departed', 0, 9, 'expel', null],
      ['org3', 'member', 6, null, null, 'Org Three Ltd'],
    ]);
  });
});
