import { describe, expect, it } from 'vitest';
import { canonicalBytes, type Envelope, generateKeyPair, keyId, signTransaction, toHex, verify, type KeyPair, type Transaction } from '@alliance/protocol';
import { apply, approve, BANK_1, BANK_2, confirm, confirmedChain, CORE, FinanceChain, freeze, issue, REGULATOR, SUPPLIER_1, SUPPLIER_2, tx, unfreeze } from '../../../test/finance-chain';
import { CONFIG_KEY } from '../config';
import { executeBlock } from '../executor';
import { ContractRegistry } from '../registry';
import type { ChainConfig, JsonValue, VersionedValue } from '../types';
import { unknownAssetCode } from './fields';
import { financeContracts } from './index';

describe('finance.asset.freeze and unfreeze', () => {
  it('an observer freezes a receivable and lifts the freeze; nothing else of the record changes', () => {
    const chain = confirmedChain();
    const before = chain.receivable('recv-0001')!;
    chain.ok(freeze('recv-0001', REGULATOR, { orderReference: 'Court 2027-17' }));
    expect(chain.receivable('recv-0001')).toEqual({
      ...before,
      frozen: { by: REGULATOR, reason: 'court order', orderReference: 'Court 2027-17', atBlock: 4, at: chain.timestamp },
      updatedAtBlock: 4,
      lastTransactionId: expect.stringMatching(/^tx-4-/),
    });
    expect(chain.run(freeze('recv-0001'))).toMatchObject({ code: 'FINANCE.ALREADY_FROZEN', detail: expect.stringMatching(/^receivable recv-0001 is frozen by regulator since block 4/) });
    chain.ok(unfreeze('recv-0001'));
    expect(chain.receivable('recv-0001')).toEqual({ ...before, frozen: null, updatedAtBlock: chain.block, lastTransactionId: expect.stringMatching(/^tx-/) });
    expect(chain.run(unfreeze('recv-0001'))).toMatchObject({ code: 'FINANCE.NOT_FROZEN', detail: 'receivable recv-0001 is not frozen' });
    // A freeze without an order reference.
    chain.ok(freeze('recv-0001'));
    expect(chain.receivable('recv-0001')?.frozen?.orderReference).toBeNull();
  });

  it('only observer organizations freeze and unfreeze', () => {
    const chain = confirmedChain();
    for (const org of [SUPPLIER_1, CORE, BANK_1]) expect(chain.run(freeze('recv-0001', org)), org).toMatchObject({ code: 'IDENTITY.NOT_ALLOWED', detail: `only an observer organization (regulator, court) freezes finance assets; ${org} is not one` });
    chain.ok(freeze('recv-0001'));
    expect(chain.run(unfreeze('recv-0001', CORE)).code).toBe('IDENTITY.NOT_ALLOWED');
    expect(chain.receivable('recv-0001')?.frozen?.by).toBe(REGULATOR);
  });

  it('refuses unknown assets by kind and malformed payloads', () => {
    const chain = new FinanceChain();
    expect(chain.run(freeze('recv-9999'))).toMatchObject({ code: 'FINANCE.UNKNOWN_RECEIVABLE', detail: 'receivable recv-9999 does not exist' });
    expect(chain.run(freeze('wr-000001', REGULATOR, { assetKind: 'warehouse-receipt' })).code).toBe('FINANCE.UNKNOWN_WAREHOUSE_RECEIPT');
    expect(chain.run(freeze('lease-0001', REGULATOR, { assetKind: 'lease' })).code).toBe('FINANCE.UNKNOWN_LEASE');
    expect(chain.run(unfreeze('recv-9999')).code).toBe('FINANCE.UNKNOWN_RECEIVABLE');
    expect(unknownAssetCode('warehouse-receipt')).toBe('FINANCE.UNKNOWN_WAREHOUSE_RECEIPT');
    chain.ok(issue(SUPPLIER_1, 'recv-0001'));
    for (const [payload, detail] of [
      [{ assetKind: 'financing' }, /assetKind must be one of receivable, warehouse-receipt, lease/],
      [{ assetId: 'r1' }, /assetId must be 8-64/],
      [{ reason: '' }, /reason must be 1-500 characters/],
      [{ reason: 'line\nbreak' }, /reason/],
      [{ orderReference: 'x'.repeat(501) }, /orderReference, when given, must be 1-500/],
      [{ until: '2027-02-01' }, /unexpected payload field\(s\): until/],
    ] as const)
      expect(chain.run(freeze('recv-0001', REGULATOR, payload)), JSON.stringify(payload)).toMatchObject({ code: 'FINANCE.INVALID', detail: expect.stringMatching(detail) });
    expect(chain.run(tx(REGULATOR, 'finance.asset.unfreeze', { assetKind: 'receivable', assetId: 'recv-0001' })).code).toBe('FINANCE.INVALID');
    expect(chain.receivable('recv-0001')?.frozen).toBeNull();
  });

  it('a frozen receivable refuses every other finance transaction', () => {
    const issued = new FinanceChain();
    issued.ok(tx(BANK_1, 'finance.credit-line.grant', { creditLineId: 'line-0001', debtor: CORE, currency: 'CNY', limit: '1000000' }));
    issued.ok(issue(SUPPLIER_1, 'recv-0001'));
    issued.ok(freeze('recv-0001'));
    for (const t of [
      confirm('recv-0001', 'line-0001'),
      tx(CORE, 'finance.receivable.reject', { receivableId: 'recv-0001', reason: 'x' }),
      tx(SUPPLIER_1, 'finance.receivable.cancel', { receivableId: 'recv-0001', reason: 'x' }),
    ])
      expect(issued.run(t), t.type).toMatchObject({ code: 'FINANCE.FROZEN', detail: 'receivable recv-0001 is frozen by regulator (court order)' });
    const chain = confirmedChain();
    chain.ok(apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1));
    chain.ok(freeze('recv-0001'));
    chain.today = '2027-06-01';
    const before = chain.receivable('recv-0001');
    for (const t of [
      tx(SUPPLIER_1, 'finance.receivable.transfer', { receivableId: 'recv-0001', to: SUPPLIER_2 }),
      tx(SUPPLIER_1, 'finance.receivable.split', { receivableId: 'recv-0001', parts: [{ receivableId: 'part-0001', faceValue: '1', holder: SUPPLIER_1 }, { receivableId: 'part-0002', faceValue: '99999', holder: SUPPLIER_2 }] }),
      tx(SUPPLIER_1, 'finance.receivable.mark-overdue', { receivableId: 'recv-0001' }),
      tx(SUPPLIER_1, 'finance.receivable.declare-default', { receivableId: 'recv-0001', reason: 'x' }),
      apply(SUPPLIER_1, 'fin-00002', 'recv-0001', BANK_2),
      approve(BANK_1, 'fin-00001'),
    ])
      expect(chain.run(t).code, t.type).toBe('FINANCE.FROZEN');
    expect(chain.receivable('recv-0001')).toEqual(before);
  });
});

describe('observers sign freezes through the real executor', () => {
  const member = generateKeyPair('ed25519');
  const regulator = generateKeyPair('ed25519');
  const keyOf = (k: KeyPair) => ({ keyId: keyId('ed25519', k.publicKey), algorithm: 'ed25519', publicKey: toHex(k.publicKey) });
  const config: ChainConfig = {
    chainId: 'finance-freeze',
    sequence: 0,
    members: [SUPPLIER_1, CORE].map((organizationId, i) => ({ organizationId, role: 'member', nodeKey: { algorithm: 'ed25519' as const, publicKey: toHex(generateKeyPair('ed25519').publicKey) }, keys: i === 0 ? [keyOf(member)] : [keyOf(generateKeyPair('ed25519'))] })),
    observers: [{ organizationId: REGULATOR, role: 'regulator', keys: [keyOf(regulator)] }],
    policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
    cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
    timestampWindowMs: 60_000,
  };
  const time = '2027-01-04T08:00:00.000Z';
  let nonce = 0;
  const signed = (org: string, key: KeyPair, t: { type: string; payload: Record<string, unknown> }): Envelope =>
    signTransaction({ chainId: config.chainId, type: t.type, creator: { organizationId: org, keyId: keyOf(key).keyId }, nonce: `f${nonce++}`, timestamp: time, payload: t.payload } as Transaction, { algorithm: 'ed25519', privateKey: key.privateKey });

  it('freeze is open to observers; every other finance transaction is not', () => {
    const state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
    const out = executeBlock(
      { chainId: config.chainId, blockNumber: 1, blockTimestamp: time, config, state: { get: (k) => state.get(k) }, isCommitted: () => false, verifier: verify, registry: new ContractRegistry(financeContracts) },
      [signed(SUPPLIER_1, member, issue(SUPPLIER_1, 'recv-0001')), signed(REGULATOR, regulator, freeze('recv-0001')), signed(REGULATOR, regulator, issue(REGULATOR, 'recv-0002')), signed(SUPPLIER_1, member, freeze('recv-0001', SUPPLIER_1))].map((e) =>
        canonicalBytes(e as unknown as JsonValue),
      ),
    );
    expect(out.transactions.map((t) => t.result.code)).toEqual(['VALID', 'VALID', 'LEDGER.OBSERVER_READ_ONLY', 'IDENTITY.NOT_ALLOWED']);
    expect((out.writes.get('finance/receivable/recv-0001')?.value as { frozen: { by: string } }).frozen.by).toBe(REGULATOR);
    expect(financeContracts.filter((h) => h.observers).map((h) => h.type)).toEqual(['finance.asset.freeze', 'finance.asset.unfreeze']);
  });
});
