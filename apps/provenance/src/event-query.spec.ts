import { describe, expect, it } from 'vitest';
import { encodePageToken, eventPageSql, likePrefix, parseEventQuery } from './event-query';

const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('EPCIS query parameters', () => {
  it('matches a URN and a Digital Link of one key the same way (one stored form, one fingerprint)', () => {
    const urn = parseEventQuery({ MATCH_epc: 'urn:epc:id:sgtin:0614141.107346.2017' });
    const dl = parseEventQuery({ MATCH_epc: 'https://id.gs1.org/01/10614141073464/21/2017' });
    expect(urn.values).toEqual(dl.values);
    expect(urn.fingerprint).toBe(dl.fingerprint);
    expect(JSON.stringify(urn.values)).toContain('https://id.gs1.org/01/10614141073464/21/2017');
  });

  it('reads pipe-separated and repeated values alike, and CBV terms as bare words or URIs', () => {
    const piped = parseEventQuery({ EQ_bizStep: 'shipping|receiving' });
    const repeated = parseEventQuery({ EQ_bizStep: ['shipping', 'urn:epcglobal:cbv:bizstep:receiving'] });
    expect(piped.values).toEqual(repeated.values);
    expect(piped.values[0]).toEqual(['shipping', 'receiving']);
  });

  it('turns an EPC pattern and a trailing * into an escaped prefix match', () => {
    const q = parseEventQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.107346.*' });
    expect(q.values.some((v) => typeof v === 'string' && v.startsWith('https://id.gs1.org/01/10614141073464/21/'))).toBe(true);
    expect(likePrefix('a%b_c\\')).toBe('a\\%b\\_c\\\\%');
  });

  it('keeps sensor conditions on one and the same report and compares exact decimals', () => {
    const q = parseEventQuery({ GT_value_CEL: '8.25', EQ_type: 'Temperature' });
    const sql = eventPageSql(q).text;
    expect(sql.match(/event_sensor_reports/g)?.length).toBe(1);
    expect(q.values).toContain('8.25');
    expect(q.values).toContain('CEL');
  });

  it.each([
    [{ EQ_nonsense: 'x' }, 'PROVENANCE.INVALID_QUERY'],
    [{ GE_eventTime: '2026-12-01' }, 'PROVENANCE.INVALID_QUERY'],
    [{ GE_eventTime: '2026-12-01T08:00:00' }, 'PROVENANCE.INVALID_QUERY'],
    [{ GT_value_CEL: 'warm' }, 'PROVENANCE.INVALID_QUERY'],
    [{ perPage: '0' }, 'PROVENANCE.INVALID_QUERY'],
    [{ perPage: '1001' }, 'PROVENANCE.INVALID_QUERY'],
    [{ EQ_action: 'MOVE' }, 'PROVENANCE.INVALID_QUERY'],
    [{ EQ_bizStep: 'shipping|' }, 'PROVENANCE.INVALID_QUERY'],
    [{ nextPageToken: 'garbage' }, 'PROVENANCE.INVALID_PAGE_TOKEN'],
  ])('refuses %j', (params, code) => {
    expect(codeOf(() => parseEventQuery(params))).toBe(code);
  });

  it('accepts a time whose + arrived as a space, and binds a page token to its query', () => {
    expect(codeOf(() => parseEventQuery({ GE_eventTime: '2026-12-01T08:00:00.000 08:00' }))).toBe('no error');
    const q = parseEventQuery({ EQ_bizStep: 'shipping', perPage: '10' });
    const token = encodePageToken(q.fingerprint, 4096);
    expect(parseEventQuery({ EQ_bizStep: 'shipping', perPage: '10', nextPageToken: token }).afterSeq).toBe(4096);
    // The same token with another query is refused, not silently applied.
    expect(codeOf(() => parseEventQuery({ EQ_bizStep: 'receiving', nextPageToken: token }))).toBe('PROVENANCE.INVALID_PAGE_TOKEN');
    // perPage does not change which events a query selects, so the token survives another page size.
    expect(parseEventQuery({ EQ_bizStep: 'shipping', perPage: '50', nextPageToken: token }).afterSeq).toBe(4096);
  });
});
