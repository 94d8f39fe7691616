import { sha256, toHex, utf8 } from '@alliance/protocol';
import {
  BIZ_STEP_TERMS,
  BIZ_TRANSACTION_TYPE_TERMS,
  COMPONENT_TERMS,
  DISPOSITION_TERMS,
  ERROR_REASON_TERMS,
  EXCEPTION_TERMS,
  MEASUREMENT_TYPE_TERMS,
  SOURCE_DESTINATION_TYPE_TERMS,
  type VocabularyTerms,
} from './cbv-vocabulary';
import { canonicalDecimal, compareCodePoints, normaliseTimestamp, numberText, pythonStrip } from './canonical-values';
import { normaliseGs1Identifier } from './dl-normaliser';

/**
 * The EPCIS Event Hash ID of GS1 CBV 2.0 (§8.9) for EPCIS 2.0 JSON / JSON-LD events, following the
 * reference implementation github.com/RalphTro/epcis-event-hash-generator (profile CBV2.0) step for
 * step; README.md of this library lists the steps and where this port deliberately differs.
 */

export const EVENT_HASH_CBV_VERSION = 'CBV2.0';

export interface EventHashOptions {
  /**
   * The `@context` of the EPCIS document the event came from (a string, an object or an array of
   * both): its prefix definitions expand namespaced field names, e.g. `example:myField` with
   * `{"example": "https://ns.example.com/epcis/"}` becomes `{https://ns.example.com/epcis/}myField`.
   * An `@context` on the event itself is used as well (after this one).
   */
  readonly context?: unknown;
}

/** The pre-hash string: the canonical concatenation that is hashed. */
export function eventPreHashString(event: Record<string, unknown>, options: EventHashOptions = {}): string {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new TypeError('an EPCIS event is a JSON object');
  }
  const { '@context': eventContext, ...body } = structuredClone(event);
  const replaced = replaceBareVocabularyValues(body);
  const namespaces = collectNamespaces([options.context, eventContext]);
  const tree = correctStructure(toTree(replaced, namespaces));
  return preHashOf(tree);
}

/** `ni:///sha-256;<64 lower-case hex>?ver=CBV2.0` (RFC 6920 named information, CBV 2.0 rules 22–24). */
export function eventHashId(event: Record<string, unknown>, options: EventHashOptions = {}): string {
  const digest = toHex(sha256(utf8(eventPreHashString(event, options))));
  return `ni:///sha-256;${digest}?ver=${EVENT_HASH_CBV_VERSION}`;
}

// ---------------------------------------------------------------------------------------------
// 1. Bare-word vocabulary values (CBV rule 16). The reference JSON-LD-expands the document with the
//    EPCIS context, keeps the expanded strings under https://ref.gs1.org/cbv, https://gs1.org/voc and
//    https://ref.gs1.org/voc, and then replaces every string value of the document for which exactly
//    one of them ends in '-' + value or '/' + value. The expansion is reproduced for the properties
//    the context types `@vocab` (and the `@id`-typed ones for CURIEs), then the same replacement runs.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const GS1_VOC = 'https://ref.gs1.org/voc/';
const CBV = 'https://ref.gs1.org/cbv/';
const EXPANDED_KEPT = ['https://ref.gs1.org/cbv', 'https://gs1.org/voc', 'https://ref.gs1.org/voc'];
/** Prefixes of the EPCIS 2.0 context whose expansions can be kept at all. */
const CONTEXT_CURIES: Readonly<Record<string, string>> = { cbv: CBV, gs1: GS1_VOC };
const ID_TYPED = new Set([
  'id', 'eventID', 'readPoint', 'bizLocation', 'transformationID', 'epcList', 'parentID', 'childEPCs', 'inputEPCList',
  'outputEPCList', 'epcClass', 'bizTransaction', 'source', 'destination', 'deviceID', 'deviceMetadata', 'rawData',
  'dataProcessingMethod', 'bizRules', 'microorganism', 'chemicalSubstance', 'uriValue', 'coordinateReferenceSystem',
  'certificationInfo', 'correctiveEventIDs',
]);

type Scope = 'event' | 'persistentDisposition' | 'sourceDestination' | 'bizTransaction' | 'sensorElement' | 'sensorReport' | 'errorDeclaration';

function vocabularyOf(key: string, scope: Scope): VocabularyTerms | null {
  if (key === 'bizStep') return BIZ_STEP_TERMS;
  if (key === 'disposition') return DISPOSITION_TERMS;
  if (scope === 'persistentDisposition' && (key === 'set' || key === 'unset')) return DISPOSITION_TERMS;
  if (scope === 'sourceDestination' && key === 'type') return SOURCE_DESTINATION_TYPE_TERMS;
  if (scope === 'bizTransaction' && key === 'type') return BIZ_TRANSACTION_TYPE_TERMS;
  if (scope === 'sensorReport' && key === 'type') return MEASUREMENT_TYPE_TERMS;
  if (scope === 'sensorReport' && key === 'exception') return EXCEPTION_TERMS;
  if (scope === 'sensorReport' && key === 'component') return COMPONENT_TERMS;
  if (scope === 'errorDeclaration' && key === 'reason') return ERROR_REASON_TERMS;
  return null;
}

function scopeBelow(key: string, scope: Scope): Scope {
  switch (key) {
    case 'persistentDisposition':
      return 'persistentDisposition';
    case 'sourceList':
    case 'destinationList':
      return 'sourceDestination';
    case 'bizTransactionList':
      return 'bizTransaction';
    case 'sensorElementList':
      return 'sensorElement';
    case 'sensorReport':
      return scope === 'sensorElement' ? 'sensorReport' : scope;
    case 'errorDeclaration':
      return 'errorDeclaration';
    default:
      return scope;
  }
}

function expandCurie(value: string): string | null {
  const colon = value.indexOf(':');
  if (colon < 0) return null;
  const base = CONTEXT_CURIES[value.slice(0, colon)];
  return base === undefined ? null : base + value.slice(colon + 1);
}

function collectExpanded(value: Json, key: string, scope: Scope, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectExpanded(item, key, scope, into);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectExpanded(v, k, scopeBelow(k, scope), into);
    return;
  }
  if (typeof value !== 'string') return;
  const vocabulary = vocabularyOf(key, scope);
  let expanded = value;
  if (vocabulary !== null && vocabulary.terms.includes(value)) expanded = vocabulary.iriPrefix + value;
  else if (vocabulary !== null || ID_TYPED.has(key)) expanded = expandCurie(value) ?? value;
  if (EXPANDED_KEPT.some((p) => expanded.startsWith(p))) into.add(expanded);
}

function replaceBare(value: Json, expanded: readonly string[]): Json {
  if (typeof value === 'string') {
    const matches = expanded.filter((x) => x.endsWith(`-${value}`) || x.endsWith(`/${value}`));
    const [only, ...others] = matches;
    return only !== undefined && others.length === 0 ? only : value;
  }
  if (Array.isArray(value)) return value.map((v) => replaceBare(v, expanded));
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = replaceBare(v, expanded);
    return out;
  }
  return value;
}

function replaceBareVocabularyValues(event: Record<string, unknown>): Json {
  const json = event as { [key: string]: Json };
  const expanded = new Set<string>();
  for (const [k, v] of Object.entries(json)) collectExpanded(v, k, scopeBelow(k, 'event'), expanded);
  return replaceBare(json, [...expanded]);
}

// ---------------------------------------------------------------------------------------------
// 2. Namespaces (`json_to_py._collect_namespaces_from_jsonld_context`): the well-known prefixes, every
//    string-valued entry of the context objects, and `gs1` always https://ref.gs1.org/voc/.

const WELL_KNOWN_NAMESPACES: Readonly<Record<string, string>> = {
  gs1: GS1_VOC,
  cbv: CBV,
  epcis: 'https://ref.gs1.org/epcis/',
  cbvmda: 'urn:epcglobal:cbv:mda',
};

type Namespaces = Map<string, string>;

function collectNamespaces(contexts: readonly unknown[]): Namespaces {
  const ns: Namespaces = new Map(Object.entries(WELL_KNOWN_NAMESPACES));
  const visit = (c: unknown): void => {
    if (Array.isArray(c)) c.forEach(visit);
    else if (c !== null && typeof c === 'object') {
      for (const [prefix, iri] of Object.entries(c)) if (typeof iri === 'string') ns.set(prefix, iri);
    }
  };
  contexts.forEach(visit);
  ns.set('gs1', GS1_VOC);
  return ns;
}

/** A key `prefix:name` becomes `{iri}name`; a value only when the prefix is a GS1 vocabulary (rule 15). */
function expandName(text: string, ns: Namespaces, isValue: boolean): string {
  const colon = text.indexOf(':');
  if (colon < 0) return text;
  const iri = ns.get(text.slice(0, colon));
  if (iri === undefined) return text;
  const rest = text.slice(colon + 1);
  if (!isValue) return `{${iri}}${rest}`;
  const bare = iri.replace(/[{}]/g, '');
  return bare.startsWith('https://ref.gs1.org') || bare.startsWith('https://gs1.org') ? bare + rest : text;
}

// ---------------------------------------------------------------------------------------------
// 3. The XML-like tree of the reference (`json_to_py`): a node is [name, value, children]; a JSON
//    array repeats its key; objects' children are sorted (Python tuple order) unless they hold a
//    bizTransaction, source or destination.

type Triple = [name: string, value: string, children: Node[]];
/** A bizTransactionList / sourceList / destinationList entry: its type first, then the identifier. */
interface Group {
  readonly group: Triple[];
}
type Node = Triple | Group;

function isTriple(node: Node): node is Triple {
  return Array.isArray(node);
}

const UNSORTED_MARKERS = ['bizTransaction', 'source', 'destination'];
const SKIPPED_KEYS = new Set(['#text', 'rdfs:comment', 'comment']);

function scalarText(value: Json, ns: Namespaces): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'string') return expandName(value, ns, true);
  return 'None'; // JSON null, as Python's str(None)
}

function toTree(value: Json, ns: Namespaces): Triple {
  if (Array.isArray(value)) {
    const children = value.map((v) => toTree(v, ns) as Node);
    if (!value.some((v) => typeof v === 'string' && UNSORTED_MARKERS.includes(v))) sortTriples(children);
    return ['', '', children];
  }
  if (value === null || typeof value !== 'object') return ['', scalarText(value, ns), []];
  let name = typeof value['type'] === 'string' ? value['type'] : '';
  const text = typeof value['#text'] === 'string' ? value['#text'] : '';
  const children: Node[] = [];
  for (const [key, val] of Object.entries(value)) {
    if (SKIPPED_KEYS.has(key)) continue;
    if (key.startsWith('@xmlns')) {
      if (typeof val === 'string') ns.set(key.slice(7), val);
      name = expandName(name, ns, false);
      continue;
    }
    const child = toTree(val, ns);
    const expandedKey = expandName(key, ns, false);
    if (Array.isArray(val)) {
      for (const element of child[2] as Triple[]) children.push([expandedKey, element[1], element[2]]);
    } else {
      children.push([expandedKey, child[1], child[2]]);
    }
  }
  if (!UNSORTED_MARKERS.some((k) => k in value)) sortTriples(children);
  return [name, text, children];
}

function compareTriples(a: Triple, b: Triple): number {
  return compareCodePoints(a[0], b[0]) || compareCodePoints(a[1], b[1]) || compareNodeLists(a[2], b[2]);
}
function compareNodeLists(a: readonly Node[], b: readonly Node[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareTriples(a[i] as Triple, b[i] as Triple);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}
function sortTriples(nodes: Node[]): void {
  nodes.sort((a, b) => compareTriples(a as Triple, b as Triple));
}

// ---------------------------------------------------------------------------------------------
// 4. JSON → XML data model (`json_xml_model_mismatch_correction.deep_structure_correction`): the
//    children of an `…List` become its elements (named without 'List'), childEPCs gather under one
//    node, inputEPC/outputEPC are `epc`, quantity list elements are `quantityElement`.

const TYPED_LISTS = new Set(['sourceList', 'destinationList', 'bizTransactionList']);

function asGroup(element: Triple): Group {
  const members = element[2].filter(isTriple);
  const type = members.filter((m) => m[0] === 'type');
  return { group: [...type, ...members.filter((m) => m[0] !== 'type')] };
}

function correctStructure(node: Triple): Triple {
  const children: Node[] = [];
  const lists = new Map<string, Triple[]>();
  for (const child of node[2]) {
    if (isTriple(child) && child[0].endsWith('List')) {
      const elements = lists.get(child[0]) ?? [];
      elements.push([child[0].slice(0, -4), child[1], child[2]]);
      lists.set(child[0], elements);
    } else {
      children.push(child);
    }
  }
  for (const [listName, elements] of lists) {
    children.push([listName, '', TYPED_LISTS.has(listName) ? elements.map(asGroup) : elements]);
  }
  const childEpcs = children.filter((c): c is Triple => isTriple(c) && c[0] === 'childEPCs');
  const rest = children.filter((c) => !(isTriple(c) && c[0] === 'childEPCs'));
  if (childEpcs.length > 0) rest.push(['childEPCs', '', childEpcs.map((c): Triple => ['epc', c[1], []])]);
  const corrected = rest.map((c) => (isTriple(c) && !TYPED_LISTS.has(c[0]) ? correctStructure(c) : c));
  return rename([node[0], node[1], corrected]);
}

function rename(node: Triple): Triple {
  const [name, value, children] = node;
  if (name === 'inputEPC' || name === 'outputEPC') return ['epc', value, children];
  if (name === 'inputQuantity' || name === 'outputQuantity' || name === 'childQuantity' || (name === 'quantity' && children.length > 0)) {
    return ['quantityElement', value, children];
  }
  return node;
}

// ---------------------------------------------------------------------------------------------
// 5. The pre-hash string (`hash_generator.derive_prehashes_from_events`, profile CBV2.0).

interface OrderEntry {
  /** null: an entry that matches no node (the typed lists, serialised as groups). */
  readonly name: string | null;
  readonly sub: Order | null;
}
type Order = readonly OrderEntry[];

const leaf = (name: string): OrderEntry => ({ name, sub: null });
const QUANTITY: Order = [{ name: 'quantityElement', sub: [leaf('epcClass'), leaf('quantity'), leaf('uom')] }];
const GROUPED: Order = [{ name: null, sub: null }];

/** The canonical property order (reference `PROP_ORDER`; CBV 2.0 §8.9 table). */
export const CANONICAL_PROPERTY_ORDER: Order = [
  leaf('eventTime'),
  leaf('eventTimeZoneOffset'),
  { name: 'epcList', sub: [leaf('epc')] },
  leaf('parentID'),
  { name: 'inputEPCList', sub: [leaf('epc')] },
  { name: 'childEPCs', sub: [leaf('epc')] },
  { name: 'quantityList', sub: QUANTITY },
  { name: 'childQuantityList', sub: QUANTITY },
  { name: 'inputQuantityList', sub: QUANTITY },
  { name: 'outputEPCList', sub: [leaf('epc')] },
  { name: 'outputQuantityList', sub: QUANTITY },
  leaf('action'),
  leaf('transformationID'),
  leaf('bizStep'),
  leaf('disposition'),
  { name: 'persistentDisposition', sub: [leaf('set'), leaf('unset')] },
  { name: 'readPoint', sub: [leaf('id')] },
  { name: 'bizLocation', sub: [leaf('id')] },
  { name: 'bizTransactionList', sub: GROUPED },
  { name: 'sourceList', sub: GROUPED },
  { name: 'destinationList', sub: GROUPED },
  {
    name: 'sensorElementList',
    sub: [
      {
        name: 'sensorElement',
        sub: [
          {
            name: 'sensorMetadata',
            sub: ['time', 'startTime', 'endTime', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'bizRules'].map(leaf),
          },
          {
            name: 'sensorReport',
            sub: [
              'type', 'exception', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'time', 'microorganism',
              'chemicalSubstance', 'value', 'component', 'stringValue', 'booleanValue', 'hexBinaryValue', 'uriValue',
              'minValue', 'maxValue', 'meanValue', 'sDev', 'percRank', 'percValue', 'uom', 'coordinateReferenceSystem',
            ].map(leaf),
          },
        ],
      },
    ],
  },
];

/** Fields left out of the hash (reference `to_be_ignored`): `type` is the event type, hashed first. */
const IGNORED_FIELDS = new Set(['recordTime', 'eventID', 'type', 'errorDeclaration', 'certificationInfo']);

const WEB_VOCABULARY: ReadonlyArray<readonly [string, string]> = [
  ['urn:epcglobal:cbv:bizstep:', `${CBV}BizStep-`],
  ['urn:epcglobal:cbv:disp:', `${CBV}Disp-`],
  ['urn:epcglobal:cbv:btt:', `${CBV}BTT-`],
  ['urn:epcglobal:cbv:sdt:', `${CBV}SDT-`],
  ['urn:epcglobal:cbv:er:', `${CBV}ER-`],
];

/** `_canonize_value`: CBV URNs → Web URIs (rule 14), numbers (rules 6–7), GS1 identifiers (17–18). */
function canonize(text: string): string {
  let t = text;
  for (const [urn, uri] of WEB_VOCABULARY) t = t.split(urn).join(uri);
  t = canonicalDecimal(t);
  return normaliseGs1Identifier(t) ?? t;
}

function sortCodePoints(values: string[]): string[] {
  return values.sort(compareCodePoints);
}

function removeNode(list: Node[], node: Node): void {
  const i = list.indexOf(node);
  if (i >= 0) list.splice(i, 1);
}

function isExtensionName(name: string): boolean {
  return name.includes('{') && name.includes('/}');
}

function childToPreHash(child: Triple, sub: Order | null): string {
  let grandChildren = '';
  if (sub !== null) {
    if (child[2].length > 0 && child[2].every((c) => !isTriple(c))) {
      grandChildren = genericPreHash(child[2]);
      child[2].length = 0;
    } else {
      grandChildren = inOrder(child[2], sub);
    }
  }
  let text = '';
  if (child[1] !== '') {
    text = pythonStrip(child[1]);
    const lower = child[0].toLowerCase();
    text = lower.includes('time') && !lower.includes('offset') ? normaliseTimestamp(text) : canonize(text);
    if (text !== '') text = `=${text}`;
  }
  if (text === '' && grandChildren === '') return '';
  // CBV 2.0: the sensorElementList wrapper itself is not written (CBV 2.1 writes it).
  return (child[0] === 'sensorElementList' ? '' : child[0]) + text + grandChildren;
}

/** Walks `order`, consuming from `children` every node it writes completely. */
function inOrder(children: Node[], order: Order): string {
  let preHash = '';
  for (const { name, sub } of order) {
    if (name === null) continue;
    const values: string[] = [];
    for (const child of children.filter((c): c is Triple => isTriple(c) && c[0] === name)) {
      const s = childToPreHash(child, sub);
      if (s !== '') values.push(s);
      if (child[2].length === 0) removeNode(children, child);
    }
    preHash += sortCodePoints(values).join('');
  }
  return preHash;
}

/** Everything outside the property order (ILMD, user extensions): `{namespace}name=value`, sorted. */
function genericPreHash(children: readonly Node[]): string {
  const values: string[] = [];
  for (const child of children) {
    if (!isTriple(child)) {
      values.push(genericPreHash(child.group));
      continue;
    }
    let text = pythonStrip(child[1]);
    if (text !== '') text = `=${canonize(text)}`;
    values.push(child[0] + text + genericPreHash(child[2]));
  }
  const sortable = !children.some((c) => isTriple(c) && UNSORTED_MARKERS.includes(c[0]));
  if (values.length > 1 && sortable) sortCodePoints(values);
  return values.join('');
}

/**
 * CBV 2.0 rule 21: user extensions inside a standard field (readPoint, bizLocation, sensorElement,
 * sensorMetadata, sensorReport) go to a trailing block, under the names of the fields that hold them.
 */
function fieldExtensions(children: readonly Node[], order: Order): string {
  const parts: string[] = [];
  for (const { name, sub } of order) {
    if (sub === null || name === null) continue;
    for (const child of children.filter((c): c is Triple => isTriple(c) && c[0] === name)) {
      const inner = fieldExtensions(child[2], sub);
      if (inner !== '') parts.push((name === 'sensorElementList' ? '' : name) + inner);
    }
  }
  const direct = children.filter((c) => isTriple(c) && isExtensionName(c[0]));
  if (direct.length > 0) parts.push(genericPreHash(direct));
  return parts.join('');
}

function preHashOf(event: Triple): string {
  const children = event[2];
  const standard = inOrder(children, CANONICAL_PROPERTY_ORDER);

  const ilmd = children.filter((c) => isTriple(c) && c[0] === 'ilmd');
  ilmd.forEach((n) => removeNode(children, n));
  const ilmdPart = ilmd.length > 0 ? genericPreHash(ilmd) : '';

  const fieldParts: string[] = [];
  for (const { name, sub } of CANONICAL_PROPERTY_ORDER) {
    if (sub === null || name === null) continue;
    for (const child of children.filter((c): c is Triple => isTriple(c) && c[0] === name)) {
      const inner = fieldExtensions(child[2], sub);
      if (inner !== '') {
        fieldParts.push((name === 'sensorElementList' ? '' : name) + inner);
        removeNode(children, child);
      }
    }
  }

  const remaining = children.filter((c) => !(isTriple(c) && IGNORED_FIELDS.has(c[0])));
  const eventPart = remaining.length > 0 ? genericPreHash(remaining) : '';
  return `eventType=${event[0]}${standard}${ilmdPart}${fieldParts.join('')}${eventPart}`;
}
