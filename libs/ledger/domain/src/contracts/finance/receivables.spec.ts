import { describe, expect, it } from 'vitest';
import { apply, approve, BANK_1, BANK_2, confirm, confirmedChain, CORE, FinanceChain, freeze, grant, issue, REGULATOR, repay, sha, SUPPLIER_1, SUPPLIER_2, tx } from '../../../test/finance-chain';
import { documentKeyOf, receivableAsset, type Receivable } from './receivables';

const split = (org: string, receivableId: string, parts: unknown) => tx(org, 'finance.receivable.split', { receivableId, parts });
const transfer = (org: string, receivableId: string, to: string) => tx(org, 'finance.receivable.transfer', { receivableId, to });
const markOverdue = (org: string, receivableId: string) => tx(org, 'finance.receivable.mark-overdue', { receivableId });
const declareDefault = (org: string, receivableId: string) => tx(org, 'finance.receivable.declare-default', { receivableId, reason: 'unpaid 30 days after maturity' });
const INVOICE = sha('invoice of recv-0001');

describe('finance.receivable.issue', () => {
  it('issues a root held by its supplier and backs its documents', () => {
    const chain = new FinanceChain();
    const out = chain.ok(issue(SUPPLIER_1, 'recv-0001'));
    expect(chain.receivable('recv-0001')).toEqual({
      receivableId: 'recv-0001',
      rootId: 'recv-0001',
      parentId: null,
      children: [],
      issuer: SUPPLIER_1,
      debtor: CORE,
      holder: SUPPLIER_1,
      currency: 'CNY',
      faceValue: '100000',
      paidAmount: '0',
      dueDate: '2027-04-04',
      documents: [{ docType: 'invoice', hash: INVOICE, amount: '100000' }],
      creditLineId: null,
      status: 'issued',
      frozen: null,
      encumbrance: null,
      createdAtBlock: 1,
      updatedAtBlock: 1,
      lastTransactionId: expect.stringMatching(/^tx-1-/),
    } satisfies Receivable);
    expect(chain.document('invoice', INVOICE)).toEqual({ docType: 'invoice', hash: INVOICE, currency: 'CNY', amount: '100000', backed: '100000', receivables: ['recv-0001'] });
    expect(FinanceChain.keysOf(out)).toEqual([documentKeyOf('invoice', INVOICE), 'finance/receivable/recv-0001']);
  });

  it('never backs more than a document’s amount, and one hash has one amount and currency', () => {
    const chain = new FinanceChain();
    const po = sha('PO 4711');
    const docs = (amount: string) => [{ docType: 'purchase-order', hash: po, amount }];
    chain.ok(issue(SUPPLIER_1, 'recv-0001', { faceValue: '60000', documents: docs('100000') }));
    expect(chain.run(issue(SUPPLIER_2, 'recv-0002', { faceValue: '40001', documents: docs('100000') }))).toMatchObject({ code: 'FINANCE.DOCUMENT_OVERCOMMITTED' });
    expect(chain.run(issue(SUPPLIER_2, 'recv-0002', { faceValue: '40000', documents: docs('200000') }))).toMatchObject({ code: 'FINANCE.DOCUMENT_MISMATCH', detail: `purchase-order ${po} is on the chain for 100000 CNY, not 200000 CNY` });
    expect(chain.run(issue(SUPPLIER_2, 'recv-0002', { faceValue: '40000', currency: 'EUR', documents: docs('100000') })).code).toBe('FINANCE.DOCUMENT_MISMATCH');
    // The same hash as another document type is another document.
    chain.ok(issue(SUPPLIER_2, 'recv-0003', { faceValue: '90000', documents: [{ docType: 'invoice', hash: po, amount: '90000' }] }));
    chain.ok(issue(SUPPLIER_2, 'recv-0002', { faceValue: '40000', documents: docs('100000') }));
    expect(chain.document('purchase-order', po)).toMatchObject({ backed: '100000', receivables: ['recv-0001', 'recv-0002'] });
    // An overcommitted document refuses the whole issue: no other document is touched.
    const other = sha('invoice 2');
    expect(chain.run(issue(SUPPLIER_1, 'recv-0004', { faceValue: '1', documents: [{ docType: 'invoice', hash: other, amount: '5' }, ...docs('100000')] })).code).toBe('FINANCE.DOCUMENT_OVERCOMMITTED');
    expect(chain.document('invoice', other)).toBeUndefined();
  });

  it('checks a delivery’s provenance event', () => {
    const chain = new FinanceChain();
    const delivery = (eventId: string) => [{ docType: 'delivery', hash: sha('despatch advice'), amount: '100000', eventId }];
    expect(chain.run(issue(SUPPLIER_1, 'recv-0001', { documents: delivery('urn:uuid:11111111-2222-3333-4444-555555555555') }))).toMatchObject({ code: 'FINANCE.UNKNOWN_EVENT' });
    chain.anchorEvent('urn:uuid:11111111-2222-3333-4444-555555555555');
    chain.ok(issue(SUPPLIER_1, 'recv-0001', { documents: delivery('urn:uuid:11111111-2222-3333-4444-555555555555') }));
    expect(chain.receivable('recv-0001')?.documents).toEqual([{ docType: 'delivery', hash: sha('despatch advice'), amount: '100000', eventId: 'urn:uuid:11111111-2222-3333-4444-555555555555' }]);
    expect(chain.run(issue(SUPPLIER_1, 'recv-0002', { documents: [{ docType: 'invoice', hash: sha('x'), amount: '100000', eventId: 'urn:uuid:1' }] }))).toMatchObject({ code: 'FINANCE.INVALID', detail: 'payload.documents[0].eventId is for a delivery document only' });
  });

  it('refuses a duplicate id before anything else (a retry is not applied twice)', () => {
    const chain = new FinanceChain();
    chain.ok(issue(SUPPLIER_1, 'recv-0001'));
    expect(chain.run(issue(SUPPLIER_1, 'recv-0001'))).toMatchObject({ code: 'FINANCE.DUPLICATE_ID', detail: 'receivable recv-0001 already exists' });
    expect(chain.document('invoice', INVOICE)?.backed).toBe('100000');
  });

  it('refuses malformed payloads with FINANCE.INVALID', () => {
    const chain = new FinanceChain();
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ extra: 1 }, /unexpected payload field\(s\): extra/],
      [{ receivableId: 'short' }, /receivableId must be 8-64/],
      [{ debtor: SUPPLIER_1 }, /debtor must be a member organization other than the issuer/],
      [{ debtor: 'nobody' }, /debtor/],
      [{ debtor: REGULATOR }, /debtor/],
      [{ currency: 'cny' }, /currency/],
      [{ faceValue: '0' }, /faceValue must be a positive amount/],
      [{ faceValue: '0100' }, /faceValue/],
      [{ faceValue: 100 }, /faceValue/],
      [{ faceValue: '1.5' }, /faceValue/],
      [{ dueDate: '2027-01-04' }, /dueDate \(2027-01-04\) must be after today \(2027-01-04/],
      [{ dueDate: '2027-02-30' }, /dueDate must be a UTC calendar date/],
      [{ documents: [] }, /documents must list 1-20/],
      [{ documents: Array.from({ length: 21 }, (_, i) => ({ docType: 'invoice', hash: sha(`d${i}`), amount: '100000' })) }, /documents must list 1-20/],
      [{ documents: [{ docType: 'receipt', hash: sha('x'), amount: '100000' }] }, /docType must be one of/],
      [{ documents: [{ docType: 'invoice', hash: 'ABC', amount: '100000' }] }, /hash must be a SHA-256/],
      [{ documents: [{ docType: 'invoice', hash: sha('x'), amount: '0' }] }, /documents\[0\]\.amount/],
      [{ documents: [{ docType: 'invoice', hash: sha('x'), amount: '100000', note: 'x' }] }, /unexpected field\(s\): note/],
      [{ documents: [{ docType: 'invoice', hash: sha('x'), amount: '100000' }, { docType: 'invoice', hash: sha('x'), amount: '100000' }] }, /documents\[1\] appears twice/],
    ];
    for (const [extra, detail] of bad) expect(chain.run(issue(SUPPLIER_1, 'recv-0001', extra)), JSON.stringify(extra)).toMatchObject({ code: 'FINANCE.INVALID', detail: expect.stringMatching(detail) });
    expect(chain.receivable('recv-0001')).toBeUndefined();
  });

  it('is for an admin key or an agent with finance.receivable.manage; observers sign none', () => {
    const chain = new FinanceChain();
    const clerk = chain.agent(SUPPLIER_1, 'clerk', ['finance.financing.manage']);
    const erp = chain.agent(SUPPLIER_1, 'erp', ['finance.receivable.manage']);
    expect(chain.run(tx(SUPPLIER_1, 'finance.receivable.issue', issue(SUPPLIER_1, 'recv-0001').payload, clerk))).toMatchObject({ code: 'IDENTITY.NOT_ALLOWED' });
    expect(chain.run(tx(SUPPLIER_1, 'finance.receivable.issue', issue(SUPPLIER_1, 'recv-0001').payload, erp)).code).toBe('VALID');
    expect(chain.run(issue(REGULATOR, 'recv-0002')).code).toBe('LEDGER.OBSERVER_READ_ONLY');
  });
});

describe('finance.receivable.confirm', () => {
  it('confirms by the debtor and charges the credit line', () => {
    const chain = confirmedChain();
    expect(chain.receivable('recv-0001')).toMatchObject({ status: 'confirmed', creditLineId: 'line-0001', updatedAtBlock: 3 });
    expect(chain.creditLine('line-0001')).toMatchObject({ used: '100000', limit: '1000000' });
  });

  it('keeps the debtor within its credit line', () => {
    const chain = new FinanceChain();
    chain.ok(grant(BANK_1, 'line-0001', { limit: '150000' }));
    chain.ok(issue(SUPPLIER_1, 'recv-0001'));
    chain.ok(issue(SUPPLIER_2, 'recv-0002', { faceValue: '50001', documents: [{ docType: 'invoice', hash: sha('i2'), amount: '50001' }] }));
    chain.ok(issue(SUPPLIER_2, 'recv-0003', { faceValue: '50000', documents: [{ docType: 'invoice', hash: sha('i3'), amount: '50000' }] }));
    chain.ok(confirm('recv-0001', 'line-0001'));
    expect(chain.run(confirm('recv-0002', 'line-0001'))).toMatchObject({ code: 'FINANCE.CREDIT_LINE_EXCEEDED', detail: 'credit line line-0001: used 100000 + 50001 exceeds the limit 150000' });
    chain.ok(confirm('recv-0003', 'line-0001'));
    expect(chain.creditLine('line-0001')?.used).toBe('150000');
    // A limit lowered below what is used only blocks new charges.
    chain.ok(tx(BANK_1, 'finance.credit-line.update', { creditLineId: 'line-0001', limit: '1000' }));
    expect(chain.creditLine('line-0001')).toMatchObject({ used: '150000', limit: '1000' });
  });

  it('needs an active, unexpired line of the debtor in the receivable’s currency', () => {
    const chain = new FinanceChain();
    chain.ok(issue(SUPPLIER_1, 'recv-0001'));
    chain.ok(grant(BANK_1, 'line-supplier', { debtor: SUPPLIER_2 }));
    chain.ok(grant(BANK_1, 'line-eur', { currency: 'EUR' }));
    chain.ok(grant(BANK_2, 'line-expiring', { expiresOn: '2027-01-10' }));
    chain.ok(grant(BANK_2, 'line-suspended'));
    chain.ok(tx(BANK_2, 'finance.credit-line.update', { creditLineId: 'line-suspended', status: 'suspended' }));
    expect(chain.run(confirm('recv-0001', 'line-missing'))).toMatchObject({ code: 'FINANCE.UNKNOWN_CREDIT_LINE' });
    expect(chain.run(confirm('recv-0001', 'line-supplier'))).toMatchObject({ code: 'FINANCE.CREDIT_LINE_MISMATCH', detail: `credit line line-supplier is granted to ${SUPPLIER_2}, not ${CORE}` });
    expect(chain.run(confirm('recv-0001', 'line-eur'))).toMatchObject({ code: 'FINANCE.CURRENCY_MISMATCH' });
    expect(chain.run(confirm('recv-0001', 'line-suspended'))).toMatchObject({ code: 'FINANCE.CREDIT_LINE_INACTIVE', detail: 'credit line line-suspended is suspended' });
    chain.advanceDays(7); // 2027-01-11
    expect(chain.run(confirm('recv-0001', 'line-expiring'))).toMatchObject({ code: 'FINANCE.CREDIT_LINE_INACTIVE', detail: 'credit line line-expiring expired on 2027-01-10' });
    expect(chain.receivable('recv-0001')?.status).toBe('issued');
  });

  it('only by the debtor, only while issued, only an existing one', () => {
    const chain = confirmedChain();
    chain.ok(issue(SUPPLIER_1, 'recv-0002', { documents: [{ docType: 'invoice', hash: sha('i2'), amount: '100000' }] }));
    expect(chain.run(confirm('recv-0002', 'line-0001', SUPPLIER_1))).toMatchObject({ code: 'FINANCE.NOT_DEBTOR' });
    expect(chain.run(confirm('recv-0001', 'line-0001'))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'receivable recv-0001 is confirmed; this needs it issued' });
    expect(chain.run(confirm('recv-9999', 'line-0001'))).toMatchObject({ code: 'FINANCE.UNKNOWN_RECEIVABLE' });
    expect(chain.run(tx(CORE, 'finance.receivable.confirm', { receivableId: 'recv-0002' })).code).toBe('FINANCE.INVALID');
    expect(chain.creditLine('line-0001')?.used).toBe('100000');
  });
});

describe('finance.receivable.reject and cancel', () => {
  it('end an issued root and give its documents’ backing back', () => {
    const chain = new FinanceChain();
    chain.ok(issue(SUPPLIER_1, 'recv-0001'));
    chain.ok(issue(SUPPLIER_2, 'recv-0002', { documents: [{ docType: 'invoice', hash: sha('i2'), amount: '100000' }] }));
    expect(chain.run(tx(SUPPLIER_1, 'finance.receivable.reject', { receivableId: 'recv-0001', reason: 'no' }))).toMatchObject({ code: 'FINANCE.NOT_DEBTOR' });
    expect(chain.run(tx(CORE, 'finance.receivable.reject', { receivableId: 'recv-0001' }))).toMatchObject({ code: 'FINANCE.INVALID', detail: expect.stringMatching(/^payload\.reason must be 1-500 characters/) });
    chain.ok(tx(CORE, 'finance.receivable.reject', { receivableId: 'recv-0001', reason: 'goods not received' }));
    expect(chain.receivable('recv-0001')?.status).toBe('rejected');
    expect(chain.document('invoice', INVOICE)).toMatchObject({ backed: '0', receivables: [] });
    expect(chain.run(tx(CORE, 'finance.receivable.cancel', { receivableId: 'recv-0002', reason: 'mine' }))).toMatchObject({ code: 'FINANCE.NOT_ISSUER' });
    chain.ok(tx(SUPPLIER_2, 'finance.receivable.cancel', { receivableId: 'recv-0002', reason: 'issued in error' }));
    expect(chain.receivable('recv-0002')?.status).toBe('cancelled');
    expect(chain.document('invoice', sha('i2'))?.backed).toBe('0');
    expect(chain.run(tx(SUPPLIER_2, 'finance.receivable.cancel', { receivableId: 'recv-0002', reason: 'again' }))).toMatchObject({ code: 'FINANCE.INVALID_STATE' });
    // The document backs a new receivable again.
    chain.ok(issue(SUPPLIER_1, 'recv-0003', { documents: [{ docType: 'invoice', hash: INVOICE, amount: '100000' }] }));
    expect(chain.document('invoice', INVOICE)).toMatchObject({ backed: '100000', receivables: ['recv-0003'] });
  });

  it('refuse a confirmed receivable', () => {
    const chain = confirmedChain();
    expect(chain.run(tx(CORE, 'finance.receivable.reject', { receivableId: 'recv-0001', reason: 'late' })).code).toBe('FINANCE.INVALID_STATE');
    expect(chain.run(tx(SUPPLIER_1, 'finance.receivable.cancel', { receivableId: 'recv-0001', reason: 'late' })).code).toBe('FINANCE.INVALID_STATE');
  });
});

describe('finance.receivable.transfer', () => {
  it('moves a confirmed receivable to another member by its holder', () => {
    const chain = confirmedChain();
    chain.ok(transfer(SUPPLIER_1, 'recv-0001', SUPPLIER_2));
    expect(chain.receivable('recv-0001')).toMatchObject({ holder: SUPPLIER_2, issuer: SUPPLIER_1, status: 'confirmed' });
    expect(chain.run(transfer(SUPPLIER_1, 'recv-0001', BANK_1))).toMatchObject({ code: 'FINANCE.NOT_HOLDER', detail: `only the holder ${SUPPLIER_2} transfers receivable recv-0001` });
  });

  it('refuses an unconfirmed, encumbered or frozen one and a bad receiver', () => {
    const chain = confirmedChain();
    chain.ok(issue(SUPPLIER_1, 'recv-0002', { documents: [{ docType: 'invoice', hash: sha('i2'), amount: '100000' }] }));
    expect(chain.run(transfer(SUPPLIER_1, 'recv-0002', SUPPLIER_2))).toMatchObject({ code: 'FINANCE.INVALID_STATE' });
    expect(chain.run(transfer(SUPPLIER_1, 'recv-0001', CORE))).toMatchObject({ code: 'FINANCE.INVALID', detail: `payload.to cannot be the debtor ${CORE}` });
    expect(chain.run(transfer(SUPPLIER_1, 'recv-0001', SUPPLIER_1))).toMatchObject({ code: 'FINANCE.INVALID' });
    expect(chain.run(transfer(SUPPLIER_1, 'recv-0001', REGULATOR))).toMatchObject({ code: 'FINANCE.INVALID' });
    chain.ok(apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1));
    chain.ok(approve(BANK_1, 'fin-00001'));
    expect(chain.run(transfer(SUPPLIER_1, 'recv-0001', SUPPLIER_2))).toMatchObject({ code: 'FINANCE.ENCUMBERED', detail: `receivable recv-0001 is encumbered by discounting fin-00001 of ${BANK_1}` });
    chain.ok(freeze('recv-0001'));
    expect(chain.run(transfer(SUPPLIER_1, 'recv-0001', SUPPLIER_2))).toMatchObject({ code: 'FINANCE.FROZEN' });
    expect(chain.receivable('recv-0001')?.holder).toBe(SUPPLIER_1);
  });
});

describe('finance.receivable.split', () => {
  const parts = (...p: Array<[string, string, string]>) => p.map(([receivableId, faceValue, holder]) => ({ receivableId, faceValue, holder }));

  it('splits into children that inherit the root and sum to the parent exactly; children split again', () => {
    const chain = confirmedChain();
    chain.ok(split(SUPPLIER_1, 'recv-0001', parts(['recv-0001-a', '70000', SUPPLIER_1], ['recv-0001-b', '30000', SUPPLIER_2])));
    expect(chain.receivable('recv-0001')).toMatchObject({ status: 'split', children: ['recv-0001-a', 'recv-0001-b'], faceValue: '100000' });
    const b = chain.receivable('recv-0001-b');
    expect(b).toMatchObject({ rootId: 'recv-0001', parentId: 'recv-0001', issuer: SUPPLIER_1, debtor: CORE, holder: SUPPLIER_2, faceValue: '30000', paidAmount: '0', dueDate: '2027-04-04', creditLineId: 'line-0001', status: 'confirmed', frozen: null, encumbrance: null, children: [] });
    expect(b?.documents).toEqual(chain.receivable('recv-0001')?.documents);
    // The second tier: supplier-2 splits its part to its own suppliers.
    chain.ok(split(SUPPLIER_2, 'recv-0001-b', parts(['recv-0001-b1', '10000', SUPPLIER_1], ['recv-0001-b2', '20000', SUPPLIER_2])));
    expect(chain.receivable('recv-0001-b2')).toMatchObject({ rootId: 'recv-0001', parentId: 'recv-0001-b' });
    // Splitting changes no credit line and no document backing.
    expect(chain.creditLine('line-0001')?.used).toBe('100000');
    expect(chain.document('invoice', INVOICE)?.backed).toBe('100000');
  });

  it('refuses parts that do not sum, a bad part list, existing ids, the wrong signer', () => {
    const chain = confirmedChain();
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', parts(['part-0001', '70000', SUPPLIER_1], ['part-0002', '29999', SUPPLIER_2])))).toMatchObject({
      code: 'FINANCE.SPLIT_SUM_MISMATCH',
      detail: 'the parts sum to 99999, receivable recv-0001 is worth 100000',
    });
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', parts(['part-0001', '70000', SUPPLIER_1], ['part-0002', '30001', SUPPLIER_2]))).code).toBe('FINANCE.SPLIT_SUM_MISMATCH');
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', parts(['part-0001', '100000', SUPPLIER_1])))).toMatchObject({ code: 'FINANCE.INVALID', detail: expect.stringMatching(/parts must list 2-50/) });
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', Array.from({ length: 51 }, (_, i) => ({ receivableId: `part-${1000 + i}`, faceValue: '1', holder: SUPPLIER_1 })))).code).toBe('FINANCE.INVALID');
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', parts(['part-0001', '100000', SUPPLIER_1], ['part-0002', '0', SUPPLIER_2]))).detail).toMatch(/parts\[1\]\.faceValue must be a positive amount/);
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', parts(['part-0001', '50000', SUPPLIER_1], ['part-0001', '50000', SUPPLIER_2]))).detail).toMatch(/appears twice/);
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', parts(['recv-0001', '50000', SUPPLIER_1], ['part-0001', '50000', SUPPLIER_2]))).detail).toMatch(/appears twice \(or is the parent's\)/);
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', parts(['part-0001', '50000', CORE], ['part-0002', '50000', SUPPLIER_2]))).detail).toMatch(/cannot be the debtor/);
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', [{ receivableId: 'part-0001', faceValue: '50000', holder: SUPPLIER_1, x: 1 }, { receivableId: 'part-0002', faceValue: '50000', holder: SUPPLIER_1 }])).detail).toMatch(/unexpected field/);
    expect(chain.run(split(SUPPLIER_2, 'recv-0001', parts(['part-0001', '50000', SUPPLIER_1], ['part-0002', '50000', SUPPLIER_2]))).code).toBe('FINANCE.NOT_HOLDER');
    chain.ok(issue(SUPPLIER_2, 'recv-0002', { documents: [{ docType: 'invoice', hash: sha('i2'), amount: '100000' }] }));
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', parts(['recv-0002', '50000', SUPPLIER_1], ['part-0002', '50000', SUPPLIER_2])))).toMatchObject({ code: 'FINANCE.DUPLICATE_ID', detail: 'receivable recv-0002 already exists' });
    expect(chain.run(split(SUPPLIER_2, 'recv-0002', parts(['part-0001', '50000', SUPPLIER_1], ['part-0002', '50000', SUPPLIER_2]))).code).toBe('FINANCE.INVALID_STATE');
    expect(chain.receivable('recv-0001')?.status).toBe('confirmed');
    expect(chain.receivable('part-0001')).toBeUndefined();
  });

  it('a retried split finds its parts: FINANCE.DUPLICATE_ID', () => {
    const chain = confirmedChain();
    const again = split(SUPPLIER_1, 'recv-0001', parts(['part-0001', '50000', SUPPLIER_1], ['part-0002', '50000', SUPPLIER_2]));
    chain.ok(again);
    expect(chain.run(again).code).toBe('FINANCE.DUPLICATE_ID');
  });

  it('refuses an encumbered, frozen or partly paid receivable', () => {
    const chain = confirmedChain();
    const halves = parts(['part-0001', '50000', SUPPLIER_1], ['part-0002', '50000', SUPPLIER_2]);
    chain.ok(repay('pay-00001', 'recv-0001', '1'));
    expect(chain.run(split(SUPPLIER_1, 'recv-0001', halves))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'receivable recv-0001 is partly paid (1); only an unpaid one splits' });
    const other = confirmedChain();
    other.ok(apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1, 'factoring'));
    other.ok(approve(BANK_1, 'fin-00001'));
    expect(other.run(split(SUPPLIER_1, 'recv-0001', halves)).code).toBe('FINANCE.ENCUMBERED');
    other.ok(freeze('recv-0001'));
    expect(other.run(split(SUPPLIER_1, 'recv-0001', halves)).code).toBe('FINANCE.FROZEN');
  });
});

describe('finance.receivable.repay', () => {
  /** recv-0001 split into a (30000, supplier-1), b (50000, supplier-2), c (20000, supplier-2); b factored by bank-2. */
  function tree(): FinanceChain {
    const chain = confirmedChain();
    chain.ok(split(SUPPLIER_1, 'recv-0001', [
      { receivableId: 'recv-0001-c', faceValue: '20000', holder: SUPPLIER_2 },
      { receivableId: 'recv-0001-a', faceValue: '30000', holder: SUPPLIER_1 },
      { receivableId: 'recv-0001-b', faceValue: '50000', holder: SUPPLIER_2 },
    ]));
    chain.ok(apply(SUPPLIER_2, 'fin-00001', 'recv-0001-b', BANK_2, 'factoring'));
    chain.ok(approve(BANK_2, 'fin-00001'));
    chain.ok(tx(BANK_2, 'finance.financing.disburse', { financingId: 'fin-00001', paymentReference: 'SWIFT 1' }));
    return chain;
  }

  it('allocates over the live leaves in id order, to financiers of encumbered ones, and settles what is paid in full', () => {
    const chain = tree();
    chain.ok(repay('pay-00001', 'recv-0001', '60000'));
    expect(chain.payment('pay-00001')).toMatchObject({
      rootId: 'recv-0001',
      debtor: CORE,
      currency: 'CNY',
      amount: '60000',
      paymentReference: 'wire pay-00001',
      allocations: [
        { receivableId: 'recv-0001-a', payee: SUPPLIER_1, amount: '30000', financingId: null },
        { receivableId: 'recv-0001-b', payee: BANK_2, amount: '30000', financingId: 'fin-00001' },
      ],
      skippedFrozen: [],
    });
    expect(chain.receivable('recv-0001-a')).toMatchObject({ status: 'settled', paidAmount: '30000' });
    expect(chain.receivable('recv-0001-b')).toMatchObject({ status: 'confirmed', paidAmount: '30000', encumbrance: { financingId: 'fin-00001' } });
    expect(chain.creditLine('line-0001')?.used).toBe('70000');
    chain.ok(repay('pay-00002', 'recv-0001', '40000'));
    expect(chain.payment('pay-00002')?.allocations).toEqual([
      { receivableId: 'recv-0001-b', payee: BANK_2, amount: '20000', financingId: 'fin-00001' },
      { receivableId: 'recv-0001-c', payee: SUPPLIER_2, amount: '20000', financingId: null },
    ]);
    expect(chain.receivable('recv-0001-b')).toMatchObject({ status: 'settled', paidAmount: '50000', encumbrance: null });
    expect(chain.financing('fin-00001')).toMatchObject({ status: 'repaid', closedAtBlock: chain.block });
    expect(chain.creditLine('line-0001')?.used).toBe('0');
    expect(chain.run(repay('pay-00003', 'recv-0001', '1'))).toMatchObject({ code: 'FINANCE.OVERPAYMENT', detail: '1 exceeds the 0 the payable leaves of recv-0001 owe' });
  });

  it('skips a frozen leaf, whose share stays outstanding', () => {
    const chain = tree();
    chain.ok(freeze('recv-0001-a'));
    expect(chain.run(repay('pay-00001', 'recv-0001', '70001'))).toMatchObject({ code: 'FINANCE.OVERPAYMENT', detail: '70001 exceeds the 70000 the payable leaves of recv-0001 owe (frozen and skipped: recv-0001-a)' });
    chain.ok(repay('pay-00001', 'recv-0001', '70000'));
    expect(chain.payment('pay-00001')).toMatchObject({ skippedFrozen: ['recv-0001-a'], allocations: [{ receivableId: 'recv-0001-b', amount: '50000' }, { receivableId: 'recv-0001-c', amount: '20000' }] });
    expect(chain.receivable('recv-0001-a')).toMatchObject({ status: 'confirmed', paidAmount: '0' });
    expect(chain.creditLine('line-0001')?.used).toBe('30000');
  });

  it('only the debtor, on a confirmed root, under a new payment id', () => {
    const chain = tree();
    expect(chain.run(repay('pay-00001', 'recv-0001', '1', SUPPLIER_1))).toMatchObject({ code: 'FINANCE.NOT_DEBTOR' });
    expect(chain.run(repay('pay-00001', 'recv-0001-a', '1'))).toMatchObject({ code: 'FINANCE.INVALID', detail: 'payload.rootId must name a root; recv-0001-a is part of recv-0001' });
    expect(chain.run(repay('pay-00001', 'recv-9999', '1'))).toMatchObject({ code: 'FINANCE.UNKNOWN_RECEIVABLE' });
    expect(chain.run(repay('pay-00001', 'recv-0001', '0'))).toMatchObject({ code: 'FINANCE.INVALID' });
    chain.ok(issue(SUPPLIER_2, 'recv-0002', { documents: [{ docType: 'invoice', hash: sha('i2'), amount: '100000' }] }));
    expect(chain.run(repay('pay-00001', 'recv-0002', '1'))).toMatchObject({ code: 'FINANCE.INVALID_STATE' });
    chain.ok(repay('pay-00001', 'recv-0001', '1'));
    expect(chain.run(repay('pay-00001', 'recv-0001', '1'))).toMatchObject({ code: 'FINANCE.DUPLICATE_ID' });
    expect(chain.receivable('recv-0001-a')?.paidAmount).toBe('1');
  });
});

describe('overdue and default', () => {
  it('marks a confirmed receivable overdue after its due date, and defaulted from 30 days after it', () => {
    const chain = confirmedChain();
    expect(chain.run(markOverdue(SUPPLIER_1, 'recv-0001'))).toMatchObject({ code: 'FINANCE.NOT_OVERDUE' });
    chain.today = '2027-04-04';
    expect(chain.run(markOverdue(SUPPLIER_1, 'recv-0001'))).toMatchObject({ code: 'FINANCE.NOT_OVERDUE', detail: 'receivable recv-0001 is due on 2027-04-04; today is 2027-04-04' });
    chain.today = '2027-04-05';
    expect(chain.run(declareDefault(SUPPLIER_1, 'recv-0001'))).toMatchObject({ code: 'FINANCE.INVALID_STATE' });
    expect(chain.run(markOverdue(SUPPLIER_2, 'recv-0001'))).toMatchObject({ code: 'FINANCE.NOT_PARTY' });
    chain.ok(markOverdue(CORE, 'recv-0001'));
    expect(chain.receivable('recv-0001')?.status).toBe('overdue');
    expect(chain.run(markOverdue(SUPPLIER_1, 'recv-0001')).code).toBe('FINANCE.INVALID_STATE');
    chain.today = '2027-05-03';
    expect(chain.run(declareDefault(SUPPLIER_1, 'recv-0001'))).toMatchObject({ code: 'FINANCE.NOT_OVERDUE', detail: expect.stringContaining('from 2027-05-04') });
    chain.today = '2027-05-04';
    expect(chain.run(declareDefault(CORE, 'recv-0001'))).toMatchObject({ code: 'FINANCE.NOT_PARTY' });
    chain.ok(declareDefault(SUPPLIER_1, 'recv-0001'));
    expect(chain.receivable('recv-0001')?.status).toBe('defaulted');
    // A defaulted receivable is still repaid, and settles.
    chain.ok(repay('pay-00001', 'recv-0001', '100000'));
    expect(chain.receivable('recv-0001')?.status).toBe('settled');
    expect(chain.creditLine('line-0001')?.used).toBe('0');
  });

  it('the financier of an encumbered receivable marks and declares it, with finance.financing.manage', () => {
    const chain = confirmedChain();
    chain.ok(apply(SUPPLIER_1, 'fin-00001', 'recv-0001', BANK_1));
    chain.ok(approve(BANK_1, 'fin-00001'));
    const officer = chain.agent(BANK_1, 'officer', ['finance.financing.manage']);
    const nobody = chain.agent(BANK_1, 'nobody', ['finance.credit-line.manage']);
    chain.today = '2027-05-10';
    expect(chain.run(tx(BANK_1, 'finance.receivable.mark-overdue', { receivableId: 'recv-0001' }, nobody)).code).toBe('IDENTITY.NOT_ALLOWED');
    expect(chain.run(markOverdue(BANK_2, 'recv-0001')).code).toBe('FINANCE.NOT_PARTY');
    chain.ok(tx(BANK_1, 'finance.receivable.mark-overdue', { receivableId: 'recv-0001' }, officer));
    chain.ok(declareDefault(BANK_1, 'recv-0001'));
    expect(chain.receivable('recv-0001')).toMatchObject({ status: 'defaulted', encumbrance: { financier: BANK_1 } });
  });
});

describe('receivableAsset (how financing sees a receivable)', () => {
  it('is held by its holder, worth what is outstanding, financeable only when confirmed', () => {
    const chain = confirmedChain();
    chain.ok(repay('pay-00001', 'recv-0001', '2500'));
    const r = chain.receivable('recv-0001') as Receivable;
    expect([receivableAsset.holderOf(r), receivableAsset.valueOf(r), receivableAsset.currencyOf(r), receivableAsset.dueDateOf(r)]).toEqual([SUPPLIER_1, '97500', 'CNY', '2027-04-04']);
    expect(receivableAsset.notFinanceable(r)).toBeUndefined();
    expect(receivableAsset.notFinanceable({ ...r, status: 'overdue' })).toMatchObject({ code: 'FINANCE.INVALID_STATE' });
  });
});
