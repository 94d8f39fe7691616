import { describe, expect, it } from 'vitest';
import { canonicalBytes, type Envelope, generateKeyPair, keyId, signTransaction, toHex, verify, type KeyPair, type Transaction } from '@alliance/protocol';
import { apply, approve, BANK_1, BANK_2, confirm, confirmedChain, CORE, FinanceChain, freeze, grant, issue, REGULATOR, repay, sha, SUPPLIER_1, SUPPLIER_2, tx, unfreeze } from '../../../test/finance-chain';
import { CONFIG_KEY } from '../config';
import { executeBlock } from '../executor';
import { ContractRegistry } from '../registry';
import type { ChainConfig, JsonValue, VersionedValue } from '../types';
import { financeContracts, financeableAssets } from './index';
import { type Financing, financingContractsFor, financingTerms } from './financing';
import { receivableAsset } from './receivables';

const disburse = (org: string, financingId: string) => tx(org, 'finance.financing.disburse', { financingId, paymentReference: `SWIFT ${financingId}` });
const release = (org: string, financingId: string) => tx(org, 'finance.financing.release', { financingId });
const recourse = (org: string, financingId: string) => tx(org, 'finance.financing.recourse', { financingId, reason: 'debtor defaulted' });
const rejectFinancing = (org: string, financingId: string) => tx(org, 'finance.financing.reject', { financingId, reason: 'risk appetite' });
const withdraw = (org: string, financingId: string) => tx(org, 'finance.financing.withdraw', { financingId });

/** recv-0001 confirmed, fin-00001 (bank-1) and fin-00002 (bank-2) applied for, discounting. */
function shopping(): FinanceChain {
  const chain = confirmedChain();
  chain.ok(apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1));
  chain.ok(apply(SUPPLIER_1, 'fin-00002', 'recv-0001', BANK_2));
  return chain;
}

describe('finance.financing.apply', () => {
  it('opens an application by the holder, several to different financiers', () => {
    const chain = shopping();
    expect(chain.financing('fin-00001')).toEqual({
      financingId: 'fin-00001',
      assetKind: 'receivable',
      assetId: 'recv-0001',
      applicant: SUPPLIER_1,
      financier: BANK_1,
      kind: 'discounting',
      recourse: true,
      currency: 'CNY',
      faceValue: '100000',
      principal: '100000',
      dueDate: '2027-04-04',
      rateBps: null,
      dayCount: null,
      feeMinor: null,
      discount: null,
      interest: null,
      disbursedAmount: null,
      days: null,
      approvedOn: null,
      status: 'applied',
      paymentReference: null,
      reason: null,
      appliedAtBlock: 4,
      decidedAtBlock: null,
      disbursedAtBlock: null,
      closedAtBlock: null,
      updatedAtBlock: 4,
      lastTransactionId: expect.stringMatching(/^tx-4-/),
    } satisfies Financing);
    expect(chain.financing('fin-00002')).toMatchObject({ financier: BANK_2, status: 'applied' });
    expect(chain.receivable('recv-0001')?.encumbrance).toBeNull();
    chain.ok(apply(SUPPLIER_1, 'fin-00003', 'recv-0001', BANK_1, 'factoring'));
    expect(chain.financing('fin-00003')?.recourse).toBe(false);
    chain.ok(apply(SUPPLIER_1, 'fin-00004', 'recv-0001', BANK_2, 'factoring', { recourse: true }));
    expect(chain.financing('fin-00004')?.recourse).toBe(true);
  });

  it('a pledge asks for a principal up to the value', () => {
    const chain = confirmedChain();
    chain.ok(apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1, 'pledge', { principal: '60000' }));
    expect(chain.financing('fin-00001')).toMatchObject({ kind: 'pledge', faceValue: '100000', principal: '60000', recourse: true });
    expect(chain.run(apply(SUPPLIER_1, 'fin-00002', 'recv-0001', BANK_1, 'pledge', { principal: '100001' }))).toMatchObject({ code: 'FINANCE.INVALID', detail: 'payload.principal (100001) exceeds the value of receivable recv-0001 (100000)' });
    expect(chain.run(apply(SUPPLIER_1, 'fin-00002', 'recv-0001', BANK_1, 'discounting', { principal: '60000' }))).toMatchObject({ code: 'FINANCE.INVALID', detail: expect.stringMatching(/principal of discounting, when given, must be the value/) });
    chain.ok(apply(SUPPLIER_1, 'fin-00002', 'recv-0001', BANK_1, 'discounting', { principal: '100000' }));
  });

  it('refuses malformed applications', () => {
    const chain = confirmedChain();
    for (const [payload, detail] of [
      [{ assetKind: 'invoice' }, /assetKind must be one of receivable/],
      [{ financier: SUPPLIER_1 }, /financier must be a member organization other than the applicant/],
      [{ financier: REGULATOR }, /financier/],
      [{ kind: 'lease-refinancing' }, /kind must be one of discounting, factoring, pledge/],
      [{ recourse: 'yes' }, /recourse, when given, must be true or false/],
      [{ principal: '0' }, /principal must be a positive amount/],
      [{ assetId: 'x' }, /assetId must be 8-64/],
      [{ financingId: 'a b c d e f' }, /financingId must be 8-64/],
      [{ rate: 1 }, /unexpected payload field\(s\): rate/],
    ] as const)
      expect(chain.run(tx(SUPPLIER_1, 'finance.financing.apply', { ...apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1).payload, ...payload })), JSON.stringify(payload)).toMatchObject({
        code: 'FINANCE.INVALID',
        detail: expect.stringMatching(detail),
      });
  });

  it('only by the holder, of a confirmed, unencumbered, unfrozen receivable with term left', () => {
    const chain = shopping();
    expect(chain.run(apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_2))).toMatchObject({ code: 'FINANCE.DUPLICATE_ID' });
    expect(chain.run(apply(SUPPLIER_1, 'fin-00009', 'recv-9999', BANK_2))).toMatchObject({ code: 'FINANCE.UNKNOWN_RECEIVABLE', detail: 'receivable recv-9999 does not exist' });
    expect(chain.run(apply(SUPPLIER_2, 'fin-00009', 'recv-0001', BANK_2))).toMatchObject({ code: 'FINANCE.NOT_HOLDER', detail: `only the holder ${SUPPLIER_1} of receivable recv-0001 applies to finance it` });
    chain.ok(issue(SUPPLIER_2, 'recv-0002', { documents: [{ docType: 'invoice', hash: sha('i2'), amount: '100000' }] }));
    expect(chain.run(apply(SUPPLIER_2, 'fin-00009', 'recv-0002', BANK_2))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'receivable recv-0002 is issued; only a confirmed receivable is financed' });
    chain.ok(approve(BANK_1, 'fin-00001'));
    expect(chain.run(apply(SUPPLIER_1, 'fin-00009', 'recv-0001', BANK_2))).toMatchObject({ code: 'FINANCE.ENCUMBERED' });
    chain.ok(freeze('recv-0001'));
    expect(chain.run(apply(SUPPLIER_1, 'fin-00009', 'recv-0001', BANK_2))).toMatchObject({ code: 'FINANCE.FROZEN' });
    // Nothing left of the term: due today.
    const late = confirmedChain();
    late.today = '2027-04-04';
    expect(late.run(apply(SUPPLIER_1, 'fin-00009', 'recv-0001', BANK_2))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'receivable recv-0001 is due on 2027-04-04: nothing is left of its term' });
  });

  it('is for an admin key or an agent with finance.financing.manage', () => {
    const chain = confirmedChain();
    const clerk = chain.agent(SUPPLIER_1, 'clerk', ['finance.receivable.manage']);
    expect(chain.run(tx(SUPPLIER_1, 'finance.financing.apply', apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1).payload, clerk)).code).toBe('IDENTITY.NOT_ALLOWED');
    const treasurer = chain.agent(SUPPLIER_1, 'treasurer', ['finance.financing.manage']);
    expect(chain.run(tx(SUPPLIER_1, 'finance.financing.apply', apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1).payload, treasurer)).code).toBe('VALID');
  });
});

describe('finance.financing.approve — the encumbrance lock', () => {
  it('locks the asset and computes the terms exactly', () => {
    const chain = shopping();
    chain.ok(approve(BANK_1, 'fin-00001', { rateBps: 500, dayCount: 'ACT/360', feeMinor: '250' }));
    // 2027-01-04 → 2027-04-04: 90 days; 100000 × 500 × 90 / (10000 × 360) = 1250.
    expect(chain.financing('fin-00001')).toMatchObject({ status: 'approved', days: 90, approvedOn: '2027-01-04', rateBps: 500, dayCount: 'ACT/360', feeMinor: '250', discount: '1250', interest: null, disbursedAmount: '98500', decidedAtBlock: 6 });
    expect(chain.receivable('recv-0001')?.encumbrance).toEqual({ kind: 'discounting', financingId: 'fin-00001', financier: BANK_1, sinceBlock: 6 });
    expect(chain.run(approve(BANK_2, 'fin-00002'))).toMatchObject({ code: 'FINANCE.ALREADY_ENCUMBERED', detail: `receivable recv-0001 is already financed: discounting fin-00001 of ${BANK_1} since block 6` });
    expect(chain.financing('fin-00002')?.status).toBe('applied');
  });

  it('two financiers approving the same receivable in one block: the first wins, the second is refused', () => {
    const chain = shopping();
    const [first, second] = chain.runBlock(approve(BANK_2, 'fin-00002'), approve(BANK_1, 'fin-00001'));
    expect(first!.code).toBe('VALID');
    expect(second).toMatchObject({ code: 'FINANCE.ALREADY_ENCUMBERED' });
    expect(chain.receivable('recv-0001')?.encumbrance?.financingId).toBe('fin-00002');
    expect(chain.financing('fin-00001')?.status).toBe('applied');
  });

  it('a pledge: interest on the principal, disbursed principal less the fee; rounding half-even', () => {
    const chain = confirmedChain();
    chain.ok(apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1, 'pledge', { principal: '60000' }));
    chain.ok(approve(BANK_1, 'fin-00001', { rateBps: 600, dayCount: 'ACT/365F', feeMinor: '100' }));
    // 60000 × 600 × 90 / 3650000 = 887.67… → 888.
    expect(chain.financing('fin-00001')).toMatchObject({ interest: '888', discount: null, disbursedAmount: '59900', days: 90 });
    expect(chain.receivable('recv-0001')?.encumbrance?.kind).toBe('pledge');
    const terms = (rateBps: number) => financingTerms({ kind: 'discounting', faceValue: '100000', principal: '100000' }, 90, rateBps, 'ACT/360', '0');
    expect(terms(1)).toMatchObject({ discount: '2' }); // 2.5 → 2
    expect(terms(3)).toMatchObject({ discount: '8' }); // 7.5 → 8
  });

  it('refuses bad terms and terms that leave nothing to advance', () => {
    const chain = shopping();
    for (const [terms, detail] of [
      [{ rateBps: -1 }, /rateBps must be a whole number of basis points 0-10000/],
      [{ rateBps: 10001 }, /rateBps/],
      [{ rateBps: 1.5 }, /rateBps/],
      [{ rateBps: '500' }, /rateBps/],
      [{ dayCount: '30/360' }, /dayCount must be one of ACT\/360, ACT\/365F/],
      [{ feeMinor: '-1' }, /feeMinor must be an amount/],
      [{ feeMinor: '98750' }, /discount 1250 and fee 98750 leave nothing of the face value 100000 to advance/],
    ] as const)
      expect(chain.run(approve(BANK_1, 'fin-00001', terms)), JSON.stringify(terms)).toMatchObject({ code: 'FINANCE.INVALID', detail: expect.stringMatching(detail) });
    chain.ok(approve(BANK_1, 'fin-00001', { feeMinor: '98749' }));
    expect(chain.financing('fin-00001')?.disbursedAmount).toBe('1');
  });

  it('only the financier, only an open application, only while the asset is as applied for', () => {
    const chain = shopping();
    expect(chain.run(approve(BANK_2, 'fin-00001'))).toMatchObject({ code: 'FINANCE.NOT_FINANCIER', detail: `only the financier ${BANK_1} of financing fin-00001 signs finance.financing.approve` });
    expect(chain.run(approve(BANK_1, 'fin-09999'))).toMatchObject({ code: 'FINANCE.UNKNOWN_FINANCING' });
    chain.ok(freeze('recv-0001'));
    expect(chain.run(approve(BANK_1, 'fin-00001'))).toMatchObject({ code: 'FINANCE.FROZEN' });
    chain.ok(unfreeze('recv-0001'));
    // Paid in part since the application: worth less now.
    chain.ok(repay('pay-00001', 'recv-0001', '100'));
    expect(chain.run(approve(BANK_1, 'fin-00001'))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'receivable recv-0001 is worth 99900 now, 100000 when applied for: apply again' });
    // Changed hands since the application.
    chain.ok(tx(SUPPLIER_1, 'finance.receivable.transfer', { receivableId: 'recv-0001', to: SUPPLIER_2 }));
    expect(chain.run(approve(BANK_2, 'fin-00002'))).toMatchObject({ code: 'FINANCE.NOT_HOLDER' });
    chain.ok(apply(SUPPLIER_2, 'fin-00003', 'recv-0001', BANK_1));
    chain.ok(approve(BANK_1, 'fin-00003'));
    expect(chain.run(approve(BANK_1, 'fin-00003'))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'financing fin-00003 is approved; this needs it applied' });
    // The due date came before the approval.
    const late = shopping();
    late.today = '2027-04-04';
    expect(late.run(approve(BANK_1, 'fin-00001'))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'receivable recv-0001 is due on 2027-04-04: nothing is left of its term' });
    // Split since the application: no longer financeable.
    const split = shopping();
    split.ok(tx(SUPPLIER_1, 'finance.receivable.split', { receivableId: 'recv-0001', parts: [{ receivableId: 'part-0001', faceValue: '1', holder: SUPPLIER_1 }, { receivableId: 'part-0002', faceValue: '99999', holder: SUPPLIER_1 }] }));
    expect(split.run(approve(BANK_1, 'fin-00001'))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'receivable recv-0001 is split; only a confirmed receivable is financed' });
  });
});

describe('reject, withdraw, disburse, release', () => {
  it('reject by the financier and withdraw by the applicant close an open application', () => {
    const chain = shopping();
    expect(chain.run(rejectFinancing(SUPPLIER_1, 'fin-00001')).code).toBe('FINANCE.NOT_FINANCIER');
    expect(chain.run(tx(BANK_1, 'finance.financing.reject', { financingId: 'fin-00001' })).detail).toMatch(/^payload\.reason must be/);
    chain.ok(rejectFinancing(BANK_1, 'fin-00001'));
    expect(chain.financing('fin-00001')).toMatchObject({ status: 'rejected', reason: 'risk appetite', decidedAtBlock: chain.block, closedAtBlock: chain.block });
    expect(chain.run(withdraw(BANK_2, 'fin-00002')).code).toBe('FINANCE.NOT_APPLICANT');
    chain.ok(withdraw(SUPPLIER_1, 'fin-00002'));
    expect(chain.financing('fin-00002')).toMatchObject({ status: 'withdrawn', reason: null });
    expect(chain.run(withdraw(SUPPLIER_1, 'fin-00002')).code).toBe('FINANCE.INVALID_STATE');
    expect(chain.run(rejectFinancing(BANK_1, 'fin-00001')).code).toBe('FINANCE.INVALID_STATE');
    expect(chain.receivable('recv-0001')?.encumbrance).toBeNull();
  });

  it('disburse an approved financing, then release its lock', () => {
    const chain = shopping();
    expect(chain.run(disburse(BANK_1, 'fin-00001'))).toMatchObject({ code: 'FINANCE.INVALID_STATE' });
    expect(chain.run(release(BANK_1, 'fin-00001'))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'financing fin-00001 is applied; this needs it approved or disbursed' });
    chain.ok(approve(BANK_1, 'fin-00001'));
    expect(chain.run(tx(BANK_1, 'finance.financing.disburse', { financingId: 'fin-00001' })).code).toBe('FINANCE.INVALID');
    expect(chain.run(disburse(BANK_2, 'fin-00001')).code).toBe('FINANCE.NOT_FINANCIER');
    chain.ok(disburse(BANK_1, 'fin-00001'));
    expect(chain.financing('fin-00001')).toMatchObject({ status: 'disbursed', paymentReference: 'SWIFT fin-00001', disbursedAtBlock: chain.block });
    expect(chain.run(disburse(BANK_1, 'fin-00001')).code).toBe('FINANCE.INVALID_STATE');
    expect(chain.run(release(SUPPLIER_1, 'fin-00001')).code).toBe('FINANCE.NOT_FINANCIER');
    chain.ok(release(BANK_1, 'fin-00001'));
    expect(chain.financing('fin-00001')).toMatchObject({ status: 'released', closedAtBlock: chain.block });
    expect(chain.receivable('recv-0001')?.encumbrance).toBeNull();
    // The lock is gone: the other application is approved now.
    chain.ok(approve(BANK_2, 'fin-00002'));
    expect(chain.run(release(BANK_1, 'fin-00001')).code).toBe('FINANCE.INVALID_STATE');
  });

  it('a frozen asset refuses every step of its financing', () => {
    const chain = shopping();
    chain.ok(approve(BANK_1, 'fin-00001'));
    chain.ok(freeze('recv-0001'));
    for (const t of [disburse(BANK_1, 'fin-00001'), release(BANK_1, 'fin-00001'), rejectFinancing(BANK_2, 'fin-00002'), withdraw(SUPPLIER_1, 'fin-00002')]) expect(chain.run(t).code, t.type).toBe('FINANCE.FROZEN');
  });
});

describe('finance.financing.recourse', () => {
  function defaulted(kind: string, extra: Record<string, unknown> = {}): FinanceChain {
    const chain = confirmedChain();
    chain.ok(apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1, kind, extra));
    chain.ok(approve(BANK_1, 'fin-00001'));
    chain.ok(disburse(BANK_1, 'fin-00001'));
    return chain;
  }

  it('on a defaulted receivable financed with recourse: the applicant owes, the lock ends', () => {
    const chain = defaulted('discounting');
    expect(chain.run(recourse(BANK_1, 'fin-00001'))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'receivable recv-0001 is confirmed; recourse needs it defaulted' });
    chain.today = '2027-05-04';
    chain.ok(tx(BANK_1, 'finance.receivable.mark-overdue', { receivableId: 'recv-0001' }));
    chain.ok(tx(BANK_1, 'finance.receivable.declare-default', { receivableId: 'recv-0001', reason: 'unpaid' }));
    expect(chain.run(recourse(SUPPLIER_1, 'fin-00001')).code).toBe('FINANCE.NOT_FINANCIER');
    chain.ok(freeze('recv-0001'));
    expect(chain.run(recourse(BANK_1, 'fin-00001')).code).toBe('FINANCE.FROZEN');
    chain.ok(unfreeze('recv-0001'));
    chain.ok(recourse(BANK_1, 'fin-00001'));
    expect(chain.financing('fin-00001')).toMatchObject({ status: 'recourse', reason: 'debtor defaulted', closedAtBlock: chain.block });
    expect(chain.receivable('recv-0001')).toMatchObject({ status: 'defaulted', holder: SUPPLIER_1, encumbrance: null });
    // The debtor's late payment now goes to the applicant, the holder.
    chain.ok(repay('pay-00001', 'recv-0001', '100000'));
    expect(chain.payment('pay-00001')?.allocations).toEqual([{ receivableId: 'recv-0001', payee: SUPPLIER_1, amount: '100000', financingId: null }]);
    expect(chain.run(recourse(BANK_1, 'fin-00001')).code).toBe('FINANCE.INVALID_STATE');
  });

  it('not without recourse, not before disbursement', () => {
    const chain = defaulted('factoring');
    chain.today = '2027-05-04';
    chain.ok(tx(BANK_1, 'finance.receivable.mark-overdue', { receivableId: 'recv-0001' }));
    chain.ok(tx(BANK_1, 'finance.receivable.declare-default', { receivableId: 'recv-0001', reason: 'unpaid' }));
    expect(chain.run(recourse(BANK_1, 'fin-00001'))).toMatchObject({ code: 'FINANCE.NO_RECOURSE', detail: 'financing fin-00001 is without recourse' });
    const early = confirmedChain();
    early.ok(apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1));
    early.ok(approve(BANK_1, 'fin-00001'));
    expect(early.run(recourse(BANK_1, 'fin-00001'))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'financing fin-00001 is approved; this needs it disbursed' });
  });
});

describe('financingContractsFor', () => {
  it('builds the seven handlers over the kinds given, one adapter per kind', () => {
    expect(financingContractsFor([receivableAsset]).map((h) => h.type)).toEqual([
      'finance.financing.apply',
      'finance.financing.approve',
      'finance.financing.reject',
      'finance.financing.withdraw',
      'finance.financing.disburse',
      'finance.financing.release',
      'finance.financing.recourse',
    ]);
    expect(() => financingContractsFor([receivableAsset, receivableAsset])).toThrow('two financeable-asset adapters for receivable');
    expect(financeableAssets.map((a) => a.kind)).toContain('receivable');
    expect(() => new ContractRegistry(financeContracts)).not.toThrow();
  });
});

describe('the race through the real executor', () => {
  // Signed transactions in one block of executeBlock: both approvals are ordered, the second is refused.
  const keys: Record<string, KeyPair> = Object.fromEntries([SUPPLIER_1, CORE, BANK_1, BANK_2].map((o) => [o, generateKeyPair('ed25519')]));
  const keyOf = (k: KeyPair) => ({ keyId: keyId('ed25519', k.publicKey), algorithm: 'ed25519', publicKey: toHex(k.publicKey) });
  const config: ChainConfig = {
    chainId: 'finance-race',
    sequence: 0,
    members: Object.entries(keys).map(([organizationId, k]) => ({ organizationId, role: 'member', nodeKey: { algorithm: 'ed25519' as const, publicKey: toHex(generateKeyPair('ed25519').publicKey) }, keys: [keyOf(k)] })),
    policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
    cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
    timestampWindowMs: 60_000,
  };
  const time = '2027-01-04T08:00:00.000Z';
  let nonce = 0;
  const signed = (t: { org: string; type: string; payload: Record<string, unknown> }): Envelope =>
    signTransaction({ chainId: config.chainId, type: t.type, creator: { organizationId: t.org, keyId: keyOf(keys[t.org]!).keyId }, nonce: `r${nonce++}`, timestamp: time, payload: t.payload } as Transaction, { algorithm: 'ed25519', privateKey: keys[t.org]!.privateKey });

  it('exactly one of two same-block approvals wins', () => {
    const state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
    const registry = new ContractRegistry(financeContracts);
    let block = 0;
    const run = (...txs: Array<{ org: string; type: string; payload: Record<string, unknown> }>) => {
      const out = executeBlock({ chainId: config.chainId, blockNumber: ++block, blockTimestamp: time, config, state: { get: (k) => state.get(k) }, isCommitted: () => false, verifier: verify, registry }, txs.map((t) => canonicalBytes(signed(t) as unknown as JsonValue)));
      for (const [k, v] of out.writes) state.set(k, v);
      return out.transactions.map((t) => t.result.code);
    };
    expect(run(grant(BANK_1, 'line-0001'), issue(SUPPLIER_1, 'recv-0001'))).toEqual(['VALID', 'VALID']);
    expect(run(confirm('recv-0001', 'line-0001'), apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1), apply(SUPPLIER_1, 'fin-00002', 'recv-0001', BANK_2))).toEqual(['VALID', 'VALID', 'VALID']);
    expect(run(approve(BANK_1, 'fin-00001'), approve(BANK_2, 'fin-00002'))).toEqual(['VALID', 'FINANCE.ALREADY_ENCUMBERED']);
    expect((state.get('finance/receivable/recv-0001')?.value as { encumbrance: { financingId: string } }).encumbrance.financingId).toBe('fin-00001');
    expect((state.get('finance/financing/fin-00002')?.value as { status: string }).status).toBe('applied');
  });
});
