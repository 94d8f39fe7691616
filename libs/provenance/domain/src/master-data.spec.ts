import { describe, expect, it } from 'vitest';
import { canonicalId } from './event-index';
import { masterDataAttributeName, masterDataElementOf, masterDataIdOf } from './master-data';

const GTIN = 'https://id.gs1.org/01/09506000134352';
const GLN = 'https://id.gs1.org/414/0614141000005';
const SGLN = 'https://id.gs1.org/414/0614141000012/254/Dock-4';
const PARTY = 'https://id.gs1.org/417/0614141000012';

const idOf = (type: 'product' | 'location' | 'party', value: unknown) => {
  const r = masterDataIdOf(type, value);
  if (!r.ok) throw new Error(`${r.code}: ${r.detail}`);
  return r.value;
};

describe('masterDataIdOf', () => {
  it('gives every spelling of a key the one canonical Digital Link, the form events are indexed in', () => {
    for (const v of ['urn:epc:idpat:sgtin:9506000.013435.*', GTIN, 'https://example.com/01/09506000134352?linkType=all', 'https://brand.example/gtin/09506000134352', '09506000134352', '9506000134352'])
      expect(idOf('product', v), v).toBe(GTIN);
    expect(idOf('product', 'urn:epc:class:lgtin:4012345.012345.998877')).toBe('https://id.gs1.org/01/04012345123456/10/998877');
    expect(idOf('product', 'https://id.gs1.org/01/04012345123456/10/998877')).toBe('https://id.gs1.org/01/04012345123456/10/998877');
    expect(idOf('product', '96385074')).toBe('https://id.gs1.org/01/00000096385074');
    for (const v of ['urn:epc:id:sgln:0614141.00000.0', GLN, '0614141000005']) expect(idOf('location', v), v).toBe(GLN);
    expect(idOf('location', 'urn:epc:id:sgln:0614141.00001.Dock-4')).toBe(SGLN);
    expect(idOf('location', 'urn:epc:id:sgln:0614141.00001.Dock-4')).toBe(canonicalId('urn:epc:id:sgln:0614141.00001.Dock-4'));
    for (const v of ['urn:epc:id:pgln:0614141.00001', PARTY, '0614141000012', 'urn:epc:id:sgln:0614141.00001.0', 'https://id.gs1.org/414/0614141000012']) expect(idOf('party', v), v).toBe(PARTY);
  });

  it('refuses wrong check digits, wrong kinds and malformed keys with PROVENANCE.INVALID_IDENTIFIER', () => {
    const refused = (type: 'product' | 'location' | 'party', value: unknown) => {
      const r = masterDataIdOf(type, value);
      expect(r.ok, String(value)).toBe(false);
      return r.ok ? '' : `${r.code}: ${r.detail}`;
    };
    expect(refused('product', 'https://id.gs1.org/01/09506000134353')).toBe('PROVENANCE.INVALID_IDENTIFIER: https://id.gs1.org/01/09506000134353: the GTIN check digit must be 2');
    expect(refused('product', '09506000134353')).toMatch(/^PROVENANCE\.INVALID_IDENTIFIER: .*check digit must be 2/);
    expect(refused('location', 'https://id.gs1.org/414/0614141000006')).toMatch(/GLN check digit must be 5/);
    expect(refused('party', 'https://id.gs1.org/417/0614141000013')).toMatch(/party GLN check digit must be 2/);
    expect(refused('product', 'urn:epc:id:sgtin:9506000.013435.123')).toMatch(/is a SGTIN, not a product id \(GTIN or LGTIN\)/);
    expect(refused('location', PARTY)).toMatch(/is a PARTY, not a location id/);
    expect(refused('party', SGLN)).toMatch(/is a SGLN, not a party id/);
    expect(refused('product', '123')).toMatch(/a bare GTIN has 8, 12, 13 or 14 digits/);
    expect(refused('location', '12345')).toMatch(/a bare GLN has 13 digits/);
    expect(refused('product', 'not a key')).toMatch(/^PROVENANCE\.INVALID_IDENTIFIER/);
    expect(refused('product', 42)).toMatch(/^PROVENANCE\.INVALID_IDENTIFIER/);
    expect(refused('product', 'https://id.gs1.org/01/04012345123456/10/ABCDEFGHIJKLMNOPQRSTU')).toMatch(/^PROVENANCE\.INVALID_IDENTIFIER/);
  });
});

describe('masterDataAttributeName', () => {
  it('writes CBV attributes the type knows as bare words, other CBV ones as URNs, gs1: terms in full', () => {
    for (const n of ['name', 'cbvmda:name', 'urn:epcglobal:cbv:mda:name', 'urn:epcglobal:cbv:mda#name', ' name ']) expect(masterDataAttributeName('location', n), n).toBe('name');
    expect(masterDataAttributeName('location', 'urn:epcglobal:cbv:mda#latitude')).toBe('latitude');
    expect(masterDataAttributeName('product', 'cbvmda:latitude')).toBe('urn:epcglobal:cbv:mda:latitude');
    expect(masterDataAttributeName('product', 'urn:epcglobal:cbv:mda#vesselName')).toBe('urn:epcglobal:cbv:mda:vesselName');
    expect(masterDataAttributeName('product', 'gs1:brandName')).toBe('https://gs1.org/voc/brandName');
    expect(masterDataAttributeName('product', 'https://example.com/voc/colour')).toBe('https://example.com/voc/colour');
  });
});

describe('masterDataElementOf', () => {
  it('takes attributes as an object or as an EPCIS attribute list, and children in any spelling', () => {
    const fromList = masterDataElementOf('location', 'urn:epc:id:sgln:0614141.00000.0', {
      attributes: [
        { id: 'urn:epcglobal:cbv:mda#name', attribute: 'Plant 1' },
        { id: 'cbvmda:countryCode', attribute: 'DE' },
        { id: 'urn:epcglobal:cbv:mda:latitude', attribute: '50.937531' },
      ],
      children: ['urn:epc:id:sgln:0614141.00001.Dock-4'],
    });
    expect(fromList).toEqual({ ok: true, value: { type: 'location', id: GLN, attributes: { name: 'Plant 1', countryCode: 'DE', latitude: '50.937531' }, children: [SGLN] } });
    const fromObject = masterDataElementOf('location', GLN, { attributes: { name: 'Plant 1', 'cbvmda:countryCode': 'DE', latitude: '50.937531' }, children: [SGLN] });
    expect(fromObject).toEqual(fromList);
    expect(masterDataElementOf('product', GTIN, {})).toEqual({ ok: true, value: { type: 'product', id: GTIN, attributes: {}, children: [] } });
  });

  it('refuses what the contract would refuse, before anything is signed', () => {
    const code = (type: 'product' | 'location' | 'party', id: unknown, body: Record<string, unknown>) => {
      const r = masterDataElementOf(type, id, body);
      return r.ok ? 'ok' : `${r.code}: ${r.detail}`;
    };
    expect(code('location', GLN, { attributes: { latitude: '91' } })).toMatch(/^PROVENANCE\.INVALID_MASTERDATA: element\.attributes\.latitude must be an exact decimal string from -90 to 90/);
    expect(code('location', GLN, { attributes: { name: 'a', 'cbvmda:name': 'b' } })).toBe('PROVENANCE.INVALID_MASTERDATA: attribute name is given twice (cbvmda:name)');
    expect(code('location', GLN, { attributes: 'Plant' })).toMatch(/^PROVENANCE\.INVALID_MASTERDATA: attributes must be an object/);
    expect(code('location', GLN, { children: ['https://id.gs1.org/414/0614141000006'] })).toMatch(/^PROVENANCE\.INVALID_IDENTIFIER: children: .*check digit must be 5/);
    expect(code('location', GLN, { children: 'x' })).toMatch(/^PROVENANCE\.INVALID_MASTERDATA: children must be an array/);
    expect(code('product', GTIN, { children: [GLN] })).toMatch(/only a location has children/);
    expect(code('product', GTIN, { attributes: { weight: '5' } })).toMatch(/attribute weight is neither a product attribute/);
    expect(code('product', 'https://id.gs1.org/01/09506000134351', {})).toMatch(/^PROVENANCE\.INVALID_IDENTIFIER/);
  });
});
