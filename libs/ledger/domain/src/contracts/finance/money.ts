/**
 * Exact money for the finance contracts and the finance service (issue 6,
 * fifth part). An amount is an integer count of the currency's minor units,
 * carried in JSON as a decimal string of digits (canonical transaction JSON
 * has no room for integers beyond 2^53, and no floating point may touch
 * money) and computed with `bigint`. Interest and discounts are
 *
 *   amount × rateBps × days / (10 000 × basis)
 *
 * with `days` the actual calendar days between two UTC dates and `basis` 360
 * (ACT/360) or 365 (ACT/365F), computed exactly and rounded once, at the end,
 * to a whole minor unit by the stated rule (default half-even, "banker's
 * rounding", as ISDA and most bank ledgers do).
 */

/** An amount in minor units: `0` or digits without a leading zero, at most 31 of them. */
export const AMOUNT_PATTERN = /^(0|[1-9][0-9]{0,30})$/;
/** An ISO 4217 alphabetic currency code. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
/** A UTC calendar date. */
export const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export type DayCount = 'ACT/360' | 'ACT/365F';
export const DAY_COUNTS: readonly DayCount[] = ['ACT/360', 'ACT/365F'];
export type Rounding = 'half-even' | 'half-up' | 'down';
export const ROUNDINGS: readonly Rounding[] = ['half-even', 'half-up', 'down'];
/** Largest rate a contract accepts: 100 % a year, in basis points. */
export const MAX_RATE_BPS = 10_000;

const BASIS: Record<DayCount, bigint> = { 'ACT/360': 360n, 'ACT/365F': 365n };
const DAY_MS = 86_400_000;

/** ISO 4217 minor-unit exponents that differ from 2 (for display only: amounts are minor units everywhere). */
const EXPONENTS: Record<string, number> = { BHD: 3, BIF: 0, CLP: 0, DJF: 0, GNF: 0, IQD: 3, ISK: 0, JOD: 3, JPY: 0, KMF: 0, KRW: 0, KWD: 3, LYD: 3, OMR: 3, PYG: 0, RWF: 0, TND: 3, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0 };

export const isAmount = (value: unknown): value is string => typeof value === 'string' && AMOUNT_PATTERN.test(value);
export const isCurrency = (value: unknown): value is string => typeof value === 'string' && CURRENCY_PATTERN.test(value);

/** The bigint of an amount string; throws on anything that is not one. */
export function toMinor(amount: string): bigint {
  if (!isAmount(amount)) throw new RangeError(`"${amount}" is not an amount in minor units (digits, no sign, no leading zero)`);
  return BigInt(amount);
}

/** The amount string of a non-negative bigint. */
export function amountOf(minor: bigint): string {
  if (minor < 0n) throw new RangeError(`an amount cannot be negative (${minor})`);
  return minor.toString();
}

export const sumAmounts = (amounts: readonly string[]): string => amountOf(amounts.reduce((s, a) => s + toMinor(a), 0n));

/** The minor-unit exponent of a currency (2 unless ISO 4217 says otherwise). */
export const exponentOf = (currency: string): number => EXPONENTS[currency] ?? 2;

/** `"123456"` in EUR → `"1234.56"`: the amount in major units, exactly, for people. */
export function formatAmount(amount: string, currency: string): string {
  const digits = toMinor(amount).toString();
  const e = exponentOf(currency);
  if (e === 0) return digits;
  const padded = digits.padStart(e + 1, '0');
  return `${padded.slice(0, -e)}.${padded.slice(-e)}`;
}

/** `n / d` rounded to an integer by `rounding`; `n ≥ 0`, `d > 0`. */
export function divideRounded(n: bigint, d: bigint, rounding: Rounding = 'half-even'): bigint {
  if (d <= 0n || n < 0n) throw new RangeError('divideRounded takes n ≥ 0 and d > 0');
  const q = n / d;
  const r = n % d;
  if (rounding === 'down' || r === 0n) return q;
  const twice = 2n * r;
  if (twice > d) return q + 1n;
  if (twice < d) return q;
  return rounding === 'half-up' || q % 2n === 1n ? q + 1n : q;
}

/** Whether `date` is a real UTC calendar date `YYYY-MM-DD`. */
export function isDate(date: unknown): date is string {
  if (typeof date !== 'string') return false;
  const m = DATE_PATTERN.exec(date);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** The UTC date of an RFC 3339 timestamp (a block's). */
export function utcDateOf(timestamp: string): string {
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) throw new RangeError(`"${timestamp}" is not a timestamp`);
  return new Date(t).toISOString().slice(0, 10);
}

const dayNumber = (date: string): number => {
  if (!isDate(date)) throw new RangeError(`"${date}" is not a date YYYY-MM-DD`);
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
};

/** Actual days from `from` to `to` (negative when `to` is earlier). */
export const daysBetween = (from: string, to: string): number => dayNumber(to) - dayNumber(from);

export function addDays(date: string, days: number): string {
  return new Date((dayNumber(date) + days) * DAY_MS).toISOString().slice(0, 10);
}

export interface InterestTerms {
  readonly rateBps: number;
  readonly dayCount: DayCount;
  readonly rounding?: Rounding;
}

/** Simple interest (or a discount) on `principal` for `days` days: principal × rateBps × days / (10 000 × basis), rounded once. */
export function simpleInterest(principal: string, days: number, terms: InterestTerms): string {
  if (!Number.isSafeInteger(days) || days < 0) throw new RangeError(`days must be a whole number ≥ 0 (${days})`);
  if (!Number.isSafeInteger(terms.rateBps) || terms.rateBps < 0 || terms.rateBps > MAX_RATE_BPS) throw new RangeError(`rateBps must be a whole number 0-${MAX_RATE_BPS}`);
  const n = toMinor(principal) * BigInt(terms.rateBps) * BigInt(days);
  return amountOf(divideRounded(n, 10_000n * BASIS[terms.dayCount], terms.rounding ?? 'half-even'));
}

/**
 * `total` split into shares proportional to `weights` that sum to `total`
 * exactly: each share rounded down, the remainder given one minor unit at a
 * time to the largest remainders (ties: earlier first) — the largest-remainder
 * method.
 */
export function allocateProportionally(total: string, weights: readonly string[]): string[] {
  const t = toMinor(total);
  const w = weights.map(toMinor);
  const sum = w.reduce((s, x) => s + x, 0n);
  if (w.length === 0 || sum === 0n) throw new RangeError('allocateProportionally needs weights that sum to more than 0');
  const shares = w.map((x) => (t * x) / sum);
  const rests = w.map((x, i) => ({ i, r: (t * x) % sum }));
  const left = t - shares.reduce((s, x) => s + x, 0n);
  rests.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  const extra = new Set(rests.slice(0, Number(left)).map((r) => r.i));
  return shares.map((share, i) => amountOf(extra.has(i) ? share + 1n : share));
}
