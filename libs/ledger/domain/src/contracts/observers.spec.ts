import { describe, expect, it } from 'vitest';
import { canonicalBytes, type Envelope, generateKeyPair, keyId, sha256, signTransaction, toHex, utf8, verify, type KeyPair, type Transaction } from '@alliance/protocol';
import { adminKeyOf, agentKeyContracts, keyInUse, resolveSigningKey } from './agent-keys';
import { anchorContract } from './anchor';
import { CONFIG_KEY, genesisContract, validateChainConfig } from './config';
import { executeBlock } from './executor';
import { ContractRegistry } from './registry';
import type { ChainConfig, ContractHandler, JsonValue, VersionedValue } from './types';

const chainId = 'observer-test';
const member = generateKeyPair('ed25519');
const regulator = generateKeyPair('ed25519');
const keyOf = (k: KeyPair) => ({ keyId: keyId('ed25519', k.publicKey), algorithm: 'ed25519', publicKey: toHex(k.publicKey) });
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: [{ organizationId: 'org1', role: 'manufacturer', nodeKey: { algorithm: 'ed25519', publicKey: toHex(generateKeyPair('ed25519').publicKey) }, keys: [keyOf(member)] }],
  observers: [{ organizationId: 'reg', role: 'regulator', keys: [keyOf(regulator)] }],
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};
const time = '2026-12-02T08:00:00.000Z';
let nonce = 0;
const signed = (org: string, key: KeyPair, type: string, payload: Record<string, unknown>): Envelope =>
  signTransaction({ chainId, type, creator: { organizationId: org, keyId: keyId('ed25519', key.publicKey) }, nonce: `n${nonce++}`, timestamp: time, payload } as Transaction, { algorithm: 'ed25519', privateKey: key.privateKey });

function run(registry: ContractRegistry, ...envelopes: Envelope[]): string[] {
  const state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
  const out = executeBlock({ chainId, blockNumber: 5, blockTimestamp: time, config, state: { get: (k) => state.get(k) }, isCommitted: () => false, verifier: verify, registry }, envelopes.map((e) => canonicalBytes(e as unknown as JsonValue)));
  return out.transactions.map((t) => t.result.code);
}

describe('observer organizations (regulators)', () => {
  it('are in the configuration with their keys, which resolve and are never reused', () => {
    expect(validateChainConfig(config)).toEqual([]);
    expect(resolveSigningKey(config, { get: () => undefined }, 'reg', keyOf(regulator).keyId)).toMatchObject({ found: true });
    expect(adminKeyOf(config, 'reg', keyOf(regulator).keyId)).toEqual(keyOf(regulator));
    expect(keyInUse(config, { get: () => undefined }, keyOf(regulator).keyId, keyOf(regulator).publicKey)).toBe(true);
  });

  it('refuses an observer that is also a member, twice listed, or without keys', () => {
    const twice = { ...config, observers: [{ organizationId: 'org1', role: 'regulator', keys: [keyOf(regulator)] }] };
    expect(validateChainConfig(twice).join()).toContain('observer org1 appears twice (or is also a member)');
    expect(validateChainConfig({ ...config, observers: [{ organizationId: 'reg', role: 'regulator', keys: [] }] }).join()).toContain('keys must be a non-empty array');
    expect(validateChainConfig({ ...config, observers: {} as never }).join()).toContain('observers must be an array');
  });

  it('sign no transaction a contract does not open to observers; members are not affected', () => {
    const registry = new ContractRegistry([genesisContract, anchorContract, ...agentKeyContracts]);
    const hash = () => toHex(sha256(utf8(`h${nonce}`)));
    expect(run(registry, signed('reg', regulator, 'ledger.anchor', { hash: hash() }), signed('org1', member, 'ledger.anchor', { hash: hash() }))).toEqual(['LEDGER.OBSERVER_READ_ONLY', 'VALID']);
    expect(run(registry, signed('reg', regulator, 'identity.agent.register', { agentId: 'x', name: 'x', keys: [{ algorithm: 'ed25519', publicKey: toHex(generateKeyPair('ed25519').publicKey) }] }))).toEqual(['LEDGER.OBSERVER_READ_ONLY']);
    const opened: ContractHandler = { type: 'test.regulatory', configuration: false, observers: true, execute: () => ({ ok: true, writes: [] }) };
    expect(run(new ContractRegistry([genesisContract, opened]), signed('reg', regulator, 'test.regulatory', {}))).toEqual(['VALID']);
  });
});
