import { describe, expect, it } from 'vitest';
import { BREACH_DISPOSITIONS, DEFAULT_BREACH_DISPOSITION, type SensorBatch, type SensorRule } from '@alliance/ledger/domain';
import { generateKeyPair, keyId, sha256, signTelemetryReading, toHex, utf8 } from '@alliance/protocol';
import { DISPOSITION_TERMS } from './cbv-vocabulary';
import { validateEpcisDocument } from './epcis-document';
import { eventHashId } from './event-hash';
import { indexEvent } from './event-index';
import { alertOf, compareDecimal, dispositionEventOf, evaluateRule, measurementsOf, ruleAppliesTo, type SensorMeasurement, sensorEventOf } from './sensor-rules';

const GTIN = 'https://id.gs1.org/01/09506000134352';
const SGTIN = 'https://id.gs1.org/01/09506000134352/21/abc-42';
const SSCC = 'https://id.gs1.org/00/106141412345678908';
const rule = (over: Partial<SensorRule> = {}): SensorRule => ({
  organizationId: 'org1',
  ruleId: 'cold-chain',
  subject: { kind: 'product', id: GTIN },
  measurementType: 'Temperature',
  uom: 'CEL',
  min: '2',
  max: '8',
  durationSeconds: 600,
  disposition: 'non_conformant',
  version: 1,
  definedAtBlock: 3,
  definedAt: '2026-12-01T00:00:00.000Z',
  transactionId: 'ab'.repeat(32),
  ...over,
});
/** Celsius readings every five minutes from 06:00, one value each. */
/** The schema checks an event inside a document (a lone event needs its own @context). */
const valid = (event: object) =>
  validateEpcisDocument({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2026-12-02T08:00:00.000Z', epcisBody: { eventList: [event] } });
const series = (...values: string[]): SensorMeasurement[] =>
  values.map((value, i) => ({ type: 'Temperature', uom: 'CEL', value, time: new Date(Date.UTC(2026, 11, 2, 6, 5 * i)).toISOString() }));

describe('compareDecimal', () => {
  it('is exact: signs, fraction lengths, and what doubles cannot tell apart', () => {
    expect(compareDecimal('2.50', '2.5')).toBe(0);
    expect(compareDecimal('-2.5', '-2.49')).toBe(-1);
    expect(compareDecimal('-0.001', '0')).toBe(-1);
    expect(compareDecimal('8.00000000000000000001', '8')).toBe(1);
  });
});

describe('evaluateRule', () => {
  it('a run outside the bounds is a breach when it lasts durationSeconds, first to last out-of-bounds reading', () => {
    // 06:10, 06:15, 06:20 out: 10 minutes. 06:35, 06:40 out: 5 minutes, too short.
    expect(evaluateRule(rule(), series('4', '5', '8.5', '9.25', '8.01', '7', '6', '1.5', '0', '3'))).toEqual([{ from: '2026-12-02T06:10:00.000Z', to: '2026-12-02T06:20:00.000Z', durationSeconds: 600, worstValue: '9.25' }]);
    expect(evaluateRule(rule({ durationSeconds: 300 }), series('4', '5', '8.5', '9.25', '8.01', '7', '6', '1.5', '0', '3'))).toEqual([
      { from: '2026-12-02T06:10:00.000Z', to: '2026-12-02T06:20:00.000Z', durationSeconds: 600, worstValue: '9.25' },
      { from: '2026-12-02T06:35:00.000Z', to: '2026-12-02T06:40:00.000Z', durationSeconds: 300, worstValue: '0' },
    ]);
    expect(evaluateRule(rule({ durationSeconds: 601 }), series('4', '8.5', '9', '9.5'))).toEqual([]);
  });

  it('with durationSeconds 0 one reading outside is a breach; a reading on a bound is inside; open bounds', () => {
    expect(evaluateRule(rule({ durationSeconds: 0 }), series('8', '8.000', '2.0', '8.0001', '5'))).toEqual([{ from: '2026-12-02T06:15:00.000Z', to: '2026-12-02T06:15:00.000Z', durationSeconds: 0, worstValue: '8.0001' }]);
    expect(evaluateRule(rule({ durationSeconds: 60 }), series('5', '9', '5'))).toEqual([]);
    expect(evaluateRule(rule({ min: null, max: '-18', durationSeconds: 0 }), series('-25', '-17.5', '-100'))).toEqual([{ from: '2026-12-02T06:05:00.000Z', to: '2026-12-02T06:05:00.000Z', durationSeconds: 0, worstValue: '-17.5' }]);
    expect(evaluateRule(rule({ min: '0', max: null, durationSeconds: 0 }), series('1000', '-0.01'))).toHaveLength(1);
    // Beyond a double's precision: 8.00000000000000000001 is outside, though Number() says 8.
    expect(evaluateRule(rule({ durationSeconds: 0 }), series('8.00000000000000000001'))).toHaveLength(1);
  });

  it('the worst value is the farthest outside by exact distance, on either side; the first of equals', () => {
    // 9.5 is 1.5 above, -1 is 3 below, 11 is 3 above (equal to -1's: the first stays).
    expect(evaluateRule(rule({ durationSeconds: 0 }), series('9.5', '-1', '11', '5'))[0].worstValue).toBe('-1');
    expect(evaluateRule(rule({ durationSeconds: 0 }), series('8.1', '8.10000000000000000001'))[0].worstValue).toBe('8.10000000000000000001');
  });

  it('ignores readings of another type or unit (no conversion) without ending a run; sorts by time; floors milliseconds', () => {
    const readings: SensorMeasurement[] = [
      { type: 'Temperature', uom: 'CEL', value: '9', time: '2026-12-02T06:10:00.999Z' },
      { type: 'Temperature', uom: 'FAH', value: '41', time: '2026-12-02T06:05:00.000Z' }, // 5 °C, but not in the rule's unit
      { type: 'RelativeHumidity', uom: 'P1', value: '50', time: '2026-12-02T06:05:00.000Z' },
      { type: 'Temperature', uom: 'CEL', value: '9.5', time: '2026-12-02T06:00:00.000Z' },
      { type: 'Temperature', uom: 'CEL', value: 12, time: '2026-12-02T06:20:00.000Z' } as unknown as SensorMeasurement, // not a string: refused below
    ];
    expect(evaluateRule(rule(), readings.slice(0, 4))).toEqual([{ from: '2026-12-02T06:00:00.000Z', to: '2026-12-02T06:10:00.999Z', durationSeconds: 600, worstValue: '9.5' }]);
    expect(evaluateRule(rule({ durationSeconds: 601 }), readings.slice(0, 4))).toEqual([]);
    expect(() => evaluateRule(rule(), readings)).toThrow(/not a decimal/);
    expect(() => evaluateRule(rule(), [{ type: 'Temperature', uom: 'CEL', value: '9', time: 'yesterday' }])).toThrow(/RFC 3339/);
  });
});

describe('rules, alerts and the disposition event', () => {
  it('a product rule covers the GTIN and its serialised items; other rules their own subject', () => {
    expect(ruleAppliesTo(rule(), GTIN)).toBe(true);
    expect(ruleAppliesTo(rule(), SGTIN)).toBe(true);
    expect(ruleAppliesTo(rule(), 'https://id.gs1.org/01/10614141073464/21/1')).toBe(false);
    expect(ruleAppliesTo(rule({ subject: { kind: 'shipment', id: SSCC } }), SSCC)).toBe(true);
    expect(ruleAppliesTo(rule({ subject: { kind: 'item', id: SGTIN } }), GTIN)).toBe(false);
  });

  it('breach dispositions are CBV 2.0 terms; the default is non_conformant', () => {
    for (const d of BREACH_DISPOSITIONS) expect(DISPOSITION_TERMS.terms).toContain(d);
    expect(DEFAULT_BREACH_DISPOSITION).toBe('non_conformant');
  });

  const breach = { from: '2026-12-02T06:10:00.000Z', to: '2026-12-02T06:20:00.000Z', durationSeconds: 600, worstValue: '9.25' };

  it('an alert is a plain record whose id is the hash of organization, rule, subject and start', () => {
    const alert = alertOf(rule({ disposition: 'damaged' }), breach, SGTIN);
    expect(alert).toEqual({
      alertId: toHex(sha256(utf8(`org1|cold-chain|${SGTIN}|2026-12-02T06:10:00.000Z`))),
      ruleId: 'cold-chain',
      organizationId: 'org1',
      subject: SGTIN,
      measurementType: 'Temperature',
      uom: 'CEL',
      min: '2',
      max: '8',
      from: breach.from,
      to: breach.to,
      durationSeconds: 600,
      worstValue: '9.25',
      disposition: 'damaged',
    });
    // The breach going on keeps the id; another organization's rule of the same name does not share it.
    expect(alertOf(rule(), { ...breach, to: '2026-12-02T07:00:00.000Z' }, SGTIN).alertId).toBe(alert.alertId);
    expect(alertOf(rule({ organizationId: 'org2' }), breach, SGTIN).alertId).not.toBe(alert.alertId);
    expect(alertOf(rule(), { ...breach, from: '2026-12-02T06:05:00.000Z' }, SGTIN).alertId).not.toBe(alert.alertId);
  });

  it('the disposition event sets the rule’s persistent disposition, is valid EPCIS 2.0 and hashes the same every time', () => {
    const alert = alertOf(rule(), breach, SGTIN);
    const event = dispositionEventOf(alert);
    expect(event).toEqual({
      type: 'ObjectEvent',
      eventTime: breach.to,
      eventTimeZoneOffset: '+00:00',
      epcList: [SGTIN],
      action: 'OBSERVE',
      bizStep: 'inspecting',
      persistentDisposition: { set: ['non_conformant'] },
      bizTransactionList: [{ type: 'urn:alliance:sensor-alert', bizTransaction: `urn:alliance:sensor-alert:${alert.alertId}` }],
      sensorElementList: [
        {
          sensorMetadata: { startTime: breach.from, endTime: breach.to, bizRules: 'urn:alliance:sensor-rule:org1:cold-chain' },
          sensorReport: [{ type: 'Temperature', exception: 'ALARM_CONDITION', value: 9.25, uom: 'CEL' }],
        },
      ],
    });
    expect(valid(event)).toEqual({ ok: true });
    expect(eventHashId(dispositionEventOf(alertOf(rule(), breach, SGTIN)))).toBe(eventHashId(event));
    expect(indexEvent({ eventID: eventHashId(event), ...event })).toMatchObject({ bizStep: 'inspecting', persistentSet: ['non_conformant'], epcs: [{ role: 'epc', epc: SGTIN }] });
    // A product subject is a class: a quantity list without quantity.
    const onProduct = dispositionEventOf(alertOf(rule(), breach, GTIN));
    expect(onProduct['quantityList']).toEqual([{ epcClass: GTIN }]);
    expect(onProduct['epcList']).toBeUndefined();
    expect(valid(onProduct)).toEqual({ ok: true });
    expect(() => dispositionEventOf({ ...alert, subject: 'urn:epc:id:sgtin:0614141.107346.2017' })).toThrow(/not a sensor subject/);
  });
});

describe('sensorEventOf', () => {
  const a = generateKeyPair('ed25519');
  const b = generateKeyPair('ed25519');
  const A = 'urn:epc:id:giai:0614141.TH-0042';
  const B = 'did:web:sensors.example.com:reefer-7';
  const sign = (deviceId: string, key: typeof a, observedAt: string, readings: Array<{ type: string; value: string | number; uom: string }>, organizationId = 'org1') =>
    signTelemetryReading({ deviceId, organizationId, keyId: keyId('ed25519', key.publicKey), observedAt, readings }, key);
  const batch: SensorBatch = {
    batchId: 'batch-0001',
    subject: SSCC,
    readings: [
      sign(B, b, '2026-12-02T06:00:00.000Z', [{ type: 'Temperature', value: '4.5', uom: 'CEL' }]),
      sign(A, a, '2026-12-02T06:00:00.000Z', [
        { type: 'Temperature', value: '-18.25', uom: 'CEL' },
        { type: 'RelativeHumidity', value: 55, uom: 'P1' },
      ]),
      sign(A, a, '2026-12-02T06:05:00.000Z', [{ type: 'Temperature', value: '-17.9', uom: 'CEL' }]),
    ],
    series: { sha256: toHex(sha256(utf8('raw'))), count: 600, from: '2026-12-02T06:00:00.000Z', to: '2026-12-02T06:05:00.000Z' },
  };
  const context = { transactionId: 'cd'.repeat(32), blockTimestamp: '2026-12-02T06:05:02.000Z', organizationId: 'org1' };

  it('is the EPCIS 2.0 ObjectEvent of the batch: one sensor element per device, values from the decimal strings', () => {
    const rawData = `ni:///sha-256;${Buffer.from(sha256(utf8('raw'))).toString('base64url')}`;
    const event = sensorEventOf(batch, context);
    expect(event).toEqual({
      type: 'ObjectEvent',
      eventTime: '2026-12-02T06:05:00.000Z',
      eventTimeZoneOffset: '+00:00',
      recordTime: '2026-12-02T06:05:02.000Z',
      epcList: [SSCC],
      action: 'OBSERVE',
      bizStep: 'sensor_reporting',
      bizTransactionList: [
        { type: 'urn:alliance:sensor-batch', bizTransaction: 'urn:alliance:sensor-batch:batch-0001' },
        { type: 'urn:alliance:ledger-transaction', bizTransaction: `urn:alliance:ledger-transaction:${'cd'.repeat(32)}` },
      ],
      sensorElementList: [
        {
          sensorMetadata: { time: '2026-12-02T06:00:00.000Z', deviceID: B, deviceMetadata: `urn:alliance:device:org1:${B}`, rawData },
          sensorReport: [{ type: 'Temperature', value: 4.5, uom: 'CEL', time: '2026-12-02T06:00:00.000Z' }],
        },
        {
          sensorMetadata: { time: '2026-12-02T06:05:00.000Z', startTime: '2026-12-02T06:00:00.000Z', endTime: '2026-12-02T06:05:00.000Z', deviceID: A, deviceMetadata: `urn:alliance:device:org1:${A}`, rawData },
          sensorReport: [
            { type: 'Temperature', value: -18.25, uom: 'CEL', time: '2026-12-02T06:00:00.000Z' },
            { type: 'RelativeHumidity', value: 55, uom: 'P1', time: '2026-12-02T06:00:00.000Z' },
            { type: 'Temperature', value: -17.9, uom: 'CEL', time: '2026-12-02T06:05:00.000Z' },
          ],
        },
      ].sort((x, y) => (x.sensorMetadata.deviceID < y.sensorMetadata.deviceID ? -1 : 1)),
    });
    expect(valid(event)).toEqual({ ok: true });
    // Deterministic: the same batch gives the same hash; the index keeps exact decimal text.
    expect(eventHashId(sensorEventOf(batch, context))).toBe(eventHashId(event));
    expect(eventHashId(sensorEventOf({ ...batch, batchId: 'batch-0002' }, context))).not.toBe(eventHashId(event));
    const index = indexEvent({ eventID: eventHashId(event), ...event });
    expect(index.sensorReports.map((r) => [r.deviceId, r.type, r.value])).toEqual(expect.arrayContaining([[A, 'Temperature', '-18.25'], [B, 'Temperature', '4.5'], [A, 'RelativeHumidity', '55']]));
    expect(index.bizTransactions).toContainEqual({ type: 'urn:alliance:sensor-batch', bizTransaction: 'urn:alliance:sensor-batch:batch-0001' });
  });

  it('a GTIN subject is a quantity list; no series, no rawData; another organization’s reading is a caller error', () => {
    const event = sensorEventOf({ batchId: 'batch-0003', subject: GTIN, readings: batch.readings.slice(0, 1) }, context);
    expect(event['quantityList']).toEqual([{ epcClass: GTIN }]);
    expect(JSON.stringify(event)).not.toContain('rawData');
    expect(valid(event)).toEqual({ ok: true });
    expect(() => sensorEventOf(batch, { ...context, organizationId: 'org2' })).toThrow(/org1's device, not of org2/);
  });

  it('measurementsOf feeds evaluateRule: integers as decimal strings, each measurement with its device and time', () => {
    const measurements = measurementsOf(batch);
    expect(measurements).toEqual([
      { deviceId: B, time: '2026-12-02T06:00:00.000Z', type: 'Temperature', value: '4.5', uom: 'CEL' },
      { deviceId: A, time: '2026-12-02T06:00:00.000Z', type: 'Temperature', value: '-18.25', uom: 'CEL' },
      { deviceId: A, time: '2026-12-02T06:00:00.000Z', type: 'RelativeHumidity', value: '55', uom: 'P1' },
      { deviceId: A, time: '2026-12-02T06:05:00.000Z', type: 'Temperature', value: '-17.9', uom: 'CEL' },
    ]);
    // A frozen-goods rule (at most -18 °C): interleaved, A's in-bounds -18.25 ends B's run — which is why the read
    // model evaluates one device's readings at a time.
    const frozen = rule({ subject: { kind: 'shipment', id: SSCC }, min: null, max: '-18', durationSeconds: 0 });
    expect(evaluateRule(frozen, measurements).map((x) => x.worstValue)).toEqual(['4.5', '-17.9']);
    expect(evaluateRule(frozen, measurements.filter((m) => m.deviceId === A))).toEqual([{ from: '2026-12-02T06:05:00.000Z', to: '2026-12-02T06:05:00.000Z', durationSeconds: 0, worstValue: '-17.9' }]);
    expect(evaluateRule({ ...frozen, durationSeconds: 300 }, measurements.filter((m) => m.deviceId === A))).toEqual([]);
    expect(evaluateRule(rule({ measurementType: 'RelativeHumidity', uom: 'P1', min: '30', max: '50', durationSeconds: 0 }), measurements)).toEqual([{ from: '2026-12-02T06:00:00.000Z', to: '2026-12-02T06:00:00.000Z', durationSeconds: 0, worstValue: '55' }]);
  });
});
