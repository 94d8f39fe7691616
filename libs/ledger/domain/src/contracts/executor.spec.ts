import { describe, expect, it } from 'vitest';
import { canonicalBytes, decodeEnvelopeParts, type Envelope, formatTimestamp, generateKeyPair, keyId, sha256, sign, signTransaction, toBase64Url, toHex, transactionId, utf8, verify, type Transaction } from '@alliance/protocol';
import { anchorContract } from './anchor';
import { CONFIG_APPROVAL_DOMAIN, CONFIG_KEY, configUpdateContract, CUTTING_LIMITS, genesisContract, validateChainConfig } from './config';
import { executeBlock, type BlockExecutionInput } from './executor';
import { ContractRegistry } from './registry';
import type { ChainConfig, JsonValue, VersionedValue } from './types';

const chainId = 'test-chain';
const orgs = ['org1', 'org2', 'org3'].map((organizationId) => {
  const pair = generateKeyPair('ed25519');
  return { organizationId, ...pair, keyId: keyId('ed25519', pair.publicKey) };
});
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: orgs.map((o) => ({ organizationId: o.organizationId, role: 'member', nodeKey: { algorithm: 'ed25519', publicKey: toHex(o.publicKey) }, keys: [{ keyId: o.keyId, algorithm: 'ed25519', publicKey: toHex(o.publicKey) }] })),
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};
const registry = new ContractRegistry([genesisContract, configUpdateContract, anchorContract]);
const blockTime = '2026-11-25T12:00:00.000Z';

function tx(org = orgs[0], overrides: Partial<Transaction> = {}): Envelope {
  return signTransaction(
    { chainId, type: 'ledger.anchor', creator: { organizationId: org.organizationId, keyId: org.keyId }, nonce: `n${Math.random().toString(36).slice(2)}`, timestamp: blockTime, payload: { hash: toHex(sha256(utf8(String(Math.random())))) }, ...overrides } as Transaction,
    { algorithm: 'ed25519', privateKey: org.privateKey },
  );
}

function run(envelopes: Array<Envelope | Uint8Array>, state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]), committed = new Set<string>()) {
  const input: BlockExecutionInput = { chainId, blockNumber: 5, blockTimestamp: blockTime, config, state: { get: (k) => state.get(k) }, isCommitted: (id) => committed.has(id), verifier: verify, registry };
  return executeBlock(input, envelopes.map((e) => (e instanceof Uint8Array ? e : canonicalBytes(e as unknown as JsonValue))));
}

describe('executeBlock', () => {
  it('reuses a prepared record’s signature verdict only for the exact key it verified with', () => {
    const envelopes = [tx(), tx(orgs[1])];
    const bytes = envelopes.map((e) => canonicalBytes(e as unknown as JsonValue));
    let calls = 0;
    const counting: BlockExecutionInput['verifier'] = (...args) => {
      calls++;
      return verify(...args);
    };
    const state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
    const base: BlockExecutionInput = { chainId, blockNumber: 5, blockTimestamp: blockTime, config, state: { get: (k) => state.get(k) }, isCommitted: () => false, verifier: counting, registry };
    const prepared = [
      { decoded: decodeEnvelopeParts(bytes[0]), verifiedWith: `ed25519:${toHex(orgs[0].publicKey)}` },
      // Verified with another key than the one registered for org2: must be checked again.
      { decoded: decodeEnvelopeParts(bytes[1]), verifiedWith: `ed25519:${toHex(orgs[0].publicKey)}` },
    ];
    const out = executeBlock({ ...base, prepared }, bytes);
    expect(out.transactions.map((t) => t.result.code)).toEqual(['VALID', 'VALID']);
    expect(calls).toBe(1);
    const plain = executeBlock(base, bytes);
    expect(plain.transactions.map((t) => canonicalBytes(t.result as unknown as JsonValue))).toEqual(out.transactions.map((t) => canonicalBytes(t.result as unknown as JsonValue)));
    expect(calls).toBe(3);
  });


  it('applies valid anchors with versions and records every transaction’s result', () => {
    const a = tx();
    const out = run([a, tx(orgs[1])]);
    expect(out.transactions.map((t) => t.result.code)).toEqual(['VALID', 'VALID']);
    const write = out.transactions[0].result.writes[0];
    expect(write.key).toBe(`anchor/${(a.transaction.payload as { hash: string }).hash}`);
    expect(write.version).toBe(1);
  });

  it('is deterministic: the same inputs give byte-identical results', () => {
    const block = [tx(), tx(orgs[2]), tx(orgs[1])];
    const r1 = run(block).transactions.map((t) => toHex(canonicalBytes(t.result as unknown as JsonValue)));
    const r2 = run(block).transactions.map((t) => toHex(canonicalBytes(t.result as unknown as JsonValue)));
    expect(r1).toEqual(r2);
  });

  it('refuses duplicates (in the block and from earlier blocks), bad signatures, unknown keys, stale timestamps and garbage, writing nothing', () => {
    const a = tx();
    const forged = JSON.parse(JSON.stringify(tx())) as Envelope & { signature: { value: string } };
    forged.signature.value = toBase64Url(sign('ed25519', orgs[1].privateKey, 'alliance/transaction/v1', canonicalBytes(forged.transaction as unknown as JsonValue)));
    const stranger = generateKeyPair('ed25519');
    const unknown = signTransaction({ ...tx().transaction, creator: { organizationId: 'org1', keyId: keyId('ed25519', stranger.publicKey) } }, { algorithm: 'ed25519', privateKey: stranger.privateKey });
    const stale = tx(orgs[0], { timestamp: formatTimestamp(Date.parse(blockTime) - 120_000) });
    const earlier = tx();
    const out = run([a, a, forged, unknown, stale, utf8('not json'), earlier], undefined, new Set([transactionId(earlier.transaction)]));
    expect(out.transactions.map((t) => t.result.code)).toEqual([
      'VALID',
      'LEDGER.DUPLICATE_TRANSACTION',
      'LEDGER.BAD_SIGNATURE',
      'LEDGER.UNKNOWN_KEY',
      'LEDGER.TIMESTAMP_OUT_OF_WINDOW',
      'LEDGER.MALFORMED_TRANSACTION',
      'LEDGER.DUPLICATE_TRANSACTION',
    ]);
    expect(out.transactions.slice(1).every((t) => t.result.writes.length === 0)).toBe(true);
    expect(out.transactions[5].result.transactionId).toBe(toHex(sha256(utf8('not json'))));
  });

  it('commits a validly signed transaction holding U+0000 as LEDGER.UNSTORABLE_TEXT, without the fields that would carry the NUL into storage', () => {
    const inPayload = tx(orgs[0], { payload: { hash: toHex(sha256(utf8('x'))), note: 'a\u0000b' } });
    const inKey = tx(orgs[1], { payload: { ['k\u0000']: 1 } });
    const out = run([inPayload, inKey, tx()]);
    expect(out.transactions.map((t) => t.result.code)).toEqual(['LEDGER.UNSTORABLE_TEXT', 'LEDGER.UNSTORABLE_TEXT', 'VALID']);
    expect(out.transactions.map((t) => t.detail ?? '')).toEqual([
      expect.stringContaining('/transaction/payload/note'),
      expect.stringContaining('/transaction/payload/k\\u0000'),
      '',
    ]);
    expect(out.transactions[0].result.transactionId).toBe(transactionId(inPayload.transaction));
    for (const t of out.transactions.slice(0, 2)) {
      expect(t.envelope).toBeUndefined();
      expect(t.result.writes).toEqual([]);
      expect(t.detail).not.toContain('\u0000');
    }
  });

  it('lets the first anchor of a hash win within one block', () => {
    const a = tx();
    const b = tx(orgs[1], { payload: a.transaction.payload });
    expect(run([a, b]).transactions.map((t) => t.result.code)).toEqual(['VALID', 'LEDGER.ANCHOR_EXISTS']);
  });

  it('changes the configuration only with a majority of member approvals', () => {
    const next: ChainConfig = { ...config, sequence: 1, cutting: { ...config.cutting, maxTransactions: 50 } };
    const approve = (o: (typeof orgs)[number]) => ({ organizationId: o.organizationId, signature: toBase64Url(sign('ed25519', o.privateKey, CONFIG_APPROVAL_DOMAIN, canonicalBytes(next as unknown as JsonValue))) });
    const update = (approvals: unknown[]) => tx(orgs[0], { type: 'config.update', payload: { config: next, approvals } as unknown as Transaction['payload'] });
    const one = run([update([approve(orgs[0])])]);
    expect(one.transactions[0].result.code).toBe('LEDGER.CONFIG_NOT_APPROVED');
    expect(one.config?.sequence).toBe(0);
    const two = run([update([approve(orgs[0]), approve(orgs[1])])]);
    expect(two.transactions[0].result.code).toBe('VALID');
    expect(two.config?.cutting.maxTransactions).toBe(50);
  });

  it('bounds block cutting so a block’s event stays publishable', () => {
    expect(validateChainConfig(config)).toEqual([]);
    for (const cutting of [
      { ...config.cutting, maxBytes: CUTTING_LIMITS.maxBytes + 1 },
      { ...config.cutting, maxTransactions: CUTTING_LIMITS.maxTransactions + 1 },
      { ...config.cutting, batchTimeoutMs: 0 },
      { ...config.cutting, maxBytes: 1023 },
      { ...config.cutting, maxTransactions: 1.5 },
    ]) {
      expect(validateChainConfig({ ...config, cutting })).toEqual([expect.stringMatching(/^cutting needs integers 1 <= maxTransactions <= 10000, 1024 <= maxBytes <= 4194304/)]);
    }
    expect(validateChainConfig({ ...config, cutting: { ...config.cutting, maxBytes: CUTTING_LIMITS.maxBytes } })).toEqual([]);
  });
});
