import { describe, expect, it } from 'vitest';
import { canonicalBytes, type Envelope, generateKeyPair, keyId, sha256, signTransaction, toHex, utf8, verify, type KeyPair, type Transaction } from '@alliance/protocol';
import { agentKeyContracts, agentKeyOf, type Agent } from './agent-keys';
import { permissionsOf, roleContracts } from './roles';
import { anchorContract } from './anchor';
import { CONFIG_KEY, configUpdateContract, genesisContract } from './config';
import { executeBlock } from './executor';
import { ContractRegistry } from './registry';
import type { ChainConfig, JsonValue, VersionedValue } from './types';

const chainId = 'identity-test';
const admins = ['org1', 'org2'].map((organizationId) => ({ organizationId, ...generateKeyPair('ed25519') }));
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: admins.map((a) => ({ organizationId: a.organizationId, role: 'manufacturer', nodeKey: { algorithm: 'ed25519', publicKey: toHex(a.publicKey) }, keys: [{ keyId: keyId('ed25519', a.publicKey), algorithm: 'ed25519', publicKey: toHex(a.publicKey) }] })),
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};
const registry = new ContractRegistry([genesisContract, configUpdateContract, anchorContract, ...agentKeyContracts, ...roleContracts]);
const time = '2026-12-02T08:00:00.000Z';
let nonce = 0;

function signed(org: string, key: KeyPair, type: string, payload: Record<string, unknown>): Envelope {
  return signTransaction({ chainId, type, creator: { organizationId: org, keyId: keyId(key.algorithm, key.publicKey) }, nonce: `n${nonce++}`, timestamp: time, payload } as Transaction, { algorithm: key.algorithm, privateKey: key.privateKey });
}
const anchor = (org: string, key: KeyPair) => signed(org, key, 'ledger.anchor', { hash: toHex(sha256(utf8(`a${nonce}`))) });
const pub = (k: KeyPair) => ({ algorithm: k.algorithm, publicKey: toHex(k.publicKey) });

/** A chain of blocks over one world state, as a node would run them. */
class Chain {
  readonly state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
  block = 10;

  run(...envelopes: Envelope[]): string[] {
    const out = executeBlock(
      { chainId, blockNumber: ++this.block, blockTimestamp: time, config, state: { get: (k) => this.state.get(k) }, isCommitted: () => false, verifier: verify, registry },
      envelopes.map((e) => canonicalBytes(e as unknown as JsonValue)),
    );
    for (const [k, v] of out.writes) this.state.set(k, v);
    return out.transactions.map((t) => t.result.code);
  }

  agent(org: string, id: string): Agent {
    return this.state.get(agentKeyOf(org, id))?.value as unknown as Agent;
  }
}

describe('agents and their keys', () => {
  const [org1] = admins;
  const a = generateKeyPair('ed25519');
  const b = generateKeyPair('ecdsa-p256');

  it('an admin registers an agent whose key then signs for the organization; an agent cannot manage agents', () => {
    const chain = new Chain();
    expect(chain.run(anchor('org1', a))).toEqual(['LEDGER.UNKNOWN_KEY']);
    expect(chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'erp-1', name: 'SAP connector', roles: ['provenance.capture'], keys: [pub(a)] }))).toEqual(['VALID']);
    expect(chain.agent('org1', 'erp-1')).toMatchObject({ organizationId: 'org1', agentId: 'erp-1', roles: ['provenance.capture'], keys: [{ keyId: keyId('ed25519', a.publicKey), addedAtBlock: 12, endedAtBlock: null }] });
    expect(chain.run(anchor('org1', a))).toEqual(['VALID']);
    // The same key cannot speak for another organization, nor manage agents.
    expect(chain.run(anchor('org2', a))).toEqual(['LEDGER.UNKNOWN_KEY']);
    expect(chain.run(signed('org1', a, 'identity.agent.register', { agentId: 'erp-2', name: 'x', keys: [pub(b)] }))).toEqual(['IDENTITY.NOT_ALLOWED']);
    // Keys are never reused, not even by another organization's agent.
    expect(chain.run(signed('org2', admins[1], 'identity.agent.register', { agentId: 'bank-1', name: 'y', keys: [pub(a)] }))).toEqual(['IDENTITY.KEY_EXISTS']);
    expect(chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'erp-1', name: 'again', keys: [pub(b)] }))).toEqual(['IDENTITY.AGENT_EXISTS']);
    expect(chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'Bad Id', name: 'z', keys: [pub(b)] }))).toEqual(['IDENTITY.INVALID']);
    expect(chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'erp-3', name: 'z', keys: [{ algorithm: 'ed25519', publicKey: '00'.repeat(32) }] }))).toEqual(['IDENTITY.INVALID']);
  });

  it('a rotated key is valid up to the rotation and invalid from it on, in the same block too; a revoked key likewise', () => {
    const chain = new Chain();
    chain.run(signed('org1', org1, 'identity.agent.register', { agentId: 'erp-1', name: 'SAP connector', keys: [pub(a)] }));
    const rotateAt = chain.block + 1;
    // Before the rotation in its block: valid; after it: refused with the stable code.
    expect(chain.run(anchor('org1', a), signed('org1', org1, 'identity.agent.key.rotate', { agentId: 'erp-1', keyId: keyId('ed25519', a.publicKey), newKey: pub(b) }), anchor('org1', a), anchor('org1', b))).toEqual([
      'VALID',
      'VALID',
      'LEDGER.KEY_REVOKED',
      'VALID',
    ]);
    expect(chain.agent('org1', 'erp-1').keys).toEqual([
      expect.objectContaining({ keyId: keyId('ed25519', a.publicKey), endedAtBlock: rotateAt, endReason: 'rotated' }),
      expect.objectContaining({ keyId: keyId('ecdsa-p256', b.publicKey), addedAtBlock: rotateAt, endedAtBlock: null }),
    ]);
    expect(chain.run(anchor('org1', a))).toEqual(['LEDGER.KEY_REVOKED']);
    expect(chain.run(signed('org1', org1, 'identity.agent.key.revoke', { agentId: 'erp-1', keyId: keyId('ecdsa-p256', b.publicKey) }))).toEqual(['VALID']);
    expect(chain.run(anchor('org1', b))).toEqual(['LEDGER.KEY_REVOKED']);
    expect(chain.run(signed('org1', org1, 'identity.agent.key.revoke', { agentId: 'erp-1', keyId: keyId('ecdsa-p256', b.publicKey) }))).toEqual(['IDENTITY.KEY_ENDED']);
    // A new key for the agent; an ended key is never taken back.
    const c = generateKeyPair('ecdsa-secp256k1');
    expect(chain.run(signed('org1', org1, 'identity.agent.key.add', { agentId: 'erp-1', key: pub(b) }))).toEqual(['IDENTITY.KEY_EXISTS']);
    expect(chain.run(signed('org1', org1, 'identity.agent.key.add', { agentId: 'erp-1', key: pub(c) }), anchor('org1', c))).toEqual(['VALID', 'VALID']);
    expect(chain.run(signed('org1', org1, 'identity.agent.key.revoke', { agentId: 'nobody', keyId: keyId('ecdsa-secp256k1', c.publicKey) }))).toEqual(['IDENTITY.AGENT_NOT_FOUND']);
  });

  it('roles grant permissions with inheritance (cycles end), in the agent’s own organization, and granted roles only in the granting one', () => {
    const chain = new Chain();
    const [, org2] = admins;
    const bank = generateKeyPair('ed25519');
    const define = (org: string, key: KeyPair, roleId: string, permissions: string[], inherits?: string[]) => signed(org, key, 'identity.role.define', { roleId, permissions, ...(inherits ? { inherits } : {}) });
    expect(
      chain.run(
        define('org1', org1, 'clerk', ['provenance.event.capture']),
        define('org1', org1, 'finance-manager', ['finance.receivable.issue'], ['clerk', 'auditor']),
        define('org1', org1, 'auditor', ['audit.read'], ['finance-manager']), // a cycle
        define('org1', org1, 'programme-financier', ['finance.financing.approve']),
        signed('org1', org1, 'identity.agent.register', { agentId: 'cfo', name: 'CFO', roles: ['finance-manager'], keys: [pub(a)] }),
        signed('org2', org2, 'identity.agent.register', { agentId: 'loan-desk', name: 'Loan desk', keys: [pub(bank)] }),
      ),
    ).toEqual(['VALID', 'VALID', 'VALID', 'VALID', 'VALID', 'VALID']);
    const view = { get: (k: string) => chain.state.get(k) };
    expect([...permissionsOf(view, 'org1', 'cfo', 'org1')].sort()).toEqual(['audit.read', 'finance.receivable.issue', 'provenance.event.capture']);
    expect([...permissionsOf(view, 'org1', 'cfo', 'org2')]).toEqual([]);
    // org1 grants its financier role to org2's agent: valid in org1's scope only.
    expect(chain.run(signed('org1', org1, 'identity.role.grant', { roleId: 'programme-financier', agent: { organizationId: 'org2', agentId: 'loan-desk' } }))).toEqual(['VALID']);
    expect([...permissionsOf(view, 'org2', 'loan-desk', 'org1')]).toEqual(['finance.financing.approve']);
    expect([...permissionsOf(view, 'org2', 'loan-desk', 'org2')]).toEqual([]);
    expect(chain.run(signed('org1', org1, 'identity.role.grant', { roleId: 'programme-financier', agent: { organizationId: 'org2', agentId: 'loan-desk' } }))).toEqual(['IDENTITY.GRANT_EXISTS']);
    expect(chain.run(signed('org2', org2, 'identity.role.grant', { roleId: 'programme-financier', agent: { organizationId: 'org1', agentId: 'cfo' } }))).toEqual(['IDENTITY.ROLE_NOT_FOUND']);
    expect(chain.run(signed('org1', a, 'identity.role.define', { roleId: 'x', permissions: [] }))).toEqual(['IDENTITY.NOT_ALLOWED']);
    expect(chain.run(signed('org1', org1, 'identity.role.ungrant', { roleId: 'programme-financier', agent: { organizationId: 'org2', agentId: 'loan-desk' } }))).toEqual(['VALID']);
    expect([...permissionsOf(view, 'org2', 'loan-desk', 'org1')]).toEqual([]);
    // The agent's own roles change with an update.
    expect(chain.run(signed('org1', org1, 'identity.agent.update', { agentId: 'cfo', roles: ['clerk'] }))).toEqual(['VALID']);
    expect([...permissionsOf(view, 'org1', 'cfo', 'org1')]).toEqual(['provenance.event.capture']);
  });
});
