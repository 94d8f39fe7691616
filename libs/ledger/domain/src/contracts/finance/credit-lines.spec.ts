import { describe, expect, it } from 'vitest';
import { BANK_1, BANK_2, confirm, CORE, FinanceChain, grant, issue, REGULATOR, SUPPLIER_1, tx } from '../../../test/finance-chain';
import type { CreditLine } from './credit-lines';

const update = (org: string, creditLineId: string, changes: Record<string, unknown>) => tx(org, 'finance.credit-line.update', { creditLineId, ...changes });

describe('finance.credit-line.grant', () => {
  it('grants a line of the financier to a debtor, nothing used', () => {
    const chain = new FinanceChain();
    chain.ok(grant(BANK_1, 'line-0001', { expiresOn: '2027-12-31' }));
    expect(chain.creditLine('line-0001')).toEqual({
      creditLineId: 'line-0001',
      financier: BANK_1,
      debtor: CORE,
      currency: 'CNY',
      limit: '1000000',
      used: '0',
      status: 'active',
      expiresOn: '2027-12-31',
      createdAtBlock: 1,
      updatedAtBlock: 1,
      lastTransactionId: expect.stringMatching(/^tx-1-/),
    } satisfies CreditLine);
    expect(chain.run(grant(BANK_2, 'line-0001'))).toMatchObject({ code: 'FINANCE.DUPLICATE_ID' });
  });

  it('refuses malformed grants', () => {
    const chain = new FinanceChain();
    for (const [extra, detail] of [
      [{ debtor: BANK_1 }, /debtor must be a member organization other than the financier/],
      [{ debtor: REGULATOR }, /debtor/],
      [{ currency: 'YUAN' }, /currency/],
      [{ limit: '0' }, /limit must be a positive amount/],
      [{ limit: '-5' }, /limit/],
      [{ expiresOn: '2027-01-03' }, /expiresOn \(2027-01-03\) is before today \(2027-01-04\)/],
      [{ expiresOn: '2027-13-01' }, /expiresOn must be a UTC calendar date/],
      [{ used: '0' }, /unexpected payload field\(s\): used/],
    ] as const)
      expect(chain.run(grant(BANK_1, 'line-0001', extra)), JSON.stringify(extra)).toMatchObject({ code: 'FINANCE.INVALID', detail: expect.stringMatching(detail) });
    expect(chain.creditLine('line-0001')).toBeUndefined();
  });

  it('is for an admin key or an agent with finance.credit-line.manage', () => {
    const chain = new FinanceChain();
    const teller = chain.agent(BANK_1, 'teller', ['finance.financing.manage']);
    const risk = chain.agent(BANK_1, 'risk', ['finance.credit-line.manage']);
    expect(chain.run(tx(BANK_1, 'finance.credit-line.grant', grant(BANK_1, 'line-0001').payload, teller)).code).toBe('IDENTITY.NOT_ALLOWED');
    expect(chain.run(tx(BANK_1, 'finance.credit-line.grant', grant(BANK_1, 'line-0001').payload, risk)).code).toBe('VALID');
    expect(chain.run(grant(REGULATOR, 'line-0002')).code).toBe('LEDGER.OBSERVER_READ_ONLY');
  });
});

describe('finance.credit-line.update', () => {
  it('changes limit, status and expiry by the financier; a closed line is final', () => {
    const chain = new FinanceChain();
    chain.ok(grant(BANK_1, 'line-0001', { expiresOn: '2027-06-30' }));
    chain.ok(update(BANK_1, 'line-0001', { limit: '0', status: 'suspended' }));
    expect(chain.creditLine('line-0001')).toMatchObject({ limit: '0', status: 'suspended', expiresOn: '2027-06-30', updatedAtBlock: 2 });
    chain.ok(update(BANK_1, 'line-0001', { status: 'active', expiresOn: null, limit: '500' }));
    expect(chain.creditLine('line-0001')).toMatchObject({ limit: '500', status: 'active', expiresOn: null });
    expect(chain.run(update(BANK_2, 'line-0001', { limit: '1' }))).toMatchObject({ code: 'FINANCE.NOT_FINANCIER' });
    expect(chain.run(update(BANK_1, 'line-9999', { limit: '1' }))).toMatchObject({ code: 'FINANCE.UNKNOWN_CREDIT_LINE' });
    expect(chain.run(update(BANK_1, 'line-0001', {}))).toMatchObject({ code: 'FINANCE.INVALID', detail: 'payload needs at least one of limit, status, expiresOn' });
    expect(chain.run(update(BANK_1, 'line-0001', { status: 'open' })).code).toBe('FINANCE.INVALID');
    expect(chain.run(update(BANK_1, 'line-0001', { expiresOn: '2026-01-01' })).code).toBe('FINANCE.INVALID');
    chain.ok(update(BANK_1, 'line-0001', { status: 'closed' }));
    expect(chain.run(update(BANK_1, 'line-0001', { status: 'active' }))).toMatchObject({ code: 'FINANCE.INVALID_STATE', detail: 'credit line line-0001 is closed' });
  });

  it('a closed line takes no charge; used stays what is outstanding', () => {
    const chain = new FinanceChain();
    chain.ok(grant(BANK_1, 'line-0001'));
    chain.ok(issue(SUPPLIER_1, 'recv-0001'));
    chain.ok(update(BANK_1, 'line-0001', { status: 'closed' }));
    expect(chain.run(confirm('recv-0001', 'line-0001'))).toMatchObject({ code: 'FINANCE.CREDIT_LINE_INACTIVE', detail: 'credit line line-0001 is closed' });
  });
});
