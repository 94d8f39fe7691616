import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventsOf } from './epcis-document';
import { canonicalId, canonicalTerm, indexEvent, TRANSFORMATION_NODE_PREFIX } from './event-index';
import { BIZ_STEP_TERMS } from './cbv-vocabulary';

const gs1 = join(__dirname, '..', 'test-vectors', 'gs1');
const example = (name: string) => eventsOf(JSON.parse(readFileSync(join(gs1, name), 'utf8'))).map((e, i) => indexEvent({ eventID: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, ...e }));

describe('indexEvent', () => {
  it('indexes every event of every GS1 example with its type and time', () => {
    for (const file of readdirSync(gs1).filter((f) => f.endsWith('.jsonld'))) {
      for (const index of example(file)) {
        expect(index.type).toMatch(/^(Object|Aggregation|Transaction|Transformation|Association)Event$/);
        expect(Date.parse(index.eventTime)).not.toBeNaN();
      }
    }
  });

  it('stores EPC URNs and Digital Links in one form, and CBV terms as bare words', () => {
    expect(canonicalId('urn:epc:id:sgtin:0614141.107346.2017')).toBe('https://id.gs1.org/01/10614141073464/21/2017');
    expect(canonicalId('https://example.com/01/10614141073464/21/2017')).toBe('https://id.gs1.org/01/10614141073464/21/2017');
    expect(canonicalId('urn:uuid:abc')).toBe('urn:uuid:abc');
    for (const v of ['shipping', 'https://ref.gs1.org/cbv/BizStep-shipping', 'urn:epcglobal:cbv:bizstep:shipping']) expect(canonicalTerm(v, BIZ_STEP_TERMS)).toBe('shipping');
    expect(canonicalTerm('https://example.com/steps/custom', BIZ_STEP_TERMS)).toBe('https://example.com/steps/custom');
  });

  it('draws aggregation children into their parent and transformations through one node per transformationID', () => {
    const [aggregation] = example('Example_9.6.3-AggregationEvent.jsonld');
    expect(aggregation.lineage.length).toBeGreaterThan(0);
    const parent = aggregation.epcs.find((e) => e.role === 'parent')!.epc;
    for (const e of aggregation.lineage) expect(e).toMatchObject({ to: parent, kind: 'aggregation' });
    expect(aggregation.lineage.map((e) => e.from).sort()).toEqual(aggregation.epcs.filter((e) => e.role === 'child' || e.role === 'child_quantity').map((e) => e.epc).sort());

    const [transformation] = example('Example_9.6.4-TransformationEvent.jsonld');
    const inputs = transformation.lineage.filter((e) => e.to.startsWith(TRANSFORMATION_NODE_PREFIX));
    const outputs = transformation.lineage.filter((e) => e.from.startsWith(TRANSFORMATION_NODE_PREFIX));
    expect(inputs.length).toBe(transformation.epcs.filter((e) => e.role === 'input' || e.role === 'input_quantity').length);
    expect(outputs.length).toBeGreaterThan(0);
    expect(new Set([...inputs.map((e) => e.to), ...outputs.map((e) => e.from)]).size).toBe(1);
  });

  it('a disaggregation adds no edge; a commissioning with a lot links the lot to its instances', () => {
    const base = { eventID: 'urn:uuid:1', eventTime: '2026-12-01T00:00:00Z', eventTimeZoneOffset: '+00:00' };
    expect(indexEvent({ ...base, type: 'AggregationEvent', action: 'DELETE', parentID: 'urn:epc:id:sscc:0614141.1234567890', childEPCs: ['urn:epc:id:sgtin:0614141.107346.1'] }).lineage).toEqual([]);
    const commissioning = indexEvent({ ...base, type: 'ObjectEvent', action: 'ADD', epcList: ['urn:epc:id:sgtin:0614141.107346.1'], ilmd: { 'cbvmda:lotNumber': 'L1' } });
    expect(commissioning.lineage).toEqual([{ from: 'https://id.gs1.org/01/10614141073464/10/L1', to: 'https://id.gs1.org/01/10614141073464/21/1', kind: 'lot' }]);
  });

  it('keeps sensor values as exact decimal text and normalises measurement types', () => {
    const reports = example('SensorDataExample1.jsonld').flatMap((e) => e.sensorReports);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.some((r) => r.type === 'Temperature')).toBe(true);
    for (const r of reports) for (const v of [r.value, r.minValue, r.maxValue, r.meanValue]) if (v !== null) expect(v).toMatch(/^-?\d+(\.\d+)?(e[-+]?\d+)?$/);
  });
});
