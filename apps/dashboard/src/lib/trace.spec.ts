import { describe, expect, it } from 'vitest';
import { alertsOf, describeDepth, readingsOf, shortLabel } from './trace';

const event = (eventTime: string, body: Record<string, unknown>) => ({ eventTime, json: JSON.stringify({ eventTime, ...body }) });

describe('trace helpers', () => {
  it('reads sensor reports per type and unit, by time, with the element or event time when a report has none', () => {
    const series = readingsOf([
      event('2026-12-01T12:00:00Z', {
        sensorElementList: [
          { sensorMetadata: { time: '2026-12-01T11:30:00Z' }, sensorReport: [{ type: 'gs1:MT-Temperature', value: 9.5, uom: 'CEL' }, { type: 'gs1:MT-Temperature', value: '4.25', uom: 'CEL', time: '2026-12-01T11:00:00Z' }] },
        ],
      }),
      event('2026-12-01T13:00:00Z', { sensorElementList: [{ sensorReport: [{ type: 'MT-Humidity', value: 40, uom: 'A93' }, { type: 'gs1:MT-Temperature', stringValue: 'n/a' }] }] }),
      event('2026-12-01T14:00:00Z', { epcList: ['x'] }),
      { eventTime: '2026-12-01T15:00:00Z', json: 'not json' },
    ]);
    expect(series).toEqual([
      { measurementType: 'MT-Humidity', uom: 'A93', readings: [{ time: '2026-12-01T13:00:00Z', value: '40' }] },
      { measurementType: 'MT-Temperature', uom: 'CEL', readings: [{ time: '2026-12-01T11:00:00Z', value: '4.25' }, { time: '2026-12-01T11:30:00Z', value: '9.5' }] },
    ]);
  });

  it('matches alerts to a series by measurement type and unit', () => {
    const a = { alertId: 'a1', measurementType: 'gs1:MT-Temperature', uom: 'CEL', min: null, max: '8', from: 't0', to: 't1', worstValue: '9.5', disposition: 'damaged' };
    const series = { measurementType: 'MT-Temperature', uom: 'CEL', readings: [] };
    expect(alertsOf(series, [a, { ...a, alertId: 'a2', uom: 'FAH' }, { ...a, alertId: 'a3', measurementType: 'MT-Humidity' }]).map((x) => x.alertId)).toEqual(['a1']);
  });

  it('labels nodes and their depth', () => {
    expect(shortLabel('urn:epc:id:sscc:0614141.1234567890')).toBe('SSCC 0614141.1234567890');
    expect(shortLabel('https://id.gs1.org/01/09506000134352/21/2017')).toBe('01/09506000134352/21/2017');
    expect(shortLabel('transformation:abc')).toBe('transformation:abc');
    expect(describeDepth(0)).toBe('searched item');
    expect(describeDepth(-1)).toBe('1 hop upstream');
    expect(describeDepth(2)).toBe('2 hops downstream');
  });
});
