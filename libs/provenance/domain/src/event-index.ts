import { BIZ_STEP_TERMS, DISPOSITION_TERMS, SOURCE_DESTINATION_TYPE_TERMS, BIZ_TRANSACTION_TYPE_TERMS, MEASUREMENT_TYPE_TERMS, type VocabularyTerms } from './cbv-vocabulary';
import { numberText } from './canonical-values';
import { parseGs1Key } from './identifiers';

/**
 * What the repository indexes of one EPCIS 2.0 event: the columns queries
 * filter on, the identifiers it names by role, its business transactions,
 * parties and sensor reports, and the lineage edges it adds. One function,
 * used when a block is applied and when the index is rebuilt, so both give the
 * same rows. Identifiers are stored in one form (`canonicalId`), vocabulary
 * values in one form (`canonicalTerm`), numbers as exact decimal text.
 */
export type EpcRole = 'epc' | 'parent' | 'child' | 'input' | 'output' | 'quantity' | 'child_quantity' | 'input_quantity' | 'output_quantity';

export interface IndexedEpc {
  readonly role: EpcRole;
  readonly epc: string;
  /** Decimal text of a quantity list entry's quantity (absent: none given). */
  readonly quantity?: string;
  readonly uom?: string;
}

export interface IndexedSensorReport {
  readonly type: string | null;
  readonly deviceId: string | null;
  readonly value: string | null;
  readonly minValue: string | null;
  readonly maxValue: string | null;
  readonly meanValue: string | null;
  readonly uom: string | null;
  readonly time: string | null;
}

export type LineageKind = 'aggregation' | 'association' | 'transformation' | 'lot';

/** `from` went into `to`: a child into its parent, an input into a transformation, a transformation into its output, a lot into its instances. */
export interface LineageEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: LineageKind;
}

export interface EventIndex {
  readonly type: string;
  readonly action: string | null;
  readonly bizStep: string | null;
  readonly disposition: string | null;
  readonly readPoint: string | null;
  readonly bizLocation: string | null;
  readonly transformationId: string | null;
  readonly persistentSet: readonly string[];
  readonly persistentUnset: readonly string[];
  readonly eventTime: string;
  readonly eventTimeZoneOffset: string | null;
  readonly errorDeclarationTime: string | null;
  readonly epcs: readonly IndexedEpc[];
  readonly bizTransactions: ReadonlyArray<{ readonly type: string | null; readonly bizTransaction: string }>;
  readonly parties: ReadonlyArray<{ readonly kind: 'source' | 'destination'; readonly type: string; readonly party: string }>;
  readonly sensorReports: readonly IndexedSensorReport[];
  readonly lineage: readonly LineageEdge[];
}

/** The node a transformation is in the lineage graph: events sharing a `transformationID` meet there. */
export const TRANSFORMATION_NODE_PREFIX = 'urn:alliance:transformation:';

/** A GS1 key (EPC URN or Digital Link, any domain) as its canonical Digital Link; any other URI as given. */
export function canonicalId(value: string): string {
  const parsed = parseGs1Key(value);
  return parsed.ok ? parsed.key.id : value.trim();
}

const URN_PREFIX: Record<string, string> = {
  [BIZ_STEP_TERMS.iriPrefix]: 'urn:epcglobal:cbv:bizstep:',
  [DISPOSITION_TERMS.iriPrefix]: 'urn:epcglobal:cbv:disp:',
  [SOURCE_DESTINATION_TYPE_TERMS.iriPrefix]: 'urn:epcglobal:cbv:sdt:',
  [BIZ_TRANSACTION_TYPE_TERMS.iriPrefix]: 'urn:epcglobal:cbv:btt:',
};

/**
 * A CBV vocabulary value in one form: a standard term as its bare word
 * (`shipping` for `shipping`, `https://ref.gs1.org/cbv/BizStep-shipping` and
 * `urn:epcglobal:cbv:bizstep:shipping`), anything else (a custom URI) as given.
 */
export function canonicalTerm(value: string, vocabulary: VocabularyTerms): string {
  const text = value.trim();
  if (vocabulary.terms.includes(text)) return text;
  for (const prefix of [vocabulary.iriPrefix, URN_PREFIX[vocabulary.iriPrefix], vocabulary.iriPrefix === 'https://ref.gs1.org/voc/' ? 'gs1:' : undefined]) {
    if (prefix && text.startsWith(prefix) && vocabulary.terms.includes(text.slice(prefix.length))) return text.slice(prefix.length);
  }
  return text;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string' && x.length > 0);
const decimal = (v: unknown): string | null => (typeof v === 'number' && Number.isFinite(v) ? numberText(v) : typeof v === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v) ? v : null);
const idOf = (v: unknown): string | null => (isObj(v) ? str(v['id']) : str(v));

/** An instance key's lot: an SGTIN with the lot an ILMD names (`https://id.gs1.org/01/<gtin>/10/<lot>`). */
function lotOf(instance: string, lot: string): string | null {
  const m = /^https:\/\/id\.gs1\.org\/01\/(\d{14})\/21\//.exec(instance);
  return m ? canonicalId(`https://id.gs1.org/01/${m[1]}/10/${encodeURIComponent(lot)}`) : null;
}

function ilmdLot(event: Obj): string | null {
  const ilmd = event['ilmd'];
  if (!isObj(ilmd)) return null;
  for (const key of ['cbvmda:lotNumber', 'lotNumber', 'https://ref.gs1.org/cbv/MDA-lotNumber', 'urn:epcglobal:cbv:mda:lotNumber']) {
    const v = ilmd[key];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  return null;
}

/** Indexes one EPCIS 2.0 event (as parsed from its JSON text; `eventID` and `eventTime` present). */
export function indexEvent(event: Obj): EventIndex {
  const type = String(event['type']);
  const eventId = String(event['eventID']);
  const action = str(event['action']);
  const epcs: IndexedEpc[] = [];
  const push = (role: EpcRole, values: unknown) => {
    for (const v of strings(values)) epcs.push({ role, epc: canonicalId(v) });
  };
  const pushQuantities = (role: EpcRole, values: unknown) => {
    for (const q of list(values)) {
      if (!isObj(q) || !str(q['epcClass'])) continue;
      const quantity = decimal(q['quantity']);
      const uom = str(q['uom']);
      epcs.push({ role, epc: canonicalId(String(q['epcClass'])), ...(quantity !== null ? { quantity } : {}), ...(uom ? { uom } : {}) });
    }
  };
  push('epc', event['epcList']);
  const parent = str(event['parentID']);
  if (parent) epcs.push({ role: 'parent', epc: canonicalId(parent) });
  push('child', event['childEPCs']);
  push('input', event['inputEPCList']);
  push('output', event['outputEPCList']);
  pushQuantities('quantity', event['quantityList']);
  pushQuantities('child_quantity', event['childQuantityList']);
  pushQuantities('input_quantity', event['inputQuantityList']);
  pushQuantities('output_quantity', event['outputQuantityList']);

  const transformationId = str(event['transformationID']);
  const lineage: LineageEdge[] = [];
  const seen = new Set<string>();
  const edge = (from: string, to: string, kind: LineageKind) => {
    const k = `${from}\n${to}\n${kind}`;
    if (from === to || seen.has(k)) return;
    seen.add(k);
    lineage.push({ from, to, kind });
  };
  const of = (...roles: EpcRole[]) => epcs.filter((e) => roles.includes(e.role)).map((e) => e.epc);
  if (action !== 'DELETE' && parent) {
    const kind: LineageKind = type === 'AssociationEvent' ? 'association' : 'aggregation';
    const children = type === 'TransactionEvent' ? of('epc', 'quantity') : type === 'AggregationEvent' || type === 'AssociationEvent' ? of('child', 'child_quantity') : [];
    for (const child of children) edge(child, canonicalId(parent), kind);
  }
  if (type === 'TransformationEvent') {
    const node = `${TRANSFORMATION_NODE_PREFIX}${transformationId ?? eventId}`;
    for (const input of of('input', 'input_quantity')) edge(input, node, 'transformation');
    for (const output of of('output', 'output_quantity')) edge(node, output, 'transformation');
  }
  const lot = ilmdLot(event);
  if (lot && (action === 'ADD' || type === 'TransformationEvent')) {
    for (const instance of of(type === 'TransformationEvent' ? 'output' : 'epc')) {
      const lotNode = lotOf(instance, lot);
      if (lotNode) edge(lotNode, instance, 'lot');
    }
  }

  const persistent = isObj(event['persistentDisposition']) ? (event['persistentDisposition'] as Obj) : {};
  const bizTransactions = list(event['bizTransactionList'])
    .filter(isObj)
    .filter((b) => str(b['bizTransaction']))
    .map((b) => ({ type: str(b['type']) ? canonicalTerm(String(b['type']), BIZ_TRANSACTION_TYPE_TERMS) : null, bizTransaction: String(b['bizTransaction']).trim() }));
  const parties: Array<{ kind: 'source' | 'destination'; type: string; party: string }> = [];
  for (const [kind, listKey, field] of [
    ['source', 'sourceList', 'source'],
    ['destination', 'destinationList', 'destination'],
  ] as const) {
    for (const p of list(event[listKey])) {
      if (isObj(p) && str(p['type']) && str(p[field])) parties.push({ kind, type: canonicalTerm(String(p['type']), SOURCE_DESTINATION_TYPE_TERMS), party: canonicalId(String(p[field])) });
    }
  }
  const sensorReports: IndexedSensorReport[] = [];
  for (const element of list(event['sensorElementList'])) {
    if (!isObj(element)) continue;
    const meta = isObj(element['sensorMetadata']) ? (element['sensorMetadata'] as Obj) : {};
    for (const r of list(element['sensorReport'])) {
      if (!isObj(r)) continue;
      sensorReports.push({
        type: str(r['type']) ? canonicalTerm(String(r['type']), MEASUREMENT_TYPE_TERMS) : null,
        deviceId: str(r['deviceID']) ?? str(meta['deviceID']),
        value: decimal(r['value']),
        minValue: decimal(r['minValue']),
        maxValue: decimal(r['maxValue']),
        meanValue: decimal(r['meanValue']),
        uom: str(r['uom']),
        time: str(r['time']) ?? str(meta['time']),
      });
    }
  }
  const errorDeclaration = isObj(event['errorDeclaration']) ? (event['errorDeclaration'] as Obj) : null;
  const term = (v: unknown, vocabulary: VocabularyTerms) => (str(v) ? canonicalTerm(String(v), vocabulary) : null);
  const readPoint = idOf(event['readPoint']);
  const bizLocation = idOf(event['bizLocation']);
  return {
    type,
    action,
    bizStep: term(event['bizStep'], BIZ_STEP_TERMS),
    disposition: term(event['disposition'], DISPOSITION_TERMS),
    readPoint: readPoint ? canonicalId(readPoint) : null,
    bizLocation: bizLocation ? canonicalId(bizLocation) : null,
    transformationId,
    persistentSet: strings(persistent['set']).map((v) => canonicalTerm(v, DISPOSITION_TERMS)),
    persistentUnset: strings(persistent['unset']).map((v) => canonicalTerm(v, DISPOSITION_TERMS)),
    eventTime: String(event['eventTime']),
    eventTimeZoneOffset: str(event['eventTimeZoneOffset']),
    errorDeclarationTime: errorDeclaration ? str(errorDeclaration['declarationTime']) : null,
    epcs,
    bizTransactions,
    parties,
    sensorReports,
    lineage,
  };
}
