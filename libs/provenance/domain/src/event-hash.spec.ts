import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalDecimal, compareCodePoints, normaliseTimestamp } from './canonical-values';
import { gs1CheckDigit, normaliseGs1Identifier } from './dl-normaliser';
import { eventHashId, eventPreHashString } from './event-hash';

type Json = Record<string, unknown>;
const VECTORS = join(__dirname, '..', 'test-vectors');
const REFERENCE = join(VECTORS, 'reference');

function readJson(path: string): Json {
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}
function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}
/** The events of an EPCIS document or EPCIS query document, as the reference finds them. */
function eventsOf(doc: Json): Json[] {
  const body = doc['epcisBody'] as Json;
  if (Array.isArray(body['eventList'])) return body['eventList'] as Json[];
  const results = body['queryResults'] as Json | undefined;
  if (results !== undefined) return (results['resultsBody'] as Json)['eventList'] as Json[];
  return [body['event'] as Json];
}

const referenceDocuments = readdirSync(join(REFERENCE, 'documents')).sort();

describe('reference vectors (RalphTro/epcis-event-hash-generator, tests/examples, CBV2.0)', () => {
  it('has the copied documents and their expected hashes', () => {
    expect(referenceDocuments.length).toBeGreaterThanOrEqual(5);
    for (const file of referenceDocuments) {
      const stem = file.replace(/\.json(ld)?$/, '');
      expect(existsSync(join(REFERENCE, 'expected', 'CBV2.0', `${stem}.hashes`)), stem).toBe(true);
    }
  });

  for (const file of referenceDocuments) {
    const stem = file.replace(/\.json(ld)?$/, '');
    it(`${stem}: every event hashes to the published value`, () => {
      const doc = readJson(join(REFERENCE, 'documents', file));
      const events = eventsOf(doc);
      const expectedHashes = lines(join(REFERENCE, 'expected', 'CBV2.0', `${stem}.hashes`));
      const prehashFile = join(REFERENCE, 'expected', 'CBV2.0', `${stem}.prehashes`);
      const expectedPre = existsSync(prehashFile) ? lines(prehashFile) : null;
      expect(events.length).toBe(expectedHashes.length);
      events.forEach((event, i) => {
        const options = { context: doc['@context'] };
        if (expectedPre !== null) expect(eventPreHashString(event, options), `${stem} #${i} pre-hash`).toBe(expectedPre[i]);
        expect(eventHashId(event, options), `${stem} #${i}`).toBe(expectedHashes[i]);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// GS1 EPCIS 2.0 examples (test-vectors/gs1, copied from the GS1 EPCIS 2.0 standard's examples).

const GS1 = join(VECTORS, 'gs1');
const gs1Documents = readdirSync(GS1).filter((f) => f.endsWith('.jsonld')).sort();
const gs1Events = gs1Documents.flatMap((file) => {
  const doc = readJson(join(GS1, file));
  return eventsOf(doc).map((event, i) => ({ name: `${file} #${i}`, event, context: doc['@context'] }));
});
const HASH_FORM = /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/;
const IGNORED = ['eventID', 'recordTime', 'errorDeclaration', 'certificationInfo'];

function reorder(value: unknown): unknown {
  if (Array.isArray(value)) return [...value].reverse().map(reorder);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reorder(v)]));
  }
  return value;
}

type Path = (string | number)[];
function leaves(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [path];
}
function mutated(event: Json, path: Path): Json {
  const copy = structuredClone(event);
  let parent = copy as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  const v = parent[last];
  parent[last] = typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : `${String(v)}X`;
  return copy;
}

/** The same instant as `eventTime`, written with the offset +05:30. */
function atOtherOffset(eventTime: string): string {
  const utc = new Date(normaliseTimestamp(eventTime));
  expect(Number.isNaN(utc.getTime())).toBe(false);
  const shifted = new Date(utc.getTime() + 330 * 60_000).toISOString().slice(0, 23);
  return `${shifted}+05:30`;
}

describe('GS1 EPCIS 2.0 examples', () => {
  it('covers every event type', () => {
    const types = new Set(gs1Events.map((e) => e.event['type']));
    expect([...types].sort()).toEqual(['AggregationEvent', 'AssociationEvent', 'ObjectEvent', 'TransactionEvent', 'TransformationEvent']);
    expect(gs1Events.length).toBeGreaterThanOrEqual(13);
  });

  it('Example 9.6.1 hashes to the values the reference publishes for the same two events (its epcisQueryDocument)', () => {
    const published = lines(join(REFERENCE, 'expected', 'CBV2.0', 'epcisQueryDocument.hashes'));
    const doc = readJson(join(GS1, 'Example_9.6.1-ObjectEvent.jsonld'));
    expect(eventsOf(doc).map((e) => eventHashId(e, { context: doc['@context'] }))).toEqual(published);
  });

  for (const { name, event, context } of gs1Events) {
    describe(name, () => {
      const hash = eventHashId(event, { context });

      it('is an ni URI and deterministic', () => {
        expect(hash).toMatch(HASH_FORM);
        expect(eventHashId(structuredClone(event), { context })).toBe(hash);
      });

      it('does not depend on the order of JSON keys or list elements', () => {
        expect(eventHashId(reorder(event) as Json, { context })).toBe(hash);
      });

      it('does not depend on the offset eventTime is written in', () => {
        const other = { ...event, eventTime: atOtherOffset(event['eventTime'] as string) };
        expect(other['eventTime']).not.toBe(event['eventTime']);
        expect(eventHashId(other, { context })).toBe(hash);
      });

      it('changes when any business field changes', () => {
        const fields = leaves(event).filter((p) => !IGNORED.includes(String(p[0])));
        expect(fields.length).toBeGreaterThan(5);
        for (const path of fields) expect(eventHashId(mutated(event, path), { context }), path.join('.')).not.toBe(hash);
      });

      it('ignores eventID, recordTime, errorDeclaration and certificationInfo', () => {
        const withIgnored = {
          ...event,
          eventID: 'urn:uuid:00000000-0000-4000-8000-000000000000',
          recordTime: '2030-01-01T00:00:00.000Z',
          errorDeclaration: { declarationTime: '2030-01-01T00:00:00.000Z', reason: 'incorrect_data' },
          certificationInfo: 'https://certifier.example.org/certificate/1',
        };
        expect(eventHashId(withIgnored, { context })).toBe(hash);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The rules one by one.

const CONTEXT = ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: 'https://ns.example.com/epcis/' }];
const BASE: Json = {
  type: 'ObjectEvent',
  eventTime: '2020-03-04T11:00:30+01:00',
  eventTimeZoneOffset: '+01:00',
  epcList: ['urn:epc:id:sgtin:0614141.011111.987'],
  action: 'OBSERVE',
  bizStep: 'departing',
};
const BASE_PRE =
  'eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+01:00' +
  'epcListepc=https://id.gs1.org/01/00614141111114/21/987action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-departing';

describe('eventPreHashString', () => {
  it('writes the canonical order, UTC milliseconds, the offset field, Digital Link EPCs and the CBV Web URI', () => {
    expect(eventPreHashString(BASE)).toBe(BASE_PRE);
  });

  it('keeps eventTimeZoneOffset in the hash: the same instant with another recorded offset is another event', () => {
    expect(eventHashId({ ...BASE, eventTimeZoneOffset: '+02:00' })).not.toBe(eventHashId(BASE));
  });

  it('expands extension names with the document @context (or the event’s own) and sorts them after the standard fields', () => {
    const event = { ...BASE, 'example:b': '2', 'example:a': { 'example:y': '1.50', 'example:x': 'text' } };
    const expected = `${BASE_PRE}{https://ns.example.com/epcis/}a{https://ns.example.com/epcis/}x=text{https://ns.example.com/epcis/}y=1.5{https://ns.example.com/epcis/}b=2`;
    expect(eventPreHashString(event, { context: CONTEXT })).toBe(expected);
    expect(eventPreHashString({ ...event, '@context': CONTEXT })).toBe(expected);
    // Without a definition of the prefix the name stays as written: the hash is another one.
    expect(eventPreHashString(event)).toContain('example:a');
  });

  it('puts extensions of readPoint into a trailing block under readPoint (CBV 2.0)', () => {
    const event = { ...BASE, readPoint: { id: 'urn:epc:id:sgln:4012345.00011.0', 'example:f': 'AB-12' } };
    expect(eventPreHashString(event, { context: CONTEXT })).toBe(
      `${BASE_PRE}readPointid=https://id.gs1.org/414/4012345000115readPoint{https://ns.example.com/epcis/}f=AB-12`,
    );
  });

  it('writes bizTransaction, source and destination entries type first, whatever the JSON key order', () => {
    const typeFirst = { ...BASE, bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epc:id:gdti:4012345.11111.123' }] };
    const valueFirst = { ...BASE, bizTransactionList: [{ bizTransaction: 'urn:epc:id:gdti:4012345.11111.123', type: 'po' }] };
    expect(eventPreHashString(typeFirst)).toContain('bizTransactionListtype=https://ref.gs1.org/cbv/BTT-pobizTransaction=https://id.gs1.org/253/4012345111118123');
    expect(eventPreHashString(valueFirst)).toBe(eventPreHashString(typeFirst));
    const untyped = { ...BASE, sourceList: [{ source: 'urn:epc:id:pgln:4012345.00000' }] };
    expect(eventPreHashString(untyped)).toBe(`${BASE_PRE}sourceListsource=https://id.gs1.org/417/4012345000009`);
  });

  it('writes quantities without trailing zeros and sensor reports sorted, without a sensorElementList name (CBV 2.0)', () => {
    const event = {
      ...BASE,
      quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.012345.998877', quantity: 200.50, uom: 'KGM' }],
      sensorElementList: [{ sensorReport: [{ type: 'Temperature', value: 26.0 }, { type: 'gs1:AbsoluteHumidity', value: 12.1 }] }],
    };
    const pre = eventPreHashString(event);
    expect(pre).toContain('quantityListquantityElementepcClass=https://id.gs1.org/01/04012345123456/10/998877quantity=200.5uom=KGM');
    expect(pre).toContain(
      'sensorElementsensorReporttype=https://ref.gs1.org/voc/AbsoluteHumidityvalue=12.1sensorReporttype=https://ref.gs1.org/voc/Temperaturevalue=26',
    );
    expect(pre).not.toContain('sensorElementList');
  });

  it('rejects what is not a JSON object', () => {
    expect(() => eventPreHashString([] as unknown as Json)).toThrow(TypeError);
    expect(() => eventPreHashString(null as unknown as Json)).toThrow(TypeError);
  });
});

describe('value canonicalisation', () => {
  it('renders numbers as Python Decimal does in the reference', () => {
    const cases: [string, string][] = [
      ['1.0', '1'], ['0.3434000', '0.3434'], ['200.5', '200.5'], ['0614141', '614141'], ['1e3', '1E+3'],
      ['12E1', '1.2E+2'], ['1e-7', '0.0000001'], ['-0.0', '-0'], ['+5', '5'], ['.5', '0.5'], ['1_000', '1000'],
      ['abc', 'abc'], ['NaN', 'NaN'], ['12.1.1', '12.1.1'], ['+01:00', '+01:00'],
    ];
    for (const [input, output] of cases) expect(canonicalDecimal(input), input).toBe(output);
  });

  it('normalises timestamps to UTC milliseconds, rounding half-up', () => {
    expect(normaliseTimestamp('2023-02-02T11:04:03.1415Z')).toBe('2023-02-02T11:04:03.142Z');
    expect(normaliseTimestamp('2023-02-02T11:04:03.1414Z')).toBe('2023-02-02T11:04:03.141Z');
    expect(normaliseTimestamp('2020-12-31T23:59:59.9996+00:00')).toBe('2021-01-01T00:00:00.000Z');
    expect(normaliseTimestamp('2020-03-04T11:00:30+01:00')).toBe('2020-03-04T10:00:30.000Z');
    expect(normaliseTimestamp('2019-10-21T00:05:00-06:00')).toBe('2019-10-21T06:05:00.000Z');
    expect(normaliseTimestamp('2020-02-30T00:00:00Z')).toBe('2020-02-30T00:00:00Z');
    expect(normaliseTimestamp('not a time')).toBe('not a time');
  });

  it('orders strings by code point', () => {
    expect(['b', 'B', '{x}', 'a=', 'a{'].sort(compareCodePoints)).toEqual(['B', 'a=', 'a{', 'b', '{x}']);
    expect(compareCodePoints('\u{1F600}', '\uFFFF')).toBeGreaterThan(0);
  });
});

describe('GS1 identifiers', () => {
  it('computes GS1 check digits', () => {
    expect(gs1CheckDigit('04012345000000333')).toBe(8);
    expect(gs1CheckDigit('401234500011')).toBe(5);
  });

  it('turns EPC URIs into canonical Digital Link URIs and constrains Digital Link URIs', () => {
    expect(normaliseGs1Identifier('urn:epc:id:sscc:4012345.0000000333')).toBe('https://id.gs1.org/00/040123450000003338');
    expect(normaliseGs1Identifier('urn:epc:id:sgln:4012345.00011.987')).toBe('https://id.gs1.org/414/4012345000115/254/987');
    expect(normaliseGs1Identifier('urn:epc:class:lgtin:4012345.012345.998877')).toBe('https://id.gs1.org/01/04012345123456/10/998877');
    expect(normaliseGs1Identifier('https://example.com/some/path/01/04012345123456/10/L1/21/S1?17=230101')).toBe(
      'https://id.gs1.org/01/04012345123456/21/S1',
    );
    expect(normaliseGs1Identifier('https://id.gs1.org/gtin/4012345123456/ser/7')).toBe('https://id.gs1.org/01/04012345123456/21/7');
    expect(normaliseGs1Identifier('urn:epcglobal:cbv:bt:5200001000008:4711')).toBeNull();
    expect(normaliseGs1Identifier('geo:50.94,6.92')).toBeNull();
  });
});
