// Issue 6, "done means": the whole supply-chain finance story through the APIs, every step a ledger
// transaction with a receipt that verifies. Purchase order and delivery are captured in provenance (org1's
// service); the receivable is issued against them, confirmed by the core enterprise on its bank's credit line,
// split across two tiers of suppliers, financed once (every second financing refused by the contract),
// repaid by the debtor and settled to the holders and the financier.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { simpleInterest, daysBetween, utcDateOf } from '@alliance/ledger/domain';
import { verifyReceipt } from '@alliance/protocol';
import type { RunningService } from '@alliance/shared/feature-platform';
import { call, FinanceTestChain, member, until } from '../test/harness';

const run = Date.now().toString(36);
const id = (name: string) => `${name}-${run}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const utcDate = (daysFromNow: number) => new Date(Date.now() + daysFromNow * 86_400_000).toISOString().slice(0, 10);

const ROOT = id('story-root');
const T1 = id('story-t1'); // stays with the tier-1 supplier
const T2 = id('story-t2'); // to the tier-2 supplier, split again
const T2A = id('story-t2a'); // tier 2 keeps, and finances
const T2B = id('story-t2b'); // to the tier-3 supplier
const LINE = id('story-line');
const FIN = id('story-fin');
const PO = `urn:epcglobal:cbv:bt:4012345000009:PO-${run}`;
const DUE = utcDate(120);

interface Receipt {
  transactionId: string;
  status: string;
  blockNumber: number;
  record: Record<string, unknown>;
}

describe('supply-chain finance story: provenance capture → receivable issued, confirmed, split across two tiers, financed, repaid, settled', () => {
  // org1 tier-1 supplier, org2 core enterprise (debtor), org3 bank, org4 a second bank, org5 tier-2, org6 tier-3 supplier.
  const chain = new FinanceTestChain('finance-story', [
    member('org1', 'supplier'),
    member('org2', 'manufacturer'),
    member('org3', 'financier'),
    member('org4', 'financier'),
    member('org5', 'supplier'),
    member('org6', 'supplier'),
  ]);
  let provenance: RunningService;
  const fin = (org: string) => chain.service(org);
  const receipts: Receipt[] = [];

  /** One step: a committed receipt whose transaction the ledger proves. */
  async function step(org: string, method: string, path: string, body: unknown, expected = 200): Promise<Receipt> {
    const r = await fin(org).send(method, path, body);
    expect(r.status, `${org} ${method} ${path}: ${JSON.stringify(r.body)}`).toBe(expected);
    const receipt = r.body as unknown as Receipt;
    expect(receipt.status).toBe('committed');
    expect(receipt.transactionId).toMatch(/^[0-9a-f]{64}$/);
    receipts.push(receipt);
    return receipt;
  }

  async function refused(org: string, method: string, path: string, body: unknown, code: string) {
    const r = await fin(org).send(method, path, body);
    expect(r.status, `${org} ${method} ${path}: ${JSON.stringify(r.body)}`).toBe(409);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body['code']).toBe(code);
    // The refusal is itself on the chain: a transaction recorded invalid, with the contract's code.
    expect(r.body['details']).toMatchObject({ status: 'invalid', transactionId: expect.stringMatching(/^[0-9a-f]{64}$/), blockNumber: expect.any(Number) });
  }

  beforeAll(async () => {
    await chain.startAll(inject('databaseUrl'), 'finance_story', ['org1', 'org2', 'org3', 'org4', 'org5', 'org6']);
    provenance = await chain.startProvenance('org1');
  }, 180_000);
  afterAll(() => chain.stop());

  let poEventId: string;
  let deliveryEventId: string;

  it('captures the purchase order and the delivery in provenance, anchored on the chain', async () => {
    const token = (await chain.signIn('org1', chain.members[0].admin)).accessToken;
    const api = `${provenance.url}/provenance/v1/epcis`;
    const sgtin = (n: number) => `urn:epc:id:sgtin:4012345.011111.${run}${n}`;
    const document = {
      '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: new Date().toISOString(),
      epcisBody: {
        eventList: [
          {
            type: 'TransactionEvent',
            eventTime: new Date(Date.now() - 86_400_000).toISOString(),
            eventTimeZoneOffset: '+00:00',
            action: 'ADD',
            bizStep: 'accepting',
            bizTransactionList: [{ type: 'po', bizTransaction: PO }],
            epcList: [sgtin(1), sgtin(2)],
            readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' },
          },
          {
            type: 'ObjectEvent',
            eventTime: new Date(Date.now() - 3_600_000).toISOString(),
            eventTimeZoneOffset: '+00:00',
            action: 'OBSERVE',
            bizStep: 'receiving',
            disposition: 'in_progress',
            epcList: [sgtin(1), sgtin(2)],
            bizTransactionList: [{ type: 'po', bizTransaction: PO }],
            readPoint: { id: 'urn:epc:id:sgln:4012345.00002.0' },
            bizLocation: { id: 'urn:epc:id:sgln:4012345.00002.0' },
          },
        ],
      },
    };
    const r = await call(`${api}/capture`, { method: 'POST', body: JSON.stringify(document), token, headers: { 'content-type': 'application/ld+json' } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const job = await until('the capture job', async () => {
      const j = await call(`${api}/capture/${String(r.body['captureID'])}`, { token });
      return j.body['running'] === false ? j.body : undefined;
    });
    expect(job).toMatchObject({ success: true, errors: [] });
    [poEventId, deliveryEventId] = job['eventIDs'] as string[];
    const found = await call(`${api}/events?EQ_bizTransaction_po=${encodeURIComponent(PO)}`, { token });
    expect((found.body['epcisBody'] as { queryResults: { resultsBody: { eventList: unknown[] } } }).queryResults.resultsBody.eventList).toHaveLength(2);
  });

  it('the supplier issues the receivable against the order and the delivery; the same documents cannot back more than their amount', async () => {
    const documents = [
      { docType: 'purchase-order', hash: sha256(`PO ${PO}`), amount: '100000', eventId: undefined },
      { docType: 'delivery', hash: deliveryEventId.replace(/^ni:\/\/\/sha-256;([0-9a-f]{64}).*$/, '$1'), amount: '100000', eventId: deliveryEventId },
    ].map(({ eventId, ...d }) => (eventId ? { ...d, eventId } : d));
    expect(documents[1].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(poEventId).toMatch(/^ni:/);
    const issued = await step('org1', 'POST', '/receivables', { receivableId: ROOT, debtor: 'org2', currency: 'EUR', faceValue: '100000', dueDate: DUE, documents }, 201);
    expect(issued.record).toMatchObject({ receivableId: ROOT, issuer: 'org1', holder: 'org1', debtor: 'org2', status: 'issued' });
    // A second certificate on the same order would finance the same goods twice.
    await refused('org1', 'POST', '/receivables', { receivableId: id('story-again'), debtor: 'org2', currency: 'EUR', faceValue: '1', dueDate: DUE, documents: [documents[0]] }, 'FINANCE.DOCUMENT_OVERCOMMITTED');
    // Delivery evidence must be an event anchored on the chain.
    await refused('org1', 'POST', '/receivables', { receivableId: id('story-ghost'), debtor: 'org2', currency: 'EUR', faceValue: '1', dueDate: DUE, documents: [{ docType: 'delivery', hash: sha256('ghost'), amount: '1', eventId: `ni:///sha-256;${sha256('ghost')}?ver=CBV2.0` }] }, 'FINANCE.UNKNOWN_EVENT');
  });

  it('the bank grants the core enterprise a credit line; the core enterprise confirms the receivable on it', async () => {
    await step('org3', 'POST', '/credit-lines', { creditLineId: LINE, debtor: 'org2', currency: 'EUR', limit: '150000' }, 201);
    const confirmed = await step('org2', 'POST', `/receivables/${ROOT}/confirm`, { creditLineId: LINE });
    expect(confirmed.record).toMatchObject({ status: 'confirmed', creditLineId: LINE });
  });

  it('the tier-1 supplier splits to its tier-2 supplier, which splits again to tier 3; values stay exact', async () => {
    await refused('org1', 'POST', `/receivables/${ROOT}/split`, { parts: [{ receivableId: T1, faceValue: '50000', holder: 'org1' }, { receivableId: T2, faceValue: '49999', holder: 'org5' }] }, 'FINANCE.SPLIT_SUM_MISMATCH');
    const first = await step('org1', 'POST', `/receivables/${ROOT}/split`, { parts: [{ receivableId: T1, faceValue: '50000', holder: 'org1' }, { receivableId: T2, faceValue: '50000', holder: 'org5' }] });
    expect(first.record).toMatchObject({ status: 'split', children: [T1, T2] });
    const second = await step('org5', 'POST', `/receivables/${T2}/split`, { parts: [{ receivableId: T2A, faceValue: '30000', holder: 'org5' }, { receivableId: T2B, faceValue: '20000', holder: 'org6' }] });
    expect(second.record).toMatchObject({ status: 'split', children: [T2A, T2B] });
  });

  it('the tier-2 supplier finances its part once: the first bank to approve wins, every second financing and any transfer is refused', async () => {
    const second = id('story-fin-2');
    await step('org5', 'POST', '/financings', { financingId: FIN, assetKind: 'receivable', assetId: T2A, financier: 'org3', kind: 'discounting' }, 201);
    await step('org5', 'POST', '/financings', { financingId: second, assetKind: 'receivable', assetId: T2A, financier: 'org4', kind: 'factoring' }, 201);
    const approved = await step('org3', 'POST', `/financings/${FIN}/approve`, { rateBps: 600, dayCount: 'ACT/360', feeMinor: '100' });
    // The discount, exactly: face × rate × days / (10 000 × 360), half-even, days from the block's date to the due date.
    const days = daysBetween(utcDateOf(new Date().toISOString()), DUE);
    const discount = approved.record['discount'] as string;
    expect([simpleInterest('30000', days, { rateBps: 600, dayCount: 'ACT/360' }), simpleInterest('30000', days - 1, { rateBps: 600, dayCount: 'ACT/360' })]).toContain(discount);
    expect(BigInt(approved.record['disbursedAmount'] as string)).toBe(30000n - BigInt(discount) - 100n);
    await refused('org4', 'POST', `/financings/${second}/approve`, { rateBps: 500, dayCount: 'ACT/360', feeMinor: '0' }, 'FINANCE.ALREADY_ENCUMBERED');
    await refused('org5', 'POST', '/financings', { financingId: id('story-fin-3'), assetKind: 'receivable', assetId: T2A, financier: 'org4', kind: 'pledge', principal: '10000' }, 'FINANCE.ENCUMBERED');
    await refused('org5', 'POST', `/receivables/${T2A}/transfer`, { to: 'org6' }, 'FINANCE.ENCUMBERED');
    await refused('org5', 'POST', `/receivables/${T2A}/split`, { parts: [{ receivableId: id('x1'), faceValue: '1', holder: 'org5' }, { receivableId: id('x2'), faceValue: '29999', holder: 'org5' }] }, 'FINANCE.ENCUMBERED');
    const disbursed = await step('org3', 'POST', `/financings/${FIN}/disburse`, { paymentReference: `SEPA-${run}` });
    expect(disbursed.record).toMatchObject({ status: 'disbursed' });
  });

  let t1Financier: string;

  it('two banks approving the tier-1 part at the same moment: exactly one wins, the other gets FINANCE.ALREADY_ENCUMBERED', async () => {
    const offers = [
      { financingId: id('story-race-3'), financier: 'org3' },
      { financingId: id('story-race-4'), financier: 'org4' },
    ];
    for (const o of offers) await step('org1', 'POST', '/financings', { ...o, assetKind: 'receivable', assetId: T1, kind: 'factoring' }, 201);
    const answers = await Promise.all(offers.map((o) => fin(o.financier).send('POST', `/financings/${o.financingId}/approve`, { rateBps: 400, dayCount: 'ACT/365F', feeMinor: '0' })));
    const won = answers.filter((a) => a.status === 200);
    const lost = answers.filter((a) => a.status === 409);
    expect(won, JSON.stringify(answers.map((a) => a.body))).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0].body['code']).toBe('FINANCE.ALREADY_ENCUMBERED');
    receipts.push(won[0].body as unknown as Receipt);
    t1Financier = offers[answers.indexOf(won[0])].financier;
  });

  it('at maturity the debtor repays; the payment goes to the holders and, for the financed part, to the bank; everything settles', async () => {
    await refused('org2', 'POST', `/receivables/${ROOT}/repay`, { paymentId: id('story-over'), amount: '100001', paymentReference: 'too much' }, 'FINANCE.OVERPAYMENT');
    const paid = await step('org2', 'POST', `/receivables/${ROOT}/repay`, { paymentId: id('story-pay'), amount: '100000', paymentReference: `PAY-${run}` }, 201);
    const allocations = (paid.record['allocations'] as Array<{ receivableId: string; payee: string; amount: string }>).map(({ receivableId, payee, amount }) => ({ receivableId, payee, amount }));
    expect(allocations.sort((a, b) => a.receivableId.localeCompare(b.receivableId))).toEqual(
      [
        { receivableId: T1, payee: t1Financier, amount: '50000' },
        { receivableId: T2A, payee: 'org3', amount: '30000' },
        { receivableId: T2B, payee: 'org6', amount: '20000' },
      ].sort((a, b) => a.receivableId.localeCompare(b.receivableId)),
    );
    const pool = fin('org2').service.runtime.pool;
    const leaves = await until('every leaf settled in the debtor’s read model', async () => {
      const { rows } = await pool.query<{ receivable_id: string; status: string; paid_amount: string }>(
        `SELECT receivable_id, status, paid_amount::text FROM finance.receivables WHERE root_id = $1 AND receivable_id = ANY($2) ORDER BY receivable_id`,
        [ROOT, [T1, T2A, T2B]],
      );
      return rows.length === 3 && rows.every((r) => r.status === 'settled') ? rows : undefined;
    });
    expect(leaves.map((l) => l.paid_amount).sort()).toEqual(['20000', '30000', '50000']);
    const { rows: financing } = await pool.query(`SELECT status FROM finance.financings WHERE financing_id = ANY($1) AND status = 'repaid'`, [[FIN, id('story-race-3'), id('story-race-4')]]);
    expect(financing).toHaveLength(2);
    const { rows: line } = await pool.query(`SELECT used::text FROM finance.credit_lines WHERE credit_line_id = $1`, [LINE]);
    expect(line).toEqual([{ used: '0' }]);
  });

  it('every step is a ledger transaction whose receipt verifies against the block and its certification', async () => {
    expect(receipts.length).toBe(13); // issue, grant, confirm, 2 splits, 4 applications, 2 approvals, disburse, repay
    for (const r of receipts) {
      const proof = await until(`the certified receipt of ${r.transactionId}`, async () => {
        const res = await fetch(`${chain.ledger.url}/ledger/v1/transactions/${r.transactionId}`);
        const body = (await res.json()) as { status: string; receipt?: unknown; blockNumber?: number };
        return body.receipt ? body : undefined;
      });
      expect(verifyReceipt(proof.receipt)).toMatchObject({ ok: true });
      expect(proof.blockNumber ?? r.blockNumber).toBe(r.blockNumber);
    }
  });
});
