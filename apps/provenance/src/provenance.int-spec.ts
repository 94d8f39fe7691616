import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyReceipt } from '@alliance/protocol';
import { eventHashId, eventsOf } from '@alliance/provenance/domain';
import { call, member, until } from '../test/harness';
import { ProvenanceTestChain } from '../test/harness';

const GS1 = join(__dirname, '..', '..', '..', 'libs', 'provenance', 'domain', 'test-vectors', 'gs1');
const examples = readdirSync(GS1).filter((f) => f.endsWith('.jsonld')).sort();
const enc = encodeURIComponent;

describe('provenance service: EPCIS capture, query, proof, trace and custody on a real ledger node', () => {
  const chain = new ProvenanceTestChain('provenance-int', [member('org1'), member('org2', 'supplier')]);
  const api = () => chain.api;
  const get = async (path: string, accept = 'application/json') => call(`${api()}${path}`, { token: await chain.auth(), headers: { accept } });
  const capture = async (document: unknown, headers: Record<string, string> = {}) =>
    call(`${api()}/epcis/capture`, { method: 'POST', body: JSON.stringify(document), token: await chain.auth(), headers: { 'content-type': 'application/ld+json', ...headers } });
  const finished = (captureId: string) =>
    until(`capture ${captureId}`, async () => {
      const r = await get(`/epcis/capture/${captureId}`);
      return r.body['running'] === false ? r.body : undefined;
    });

  beforeAll(async () => {
    await chain.startAll(inject('databaseUrl'), 'provenance_int');
  }, 60_000);
  afterAll(() => chain.stop());

  const captured = new Map<string, Record<string, unknown>>();

  it('captures every GS1 example document, each all or nothing, and names every event', async () => {
    for (const file of examples) {
      const document = JSON.parse(readFileSync(join(GS1, file), 'utf8')) as Record<string, unknown>;
      const r = await capture(document);
      expect(r.status, `${file}: ${JSON.stringify(r.body)}`).toBe(202);
      const job = await finished(r.body['captureID'] as string);
      expect(job, file).toMatchObject({ success: true, running: false, errors: [] });
      const events = eventsOf(document);
      expect((job['eventIDs'] as string[]).length).toBe(events.length);
      events.forEach((event, i) => {
        const id = (job['eventIDs'] as string[])[i];
        expect(id).toBe(typeof event['eventID'] === 'string' ? event['eventID'] : eventHashId(event, { context: document['@context'] }));
        captured.set(id, { eventID: id, ...event });
      });
    }
    expect(captured.size).toBeGreaterThan(10);
  });

  it('gives every event back equal in meaning, as JSON-LD, with the block time as recordTime', async () => {
    for (const [id, original] of captured) {
      const r = await get(`/epcis/events/${enc(id)}`);
      expect(r.status, id).toBe(200);
      const { '@context': context, recordTime, ...event } = r.body;
      expect(context).toBeDefined();
      expect(Date.parse(recordTime as string)).not.toBeNaN();
      const { recordTime: _ignored, ...expected } = original;
      expect(event).toEqual(expected);
    }
  });

  it('proves any event on the ledger: the receipt verifies offline and carries the event’s text', async () => {
    for (const id of [...captured.keys()].slice(0, 5)) {
      const r = await until(`proof of ${id}`, async () => {
        const p = await get(`/epcis/events/${enc(id)}/proof`);
        return p.status === 200 ? p : undefined;
      });
      const proof = r.body as { receipt: { envelope: { transaction: { payload: { events: Array<{ event: string; eventId: string }> } } } }; position: number; checkpoint: unknown };
      expect(verifyReceipt(proof.receipt, { chainId: chain.chainId })).toMatchObject({ ok: true });
      const carried = proof.receipt.envelope.transaction.payload.events[proof.position];
      expect(carried.eventId).toBe(id);
      expect(JSON.parse(carried.event)).toEqual(captured.get(id));
      expect(proof.checkpoint).toBeDefined();
      // A tampered receipt does not verify.
      const bad = structuredClone(proof.receipt);
      bad.envelope.transaction.payload.events[proof.position].event = carried.event.replace('"', '" ');
      expect(verifyReceipt(bad, { chainId: chain.chainId }).ok).toBe(false);
    }
  });

  it('refuses a second capture of an event — under its id or another — naming the existing id', async () => {
    const document = JSON.parse(readFileSync(join(GS1, 'Example_9.6.1-ObjectEvent.jsonld'), 'utf8')) as Record<string, unknown>;
    const again = await capture(document);
    expect(again.status).toBe(409);
    expect(again.body['code']).toBe('PROVENANCE.DUPLICATE_EVENT');
    const [first] = eventsOf(document);
    const renamed = structuredClone(document) as { epcisBody: { eventList: Array<Record<string, unknown>> } };
    renamed.epcisBody.eventList = [{ ...first, eventID: 'urn:uuid:8c3b1a4e-0000-4000-8000-00000000abcd' }];
    const r = await capture(renamed);
    expect(r.status).toBe(409);
    const firstId = typeof first['eventID'] === 'string' ? first['eventID'] : eventHashId(first, { context: document['@context'] });
    expect(r.body['detail']).toContain(`already captured as ${firstId}`);
  });

  it('refuses invalid documents with the schema problems, wrong media types, and unknown query parameters', async () => {
    const bad = await capture({ type: 'EPCISDocument', schemaVersion: '2.0', epcisBody: { eventList: [{ type: 'ObjectEvent' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body['code']).toBe('PROVENANCE.INVALID_DOCUMENT');
    const xml = await call(`${api()}/epcis/capture`, { method: 'POST', body: '<epcis/>', token: await chain.auth(), headers: { 'content-type': 'application/xml' } });
    expect([400, 415]).toContain(xml.status);
    const unknown = await get('/epcis/events?EQ_bizStepp=shipping');
    expect(unknown.status).toBe(400);
    expect(unknown.body['code']).toBe('PROVENANCE.INVALID_QUERY');
    const anonymous = await call(`${api()}/epcis/events`);
    expect(anonymous.status).toBe(401);
  });

  it('answers EPCIS queries: identifiers as URN or Digital Link, CBV terms bare or as URIs, pages that add up', async () => {
    const all = await get('/epcis/events?perPage=1000');
    const total = ((all.body['epcisBody'] as { queryResults: { resultsBody: { eventList: unknown[] } } }).queryResults.resultsBody.eventList).length;
    expect(total).toBe(captured.size);
    const ids = new Set<string>();
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await get(`/epcis/events?perPage=3${token ? `&nextPageToken=${token}` : ''}`);
      expect(r.status).toBe(200);
      for (const e of (r.body['epcisBody'] as { queryResults: { resultsBody: { eventList: Array<{ eventID: string }> } } }).queryResults.resultsBody.eventList) ids.add(e.eventID);
      token = r.body['nextPageToken'] as string | undefined;
      pages++;
    } while (token && pages < 100);
    expect(ids.size).toBe(total);
    expect((await get(`/epcis/events?perPage=3&EQ_bizStep=shipping&nextPageToken=${Buffer.from(JSON.stringify({ q: 'x', s: 1 })).toString('base64url')}`)).body['code']).toBe('PROVENANCE.INVALID_PAGE_TOKEN');

    const count = async (query: string) => {
      const r = await get(`/epcis/events?perPage=1000&${query}`);
      expect(r.status, `${query}: ${JSON.stringify(r.body)}`).toBe(200);
      return (r.body['epcisBody'] as { queryResults: { resultsBody: { eventList: unknown[] } } }).queryResults.resultsBody.eventList.length;
    };
    const epc = 'urn:epc:id:sgtin:0614141.107346.2017';
    const byUrn = await count(`MATCH_epc=${enc(epc)}`);
    expect(byUrn).toBeGreaterThan(0);
    expect(await count(`MATCH_epc=${enc('https://id.gs1.org/01/10614141073464/21/2017')}`)).toBe(byUrn);
    expect(await count(`MATCH_epc=${enc('urn:epc:idpat:sgtin:0614141.107346.*')}`)).toBeGreaterThanOrEqual(byUrn);
    const shipping = await count('EQ_bizStep=shipping');
    expect(shipping).toBeGreaterThan(0);
    expect(await count(`EQ_bizStep=${enc('https://ref.gs1.org/cbv/BizStep-shipping')}`)).toBe(shipping);
    expect(await count('eventType=AggregationEvent|TransformationEvent')).toBe(await count('eventType=AggregationEvent') + (await count('eventType=TransformationEvent')));
    expect(await count('EXISTS_sensorElementList')).toBeGreaterThan(0);
    expect(await count('GE_eventTime=2100-01-01T00:00:00Z')).toBe(0);
    const csv = await call(`${api()}/epcis/events?format=csv&eventType=ObjectEvent`, { token: await chain.auth() });
    const lines = (csv.body['text'] as string).trim().split('\r\n');
    expect(lines[0].startsWith('eventID,type,eventTime')).toBe(true);
    expect(lines.length - 1).toBe(await count('eventType=ObjectEvent'));
  });

  const ev = (e: Record<string, unknown>) => ({ eventTimeZoneOffset: '+00:00', ...e });
  const doc = (eventList: unknown[]) => ({ '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2026-12-03T08:00:00Z', epcisBody: { eventList } });
  const steel = 'urn:epc:class:lgtin:0614141.011111.STEEL-7';
  const part = (n: number) => `urn:epc:id:sgtin:0614141.022222.P${n}`;
  const assembly = (n: number) => `urn:epc:id:sgtin:0614141.033333.A${n}`;
  const pallet = 'urn:epc:id:sscc:0614141.1000000001';
  const shipment = 'urn:epc:id:sscc:0614141.2000000002';
  const customer = 'urn:epc:id:pgln:0614141.00009';

  it('traces a multi-tier story both ways in one call and lists every affected item in the recall report', async () => {
    const story = doc([
      ev({ type: 'TransformationEvent', eventTime: '2026-12-01T08:00:00Z', transformationID: 'urn:uuid:7e0c0000-0000-4000-8000-000000000001', inputQuantityList: [{ epcClass: steel, quantity: 12.5, uom: 'KGM' }], outputEPCList: [part(1), part(2)], bizStep: 'commissioning' }),
      ev({ type: 'TransformationEvent', eventTime: '2026-12-01T09:00:00Z', transformationID: 'urn:uuid:7e0c0000-0000-4000-8000-000000000002', inputEPCList: [part(1), part(2), part(3)], outputEPCList: [assembly(1)], bizStep: 'assembling' }),
      ev({ type: 'ObjectEvent', eventTime: '2026-12-01T09:30:00Z', action: 'ADD', epcList: [assembly(2)], bizStep: 'commissioning' }),
      ev({ type: 'AggregationEvent', eventTime: '2026-12-01T10:00:00Z', action: 'ADD', parentID: pallet, childEPCs: [assembly(1), assembly(2)], bizStep: 'packing' }),
      ev({ type: 'AggregationEvent', eventTime: '2026-12-01T11:00:00Z', action: 'ADD', parentID: shipment, childEPCs: [pallet], bizStep: 'loading' }),
      ev({ type: 'ObjectEvent', eventTime: '2026-12-01T12:00:00Z', action: 'OBSERVE', epcList: [shipment], bizStep: 'shipping', disposition: 'in_transit', destinationList: [{ type: 'owning_party', destination: customer }] }),
      ev({ type: 'ObjectEvent', eventTime: '2026-12-02T08:00:00Z', action: 'OBSERVE', epcList: [shipment], bizStep: 'receiving', bizLocation: { id: 'urn:epc:id:sgln:0614141.00009.0' } }),
    ]);
    const r = await capture(story);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(await finished(r.body['captureID'] as string)).toMatchObject({ success: true });

    const down = await get(`/trace?epc=${enc(steel)}&direction=downstream&depth=10`);
    expect(down.status, JSON.stringify(down.body)).toBe(200);
    const downIds = (down.body['nodes'] as Array<{ id: string; kind: string; depth: number }>).filter((n) => n.kind !== 'transformation');
    expect(downIds.map((n) => n.kind).sort()).toEqual(['lgtin', 'sgtin', 'sgtin', 'sgtin', 'sscc', 'sscc'].sort());
    const byKind = (list: Array<{ id: string; depth: number }>, suffix: string) => list.find((n) => n.id.endsWith(suffix));
    expect(byKind(downIds, '/21/P1')?.depth, JSON.stringify(down.body['nodes'])).toBe(1);
    expect(byKind(downIds, '/21/A1')?.depth).toBe(2);
    expect(downIds.filter((n) => n.kind === 'sscc').map((n) => n.depth).sort()).toEqual([3, 4]);
    expect((down.body['events'] as unknown[]).length).toBe(4);

    const up = await get(`/trace?epc=${enc(shipment)}&direction=upstream`);
    const upIds = (up.body['nodes'] as Array<{ id: string; kind: string; depth: number }>).filter((n) => n.kind !== 'transformation').map((n) => n.id);
    for (const suffix of ['/21/P1', '/21/P2', '/21/P3', '/21/A1', '/21/A2', '/10/STEEL-7']) expect(upIds.some((id) => id.endsWith(suffix)), suffix).toBe(true);
    // Depth bounds the walk.
    const shallow = await get(`/trace?epc=${enc(shipment)}&direction=upstream&depth=1`);
    expect((shallow.body['nodes'] as unknown[]).length).toBe(2);

    const recall = await get(`/recall?epc=${enc(steel)}`);
    const items = recall.body['items'] as Array<{ id: string; location: string | null; owner: string | null; custodian: string | null }>;
    expect(items.length).toBe(6);
    const a1 = items.find((i) => i.id.endsWith('/21/A1'))!;
    expect(a1.location).toBe('https://id.gs1.org/414/0614141000098'); // SGLN extension 0: the GLN itself
    expect(a1.owner).toBe('https://id.gs1.org/417/0614141000098');
    const csv = await call(`${api()}/recall?epc=${enc(steel)}&format=csv`, { token: await chain.auth() });
    expect((csv.body['text'] as string).trim().split('\r\n').length).toBe(7);
    const bad = await get(`/trace?epc=${enc(steel)}&depth=99`);
    expect(bad.body['code']).toBe('PROVENANCE.INVALID_TRACE');
  });

  it('answers the same repository, trace and recall over GraphQL, with the REST codes as GraphQL error codes', async () => {
    const gql = async (query: string, variables: Record<string, unknown> = {}, token?: string | null) =>
      (await call(`${chain.provenance.url}/graphql`, { method: 'POST', body: JSON.stringify({ query, variables }), ...(token === null ? {} : { token: token ?? (await chain.auth()) }) })).body as {
        data?: Record<string, unknown>;
        errors?: Array<{ message: string; extensions: { code: string } }>;
      };
    type Node = { id: string; kind: string; depth: number };
    type Ev = { eventID: string; bizStep: string; parentID: string | null; json: string };
    const graph = await gql('query($epc: String!) { traceGraph(epc: $epc, direction: "downstream", depth: 10) { root nodes { id kind depth } edges { from to kind eventID } events { eventID } truncated } }', { epc: steel });
    expect(graph.errors).toBeUndefined();
    const rest = await get(`/trace?epc=${enc(steel)}&direction=downstream&depth=10`);
    const traced = graph.data?.['traceGraph'] as { nodes: Node[]; edges: Array<{ eventID: string }>; truncated: boolean };
    expect(traced.nodes).toEqual(rest.body['nodes']);
    expect(traced.edges.map((e) => e.eventID).sort()).toEqual((rest.body['edges'] as Array<{ eventID: string }>).map((e) => e.eventID).sort());
    expect(traced.truncated).toBe(false);

    const timeline = await gql('query($epc: String!) { productTimeline(epc: $epc) { eventID type eventTime bizStep epcs parentID json } }', { epc: shipment });
    const line = timeline.data?.['productTimeline'] as Ev[];
    expect(line.map((e) => e.bizStep)).toEqual(['loading', 'shipping', 'receiving']);
    expect(JSON.parse(line[1].json)).toMatchObject({ type: 'ObjectEvent', bizStep: 'shipping', epcList: [shipment] });

    const page = await gql('{ provenanceEvents(parameters: [{ name: "EQ_bizStep", value: "packing" }], perPage: 5) { events { eventID parentID epcs } nextPageToken } }');
    const packed = (page.data?.['provenanceEvents'] as { events: Ev[] }).events;
    expect(packed).toHaveLength(1);
    expect(packed[0].parentID).toBe(pallet);

    const recall = await gql('query($epc: String!) { recallReport(epc: $epc) { root items { id location owner custodian } truncated } }', { epc: steel });
    expect((recall.data?.['recallReport'] as { items: unknown[] }).items).toHaveLength(6);

    const bad = await gql('query($epc: String!) { traceGraph(epc: $epc, depth: 99) { root } }', { epc: steel });
    expect(bad.errors?.[0].extensions.code).toBe('PROVENANCE.INVALID_TRACE');
    const badParam = await gql('{ provenanceEvents(parameters: [{ name: "EQ_nonsense", value: "x" }]) { nextPageToken } }');
    expect(badParam.errors?.[0].extensions.code).toBe('PROVENANCE.INVALID_QUERY');
    const anonymous = await gql('{ productTimeline(epc: "urn:epc:id:sscc:0614141.2000000002") { eventID } }', {}, null);
    expect(anonymous.errors?.[0].extensions.code).toBe('AUTH.TOKEN_MISSING');
  });

  it('moves custody by proposal and acceptance, refused to anyone else, and the accepted transfer yields its events', async () => {
    const item = 'urn:epc:id:sgtin:0614141.033333.A9';
    const registered = await call(`${api()}/custody/items`, { method: 'POST', body: JSON.stringify({ item }), token: await chain.auth() });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    expect(registered.body).toMatchObject({ owner: 'org1', custodian: 'org1' });
    const proposed = await call(`${api()}/custody/transfers`, { method: 'POST', body: JSON.stringify({ transferId: 'transfer-0001', item, kind: 'custody', to: 'org2' }), token: await chain.auth() });
    expect(proposed.status, JSON.stringify(proposed.body)).toBe(201);
    expect(proposed.body).toMatchObject({ status: 'open', from: 'org1', to: 'org2' });
    // org1's service signs for org1: it is not the receiver.
    const wrong = await call(`${api()}/custody/transfers/transfer-0001/answer`, { method: 'POST', body: JSON.stringify({ decision: 'accept' }), token: await chain.auth() });
    expect(wrong.status).toBe(409);
    expect(wrong.body['code']).toBe('PROVENANCE.NOT_RECEIVER');
    // org2 accepts with its own signed transaction.
    await chain.submit(chain.signed(chain.members[1], 'provenance.transfer.answer', { transferId: 'transfer-0001', decision: 'accept' }));
    const record = await until('custody moved', async () => {
      const r = await get(`/custody/items/${enc(item)}`);
      return r.body['custodian'] === 'org2' ? r.body : undefined;
    });
    expect(record).toMatchObject({ owner: 'org1', custodian: 'org2' });
    const derived = await get(`/epcis/events?MATCH_epc=${enc(item)}&EQ_bizStep=shipping|receiving`);
    const list = (derived.body['epcisBody'] as { queryResults: { resultsBody: { eventList: Array<Record<string, unknown>> } } }).queryResults.resultsBody.eventList;
    expect(list.map((e) => e['bizStep']).sort()).toEqual(['receiving', 'shipping']);
    for (const e of list) expect(e['eventID']).toBe(eventHashId(Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'eventID' && k !== 'recordTime'))));
  });

  it('rebuilds the read model from the ledger to the same repository', async () => {
    const before = await get('/epcis/events?perPage=1000');
    const rebuilt = await call(`${api()}/read-model/rebuild`, { method: 'POST', token: await chain.auth() });
    expect(rebuilt.status, JSON.stringify(rebuilt.body)).toBe(200);
    const after = await get('/epcis/events?perPage=1000');
    const ids = (r: typeof before) => ((r.body['epcisBody'] as { queryResults: { resultsBody: { eventList: Array<{ eventID: string; recordTime: string }> } } }).queryResults.resultsBody.eventList).map((e) => `${e.eventID}@${e.recordTime}`);
    expect(ids(after)).toEqual(ids(before));
    expect((await get('/read-model')).body['problems']).toEqual([]);
  });
});
