/**
 * Payment-term compliance (docs/audit.md, Look-through views): pure, over the
 * finance service's receivables and repayments as it answers them.
 *
 * The rule. A receivable counts when it is a leaf the debtor owes — not a
 * split parent (its children carry the debt), not `issued` (not yet the
 * debtor's debt: unconfirmed), not `rejected` or `cancelled` — and its
 * `dueDate` lies in the window `from`..`to` (both included). It is **paid on
 * time** when it is settled and the repayment that completed it (the one whose
 * allocation brought the sum of its allocations to its face value) was made on
 * or before its due date, both taken as UTC calendar dates (the repayment's
 * date is that of its block time, `payment.at`); **paid late** when that date
 * is after the due date, days late = whole UTC days between the due date and
 * that date. Not settled: **defaulted** when its status is `defaulted`, else
 * **overdue** when the due date is before `asOf` (today, UTC), else **not yet
 * due**. Exclusive: each counted receivable is in exactly one of these (or
 * `paidUndated`, settled with no dated completing repayment).
 * Amounts are strings of integer minor units (BigInt sums); average days late
 * is an exact reduced fraction (`"7/2"`) or an integer string (`"3"`).
 */

export interface TermsReceivable {
  readonly receivableId: string;
  readonly rootId: string;
  readonly debtor: string;
  readonly holder: string;
  readonly currency: string;
  readonly faceValue: string;
  readonly paidAmount: string;
  readonly dueDate: string;
  readonly status: string;
}

export interface TermsPayment {
  readonly paymentId: string;
  readonly rootId: string;
  readonly debtor: string;
  readonly atBlock: number | null;
  readonly at: string | null;
  readonly allocations: ReadonlyArray<{ readonly receivableId: string; readonly amount: string }>;
}

export type LateState = 'paid-late' | 'overdue' | 'defaulted';

export interface LateReceivable {
  readonly receivableId: string;
  readonly rootId: string;
  readonly holder: string;
  readonly state: LateState;
  readonly dueDate: string;
  readonly faceValue: string;
  /** The date of the completing repayment (paid late), else null. */
  readonly paidOn: string | null;
  readonly paymentId: string | null;
  /** Days after the due date: until paid (paid late), until `asOf` (overdue, defaulted). */
  readonly daysLate: number;
  readonly outstanding: string;
}

export interface TermsBucket {
  readonly count: number;
  /** Σ face value. */
  readonly amount: string;
}

export interface OutstandingBucket {
  readonly count: number;
  /** Σ (face value − paid). */
  readonly outstanding: string;
}

export interface PaymentTermsRow {
  readonly debtor: string;
  readonly currency: string;
  readonly due: TermsBucket;
  readonly paidOnTime: TermsBucket;
  readonly paidLate: TermsBucket & { readonly maxDaysLate: number | null; readonly averageDaysLate: string | null };
  readonly paidUndated: TermsBucket;
  readonly overdue: OutstandingBucket & { readonly maxDaysOverdue: number | null };
  readonly defaulted: OutstandingBucket;
  readonly notYetDue: OutstandingBucket;
  /** Paid late, overdue and defaulted ones, by due date then id. */
  readonly late: LateReceivable[];
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a valid `YYYY-MM-DD`, else null. */
export function epochDay(date: string): number | null {
  const m = DATE.exec(date);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms / 86_400_000;
}

const dayOf = (date: string): number => {
  const n = epochDay(date);
  if (n === null) throw new Error(`not a date: ${date}`);
  return n;
};

/** The UTC calendar date of an RFC 3339 time, null when there is none. */
export function utcDateOfTime(at: string | null): string | null {
  if (at === null) return null;
  const t = Date.parse(at);
  return Number.isFinite(t) ? new Date(t).toISOString().slice(0, 10) : null;
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/** An exact quotient as a reduced fraction `"n/d"`, or `"n"` when it divides. */
export function rational(numerator: bigint, denominator: bigint): string {
  if (denominator <= 0n) throw new Error('denominator must be positive');
  const g = gcd(numerator < 0n ? -numerator : numerator, denominator) || 1n;
  const n = numerator / g;
  const d = denominator / g;
  return d === 1n ? n.toString() : `${n}/${d}`;
}

const EXCLUDED = new Set(['split', 'issued', 'rejected', 'cancelled']);

interface Acc {
  debtor: string;
  currency: string;
  due: [number, bigint];
  onTime: [number, bigint];
  lateB: [number, bigint];
  lateDays: number[];
  undated: [number, bigint];
  overdue: [number, bigint];
  overdueDays: number[];
  defaulted: [number, bigint];
  notYetDue: [number, bigint];
  late: LateReceivable[];
}

/**
 * When each receivable was paid in full: the repayment whose allocation brought Σ allocations to its face value,
 * repayments taken in block order (then paymentId). Receivables never completed are absent.
 */
export function completions(receivables: readonly TermsReceivable[], payments: readonly TermsPayment[]): Map<string, { paymentId: string; on: string | null }> {
  const face = new Map(receivables.map((r) => [r.receivableId, BigInt(r.faceValue)]));
  const paid = new Map<string, bigint>();
  const done = new Map<string, { paymentId: string; on: string | null }>();
  const ordered = [...payments].sort((a, b) => (a.atBlock ?? Number.MAX_SAFE_INTEGER) - (b.atBlock ?? Number.MAX_SAFE_INTEGER) || (a.paymentId < b.paymentId ? -1 : a.paymentId > b.paymentId ? 1 : 0));
  for (const p of ordered) {
    for (const a of p.allocations) {
      const target = face.get(a.receivableId);
      if (target === undefined || done.has(a.receivableId)) continue;
      const sum = (paid.get(a.receivableId) ?? 0n) + BigInt(a.amount);
      paid.set(a.receivableId, sum);
      if (sum >= target) done.set(a.receivableId, { paymentId: p.paymentId, on: utcDateOfTime(p.at) });
    }
  }
  return done;
}

/** The compliance rows per debtor and currency (in that order) for receivables due from `from` to `to`, judged as of `asOf`. */
export function paymentTerms(receivables: readonly TermsReceivable[], payments: readonly TermsPayment[], window: { from: string; to: string; asOf: string }): PaymentTermsRow[] {
  const from = dayOf(window.from);
  const to = dayOf(window.to);
  const asOf = dayOf(window.asOf);
  const counted = receivables.filter((r) => !EXCLUDED.has(r.status) && epochDay(r.dueDate) !== null && dayOf(r.dueDate) >= from && dayOf(r.dueDate) <= to);
  const done = completions(counted, payments);
  const rows = new Map<string, Acc>();
  for (const r of counted) {
    const key = `${r.debtor}\u0000${r.currency}`;
    let acc = rows.get(key);
    if (!acc) {
      acc = { debtor: r.debtor, currency: r.currency, due: [0, 0n], onTime: [0, 0n], lateB: [0, 0n], lateDays: [], undated: [0, 0n], overdue: [0, 0n], overdueDays: [], defaulted: [0, 0n], notYetDue: [0, 0n], late: [] };
      rows.set(key, acc);
    }
    const faceValue = BigInt(r.faceValue);
    const outstanding = faceValue - BigInt(r.paidAmount);
    const due = dayOf(r.dueDate);
    const add = (b: [number, bigint], v: bigint) => {
      b[0] += 1;
      b[1] += v;
    };
    add(acc.due, faceValue);
    const base = { receivableId: r.receivableId, rootId: r.rootId, holder: r.holder, dueDate: r.dueDate, faceValue: r.faceValue };
    if (r.status === 'settled') {
      const c = done.get(r.receivableId);
      if (!c || c.on === null) add(acc.undated, faceValue);
      else if (dayOf(c.on) <= due) add(acc.onTime, faceValue);
      else {
        const days = dayOf(c.on) - due;
        add(acc.lateB, faceValue);
        acc.lateDays.push(days);
        acc.late.push({ ...base, state: 'paid-late', paidOn: c.on, paymentId: c.paymentId, daysLate: days, outstanding: '0' });
      }
    } else if (r.status === 'defaulted') {
      add(acc.defaulted, outstanding);
      acc.late.push({ ...base, state: 'defaulted', paidOn: null, paymentId: null, daysLate: Math.max(0, asOf - due), outstanding: outstanding.toString() });
    } else if (due < asOf) {
      add(acc.overdue, outstanding);
      acc.overdueDays.push(asOf - due);
      acc.late.push({ ...base, state: 'overdue', paidOn: null, paymentId: null, daysLate: asOf - due, outstanding: outstanding.toString() });
    } else add(acc.notYetDue, outstanding);
  }
  const bucket = (b: [number, bigint]): TermsBucket => ({ count: b[0], amount: b[1].toString() });
  const owed = (b: [number, bigint]): OutstandingBucket => ({ count: b[0], outstanding: b[1].toString() });
  return [...rows.values()]
    .sort((a, b) => (a.debtor < b.debtor ? -1 : a.debtor > b.debtor ? 1 : a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0))
    .map((a) => ({
      debtor: a.debtor,
      currency: a.currency,
      due: bucket(a.due),
      paidOnTime: bucket(a.onTime),
      paidLate: {
        ...bucket(a.lateB),
        maxDaysLate: a.lateDays.length ? Math.max(...a.lateDays) : null,
        averageDaysLate: a.lateDays.length ? rational(BigInt(a.lateDays.reduce((s, d) => s + d, 0)), BigInt(a.lateDays.length)) : null,
      },
      paidUndated: bucket(a.undated),
      overdue: { ...owed(a.overdue), maxDaysOverdue: a.overdueDays.length ? Math.max(...a.overdueDays) : null },
      defaulted: owed(a.defaulted),
      notYetDue: owed(a.notYetDue),
      late: a.late.sort((x, y) => (x.dueDate < y.dueDate ? -1 : x.dueDate > y.dueDate ? 1 : x.receivableId < y.receivableId ? -1 : 1)),
    }));
}
