import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, member, post, ProvenanceTestChain, until } from '../test/harness';

const enc = encodeURIComponent;
const GTIN = 'https://id.gs1.org/01/09506000134352';
const GTIN_URN = 'urn:epc:idpat:sgtin:9506000.013435.*';
const GLN = 'https://id.gs1.org/414/0614141000005';
const SGLN = 'https://id.gs1.org/414/0614141000012/254/Dock-4';
const SGLN_URN = 'urn:epc:id:sgln:0614141.00001.Dock-4';
const PARTY2 = 'https://id.gs1.org/417/4000001000005';

describe('provenance service: master data on the ledger', () => {
  const chain = new ProvenanceTestChain('provenance-md', [member('org1'), member('org2', 'supplier')]);
  const api = () => chain.api;
  const get = async (path: string) => call(`${api()}${path}`, { token: await chain.auth() });
  const put = async (path: string, body: unknown) => call(`${api()}${path}`, { method: 'PUT', body: JSON.stringify(body), token: await chain.auth() });
  const del = async (path: string) => call(`${api()}${path}`, { method: 'DELETE', token: await chain.auth() });
  /** Submits straight to the ledger node and answers its verdict's code (VALID or the contract's refusal). */
  const onChain = async (org: number, type: string, payload: Record<string, unknown>) => {
    const r = await post(`${chain.ledger.url}/ledger/v1/transactions?wait=commit`, chain.signed(chain.members[org], type, payload));
    return r.body as { code: string; detail?: string; blockNumber?: number };
  };

  beforeAll(async () => {
    await chain.startAll(inject('databaseUrl'), 'provenance_md');
  }, 60_000);
  afterAll(() => chain.stop());

  it('defines a product by URN and reads it back by Digital Link, bare GTIN or another domain: one record', async () => {
    const defined = await put(`/masterdata/product/${enc(GTIN_URN)}`, { attributes: { 'cbvmda:name': 'Aspirin 500 mg', tradeItemCountryOfOrigin: 'DE', 'gs1:brandName': 'Exampirin' } });
    expect(defined.status, JSON.stringify(defined.body)).toBe(200);
    expect(defined.body).toMatchObject({
      type: 'product',
      id: GTIN,
      vocabularyType: 'urn:epcglobal:epcis:vtype:EPCClass',
      organizationId: 'org1',
      attributes: { name: 'Aspirin 500 mg', tradeItemCountryOfOrigin: 'DE', 'https://gs1.org/voc/brandName': 'Exampirin' },
      status: 'active',
      version: 1,
    });
    const blockNumber = defined.body['blockNumber'] as number;
    expect(defined.body['updatedAtBlock']).toBe(blockNumber);
    expect(typeof defined.body['transactionId']).toBe('string');
    for (const spelling of [GTIN, 'https://example.com/01/09506000134352?linkType=all', '09506000134352', GTIN_URN]) {
      const read = await get(`/masterdata/product/${enc(spelling)}`);
      expect(read.status, spelling).toBe(200);
      expect(read.body, spelling).toMatchObject({ id: GTIN, version: 1, updatedAtBlock: blockNumber, organizationId: 'org1' });
    }
    // The read model mirrors the chain's record as it stands, with the world-state version and block.
    const { rows } = await chain.provenance.runtime.pool.query<{ version: string; block_number: string }>('SELECT version, block_number FROM provenance.chain_state WHERE key = $1', [`provenance/masterdata/product/${GTIN}`]);
    expect(rows.map((r) => [Number(r.version), Number(r.block_number)])).toEqual([[1, blockNumber]]);
  });

  it('defines a location by Digital Link with a child by URN, and reads both back by URN', async () => {
    const child = await put(`/masterdata/location/${enc(SGLN)}`, { attributes: { name: 'Dock 4' } });
    expect(child.status, JSON.stringify(child.body)).toBe(200);
    const parent = await put(`/masterdata/location/${enc(GLN)}`, {
      attributes: [
        { id: 'urn:epcglobal:cbv:mda#name', attribute: 'Plant 1' },
        { id: 'urn:epcglobal:cbv:mda#countryCode', attribute: 'DE' },
        { id: 'urn:epcglobal:cbv:mda#latitude', attribute: '50.937531' },
        { id: 'urn:epcglobal:cbv:mda#longitude', attribute: '6.960279' },
      ],
      children: [SGLN_URN],
    });
    expect(parent.status, JSON.stringify(parent.body)).toBe(200);
    expect(parent.body).toMatchObject({ id: GLN, children: [SGLN], attributes: { name: 'Plant 1', countryCode: 'DE', latitude: '50.937531', longitude: '6.960279' } });
    expect((await get(`/masterdata/location/${enc('urn:epc:id:sgln:0614141.00000.0')}`)).body).toMatchObject({ id: GLN, children: [SGLN] });
    expect((await get(`/masterdata/location/${enc(SGLN_URN)}`)).body).toMatchObject({ id: SGLN, attributes: { name: 'Dock 4' } });
  });

  it('refuses a bad check digit with its code — in the service and, for a member signing its own transaction, on the chain', async () => {
    const bad = await put(`/masterdata/product/${enc('https://id.gs1.org/01/09506000134353')}`, { attributes: { name: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body['code']).toBe('PROVENANCE.INVALID_IDENTIFIER');
    expect(bad.body['detail']).toMatch(/check digit must be 2/);
    expect((await get(`/masterdata/location/${enc('https://id.gs1.org/414/0614141000006')}`)).body['code']).toBe('PROVENANCE.INVALID_IDENTIFIER');
    const direct = await onChain(0, 'provenance.masterdata.define', { elements: [{ type: 'product', id: 'https://id.gs1.org/01/09506000134353' }] });
    expect(direct.code).toBe('PROVENANCE.INVALID_IDENTIFIER');
    const urn = await onChain(0, 'provenance.masterdata.define', { elements: [{ type: 'product', id: GTIN_URN }] });
    expect(urn.code).toBe('PROVENANCE.INVALID_IDENTIFIER');
    const wrongKind = await put(`/masterdata/party/${enc(SGLN)}`, {});
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body['code']).toBe('PROVENANCE.INVALID_IDENTIFIER');
    const badAttribute = await put(`/masterdata/location/${enc(GLN)}`, { attributes: { latitude: 50.9 } });
    expect(badAttribute.status).toBe(400);
    expect(badAttribute.body['code']).toBe('PROVENANCE.INVALID_MASTERDATA');
    expect((await get(`/masterdata/product/${enc(GTIN)}`)).body['version']).toBe(1);
  });

  it('lets no other organization change or retire it, and org1 none of theirs', async () => {
    const takeover = await onChain(1, 'provenance.masterdata.define', { elements: [{ type: 'product', id: GTIN, attributes: { name: 'Counterfeit' } }] });
    expect(takeover.code).toBe('PROVENANCE.MASTERDATA_NOT_OWNER');
    expect((await onChain(1, 'provenance.masterdata.retire', { elements: [{ type: 'product', id: GTIN }] })).code).toBe('PROVENANCE.MASTERDATA_NOT_OWNER');
    expect((await get(`/masterdata/product/${enc(GTIN)}`)).body).toMatchObject({ organizationId: 'org1', version: 1, attributes: { name: 'Aspirin 500 mg' } });
    // org2 defines its own party; org1's service may read it but not change or retire it.
    const own = await onChain(1, 'provenance.masterdata.define', { elements: [{ type: 'party', id: PARTY2, attributes: { name: 'Supplier AG', countryCode: 'CH' } }] });
    expect(own.code, own.detail).toBe('VALID');
    // org1's read model follows the chain by polling.
    const party = await until('org2’s party in the read model', async () => {
      const r = await get(`/masterdata/party/${enc('urn:epc:id:pgln:4000001.00000')}`);
      return r.status === 200 ? r : undefined;
    });
    expect(party.body).toMatchObject({ id: PARTY2, organizationId: 'org2', vocabularyType: 'urn:epcglobal:epcis:vtype:Party' });
    const change = await put(`/masterdata/party/${enc(PARTY2)}`, { attributes: { name: 'Mine now' } });
    expect(change.status).toBe(403);
    expect(change.body['code']).toBe('PROVENANCE.MASTERDATA_NOT_OWNER');
    const retire = await del(`/masterdata/party/${enc('4000001000005')}`);
    expect(retire.status).toBe(403);
    expect(retire.body['code']).toBe('PROVENANCE.MASTERDATA_NOT_OWNER');
    expect((await get(`/masterdata/party/${enc(PARTY2)}`)).body).toMatchObject({ version: 1, attributes: { name: 'Supplier AG' } });
  });

  it('lists each type in canonical id order, page by page', async () => {
    const gtins = ['09506000134369', '09506000134376', '09506000134383'];
    const batch = await onChain(0, 'provenance.masterdata.define', { elements: gtins.map((g) => ({ type: 'product', id: `https://id.gs1.org/01/${g}`, attributes: { name: `Product ${g}` } })) });
    expect(batch.code, batch.detail).toBe('VALID');
    await until('the batch in the read model', async () => ((await get(`/masterdata/product/${gtins[2]}`)).status === 200 ? true : undefined));
    const all: string[] = [];
    let token: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await call(`${api()}/masterdata/product?perPage=2${token ? `&nextPageToken=${enc(token)}` : ''}`, { token: await chain.auth() });
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      const items = page.body['items'] as Array<{ id: string }>;
      expect(items.length).toBeLessThanOrEqual(2);
      all.push(...items.map((i) => i.id));
      pages++;
      token = page.body['nextPageToken'] as string | undefined;
      if (!token) break;
      expect(token).toBe(items[items.length - 1].id);
    }
    const expected = [GTIN, ...gtins.map((g) => `https://id.gs1.org/01/${g}`)].sort();
    expect(all).toEqual(expected);
    expect(pages).toBe(2);
    expect((await get('/masterdata/location')).body['items']).toEqual([expect.objectContaining({ id: GLN }), expect.objectContaining({ id: SGLN })]);
    expect((await get('/masterdata/product?perPage=0')).body['code']).toBe('PROVENANCE.INVALID_QUERY');
    expect((await get('/masterdata/asset')).body['code']).toBe('PROVENANCE.INVALID_MASTERDATA');
  });

  it('retires a record, which stays with a new version, refuses a second retirement, and defines it again', async () => {
    const retired = await del(`/masterdata/product/${enc(GTIN_URN)}`);
    expect(retired.status, JSON.stringify(retired.body)).toBe(200);
    expect(retired.body).toMatchObject({ id: GTIN, status: 'retired', version: 2, retiredAtBlock: retired.body['blockNumber'], attributes: { name: 'Aspirin 500 mg' } });
    expect((await get(`/masterdata/product/${enc(GTIN)}`)).body).toMatchObject({ status: 'retired', version: 2 });
    const again = await del(`/masterdata/product/${enc(GTIN)}`);
    expect(again.status).toBe(409);
    expect(again.body['code']).toBe('PROVENANCE.MASTERDATA_RETIRED');
    const back = await put(`/masterdata/product/${enc(GTIN)}`, { attributes: { name: 'Aspirin 500 mg' } });
    expect(back.body).toMatchObject({ status: 'active', version: 3, retiredAtBlock: null });
    const unknown = await get(`/masterdata/product/${enc('https://id.gs1.org/01/04012345123456')}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body['code']).toBe('PROVENANCE.UNKNOWN_MASTERDATA');
    const retireUnknown = await del(`/masterdata/product/${enc('https://id.gs1.org/01/04012345123456')}`);
    expect(retireUnknown.status).toBe(404);
    expect(retireUnknown.body['code']).toBe('PROVENANCE.UNKNOWN_MASTERDATA');
  });
});
