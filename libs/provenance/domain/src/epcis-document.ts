import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** One reason a document is not valid EPCIS 2.0 JSON: where (a JSON Pointer into the document) and why. */
export interface EpcisProblem {
  readonly path: string;
  readonly message: string;
  /** The JSON Schema keyword that failed (`required`, `enum`, `format`, …). */
  readonly keyword: string;
}

export type EpcisValidation = { readonly ok: true } | { readonly ok: false; readonly problems: readonly EpcisProblem[] };

/** At most this many problems are reported: enough to fix a document, bounded for a hostile one. */
export const MAX_REPORTED_PROBLEMS = 50;

let compiled: ValidateFunction | undefined;

/**
 * The GS1 EPCIS 2.0 JSON Schema (`schemas/EPCIS-JSON-Schema.json`, GS1's file
 * unchanged, GS1-LICENSE.txt beside it), compiled once (draft-07, formats
 * `date-time` and `uri` checked).
 */
function validator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(join(__dirname, 'schemas', 'EPCIS-JSON-Schema.json'), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv, ['date-time', 'uri']);
    compiled = ajv.compile(schema);
  }
  return compiled;
}

// `if` branches only say which `then` applied; the `then`'s own errors say what is wrong.
const NOISE = new Set(['if', 'allOf', 'anyOf', 'oneOf']);

function describe(error: ErrorObject): EpcisProblem {
  const params = error.params as Record<string, unknown>;
  let message = error.message ?? 'is not valid';
  if (error.keyword === 'required') message = `must have property "${String(params['missingProperty'])}"`;
  else if (error.keyword === 'additionalProperties') message = `must not have property "${String(params['additionalProperty'])}"`;
  else if (error.keyword === 'enum' && Array.isArray(params['allowedValues'])) message = `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  return { path: error.instancePath || '/', message, keyword: error.keyword };
}

/**
 * Validates an EPCIS 2.0 document (or a single event, or a query document)
 * against the GS1 JSON Schema. Problems are distinct, in document order, at
 * most MAX_REPORTED_PROBLEMS.
 */
export function validateEpcisDocument(document: unknown): EpcisValidation {
  const validate = validator();
  if (validate(document)) return { ok: true };
  const seen = new Set<string>();
  const problems: EpcisProblem[] = [];
  for (const error of validate.errors ?? []) {
    if (NOISE.has(error.keyword)) continue;
    const problem = describe(error);
    const key = `${problem.path} ${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
    if (problems.length >= MAX_REPORTED_PROBLEMS) break;
  }
  // Only combinator errors: say so rather than nothing.
  if (problems.length === 0) problems.push({ path: '/', message: 'does not match the EPCIS 2.0 JSON Schema', keyword: 'schema' });
  return { ok: false, problems };
}

/** The events of an EPCISDocument (`epcisBody.eventList`) or an EPCISQueryDocument (`epcisBody.queryResults.resultsBody.eventList`). */
export function eventsOf(document: unknown): Array<Record<string, unknown>> {
  const body = (document as { epcisBody?: Record<string, unknown> } | null)?.epcisBody;
  const list = body?.['eventList'] ?? (body?.['queryResults'] as { resultsBody?: { eventList?: unknown } } | undefined)?.resultsBody?.eventList;
  return Array.isArray(list) ? (list as Array<Record<string, unknown>>) : [];
}
