import { createHash } from 'node:crypto';
import { FINANCE_ID } from '@alliance/ledger/domain';
import { IDENTIFIER_PATTERN } from '@alliance/protocol';
import { AllianceError } from '@alliance/shared/util-errors';

/**
 * The filters of the finance read API (docs/finance.md, Queries, positions
 * and exposure), parsed into SQL over the read model's typed tables. Every
 * list is ordered by a stable key (the record's id, or the pair an exposure
 * row is of) and paged after the last key of the previous page; a page token
 * carries that key and a fingerprint of the normalised filters, so it
 * continues the query it came from and no other. An unknown parameter is
 * refused: a typo must not silently widen a query.
 */
export const FinanceQueryErrors = {
  invalid: (parameter: string, detail: string) => new AllianceError('FINANCE.INVALID_QUERY', 'invalid', `${parameter}: ${detail}`, { details: { parameter } }),
  unknown: (parameter: string, known: readonly string[]) =>
    new AllianceError('FINANCE.INVALID_QUERY', 'invalid', `${parameter} is not a filter of this list (known: ${known.length ? known.join(', ') : 'none'}, perPage, nextPageToken)`, { details: { parameter } }),
  pageToken: () => new AllianceError('FINANCE.INVALID_PAGE_TOKEN', 'invalid', 'nextPageToken does not belong to this query (send the same filters with it) or is malformed', { details: { parameter: 'nextPageToken' } }),
  notFound: (what: string, id: string) => new AllianceError('FINANCE.NOT_FOUND', 'not-found', `${what} ${id} is not in the finance read model`, { details: { id } }),
};

export const DEFAULT_PER_PAGE = 50;
export const MAX_PER_PAGE = 500;
/** Most values one filter takes (`status=confirmed,overdue`). */
export const MAX_FILTER_VALUES = 100;

/** Receivable statuses that still owe: the contract allocates repayment over these leaves (LIVE_STATUSES). */
export const LIVE_RECEIVABLE_STATUSES = ['confirmed', 'overdue', 'defaulted'] as const;
/** Financings that hold their asset's lock: the financier's money is out or promised. */
export const OPEN_FINANCING_STATUSES = ['approved', 'disbursed'] as const;

export const RECEIVABLE_STATUSES = ['issued', 'confirmed', 'split', 'settled', 'overdue', 'defaulted', 'rejected', 'cancelled'] as const;
export const FINANCING_STATUSES = ['applied', 'approved', 'rejected', 'withdrawn', 'disbursed', 'repaid', 'released', 'recourse'] as const;
export const FINANCING_KINDS = ['discounting', 'factoring', 'pledge'] as const;
export const ASSET_KINDS = ['receivable', 'warehouse-receipt', 'lease'] as const;
export const CREDIT_LINE_STATUSES = ['active', 'suspended', 'closed'] as const;
export const RECEIPT_STATUSES = ['active', 'held', 'split', 'merged', 'delivered', 'cancelled'] as const;
export const LEASE_STATUSES = ['proposed', 'active', 'overdue', 'repossessed', 'completed', 'cancelled'] as const;

export type ListKind = 'receivables' | 'financings' | 'credit-lines' | 'payments' | 'warehouse-receipts' | 'leases' | 'debtor-exposure' | 'financier-exposure';

type ValueType = 'organization' | 'id' | 'currency' | 'boolean' | 'text' | { readonly oneOf: readonly string[] };

interface FilterSpec {
  readonly type: ValueType;
  /** The condition, given the placeholder of the value list (`$3::text[]`), or of the one boolean. */
  readonly sql: (placeholder: string) => string;
}

interface ListSpec {
  /** What the page is read from (a table or a subquery), with its alias. */
  readonly from: string;
  /** The stable order, unique per row: one column, or the pair of an exposure row. */
  readonly key: readonly string[];
  readonly filters: Readonly<Record<string, FilterSpec>>;
}

const anyOf = (column: string) => (p: string) => `${column} = ANY(${p})`;
const flag = (column: string) => (p: string) => `(${column}) = ${p}`;
const organization = (column: string): FilterSpec => ({ type: 'organization', sql: anyOf(column) });
const id = (column: string): FilterSpec => ({ type: 'id', sql: anyOf(column) });
const currency = (column: string): FilterSpec => ({ type: 'currency', sql: anyOf(column) });
const status = (column: string, values: readonly string[]): FilterSpec => ({ type: { oneOf: values }, sql: anyOf(column) });

/** The open (not closed) credit lines, and the live receivables: what the exposure rows are of. */
const LIVE = `ARRAY[${LIVE_RECEIVABLE_STATUSES.map((s) => `'${s}'`).join(', ')}]`;
const LOCKING = `ARRAY[${OPEN_FINANCING_STATUSES.map((s) => `'${s}'`).join(', ')}]`;

export const LIST_SPECS: Readonly<Record<ListKind, ListSpec>> = {
  receivables: {
    from: 'finance.receivables r',
    key: ['r.receivable_id'],
    filters: {
      holder: organization('r.holder'),
      issuer: organization('r.issuer'),
      debtor: organization('r.debtor'),
      financier: organization('r.encumbrance_financier'),
      status: status('r.status', RECEIVABLE_STATUSES),
      rootId: id('r.root_id'),
      parentId: id('r.parent_id'),
      creditLineId: id('r.credit_line_id'),
      currency: currency('r.currency'),
      encumbered: { type: 'boolean', sql: flag('r.encumbrance_financing_id IS NOT NULL') },
      frozen: { type: 'boolean', sql: flag('r.frozen') },
    },
  },
  financings: {
    from: 'finance.financings f',
    key: ['f.financing_id'],
    filters: {
      financier: organization('f.financier'),
      applicant: organization('f.applicant'),
      status: status('f.status', FINANCING_STATUSES),
      kind: status('f.kind', FINANCING_KINDS),
      assetKind: status('f.asset_kind', ASSET_KINDS),
      assetId: id('f.asset_id'),
      currency: currency('f.currency'),
    },
  },
  'credit-lines': {
    from: 'finance.credit_lines c',
    key: ['c.credit_line_id'],
    filters: {
      financier: organization('c.financier'),
      debtor: organization('c.debtor'),
      status: status('c.status', CREDIT_LINE_STATUSES),
      currency: currency('c.currency'),
    },
  },
  payments: {
    from: 'finance.payments p',
    key: ['p.payment_id'],
    filters: {
      rootId: id('p.root_id'),
      debtor: organization('p.debtor'),
      currency: currency('p.currency'),
      payee: { type: 'organization', sql: (v) => `EXISTS (SELECT 1 FROM finance.payment_allocations a WHERE a.payment_id = p.payment_id AND a.payee = ANY(${v}))` },
      receivableId: { type: 'id', sql: (v) => `EXISTS (SELECT 1 FROM finance.payment_allocations a WHERE a.payment_id = p.payment_id AND a.receivable_id = ANY(${v}))` },
    },
  },
  'warehouse-receipts': {
    from: 'finance.warehouse_receipts w',
    key: ['w.receipt_id'],
    filters: {
      warehouse: organization('w.warehouse'),
      holder: organization('w.holder'),
      financier: organization('w.encumbrance_financier'),
      status: status('w.status', RECEIPT_STATUSES),
      goodsItem: { type: 'text', sql: anyOf('w.goods_item') },
      currency: currency('w.currency'),
      encumbered: { type: 'boolean', sql: flag('w.encumbrance_financing_id IS NOT NULL') },
      frozen: { type: 'boolean', sql: flag('w.frozen') },
    },
  },
  leases: {
    from: 'finance.leases l',
    key: ['l.lease_id'],
    filters: {
      lessor: organization('l.lessor'),
      lessee: organization('l.lessee'),
      financier: organization('l.encumbrance_financier'),
      status: status('l.status', LEASE_STATUSES),
      deviceId: { type: 'text', sql: anyOf('l.device_id') },
      assetItem: { type: 'text', sql: anyOf('l.asset_item') },
      currency: currency('l.currency'),
      encumbered: { type: 'boolean', sql: flag('l.encumbrance_financing_id IS NOT NULL') },
      frozen: { type: 'boolean', sql: flag('l.frozen') },
    },
  },
  'debtor-exposure': {
    from: `(SELECT debtor, currency FROM finance.receivables WHERE status = ANY(${LIVE}) UNION SELECT debtor, currency FROM finance.credit_lines WHERE status <> 'closed') k`,
    key: ['k.debtor', 'k.currency'],
    filters: { debtor: organization('k.debtor'), currency: currency('k.currency') },
  },
  'financier-exposure': {
    from: `(SELECT financier, currency FROM finance.financings WHERE status = ANY(${LOCKING}) OR status = 'recourse' UNION SELECT financier, currency FROM finance.credit_lines WHERE status <> 'closed') k`,
    key: ['k.financier', 'k.currency'],
    filters: { financier: organization('k.financier'), currency: currency('k.currency') },
  },
};

export type QueryParams = Readonly<Record<string, string | readonly string[] | undefined>>;

/** One page of one list, parsed: the conditions with their values, and where the page starts. */
export interface ListQuery {
  readonly kind: ListKind;
  readonly where: readonly string[];
  readonly values: readonly unknown[];
  /** Digest of the normalised filters: a page token is valid for the same filters only. */
  readonly fingerprint: string;
  readonly perPage: number;
  /** The key of the last row of the previous page, or null for the first page. */
  readonly after: readonly string[] | null;
}

const CONTROL = ['perPage', 'nextPageToken'];

/** Values of a parameter: repeated and/or comma-separated, each non-empty. */
function valuesOf(name: string, raw: string | readonly string[]): string[] {
  const out = (typeof raw === 'string' ? [raw] : raw).flatMap((v) => String(v).split(',')).map((v) => v.trim());
  if (out.length === 0 || out.some((v) => v === '')) throw FinanceQueryErrors.invalid(name, 'empty value');
  if (out.length > MAX_FILTER_VALUES) throw FinanceQueryErrors.invalid(name, `at most ${MAX_FILTER_VALUES} values`);
  return out;
}

function single(name: string, raw: string | readonly string[]): string {
  const values = typeof raw === 'string' ? [raw] : raw;
  if (values.length !== 1 || values[0] === '') throw FinanceQueryErrors.invalid(name, 'takes one value');
  return values[0];
}

function checkValue(name: string, type: ValueType, value: string): void {
  const fail = (what: string) => {
    throw FinanceQueryErrors.invalid(name, `${JSON.stringify(value.slice(0, 80))} is not ${what}`);
  };
  if (type === 'organization') {
    if (!IDENTIFIER_PATTERN.test(value)) fail('an organization id (1-64 of [a-z0-9._-])');
  } else if (type === 'id') {
    if (!FINANCE_ID.test(value)) fail('a finance id (8-64 of [A-Za-z0-9_-])');
  } else if (type === 'currency') {
    if (!/^[A-Z]{3}$/.test(value)) fail('an ISO 4217 alphabetic code');
  } else if (type === 'text') {
    if (value.length > 500 || /\p{Cc}/u.test(value)) fail('1-500 characters without control characters');
  } else if (type !== 'boolean' && !type.oneOf.includes(value)) fail(`one of ${type.oneOf.join(', ')}`);
}

/** The perPage parameter (1-500, default 50). */
export function perPageOf(raw: string | readonly string[] | number | undefined | null): number {
  if (raw === undefined || raw === null) return DEFAULT_PER_PAGE;
  const value = typeof raw === 'number' ? raw : /^[0-9]{1,4}$/.test(single('perPage', raw)) ? Number(single('perPage', raw)) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_PER_PAGE) throw FinanceQueryErrors.invalid('perPage', `must be an integer from 1 to ${MAX_PER_PAGE}`);
  return value;
}

/** Parses the query parameters of one list (filters, perPage, nextPageToken) into its SQL conditions and page position. */
export function parseListQuery(kind: ListKind, params: QueryParams): ListQuery {
  const spec = LIST_SPECS[kind];
  const known = Object.keys(spec.filters);
  const normalised: Array<[string, string[] | boolean]> = [];
  for (const name of Object.keys(params).sort()) {
    const raw = params[name];
    if (raw === undefined || CONTROL.includes(name)) continue;
    const filter = spec.filters[name];
    if (!filter || !Object.prototype.hasOwnProperty.call(spec.filters, name)) throw FinanceQueryErrors.unknown(name, known);
    if (filter.type === 'boolean') {
      const value = single(name, raw);
      if (value !== 'true' && value !== 'false') throw FinanceQueryErrors.invalid(name, 'must be true or false');
      normalised.push([name, value === 'true']);
      continue;
    }
    const values = [...new Set(valuesOf(name, raw))].sort();
    for (const v of values) checkValue(name, filter.type, v);
    normalised.push([name, values]);
  }
  const where: string[] = [];
  const values: unknown[] = [];
  for (const [name, value] of normalised) {
    values.push(value);
    where.push(spec.filters[name].sql(typeof value === 'boolean' ? `$${values.length}::boolean` : `$${values.length}::text[]`));
  }
  const perPage = perPageOf(params['perPage']);
  const fingerprint = createHash('sha256').update(JSON.stringify([kind, normalised])).digest('base64url').slice(0, 16);
  const token = params['nextPageToken'];
  let after: string[] | null = null;
  if (token !== undefined) {
    const decoded = decodePageToken(single('nextPageToken', token));
    if (!decoded || decoded.q !== fingerprint || decoded.k.length !== spec.key.length) throw FinanceQueryErrors.pageToken();
    after = decoded.k;
  }
  return { kind, where, values, fingerprint, perPage, after };
}

/** The token that continues `query` after the row whose key is `lastKey`. */
export function encodePageToken(fingerprint: string, lastKey: readonly string[]): string {
  return Buffer.from(JSON.stringify({ q: fingerprint, k: lastKey })).toString('base64url');
}

export function decodePageToken(token: string): { q: string; k: string[] } | null {
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(token)) return null;
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { q?: unknown; k?: unknown };
    if (typeof value.q !== 'string' || !Array.isArray(value.k) || value.k.length === 0 || !value.k.every((x) => typeof x === 'string')) return null;
    return { q: value.q, k: value.k as string[] };
  } catch {
    return null;
  }
}

/** The SQL of one page: `columns` of the rows after the token's key, in key order, one more than perPage (to know whether a next page exists). */
export function listPageSql(query: ListQuery, columns: string): { text: string; values: unknown[] } {
  const spec = LIST_SPECS[query.kind];
  const values = [...query.values];
  const where = [...query.where];
  if (query.after !== null) {
    const placeholders = query.after.map((k) => {
      values.push(k);
      return `$${values.length}::text`;
    });
    where.push(spec.key.length === 1 ? `${spec.key[0]} > ${placeholders[0]}` : `(${spec.key.join(', ')}) > (${placeholders.join(', ')})`);
  }
  values.push(query.perPage + 1);
  // The key comparison and the order use the same collation, so pages neither skip nor repeat a row, and the primary key's index serves both.
  return { text: `SELECT ${columns} FROM ${spec.from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${spec.key.join(', ')} LIMIT $${values.length}`, values };
}

/** The rows of a page and the token of the next one (null on the last page). */
export function pageOf<T>(query: ListQuery, rows: readonly T[], keyOf: (row: T) => readonly string[]): { rows: T[]; nextPageToken: string | null } {
  const page = rows.slice(0, query.perPage);
  return { rows: page, nextPageToken: rows.length > query.perPage ? encodePageToken(query.fingerprint, keyOf(page[page.length - 1])) : null };
}

/** An organization id of a path (positions): checked as the filters are. */
export function organizationOf(name: string, value: string): string {
  checkValue(name, 'organization', value);
  return value;
}

/** Whether `value` may be a finance id at all (one that cannot be is simply not found). */
export const isFinanceId = (value: string): boolean => FINANCE_ID.test(value);
