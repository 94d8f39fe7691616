// Issue 9, bad input: property-based fuzzing (fast-check, fixed seed) of every
// REST operation of every service's OpenAPI document and every root field of
// the federated GraphQL schema, through the gateway of an `npm start` of its
// own (docs/security.md, Fuzz suite). No answer may be a 5xx; every 4xx is
// problem+json with a code (GraphQL: every error has extensions.code); no
// request the suite meant to be refused may write; the ledger's VALID
// transactions grow only by the writes the suite meant to be valid. The run
// prints and writes (test-results/fuzz/report.json) requests per endpoint.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { buildClientSchema, getIntrospectionQuery, getNamedType, type GraphQLArgument, type GraphQLField, type GraphQLInputType, type GraphQLNamedType, type GraphQLSchema, isEnumType, isInputObjectType, isLeafType, isListType, isNonNullType, isObjectType, isInterfaceType, isScalarType, type IntrospectionQuery } from 'graphql';
import { describe, expect, it } from 'vitest';
import { type Envelope, formatTimestamp, fromHex, keyId, sha256, signTransaction, toHex, transactionId, utf8 } from '@alliance/protocol';
import type { Session } from '@alliance/sdk';
import { changedKeys, type LedgerSnapshot, ledgerSnapshot, npmStart } from './npm-start';
import { root } from './support';

const SEED = Number(process.env.FUZZ_SEED ?? 9_2026);
/** Generated requests per operation and kind (valid-shaped, other organization's ids). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 3);
const CONCURRENCY = 8;
const SERVICES = ['identity', 'ledger', 'provenance', 'finance', 'audit'] as const;

// The suite's own clients must not be slowed by the limit it does not test here (limits.int-spec.ts does).
const stack = npmStart('fuzz', 3800, 54400, { RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000' });

// ---------------------------------------------------------------------------
// Generators

/** Strings that break naive code: Unicode edge cases, injection shapes, numbers that are not. */
const EDGE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  '\ufeffbom',
  'e\u0301\u0301\u0301',
  '\u{1f4a9}\u{1f468}\u200d\u{1f469}\u200d\u{1f467}',
  '%00',
  '%c0%af',
  '..',
  '../../etc/passwd',
  "' OR 1=1 --",
  '"; DROP TABLE x; --',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  '-1',
  '0',
  '1e309',
  'NaN',
  '9007199254740993',
  '-0',
  'null',
  'true',
  'org1',
  'org2',
  'regulator',
  'urn:epc:id:sgtin:0614141.107346.2017',
  '00000000-0000-0000-0000-000000000000',
  'f'.repeat(64),
];
const edgeString = fc.constantFrom(...EDGE_STRINGS);
const hugeString = fc.constantFrom('x'.repeat(10_000), '\u{1f4a9}'.repeat(5_000), 'a'.repeat(200_000));
const anyString = fc.oneof({ weight: 4, arbitrary: edgeString }, { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) }, { weight: 1, arbitrary: hugeString });
const edgeNumber = fc.oneof(fc.constantFrom(0, -1, 1, 2 ** 31, -(2 ** 53), 2 ** 53 + 2, 1e308, -1e-308, 0.1), fc.integer(), fc.double({ noNaN: true }));
/** Keys the services' bodies use, so generated objects reach past "unknown field". */
const FIELD_NAMES = [
  'organizationId', 'agentId', 'keyId', 'deviceId', 'id', 'amount', 'currency', 'debtor', 'creditor', 'holder', 'financier', 'dueDate', 'faceValue', 'receivableId',
  'financingId', 'creditLineId', 'limit', 'to', 'from', 'parts', 'reason', 'epc', 'item', 'events', 'type', 'value', 'readings', 'rule', 'threshold', 'documents', 'signature',
  'nonce', 'timestamp', 'payload', 'transaction', 'refreshToken', 'challengeId', 'envelope', 'leaseId', 'receiptId', 'quantity', '__proto__', 'constructor',
];
const leafValue = fc.oneof(anyString, edgeNumber, fc.boolean(), fc.constant(null));
const jsonBody: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafValue, tie('object'), fc.array(tie('value'), { maxLength: 4 })),
  object: fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 6 }),
})).object;
const deepNesting = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Raw bodies that are not the JSON they claim to be (or are, at a size or depth no one expects). */
const RAW_BODIES: Array<{ name: string; body: string | Buffer; type?: string; encoding?: string }> = [
  { name: 'truncated', body: '{"organizationId": "org1", "amount": ' },
  { name: 'trailing-garbage', body: '{"a":1} x' },
  { name: 'single-quotes', body: "{'a': 1}" },
  { name: 'nul-byte', body: '{"a":"\u0000"}' },
  { name: 'escaped-nul', body: '{"a":"\\u0000","organizationId":"org1\\u0000"}' },
  { name: 'lone-surrogate', body: '{"a":"\\ud800","organizationId":"\\udfff"}' },
  { name: 'overlong-utf8', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0xe0, 0x80, 0xaf, 0x22, 0x7d]) },
  { name: 'invalid-utf8', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
  { name: 'bom', body: '\ufeff{"a":1}' },
  { name: 'deep-array', body: deepNesting(20_000) },
  { name: 'deep-object', body: deepObject(5_000) },
  { name: 'duplicate-keys', body: '{"organizationId":"org1","organizationId":"org2"}' },
  { name: 'proto-pollution', body: '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}' },
  { name: 'huge', body: JSON.stringify({ a: 'x'.repeat(2 * 1024 * 1024) }) },
  { name: 'scalar', body: '"just a string"' },
  { name: 'empty', body: '' },
  { name: 'text-plain', body: 'organizationId=org1', type: 'text/plain' },
  { name: 'xml', body: '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', type: 'application/xml' },
  { name: 'form', body: 'organizationId=org1&amount=1', type: 'application/x-www-form-urlencoded' },
  { name: 'multipart', body: '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n', type: 'multipart/form-data; boundary=b' },
  { name: 'utf16-charset', body: Buffer.from('{"a":1}', 'utf16le'), type: 'application/json; charset=utf-16' },
  { name: 'bad-gzip', body: Buffer.from('not gzip at all'), encoding: 'gzip' },
  { name: 'gzip-bomb', body: gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)), encoding: 'gzip' },
  { name: 'unknown-encoding', body: '{"a":1}', encoding: 'x-snappy' },
];

const COSTLY_BODIES = new Set(['huge', 'gzip-bomb', 'deep-array', 'deep-object']);

// ---------------------------------------------------------------------------
// Recording

type Kind = 'shaped' | 'other-org' | 'no-token' | 'expired-token' | 'tampered-token' | 'garbage-token' | 'alg-none-token' | 'malformed' | 'limits';
interface Tally {
  requests: number;
  ms: number;
  statuses: Record<string, number>;
  kinds: Partial<Record<Kind, number>>;
}
const tally = new Map<string, Tally>();
const violations: string[] = [];
const acceptedWrites: string[] = [];

function record(endpoint: string, kind: Kind, status: number | string, ms = 0): void {
  let t = tally.get(endpoint);
  if (!t) tally.set(endpoint, (t = { requests: 0, ms: 0, statuses: {}, kinds: {} }));
  t.requests++;
  t.ms += Math.round(ms);
  t.statuses[String(status)] = (t.statuses[String(status)] ?? 0) + 1;
  t.kinds[kind] = (t.kinds[kind] ?? 0) + 1;
}

function violation(endpoint: string, kind: Kind, what: string, request: string, answer: string): void {
  if (violations.length < 200) violations.push(`${endpoint} [${kind}] ${what}\n    request: ${request.slice(0, 300)}\n    answer: ${answer.slice(0, 400)}`);
}

/**
 * One request on a connection of its own (no keep-alive): an answer that ends its connection early (a refused
 * huge body) cannot break the next request, and every request meets the server fresh.
 */
function send(url: string, method: string, headers: Record<string, string>, body?: string | Buffer): Promise<{ status: number; contentType: string; text: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    // Node frames no body of a DELETE (nor GET, OPTIONS) unless told its length: sent bare, the server would read it as the next request.
    const framed = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest(url, { method, headers: framed, agent: false, timeout: 60_000 }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('the answer was cut off')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 60 s')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may answer (413) and close before it read a huge body: the answer counts, not the broken pipe;
      // no answer within 3 s of the broken pipe is no answer.
      if ((error.code === 'EPIPE' || error.code === 'ECONNRESET') && !answered) setTimeout(() => (answered ? undefined : reject(error)), 3_000);
      else if (!answered) reject(error);
    });
    req.end(body);
  });
}

async function runPool<T>(items: readonly T[], worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await worker(items[next++]);
    }),
  );
}

// ---------------------------------------------------------------------------
// Tokens

interface Tokens {
  org1: Session;
  org2: Session;
  regulator: Session;
  /** An access token of org1 taken at the start: expired by the time the expired-token phase runs. */
  early: string;
}

function tamper(token: string): string {
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, org: 'org2', organizationId: 'org2', admin: true, exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
  return `${h}.${forged}.${s}`;
}

function algNone(token: string): string {
  const [, p] = token.split('.');
  return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
}

function expiryOf(token: string): number {
  return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp: number }).exp * 1000;
}

async function authFor(kind: Kind, tokens: Tokens, org: 'org1' | 'org2' = 'org1'): Promise<Record<string, string>> {
  switch (kind) {
    case 'no-token':
      return {};
    case 'expired-token':
      return { authorization: `Bearer ${tokens.early}` };
    case 'tampered-token':
      return { authorization: `Bearer ${tamper(await tokens.org1.accessToken())}` };
    case 'garbage-token':
      return { authorization: 'Bearer abc.def.ghi' };
    case 'alg-none-token':
      return { authorization: `Bearer ${algNone(await tokens.org1.accessToken())}` };
    case 'other-org':
      return { authorization: await tokens.org2.authorizationHeader() };
    default:
      return { authorization: await (org === 'org1' ? tokens.org1 : tokens.org2).authorizationHeader() };
  }
}

const BAD_TOKENS: Kind[] = ['no-token', 'expired-token', 'tampered-token', 'garbage-token', 'alg-none-token'];

// ---------------------------------------------------------------------------
// REST

interface RestOperation {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly pathParams: readonly string[];
  readonly queryParams: ReadonlyArray<{ name: string; enum?: readonly string[] }>;
  readonly headerParams: readonly string[];
  readonly public: boolean;
}

interface AccessEntry {
  readonly kind: string;
  readonly method: string;
  readonly path: string;
  readonly rule: { kind: string };
}

async function restOperations(base: string): Promise<RestOperation[]> {
  const ops: RestOperation[] = [];
  for (const service of SERVICES) {
    const doc = (await (await fetch(`${base}/${service}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema?: { enum?: string[] } }> }>>;
    };
    const access = (await (await fetch(`${base}/${service}/v1/access.json`)).json()) as { entries: AccessEntry[] };
    const publicRoutes = new Set(access.entries.filter((e) => e.kind === 'rest' && e.rule.kind === 'public').map((e) => `${e.method} ${e.path}`));
    for (const [path, item] of Object.entries(doc.paths)) {
      // The platform's probes are the same in every service; they are tried once, at the identity service.
      if (path.startsWith('/health') && service !== 'identity') continue;
      for (const [method, op] of Object.entries(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const params = op.parameters ?? [];
        const template = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        ops.push({
          service,
          method: method.toUpperCase(),
          path,
          pathParams: template,
          queryParams: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, enum: p.schema?.enum })),
          headerParams: params.filter((p) => p.in === 'header').map((p) => p.name),
          public: publicRoutes.has(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
        });
      }
    }
  }
  return ops;
}

const isWrite = (method: string) => method !== 'GET';
const ORG_PARAM = /organization|debtor|holder|financier|org$/i;

interface RestRequest {
  readonly op: RestOperation;
  readonly kind: Kind;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
  /** Whether a 2xx to this write would be a write the suite meant to be refused. */
  readonly mustNotWrite: boolean;
}

function restSamples(op: RestOperation, index: number): Array<{ kind: Kind; params: Record<string, string>; query: Record<string, string>; body: unknown }> {
  const paramValue = (name: string, otherOrg: boolean) => (otherOrg && ORG_PARAM.test(name) ? fc.constant('org1') : anyString.filter((s) => s.length < 5_000));
  const queryValue = (q: { name: string; enum?: readonly string[] }, otherOrg: boolean) =>
    q.enum ? fc.oneof(fc.constantFrom(...q.enum), anyString) : otherOrg && ORG_PARAM.test(q.name) ? fc.constant('org1') : fc.oneof(anyString, edgeNumber.map(String));
  const sample = (kind: Kind, runs: number, seed: number) =>
    fc
      .sample(
        fc.record({
          params: fc.record(Object.fromEntries(op.pathParams.map((p) => [p, paramValue(p, kind === 'other-org')]))) as fc.Arbitrary<Record<string, string>>,
          query: fc.record(Object.fromEntries(op.queryParams.map((q) => [q.name, queryValue(q, kind === 'other-org')])), { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>,
          body: isWrite(op.method) ? jsonBody : fc.constant(undefined),
        }),
        { seed, numRuns: runs },
      )
      .map((s) => ({ kind, ...s }));
  return [...sample('shaped', RUNS * 2, SEED + index * 7), ...sample('other-org', RUNS, SEED + index * 7 + 1)];
}

/** Percent-encodes a path segment; a lone surrogate becomes its (invalid) UTF-8 bytes, as a broken client would send them. */
function encodeSegment(value: string): string {
  return [...value].map((ch) => (/[\ud800-\udfff]/.test(ch) ? `%ED%${(0xa0 + ((ch.charCodeAt(0) >> 6) & 0x1f)).toString(16).toUpperCase()}%80` : encodeURIComponent(ch))).join('') || '%20';
}

function urlOf(base: string, op: RestOperation, params: Record<string, string>, query: Record<string, string>): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeSegment(params[name] ?? 'x'));
  const qs = new URLSearchParams(query).toString();
  return `${base}${path}${qs ? `?${qs}` : ''}`;
}

async function sendRest(r: RestRequest): Promise<void> {
  const endpoint = `${r.op.method} ${r.op.path}`;
  const described = `${r.op.method} ${r.url} ${typeof r.body === 'string' ? r.body : r.body ? `<${r.body.length} bytes>` : ''}`;
  let res: { status: number; contentType: string; text: string };
  const t0 = performance.now();
  try {
    res = await send(r.url, r.op.method, r.headers, r.body);
  } catch (error) {
    record(endpoint, r.kind, 'network-error');
    violation(endpoint, r.kind, 'no answer', described, String(error));
    return;
  }
  const text = res.text;
  record(endpoint, r.kind, res.status, performance.now() - t0);
  if (res.status >= 500) return violation(endpoint, r.kind, `HTTP ${res.status}`, described, text);
  if (res.status >= 400) {
    let code: unknown;
    try {
      code = (JSON.parse(text) as { code?: unknown }).code;
    } catch {
      code = undefined;
    }
    if (!/^application\/problem\+json/.test(res.contentType) || typeof code !== 'string') violation(endpoint, r.kind, `HTTP ${res.status} is not problem+json with a code`, described, text);
    return;
  }
  if (isWrite(r.op.method) && res.status < 300) {
    if (r.mustNotWrite) violation(endpoint, r.kind, `a write meant to be refused was accepted (HTTP ${res.status})`, described, text);
    else acceptedWrites.push(`${endpoint} [${r.kind}] HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
}

function restRequests(base: string, ops: readonly RestOperation[], tokens: Tokens, auth: { org1: string; org2: string }): RestRequest[] {
  const requests: RestRequest[] = [];
  ops.forEach((op, index) => {
    for (const s of restSamples(op, index)) {
      const body = s.body === undefined ? undefined : JSON.stringify(s.body);
      requests.push({
        op,
        kind: s.kind,
        url: urlOf(base, op, s.params, s.query),
        headers: { authorization: s.kind === 'other-org' ? auth.org2 : auth.org1, ...(body !== undefined ? { 'content-type': op.path.includes('/epcis/') ? 'application/ld+json' : 'application/json' } : {}) },
        body,
        mustNotWrite: false,
      });
    }
    if (!isWrite(op.method)) return;
    // The size, depth and decompression bounds are the platform's, the same for every route: tried on one write per service.
    const firstWriteOfService = ops.find((o) => o.service === op.service && isWrite(o.method)) === op;
    for (const raw of RAW_BODIES.filter((b) => firstWriteOfService || !COSTLY_BODIES.has(b.name))) {
      requests.push({
        op,
        kind: 'malformed',
        url: urlOf(base, op, Object.fromEntries(op.pathParams.map((p) => [p, 'fuzz'])), {}),
        headers: { authorization: auth.org1, 'content-type': raw.type ?? 'application/json', ...(raw.encoding ? { 'content-encoding': raw.encoding } : {}) },
        body: raw.body,
        // Bodies a JSON API must refuse; the empty body and a bare scalar may be a valid "no arguments" call.
        mustNotWrite: !['empty', 'scalar', 'duplicate-keys', 'proto-pollution', 'bom', 'escaped-nul', 'lone-surrogate'].includes(raw.name),
      });
    }
  });
  void tokens;
  return requests;
}

async function badTokenRequests(base: string, ops: readonly RestOperation[], tokens: Tokens): Promise<Array<RestRequest & { expect401: boolean }>> {
  const out: Array<RestRequest & { expect401: boolean }> = [];
  for (const op of ops) {
    for (const kind of BAD_TOKENS) {
      const body = isWrite(op.method) ? '{}' : undefined;
      out.push({
        op,
        kind,
        url: urlOf(base, op, Object.fromEntries(op.pathParams.map((p) => [p, 'org1'])), {}),
        headers: { ...(await authFor(kind, tokens)), ...(body ? { 'content-type': 'application/json' } : {}) },
        body,
        mustNotWrite: !op.public,
        expect401: !op.public,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// GraphQL

interface GraphQLRequest {
  readonly endpoint: string;
  readonly kind: Kind;
  readonly body: string | Buffer;
  readonly headers: Record<string, string>;
  /** The answer must be a refusal: a 401-class error (bad tokens on a field that needs a principal). */
  readonly mustRefuse?: boolean;
}

function typeString(type: GraphQLInputType): string {
  return type.toString();
}

function inputValue(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return inputValue(type.ofType as GraphQLInputType, depth);
  if (isListType(type)) return depth > 2 ? fc.constant([]) : fc.array(inputValue(type.ofType as GraphQLInputType, depth + 1), { maxLength: 3 });
  if (isEnumType(type)) return fc.constantFrom(...type.getValues().map((v) => v.name));
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    return depth > 3 ? fc.constant({}) : fc.record(Object.fromEntries(fields.map((f) => [f.name, inputValue(f.type, depth + 1)])));
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31)));
      case 'Float':
        return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -1, 1e308));
      case 'Boolean':
        return fc.boolean();
      case 'String':
      case 'ID':
        return anyString.filter((s) => s.length < 20_000);
      default:
        return fc.oneof(anyString.filter((s) => s.length < 20_000), edgeNumber, fc.boolean(), jsonBody);
    }
  }
  return fc.constant(null);
}

/** A value of the wrong type for `type` (GraphQL must refuse it as a variable, never crash). */
function wrongValue(type: GraphQLInputType): fc.Arbitrary<unknown> {
  const named = getNamedType(type);
  if (isScalarType(named) && ['Int', 'Float'].includes(named.name)) return fc.constantFrom('twelve', 1e308, 1.5, '1', true, { a: 1 }, 2 ** 53);
  if (isScalarType(named) && named.name === 'Boolean') return fc.constantFrom('yes', 1, [], null);
  if (isEnumType(named)) return fc.constantFrom('NOT_A_VALUE', 1, '', '__proto__');
  if (isInputObjectType(named)) return fc.constantFrom('x', 1, [1, 2], { unknownField: 1 });
  return fc.constantFrom(1, true, { a: 'b' }, [null], 1.5);
}

function selectionOf(type: GraphQLNamedType, depth = 0): string {
  if (isLeafType(type)) return '';
  if (!(isObjectType(type) || isInterfaceType(type))) return '{ __typename }';
  const fields = Object.values(type.getFields()).filter((f) => f.args.every((a) => !isNonNullType(a.type)));
  const leaves = fields.filter((f) => isLeafType(getNamedType(f.type))).slice(0, 8).map((f) => f.name);
  const nested =
    depth < 1
      ? fields
          .filter((f) => !isLeafType(getNamedType(f.type)))
          .slice(0, 2)
          .map((f) => `${f.name} ${selectionOf(getNamedType(f.type), depth + 1)}`)
      : [];
  return `{ __typename ${[...leaves, ...nested].join(' ')} }`;
}

function operationOf(operation: 'query' | 'subscription', field: GraphQLField<unknown, unknown>, args: readonly GraphQLArgument[]): string {
  const vars = args.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ');
  const call = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  return `${operation} Fuzz${vars ? `(${vars})` : ''} { ${field.name}${call} ${selectionOf(getNamedType(field.type))} }`;
}

function graphqlRequests(schema: GraphQLSchema, auth: Record<'org1' | 'org2', string>, badAuth: Partial<Record<Kind, Record<string, string>>>): GraphQLRequest[] {
  const requests: GraphQLRequest[] = [];
  const json = { 'content-type': 'application/json' };
  const roots: Array<['query' | 'subscription', GraphQLField<unknown, unknown>]> = [
    ...Object.values(schema.getQueryType()?.getFields() ?? {}).map((f) => ['query', f] as ['query', GraphQLField<unknown, unknown>]),
    ...Object.values(schema.getMutationType()?.getFields() ?? {}).map((f) => ['query', f] as ['query', GraphQLField<unknown, unknown>]),
    ...Object.values(schema.getSubscriptionType()?.getFields() ?? {}).map((f) => ['subscription', f] as ['subscription', GraphQLField<unknown, unknown>]),
  ];
  roots.forEach(([operation, field], index) => {
    const endpoint = `graphql ${operation === 'subscription' ? 'Subscription' : schema.getMutationType()?.getFields()[field.name] ? 'Mutation' : 'Query'}.${field.name}`;
    const op = operationOf(operation, field, field.args).replace(/^query/, schema.getMutationType()?.getFields()[field.name] ? 'mutation' : 'query');
    const variables = fc.record(Object.fromEntries(field.args.map((a) => [a.name, inputValue(a.type)])), { requiredKeys: field.args.filter((a) => isNonNullType(a.type)).map((a) => a.name) });
    fc.sample(variables, { seed: SEED + 1000 + index * 5, numRuns: RUNS * 2 }).forEach((v, i) =>
      requests.push({ endpoint, kind: i % 3 === 2 ? 'other-org' : 'shaped', body: JSON.stringify({ query: op, variables: v }), headers: { ...json, authorization: i % 3 === 2 ? auth.org2 : auth.org1 } }),
    );
    if (field.args.length > 0) {
      const wrong = fc.record(Object.fromEntries(field.args.map((a) => [a.name, wrongValue(a.type)])));
      fc.sample(wrong, { seed: SEED + 2000 + index, numRuns: RUNS }).forEach((v) => requests.push({ endpoint, kind: 'shaped', body: JSON.stringify({ query: op, variables: v }), headers: { ...json, authorization: auth.org1 } }));
      // Required arguments left out, and an argument the field does not have.
      requests.push({ endpoint, kind: 'shaped', body: JSON.stringify({ query: op, variables: {} }), headers: { ...json, authorization: auth.org1 } });
    }
    requests.push({ endpoint, kind: 'shaped', body: JSON.stringify({ query: `${operation} { ${field.name}(notAnArgument: 1) { __typename } }` }), headers: { ...json, authorization: auth.org1 } });
    for (const [kind, headers] of Object.entries(badAuth)) {
      const v = fc.sample(variables, { seed: SEED + 3000 + index, numRuns: 1 })[0];
      requests.push({ endpoint, kind: kind as Kind, body: JSON.stringify({ query: op, variables: v }), headers: { ...json, ...headers } });
    }
  });
  // Documents no operation should survive: bounds, malformed bodies, CSRF-shaped requests, batching.
  const endpoint = 'graphql (document limits and malformed requests)';
  const node = 'ledgerBlocks';
  const nested = `{ ${node} { ${'items { '.repeat(1)}__typename } }`;
  const docs: Array<[string, string | Buffer, Record<string, string>]> = [
    ['depth', JSON.stringify({ query: `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } } }` }), json],
    ['aliases', JSON.stringify({ query: `{ ${Array.from({ length: 200 }, (_, i) => `a${i}: __typename`).join(' ')} }` }), json],
    ['tokens', JSON.stringify({ query: `{ ${'__typename '.repeat(6000)} }` }), json],
    ['size', JSON.stringify({ query: `{ __typename } #${'x'.repeat(40_000)}` }), json],
    ['fragment-cycle', JSON.stringify({ query: '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }' }), json],
    ['directive-flood', JSON.stringify({ query: `{ __typename ${'@include(if: true) '.repeat(500)} }` }), json],
    ['syntax', JSON.stringify({ query: '{ ledgerBlocks { ' }), json],
    ['no-query', JSON.stringify({ variables: {} }), json],
    ['query-not-string', JSON.stringify({ query: 42 }), json],
    ['variables-not-object', JSON.stringify({ query: nested, variables: 'x' }), json],
    ['batch', JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]), json],
    ['malformed-json', '{"query": "{ __typename }"', json],
    ['lone-surrogate', '{"query": "{ __typename }", "variables": {"a": "\\ud800"}}', json],
    ['nul', '{"query": "{ __typename \\u0000 }"}', json],
    ['text-plain', '{"query":"{ __typename }"}', { 'content-type': 'text/plain' }],
    ['form', 'query=%7B__typename%7D', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['huge', JSON.stringify({ query: '{ __typename }', variables: { a: 'x'.repeat(2 * 1024 * 1024) } }), json],
    ['deep-variables', `{"query":"query($a: String) { __typename }","variables":{"a":${deepNesting(20_000)}}}`, json],
    ['unknown-operation-name', JSON.stringify({ query: '{ __typename }', operationName: 'Nope' }), json],
    ['mutation-absent', JSON.stringify({ query: 'mutation { __typename }' }), json],
  ];
  for (const [name, body, headers] of docs) requests.push({ endpoint: `${endpoint}: ${name}`, kind: 'limits', body, headers: { ...headers, authorization: auth.org1 } });
  return requests;
}

async function sendGraphQL(base: string, r: GraphQLRequest): Promise<void> {
  const described = typeof r.body === 'string' ? r.body : `<${r.body.length} bytes>`;
  let res: { status: number; contentType: string; text: string };
  const t0 = performance.now();
  try {
    res = await send(`${base}/graphql`, 'POST', r.headers, r.body);
  } catch (error) {
    record(r.endpoint, r.kind, 'network-error');
    violation(r.endpoint, r.kind, 'no answer', described, String(error));
    return;
  }
  const text = res.text;
  record(r.endpoint, r.kind, res.status, performance.now() - t0);
  if (res.status >= 500) return violation(r.endpoint, r.kind, `HTTP ${res.status}`, described, text);
  let body: { errors?: Array<{ extensions?: { code?: unknown } }>; code?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  if (res.status >= 400 && body?.errors === undefined) {
    // Refused before GraphQL (body parsing, size): problem+json like any REST answer.
    if (!/^application\/problem\+json/.test(res.contentType) || typeof body?.code !== 'string') violation(r.endpoint, r.kind, `HTTP ${res.status} is neither GraphQL errors nor problem+json with a code`, described, text);
    return;
  }
  if (!body) return violation(r.endpoint, r.kind, 'the answer is not JSON', described, text);
  for (const error of body.errors ?? []) {
    if (typeof error.extensions?.code !== 'string') violation(r.endpoint, r.kind, 'a GraphQL error without extensions.code', described, text);
    if (error.extensions?.code === 'INTERNAL_SERVER_ERROR' || error.extensions?.code === 'COMMON.INTERNAL') violation(r.endpoint, r.kind, 'an internal error', described, text);
  }
}

// ---------------------------------------------------------------------------
// Ledger envelopes: valid ones the suite means to commit, and forgeries, replays and tampering that must not.

function anchor(dataDir: string, org: string, nonce: string, overrides: { creator?: string; creatorKeyOf?: string; chainId?: string; timestamp?: string; signWith?: string } = {}): Envelope {
  const signer = JSON.parse(readFileSync(join(dataDir, 'demo-keys', `${overrides.signWith ?? org}.key.json`), 'utf8')) as { publicKey: string; privateKey: string };
  const creatorKey = JSON.parse(readFileSync(join(dataDir, 'demo-keys', `${overrides.creatorKeyOf ?? overrides.creator ?? org}.key.json`), 'utf8')) as { publicKey: string };
  return signTransaction(
    {
      chainId: overrides.chainId ?? 'alliance-demo',
      type: 'ledger.anchor',
      creator: { organizationId: overrides.creator ?? org, keyId: keyId('ed25519', fromHex(creatorKey.publicKey)) },
      nonce,
      timestamp: overrides.timestamp ?? formatTimestamp(Date.now()),
      payload: { hash: toHex(sha256(utf8(`fuzz ${nonce}`))), metadata: { kind: 'fuzz' } },
    },
    { algorithm: 'ed25519', privateKey: fromHex(signer.privateKey) },
  );
}

interface EnvelopeCase {
  readonly name: string;
  readonly body: string;
  readonly batch?: boolean;
  /** The transaction ids this case must never commit as VALID. */
  readonly forbidden: readonly string[];
}

// ---------------------------------------------------------------------------

describe('fuzzing every REST operation and GraphQL field through the gateway', () => {
  it('answers no 5xx, refuses with codes, writes nothing it should not, and tries every operation', async () => {
    const started = Date.now();
    const base = stack.base;
    const tokens: Tokens = { org1: await stack.signIn('org1'), org2: await stack.signIn('org2'), regulator: await stack.signIn('regulator'), early: '' };
    tokens.early = await tokens.org1.accessToken();
    const before: LedgerSnapshot = await ledgerSnapshot(base);

    // The schemas: every service's OpenAPI document and the federated GraphQL schema.
    const ops = await restOperations(base);
    const introspection = (await (await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: getIntrospectionQuery() }) })).json()) as { data: IntrospectionQuery };
    const schema = buildClientSchema(introspection.data);
    expect(ops.length).toBeGreaterThan(100);

    // 1. Valid-shaped and mutated requests, other organizations' ids, malformed bodies and content types.
    const auth = { org1: await tokens.org1.authorizationHeader(), org2: await tokens.org2.authorizationHeader() };
    const rest = restRequests(base, ops, tokens, auth);
    await runPool(rest, sendRest);
    const gql = graphqlRequests(schema, auth, {});
    await runPool(gql, (r) => sendGraphQL(base, r));
    process.stdout.write(`fuzz: ${rest.length} REST and ${gql.length} GraphQL requests in ${Math.round((Date.now() - started) / 1000)} s\n`);

    // 2. Signed envelopes on POST /ledger/v1/transactions: two meant to commit; forgeries, tampering and replays.
    const nonce = (n: string) => `fuzz-${SEED}-${n}-${Date.now()}`;
    const valid = [anchor(stack.dataDir, 'org1', nonce('valid1')), anchor(stack.dataDir, 'org2', nonce('valid2'))];
    const validIds = new Set(valid.map((e) => transactionId(e.transaction)));
    for (const envelope of valid) {
      const endpoint = 'POST /ledger/v1/transactions (signed envelopes)';
      try {
        const res = await send(`${base}/ledger/v1/transactions?wait=commit`, 'POST', { 'content-type': 'application/json' }, JSON.stringify(envelope));
        record(endpoint, 'shaped', res.status);
        const body = JSON.parse(res.text) as { code?: string; transactionId?: string };
        if (res.status !== 200 || body.code !== 'VALID' || !validIds.has(body.transactionId ?? '')) violation(endpoint, 'shaped', 'a valid envelope did not commit VALID', JSON.stringify(envelope), res.text);
      } catch (error) {
        record(endpoint, 'shaped', 'network-error');
        violation(endpoint, 'shaped', 'no answer to a valid envelope', JSON.stringify(envelope), String(error));
      }
    }
    const cases = envelopeCases(stack.dataDir, valid, nonce);
    for (const c of cases) {
      const url = `${base}/ledger/v1/transactions${c.batch ? '/batch' : ''}?wait=commit`;
      const endpoint = `POST /ledger/v1/transactions${c.batch ? '/batch' : ''} (signed envelopes)`;
      let res: { status: number; contentType: string; text: string };
      try {
        res = await send(c.batch ? `${base}/ledger/v1/transactions/batch` : url, 'POST', { 'content-type': 'application/json' }, c.body);
      } catch (error) {
        record(endpoint, 'malformed', 'network-error');
        violation(endpoint, 'malformed', `no answer for ${c.name}`, c.body, String(error));
        continue;
      }
      const text = res.text;
      record(endpoint, 'malformed', res.status);
      if (res.status >= 500) violation(endpoint, 'malformed', `HTTP ${res.status} for ${c.name}`, c.body, text);
      if (res.status >= 400 && !/^application\/problem\+json/.test(res.contentType)) violation(endpoint, 'malformed', `${c.name}: not problem+json`, c.body, text);
    }

    // 3. Bad tokens on every operation (the early token has expired by now: 60 s lifetime plus the 5 s skew).
    const waitMs = expiryOf(tokens.early) + 6_000 - Date.now();
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    const bad = await badTokenRequests(base, ops, tokens);
    await runPool(bad, async (r) => {
      const before401 = tally.get(`${r.op.method} ${r.op.path}`)?.statuses['401'] ?? 0;
      await sendRest(r);
      const after401 = tally.get(`${r.op.method} ${r.op.path}`)?.statuses['401'] ?? 0;
      if (r.expect401 && after401 === before401) violation(`${r.op.method} ${r.op.path}`, r.kind, 'a route that needs a principal did not answer 401', r.url, '');
    });
    const badAuth: Partial<Record<Kind, Record<string, string>>> = {};
    for (const kind of BAD_TOKENS) badAuth[kind] = await authFor(kind, tokens);
    await runPool(graphqlRequests(schema, auth, badAuth).filter((r) => BAD_TOKENS.includes(r.kind)), (r) => sendGraphQL(base, r));

    // 4. The ledger: the valid envelopes committed; no forged, tampered or replayed one did; service writes only from accepted requests.
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await ledgerSnapshot(base);
    const added = [...after.validTransactions.keys()].filter((id) => !before.validTransactions.has(id));
    const missingValid = [...validIds].filter((id) => !added.includes(id));
    const forbidden = new Set(cases.flatMap((c) => c.forbidden));
    const forgedCommitted = added.filter((id) => forbidden.has(id));
    const unexplained = added.filter((id) => !validIds.has(id));

    // The report.
    const endpoints = [...tally.entries()].sort(([a], [b]) => a.localeCompare(b));
    const totals: Record<string, number> = {};
    for (const [, t] of endpoints) for (const [s, n] of Object.entries(t.statuses)) totals[s] = (totals[s] ?? 0) + n;
    const requests = endpoints.reduce((n, [, t]) => n + t.requests, 0);
    const fiveXx = Object.entries(totals).filter(([s]) => /^5/.test(s) || s === 'network-error').reduce((n, [, c]) => n + c, 0);
    const report = {
      seed: SEED,
      runs: RUNS,
      seconds: Math.round((Date.now() - started) / 1000),
      requests,
      fiveXx,
      statuses: totals,
      restOperations: ops.length,
      graphqlFields: Object.keys(schema.getQueryType()?.getFields() ?? {}).length + Object.keys(schema.getMutationType()?.getFields() ?? {}).length + Object.keys(schema.getSubscriptionType()?.getFields() ?? {}).length,
      ledger: { validTransactionsBefore: before.validTransactions.size, validTransactionsAfter: after.validTransactions.size, meantValid: [...validIds], meantValidMissing: missingValid, addedBesides: unexplained.map((id) => ({ id, ...after.validTransactions.get(id) })), changedStateKeys: changedKeys(before, after) },
      acceptedWrites,
      violations,
      endpoints: Object.fromEntries(endpoints),
    };
    const dir = join(root, 'test-results', 'fuzz');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `fuzz: seed ${SEED}, ${requests} requests to ${endpoints.length} endpoints in ${report.seconds} s; statuses ${JSON.stringify(totals)}; ${fiveXx} 5xx; ${violations.length} violations; report ${join(dir, 'report.json')}\n` +
        endpoints.map(([e, t]) => `  ${String(t.requests).padStart(4)}  ${e}  ${JSON.stringify(t.statuses)}`).join('\n') +
        '\n',
    );

    // Every operation of the schemas was tried.
    for (const op of ops) expect(tally.get(`${op.method} ${op.path}`)?.requests ?? 0, `${op.method} ${op.path} tried`).toBeGreaterThan(0);
    for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
      for (const name of Object.keys(type?.getFields() ?? {})) expect([...tally.keys()].some((e) => e.endsWith(`.${name}`)), `GraphQL ${name} tried`).toBe(true);
    }
    expect(violations, violations.join('\n')).toEqual([]);
    expect(missingValid, 'the envelopes meant to be valid committed').toEqual([]);
    expect(fiveXx).toBe(0);
    expect(forgedCommitted, 'forged, tampered or replayed envelopes committed').toEqual([]);
    // Services sign their own transactions for writes they accepted: never more than the writes accepted.
    expect(unexplained.length, `VALID transactions nobody meant: ${JSON.stringify(report.ledger.addedBesides)}; accepted writes: ${acceptedWrites.join('; ')}`).toBeLessThanOrEqual(acceptedWrites.length);
  }, 600_000);
});

function envelopeCases(dataDir: string, valid: readonly Envelope[], nonce: (n: string) => string): EnvelopeCase[] {
  const id = (e: Envelope) => {
    try {
      return transactionId(e.transaction);
    } catch {
      return ''; // not a transaction the protocol can even name: it can never commit
    }
  };
  const [first] = valid;
  // org1 as the creator, signed with org2's key (named by its own key id: a key org1 does not have).
  const forged = anchor(dataDir, 'org1', nonce('forged'), { signWith: 'org2', creator: 'org1', creatorKeyOf: 'org2' });
  const stale = anchor(dataDir, 'org1', nonce('stale'), { timestamp: formatTimestamp(Date.now() - 365 * 24 * 3600 * 1000) });
  const future = anchor(dataDir, 'org1', nonce('future'), { timestamp: formatTimestamp(Date.now() + 365 * 24 * 3600 * 1000) });
  const otherChain = anchor(dataDir, 'org1', nonce('chain'), { chainId: 'another-chain' });
  const base = anchor(dataDir, 'org1', nonce('tamper'));
  const value = base.signature.value;
  const flipped = { ...base, signature: { ...base.signature, value: `${value.slice(0, 10)}${value[10] === 'A' ? 'B' : 'A'}${value.slice(11)}` } };
  const payloadChanged = { ...base, transaction: { ...base.transaction, payload: { hash: 'f'.repeat(64) } } };
  const creatorChanged = { ...base, transaction: { ...base.transaction, creator: { ...base.transaction.creator, organizationId: 'org2' } } };
  const regulatorWrites = anchor(dataDir, 'regulator', nonce('regulator'));
  // Validly signed, but with U+0000 in the payload: PostgreSQL cannot store it (it once halted every node's commit).
  const nul = signTransaction({ ...base.transaction, nonce: nonce('nul'), payload: { hash: 'b'.repeat(64), metadata: { note: 'a\u0000b' } } }, { algorithm: 'ed25519', privateKey: fromHex((JSON.parse(readFileSync(join(dataDir, 'demo-keys', 'org1.key.json'), 'utf8')) as { privateKey: string }).privateKey) });
  const hugeNonce = { ...base, transaction: { ...base.transaction, nonce: 'n'.repeat(100_000) } };
  return [
    { name: 'replay of a committed envelope', body: JSON.stringify(first), forbidden: [] },
    { name: 'replay in a batch, twice', body: JSON.stringify({ transactions: [first, first] }), batch: true, forbidden: [] },
    { name: 'creator org1 signed with org2’s key', body: JSON.stringify(forged), forbidden: [id(forged)] },
    { name: 'signature with a flipped byte', body: JSON.stringify(flipped), forbidden: [id(base)] },
    { name: 'payload changed after signing', body: JSON.stringify(payloadChanged), forbidden: [id(payloadChanged as Envelope)] },
    { name: 'creator changed after signing', body: JSON.stringify(creatorChanged), forbidden: [id(creatorChanged as Envelope)] },
    { name: 'a year old', body: JSON.stringify(stale), forbidden: [id(stale)] },
    { name: 'a year ahead', body: JSON.stringify(future), forbidden: [id(future)] },
    { name: 'another chain', body: JSON.stringify(otherChain), forbidden: [id(otherChain)] },
    { name: 'a NUL in the payload', body: JSON.stringify(nul), forbidden: [id(nul)] },
    { name: 'the regulator writing', body: JSON.stringify(regulatorWrites), forbidden: [id(regulatorWrites)] },
    { name: 'a 100 000-character nonce', body: JSON.stringify(hugeNonce), forbidden: [id(hugeNonce as Envelope)] },
    { name: 'signature missing', body: JSON.stringify({ ...base, signature: undefined }), forbidden: [id(base)] },
    { name: 'signature of another type', body: JSON.stringify({ ...base, signature: { r: 1 } }), forbidden: [id(base)] },
    { name: 'signature by an unknown key id', body: JSON.stringify({ ...base, signature: { ...base.signature, keyId: '0'.repeat(32) } }), forbidden: [id(base)] },
    { name: 'a batch of forgeries', body: JSON.stringify({ transactions: [forged, flipped, payloadChanged, otherChain] }), batch: true, forbidden: [id(forged), id(base), id(payloadChanged as Envelope), id(otherChain)] },
    { name: 'a batch that is not one', body: JSON.stringify({ transactions: 'all of them' }), batch: true, forbidden: [] },
  ];
}
