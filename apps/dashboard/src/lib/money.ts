/**
 * Amounts for people: the services answer integer minor units as decimal
 * strings; the dashboard formats the digit string itself (never a float) with
 * the currency's ISO 4217 exponent. The same table as the finance contracts'
 * money helpers (libs/ledger/domain, which a browser app may not import).
 */
const EXPONENTS: Readonly<Record<string, number>> = { BHD: 3, BIF: 0, CLP: 0, DJF: 0, GNF: 0, IQD: 3, ISK: 0, JOD: 3, JPY: 0, KMF: 0, KRW: 0, KWD: 3, LYD: 3, OMR: 3, PYG: 0, RWF: 0, TND: 3, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0 };

const AMOUNT = /^(0|[1-9][0-9]*)$/;

/** The minor-unit exponent of a currency (2 unless ISO 4217 says otherwise). */
export const exponentOf = (currency: string): number => EXPONENTS[currency] ?? 2;

/** `"123456"` EUR → `"1,234.56"`: exact, digit grouping by threes; a string that is not an amount is shown as it came. */
export function formatMinor(amount: string, currency: string): string {
  if (!AMOUNT.test(amount)) return amount;
  const e = exponentOf(currency);
  const padded = amount.padStart(e + 1, '0');
  const whole = e === 0 ? padded : padded.slice(0, -e);
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return e === 0 ? grouped : `${grouped}.${padded.slice(-e)}`;
}

/** `formatMinor` with the currency code: `"EUR 1,234.56"`. */
export const formatMoney = (amount: string, currency: string): string => `${currency} ${formatMinor(amount, currency)}`;

/** `part / whole` in thousandths, rounded down, 0..1000, computed with BigInt (for bar lengths). */
export function permille(part: string, whole: string): number {
  if (!AMOUNT.test(part) || !AMOUNT.test(whole)) return 0;
  const w = BigInt(whole);
  if (w === 0n) return 0;
  const p = (BigInt(part) * 1000n) / w;
  return Number(p > 1000n ? 1000n : p);
}

/** The largest of some amount strings ("0" for none). */
export function maxAmount(amounts: readonly string[]): string {
  let best = 0n;
  for (const a of amounts) if (AMOUNT.test(a) && BigInt(a) > best) best = BigInt(a);
  return best.toString();
}
