import { describe, expect, it } from 'vitest';
import { canonicalBytes, type Envelope, generateKeyPair, keyId, signTransaction, toHex, verify, type KeyPair, type Transaction } from '@alliance/protocol';
import { agentKeyContracts } from './agent-keys';
import { CONFIG_KEY, genesisContract } from './config';
import { executeBlock } from './executor';
import { gs1CheckDigitOk } from './gs1';
import { checkMasterDataElement, masterDataContracts, masterDataKeyOf, type MasterDataRecord, type MasterDataType } from './master-data';
import { ContractRegistry } from './registry';
import { roleContracts } from './roles';
import type { ChainConfig, JsonValue, VersionedValue } from './types';

const chainId = 'masterdata-test';
const org1 = generateKeyPair('ed25519');
const org2 = generateKeyPair('ed25519');
const regulator = generateKeyPair('ed25519');
const keyOf = (k: KeyPair) => ({ keyId: keyId('ed25519', k.publicKey), algorithm: 'ed25519', publicKey: toHex(k.publicKey) });
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: [org1, org2].map((k, i) => ({ organizationId: `org${i + 1}`, role: 'manufacturer', nodeKey: { algorithm: 'ed25519' as const, publicKey: toHex(generateKeyPair('ed25519').publicKey) }, keys: [keyOf(k)] })),
  observers: [{ organizationId: 'regulator', role: 'regulator', keys: [keyOf(regulator)] }],
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 100, maxBytes: 1_048_576, batchTimeoutMs: 200 },
  timestampWindowMs: 60_000,
};
const registry = new ContractRegistry([genesisContract, ...agentKeyContracts, ...roleContracts, ...masterDataContracts]);
const time = '2026-12-02T08:00:00.000Z';
const blockTime = (n: number) => `2026-12-02T08:00:${String(n).padStart(2, '0')}.000Z`;
let nonce = 0;
const keys: Record<string, KeyPair> = { org1, org2, regulator };
const signed = (org: string, key: KeyPair, type: string, payload: Record<string, unknown>): Envelope =>
  signTransaction({ chainId, type, creator: { organizationId: org, keyId: keyId('ed25519', key.publicKey) }, nonce: `m${nonce++}`, timestamp: time, payload } as Transaction, { algorithm: 'ed25519', privateKey: key.privateKey });

const GTIN = 'https://id.gs1.org/01/09506000134352';
const LOT = 'https://id.gs1.org/01/04012345123456/10/998877';
const GLN = 'https://id.gs1.org/414/0614141000005';
const SGLN = 'https://id.gs1.org/414/0614141000012/254/Dock-4';
const PARTY = 'https://id.gs1.org/417/0614141000012';

class Chain {
  readonly state = new Map<string, VersionedValue>([[CONFIG_KEY, { value: config as unknown as JsonValue, version: 1 }]]);
  block = 0;
  one(envelope: Envelope): { code: string; detail: string | null; transactionId: string } {
    const blockNumber = ++this.block;
    const out = executeBlock(
      { chainId, blockNumber, blockTimestamp: blockTime(blockNumber), config, state: { get: (k) => this.state.get(k) }, isCommitted: () => false, verifier: verify, registry },
      [canonicalBytes(envelope as unknown as JsonValue)],
    );
    for (const [k, v] of out.writes) this.state.set(k, v);
    const t = out.transactions[0];
    return { code: t.result.code, detail: t.detail ?? null, transactionId: t.result.transactionId };
  }
  record(type: MasterDataType, id: string): MasterDataRecord | undefined {
    return this.state.get(masterDataKeyOf(type, id))?.value as unknown as MasterDataRecord | undefined;
  }
}

const define = (org: string, ...elements: Array<Record<string, unknown>>) => signed(org, keys[org], 'provenance.masterdata.define', { elements });
const retire = (org: string, ...elements: Array<Record<string, unknown>>) => signed(org, keys[org], 'provenance.masterdata.retire', { elements });
const product = (attributes: Record<string, unknown> = { name: 'Aspirin 500 mg' }, id = GTIN) => ({ type: 'product', id, attributes });

describe('gs1CheckDigitOk', () => {
  it('checks the last digit of GTINs, GLNs and SSCCs', () => {
    for (const good of ['09506000134352', '0614141000005', '0614141000012', '4012345123456', '96385074', '036000291452', '106141412345678908']) expect(gs1CheckDigitOk(good), good).toBe(true);
    for (const bad of ['09506000134353', '0614141000006', '96385075', '036000291450']) expect(gs1CheckDigitOk(bad), bad).toBe(false);
  });
});

describe('provenance.masterdata.define', () => {
  it('creates owned records of each type in one transaction, version 1, at the block', () => {
    const chain = new Chain();
    const r = chain.one(
      define(
        'org1',
        product({ name: 'Aspirin 500 mg', tradeItemCountryOfOrigin: 'DE', 'https://example.com/voc/colour': 'white' }),
        { type: 'product', id: LOT, attributes: { itemExpirationDate: '2027-06-30' } },
        { type: 'location', id: GLN, attributes: { name: 'Plant 1', streetAddressOne: 'Hauptstr. 1', city: 'Köln', postalCode: '50667', countryCode: 'DE', latitude: '50.937531', longitude: '-6.960279' }, children: [SGLN] },
        { type: 'location', id: SGLN, attributes: { name: 'Dock 4' } },
        { type: 'party', id: PARTY, attributes: { name: 'Example Pharma GmbH', countryCode: 'DE' } },
      ),
    );
    expect(r.code, r.detail ?? '').toBe('VALID');
    expect(chain.record('product', GTIN)).toEqual({
      type: 'product',
      id: GTIN,
      vocabularyType: 'urn:epcglobal:epcis:vtype:EPCClass',
      organizationId: 'org1',
      attributes: { 'https://example.com/voc/colour': 'white', name: 'Aspirin 500 mg', tradeItemCountryOfOrigin: 'DE' },
      children: [],
      status: 'active',
      version: 1,
      definedAtBlock: 1,
      updatedAtBlock: 1,
      updatedAt: blockTime(1),
      transactionId: r.transactionId,
      retiredAtBlock: null,
    } satisfies MasterDataRecord);
    expect(Object.keys(chain.record('product', GTIN)!.attributes)).toEqual(['https://example.com/voc/colour', 'name', 'tradeItemCountryOfOrigin']);
    expect(chain.record('location', GLN)).toMatchObject({ vocabularyType: 'urn:epcglobal:epcis:vtype:BusinessLocation', children: [SGLN], attributes: { latitude: '50.937531', longitude: '-6.960279' } });
    expect(chain.record('party', PARTY)).toMatchObject({ vocabularyType: 'urn:epcglobal:epcis:vtype:Party', organizationId: 'org1' });
    expect(chain.record('product', LOT)?.attributes).toEqual({ itemExpirationDate: '2027-06-30' });
  });

  it('replaces a record of its owner with a new version; the same content again is no new version', () => {
    const chain = new Chain();
    expect(chain.one(define('org1', product())).code).toBe('VALID');
    const changed = chain.one(define('org1', product({ name: 'Aspirin 500 mg, 20 tablets' })));
    expect(changed.code).toBe('VALID');
    expect(chain.record('product', GTIN)).toMatchObject({ version: 2, definedAtBlock: 1, updatedAtBlock: 2, updatedAt: blockTime(2), transactionId: changed.transactionId, attributes: { name: 'Aspirin 500 mg, 20 tablets' } });
    expect(chain.one(define('org1', product({ name: 'Aspirin 500 mg, 20 tablets' }))).code).toBe('VALID');
    expect(chain.record('product', GTIN)).toMatchObject({ version: 2, updatedAtBlock: 2 });
  });

  it('refuses another organization’s change, and the whole batch with it', () => {
    const chain = new Chain();
    chain.one(define('org1', product()));
    const r = chain.one(define('org2', { type: 'party', id: PARTY }, product({ name: 'Not mine' })));
    expect(r).toMatchObject({ code: 'PROVENANCE.MASTERDATA_NOT_OWNER', detail: `product ${GTIN} is master data of org1; only it changes it` });
    expect(chain.record('product', GTIN)).toMatchObject({ version: 1, organizationId: 'org1', attributes: { name: 'Aspirin 500 mg' } });
    expect(chain.record('party', PARTY)).toBeUndefined();
  });

  it('takes only the canonical Digital Link of the type, with a valid check digit', () => {
    const chain = new Chain();
    const refused = (type: string, id: unknown) => chain.one(define('org1', { type, id }));
    expect(refused('product', 'https://id.gs1.org/01/09506000134353')).toMatchObject({ code: 'PROVENANCE.INVALID_IDENTIFIER', detail: 'payload.elements[0].id https://id.gs1.org/01/09506000134353: the GS1 check digit of 09506000134353 is wrong' });
    expect(refused('location', 'https://id.gs1.org/414/0614141000006').code).toBe('PROVENANCE.INVALID_IDENTIFIER');
    expect(refused('party', 'https://id.gs1.org/417/0614141000013').code).toBe('PROVENANCE.INVALID_IDENTIFIER');
    for (const [type, id] of [
      ['product', 'urn:epc:idpat:sgtin:9506000.013435.*'], // a URN: the service normalises it first
      ['product', 'https://example.com/01/09506000134352'],
      ['product', `${GTIN}/21/123`], // an instance, not a class
      ['product', GLN],
      ['location', PARTY],
      ['party', GLN], // the service writes a party's GLN as /417/
      ['location', `${GLN}/254/${'x'.repeat(21)}`],
      ['product', `${GTIN}/10/a%2fb`],
      ['product', 9506000134352],
    ] as const)
      expect(refused(type, id).code, String(id)).toBe('PROVENANCE.INVALID_IDENTIFIER');
    expect(chain.state.size).toBe(1);
  });

  it('checks attributes: names in one form, strings, countries, exact decimal degrees, dates', () => {
    const chain = new Chain();
    const detail = (type: string, attributes: Record<string, unknown>, id = type === 'product' ? GTIN : GLN) => {
      const r = chain.one(define('org1', { type, id, attributes }));
      expect(r.code).toBe('PROVENANCE.INVALID_MASTERDATA');
      return r.detail;
    };
    expect(detail('location', { latitude: 50 })).toMatch(/attributes\.latitude must be a string .*exact decimal strings/);
    expect(detail('location', { latitude: '90.5' })).toMatch(/from -90 to 90/);
    expect(detail('location', { longitude: '1e2' })).toMatch(/from -180 to 180/);
    expect(detail('location', { countryCode: 'de' })).toMatch(/ISO 3166-1 alpha-2/);
    expect(detail('product', { itemExpirationDate: '2027-13-01' })).toMatch(/YYYY-MM-DD/);
    expect(detail('product', { 'urn:epcglobal:cbv:mda:name': 'x' })).toMatch(/^payload\.elements\[0\]\.attribute urn:epcglobal:cbv:mda:name is neither/);
    expect(detail('product', { 'urn:epcglobal:cbv:mda#descriptionShort': 'x' })).toMatch(/is neither/);
    expect(detail('product', { streetAddressOne: 'x' })).toMatch(/is neither a product attribute/);
    expect(detail('product', { name: 'a\nb' })).toMatch(/without control characters/);
    expect(detail('product', { name: '' })).toMatch(/1-1000 characters/);
    expect(detail('party', { latitude: '1' }, PARTY)).toMatch(/is neither a party attribute/);
    for (const [latitude, longitude] of [['90', '-180.000'], ['-89.999999999999999', '0'], ['0.0', '180']])
      expect(chain.one(define('org1', { type: 'location', id: GLN, attributes: { latitude, longitude } })).code, `${latitude} ${longitude}`).toBe('VALID');
    expect(chain.one(define('org1', product({ 'urn:epcglobal:cbv:mda:vesselName': 'BING Ship' }))).code).toBe('VALID');
  });

  it('checks children: locations only, valid ids, not itself, each once', () => {
    const chain = new Chain();
    const r = (element: Record<string, unknown>) => chain.one(define('org1', element));
    expect(r({ type: 'location', id: GLN, children: [GLN] }).detail).toMatch(/not its own child/);
    expect(r({ type: 'location', id: GLN, children: [SGLN, SGLN] }).detail).toMatch(/appears twice/);
    expect(r({ type: 'location', id: GLN, children: ['https://id.gs1.org/414/0614141000013'] }).code).toBe('PROVENANCE.INVALID_IDENTIFIER');
    expect(r({ type: 'product', id: GTIN, children: [SGLN] }).detail).toMatch(/only a location has children/);
    expect(r({ type: 'location', id: GLN, children: 'x' }).code).toBe('PROVENANCE.INVALID_MASTERDATA');
  });

  it('refuses malformed payloads with PROVENANCE.INVALID_MASTERDATA', () => {
    const chain = new Chain();
    const code = (payload: Record<string, unknown>) => chain.one(signed('org1', org1, 'provenance.masterdata.define', payload));
    expect(code({ elements: [] }).code).toBe('PROVENANCE.INVALID_MASTERDATA');
    expect(code({ elements: Array.from({ length: 101 }, () => product()) }).detail).toBe('payload.elements must hold 1-100 elements');
    expect(code({ elements: [product()], extra: 1 }).detail).toBe('unexpected payload field(s): extra; expected only elements');
    expect(code({ elements: [{ ...product(), version: 3 }] }).detail).toBe('payload.elements[0]: unexpected payload field(s): version');
    expect(code({ elements: [{ type: 'asset', id: GTIN }] }).detail).toBe('payload.elements[0].type must be one of product, location, party');
    expect(code({ elements: [product(), product({ name: 'twice' })] }).detail).toBe(`payload.elements[1] (product ${GTIN}) appears twice`);
    expect(code({ elements: [{ type: 'product', id: GTIN, attributes: ['name'] }] }).code).toBe('PROVENANCE.INVALID_MASTERDATA');
    expect(chain.state.size).toBe(1);
  });

  it('is for an admin key or an agent holding provenance.masterdata.manage; observers define nothing', () => {
    const chain = new Chain();
    const erp = generateKeyPair('ed25519');
    const clerk = generateKeyPair('ed25519');
    chain.one(signed('org1', org1, 'identity.role.define', { roleId: 'catalogue', permissions: ['provenance.masterdata.manage'] }));
    chain.one(signed('org1', org1, 'identity.agent.register', { agentId: 'erp', name: 'ERP', roles: ['catalogue'], keys: [{ algorithm: 'ed25519', publicKey: toHex(erp.publicKey) }] }));
    chain.one(signed('org1', org1, 'identity.agent.register', { agentId: 'clerk', name: 'Clerk', roles: [], keys: [{ algorithm: 'ed25519', publicKey: toHex(clerk.publicKey) }] }));
    expect(chain.one(signed('org1', erp, 'provenance.masterdata.define', { elements: [product()] })).code).toBe('VALID');
    expect(chain.record('product', GTIN)?.organizationId).toBe('org1');
    expect(chain.one(signed('org1', clerk, 'provenance.masterdata.define', { elements: [{ type: 'party', id: PARTY }] })).code).toBe('IDENTITY.NOT_ALLOWED');
    expect(chain.one(signed('org1', clerk, 'provenance.masterdata.retire', { elements: [{ type: 'product', id: GTIN }] })).code).toBe('IDENTITY.NOT_ALLOWED');
    expect(chain.one(define('regulator', { type: 'party', id: PARTY })).code).toBe('LEDGER.OBSERVER_READ_ONLY');
    expect(chain.record('party', PARTY)).toBeUndefined();
    expect(chain.one(signed('org1', erp, 'provenance.masterdata.retire', { elements: [{ type: 'product', id: GTIN }] })).code).toBe('VALID');
  });
});

describe('provenance.masterdata.retire', () => {
  it('retires by the owner only, keeps the record, and a new definition makes it active again', () => {
    const chain = new Chain();
    chain.one(define('org1', product()));
    expect(chain.one(retire('org2', { type: 'product', id: GTIN })).code).toBe('PROVENANCE.MASTERDATA_NOT_OWNER');
    const r = chain.one(retire('org1', { type: 'product', id: GTIN }));
    expect(r.code).toBe('VALID');
    expect(chain.record('product', GTIN)).toMatchObject({ status: 'retired', version: 2, retiredAtBlock: 3, updatedAtBlock: 3, transactionId: r.transactionId, attributes: { name: 'Aspirin 500 mg' } });
    expect(chain.one(retire('org1', { type: 'product', id: GTIN }))).toMatchObject({ code: 'PROVENANCE.MASTERDATA_RETIRED', detail: `product ${GTIN} was retired at block 3` });
    expect(chain.one(define('org2', product())).code).toBe('PROVENANCE.MASTERDATA_NOT_OWNER');
    expect(chain.one(define('org1', product())).code).toBe('VALID');
    expect(chain.record('product', GTIN)).toMatchObject({ status: 'active', version: 3, retiredAtBlock: null, definedAtBlock: 1 });
  });

  it('refuses unknown elements and fields a retirement does not take', () => {
    const chain = new Chain();
    expect(chain.one(retire('org1', { type: 'location', id: GLN }))).toMatchObject({ code: 'PROVENANCE.UNKNOWN_MASTERDATA', detail: `location ${GLN} is not defined` });
    expect(chain.one(retire('org1', { type: 'location', id: GLN, attributes: {} })).code).toBe('PROVENANCE.INVALID_MASTERDATA');
  });
});

describe('checkMasterDataElement', () => {
  it('gives the service the contract’s own verdict on one element', () => {
    expect(checkMasterDataElement({ type: 'product', id: GTIN, attributes: { name: 'x' }, children: [] })).toBeUndefined();
    expect(checkMasterDataElement({ type: 'product', id: 'https://id.gs1.org/01/09506000134353' })).toMatchObject({ ok: false, code: 'PROVENANCE.INVALID_IDENTIFIER' });
    expect(checkMasterDataElement({ type: 'location', id: GLN }, false)).toBeUndefined();
  });
});
