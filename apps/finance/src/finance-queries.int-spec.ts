import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { daysBetween, simpleInterest } from '@alliance/ledger/domain';
import type { CommittedBlock } from '@alliance/shared/data-access-messaging';
import { createPool, type Pool, readMigrations, runMigrations } from '@alliance/shared/data-access-postgres';
import { createTestDatabase, type TestDatabase } from '@alliance/shared/testing';
import { call, FinanceTestChain, member, until } from '../test/harness';
import { FinanceQueries } from './finance-queries';
import { FinanceReadModel } from './read-model';

// Ids unique to this run (the finance topics on the shared broker outlive test databases).
const run = Date.now().toString(36);
const idOf = (name: string) => `q-${name}-${run}`;
const utcDate = (daysFromNow: number) => new Date(Date.now() + daysFromNow * 86_400_000).toISOString().slice(0, 10);
const hash = (text: string) => createHash('sha256').update(text).digest('hex');

// The tree: R (100 000, org1) split into A (60 000, org1) and B (40 000, org5); B split into B1 (25 000, org5) and
// B2 (15 000, org6). A discounted by org3; B1 pledged to org4 (20 000 lent) while an application to org3 stays open.
// The ids sort A < B < B1 < B2 < R, so the debtor's repayment is allocated to A first, then B1.
const R = idOf('root');
const A = idOf('a');
const B = idOf('b');
const B1 = idOf('b1');
const B2 = idOf('b2');
const L3 = idOf('line3');
const L4 = idOf('line4');
const F1 = idOf('f1');
const F2 = idOf('f2');
const F3 = idOf('f3');
const P1 = idOf('pay1');
const DUE = utcDate(90);

type Body = Record<string, unknown>;

describe('finance queries over the read model the chain built: tree, positions, exposure — REST and GraphQL', () => {
  // org1 supplier, org2 core enterprise (debtor), org3 and org4 banks, org5 tier-2 and org6 tier-3 suppliers.
  const chain = new FinanceTestChain('finance-queries', [member('org1', 'supplier'), member('org2', 'manufacturer'), member('org3', 'financier'), member('org4', 'financier'), member('org5', 'supplier'), member('org6', 'supplier')]);
  const org = (id: string) => chain.service(id);
  let lastBlock = 0;

  /** A command that must commit; remembers its block so reads can wait for the reader's read model. */
  async function step(o: string, method: string, path: string, body: unknown, expected = 200): Promise<Body> {
    const r = await org(o).send(method, path, body);
    expect(r.status, `${o} ${method} ${path}: ${JSON.stringify(r.body)}`).toBe(expected);
    expect(r.body['status']).toBe('committed');
    lastBlock = Math.max(lastBlock, Number(r.body['blockNumber']));
    return r.body['record'] as Body;
  }

  /** GET through `o`'s finance service once its read model has applied every block the story wrote. */
  async function read(o: string, path: string): Promise<{ status: number; body: Body; headers: Headers }> {
    await until(`${o}'s read model at block ${lastBlock}`, async () => {
      const p = await org(o).send('GET', '/read-model');
      return Number(p.body['lastBlock']) >= lastBlock ? true : undefined;
    });
    return org(o).send('GET', path);
  }

  const gql = async (o: string, query: string, variables: Record<string, unknown> = {}, token?: string | null) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const auth = token === null ? undefined : (token ?? (await chain.signIn(o, org(o).member.admin)).accessToken);
    if (auth) headers['authorization'] = `Bearer ${auth}`;
    const res = await fetch(`${org(o).service.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string; extensions: { code: string } }> };
  };

  beforeAll(async () => {
    await chain.startAll(inject('databaseUrl'), 'finance_queries', ['org1', 'org2', 'org3', 'org4', 'org5']);
  }, 180_000);
  afterAll(() => chain.stop());

  it('runs the story through the command routes', async () => {
    await step('org3', 'POST', '/credit-lines', { creditLineId: L3, debtor: 'org2', currency: 'EUR', limit: '1000000' }, 201);
    await step('org4', 'POST', '/credit-lines', { creditLineId: L4, debtor: 'org2', currency: 'EUR', limit: '500000' }, 201);
    await step('org1', 'POST', '/receivables', { receivableId: R, debtor: 'org2', currency: 'EUR', faceValue: '100000', dueDate: DUE, documents: [{ docType: 'invoice', hash: hash(`invoice ${run}`), amount: '100000' }] }, 201);
    await step('org2', 'POST', `/receivables/${R}/confirm`, { creditLineId: L3 });
    await step('org1', 'POST', `/receivables/${R}/split`, { parts: [{ receivableId: A, faceValue: '60000', holder: 'org1' }, { receivableId: B, faceValue: '40000', holder: 'org5' }] });
    await step('org5', 'POST', `/receivables/${B}/split`, { parts: [{ receivableId: B1, faceValue: '25000', holder: 'org5' }, { receivableId: B2, faceValue: '15000', holder: 'org6' }] });
    await step('org1', 'POST', '/financings', { financingId: F1, assetKind: 'receivable', assetId: A, financier: 'org3', kind: 'discounting' }, 201);
    await step('org3', 'POST', `/financings/${F1}/approve`, { rateBps: 500, dayCount: 'ACT/360', feeMinor: '100' });
    await step('org3', 'POST', `/financings/${F1}/disburse`, { paymentReference: `SEPA-F1-${run}` });
    await step('org5', 'POST', '/financings', { financingId: F3, assetKind: 'receivable', assetId: B1, financier: 'org3', kind: 'factoring' }, 201);
    await step('org5', 'POST', '/financings', { financingId: F2, assetKind: 'receivable', assetId: B1, financier: 'org4', kind: 'pledge', principal: '20000' }, 201);
    await step('org4', 'POST', `/financings/${F2}/approve`, { rateBps: 600, dayCount: 'ACT/365F', feeMinor: '50' });
    await step('org4', 'POST', `/financings/${F2}/disburse`, { paymentReference: `SEPA-F2-${run}` });
    const payment = await step('org2', 'POST', `/receivables/${R}/repay`, { paymentId: P1, amount: '70000', paymentReference: `PAY-${run}` }, 201);
    expect(payment['allocations']).toEqual([
      { receivableId: A, payee: 'org3', amount: '60000', financingId: F1 },
      { receivableId: B1, payee: 'org4', amount: '10000', financingId: F2 },
    ]);
  });

  let discount: string;
  let interest: string;

  it('the financings carry their exact terms and what each financier collected', async () => {
    const f1 = (await read('org3', `/financings/${F1}`)).body;
    const days = f1['days'] as number;
    // The approval's date is today (or yesterday, when the test crossed midnight UTC): days to the due date.
    expect([daysBetween(utcDate(0), DUE), daysBetween(utcDate(0), DUE) + 1]).toContain(days);
    discount = simpleInterest('60000', days, { rateBps: 500, dayCount: 'ACT/360' });
    expect(f1).toMatchObject({ financingId: F1, kind: 'discounting', status: 'repaid', applicant: 'org1', financier: 'org3', principal: '60000', discount, feeMinor: '100', collected: '60000', currency: 'EUR' });
    expect(f1['disbursedAmount']).toBe(String(60000n - BigInt(discount) - 100n));
    const f2 = (await read('org3', `/financings/${F2}`)).body;
    interest = simpleInterest('20000', f2['days'] as number, { rateBps: 600, dayCount: 'ACT/365F' });
    expect(f2).toMatchObject({ kind: 'pledge', status: 'disbursed', principal: '20000', interest, disbursedAmount: '19950', collected: '10000', discount: null });
    const byOrg3 = (await read('org3', '/financings?financier=org3')).body;
    expect((byOrg3['items'] as Body[]).map((f) => [f['financingId'], f['status']])).toEqual([
      [F1, 'repaid'],
      [F3, 'applied'],
    ]);
    expect(byOrg3['nextPageToken']).toBeNull();
  });

  it('the certificate tree: every node with holder, face value, paid, status, lock and financings; split edges; the payment; totals', async () => {
    // Asked for by a leaf: the whole tree from its root.
    const r = await read('org1', `/receivables/${B2}/tree`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const tree = r.body;
    expect(tree).toMatchObject({ rootId: R, receivableId: B2, currency: 'EUR', debtor: 'org2', issuer: 'org1', dueDate: DUE, faceValue: '100000', paid: '70000', outstanding: '30000', financed: '15000', asOfBlock: lastBlock });
    const nodes = tree['nodes'] as Body[];
    expect(nodes.map((n) => [n['receivableId'], n['depth'], n['parentId'], n['holder'], n['faceValue'], n['paidAmount'], n['outstanding'], n['status'], (n['encumbrance'] as Body | null)?.['financingId'] ?? null, n['frozen']])).toEqual([
      [R, 0, null, 'org1', '100000', '0', '0', 'split', null, null],
      [A, 1, R, 'org1', '60000', '60000', '0', 'settled', null, null],
      [B, 1, R, 'org5', '40000', '0', '0', 'split', null, null],
      [B1, 2, B, 'org5', '25000', '10000', '15000', 'confirmed', F2, null],
      [B2, 2, B, 'org6', '15000', '0', '15000', 'confirmed', null, null],
    ]);
    expect(nodes.every((n) => n['issuer'] === 'org1' && n['debtor'] === 'org2' && n['creditLineId'] === L3)).toBe(true);
    expect(nodes[3]['encumbrance']).toMatchObject({ kind: 'pledge', financingId: F2, financier: 'org4' });
    expect(nodes.map((n) => (n['children'] as string[]).length)).toEqual([2, 0, 2, 0, 0]);
    expect(nodes.map((n) => (n['financings'] as Body[]).map((f) => `${String(f['financingId'])}:${String(f['status'])}:${String(f['collected'])}`))).toEqual([[], [`${F1}:repaid:60000`], [], [`${F2}:disbursed:10000`, `${F3}:applied:0`], []]);
    expect(tree['edges']).toEqual([
      { from: R, to: A },
      { from: R, to: B },
      { from: B, to: B1 },
      { from: B, to: B2 },
    ]);
    expect(tree['payments']).toMatchObject([{ paymentId: P1, rootId: R, debtor: 'org2', amount: '70000', paymentReference: `PAY-${run}`, skippedFrozen: [] }]);

    // The same tree over GraphQL, to draw it.
    const g = await gql('org5', 'query($id: String!) { certificateTree(receivableId: $id) { rootId faceValue paid outstanding financed asOfBlock nodes { receivableId depth holder status outstanding encumbrance { financier } financings { financingId status collected } } edges { from to } payments { paymentId allocations { receivableId payee amount financingId } } } }', { id: A });
    expect(g.errors).toBeUndefined();
    const graph = g.data?.['certificateTree'] as Body;
    expect(graph).toMatchObject({ rootId: R, faceValue: '100000', paid: '70000', outstanding: '30000', financed: '15000', asOfBlock: lastBlock, edges: tree['edges'] });
    expect((graph['nodes'] as Body[]).map((n) => [n['receivableId'], n['depth'], n['holder'], n['status'], n['outstanding'], (n['encumbrance'] as Body | null)?.['financier'] ?? null])).toEqual(
      nodes.map((n) => [n['receivableId'], n['depth'], n['holder'], n['status'], n['outstanding'], (n['encumbrance'] as Body | null)?.['financier'] ?? null]),
    );
    expect((graph['payments'] as Body[])[0]['allocations']).toEqual([
      { receivableId: A, payee: 'org3', amount: '60000', financingId: F1 },
      { receivableId: B1, payee: 'org4', amount: '10000', financingId: F2 },
    ]);
  });

  it('lists receivables by filters, paged by a token bound to them', async () => {
    const first = await read('org2', `/receivables?rootId=${R}&perPage=2`);
    expect(first.status).toBe(200);
    const ids = (b: Body) => (b['items'] as Body[]).map((x) => x['receivableId']);
    expect(ids(first.body)).toEqual([A, B]);
    const token = first.body['nextPageToken'] as string;
    expect(first.headers.get('link')).toBe(`</finance/v1/receivables?rootId=${R}&perPage=2&nextPageToken=${token}>; rel="next"`);
    const second = await read('org2', `/receivables?perPage=2&rootId=${R}&nextPageToken=${token}`);
    expect(ids(second.body)).toEqual([B1, B2]);
    const third = await read('org2', `/receivables?rootId=${R}&perPage=2&nextPageToken=${String(second.body['nextPageToken'])}`);
    expect(ids(third.body)).toEqual([R]);
    expect(third.body['nextPageToken']).toBeNull();
    expect(third.headers.get('link')).toBeNull();

    expect(ids((await read('org2', '/receivables?holder=org5&status=confirmed,overdue')).body)).toEqual([B1]);
    expect(ids((await read('org2', '/receivables?debtor=org2&encumbered=true')).body)).toEqual([B1]);
    expect(ids((await read('org2', '/receivables?financier=org4')).body)).toEqual([B1]);
    expect(ids((await read('org2', '/receivables?status=split')).body)).toEqual([B, R]);

    const other = await read('org2', `/receivables?rootId=${B}&nextPageToken=${token}`);
    expect(other.status).toBe(400);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(other.body['code']).toBe('FINANCE.INVALID_PAGE_TOKEN');
    const bad = await read('org2', '/receivables?status=paid');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'FINANCE.INVALID_QUERY', details: { parameter: 'status' } });
    expect((await read('org2', '/receivables?holdr=org5')).body['code']).toBe('FINANCE.INVALID_QUERY');
    expect((await read('org2', '/receivables?perPage=501')).body['code']).toBe('FINANCE.INVALID_QUERY');
    expect((await read('org2', `/receivables/${A}?verbose=1`)).body['code']).toBe('FINANCE.INVALID_QUERY');

    const one = await read('org4', `/receivables/${B1}`);
    expect(one.body).toMatchObject({ receivableId: B1, rootId: R, parentId: B, outstanding: '15000', documents: [{ docType: 'invoice', hash: hash(`invoice ${run}`), amount: '100000', eventId: null }] });
    expect((one.body['financings'] as Body[]).map((f) => f['financingId'])).toEqual([F2, F3]);
    for (const path of [`/receivables/${idOf('nothing')}`, '/receivables/x', `/receivables/${idOf('nothing')}/tree`, `/financings/${idOf('nothing')}`, `/credit-lines/${idOf('nothing')}`, `/payments/${idOf('nothing')}`, `/warehouse-receipts/${idOf('nothing')}`, `/leases/${idOf('nothing')}`]) {
      const missing = await read('org2', path);
      expect(missing.status, path).toBe(404);
      expect(missing.body['code'], path).toBe('FINANCE.NOT_FOUND');
    }
  });

  it('payments and credit lines', async () => {
    const p = (await read('org1', `/payments/${P1}`)).body;
    expect(p).toMatchObject({ paymentId: P1, rootId: R, debtor: 'org2', currency: 'EUR', amount: '70000' });
    expect((await read('org1', `/payments?payee=org4`)).body['items']).toMatchObject([{ paymentId: P1 }]);
    expect((await read('org1', `/payments?payee=org5`)).body['items']).toEqual([]);
    expect((await read('org1', `/credit-lines/${L3}`)).body).toMatchObject({ creditLineId: L3, financier: 'org3', debtor: 'org2', limit: '1000000', used: '40000', available: '960000', status: 'active' });
    const lines = (await read('org1', '/credit-lines?debtor=org2')).body['items'] as Body[];
    expect(lines.map((l) => [l['creditLineId'], l['used']])).toEqual([
      [L3, '40000'],
      [L4, '0'],
    ]);
  });

  it('positions: what each organization holds, owes, obtained, granted and received', async () => {
    const tier2 = (await read('org5', '/positions/org5')).body;
    expect(tier2).toMatchObject({ organizationId: 'org5', asOfBlock: lastBlock });
    expect(tier2['holding']).toEqual({
      byStatus: [
        { status: 'confirmed', currency: 'EUR', count: 1, faceValue: '25000', paidAmount: '10000', outstanding: '15000', financed: '15000' },
        { status: 'split', currency: 'EUR', count: 1, faceValue: '40000', paidAmount: '0', outstanding: '0', financed: '0' },
      ],
      live: [{ currency: 'EUR', count: 1, outstanding: '15000', overdue: '0', defaulted: '0', financed: '15000', frozen: '0' }],
    });
    expect(tier2['owing']).toEqual({ byStatus: [], live: [] });
    expect(tier2['financingsObtained']).toEqual([
      { status: 'applied', kind: 'factoring', currency: 'EUR', count: 1, principal: '25000', disbursed: '0', discount: '0', interest: '0', fees: '0', collected: '0' },
      { status: 'disbursed', kind: 'pledge', currency: 'EUR', count: 1, principal: '20000', disbursed: '19950', discount: '0', interest, fees: '50', collected: '10000' },
    ]);
    expect(tier2['financingsGranted']).toEqual([]);
    expect(tier2['paymentsReceived']).toEqual([]);

    const debtor = (await read('org2', '/positions/org2')).body;
    expect(debtor['owing']).toEqual({
      byStatus: [
        { status: 'confirmed', currency: 'EUR', count: 2, faceValue: '40000', paidAmount: '10000', outstanding: '30000', financed: '15000' },
        { status: 'settled', currency: 'EUR', count: 1, faceValue: '60000', paidAmount: '60000', outstanding: '0', financed: '0' },
      ],
      live: [{ currency: 'EUR', count: 2, outstanding: '30000', overdue: '0', defaulted: '0', financed: '15000', frozen: '0' }],
    });
    expect(debtor['creditLinesReceived']).toEqual([{ status: 'active', currency: 'EUR', count: 2, limit: '1500000', used: '40000' }]);
    expect(debtor['paymentsMade']).toEqual([{ source: 'receivable', currency: 'EUR', count: 1, amount: '70000' }]);
    expect(debtor['holding']).toEqual({ byStatus: [], live: [] });

    const bank = (await read('org3', '/positions/org3')).body;
    expect(bank['financingsGranted']).toEqual([
      { status: 'repaid', kind: 'discounting', currency: 'EUR', count: 1, principal: '60000', disbursed: String(60000n - BigInt(discount) - 100n), discount, interest: '0', fees: '100', collected: '60000' },
      { status: 'applied', kind: 'factoring', currency: 'EUR', count: 1, principal: '25000', disbursed: '0', discount: '0', interest: '0', fees: '0', collected: '0' },
    ]);
    expect(bank['creditLinesGranted']).toEqual([{ status: 'active', currency: 'EUR', count: 1, limit: '1000000', used: '40000' }]);
    expect(bank['paymentsReceived']).toEqual([{ source: 'receivable', currency: 'EUR', count: 1, amount: '60000' }]);
    for (const part of ['warehouseReceiptsHeld', 'warehouseReceiptsIssued', 'leasesAsLessor', 'leasesAsLessee']) expect(bank[part]).toEqual([]);

    const supplier = (await read('org1', '/positions/org1')).body;
    expect((supplier['holding'] as Body)['byStatus']).toEqual([
      { status: 'settled', currency: 'EUR', count: 1, faceValue: '60000', paidAmount: '60000', outstanding: '0', financed: '0' },
      { status: 'split', currency: 'EUR', count: 1, faceValue: '100000', paidAmount: '0', outstanding: '0', financed: '0' },
    ]);

    // Over GraphQL: the same figures.
    const g = await gql('org4', 'query($o: String!) { financePositions(organizationId: $o) { organizationId holding { byStatus { status currency count faceValue paidAmount outstanding financed } live { currency count outstanding overdue defaulted financed frozen } } financingsObtained { status kind currency count principal disbursed discount interest fees collected } } }', { o: 'org5' });
    expect(g.errors).toBeUndefined();
    expect(g.data?.['financePositions']).toEqual({ organizationId: 'org5', holding: tier2['holding'], financingsObtained: tier2['financingsObtained'] });
    expect((await read('org2', '/positions/Not%20An%20Org')).body['code']).toBe('FINANCE.INVALID_QUERY');
  });

  it('exposure per debtor: outstanding, the financed part per financier, credit lines', async () => {
    const r = await read('org4', '/exposure/debtors');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const expected = {
      debtor: 'org2',
      currency: 'EUR',
      receivables: 2,
      outstanding: '30000',
      overdue: '0',
      defaulted: '0',
      frozen: '0',
      financed: '15000',
      creditLines: 2,
      creditLimit: '1500000',
      creditUsed: '40000',
      financiers: [
        { financier: 'org3', receivables: 0, financed: '0', principal: '0', disbursed: '0', creditLines: 1, creditLimit: '1000000', creditUsed: '40000' },
        { financier: 'org4', receivables: 1, financed: '15000', principal: '20000', disbursed: '19950', creditLines: 1, creditLimit: '500000', creditUsed: '0' },
      ],
    };
    expect(r.body).toEqual({ items: [expected], nextPageToken: null, asOfBlock: lastBlock });
    expect((await read('org4', '/exposure/debtors?debtor=org5')).body['items']).toEqual([]);
    expect((await read('org4', '/exposure/debtors?currency=usd')).body['code']).toBe('FINANCE.INVALID_QUERY');
    const g = await gql('org3', '{ debtorExposure(debtor: ["org2"]) { items { debtor currency receivables outstanding overdue defaulted frozen financed creditLines creditLimit creditUsed financiers { financier receivables financed principal disbursed creditLines creditLimit creditUsed } } nextPageToken } }');
    expect(g.errors).toBeUndefined();
    expect(g.data?.['debtorExposure']).toEqual({ items: [expected], nextPageToken: null });
  });

  it('exposure per financier: open financings per debtor (principal, disbursed, collected), credit lines; paged by financier and currency', async () => {
    const first = await read('org1', '/exposure/financiers?perPage=1');
    expect(first.body['items']).toEqual([
      {
        financier: 'org3',
        currency: 'EUR',
        financings: 0,
        principal: '0',
        disbursed: '0',
        collected: '0',
        recourse: '0',
        creditLines: 1,
        creditLimit: '1000000',
        creditUsed: '40000',
        debtors: [{ debtor: 'org2', financings: 0, principal: '0', disbursed: '0', collected: '0', recourse: '0', creditLines: 1, creditLimit: '1000000', creditUsed: '40000' }],
      },
    ]);
    const token = first.body['nextPageToken'] as string;
    expect(token).toEqual(expect.any(String));
    const second = await read('org1', `/exposure/financiers?perPage=1&nextPageToken=${token}`);
    const org4 = {
      financier: 'org4',
      currency: 'EUR',
      financings: 1,
      principal: '20000',
      disbursed: '19950',
      collected: '10000',
      recourse: '0',
      creditLines: 1,
      creditLimit: '500000',
      creditUsed: '0',
      debtors: [{ debtor: 'org2', financings: 1, principal: '20000', disbursed: '19950', collected: '10000', recourse: '0', creditLines: 1, creditLimit: '500000', creditUsed: '0' }],
    };
    expect(second.body).toEqual({ items: [org4], nextPageToken: null, asOfBlock: lastBlock });
    expect((await read('org1', `/exposure/financiers?financier=org3&nextPageToken=${token}`)).body['code']).toBe('FINANCE.INVALID_PAGE_TOKEN');
    const g = await gql('org1', '{ financierExposure(financier: ["org4"]) { items { financier currency financings principal disbursed collected recourse creditLines creditLimit creditUsed debtors { debtor financings principal disbursed collected recourse creditLines creditLimit creditUsed } } asOfBlock } }');
    expect(g.errors).toBeUndefined();
    expect(g.data?.['financierExposure']).toEqual({ items: [org4], asOfBlock: lastBlock });
  });

  it('GraphQL lists page like REST and answer the same error codes; a caller must be signed in', async () => {
    const page = await gql('org1', `query($f: FinanceReceivableFilter) { financeReceivables(filter: $f, first: 3) { items { receivableId } nextPageToken } }`, { f: { rootId: [R] } });
    expect(page.errors).toBeUndefined();
    const p = page.data?.['financeReceivables'] as { items: Body[]; nextPageToken: string };
    expect(p.items.map((i) => i['receivableId'])).toEqual([A, B, B1]);
    const rest = await read('org1', `/receivables?rootId=${R}&perPage=2&nextPageToken=${p.nextPageToken}`);
    expect((rest.body['items'] as Body[]).map((i) => i['receivableId'])).toEqual([B2, R]);
    const financings = await gql('org1', `{ financings(filter: { assetId: ["${B1}"] }) { items { financingId kind status principal } } }`);
    expect(financings.data?.['financings']).toEqual({ items: [{ financingId: F2, kind: 'pledge', status: 'disbursed', principal: '20000' }, { financingId: F3, kind: 'factoring', status: 'applied', principal: '25000' }] });
    expect((await gql('org1', `{ financeReceivable(id: "${idOf('nothing')}") { receivableId } }`)).errors?.[0].extensions.code).toBe('FINANCE.NOT_FOUND');
    expect((await gql('org1', '{ financeReceivables(filter: { status: ["paid"] }) { nextPageToken } }')).errors?.[0].extensions.code).toBe('FINANCE.INVALID_QUERY');
    expect((await gql('org1', '{ financeReceivables(first: 0) { nextPageToken } }')).errors?.[0].extensions.code).toBe('FINANCE.INVALID_QUERY');
    expect((await gql('org1', '{ leases { items { leaseId } } warehouseReceipts { items { receiptId } } }')).data).toEqual({ leases: { items: [] }, warehouseReceipts: { items: [] } });
    expect((await gql('org1', '{ certificateTree(receivableId: "x") { rootId } }', {}, null)).errors?.[0].extensions.code).toBe('AUTH.TOKEN_MISSING');
    const anonymous = await call(`${org('org1').service.url}/finance/v1/positions/org1`);
    expect(anonymous.status).toBe(401);
  });
});

/**
 * Warehouse receipts and leases need provenance custody and registered devices on the chain; their queries
 * are checked here on records applied to a read model of its own, through the read model's own projection.
 */
describe('finance queries of warehouse receipts and leases, over records the read model projected', () => {
  let db: TestDatabase;
  let pool: Pool;
  let queries: FinanceQueries;
  const CHAIN = 'queries-chain';
  const freeze = { by: 'regulator', reason: 'court order', orderReference: 'C-1', atBlock: 1, at: '2026-12-01T00:00:00.000Z' };
  const lease = (leaseId: string, status: string, schedule: Array<[string, string, string]>, extra: Body = {}) => ({
    leaseId,
    lessor: 'lessor-a',
    lessee: 'lessee-b',
    asset: { item: 'https://id.gs1.org/8004/4012345ABC1', deviceId: 'urn:epc:id:giai:4012345.D1', deviceOrganization: 'lessor-a' },
    currency: 'EUR',
    schedule: schedule.map(([dueDate, amount, paidAmount]) => ({ dueDate, amount, paidAmount })),
    status,
    overdueSince: null,
    refinancing: null,
    acceptedAtBlock: 1,
    closedAtBlock: null,
    reason: null,
    frozen: null,
    encumbrance: null,
    createdAtBlock: 1,
    updatedAtBlock: 1,
    lastTransactionId: 'tx',
    ...extra,
  });
  const receipt = (receiptId: string, holder: string, value: string, extra: Body = {}) => ({
    receiptId,
    warehouse: 'warehouse-w',
    holder,
    goods: { item: `https://id.gs1.org/00/${receiptId}`, quantity: '10', uom: 'KGM' },
    evidence: ['ni:///sha-256;aa'],
    currency: 'EUR',
    value,
    expiresOn: '2027-06-30',
    status: 'active',
    hold: null,
    deliveryRequestedAtBlock: null,
    parentIds: [],
    childIds: [],
    closedAtBlock: null,
    reason: null,
    frozen: null,
    encumbrance: null,
    createdAtBlock: 1,
    updatedAtBlock: 1,
    lastTransactionId: 'tx',
    ...extra,
  });

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseUrl'), 'finance_queries_assets');
    pool = createPool(db.url, { applicationName: 'finance-queries-test' });
    await runMigrations(pool, 'finance', readMigrations(join(__dirname, '..', 'migrations')));
    const readModel = new FinanceReadModel({ pool, chainId: CHAIN, nodeId: 'node-1' });
    const writes: Array<[string, unknown]> = [
      ['finance/lease/lease-00000001', lease('lease-00000001', 'active', [['2026-12-01', '1000', '1000'], ['2027-01-01', '1000', '400'], ['2027-02-01', '1000', '0']], { encumbrance: { kind: 'pledge', financingId: 'fin-lease-0001', financier: 'bank-x', sinceBlock: 1 } })],
      ['finance/lease/lease-00000002', lease('lease-00000002', 'proposed', [['2027-03-01', '5000', '0']])],
      ['finance/lease/lease-00000003', lease('lease-00000003', 'overdue', [['2026-11-01', '700', '0']], { overdueSince: '2026-11-01', frozen: freeze })],
      ['finance/lease-payment/lpay-00000001', { paymentId: 'lpay-00000001', leaseId: 'lease-00000001', lessee: 'lessee-b', currency: 'EUR', amount: '1400', allocations: [{ dueDate: '2026-12-01', amount: '1000' }, { dueDate: '2027-01-01', amount: '400' }], atBlock: 1, at: '2026-12-02T00:00:00.000Z' }],
      ['finance/warehouse-receipt/wr-00000001', receipt('wr-00000001', 'depositor-d', '90000', { encumbrance: { kind: 'pledge', financingId: 'fin-wr-00001', financier: 'bank-x', sinceBlock: 1 } })],
      ['finance/warehouse-receipt/wr-00000002', receipt('wr-00000002', 'depositor-d', '10000', { status: 'held', hold: { cause: 'sensor-alarm', reference: 'alert-1', by: 'warehouse-w', atBlock: 1, at: '2026-12-02T00:00:00.000Z' } })],
      ['finance/warehouse-receipt/wr-00000003', receipt('wr-00000003', 'other-o', '5000', { status: 'delivered' })],
      [
        'finance/financing/fin-wr-00001',
        { financingId: 'fin-wr-00001', assetKind: 'warehouse-receipt', assetId: 'wr-00000001', applicant: 'depositor-d', financier: 'bank-x', kind: 'pledge', recourse: true, currency: 'EUR', faceValue: '90000', principal: '50000', dueDate: '2027-06-30', rateBps: 700, dayCount: 'ACT/365F', feeMinor: '0', discount: null, interest: '1000', disbursedAmount: '50000', days: 200, approvedOn: '2026-12-01', status: 'disbursed', paymentReference: 'p', reason: null, appliedAtBlock: 1, decidedAtBlock: 1, disbursedAtBlock: 1, closedAtBlock: null, updatedAtBlock: 1, lastTransactionId: 'tx' },
      ],
      [
        'finance/financing/fin-lease-0001',
        { financingId: 'fin-lease-0001', assetKind: 'lease', assetId: 'lease-00000001', applicant: 'lessor-a', financier: 'bank-x', kind: 'pledge', recourse: true, currency: 'EUR', faceValue: '1600', principal: '1500', dueDate: '2027-02-01', rateBps: 700, dayCount: 'ACT/365F', feeMinor: '0', discount: null, interest: '10', disbursedAmount: null, days: 60, approvedOn: '2026-12-01', status: 'approved', paymentReference: null, reason: null, appliedAtBlock: 1, decidedAtBlock: 1, disbursedAtBlock: null, closedAtBlock: null, updatedAtBlock: 1, lastTransactionId: 'tx' },
      ],
    ];
    const block: CommittedBlock = {
      chainId: CHAIN,
      blockNumber: 0,
      headerHash: 'h0',
      committedAt: '2026-12-02T00:00:00.000Z',
      transactions: [{ transactionId: 'tx', leafIndex: 0, type: 'test', organizationId: 'lessor-a', code: 'VALID', payload: {}, writes: writes.map(([key, value], i) => ({ key, value: value as never, version: i + 1 })) }],
    };
    expect(await readModel.apply(block)).toBe('applied');
    queries = new FinanceQueries(pool);
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('leases with scheduled, paid and outstanding rent, filtered and paged; one lease with its payments', async () => {
    const page = await queries.leases({ lessor: 'lessor-a', perPage: '2' });
    expect(page.items.map((l) => [l.leaseId, l.status, l.scheduled, l.paid, l.outstanding, l.encumbrance?.financier ?? null, l.frozen?.by ?? null])).toEqual([
      ['lease-00000001', 'active', '3000', '1400', '1600', 'bank-x', null],
      ['lease-00000002', 'proposed', '5000', '0', '0', null, null],
    ]);
    const rest = await queries.leases({ lessor: 'lessor-a', perPage: '2', nextPageToken: page.nextPageToken as string });
    expect(rest).toMatchObject({ items: [{ leaseId: 'lease-00000003', outstanding: '700', overdueSince: '2026-11-01', frozen: { by: 'regulator', orderReference: 'C-1' } }], nextPageToken: null });
    expect((await queries.leases({ frozen: 'true' })).items.map((l) => l.leaseId)).toEqual(['lease-00000003']);
    expect((await queries.leases({ financier: 'bank-x', status: 'active,overdue' })).items.map((l) => l.leaseId)).toEqual(['lease-00000001']);
    const one = await queries.lease('lease-00000001');
    expect(one.payments).toEqual([{ paymentId: 'lpay-00000001', amount: '1400', allocations: [{ dueDate: '2026-12-01', amount: '1000' }, { dueDate: '2027-01-01', amount: '400' }], atBlock: 1, at: '2026-12-02T00:00:00.000Z' }]);
    expect(one.schedule[1]).toEqual({ dueDate: '2027-01-01', amount: '1000', paidAmount: '400' });
  });

  it('warehouse receipts filtered by holder, status, financier', async () => {
    expect((await queries.warehouseReceipts({ holder: 'depositor-d' })).items.map((w) => [w.receiptId, w.status, w.value, w.hold?.cause ?? null])).toEqual([
      ['wr-00000001', 'active', '90000', null],
      ['wr-00000002', 'held', '10000', 'sensor-alarm'],
    ]);
    expect((await queries.warehouseReceipts({ financier: 'bank-x' })).items.map((w) => w.receiptId)).toEqual(['wr-00000001']);
    expect((await queries.warehouseReceipt('wr-00000003')).goods).toEqual({ item: 'https://id.gs1.org/00/wr-00000003', quantity: '10', uom: 'KGM' });
  });

  it('positions and exposure count receipts and leases: lessor, lessee, depositor, warehouse, the lender', async () => {
    const lessor = await queries.positions('lessor-a');
    expect(lessor.leasesAsLessor).toEqual([
      { status: 'active', currency: 'EUR', count: 1, scheduled: '3000', paid: '1400', outstanding: '1600' },
      { status: 'overdue', currency: 'EUR', count: 1, scheduled: '700', paid: '0', outstanding: '700' },
      { status: 'proposed', currency: 'EUR', count: 1, scheduled: '5000', paid: '0', outstanding: '0' },
    ]);
    expect(lessor.paymentsReceived).toEqual([{ source: 'lease', currency: 'EUR', count: 1, amount: '1400' }]);
    expect(lessor.financingsObtained).toEqual([{ status: 'approved', kind: 'pledge', currency: 'EUR', count: 1, principal: '1500', disbursed: '0', discount: '0', interest: '10', fees: '0', collected: '0' }]);
    const lessee = await queries.positions('lessee-b');
    expect(lessee.leasesAsLessee.map((g) => [g.status, g.outstanding])).toEqual([
      ['active', '1600'],
      ['overdue', '700'],
      ['proposed', '0'],
    ]);
    expect(lessee.paymentsMade).toEqual([{ source: 'lease', currency: 'EUR', count: 1, amount: '1400' }]);
    const depositor = await queries.positions('depositor-d');
    expect(depositor.warehouseReceiptsHeld).toEqual([
      { status: 'active', currency: 'EUR', count: 1, value: '90000', financed: '90000' },
      { status: 'held', currency: 'EUR', count: 1, value: '10000', financed: '0' },
    ]);
    const warehouse = await queries.positions('warehouse-w');
    expect(warehouse.warehouseReceiptsIssued.map((g) => [g.status, g.count, g.value])).toEqual([
      ['active', 1, '90000'],
      ['delivered', 1, '5000'],
      ['held', 1, '10000'],
    ]);
    // The lender: a receipt pledge is owed by its depositor, a lease financing by the lessee.
    const lender = await queries.financierExposure({ financier: 'bank-x' });
    expect(lender.items).toEqual([
      {
        financier: 'bank-x',
        currency: 'EUR',
        financings: 2,
        principal: '51500',
        disbursed: '50000',
        collected: '0',
        recourse: '0',
        creditLines: 0,
        creditLimit: '0',
        creditUsed: '0',
        debtors: [
          { debtor: 'depositor-d', financings: 1, principal: '50000', disbursed: '50000', collected: '0', recourse: '0', creditLines: 0, creditLimit: '0', creditUsed: '0' },
          { debtor: 'lessee-b', financings: 1, principal: '1500', disbursed: '0', collected: '0', recourse: '0', creditLines: 0, creditLimit: '0', creditUsed: '0' },
        ],
      },
    ]);
    // No receivables here: no debtor exposure.
    expect(await queries.debtorExposure({})).toEqual({ items: [], nextPageToken: null, asOfBlock: 0 });
  });
});
