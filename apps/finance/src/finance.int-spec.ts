import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readAll } from '@alliance/shared/testing';
import { FinanceTestChain, member, until } from '../test/harness';

// Ids unique to this run: the finance topics on the shared broker outlive test databases.
const run = Date.now().toString(36);
const idOf = (name: string) => `${name}-${run}`;
const R = idOf('rcv-root');
const R_A = idOf('rcv-a');
const R_B = idOf('rcv-b');
const LINE = idOf('line-org3');
const F1 = idOf('fin-org3');
const F2 = idOf('fin-org4');
const utcDate = (daysFromNow: number) => new Date(Date.now() + daysFromNow * 86_400_000).toISOString().slice(0, 10);
const hash = (text: string) => createHash('sha256').update(text).digest('hex');

interface Receipt {
  transactionId: string;
  status: string;
  blockNumber: number | null;
  record: Record<string, unknown> | null;
}

interface Envelope {
  topic: string;
  key: string;
  producer: string;
  payload: { chainId: string; blockNumber: number; transactionId: string; transactionType: string; key: string; id: string; previousStatus: string | null; status: string | null; record: Record<string, unknown> | null };
}

describe('finance service: commands signed per organization, decided by the contracts, receipts from the read model, events on Kafka', () => {
  // org1 supplier, org2 core enterprise (debtor), org3 and org4 banks, org5 a tier-2 supplier.
  const chain = new FinanceTestChain('finance-service', [member('org1', 'supplier'), member('org2', 'manufacturer'), member('org3', 'financier'), member('org4', 'financier'), member('org5', 'supplier')]);
  const brokers = inject('kafkaBrokers');
  const org = (id: string) => chain.service(id);
  const pool = () => org('org1').service.runtime.pool;
  const events = async (topic: string, id: string) =>
    (await readAll(brokers, topic)).map((r) => JSON.parse(r.value?.toString() ?? '{}') as Envelope).filter((e) => e.payload.id === id);

  const issue = (extra: Record<string, unknown> = {}) => ({
    receivableId: R,
    debtor: 'org2',
    currency: 'EUR',
    faceValue: '100000',
    dueDate: utcDate(90),
    documents: [{ docType: 'invoice', hash: hash(`invoice ${run}`), amount: '100000' }],
    ...extra,
  });

  beforeAll(async () => {
    // Only org1's service publishes to Kafka: every service follows the same node and would announce each change again.
    await chain.startAll(inject('databaseUrl'), 'finance_service', ['org1', 'org2', 'org3', 'org4'], (o): Record<string, string> => (o === 'org1' ? { MESSAGING: 'kafka', KAFKA_BROKERS: brokers.join(',') } : {}));
  }, 120_000);
  afterAll(() => chain.stop());

  let issued: Receipt;

  it('a financier grants a credit line: 201 with the receipt carrying the committed record', async () => {
    const r = await org('org3').send('POST', '/credit-lines', { creditLineId: LINE, debtor: 'org2', currency: 'EUR', limit: '1000000' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ status: 'committed', record: { creditLineId: LINE, financier: 'org3', debtor: 'org2', limit: '1000000', used: '0', status: 'active' } });
    expect(r.body['transactionId']).toMatch(/^[0-9a-f]{64}$/);
    expect(r.body['blockNumber']).toEqual(expect.any(Number));
  });

  it('issues a receivable with an Idempotency-Key; the same request again answers the same receipt, another body 409', async () => {
    const first = await org('org1').send('POST', '/receivables', issue(), { 'idempotency-key': `issue-${run}` });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.headers.get('location')).toMatch(new RegExp(`/finance/v1/receivables/${R}$`));
    issued = first.body as unknown as Receipt;
    expect(issued.record).toMatchObject({ receivableId: R, rootId: R, issuer: 'org1', holder: 'org1', debtor: 'org2', faceValue: '100000', paidAmount: '0', status: 'issued', encumbrance: null, frozen: null });
    const again = await org('org1').send('POST', '/receivables', issue(), { 'idempotency-key': `issue-${run}` });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const other = await org('org1').send('POST', '/receivables', issue({ faceValue: '100001' }), { 'idempotency-key': `issue-${run}` });
    expect(other.status).toBe(409);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(other.body['code']).toBe('FINANCE.IDEMPOTENCY_CONFLICT');
    // One transaction on the chain for the key: the typed table holds it once, from that transaction.
    const { rows } = await pool().query('SELECT status, face_value::text, holder, last_transaction_id FROM finance.receivables WHERE receivable_id = $1', [R]);
    expect(rows).toEqual([{ status: 'issued', face_value: '100000', holder: 'org1', last_transaction_id: issued.transactionId }]);
  });

  it('refuses a body of the wrong shape before signing (422 FINANCE.INVALID with the problems) and passes the contract’s FINANCE.INVALID on as 422', async () => {
    const wrong = await org('org1').send('POST', '/receivables', { ...issue({ receivableId: idOf('rcv-bad') }), faceValue: 100000, colour: 'red' });
    expect(wrong.status).toBe(422);
    expect(wrong.body['code']).toBe('FINANCE.INVALID');
    const problems = (wrong.body['details'] as { problems: Array<{ path: string }> }).problems.map((p) => p.path).sort();
    expect(problems).toEqual(['/colour', '/faceValue']);
    const clash = await org('org2').send('POST', `/receivables/${R}/confirm`, { receivableId: 'another-one', creditLineId: LINE });
    expect(clash.status).toBe(422);
    expect((clash.body['details'] as { problems: Array<{ path: string }> }).problems[0].path).toBe('/receivableId');
    // Of the right shape, wrong in what it says: the contract decides, with its code.
    const contract = await org('org1').send('POST', '/receivables', issue({ receivableId: idOf('rcv-bad'), faceValue: '0100' }));
    expect(contract.status, JSON.stringify(contract.body)).toBe(422);
    expect(contract.body['code']).toBe('FINANCE.INVALID');
    expect(contract.body['details']).toMatchObject({ status: 'invalid', transactionId: expect.stringMatching(/^[0-9a-f]{64}$/), blockNumber: expect.any(Number) });
  });

  it('the debtor confirms with its credit line, the holder splits across two tiers', async () => {
    const confirmed = await org('org2').send('POST', `/receivables/${R}/confirm`, { creditLineId: LINE });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'committed', record: { receivableId: R, status: 'confirmed', creditLineId: LINE } });
    const line = await until('the charged credit line in org1’s read model', async () => {
      const { rows } = await pool().query<{ used: string }>('SELECT used::text FROM finance.credit_lines WHERE credit_line_id = $1', [LINE]);
      return rows[0]?.used === '100000' ? rows[0] : undefined;
    });
    expect(line.used).toBe('100000');
    const split = await org('org1').send('POST', `/receivables/${R}/split`, { parts: [{ receivableId: R_A, faceValue: '60000', holder: 'org1' }, { receivableId: R_B, faceValue: '40000', holder: 'org5' }] });
    expect(split.status, JSON.stringify(split.body)).toBe(200);
    expect(split.body).toMatchObject({ status: 'committed', record: { receivableId: R, status: 'split', children: [R_A, R_B] } });
    const { rows } = await pool().query('SELECT receivable_id, parent_id, holder, face_value::text, status FROM finance.receivables WHERE root_id = $1 ORDER BY receivable_id', [R]);
    expect(rows).toEqual([
      { receivable_id: R_A, parent_id: R, holder: 'org1', face_value: '60000', status: 'confirmed' },
      { receivable_id: R_B, parent_id: R, holder: 'org5', face_value: '40000', status: 'confirmed' },
      { receivable_id: R, parent_id: null, holder: 'org1', face_value: '100000', status: 'split' },
    ]);
  });

  let refusedId: string;

  it('two banks asked, the first approval locks the part, the second is refused FINANCE.ALREADY_ENCUMBERED by the contract through REST', async () => {
    for (const [financingId, financier] of [
      [F1, 'org3'],
      [F2, 'org4'],
    ]) {
      const applied = await org('org1').send('POST', '/financings', { financingId, assetKind: 'receivable', assetId: R_A, financier, kind: 'discounting' });
      expect(applied.status, JSON.stringify(applied.body)).toBe(201);
      expect(applied.body).toMatchObject({ record: { financingId, status: 'applied', applicant: 'org1', financier } });
    }
    const approved = await org('org3').send('POST', `/financings/${F1}/approve`, { rateBps: 500, dayCount: 'ACT/360', feeMinor: '100' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ status: 'committed', record: { financingId: F1, status: 'approved' } });
    const second = await org('org4').send('POST', `/financings/${F2}/approve`, { rateBps: 450, dayCount: 'ACT/360', feeMinor: '0' });
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(second.body['code']).toBe('FINANCE.ALREADY_ENCUMBERED');
    const details = second.body['details'] as { transactionId: string; status: string; blockNumber: number };
    expect(details).toMatchObject({ status: 'invalid', blockNumber: expect.any(Number) });
    refusedId = details.transactionId;
    const { rows } = await pool().query('SELECT encumbrance_kind, encumbrance_financing_id, encumbrance_financier FROM finance.receivables WHERE receivable_id = $1', [R_A]);
    expect(rows).toEqual([{ encumbrance_kind: 'discounting', encumbrance_financing_id: F1, encumbrance_financier: 'org3' }]);
    // The refusal answered once org4's own read model applied its block: it shows the winner's lock.
    const seen = await org('org4').service.runtime.pool.query('SELECT encumbrance_financing_id, record->>\'status\' AS status FROM finance.receivables WHERE receivable_id = $1', [R_A]);
    expect(seen.rows).toEqual([{ encumbrance_financing_id: F1, status: 'confirmed' }]);
  });

  it('answers a refused transaction’s receipt at its status URL with the contract’s code', async () => {
    const r = await org('org4').send('GET', `/transactions/${refusedId}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ transactionId: refusedId, status: 'invalid', code: 'FINANCE.ALREADY_ENCUMBERED', record: null });
    expect(r.body['detail']).toEqual(expect.any(String));
    expect((await org('org4').send('GET', `/transactions/${'0'.repeat(64)}`)).body['code']).toBe('FINANCE.UNKNOWN_TRANSACTION');
  });

  it('with Prefer: wait=0 answers 202 and the status URL, which gives the committed receipt', async () => {
    const r = await org('org1').send('POST', '/financings', { financingId: idOf('fin-late'), assetKind: 'receivable', assetId: R_A, financier: 'org4', kind: 'factoring' }, { prefer: 'wait=0' });
    // The part is encumbered: the application is refused, whenever the verdict comes.
    expect(r.status).toBe(202);
    const location = r.headers.get('location') ?? '';
    expect(location).toMatch(new RegExp(`/finance/v1/transactions/${String(r.body['transactionId'])}$`));
    expect(r.body).toMatchObject({ status: 'pending', blockNumber: null, record: null });
    const done = await until('the verdict at the status URL', async () => {
      const s = await org('org1').send('GET', location.replace(/^.*\/finance\/v1/, ''));
      return s.body['status'] === 'pending' ? undefined : s.body;
    });
    expect(done).toMatchObject({ status: 'invalid', code: 'FINANCE.ENCUMBERED' });
  });

  it('announces every record change once on finance.<kind>.changed.v1 with the status before and after', async () => {
    const root = await until('the root receivable’s events', async () => {
      const found = await events('finance.receivable.changed.v1', R);
      return found.length >= 3 ? found : undefined;
    }, 60_000);
    expect(root.map((e) => [e.payload.transactionType, e.payload.previousStatus, e.payload.status])).toEqual([
      ['finance.receivable.issue', null, 'issued'],
      ['finance.receivable.confirm', 'issued', 'confirmed'],
      ['finance.receivable.split', 'confirmed', 'split'],
    ]);
    expect(root[0]).toMatchObject({ topic: 'finance.receivable.changed.v1', key: `finance/receivable/${R}`, producer: 'finance' });
    expect(root[0].payload).toMatchObject({ chainId: chain.chainId, transactionId: issued.transactionId, blockNumber: issued.blockNumber, key: `finance/receivable/${R}`, record: { receivableId: R, status: 'issued' } });
    const part = await until('the financed part’s events', async () => {
      const found = await events('finance.receivable.changed.v1', R_A);
      return found.length >= 2 ? found : undefined;
    }, 60_000);
    expect(part.map((e) => [e.payload.transactionType, e.payload.previousStatus, e.payload.status, (e.payload.record?.['encumbrance'] as { financingId?: string } | null)?.financingId ?? null])).toEqual([
      ['finance.receivable.split', null, 'confirmed', null],
      ['finance.financing.approve', 'confirmed', 'confirmed', F1],
    ]);
    const financing = await until('the financing’s events', async () => {
      const found = await events('finance.financing.changed.v1', F1);
      return found.length >= 2 ? found : undefined;
    }, 60_000);
    expect(financing.map((e) => [e.payload.previousStatus, e.payload.status])).toEqual([
      [null, 'applied'],
      ['applied', 'approved'],
    ]);
    const line = await events('finance.credit-line.changed.v1', LINE);
    expect(line.map((e) => [e.payload.transactionType, e.payload.record?.['used']])).toEqual([
      ['finance.credit-line.grant', '0'],
      ['finance.receivable.confirm', '100000'],
    ]);
    // The refused second financing changed nothing: its record stays applied.
    expect((await events('finance.financing.changed.v1', F2)).map((e) => e.payload.status)).toEqual(['applied']);
    const document = await events('finance.document.changed.v1', `invoice/${hash(`invoice ${run}`)}`);
    expect(document.map((e) => e.payload.record?.['backed'])).toEqual(['100000']);
  });

  it('rebuilds the read model from the ledger to the same rows, announcing nothing again', async () => {
    const snapshot = async () =>
      (await pool().query(`SELECT receivable_id, status, holder, face_value::text, encumbrance_financing_id, record FROM finance.receivables WHERE root_id = $1 ORDER BY receivable_id`, [R])).rows;
    const before = await snapshot();
    const outbox = async () => Number((await pool().query<{ n: string }>(`SELECT count(*) AS n FROM finance.outbox`)).rows[0].n);
    const queued = await outbox();
    const r = await org('org1').send('POST', '/read-model/rebuild');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(await snapshot()).toEqual(before);
    expect(await outbox()).toBe(queued);
    const position = await org('org1').send('GET', '/read-model');
    expect(position.body).toMatchObject({ chainId: chain.chainId, nodeId: 'org1-node', lastBlock: r.body['lastBlock'] });
  });
});
