import { describe, expect, it } from 'vitest';
import { canonicalBytes, type Envelope, generateKeyPair, keyId, sha256, sign, signTransaction, toBase64Url, toHex, utf8, verify, type KeyPair, type Transaction } from '@alliance/protocol';
import { agentKeyContracts } from './agent-keys';
import { anchorContract } from './anchor';
import { CONFIG_KEY, configUpdateContract, genesisContract } from './config';
import { executeBlock } from './executor';
import { MEMBERSHIP_APPLICATION_DOMAIN, membershipContracts, type Proposal, proposalKeyOf } from './membership';
import { ContractRegistry } from './registry';
import type { ChainConfig, JsonValue, VersionedValue } from './types';

const chainId = 'membership-test';
const org = (organizationId: string) => ({ organizationId, admin: generateKeyPair('ed25519'), node: generateKeyPair('ed25519') });
const [org1, org2, org3] = ['org1', 'org2', 'org3'].map(org);
const member = (o: ReturnType<typeof org>) => ({ organizationId: o.organizationId, role: 'manufacturer', nodeKey: { algorithm: 'ed25519' as const, publicKey: toHex(o.node.publicKey) }, keys: [{ keyId: keyId('ed25519', o.admin.publicKey), algorithm: 'ed25519', publicKey: toHex(o.admin.publicKey) }] });
const genesisConfig: ChainConfig = {
  chainId,
  sequence: 0,
  members: [member(org1), member(org2)],
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};
const registry = new ContractRegistry([genesisContract, configUpdateContract, anchorContract, ...agentKeyContracts, ...membershipContracts]);
const time = '2026-12-02T08:00:00.000Z';
let nonce = 0;

function signed(o: ReturnType<typeof org>, type: string, payload: Record<string, unknown>, key: KeyPair = o.admin): Envelope {
  return signTransaction({ chainId, type, creator: { organizationId: o.organizationId, keyId: keyId(key.algorithm, key.publicKey) }, nonce: `m${nonce++}`, timestamp: time, payload } as Transaction, { algorithm: key.algorithm, privateKey: key.privateKey });
}

/** Blocks over one world state; the configuration in force is whatever the last block left. */
class Chain {
  readonly state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: genesisConfig as unknown as JsonValue, version: 1 }]]);
  block = 0;
  lastIds: string[] = [];

  get config(): ChainConfig {
    return this.state.get(CONFIG_KEY)?.value as unknown as ChainConfig;
  }

  run(...envelopes: Envelope[]): string[] {
    const out = executeBlock(
      { chainId, blockNumber: ++this.block, blockTimestamp: time, config: this.config, state: { get: (k) => this.state.get(k) }, isCommitted: () => false, verifier: verify, registry },
      envelopes.map((e) => canonicalBytes(e as unknown as JsonValue)),
    );
    for (const [k, v] of out.writes) this.state.set(k, v);
    this.lastIds = out.transactions.map((t) => t.result.transactionId);
    return out.transactions.map((t) => t.result.code);
  }

  proposal(id: string): Proposal {
    return this.state.get(proposalKeyOf(id))?.value as unknown as Proposal;
  }
}

function application(o: ReturnType<typeof org>, overrides: Record<string, unknown> = {}) {
  const app = {
    organizationId: o.organizationId,
    legalName: 'Demo Logistics Co., Ltd.',
    creditCode: '91310000MA1K4XXXXX'.replace(/X/g, '7'),
    gln: '6901234000016',
    role: 'logistics',
    adminKeys: [{ algorithm: 'ed25519', publicKey: toHex(o.admin.publicKey) }],
    nodeKey: { algorithm: 'ed25519', publicKey: toHex(o.node.publicKey) },
    ...overrides,
  };
  const proofs = [{ keyId: keyId('ed25519', o.admin.publicKey), signature: toBase64Url(sign('ed25519', o.admin.privateKey, MEMBERSHIP_APPLICATION_DOMAIN, canonicalBytes(app as unknown as JsonValue))) }];
  return { kind: 'join', application: app, proofs };
}

const anchor = (o: ReturnType<typeof org>) => signed(o, 'ledger.anchor', { hash: toHex(sha256(utf8(`h${nonce}`))) });

describe('membership by vote', () => {
  it('an organization joins when a majority approves; from that block its admin key signs for it', () => {
    const chain = new Chain();
    expect(chain.run(anchor(org3))).toEqual(['LEDGER.UNKNOWN_KEY']);
    expect(chain.run(signed(org1, 'identity.membership.propose', application(org3)))).toEqual(['VALID']);
    const [proposalId] = chain.lastIds;
    expect(chain.proposal(proposalId)).toMatchObject({ kind: 'join', organizationId: 'org3', status: 'open', proposedBy: 'org1' });
    expect(chain.run(signed(org1, 'identity.membership.vote', { proposalId, approve: true }))).toEqual(['VALID']);
    expect(chain.config.members).toHaveLength(2); // 1 of 2: not yet
    expect(chain.run(signed(org1, 'identity.membership.vote', { proposalId, approve: true }))).toEqual(['IDENTITY.ALREADY_VOTED']);
    expect(chain.run(signed(org2, 'identity.membership.vote', { proposalId, approve: true }))).toEqual(['VALID']);
    const approvedAt = chain.block;
    expect(chain.config).toMatchObject({ sequence: 1, members: [{ organizationId: 'org1' }, { organizationId: 'org2' }, { organizationId: 'org3', role: 'logistics' }] });
    expect(chain.proposal(proposalId)).toMatchObject({ status: 'approved', decidedAtBlock: approvedAt, votes: { org1: true, org2: true } });
    expect(chain.run(anchor(org3))).toEqual(['VALID']);
    expect(chain.run(signed(org2, 'identity.membership.vote', { proposalId, approve: true }))).toEqual(['IDENTITY.PROPOSAL_CLOSED']);
  });

  it('refuses applications without proof of possession, with a bad GLN, for a member, or by a non-member', () => {
    const chain = new Chain();
    const unsigned = { ...application(org3), proofs: [] };
    const forged = application(org3);
    forged.proofs[0].signature = toBase64Url(sign('ed25519', org1.admin.privateKey, MEMBERSHIP_APPLICATION_DOMAIN, canonicalBytes(forged.application as unknown as JsonValue)));
    expect(chain.run(signed(org1, 'identity.membership.propose', unsigned), signed(org1, 'identity.membership.propose', forged))).toEqual(['IDENTITY.PROOF_MISSING', 'IDENTITY.PROOF_MISSING']);
    expect(chain.run(signed(org1, 'identity.membership.propose', application(org3, { gln: '6901234000019' })))).toEqual(['IDENTITY.INVALID']);
    expect(chain.run(signed(org1, 'identity.membership.propose', application(org2)))).toEqual(['IDENTITY.ALREADY_MEMBER']);
    expect(chain.run(signed(org1, 'identity.membership.propose', application(org3, { role: 'pirate' })))).toEqual(['IDENTITY.INVALID']);
    expect(chain.run(signed(org3, 'identity.membership.propose', application(org3)))).toEqual(['LEDGER.UNKNOWN_KEY']);
  });

  it('a member leaves or is expelled by the same vote; from that block nothing it signs is valid; a rejected or stale proposal changes nothing', () => {
    const chain = new Chain();
    chain.run(signed(org1, 'identity.membership.propose', application(org3)));
    const [join] = chain.lastIds;
    chain.run(signed(org1, 'identity.membership.vote', { proposalId: join, approve: true }));
    chain.run(signed(org2, 'identity.membership.vote', { proposalId: join, approve: true }));
    expect(chain.config.members.map((m) => m.organizationId)).toEqual(['org1', 'org2', 'org3']);

    // An expulsion of org1 that two of three refuse is rejected.
    chain.run(signed(org2, 'identity.membership.propose', { kind: 'expel', organizationId: 'org1' }));
    const [expel] = chain.lastIds;
    chain.run(signed(org1, 'identity.membership.vote', { proposalId: expel, approve: false }));
    chain.run(signed(org3, 'identity.membership.vote', { proposalId: expel, approve: false }));
    expect(chain.proposal(expel).status).toBe('rejected');
    expect(chain.config.members).toHaveLength(3);

    // org2 leaves: majority of three (2) approve.
    chain.run(signed(org2, 'identity.membership.propose', { kind: 'exit' }));
    const [exit] = chain.lastIds;
    // A proposal made under the same configuration, voted on after the exit, is stale.
    chain.run(signed(org1, 'identity.membership.propose', { kind: 'expel', organizationId: 'org3' }));
    const [late] = chain.lastIds;
    expect(chain.run(anchor(org2))).toEqual(['VALID']);
    chain.run(signed(org1, 'identity.membership.vote', { proposalId: exit, approve: true }));
    expect(chain.run(signed(org3, 'identity.membership.vote', { proposalId: exit, approve: true }))).toEqual(['VALID']);
    expect(chain.config).toMatchObject({ sequence: 2, members: [{ organizationId: 'org1' }, { organizationId: 'org3' }] });
    expect(chain.run(anchor(org2))).toEqual(['LEDGER.UNKNOWN_KEY']);
    // org2's keys left with it: its vote is not even a valid transaction.
    expect(chain.run(signed(org2, 'identity.membership.vote', { proposalId: late, approve: true }))).toEqual(['LEDGER.UNKNOWN_KEY']);
    expect(chain.run(signed(org1, 'identity.membership.vote', { proposalId: late, approve: true }))).toEqual(['VALID']);
    expect(chain.proposal(late).status).toBe('stale');
    expect(chain.config.members).toHaveLength(2);
  });

  it('policies, block parameters and observers change by the same vote; members only by join, exit and expel', () => {
    const chain = new Chain();
    const regulator = generateKeyPair('ed25519');
    const changes = {
      cutting: { maxTransactions: 50, maxBytes: 524_288, batchTimeoutMs: 100 },
      observers: [{ organizationId: 'reg', role: 'regulator', keys: [{ keyId: keyId('ed25519', regulator.publicKey), algorithm: 'ed25519', publicKey: toHex(regulator.publicKey) }] }],
    };
    expect(chain.run(signed(org1, 'identity.membership.propose', { kind: 'configure', changes }))).toEqual(['VALID']);
    const [proposal] = chain.lastIds;
    expect(chain.proposal(proposal)).toMatchObject({ kind: 'configure', organizationId: 'org1', changes, status: 'open' });
    chain.run(signed(org1, 'identity.membership.vote', { proposalId: proposal, approve: true }));
    expect(chain.config.cutting.maxTransactions).toBe(100);
    expect(chain.run(signed(org2, 'identity.membership.vote', { proposalId: proposal, approve: true }))).toEqual(['VALID']);
    expect(chain.config).toMatchObject({ sequence: 1, ...changes, members: [{ organizationId: 'org1' }, { organizationId: 'org2' }] });
    expect(chain.proposal(proposal).status).toBe('approved');

    const refused = (payload: Record<string, unknown>) => chain.run(signed(org1, 'identity.membership.propose', payload))[0];
    expect(refused({ kind: 'configure', changes: { members: [] } })).toBe('IDENTITY.INVALID');
    expect(refused({ kind: 'configure', changes: {} })).toBe('IDENTITY.INVALID');
    expect(refused({ kind: 'configure', changes: { timestampWindowMs: 10 } })).toBe('LEDGER.CONFIG_INVALID');
    expect(refused({ kind: 'configure', changes: { policies: { certification: { type: 'some' }, configuration: { type: 'majority' } } } })).toBe('LEDGER.CONFIG_INVALID');
  });
});
