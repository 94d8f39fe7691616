import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatTimestamp, generateKeyPair, keyId, type KeyPair, signTelemetryReading, type SignedTelemetry, type TelemetryReading, toHex } from '@alliance/protocol';
import { call, member, ProvenanceTestChain, until } from '../test/harness';

const enc = encodeURIComponent;
const run = Date.now().toString(36).toUpperCase();
// The leased asset: an SGTIN, named by URN in the events and by Digital Link in the answers.
const ITEM = `https://id.gs1.org/01/09506000134352/21/${run}-EX1`;
const ITEM_URN = `urn:epc:id:sgtin:9506000.013435.${run}-EX1`;
const OTHER_SUBJECT = 'https://id.gs1.org/00/106141410000000019';
const PALLET = 'urn:epc:id:sscc:0614141.1000000002';
const DOCK = 'urn:epc:id:sgln:0614141.00009.0';
const DOCK_LINK = 'https://id.gs1.org/414/0614141000098';

interface Usage {
  measurementType: string;
  uom: string;
  count: number;
  firstObservedAt: string;
  lastObservedAt: string;
  min: string;
  max: string;
  lastValue: string;
}

describe('provenance service: usage and location of a device-identified asset, over REST and GraphQL', () => {
  const chain = new ProvenanceTestChain('provenance-telemetry', [member('org1')]);
  const api = () => chain.api;
  const get = async (path: string, token: string | null = null) => call(`${api()}${path}`, { token: token ?? (await chain.auth()) });
  const send = async (method: string, path: string, body: unknown) => call(`${api()}${path}`, { method, body: JSON.stringify(body), token: await chain.auth() });
  const gql = async (query: string, variables: Record<string, unknown> = {}, signedIn = true) =>
    (await call(`${chain.provenance.url}/graphql`, { method: 'POST', body: JSON.stringify({ query, variables }), token: signedIn ? await chain.auth() : undefined })).body as {
      data?: Record<string, unknown> | null;
      errors?: Array<{ message: string; extensions?: { code?: string } }>;
    };

  const excavator = generateKeyPair('ed25519');
  const other = generateKeyPair('ed25519');
  const EXCAVATOR = `urn:epc:id:giai:0614141.EXC-${run}`;
  const OTHER = `urn:epc:id:giai:0614141.OTH-${run}`;
  const keys: Record<string, KeyPair> = { [EXCAVATOR]: excavator, [OTHER]: other };
  // Readings of the last hour: the contract refuses readings from the future, not from the past.
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
  const at = (minutes: number) => formatTimestamp(t0 + minutes * 60_000);
  /** The same instant written with a +02:00 offset. */
  const atPlus2 = (minutes: number) => new Date(t0 + minutes * 60_000 + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
  const reading = (deviceId: string, minutes: number, measurements: Array<[string, string, string]>): SignedTelemetry =>
    signTelemetryReading(
      { deviceId, organizationId: 'org1', keyId: keyId('ed25519', keys[deviceId].publicKey), observedAt: at(minutes), readings: measurements.map(([type, value, uom]) => ({ type, value, uom })) } as TelemetryReading,
      keys[deviceId],
    );
  const batch = async (batchId: string, subject: string, readings: SignedTelemetry[]) => {
    const r = await send('POST', '/sensors/readings', { batchId: `${batchId}-${run}`, subject, readings });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  };

  // As text, '9.5' is the largest and '10.20' sorts before '10.2'; as numbers 10.20 = 10.2 is the largest.
  const shared = reading(EXCAVATOR, 2, [['Temperature', '-1.5', 'CEL'], ['Humidity', '38.25', 'A93']]);
  const expectedUsage: Usage[] = [
    { measurementType: 'Humidity', uom: 'A93', count: 2, firstObservedAt: at(0), lastObservedAt: at(2), min: '38.25', max: '40', lastValue: '38.25' },
    { measurementType: 'Temperature', uom: 'CEL', count: 5, firstObservedAt: at(0), lastObservedAt: at(4), min: '-1.5', max: '10.20', lastValue: '2' },
  ];
  // from at(1) (written +02:00) to at(3), exclusive.
  const windowUsage: Usage[] = [
    { measurementType: 'Humidity', uom: 'A93', count: 1, firstObservedAt: at(2), lastObservedAt: at(2), min: '38.25', max: '38.25', lastValue: '38.25' },
    { measurementType: 'Temperature', uom: 'CEL', count: 2, firstObservedAt: at(1), lastObservedAt: at(2), min: '-1.5', max: '10.20', lastValue: '-1.5' },
  ];
  const where = { eventId: `urn:uuid:${randomUUID()}`, eventTime: '2026-12-02T09:00:00.000Z', readPoint: null, bizLocation: DOCK_LINK, bizStep: 'packing' };

  beforeAll(async () => {
    await chain.startAll(inject('databaseUrl'), 'provenance_telemetry');
    for (const [deviceId, key] of Object.entries(keys)) {
      await chain.submit(chain.signed(chain.members[0], 'identity.device.register', { deviceId, model: 'EX-9', key: { algorithm: 'ed25519', publicKey: toHex(key.publicKey) }, assets: [], locations: [] }));
    }
    await batch('exc-1', ITEM, [
      reading(EXCAVATOR, 0, [['Temperature', '9.5', 'CEL'], ['Humidity', '40', 'A93']]),
      reading(OTHER, 0, [['Temperature', '99', 'CEL']]),
      reading(EXCAVATOR, 1, [['Temperature', '10.20', 'CEL']]),
      shared,
      reading(EXCAVATOR, 3, [['Temperature', '10.2', 'CEL']]),
    ]);
    // The reading at minute 2 anchored again, in a batch about another subject: it counts once.
    await batch('exc-2', OTHER_SUBJECT, [shared, reading(EXCAVATOR, 4, [['Temperature', '2', 'CEL']])]);

    const ev = (e: Record<string, unknown>) => ({ eventID: `urn:uuid:${randomUUID()}`, eventTimeZoneOffset: '+00:00', ...e });
    const document = {
      '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: '2026-12-04T12:00:00Z',
      epcisBody: {
        eventList: [
          ev({ type: 'ObjectEvent', eventTime: '2026-12-01T08:00:00Z', action: 'OBSERVE', epcList: [ITEM_URN], bizStep: 'receiving', readPoint: { id: 'urn:epc:id:sgln:0614141.00001.0' } }),
          // Named as a child, with a business location: the newest that says where.
          ev({ type: 'AggregationEvent', eventID: where.eventId, eventTime: '2026-12-02T09:00:00Z', action: 'ADD', parentID: PALLET, childEPCs: [ITEM_URN], bizStep: 'packing', bizLocation: { id: DOCK } }),
          // Later on its own clock (12:00 at +05:00), earlier in time (07:00Z).
          ev({ type: 'ObjectEvent', eventTime: '2026-12-02T12:00:00+05:00', eventTimeZoneOffset: '+05:00', action: 'OBSERVE', epcList: [ITEM_URN], bizStep: 'inspecting', readPoint: { id: 'urn:epc:id:sgln:0614141.00002.0' } }),
          // Newer, but it says nowhere.
          ev({ type: 'ObjectEvent', eventTime: '2026-12-03T10:00:00Z', action: 'OBSERVE', epcList: [ITEM_URN], bizStep: 'inspecting' }),
          // Newer, but declared in error.
          ev({
            type: 'ObjectEvent',
            eventTime: '2026-12-04T10:00:00Z',
            action: 'OBSERVE',
            epcList: [ITEM_URN],
            bizStep: 'shipping',
            readPoint: { id: 'urn:epc:id:sgln:0614141.00003.0' },
            errorDeclaration: { declarationTime: '2026-12-04T11:00:00Z', reason: 'incorrect_data' },
          }),
          // Another item's newer event.
          ev({ type: 'ObjectEvent', eventTime: '2026-12-04T10:30:00Z', action: 'OBSERVE', epcList: ['urn:epc:id:sgtin:9506000.013435.SOMEONE-ELSE'], bizStep: 'shipping', readPoint: { id: DOCK } }),
        ],
      },
    };
    const captured = await call(`${api()}/epcis/capture`, { method: 'POST', body: JSON.stringify(document), token: await chain.auth(), headers: { 'content-type': 'application/ld+json' } });
    expect(captured.status, JSON.stringify(captured.body)).toBe(202);
    const job = await until(`capture ${String(captured.body['captureID'])}`, async () => {
      const r = await get(`/epcis/capture/${String(captured.body['captureID'])}`);
      return r.body['running'] === false ? r.body : undefined;
    });
    expect(job, JSON.stringify(job)).toMatchObject({ success: true });
  }, 120_000);
  afterAll(() => chain.stop());

  const telemetryPath = (deviceId: string, query = '') => `/sensors/devices/${enc(deviceId)}/telemetry${query}`;

  it('answers the device’s usage per type and unit (exact decimals, each reading once) and the item’s last location over REST', async () => {
    const r = await get(telemetryPath(EXCAVATOR, `?item=${enc(ITEM_URN)}`));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ deviceId: EXCAVATOR, item: ITEM, from: null, to: null, usage: expectedUsage, location: where });
  });

  it('bounds the usage by from (inclusive) and to (exclusive), times with any offset; the location stays the latest', async () => {
    const r = await get(telemetryPath(EXCAVATOR, `?item=${enc(ITEM)}&from=${enc(atPlus2(1))}&to=${enc(at(3))}`));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ deviceId: EXCAVATOR, item: ITEM, from: atPlus2(1), to: at(3), usage: windowUsage, location: where });
    const later = await get(telemetryPath(EXCAVATOR, `?from=${enc(at(5))}`));
    expect(later.body).toEqual({ deviceId: EXCAVATOR, item: null, from: at(5), to: null, usage: [], location: null });
  });

  it('answers empty usage for an unknown device and refuses bad input with the stable codes', async () => {
    const unknown = await get(telemetryPath(`urn:epc:id:giai:0614141.NOBODY-${run}`, `?item=${enc(OTHER_SUBJECT)}`));
    expect(unknown.status, JSON.stringify(unknown.body)).toBe(200);
    expect(unknown.body).toEqual({ deviceId: `urn:epc:id:giai:0614141.NOBODY-${run}`, item: OTHER_SUBJECT, from: null, to: null, usage: [], location: null });
    for (const query of ['?from=yesterday', '?to=2026-12-01T08:00:00', '?from=2026-02-30T00:00:00Z', `?from=${enc(at(3))}&to=${enc(at(1))}`]) {
      const bad = await get(telemetryPath(EXCAVATOR, query));
      expect(bad.status, query).toBe(400);
      expect(bad.body['code'], query).toBe('PROVENANCE.INVALID_QUERY');
    }
    const notADevice = await get(telemetryPath('excavator-7'));
    expect(notADevice.status).toBe(400);
    expect(notADevice.body['code']).toBe('PROVENANCE.INVALID_QUERY');
    const notAnItem = await get(telemetryPath(EXCAVATOR, '?item=https://id.gs1.org/01/09506000134353/21/X'));
    expect(notAnItem.status).toBe(400);
    expect(notAnItem.body['code']).toBe('PROVENANCE.INVALID_IDENTIFIER');
    const anonymous = await call(`${api()}${telemetryPath(EXCAVATOR)}`, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body['code']).toBe('AUTH.TOKEN_MISSING');
  });

  const FIELDS = 'deviceId item usage { measurementType uom count firstObservedAt lastObservedAt min max lastValue } location { eventId eventTime readPoint bizLocation bizStep }';

  it('answers the same over GraphQL: assetTelemetry with a reading window, an unknown device, bad arguments', async () => {
    const root = await gql(`query($d: String!, $i: String) { assetTelemetry(deviceId: $d, item: $i) { ${FIELDS} } }`, { d: EXCAVATOR, i: ITEM_URN });
    expect(root.errors).toBeUndefined();
    expect(root.data?.['assetTelemetry']).toEqual({ deviceId: EXCAVATOR, item: ITEM, usage: expectedUsage, location: where });

    const windowed = `query($d: String!, $i: String, $from: String, $to: String) { assetTelemetry(deviceId: $d, item: $i) { window: usage(from: $from, to: $to) { measurementType count min max lastValue firstObservedAt lastObservedAt uom } } }`;
    const r = await gql(windowed, { d: EXCAVATOR, i: ITEM, from: atPlus2(1), to: at(3) });
    expect(r.errors).toBeUndefined();
    const project = (u: Usage) => ({ measurementType: u.measurementType, count: u.count, min: u.min, max: u.max, lastValue: u.lastValue, firstObservedAt: u.firstObservedAt, lastObservedAt: u.lastObservedAt, uom: u.uom });
    expect((r.data?.['assetTelemetry'] as { window: unknown }).window).toEqual(windowUsage.map(project));
    const nobody = await gql(`query($d: String!) { assetTelemetry(deviceId: $d) { ${FIELDS} } }`, { d: `urn:epc:id:giai:0614141.NOBODY-${run}` });
    expect(nobody.data?.['assetTelemetry']).toEqual({ deviceId: `urn:epc:id:giai:0614141.NOBODY-${run}`, item: null, usage: [], location: null });

    const badWindow = await gql(windowed, { d: EXCAVATOR, from: 'yesterday' });
    expect(badWindow.errors?.[0].extensions?.code).toBe('PROVENANCE.INVALID_QUERY');
    const badKey = await gql(`{ assetTelemetry(deviceId: "excavator-7") { deviceId } }`);
    expect(badKey.errors?.[0].extensions?.code).toBe('PROVENANCE.INVALID_QUERY');
  });

  it('signs the caller in: no token, no telemetry', async () => {
    const root = await gql(`{ assetTelemetry(deviceId: "${EXCAVATOR}") { deviceId usage { count } } }`, {}, false);
    expect(root.errors?.[0].extensions?.code).toBe('AUTH.TOKEN_MISSING');
    expect(JSON.stringify(root.data ?? null)).not.toContain('count');
  });
});
