import { gs1CheckDigitOk } from './gs1';
import { exactFields, reject } from './agent-keys';
import { mayActWith } from './roles';
import type { ContractContext, ContractHandler, ContractOutcome, JsonValue, StateWrite } from './types';

/**
 * Master data (issue 5, fourth part): the EPCIS vocabulary elements every
 * member reads the same — products (GTIN, or a lot of one), locations (GLN,
 * or an SGLN with its extension) and parties (party GLN) — each owned by the
 * organization that defined it. One record per element:
 *
 *   provenance/masterdata/<type>/<canonical id>  → MasterDataRecord
 *
 * The id is the element's one stored form, the canonical GS1 Digital Link on
 * `https://id.gs1.org/` (`…/01/<gtin>`, `…/01/<gtin>/10/<lot>`, `…/414/<gln>`,
 * `…/414/<gln>/254/<extension>`, `…/417/<gln>`), with a valid GS1 check digit.
 * The service normalises EPC URNs and other Digital Links first
 * (`masterDataElementOf` in the provenance domain); the chain takes only this
 * form, so a member signing its own transactions cannot store a second
 * spelling of the same key.
 *
 * Attributes are strings, named by their CBV master data attribute name as a
 * bare word (`name`, `streetAddressOne`, `countryCode`, `latitude`, …; see
 * MASTER_DATA_ATTRIBUTES) or by an absolute URI of another vocabulary;
 * latitude and longitude are exact decimal strings. A location may list its
 * children (the locations inside it, by canonical id).
 *
 * Defining is an upsert: the first definition makes the creator's
 * organization the owner (version 1); only the owner changes (version + 1) or
 * retires it. A retired record stays — events that name it keep their
 * meaning — with `status: 'retired'`; its owner may define it again. Every
 * step is for an admin key of the owner or its agent holding
 * `provenance.masterdata.manage` (`mayActWith`).
 */
export type MasterDataType = 'product' | 'location' | 'party';
export const MASTER_DATA_TYPES: readonly MasterDataType[] = ['product', 'location', 'party'];

/** The EPCIS 2.0 vocabulary type of each kind of element (a location serves as BusinessLocation and as ReadPoint). */
export const MASTER_DATA_VOCABULARY: Readonly<Record<MasterDataType, string>> = {
  product: 'urn:epcglobal:epcis:vtype:EPCClass',
  location: 'urn:epcglobal:epcis:vtype:BusinessLocation',
  party: 'urn:epcglobal:epcis:vtype:Party',
};

const ADDRESS = ['streetAddressOne', 'streetAddressTwo', 'streetAddressThree', 'city', 'state', 'postalCode', 'countryCode'] as const;

/**
 * The bare-word attributes of each type: CBV master data attribute names
 * (`urn:epcglobal:cbv:mda:<name>`) where CBV has one, and `name` and
 * `description` for every type. Other attributes are named by absolute URI.
 */
export const MASTER_DATA_ATTRIBUTES: Readonly<Record<MasterDataType, readonly string[]>> = {
  product: [
    'name', 'description', 'descriptionShort', 'functionalName', 'tradeItemCountryOfOrigin', 'countryOfOrigin', 'manufacturerOfTradeItemPartyName',
    'netContentDescription', 'labelDescription', 'regulatedProductName', 'strengthDescription', 'dosageFormType', 'additionalTradeItemIdentification',
    'itemExpirationDate', 'bestBeforeDate',
  ],
  location: ['name', 'description', ...ADDRESS, 'latitude', 'longitude', 'site', 'sst', 'ssa', 'ssd'],
  party: ['name', 'description', ...ADDRESS],
};

export type MasterDataStatus = 'active' | 'retired';

export interface MasterDataRecord {
  readonly type: MasterDataType;
  /** The canonical GS1 Digital Link on https://id.gs1.org/. */
  readonly id: string;
  readonly vocabularyType: string;
  /** The owning organization: the one that first defined it. */
  readonly organizationId: string;
  /** Attribute name → value, names in code-point order. */
  readonly attributes: Readonly<Record<string, string>>;
  /** A location's children by canonical id, each once, in the order given; [] for other types. */
  readonly children: readonly string[];
  readonly status: MasterDataStatus;
  /** 1 at the first definition, + 1 at each change or retirement. */
  readonly version: number;
  readonly definedAtBlock: number;
  /** The block of the last change or retirement, and that block's timestamp. */
  readonly updatedAtBlock: number;
  readonly updatedAt: string;
  readonly transactionId: string;
  readonly retiredAtBlock: number | null;
}

/** The permission an agent needs to define and retire its organization's master data (admin keys need none). */
export const MASTER_DATA_MANAGE_PERMISSION = 'provenance.masterdata.manage';
/** Most elements one transaction defines or retires. */
export const MAX_MASTER_DATA_ELEMENTS = 100;
export const MAX_MASTER_DATA_ATTRIBUTES = 64;
export const MAX_MASTER_DATA_CHILDREN = 100;
export const MAX_MASTER_DATA_VALUE = 1_000;

export const masterDataPrefixOf = (type: MasterDataType) => `provenance/masterdata/${type}/`;
export const masterDataKeyOf = (type: MasterDataType, id: string) => `${masterDataPrefixOf(type)}${id}`;

// GS1 character set 82 as the canonical Digital Link writes it (upper-case %-escapes for the rest), 1-20 characters decoded.
const VALUE = "(?:[A-Za-z0-9!'()*+,\\-.:;=_]|%[0-9A-F]{2}){1,20}";
const IDS: Readonly<Record<MasterDataType, RegExp>> = {
  product: new RegExp(`^https://id\\.gs1\\.org/01/(\\d{14})(?:/10/${VALUE})?$`),
  location: new RegExp(`^https://id\\.gs1\\.org/414/(\\d{13})(?:/254/${VALUE})?$`),
  party: /^https:\/\/id\.gs1\.org\/417\/(\d{13})$/,
};
const ID_FORMS: Readonly<Record<MasterDataType, string>> = {
  product: 'a GTIN (https://id.gs1.org/01/<gtin>) or a lot of one (…/01/<gtin>/10/<lot>)',
  location: 'a GLN (https://id.gs1.org/414/<gln>) or an SGLN (…/414/<gln>/254/<extension>)',
  party: 'a party GLN (https://id.gs1.org/417/<gln>)',
};
const CUSTOM_ATTRIBUTE = /^[a-z][a-z0-9+.-]*:[\x21-\x7e]{1,200}$/;
/** The CBV master data attribute namespace; its names this contract knows are written as bare words, the others as `urn:epcglobal:cbv:mda:<name>`. */
export const CBV_MDA_PREFIX = 'urn:epcglobal:cbv:mda:';
const TEXT = new RegExp(`^[^\\p{Cc}]{1,${MAX_MASTER_DATA_VALUE}}$`, 'u');
const COUNTRY = /^[A-Z]{2}$/;
const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const DEGREES = /^(-?)(\d{1,3})(?:\.(\d{1,15}))?$/;


const invalid = (detail: string) => reject('PROVENANCE.INVALID_MASTERDATA', detail);
const isOutcome = (v: unknown): v is ContractOutcome => typeof v === 'object' && v !== null && 'ok' in v;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The refusal of an id that is not `type`'s canonical form with a valid check digit; undefined when it is. */
export function checkMasterDataId(type: MasterDataType, id: unknown, field = 'id'): ContractOutcome | undefined {
  const m = typeof id === 'string' ? IDS[type].exec(id) : null;
  if (!m) return reject('PROVENANCE.INVALID_IDENTIFIER', `${field} of a ${type} must be ${ID_FORMS[type]}, its canonical GS1 Digital Link`);
  if (!gs1CheckDigitOk(m[1])) return reject('PROVENANCE.INVALID_IDENTIFIER', `${field} ${String(id)}: the GS1 check digit of ${m[1]} is wrong`);
  return undefined;
}

// An exact decimal within ±limit degrees.
function degreesOk(value: string, limit: number): boolean {
  const m = DEGREES.exec(value);
  if (!m) return false;
  const whole = Number(m[2]);
  return whole < limit || (whole === limit && /^0*$/.test(m[3] ?? ''));
}

// Whether `name` is an attribute name in its one form: a bare CBV word of the type, or another absolute URI.
function attributeNameOk(type: MasterDataType, name: string): boolean {
  const known = MASTER_DATA_ATTRIBUTES[type];
  if (known.includes(name)) return true;
  if (!CUSTOM_ATTRIBUTE.test(name) || name.startsWith('urn:epcglobal:cbv:mda#')) return false;
  return !(name.startsWith(CBV_MDA_PREFIX) && known.includes(name.slice(CBV_MDA_PREFIX.length)));
}

function checkValue(type: MasterDataType, name: string, value: unknown): string | undefined {
  const at = `attributes.${name}`;
  if (!attributeNameOk(type, name))
    return `attribute ${name} is neither a ${type} attribute (${MASTER_DATA_ATTRIBUTES[type].join(', ')}, as bare words) nor another absolute URI (urn:epcglobal:cbv:mda:<name> for other CBV attributes)`;
  if (typeof value !== 'string' || !TEXT.test(value)) return `${at} must be a string of 1-${MAX_MASTER_DATA_VALUE} characters without control characters (numbers as exact decimal strings)`;
  if ((name === 'countryCode' || name === 'tradeItemCountryOfOrigin' || name === 'countryOfOrigin') && !COUNTRY.test(value)) return `${at} must be an ISO 3166-1 alpha-2 country code (two upper-case letters)`;
  if (name === 'latitude' && !degreesOk(value, 90)) return `${at} must be an exact decimal string from -90 to 90 (degrees, WGS 84)`;
  if (name === 'longitude' && !degreesOk(value, 180)) return `${at} must be an exact decimal string from -180 to 180 (degrees, WGS 84)`;
  if ((name === 'itemExpirationDate' || name === 'bestBeforeDate') && !DATE.test(value)) return `${at} must be a date YYYY-MM-DD`;
  return undefined;
}

interface Element {
  readonly type: MasterDataType;
  readonly id: string;
  readonly attributes: Record<string, string>;
  readonly children: string[];
}

/**
 * The refusal of one element of a define (`define`) or retire payload — its
 * fields, id, attributes and children as the contract checks them — or
 * undefined: the service checks what it is about to submit the same way.
 */
export function checkMasterDataElement(value: unknown, define = true, at = 'element'): ContractOutcome | undefined {
  const element = elementOf(value, at, define);
  return isOutcome(element) ? element : undefined;
}

function elementOf(value: unknown, at: string, define: boolean): Element | ContractOutcome {
  if (!isObject(value)) return invalid(`${at} must be an object`);
  const extra = exactFields(value, define ? ['type', 'id', 'attributes', 'children'] : ['type', 'id']);
  if (extra) return invalid(`${at}: ${extra.ok ? '' : extra.detail}`);
  const type = value['type'] as MasterDataType;
  if (!MASTER_DATA_TYPES.includes(type)) return invalid(`${at}.type must be one of ${MASTER_DATA_TYPES.join(', ')}`);
  const bad = checkMasterDataId(type, value['id'], `${at}.id`);
  if (bad) return bad;
  const id = value['id'] as string;
  if (!define) return { type, id, attributes: {}, children: [] };
  const given = value['attributes'] ?? {};
  if (!isObject(given)) return invalid(`${at}.attributes must be an object of attribute name → string`);
  const names = Object.keys(given).sort();
  if (names.length > MAX_MASTER_DATA_ATTRIBUTES) return invalid(`${at}.attributes holds at most ${MAX_MASTER_DATA_ATTRIBUTES} attributes`);
  const attributes: Record<string, string> = {};
  for (const name of names) {
    const problem = checkValue(type, name, given[name]);
    if (problem) return invalid(`${at}.${problem}`);
    attributes[name] = given[name] as string;
  }
  const children = value['children'] ?? [];
  if (!Array.isArray(children)) return invalid(`${at}.children must be an array of location ids`);
  if (children.length > 0 && type !== 'location') return invalid(`${at}.children: only a location has children (the locations inside it)`);
  if (children.length > MAX_MASTER_DATA_CHILDREN) return invalid(`${at}.children holds at most ${MAX_MASTER_DATA_CHILDREN} locations`);
  for (const [i, child] of children.entries()) {
    const badChild = checkMasterDataId('location', child, `${at}.children[${i}]`);
    if (badChild) return badChild;
    if (child === id) return invalid(`${at}.children[${i}]: a location is not its own child`);
    if (children.indexOf(child) !== i) return invalid(`${at}.children[${i}] (${String(child)}) appears twice`);
  }
  return { type, id, attributes, children: children as string[] };
}

// The payload's elements, checked, each (type, id) once.
function elementsOf(ctx: ContractContext, define: boolean): Element[] | ContractOutcome {
  const payload = ctx.transaction.payload as Record<string, unknown>;
  const extra = exactFields(payload, ['elements']);
  if (extra) return invalid(`${extra.ok ? '' : extra.detail}; expected only elements`);
  const list = payload['elements'];
  if (!Array.isArray(list) || list.length < 1 || list.length > MAX_MASTER_DATA_ELEMENTS) return invalid(`payload.elements must hold 1-${MAX_MASTER_DATA_ELEMENTS} elements`);
  const out: Element[] = [];
  const seen = new Set<string>();
  for (const [i, value] of list.entries()) {
    const element = elementOf(value, `payload.elements[${i}]`, define);
    if (isOutcome(element)) return element;
    const key = masterDataKeyOf(element.type, element.id);
    if (seen.has(key)) return invalid(`payload.elements[${i}] (${element.type} ${element.id}) appears twice`);
    seen.add(key);
    out.push(element);
  }
  return out;
}

const recordOf = (ctx: ContractContext, type: MasterDataType, id: string) => ctx.state.get(masterDataKeyOf(type, id))?.value as MasterDataRecord | null | undefined;

const notOwner = (r: MasterDataRecord, what: string) => reject('PROVENANCE.MASTERDATA_NOT_OWNER', `${r.type} ${r.id} is master data of ${r.organizationId}; only it ${what}`);

const same = (a: MasterDataRecord, e: Element) => a.status === 'active' && JSON.stringify(a.attributes) === JSON.stringify(e.attributes) && JSON.stringify(a.children) === JSON.stringify(e.children);

// The steps both contracts share: permission, payload, then one record per element (`step` gives it, nothing to leave it, or the refusal).
function eachElement(
  ctx: ContractContext,
  define: boolean,
  what: string,
  step: (element: Element, existing: MasterDataRecord | null | undefined, organizationId: string) => MasterDataRecord | undefined | ContractOutcome,
): ContractOutcome {
  const denied = mayActWith(ctx, MASTER_DATA_MANAGE_PERMISSION, what);
  if (denied) return denied;
  const elements = elementsOf(ctx, define);
  if (isOutcome(elements)) return elements;
  const organizationId = ctx.transaction.creator.organizationId;
  const writes: StateWrite[] = [];
  for (const e of elements) {
    const record = step(e, recordOf(ctx, e.type, e.id), organizationId);
    if (isOutcome(record)) return record;
    if (record) writes.push({ key: masterDataKeyOf(e.type, e.id), value: record as unknown as JsonValue });
  }
  return { ok: true, writes };
}

/**
 * `provenance.masterdata.define`: `{ elements: [{ type, id, attributes?, children? }] }`
 * (1-MAX_MASTER_DATA_ELEMENTS, all or none) — creates each element owned by the
 * creator's organization, or replaces the attributes and children of one it
 * owns (a retired one becomes active again). An element defined again exactly
 * as it stands is left as it is (no new version).
 */
export const masterDataDefineContract: ContractHandler = {
  type: 'provenance.masterdata.define',
  configuration: false,
  execute: (ctx) =>
    eachElement(ctx, true, 'defines its master data', (e, existing, organizationId) => {
      if (existing && existing.organizationId !== organizationId) return notOwner(existing, 'changes it');
      if (existing && same(existing, e)) return undefined;
      return {
        type: e.type,
        id: e.id,
        vocabularyType: MASTER_DATA_VOCABULARY[e.type],
        organizationId,
        attributes: e.attributes,
        children: e.children,
        status: 'active',
        version: (existing?.version ?? 0) + 1,
        definedAtBlock: existing?.definedAtBlock ?? ctx.blockNumber,
        updatedAtBlock: ctx.blockNumber,
        updatedAt: ctx.blockTimestamp,
        transactionId: ctx.transactionId,
        retiredAtBlock: null,
      };
    }),
};

/**
 * `provenance.masterdata.retire`: `{ elements: [{ type, id }] }` — by the owner,
 * for defined, active elements, all or none. The record stays with
 * `status: 'retired'` and its attributes.
 */
export const masterDataRetireContract: ContractHandler = {
  type: 'provenance.masterdata.retire',
  configuration: false,
  execute: (ctx) =>
    eachElement(ctx, false, 'retires its master data', (e, existing, organizationId) => {
      if (!existing) return reject('PROVENANCE.UNKNOWN_MASTERDATA', `${e.type} ${e.id} is not defined`);
      if (existing.organizationId !== organizationId) return notOwner(existing, 'retires it');
      if (existing.status === 'retired') return reject('PROVENANCE.MASTERDATA_RETIRED', `${e.type} ${e.id} was retired at block ${String(existing.retiredAtBlock)}`);
      return { ...existing, status: 'retired', version: existing.version + 1, updatedAtBlock: ctx.blockNumber, updatedAt: ctx.blockTimestamp, transactionId: ctx.transactionId, retiredAtBlock: ctx.blockNumber };
    }),
};

export const masterDataContracts: readonly ContractHandler[] = [masterDataDefineContract, masterDataRetireContract];
