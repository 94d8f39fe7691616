import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatTimestamp, generateKeyPair, keyId, type KeyPair, signTelemetryReading, type SignedTelemetry, type TelemetryReading, toHex } from '@alliance/protocol';
import { readAll } from '@alliance/shared/testing';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { call, member, ProvenanceTestChain, until } from '../test/harness';

const enc = encodeURIComponent;
const GTIN = 'https://id.gs1.org/01/09506000134352';
// Serials unique to this run: the alert topic on the shared broker outlives test databases.
const run = Date.now().toString(36).toUpperCase();
const item = (serial: string) => `${GTIN}/21/${run}-${serial}`;
const SHIPMENT_URN = 'urn:epc:id:sscc:0614141.1000000001';
const SHIPMENT = 'https://id.gs1.org/00/106141410000000019';
const ALERT_TOPIC = 'provenance.alert.raised.v1';

interface Alert {
  alertId: string;
  ruleId: string;
  organizationId: string;
  subject: string;
  from: string;
  to: string;
  durationSeconds: number;
  worstValue: string;
  disposition: string;
  eventId: string;
  batchId: string;
  transactionId: string;
  blockNumber: number;
}

describe('provenance service: device-signed sensor readings, threshold rules and alerts on a real ledger node and Kafka', () => {
  const chain = new ProvenanceTestChain('provenance-sensors', [member('org1'), member('org2', 'carrier')]);
  const brokers = inject('kafkaBrokers');
  const api = () => chain.api;
  const get = async (path: string) => call(`${api()}${path}`, { token: await chain.auth() });
  const send = async (method: string, path: string, body?: unknown) => call(`${api()}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), token: await chain.auth() });
  const events = async (query: string) => {
    const r = await get(`/epcis/events?perPage=1000&${query}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return (r.body['epcisBody'] as { queryResults: { resultsBody: { eventList: Array<Record<string, unknown>> } } }).queryResults.resultsBody.eventList;
  };

  const probe = generateKeyPair('ed25519');
  const logger = generateKeyPair('ed25519');
  const PROBE = `urn:epc:id:giai:0614141.PROBE-${run}`;
  const LOGGER = `urn:epc:id:giai:0614141.LOGGER-${run}`;
  const keys: Record<string, KeyPair> = { [PROBE]: probe, [LOGGER]: logger };
  // Readings of the last hour: the contract refuses readings from the future, not from the past.
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
  const at = (minutes: number) => formatTimestamp(t0 + minutes * 60_000);
  const reading = (deviceId: string, minutes: number, value: string, key: KeyPair = keys[deviceId]): SignedTelemetry =>
    signTelemetryReading({ deviceId, organizationId: 'org1', keyId: keyId('ed25519', key.publicKey), observedAt: at(minutes), readings: [{ type: 'Temperature', value, uom: 'CEL' }] } as TelemetryReading, key);
  const submitBatch = (batchId: string, subject: string, readings: unknown[]) => send('POST', '/sensors/readings', { batchId: `${batchId}-${run}`, subject, readings });

  beforeAll(async () => {
    await chain.startAll(inject('databaseUrl'), 'provenance_sensors', { MESSAGING: 'kafka', KAFKA_BROKERS: brokers.join(',') });
    for (const [deviceId, key] of Object.entries(keys)) {
      await chain.submit(chain.signed(chain.members[0], 'identity.device.register', { deviceId, model: 'TH-100', key: { algorithm: 'ed25519', publicKey: toHex(key.publicKey) }, assets: [], locations: [] }));
    }
  }, 90_000);
  afterAll(() => chain.stop());

  let alert: Alert;

  it('defines a cold-chain rule on a GTIN through REST, signed by the organization and read back from the chain', async () => {
    const r = await send('POST', '/sensors/rules', { ruleId: 'cold-chain', subject: GTIN, measurementType: 'Temperature', uom: 'CEL', min: '2', max: '8', durationSeconds: 600 });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ organizationId: 'org1', ruleId: 'cold-chain', subject: { kind: 'product', id: GTIN }, min: '2', max: '8', durationSeconds: 600, disposition: 'non_conformant', version: 1 });
    expect(r.body['transactionId']).toMatch(/^[0-9a-f]{64}$/);
    const bad = await send('POST', '/sensors/rules', { ruleId: 'upside-down', subject: GTIN, measurementType: 'Temperature', uom: 'CEL', min: '8', max: '2', durationSeconds: 600 });
    expect(bad.status).toBe(409);
    expect(bad.body['code']).toBe('PROVENANCE.INVALID_RULE');
    const notAKey = await send('POST', '/sensors/rules', { ruleId: 'nothing', subject: 'https://id.gs1.org/01/09506000134353', measurementType: 'Temperature', uom: 'CEL', max: '8', durationSeconds: 0 });
    expect(notAKey.status).toBe(400);
    expect(notAKey.body['code']).toBe('PROVENANCE.INVALID_IDENTIFIER');
    const rules = await get('/sensors/rules');
    expect((rules.body['items'] as Array<{ ruleId: string }>).map((x) => x.ruleId)).toEqual(['cold-chain']);
  });

  it('raises one alert for a breach lasting 12 minutes across two batches, judged per device', async () => {
    // The probe leaves [2, 8] at minute 2; the logger's in-bounds readings between do not end the probe's run.
    const first = await submitBatch('cold-1', item('A1'), [reading(PROBE, 0, '5.0'), reading(PROBE, 2, '9.1'), reading(PROBE, 4, '9.5'), reading(LOGGER, 5, '5.0'), reading(PROBE, 6, '10.2')]);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ subject: item('A1'), readingCount: 5, devices: [LOGGER, PROBE].sort(), alerts: [] });
    expect((await get(`/alerts?subject=${enc(item('A1'))}`)).body['items']).toEqual([]);

    const second = await submitBatch('cold-2', item('A1'), [reading(PROBE, 8, '10.0'), reading(LOGGER, 9, '5.5'), reading(PROBE, 10, '9.8'), reading(PROBE, 14, '9.0'), reading(PROBE, 16, '6.0')]);
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    const raised = second.body['alerts'] as Alert[];
    expect(raised).toHaveLength(1);
    alert = raised[0];
    expect(alert).toMatchObject({ ruleId: 'cold-chain', organizationId: 'org1', subject: item('A1'), from: at(2), to: at(14), durationSeconds: 720, worstValue: '10.2', disposition: 'non_conformant', batchId: `cold-2-${run}` });

    const listed = await get(`/alerts?subject=${enc(item('A1'))}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ items: [alert], next: null });
    // A GTIN finds its instances' alerts.
    expect(((await get(`/alerts?subject=${enc('urn:epc:idpat:sgtin:9506000.013435.*')}`)).body['items'] as Alert[]).map((a) => a.alertId)).toEqual([alert.alertId]);
    expect((await get(`/alerts/${alert.alertId}`)).body).toEqual(alert);
    const missing = await get(`/alerts/${'0'.repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(missing.body['code']).toBe('PROVENANCE.UNKNOWN_ALERT');
  });

  it('sets the persistent disposition on the item with a derived event, beside each batch’s sensor event', async () => {
    const dispositions = await events(`MATCH_epc=${enc(item('A1'))}&EQ_persistentDisposition_set=non_conformant`);
    expect(dispositions).toHaveLength(1);
    expect(dispositions[0]).toMatchObject({
      eventID: alert.eventId,
      type: 'ObjectEvent',
      epcList: [item('A1')],
      bizStep: 'inspecting',
      persistentDisposition: { set: ['non_conformant'] },
      bizTransactionList: [{ type: 'urn:alliance:sensor-alert', bizTransaction: `urn:alliance:sensor-alert:${alert.alertId}` }],
    });
    const sensorEvents = await events(`MATCH_epc=${enc(item('A1'))}&EQ_bizStep=sensor_reporting`);
    expect(sensorEvents).toHaveLength(2);
    // The sensor query filters see the readings as exact decimals: only the first batch went above 10.
    const hot = await events(`MATCH_epc=${enc(item('A1'))}&EQ_bizStep=sensor_reporting&GT_value_CEL=10.1`);
    expect(hot.map((e) => (e['bizTransactionList'] as Array<{ bizTransaction: string }>)[0].bizTransaction)).toEqual([`urn:alliance:sensor-batch:cold-1-${run}`]);
  });

  it('announces the alert on provenance.alert.raised.v1 through the outbox, once', async () => {
    const record = await until(
      'the alert on Kafka',
      async () => {
        const records = await readAll(brokers, ALERT_TOPIC).catch(() => []);
        return records.find((r) => (JSON.parse(r.value?.toString() ?? '{}') as { payload?: { alertId?: string } }).payload?.alertId === alert.alertId);
      },
      60_000,
    );
    const alertIdOf = (r: { value: Buffer | null }) => (JSON.parse(r.value?.toString() ?? '{}') as { payload?: { alertId?: string } }).payload?.alertId;
    expect((await readAll(brokers, ALERT_TOPIC)).filter((r) => alertIdOf(r) === alert.alertId)).toHaveLength(1);
    const envelope = JSON.parse(record.value!.toString()) as { topic: string; key: string; producer: string; payload: Record<string, unknown> };
    expect(envelope).toMatchObject({ topic: ALERT_TOPIC, key: item('A1'), producer: 'provenance' });
    expect(envelope.payload).toEqual({
      chainId: chain.chainId,
      blockNumber: alert.blockNumber,
      transactionId: alert.transactionId,
      batchId: alert.batchId,
      alertId: alert.alertId,
      organizationId: 'org1',
      ruleId: 'cold-chain',
      ruleVersion: 1,
      subject: item('A1'),
      measurementType: 'Temperature',
      uom: 'CEL',
      min: '2',
      max: '8',
      from: at(2),
      to: at(14),
      durationSeconds: 720,
      worstValue: '10.2',
      disposition: 'non_conformant',
      eventId: alert.eventId,
    });
  });

  it('raises nothing for a short excursion', async () => {
    const r = await submitBatch('short-1', item('B1'), [reading(PROBE, 20, '5.0'), reading(PROBE, 21, '9.0'), reading(PROBE, 25, '9.5'), reading(PROBE, 30, '8.0'), reading(PROBE, 31, '1.9')]);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body['alerts']).toEqual([]);
    expect((await get(`/alerts?subject=${enc(item('B1'))}`)).body['items']).toEqual([]);
    expect(await events(`MATCH_epc=${enc(item('B1'))}&EQ_persistentDisposition_set=non_conformant`)).toHaveLength(0);
  });

  it('refuses an unsigned, a forged and an unregistered device’s reading with the contract’s code, anchoring nothing', async () => {
    const genuine = reading(PROBE, 40, '5.0');
    const unsigned = await submitBatch('bad-1', item('C1'), [{ reading: genuine.reading }]);
    expect(unsigned.status).toBe(409);
    expect(unsigned.body['code']).toBe('IDENTITY.INVALID');
    const forged = await submitBatch('bad-2', item('C1'), [{ ...genuine, reading: { ...genuine.reading, readings: [{ type: 'Temperature', value: '4.0', uom: 'CEL' }] } }]);
    expect(forged.status).toBe(409);
    expect(forged.body['code']).toBe('IDENTITY.BAD_SIGNATURE');
    const stranger = generateKeyPair('ed25519');
    const unknown = await submitBatch('bad-3', item('C1'), [reading('urn:epc:id:giai:0614141.NOBODY', 40, '5.0', stranger)]);
    expect(unknown.status).toBe(409);
    expect(unknown.body['code']).toBe('IDENTITY.DEVICE_NOT_FOUND');
    expect(await events(`MATCH_epc=${enc(item('C1'))}`)).toHaveLength(0);
  });

  it('pages through alerts in the order they were raised', async () => {
    // A dashboard subscribed since the first alert: it is told of every later one, live, in order.
    const token = await chain.auth();
    const client = createClient({
      url: `${chain.provenance.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: class extends WebSocket {
        constructor(address: string | URL, protocols?: string | string[]) {
          super(address, protocols, { headers: { authorization: `Bearer ${token}` } });
        }
      },
      retryAttempts: 0,
    });
    const live: Array<{ alertId: string; ruleId: string; subject: string; worstValue: string }> = [];
    const liveErrors: unknown[] = [];
    const unsubscribe = client.subscribe<{ provenanceAlertRaised: { alertId: string; ruleId: string; subject: string; worstValue: string } }>(
      { query: 'subscription($after: String) { provenanceAlertRaised(after: $after) { alertId ruleId subject worstValue } }', variables: { after: alert.alertId } },
      { next: (r) => (r.data ? live.push(r.data.provenanceAlertRaised) : liveErrors.push(r.errors)), error: (e) => liveErrors.push(e instanceof Error ? e.message : { code: (e as { code?: number }).code, reason: String((e as { reason?: unknown }).reason ?? e) }), complete: () => undefined },
    );
    const r = await send('POST', '/sensors/rules', { ruleId: 'deep-frozen', subject: { id: SHIPMENT_URN }, measurementType: 'Temperature', uom: 'CEL', max: '-18', durationSeconds: 0, disposition: 'damaged' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body['subject']).toEqual({ kind: 'shipment', id: SHIPMENT });
    // Two runs above -18: one reading, then two.
    const b = await submitBatch('frozen-1', SHIPMENT_URN, [reading(LOGGER, 40, '-20'), reading(LOGGER, 41, '-17'), reading(LOGGER, 42, '-19'), reading(LOGGER, 43, '-16.5'), reading(LOGGER, 44, '-15'), reading(LOGGER, 45, '-18')]);
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    expect((b.body['alerts'] as Alert[]).map((a) => [a.from, a.to, a.worstValue, a.disposition])).toEqual([
      [at(41), at(41), '-17', 'damaged'],
      [at(43), at(44), '-15', 'damaged'],
    ]);
    const all = (await get('/alerts')).body['items'] as Alert[];
    expect(all.map((a) => a.ruleId)).toEqual(['cold-chain', 'deep-frozen', 'deep-frozen']);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: { status: number; body: Record<string, unknown> } = await get(`/alerts?limit=2${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...(page.body['items'] as Alert[]).map((a) => a.alertId));
      after = page.body['next'] as string | null;
    } while (after);
    expect(seen).toEqual(all.map((a) => a.alertId));
    expect((await get('/alerts?limit=0')).body['code']).toBe('PROVENANCE.INVALID_QUERY');
    expect((await get(`/alerts?after=${'f'.repeat(64)}`)).body['code']).toBe('PROVENANCE.INVALID_QUERY');
    expect(await events(`MATCH_epc=${enc(SHIPMENT)}&EQ_persistentDisposition_set=damaged`)).toHaveLength(2);

    await until('two live alerts', async () => (live.length >= 2 || liveErrors.length > 0 ? true : undefined), 15_000);
    unsubscribe();
    await client.dispose();
    expect(JSON.stringify(liveErrors)).toBe('[]');
    expect(live.map((a) => a.alertId)).toEqual(all.slice(1).map((a) => a.alertId));
    expect(live.map((a) => [a.ruleId, a.subject, a.worstValue])).toEqual([
      ['deep-frozen', SHIPMENT, '-17'],
      ['deep-frozen', SHIPMENT, '-15'],
    ]);
    // The same list over GraphQL, and its codes.
    const gql = async (query: string) => (await call(`${chain.provenance.url}/graphql`, { method: 'POST', body: JSON.stringify({ query }), token: await chain.auth() })).body as { data?: Record<string, unknown>; errors?: Array<{ extensions: { code: string } }> };
    const listed = await gql(`{ provenanceAlerts(subject: "${SHIPMENT_URN}") { items { alertId disposition durationSeconds } next } }`);
    expect(listed.data?.['provenanceAlerts']).toEqual({ items: all.slice(1).map((a) => ({ alertId: a.alertId, disposition: 'damaged', durationSeconds: a.durationSeconds })), next: null });
    expect((await gql(`{ provenanceAlert(alertId: "${'0'.repeat(64)}") { alertId } }`)).errors?.[0].extensions.code).toBe('PROVENANCE.UNKNOWN_ALERT');
  });

  it('rebuilds the read model from the ledger to the same alerts and events, announcing nothing again', async () => {
    const outboxed = async () => Number((await chain.provenance.runtime.pool.query(`SELECT count(*) AS n FROM provenance.outbox WHERE topic = $1`, [ALERT_TOPIC])).rows[0].n);
    expect(await outboxed()).toBe(3);
    const before = await get('/alerts');
    const eventsBefore = await events('EQ_bizStep=sensor_reporting|inspecting');
    const rebuilt = await send('POST', '/read-model/rebuild');
    expect(rebuilt.status, JSON.stringify(rebuilt.body)).toBe(200);
    const after = await get('/alerts');
    expect(after.body).toEqual(before.body);
    expect((after.body['items'] as Alert[]).length).toBe(3);
    expect(await events('EQ_bizStep=sensor_reporting|inspecting')).toEqual(eventsBefore);
    expect(await outboxed()).toBe(3);
    expect((await get('/read-model')).body['problems']).toEqual([]);
  });

  it('retires a rule: it is gone from the list and judges no further readings', async () => {
    const retired = await send('DELETE', '/sensors/rules/cold-chain');
    expect(retired.status, JSON.stringify(retired.body)).toBe(200);
    expect(retired.body).toMatchObject({ organizationId: 'org1', ruleId: 'cold-chain', retired: true });
    expect(((await get('/sensors/rules')).body['items'] as Array<{ ruleId: string }>).map((x) => x.ruleId)).toEqual(['deep-frozen']);
    const r = await submitBatch('after-retire', item('D1'), [reading(PROBE, 46, '12.0'), reading(PROBE, 59, '12.5')]);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body['alerts']).toEqual([]);
    const again = await send('DELETE', '/sensors/rules/cold-chain');
    expect(again.status).toBe(409);
    expect(again.body['code']).toBe('PROVENANCE.UNKNOWN_RULE');
  });
});
