import { createHash } from 'node:crypto';
import { BIZ_STEP_TERMS, BIZ_TRANSACTION_TYPE_TERMS, canonicalId, canonicalTerm, DISPOSITION_TERMS, MEASUREMENT_TYPE_TERMS, parseGs1Key, SOURCE_DESTINATION_TYPE_TERMS } from '@alliance/provenance/domain';
import { AllianceError } from '@alliance/shared/util-errors';

/**
 * The EPCIS 2.0 SimpleEventQuery parameters of `GET /events` (GS1 REST
 * binding), parsed into SQL over the read model. Lists are pipe-delimited
 * (`EQ_bizStep=shipping|receiving`) or repeated. Identifiers match in their
 * one stored form, so a URN and a Digital Link of the same key match the
 * same events; a trailing `*` (or an EPC pattern URI, `urn:epc:idpat:…`)
 * matches by prefix. An unknown parameter is refused, as EPCIS's
 * QueryParameterException: a typo must not silently widen a query.
 */
export const QueryErrors = {
  invalid: (parameter: string, detail: string) => new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', `${parameter}: ${detail}`, { details: { parameter } }),
  unknown: (parameter: string) => new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', `${parameter} is not an EPCIS query parameter this repository knows (see docs/provenance.md, Query)`, { details: { parameter } }),
  pageToken: () => new AllianceError('PROVENANCE.INVALID_PAGE_TOKEN', 'invalid', 'nextPageToken does not belong to this query (send the same parameters with it) or is malformed'),
};

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 1000;
const MAX_VALUES = 100;

type Params = Record<string, string | string[] | undefined>;

const EVENT_TYPES = ['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent'];
const ACTIONS = ['ADD', 'OBSERVE', 'DELETE'];
const EPC_ROLES: Record<string, string[]> = {
  MATCH_epc: ['epc', 'child'],
  MATCH_parentID: ['parent'],
  MATCH_inputEPC: ['input'],
  MATCH_outputEPC: ['output'],
  MATCH_anyEPC: ['epc', 'child', 'parent', 'input', 'output'],
  MATCH_epcClass: ['quantity', 'child_quantity'],
  MATCH_inputEPCClass: ['input_quantity'],
  MATCH_outputEPCClass: ['output_quantity'],
  MATCH_anyEPCClass: ['quantity', 'child_quantity', 'input_quantity', 'output_quantity'],
};
const COMPARE: Record<string, string> = { EQ: '=', GT: '>', GE: '>=', LT: '<', LE: '<=' };
const CONTROL = new Set(['nextPageToken', 'perPage', 'format']);

/** Values of a parameter: repeated and/or pipe-delimited, each non-empty. */
function valuesOf(name: string, raw: string | string[]): string[] {
  const out = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split('|')).map((v) => v.trim());
  if (out.length === 0 || out.some((v) => v === '')) throw QueryErrors.invalid(name, 'empty value');
  if (out.length > MAX_VALUES) throw QueryErrors.invalid(name, `at most ${MAX_VALUES} values`);
  return out;
}

function single(name: string, raw: string | string[]): string {
  const values = valuesOf(name, raw);
  if (values.length !== 1) throw QueryErrors.invalid(name, 'takes one value');
  return values[0];
}

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
function timeOf(name: string, raw: string | string[]): string {
  // A '+' of an offset arrives as a space when the client did not escape it.
  const value = single(name, raw).replace(/ (\d{2}:\d{2})$/, '+$1');
  if (!TIME.test(value) || Number.isNaN(Date.parse(value))) throw QueryErrors.invalid(name, 'must be an RFC 3339 date-time with an offset, e.g. 2026-12-01T08:00:00.000+08:00');
  return value;
}

const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
function decimalOf(name: string, raw: string | string[]): string {
  const value = single(name, raw);
  if (!DECIMAL.test(value)) throw QueryErrors.invalid(name, 'must be a decimal number');
  return value;
}

/** An identifier to match: exact in its stored form, or a prefix for patterns. */
function matcherOf(name: string, value: string): { exact?: string; prefix?: string } {
  if (value.startsWith('urn:epc:idpat:')) {
    // urn:epc:idpat:sgtin:0614141.107346.* → the Digital Link prefix of that GTIN's instances.
    const m = /^urn:epc:idpat:([a-z]+):(.+)\.\*$/.exec(value);
    if (!m) throw QueryErrors.invalid(name, `${value}: only patterns with a wildcard last component are supported (urn:epc:idpat:sgtin:<prefix>.<item>.*)`);
    const probe = parseGs1Key(`urn:epc:id:${m[1]}:${m[2]}.0`);
    if (!probe.ok) throw QueryErrors.invalid(name, `${value}: ${probe.detail}`);
    return { prefix: probe.key.id.slice(0, probe.key.id.lastIndexOf('/') + 1) };
  }
  if (value.endsWith('*')) return { prefix: canonicalId(value.slice(0, -1)) };
  return { exact: canonicalId(value) };
}

export interface EventQuery {
  readonly where: string[];
  readonly values: unknown[];
  /** Digest of what the query selects (its normalised conditions): a page token is valid for the same query only. */
  readonly fingerprint: string;
  readonly perPage: number;
  readonly afterSeq: number | null;
}

/** Parses the query parameters of `GET /events` (and the `/…/events` sub-resources with a fixed filter added). */
export function parseEventQuery(params: Params, fixed: Params = {}): EventQuery {
  const where: string[] = [];
  const values: unknown[] = [];
  const bind = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const sensor: string[] = [];
  const all: Params = { ...params, ...fixed };
  for (const [name, raw] of Object.entries(all).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (raw === undefined || CONTROL.has(name)) continue;
    const m = /^(EQ|GT|GE|LT|LE)_(value|minValue|maxValue|meanValue)_([A-Z0-9]{2,4})$/.exec(name);
    if (m) {
      const column = { value: 'value', minValue: 'min_value', maxValue: 'max_value', meanValue: 'mean_value' }[m[2]];
      sensor.push(`r.uom = ${bind(m[3])} AND r.${column} ${COMPARE[m[1]]} ${bind(decimalOf(name, raw))}::numeric`);
      continue;
    }
    const q = /^(EQ|GT|GE|LT|LE)_quantity$/.exec(name);
    if (q) {
      where.push(`EXISTS (SELECT 1 FROM provenance.event_epcs x WHERE x.seq = e.seq AND x.role IN ('quantity', 'child_quantity', 'input_quantity', 'output_quantity') AND x.quantity ${COMPARE[q[1]]} ${bind(decimalOf(name, raw))}::numeric)`);
      continue;
    }
    const biz = /^EQ_bizTransaction_([a-z][a-zA-Z0-9_]+)$/.exec(name);
    if (biz) {
      where.push(`EXISTS (SELECT 1 FROM provenance.event_biz_transactions x WHERE x.seq = e.seq AND x.type = ${bind(canonicalTerm(biz[1], BIZ_TRANSACTION_TYPE_TERMS))} AND x.biz_transaction = ANY(${bind(valuesOf(name, raw))}))`);
      continue;
    }
    const party = /^EQ_(source|destination)_([a-z][a-zA-Z0-9_]+)$/.exec(name);
    if (party) {
      where.push(
        `EXISTS (SELECT 1 FROM provenance.event_parties x WHERE x.seq = e.seq AND x.kind = ${bind(party[1])} AND x.type = ${bind(canonicalTerm(party[2], SOURCE_DESTINATION_TYPE_TERMS))} AND x.party = ANY(${bind(valuesOf(name, raw).map(canonicalId))}))`,
      );
      continue;
    }
    if (EPC_ROLES[name]) {
      const matchers = valuesOf(name, raw).map((v) => matcherOf(name, v));
      const exact = matchers.flatMap((x) => (x.exact ? [x.exact] : []));
      const prefixes = matchers.flatMap((x) => (x.prefix ? [x.prefix] : []));
      const roles = bind(EPC_ROLES[name]);
      const parts: string[] = [];
      if (exact.length > 0) parts.push(`EXISTS (SELECT 1 FROM provenance.event_epcs x WHERE x.seq = e.seq AND x.role = ANY(${roles}) AND x.epc = ANY(${bind(exact)}))`);
      for (const p of prefixes) parts.push(`EXISTS (SELECT 1 FROM provenance.event_epcs x WHERE x.seq = e.seq AND x.role = ANY(${roles}) AND x.epc LIKE ${bind(likePrefix(p))})`);
      where.push(`(${parts.join(' OR ')})`);
      continue;
    }
    switch (name) {
      case 'eventType': {
        const types = valuesOf(name, raw);
        for (const t of types) if (!EVENT_TYPES.includes(t)) throw QueryErrors.invalid(name, `${t} is not one of ${EVENT_TYPES.join(', ')}`);
        where.push(`e.type = ANY(${bind(types)})`);
        break;
      }
      case 'GE_eventTime':
      case 'LT_eventTime':
      case 'GE_recordTime':
      case 'LT_recordTime':
      case 'GE_errorDeclarationTime':
      case 'LT_errorDeclarationTime': {
        const column = name.endsWith('eventTime') ? 'event_time' : name.endsWith('recordTime') ? 'record_time' : 'error_declaration_time';
        where.push(`e.${column} ${name.startsWith('GE') ? '>=' : '<'} ${bind(timeOf(name, raw))}::timestamptz`);
        break;
      }
      case 'EQ_action': {
        const actions = valuesOf(name, raw);
        for (const a of actions) if (!ACTIONS.includes(a)) throw QueryErrors.invalid(name, `${a} is not one of ${ACTIONS.join(', ')}`);
        where.push(`e.action = ANY(${bind(actions)})`);
        break;
      }
      case 'EQ_bizStep':
        where.push(`e.biz_step = ANY(${bind(valuesOf(name, raw).map((v) => canonicalTerm(v, BIZ_STEP_TERMS)))})`);
        break;
      case 'EQ_disposition':
        where.push(`e.disposition = ANY(${bind(valuesOf(name, raw).map((v) => canonicalTerm(v, DISPOSITION_TERMS)))})`);
        break;
      case 'EQ_persistentDisposition_set':
        where.push(`e.persistent_set && ${bind(valuesOf(name, raw).map((v) => canonicalTerm(v, DISPOSITION_TERMS)))}::text[]`);
        break;
      case 'EQ_persistentDisposition_unset':
        where.push(`e.persistent_unset && ${bind(valuesOf(name, raw).map((v) => canonicalTerm(v, DISPOSITION_TERMS)))}::text[]`);
        break;
      case 'EQ_readPoint':
      case 'EQ_bizLocation':
        where.push(`e.${name === 'EQ_readPoint' ? 'read_point' : 'biz_location'} = ANY(${bind(valuesOf(name, raw).map(canonicalId))})`);
        break;
      case 'WD_readPoint':
      case 'WD_bizLocation': {
        // "With descendants": the location and every sub-location of its GLN (SGLN extensions).
        const column = name === 'WD_readPoint' ? 'read_point' : 'biz_location';
        const parts = valuesOf(name, raw).map((v) => {
          const id = canonicalId(v);
          const gln = /^(https:\/\/id\.gs1\.org\/414\/\d{13})(\/254\/.*)?$/.exec(id);
          return gln && !gln[2] ? `(e.${column} = ${bind(id)} OR starts_with(e.${column}, ${bind(`${gln[1]}/254/`)}))` : `e.${column} = ${bind(id)}`;
        });
        where.push(`(${parts.join(' OR ')})`);
        break;
      }
      case 'EQ_transformationID':
        where.push(`e.transformation_id = ANY(${bind(valuesOf(name, raw))})`);
        break;
      case 'EQ_eventID':
        where.push(`e.event_id = ANY(${bind(valuesOf(name, raw))})`);
        break;
      case 'EXISTS_errorDeclaration':
        where.push('e.error_declaration_time IS NOT NULL');
        break;
      case 'EXISTS_sensorElementList':
        where.push('EXISTS (SELECT 1 FROM provenance.event_sensor_reports r WHERE r.seq = e.seq)');
        break;
      case 'EQ_type':
        sensor.push(`r.type = ANY(${bind(valuesOf(name, raw).map((v) => canonicalTerm(v, MEASUREMENT_TYPE_TERMS)))})`);
        break;
      case 'EQ_deviceID':
        sensor.push(`r.device_id = ANY(${bind(valuesOf(name, raw))})`);
        break;
      case 'GE_time':
      case 'LT_time':
        sensor.push(`r.time ${name.startsWith('GE') ? '>=' : '<'} ${bind(timeOf(name, raw))}::timestamptz`);
        break;
      case 'EQ_organizationID':
        // Not EPCIS: which member captured the event.
        where.push(`e.organization_id = ANY(${bind(valuesOf(name, raw))})`);
        break;
      default:
        throw QueryErrors.unknown(name);
    }
  }
  // Sensor conditions hold for one and the same sensor report.
  if (sensor.length > 0) where.push(`EXISTS (SELECT 1 FROM provenance.event_sensor_reports r WHERE r.seq = e.seq AND ${sensor.join(' AND ')})`);

  const perPageRaw = params['perPage'];
  const perPage = perPageRaw === undefined ? DEFAULT_PER_PAGE : Number(single('perPage', perPageRaw));
  if (!Number.isSafeInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) throw QueryErrors.invalid('perPage', `must be an integer from 1 to ${MAX_PER_PAGE}`);
  // What the query selects, after normalisation: a URN and a Digital Link of one key give one fingerprint.
  const fingerprint = createHash('sha256').update(JSON.stringify([where, values])).digest('base64url').slice(0, 16);
  const token = params['nextPageToken'];
  let afterSeq: number | null = null;
  if (token !== undefined) {
    const decoded = decodePageToken(single('nextPageToken', token));
    if (!decoded || decoded.q !== fingerprint) throw QueryErrors.pageToken();
    afterSeq = decoded.s;
  }
  return { where, values, fingerprint, perPage, afterSeq };
}

/** A LIKE pattern matching strings that start with `prefix` (its % _ and \\ escaped). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function encodePageToken(fingerprint: string, lastSeq: number): string {
  return Buffer.from(JSON.stringify({ q: fingerprint, s: lastSeq })).toString('base64url');
}

function decodePageToken(token: string): { q: string; s: number } | null {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { q?: unknown; s?: unknown };
    return typeof value.q === 'string' && Number.isSafeInteger(value.s) ? { q: value.q, s: value.s as number } : null;
  } catch {
    return null;
  }
}

/** The SQL of one page: events in repository order after the page token's position. */
export function eventPageSql(query: EventQuery, columns = 'e.seq, e.event_id, e.body, e.record_time, e.context'): { text: string; values: unknown[] } {
  const values = [...query.values];
  const where = [...query.where];
  if (query.afterSeq !== null) {
    values.push(query.afterSeq);
    where.push(`e.seq > $${values.length}`);
  }
  values.push(query.perPage + 1);
  return { text: `SELECT ${columns} FROM provenance.events e${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY e.seq LIMIT $${values.length}`, values };
}
