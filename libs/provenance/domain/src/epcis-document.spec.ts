import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventsOf, MAX_REPORTED_PROBLEMS, validateEpcisDocument } from './epcis-document';

const GS1 = join(__dirname, '..', 'test-vectors', 'gs1');
const examples = readdirSync(GS1).filter((f) => f.endsWith('.jsonld'));
const read = (file: string) => JSON.parse(readFileSync(join(GS1, file), 'utf8')) as Record<string, unknown>;
const objectEvent = () => read('Example_9.6.1-ObjectEvent.jsonld');

describe('EPCIS 2.0 documents against the GS1 JSON Schema', () => {
  it('accepts every GS1 example document', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
    for (const file of examples) expect([file, validateEpcisDocument(read(file))]).toEqual([file, { ok: true }]);
  });

  it('names where a document is wrong and why, with JSON Pointers', () => {
    const doc = objectEvent();
    const [first, second] = eventsOf(doc);
    delete first['eventTime'];
    second['action'] = 'MOVE';
    const result = validateEpcisDocument(doc);
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toContainEqual({ path: '/epcisBody/eventList/0', message: 'must have property "eventTime"', keyword: 'required' });
    expect(problems).toContainEqual(expect.objectContaining({ path: '/epcisBody/eventList/1/action', keyword: 'enum', message: expect.stringContaining('"OBSERVE"') }));
  });

  it('checks formats and the document type', () => {
    const doc = objectEvent();
    eventsOf(doc)[0]['eventTime'] = '2005-04-03 20:33:31';
    const bad = validateEpcisDocument(doc);
    expect(bad.ok === false && bad.problems.some((p) => p.path === '/epcisBody/eventList/0/eventTime' && p.keyword === 'format')).toBe(true);
    expect(validateEpcisDocument({ type: 'EPCISDocument' })).toMatchObject({ ok: false });
    expect(validateEpcisDocument([])).toMatchObject({ ok: false, problems: [{ path: '/' }] });
    expect(validateEpcisDocument(null)).toMatchObject({ ok: false });
  });

  it('reports a bounded number of problems for a hostile document', () => {
    const doc = objectEvent();
    const template = eventsOf(doc)[0];
    (doc['epcisBody'] as { eventList: unknown[] }).eventList = Array.from({ length: 500 }, () => ({ ...template, action: 'NOPE', eventTime: 'never' }));
    const result = validateEpcisDocument(doc);
    expect(result.ok === false && result.problems.length).toBe(MAX_REPORTED_PROBLEMS);
  });

  it('finds the events of a document and of a query document', () => {
    expect(eventsOf(objectEvent())).toHaveLength(2);
    expect(eventsOf({ epcisBody: { queryResults: { resultsBody: { eventList: [{ type: 'ObjectEvent' }] } } } })).toHaveLength(1);
    expect(eventsOf({})).toEqual([]);
  });
});
