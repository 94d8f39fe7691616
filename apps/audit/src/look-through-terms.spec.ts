import { describe, expect, it } from 'vitest';
import { completions, epochDay, paymentTerms, rational, type TermsPayment, type TermsReceivable, utcDateOfTime } from './look-through-terms';

const rec = (receivableId: string, dueDate: string, status: string, faceValue = '1000', paidAmount = '0', debtor = 'core', currency = 'EUR'): TermsReceivable => ({ receivableId, rootId: 'root-0001', debtor, holder: 'sup', currency, faceValue, paidAmount, dueDate, status });
const pay = (paymentId: string, atBlock: number, at: string, allocations: Array<[string, string]>): TermsPayment => ({ paymentId, rootId: 'root-0001', debtor: 'core', atBlock, at, allocations: allocations.map(([receivableId, amount]) => ({ receivableId, amount })) });
const window = { from: '2027-01-01', to: '2027-01-31', asOf: '2027-02-10' };

describe('payment-term compliance', () => {
  it('rational: exact reduced fractions, integers when they divide', () => {
    expect(rational(7n, 2n)).toBe('7/2');
    expect(rational(9n, 3n)).toBe('3');
    expect(rational(10n, 4n)).toBe('5/2');
    expect(rational(0n, 5n)).toBe('0');
    expect(() => rational(1n, 0n)).toThrow();
  });

  it('dates: calendar dates only, times read as UTC', () => {
    expect(epochDay('1970-01-02')).toBe(1);
    expect(epochDay('2027-02-29')).toBeNull();
    expect(epochDay('2027-1-01')).toBeNull();
    expect(utcDateOfTime('2027-01-31T23:30:00-02:00')).toBe('2027-02-01');
    expect(utcDateOfTime(null)).toBeNull();
  });

  it('a receivable is completed by the repayment that brings its allocations to the face value, in block order', () => {
    const done = completions([rec('r-00000001', '2027-01-10', 'settled')], [pay('p-2', 9, '2027-01-12T10:00:00Z', [['r-00000001', '600']]), pay('p-1', 5, '2027-01-05T10:00:00Z', [['r-00000001', '400']])]);
    expect(done.get('r-00000001')).toEqual({ paymentId: 'p-2', on: '2027-01-12' });
  });

  it('on time (on the due date, UTC), late (days, max, exact average), overdue, defaulted, not yet due; outside the window and non-debts left out', () => {
    const receivables = [
      rec('a-onthedue', '2027-01-10', 'settled'),
      rec('b-late-3d', '2027-01-10', 'settled'),
      rec('c-late-4d', '2027-01-20', 'settled', '500'),
      rec('d-overdue', '2027-01-25', 'confirmed', '1000', '250'),
      rec('e-default', '2027-01-05', 'defaulted', '800'),
      rec('f-notdue', '2027-01-31', 'confirmed'),
      rec('g-split', '2027-01-10', 'split'),
      rec('h-issued', '2027-01-10', 'issued'),
      rec('i-outside', '2027-02-01', 'confirmed'),
      rec('j-usd', '2027-01-15', 'settled', '70', '70', 'core', 'USD'),
    ];
    const payments = [
      pay('p-1', 1, '2027-01-10T23:59:59.999Z', [['a-onthedue', '1000']]),
      pay('p-2', 2, '2027-01-13T00:00:00Z', [['b-late-3d', '1000'], ['d-overdue', '250']]),
      pay('p-3', 3, '2027-01-24T08:00:00Z', [['c-late-4d', '500'], ['j-usd', '70']]),
    ];
    // Judged on 2027-01-31: f, due that day, is not yet overdue.
    const rows = paymentTerms(receivables, payments, { ...window, asOf: '2027-01-31' });
    expect(rows.map((r) => r.currency)).toEqual(['EUR', 'USD']);
    const eur = rows[0];
    expect(eur).toMatchObject({
      debtor: 'core',
      due: { count: 6, amount: '5300' },
      paidOnTime: { count: 1, amount: '1000' },
      paidLate: { count: 2, amount: '1500', maxDaysLate: 4, averageDaysLate: '7/2' },
      paidUndated: { count: 0, amount: '0' },
      overdue: { count: 1, outstanding: '750', maxDaysOverdue: 6 },
      defaulted: { count: 1, outstanding: '800' },
      notYetDue: { count: 1, outstanding: '1000' },
    });
    expect(eur.late.map((l) => [l.receivableId, l.state, l.daysLate, l.paidOn, l.outstanding])).toEqual([
      ['e-default', 'defaulted', 26, null, '800'],
      ['b-late-3d', 'paid-late', 3, '2027-01-13', '0'],
      ['c-late-4d', 'paid-late', 4, '2027-01-24', '0'],
      ['d-overdue', 'overdue', 6, null, '750'],
    ]);
    expect(rows[1]).toMatchObject({ currency: 'USD', due: { count: 1, amount: '70' }, paidOnTime: { count: 0, amount: '0' }, paidLate: { count: 1, amount: '70', maxDaysLate: 9, averageDaysLate: '9' } });
    expect(rows[1].late.map((l) => [l.receivableId, l.daysLate])).toEqual([['j-usd', 9]]);
  });

  it('a settled receivable without a dated completing repayment is counted apart, not guessed', () => {
    const rows = paymentTerms([rec('k-nodate1', '2027-01-10', 'settled')], [{ ...pay('p-9', 1, 'x', [['k-nodate1', '1000']]), at: null }], window);
    expect(rows[0]).toMatchObject({ paidUndated: { count: 1, amount: '1000' }, paidOnTime: { count: 0 }, paidLate: { count: 0, maxDaysLate: null, averageDaysLate: null } });
  });

  it('sums stay exact beyond 2^53', () => {
    const big = '90071992547409930';
    const rows = paymentTerms([rec('l-big0001', '2027-01-10', 'confirmed', big), rec('l-big0002', '2027-01-10', 'confirmed', big)], [], { ...window, asOf: '2027-01-09' });
    expect(rows[0].notYetDue).toEqual({ count: 2, outstanding: '180143985094819860' });
  });
});
