// Issue 6, "a regulator or court can freeze any asset and unfreeze it": the regulator's own finance service,
// signing with the regulator's key, takes its freeze and unfreeze over REST (the one write the guard lets an
// observer make, `observerMay`), while every other write of the regulator stays AUTH.READ_ONLY and a member
// asking to freeze gets the contract's refusal. Real ledger node, identity and finance services on PostgreSQL.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyReceipt } from '@alliance/protocol';
import type { AccessEntry } from '@alliance/shared/feature-platform';
import { FinanceTestChain, member, until } from '../test/harness';

const run = Date.now().toString(36);
const R = `rcv-frozen-${run}`;
const utcDate = (daysFromNow: number) => new Date(Date.now() + daysFromNow * 86_400_000).toISOString().slice(0, 10);
const hash = (text: string) => createHash('sha256').update(text).digest('hex');

describe('freeze over REST: a regulator freezes a receivable in its own finance service, members are held by it, it unfreezes', () => {
  // org1 supplier (issuer and holder), org2 core enterprise (debtor), reg the regulator (an observer on the chain).
  const chain = new FinanceTestChain('finance-freeze', [member('org1', 'supplier'), member('org2', 'manufacturer')], [member('reg', 'regulator')]);
  const org = (id: string) => chain.service(id);
  const frozenIn = (id: string) => async () => {
    const { rows } = await org(id).service.runtime.pool.query<{ frozen: Record<string, unknown> | null; status: string }>(`SELECT record->'frozen' AS frozen, status FROM finance.receivables WHERE receivable_id = $1`, [R]);
    return rows[0];
  };

  beforeAll(async () => {
    await chain.startAll(inject('databaseUrl'), 'finance_freeze', ['org1', 'org2', 'reg']);
    const issued = await org('org1').send('POST', '/receivables', {
      receivableId: R,
      debtor: 'org2',
      currency: 'EUR',
      faceValue: '250000',
      dueDate: utcDate(60),
      documents: [{ docType: 'invoice', hash: hash(`freeze invoice ${run}`), amount: '250000' }],
    });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
  }, 120_000);
  afterAll(() => chain.stop());

  it('publishes the exemption and the any-of rule in its access table (what the gateway applies too)', async () => {
    const res = await fetch(`${org('reg').service.url}/finance/v1/access.json`);
    const table = (await res.json()) as { organizationId: string; entries: AccessEntry[] };
    expect(table.organizationId).toBe('reg');
    const ruleOf = (operation: string) => table.entries.find((e) => e.operation === operation)?.rule;
    expect(ruleOf('POST /finance/v1/assets/:assetKind/:assetId/freeze')).toEqual({ kind: 'permission', permission: 'finance.asset.freeze', scope: { from: 'service' }, observerMay: true });
    expect(ruleOf('POST /finance/v1/assets/:assetKind/:assetId/unfreeze')).toEqual({ kind: 'permission', permission: 'finance.asset.freeze', scope: { from: 'service' }, observerMay: true });
    for (const verb of ['mark-overdue', 'declare-default']) {
      expect(ruleOf(`POST /finance/v1/receivables/:receivableId/${verb}`)).toEqual({ kind: 'permission', permission: 'finance.receivable.manage', alternatives: ['finance.financing.manage'], scope: { from: 'service' } });
    }
    // No other write is open to observers.
    const exempt = table.entries.filter((e) => e.rule.kind === 'permission' && e.rule.observerMay).map((e) => e.operation);
    expect(exempt.sort()).toEqual(['POST /finance/v1/assets/:assetKind/:assetId/freeze', 'POST /finance/v1/assets/:assetKind/:assetId/unfreeze']);
  });

  it('a member asking to freeze passes the guard and is refused by the contract (403 IDENTITY.NOT_ALLOWED, recorded invalid)', async () => {
    const r = await org('org2').send('POST', `/assets/receivable/${R}/freeze`, { reason: 'we would like it held' });
    expect(r.status, JSON.stringify(r.body)).toBe(403);
    expect(r.body['code']).toBe('IDENTITY.NOT_ALLOWED');
    expect(r.body['details']).toMatchObject({ status: 'invalid', transactionId: expect.stringMatching(/^[0-9a-f]{64}$/), blockNumber: expect.any(Number) });
    expect((await frozenIn('org2')())?.frozen).toBeNull();
  });

  let frozenAt: number;

  it('the regulator freezes the receivable: committed, signed by reg, the record frozen in every read model', async () => {
    const r = await org('reg').send('POST', `/assets/receivable/${R}/freeze`, { reason: 'court order 4711', orderReference: 'C-4711' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ status: 'committed', record: { receivableId: R, status: 'issued', frozen: { by: 'reg', reason: 'court order 4711', orderReference: 'C-4711' } } });
    frozenAt = r.body['blockNumber'] as number;
    expect((r.body['record'] as { frozen: { atBlock: number } }).frozen.atBlock).toBe(frozenAt);
    // The holder's own read model shows it, as does its REST read.
    const held = await until('the freeze in org1’s read model', async () => {
      const row = await frozenIn('org1')();
      return row?.frozen ? row : undefined;
    });
    expect(held).toEqual({ status: 'issued', frozen: expect.objectContaining({ by: 'reg', orderReference: 'C-4711', atBlock: frozenAt }) });
    const read = await org('org1').send('GET', `/receivables/${R}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ receivableId: R, frozen: { by: 'reg', reason: 'court order 4711' } });
    // On the ledger: a valid transaction the certified receipt proves.
    const proof = await until('the certified receipt of the freeze', async () => {
      const res = await fetch(`${chain.ledger.url}/ledger/v1/transactions/${String(r.body['transactionId'])}`);
      const body = (await res.json()) as { status: string; receipt?: unknown; blockNumber?: number };
      return body.receipt ? body : undefined;
    });
    expect(proof).toMatchObject({ status: 'committed', blockNumber: frozenAt });
    expect(verifyReceipt(proof.receipt as never)).toMatchObject({ ok: true });
  });

  it('a member’s write on the frozen receivable is refused FINANCE.FROZEN by the contract', async () => {
    const r = await org('org1').send('POST', `/receivables/${R}/cancel`, { reason: 'issued in error' });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body['code']).toBe('FINANCE.FROZEN');
    expect(r.body['details']).toMatchObject({ status: 'invalid', blockNumber: expect.any(Number) });
    expect((await frozenIn('org1')())?.status).toBe('issued');
  });

  it('every other write of the regulator is 403 AUTH.READ_ONLY before anything is signed; its reads are open', async () => {
    const before = Number((await org('reg').service.runtime.pool.query<{ n: string }>('SELECT count(*) AS n FROM finance.commands')).rows[0].n);
    for (const [path, body] of [
      [`/receivables/${R}/cancel`, { reason: 'regulator tries' }],
      [`/receivables/${R}/mark-overdue`, {}],
      ['/credit-lines', { creditLineId: `line-reg-${run}`, debtor: 'org2', currency: 'EUR', limit: '1' }],
      ['/read-model/rebuild', undefined],
    ] as const) {
      const r = await org('reg').send('POST', path, body);
      expect([path, r.status, r.body['code']]).toEqual([path, 403, 'AUTH.READ_ONLY']);
    }
    expect(Number((await org('reg').service.runtime.pool.query<{ n: string }>('SELECT count(*) AS n FROM finance.commands')).rows[0].n)).toBe(before);
    const read = await org('reg').send('GET', `/receivables/${R}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ receivableId: R, frozen: { by: 'reg' } });
  });

  it('a freeze again is refused FINANCE.ALREADY_FROZEN; the regulator unfreezes and the member’s write goes through', async () => {
    const again = await org('reg').send('POST', `/assets/receivable/${R}/freeze`, { reason: 'second order' });
    expect(again.status, JSON.stringify(again.body)).toBe(409);
    expect(again.body['code']).toBe('FINANCE.ALREADY_FROZEN');
    const lifted = await org('reg').send('POST', `/assets/receivable/${R}/unfreeze`, { reason: 'order lifted' });
    expect(lifted.status, JSON.stringify(lifted.body)).toBe(200);
    expect(lifted.body).toMatchObject({ status: 'committed', record: { receivableId: R, status: 'issued', frozen: null } });
    const lifted1 = await until('the unfreeze in org1’s read model', async () => {
      const row = await frozenIn('org1')();
      return row && row.frozen === null ? row : undefined;
    });
    expect(lifted1).toEqual({ status: 'issued', frozen: null });
    const notFrozen = await org('reg').send('POST', `/assets/receivable/${R}/unfreeze`, { reason: 'once more' });
    expect([notFrozen.status, notFrozen.body['code']]).toEqual([409, 'FINANCE.NOT_FROZEN']);
    const cancelled = await org('org1').send('POST', `/receivables/${R}/cancel`, { reason: 'issued in error' });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'committed', record: { receivableId: R, status: 'cancelled', frozen: null } });
  });
});
