import { describe, expect, it } from 'vitest';
import { exponentOf, formatMinor, formatMoney, maxAmount, permille } from './money';

describe('minor units for people', () => {
  it('formats the digit string with the currency exponent, exactly', () => {
    expect(formatMinor('100000', 'EUR')).toBe('1,000.00');
    expect(formatMinor('5', 'EUR')).toBe('0.05');
    expect(formatMinor('0', 'EUR')).toBe('0.00');
    expect(formatMinor('1234', 'JPY')).toBe('1,234');
    expect(formatMinor('1234', 'KWD')).toBe('1.234');
    expect(formatMinor('12345678901234567890123', 'EUR')).toBe('123,456,789,012,345,678,901.23');
    expect(formatMoney('4999', 'USD')).toBe('USD 49.99');
    expect(exponentOf('BHD')).toBe(3);
  });

  it('shows a string that is not an amount as it came', () => {
    expect(formatMinor('-1', 'EUR')).toBe('-1');
    expect(formatMinor('1.5', 'EUR')).toBe('1.5');
  });

  it('computes bar proportions with BigInt', () => {
    expect(permille('1', '3')).toBe(333);
    expect(permille('99999999999999999999', '99999999999999999999')).toBe(1000);
    expect(permille('5', '0')).toBe(0);
    expect(maxAmount(['10', '99999999999999999999', '7'])).toBe('99999999999999999999');
    expect(maxAmount([])).toBe('0');
  });
});
