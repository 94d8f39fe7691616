import { describe, expect, it } from 'vitest';
import { isAllianceError } from '@alliance/shared/util-errors';
import { paramsOfFilter } from './finance-graphql';
import { decodePageToken, encodePageToken, listPageSql, pageOf, parseListQuery, perPageOf } from './finance-query';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return isAllianceError(error) ? `${error.code} ${error.status} ${String(error.details['parameter'])}` : String(error);
  }
  return undefined;
};

describe('finance list queries', () => {
  it('turns filters into bound conditions in name order, values sorted and deduplicated', () => {
    const q = parseListQuery('receivables', { status: 'overdue,confirmed', holder: ['org5', 'org1', 'org5'], encumbered: 'true' });
    expect(q.where).toEqual(['(r.encumbrance_financing_id IS NOT NULL) = $1::boolean', 'r.holder = ANY($2::text[])', 'r.status = ANY($3::text[])']);
    expect(q.values).toEqual([true, ['org1', 'org5'], ['confirmed', 'overdue']]);
    expect(q.perPage).toBe(50);
    expect(q.after).toBeNull();
  });

  it('a first page asks for one row more than perPage, in key order', () => {
    const sql = listPageSql(parseListQuery('financings', { financier: 'org3', perPage: '2' }), 'f.record');
    expect(sql.text).toBe('SELECT f.record FROM finance.financings f WHERE f.financier = ANY($1::text[]) ORDER BY f.financing_id LIMIT $2');
    expect(sql.values).toEqual([['org3'], 3]);
  });

  it('a page token continues after the last key, for the same filters only', () => {
    const first = parseListQuery('receivables', { debtor: 'org2', perPage: '2' });
    const rows = [{ id: 'rcv-aaaaaaaa' }, { id: 'rcv-bbbbbbbb' }, { id: 'rcv-cccccccc' }];
    const page = pageOf(first, rows, (r) => [r.id]);
    expect(page.rows.map((r) => r.id)).toEqual(['rcv-aaaaaaaa', 'rcv-bbbbbbbb']);
    expect(page.nextPageToken).not.toBeNull();
    const token = page.nextPageToken as string;
    expect(decodePageToken(token)).toEqual({ q: first.fingerprint, k: ['rcv-bbbbbbbb'] });

    // The same filters in another spelling (order, repetition) share the token; perPage may change.
    const next = parseListQuery('receivables', { perPage: '10', debtor: ['org2', 'org2'], nextPageToken: token });
    expect(next.after).toEqual(['rcv-bbbbbbbb']);
    const sql = listPageSql(next, 'r.record');
    expect(sql.text).toBe('SELECT r.record FROM finance.receivables r WHERE r.debtor = ANY($1::text[]) AND r.receivable_id > $2::text ORDER BY r.receivable_id LIMIT $3');
    expect(sql.values).toEqual([['org2'], 'rcv-bbbbbbbb', 11]);

    // Other filters, another list, or a tampered token: refused.
    expect(codeOf(() => parseListQuery('receivables', { debtor: 'org3', nextPageToken: token }))).toBe('FINANCE.INVALID_PAGE_TOKEN 400 nextPageToken');
    expect(codeOf(() => parseListQuery('receivables', { nextPageToken: token }))).toBe('FINANCE.INVALID_PAGE_TOKEN 400 nextPageToken');
    expect(codeOf(() => parseListQuery('financings', { nextPageToken: encodePageToken(first.fingerprint, ['x']) }))).toBe('FINANCE.INVALID_PAGE_TOKEN 400 nextPageToken');
    expect(codeOf(() => parseListQuery('receivables', { debtor: 'org2', nextPageToken: `${token}!` }))).toBe('FINANCE.INVALID_PAGE_TOKEN 400 nextPageToken');
    expect(codeOf(() => parseListQuery('receivables', { debtor: 'org2', nextPageToken: Buffer.from('{"q":1}').toString('base64url') }))).toBe('FINANCE.INVALID_PAGE_TOKEN 400 nextPageToken');
  });

  it('the last page has no token', () => {
    const q = parseListQuery('leases', { perPage: '3' });
    expect(pageOf(q, [{ k: 'a' }, { k: 'b' }, { k: 'c' }], (r) => [r.k]).nextPageToken).toBeNull();
  });

  it('exposure pages are keyed by the pair (party, currency)', () => {
    const first = parseListQuery('debtor-exposure', { currency: 'EUR' });
    const token = encodePageToken(first.fingerprint, ['org2', 'EUR']);
    const sql = listPageSql(parseListQuery('debtor-exposure', { currency: 'EUR', nextPageToken: token }), 'k.debtor, k.currency');
    expect(sql.text).toMatch(/WHERE k\.currency = ANY\(\$1::text\[\]\) AND \(k\.debtor, k\.currency\) > \(\$2::text, \$3::text\) ORDER BY k\.debtor, k\.currency LIMIT \$4$/);
    expect(sql.values).toEqual([['EUR'], 'org2', 'EUR', 51]);
    // A one-part key does not continue a two-part list.
    expect(codeOf(() => parseListQuery('debtor-exposure', { currency: 'EUR', nextPageToken: encodePageToken(first.fingerprint, ['org2']) }))).toBe('FINANCE.INVALID_PAGE_TOKEN 400 nextPageToken');
  });

  it('refuses unknown and malformed filters as FINANCE.INVALID_QUERY naming the parameter', () => {
    expect(codeOf(() => parseListQuery('receivables', { holdr: 'org1' }))).toBe('FINANCE.INVALID_QUERY 400 holdr');
    expect(codeOf(() => parseListQuery('receivables', { constructor: 'x' }))).toBe('FINANCE.INVALID_QUERY 400 constructor');
    expect(codeOf(() => parseListQuery('receivables', { status: 'paid' }))).toBe('FINANCE.INVALID_QUERY 400 status');
    expect(codeOf(() => parseListQuery('receivables', { holder: 'Org 1' }))).toBe('FINANCE.INVALID_QUERY 400 holder');
    expect(codeOf(() => parseListQuery('receivables', { rootId: 'short' }))).toBe('FINANCE.INVALID_QUERY 400 rootId');
    expect(codeOf(() => parseListQuery('receivables', { currency: 'eur' }))).toBe('FINANCE.INVALID_QUERY 400 currency');
    expect(codeOf(() => parseListQuery('receivables', { holder: 'org1,' }))).toBe('FINANCE.INVALID_QUERY 400 holder');
    expect(codeOf(() => parseListQuery('receivables', { frozen: 'yes' }))).toBe('FINANCE.INVALID_QUERY 400 frozen');
    expect(codeOf(() => parseListQuery('receivables', { frozen: ['true', 'false'] }))).toBe('FINANCE.INVALID_QUERY 400 frozen');
    expect(codeOf(() => parseListQuery('financings', { kind: 'lease' }))).toBe('FINANCE.INVALID_QUERY 400 kind');
    expect(codeOf(() => parseListQuery('credit-lines', { holder: 'org1' }))).toBe('FINANCE.INVALID_QUERY 400 holder');
    expect(codeOf(() => parseListQuery('receivables', { holder: Array.from({ length: 101 }, (_, i) => `org${i}`) }))).toBe('FINANCE.INVALID_QUERY 400 holder');
    expect(codeOf(() => parseListQuery('warehouse-receipts', { goodsItem: 'a\u0000b' }))).toBe('FINANCE.INVALID_QUERY 400 goodsItem');
  });

  it('perPage is an integer from 1 to 500, default 50', () => {
    expect(perPageOf(undefined)).toBe(50);
    expect(perPageOf('1')).toBe(1);
    expect(perPageOf('500')).toBe(500);
    for (const bad of ['0', '501', '2.5', '1e2', '-1', '', ' 5', 'ten']) expect(codeOf(() => perPageOf(bad)), bad).toBe('FINANCE.INVALID_QUERY 400 perPage');
    expect(codeOf(() => perPageOf(['5', '6']))).toBe('FINANCE.INVALID_QUERY 400 perPage');
    expect(codeOf(() => perPageOf(0))).toBe('FINANCE.INVALID_QUERY 400 perPage');
  });

  it('a GraphQL filter becomes the same parameters, so it gets the same query and tokens as REST', () => {
    const graphql = parseListQuery('receivables', paramsOfFilter({ holder: ['org5', 'org1'], status: null, frozen: false }, 20, undefined));
    const rest = parseListQuery('receivables', { frozen: 'false', holder: 'org1,org5', perPage: '20' });
    expect(graphql).toEqual(rest);
    const token = encodePageToken(rest.fingerprint, ['rcv-00000001']);
    expect(parseListQuery('receivables', paramsOfFilter({ holder: ['org1', 'org5'], frozen: false }, null, token)).after).toEqual(['rcv-00000001']);
  });
});
