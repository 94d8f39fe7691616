import { describe, expect, it } from 'vitest';
import { parseGs1Key } from './identifiers';

const ok = (value: string) => {
  const r = parseGs1Key(value);
  if (!r.ok) throw new Error(r.detail);
  return r.key;
};
const refusal = (value: unknown) => {
  const r = parseGs1Key(value);
  expect(r.ok).toBe(false);
  return r.ok ? '' : r.detail;
};

describe('GS1 keys: one stored form, check digits verified', () => {
  it('normalises an EPC URN and its Digital Link to the same canonical Digital Link', () => {
    expect(ok('urn:epc:id:sgtin:0614141.107346.2017')).toEqual({ kind: 'sgtin', id: 'https://id.gs1.org/01/10614141073464/21/2017', elements: { '01': '10614141073464', '21': '2017' } });
    expect(ok('https://example.com/01/10614141073464/21/2017').id).toBe(ok('urn:epc:id:sgtin:0614141.107346.2017').id);
    expect(ok('urn:epc:class:lgtin:4012345.012345.998877')).toMatchObject({ kind: 'lgtin', elements: { '10': '998877' } });
    expect(ok('urn:epc:id:sgln:0614141.00777.0')).toMatchObject({ kind: 'gln', id: 'https://id.gs1.org/414/0614141007776' });
    expect(ok('urn:epc:id:sscc:0614141.1234567890')).toMatchObject({ kind: 'sscc', id: 'https://id.gs1.org/00/106141412345678908' });
    expect(ok('urn:epc:id:giai:0614141.12345').kind).toBe('giai');
    expect(ok('https://id.gs1.org/414/6901234000016').kind).toBe('gln');
    expect(ok('https://id.gs1.org/01/09506000134352').kind).toBe('gtin');
  });

  it('refuses a wrong check digit, a wrong length and what is not a GS1 key, saying why', () => {
    expect(refusal('https://id.gs1.org/01/09506000134353')).toContain('GTIN check digit must be 2');
    expect(refusal('https://id.gs1.org/414/6901234000017')).toContain('GLN check digit must be 6');
    expect(refusal('https://id.gs1.org/00/106141412345678907')).toContain('SSCC check digit must be 8');
    expect(refusal('https://id.gs1.org/01/095060001343521')).toContain('is not a GS1 EPC URN or GS1 Digital Link');
    // A GTIN-13 is a GTIN-14 with a leading zero: accepted, stored as 14 digits.
    expect(ok('https://id.gs1.org/01/9506000134352').id).toBe('https://id.gs1.org/01/09506000134352');
    expect(refusal('urn:example:thing')).toContain('is not a GS1 EPC URN or GS1 Digital Link');
    expect(refusal(42)).toContain('at most 512 characters');
    expect(refusal('')).toContain('at most 512 characters');
  });
});
