import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, allocateProportionally, daysBetween, divideRounded, formatAmount, isAmount, isDate, simpleInterest, sumAmounts, toMinor, utcDateOf } from './money';

describe('money', () => {
  it('accepts only digit strings without sign or leading zero', () => {
    for (const good of ['0', '1', '100', '9'.repeat(31)]) expect(isAmount(good)).toBe(true);
    for (const bad of ['', '01', '-1', '1.5', '1e3', ' 1', '9'.repeat(32), 1, null]) expect(isAmount(bad)).toBe(false);
    expect(() => toMinor('1.0')).toThrow(/not an amount/);
  });

  it('sums beyond 2^53 exactly', () => {
    expect(sumAmounts(['9007199254740993', '9007199254740993'])).toBe('18014398509481986');
  });

  it('formats by the ISO 4217 exponent', () => {
    expect(formatAmount('123456', 'EUR')).toBe('1234.56');
    expect(formatAmount('5', 'USD')).toBe('0.05');
    expect(formatAmount('1234', 'JPY')).toBe('1234');
    expect(formatAmount('1234', 'KWD')).toBe('1.234');
  });

  it('rounds half-even, half-up and down', () => {
    expect(divideRounded(5n, 2n)).toBe(2n); // 2.5 → 2
    expect(divideRounded(7n, 2n)).toBe(4n); // 3.5 → 4
    expect(divideRounded(5n, 2n, 'half-up')).toBe(3n);
    expect(divideRounded(9n, 4n, 'half-even')).toBe(2n); // 2.25
    expect(divideRounded(11n, 4n, 'down')).toBe(2n); // 2.75
    expect(divideRounded(11n, 4n)).toBe(3n);
  });

  it('counts actual days across month ends and leap years', () => {
    expect(daysBetween('2024-02-28', '2024-03-01')).toBe(2);
    expect(daysBetween('2023-02-28', '2023-03-01')).toBe(1);
    expect(daysBetween('2026-12-31', '2027-01-01')).toBe(1);
    expect(daysBetween('2027-01-01', '2026-01-01')).toBe(-365);
    expect(addDays('2026-12-04', 30)).toBe('2027-01-03');
    expect(isDate('2026-02-29')).toBe(false);
    expect(isDate('2028-02-29')).toBe(true);
    expect(utcDateOf('2026-12-04T23:30:00.000-02:00')).toBe('2026-12-05');
  });

  it('computes interest exactly: 1,000,000.00 at 5 % for 90 days', () => {
    // 100 000 000 × 500 × 90 / (10 000 × 360) = 1 250 000 (12,500.00)
    expect(simpleInterest('100000000', 90, { rateBps: 500, dayCount: 'ACT/360' })).toBe('1250000');
    // ACT/365F: 100 000 000 × 500 × 90 / 3 650 000 = 1 232 876.71… → 1 232 877
    expect(simpleInterest('100000000', 90, { rateBps: 500, dayCount: 'ACT/365F' })).toBe('1232877');
    expect(simpleInterest('100000000', 90, { rateBps: 500, dayCount: 'ACT/365F', rounding: 'down' })).toBe('1232876');
    expect(simpleInterest('108000', 1, { rateBps: 1000, dayCount: 'ACT/360' })).toBe('30'); // 108000·1000/3.6M = 30
    expect(simpleInterest('180', 1, { rateBps: 10000, dayCount: 'ACT/360' })).toBe('0'); // 180·10 000/3 600 000 = 0.5 → 0 (half-even)
    expect(simpleInterest('540', 1, { rateBps: 10000, dayCount: 'ACT/360' })).toBe('2'); // 1.5 → 2
    expect(simpleInterest('180', 1, { rateBps: 10000, dayCount: 'ACT/360', rounding: 'half-up' })).toBe('1');
    expect(() => simpleInterest('1', 1, { rateBps: 10001, dayCount: 'ACT/360' })).toThrow(/rateBps/);
  });

  it('allocates proportionally to the exact total', () => {
    expect(allocateProportionally('100', ['1', '1', '1'])).toEqual(['34', '33', '33']);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { minLength: 1, maxLength: 20 }), (total, weights) => {
        const shares = allocateProportionally(total.toString(), weights.map(String)).map(BigInt);
        expect(shares.reduce((s, x) => s + x, 0n)).toBe(total);
        const sum = weights.reduce((s, x) => s + x, 0n);
        shares.forEach((s, i) => {
          const exact = (total * weights[i]!) / sum;
          expect(s === exact || s === exact + 1n).toBe(true);
        });
      }),
    );
  });

  it('rounds like exact rational arithmetic', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 25n }), fc.bigInt({ min: 1n, max: 10n ** 9n }), (n, d) => {
        const q = divideRounded(n, d);
        // |n − q·d| ≤ d/2, and on an exact half q is even
        const err = n - q * d;
        expect(2n * (err < 0n ? -err : err) <= d).toBe(true);
        if (2n * (err < 0n ? -err : err) === d) expect(q % 2n).toBe(0n);
      }),
    );
  });
});
