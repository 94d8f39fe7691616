/**
 * Value canonicalisation of the CBV 2.0 event hash, with the exact semantics of the reference
 * implementation (RalphTro/epcis-event-hash-generator, Python): its `str.sort()` order, its
 * `decimal.Decimal` number rendering and its timestamp rounding.
 */

/**
 * Orders strings by Unicode code point, as Python compares `str` (JavaScript's `<` compares UTF-16
 * code units, which differs for characters beyond U+FFFF).
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (U+D800–DFFF) encodes a code point above U+FFFF: it sorts after every BMP unit.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Python's `str.strip()` with no argument: every character for which `str.isspace()` holds. */
export function pythonStrip(text: string): string {
  return text.replace(PY_SPACE_START, '').replace(PY_SPACE_END, '');
}
const PY_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACE_START = new RegExp(`^[${PY_WHITESPACE}]+`);
const PY_SPACE_END = new RegExp(`[${PY_WHITESPACE}]+$`);

// Python's decimal literal grammar (underscores only between digits, as `Decimal('1_000')` allows).
const DIGITS = '\\d+(?:_\\d+)*';
const DECIMAL_LITERAL = new RegExp(`^([+-])?(?:(${DIGITS})(?:\\.(${DIGITS})?)?|\\.(${DIGITS}))(?:[eE]([+-]?${DIGITS}))?$`);

/**
 * The reference's `_try_format_numeric`: a value that parses as a Python `Decimal` is rewritten —
 * a whole number as `str(d.to_integral_value())` ('1.0' → '1', '0614141' → '614141', '1e3' → '1E+3'),
 * any other finite number as `format(d.normalize(), 'f')` ('0.50' → '0.5', '1e-7' → '0.0000001').
 * Non-numbers (and 'NaN'/'Infinity', which are not finite) are returned unchanged.
 */
export function canonicalDecimal(text: string): string {
  const m = DECIMAL_LITERAL.exec(text);
  if (m === null) return text;
  const negative = m[1] === '-';
  const intPart = (m[2] ?? '').replace(/_/g, '');
  const fracPart = (m[3] ?? m[4] ?? '').replace(/_/g, '');
  const exponent = (m[5] === undefined ? 0 : Number(m[5].replace(/_/g, ''))) - fracPart.length;
  if (!Number.isSafeInteger(exponent)) return text;
  const coefficient = stripLeadingZeros(intPart + fracPart);
  const sign = negative ? '-' : '';

  const isZero = coefficient === '0';
  const integral = exponent >= 0 || isZero || /^0*$/.test(coefficient.slice(Math.max(0, coefficient.length + exponent)));
  if (integral) {
    if (exponent > 0) return sign + scientific(coefficient, exponent);
    if (exponent === 0) return sign + coefficient;
    const whole = coefficient.length + exponent > 0 ? coefficient.slice(0, coefficient.length + exponent) : '0';
    return sign + stripLeadingZeros(whole);
  }
  // normalize(): drop trailing zeros of the coefficient; the exponent stays negative (not integral).
  let digits = coefficient;
  let exp = exponent;
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exp += 1;
  }
  const point = digits.length + exp;
  const plain = point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${'0'.repeat(-point)}${digits}`;
  return sign + plain;
}

function stripLeadingZeros(digits: string): string {
  const s = digits.replace(/^0+/, '');
  return s === '' ? '0' : s;
}

/** Python `str(Decimal)` for a positive exponent: one digit before the point, then 'E+n'. */
function scientific(coefficient: string, exponent: number): string {
  const adjusted = exponent + coefficient.length - 1;
  const fraction = coefficient.length > 1 ? `.${coefficient.slice(1)}` : '';
  return `${coefficient[0]}${fraction}E+${adjusted}`;
}

/**
 * A JSON number as the reference sees it after `json.loads` and `str()`: an integer prints all its
 * digits; any other number prints in a form that `canonicalDecimal` brings to the same result as
 * Python's `repr(float)` would.
 */
export function numberText(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return BigInt(value).toString();
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return String(value);
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/**
 * The reference's `_fix_time_stamp_format`: the instant in UTC with exactly three fractional digits
 * and 'Z'. More digits are cut to microseconds (as `dateutil` parses them) and rounded half-up to
 * milliseconds ('.1415' → '.142', '.1414' → '.141', '.9995' at 59 s carries into the next minute);
 * fewer are zero-filled. A value that is not an ISO 8601 date-time is returned unchanged, as the
 * reference does when `dateutil` cannot parse it. A date-time without an offset is read as UTC
 * (the reference would use the local time zone of the machine it runs on).
 */
export function normaliseTimestamp(text: string): string {
  const m = ISO_DATE_TIME.exec(text);
  if (m === null) return text;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return text;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return text;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const micros = Number((m[7] ?? '').slice(0, 6).padEnd(6, '0'));
  const millis = Math.floor((micros + 500) / 1000); // half-up
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const instant = date.getTime() - offsetMinutes * 60_000 + millis;
  const utc = new Date(instant);
  const y = utc.getUTCFullYear();
  if (y < 1 || y > 9999) return text;
  return utc.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ for years 1–9999
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
