import { CBV_MDA_PREFIX, checkMasterDataElement, checkMasterDataId, MASTER_DATA_ATTRIBUTES, MASTER_DATA_TYPES, type MasterDataType } from '@alliance/ledger/domain';
import { parseGs1Key } from './identifiers';

/**
 * Master data input in its one stored form, before it goes to the chain
 * (`provenance.masterdata.define`, which takes only that form): identifiers
 * of any accepted spelling become the canonical Digital Link, attribute names
 * their CBV bare word.
 */
export type MasterDataResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: string; readonly detail: string };

/** One element of a define payload: `{ type, id, attributes, children }` in stored form. */
export interface MasterDataElement {
  readonly type: MasterDataType;
  readonly id: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly string[];
}

const fail = <T>(code: string, detail: string): MasterDataResult<T> => ({ ok: false, code, detail });
const KINDS: Readonly<Record<MasterDataType, readonly string[]>> = { product: ['gtin', 'lgtin'], location: ['gln', 'sgln'], party: ['party', 'gln'] };
const BARE_PREFIX: Readonly<Record<MasterDataType, string>> = { product: 'https://id.gs1.org/01/', location: 'https://id.gs1.org/414/', party: 'https://id.gs1.org/417/' };

export const isMasterDataType = (value: unknown): value is MasterDataType => MASTER_DATA_TYPES.includes(value as MasterDataType);

/**
 * The stored id of a `type` element from an EPC URN (`urn:epc:idpat:sgtin:…`,
 * `urn:epc:class:lgtin:…`, `urn:epc:id:sgln:…`, `urn:epc:id:pgln:…`), a GS1
 * Digital Link on any domain, or the bare GS1 key (a GTIN-8/12/13/14 for a
 * product, a 13-digit GLN for a location or party): the canonical Digital
 * Link, check digit verified. A party named by its GLN as a location key
 * (`…/414/<gln>`, `urn:epc:id:sgln:<gln>.0`) is the party GLN `…/417/<gln>`.
 * Refused with PROVENANCE.INVALID_IDENTIFIER.
 */
export function masterDataIdOf(type: MasterDataType, value: unknown): MasterDataResult<string> {
  let input = typeof value === 'string' ? value.trim() : value;
  if (typeof input === 'string' && /^\d+$/.test(input)) {
    if (type === 'product' && [8, 12, 13, 14].includes(input.length)) input = BARE_PREFIX.product + input.padStart(14, '0');
    else if (type !== 'product' && input.length === 13) input = BARE_PREFIX[type] + input;
    else return fail('PROVENANCE.INVALID_IDENTIFIER', `${input}: a bare ${type === 'product' ? 'GTIN has 8, 12, 13 or 14' : 'GLN has 13'} digits`);
  }
  const parsed = parseGs1Key(input);
  if (!parsed.ok) return fail(parsed.code, parsed.detail);
  const { kind, id, elements } = parsed.key;
  if (!KINDS[type].includes(kind)) return fail('PROVENANCE.INVALID_IDENTIFIER', `${String(value)} is a ${kind.toUpperCase()}, not a ${type} id (${KINDS[type].map((k) => k.toUpperCase()).join(' or ')})`);
  const stored = type === 'party' && kind === 'gln' ? `${BARE_PREFIX.party}${elements['414']}` : id;
  const bad = checkMasterDataId(type, stored);
  return bad && !bad.ok ? fail(bad.code, `${String(value)}: ${bad.detail}`) : { ok: true, value: stored };
}

/**
 * An attribute name in its stored form: a CBV master data attribute the type
 * knows as its bare word (`name` for `name`, `cbvmda:name`,
 * `urn:epcglobal:cbv:mda:name` and `urn:epcglobal:cbv:mda#name`); another CBV
 * attribute as `urn:epcglobal:cbv:mda:<name>`; a GS1 Web Vocabulary term
 * `gs1:<term>` as `https://gs1.org/voc/<term>`; anything else as given.
 */
export function masterDataAttributeName(type: MasterDataType, name: string): string {
  const text = name.trim();
  for (const prefix of ['cbvmda:', CBV_MDA_PREFIX, 'urn:epcglobal:cbv:mda#']) {
    if (text.startsWith(prefix)) {
      const bare = text.slice(prefix.length);
      return MASTER_DATA_ATTRIBUTES[type].includes(bare) ? bare : `${CBV_MDA_PREFIX}${bare}`;
    }
  }
  if (text.startsWith('gs1:')) return `https://gs1.org/voc/${text.slice(4)}`;
  return text;
}

/**
 * A define element in stored form from what a client sends: `attributes` as an
 * object of name → string, or as an EPCIS vocabulary element's attribute list
 * `[{ id, attribute }]`; `children` as location ids in any accepted spelling.
 * The result is checked as the contract checks it (`checkMasterDataElement`),
 * so what the service submits is refused only for ownership, not for form.
 */
export function masterDataElementOf(type: MasterDataType, id: unknown, body: { attributes?: unknown; children?: unknown }): MasterDataResult<MasterDataElement> {
  const canonical = masterDataIdOf(type, id);
  if (!canonical.ok) return canonical;
  const given = body.attributes ?? {};
  if (typeof given !== 'object' || given === null) return fail('PROVENANCE.INVALID_MASTERDATA', 'attributes must be an object of name → string or a list of { id, attribute }');
  const pairs: Array<[string, unknown]> = Array.isArray(given)
    ? given.map((a: unknown) => {
        const entry = (a && typeof a === 'object' ? a : {}) as { id?: unknown; attribute?: unknown };
        return [String(entry.id ?? ''), entry.attribute];
      })
    : Object.entries(given);
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of pairs) {
    const stored = masterDataAttributeName(type, name);
    if (stored in attributes) return fail('PROVENANCE.INVALID_MASTERDATA', `attribute ${stored} is given twice (${name})`);
    attributes[stored] = value;
  }
  const children: string[] = [];
  if (body.children !== undefined) {
    if (!Array.isArray(body.children)) return fail('PROVENANCE.INVALID_MASTERDATA', 'children must be an array of location ids');
    for (const child of body.children) {
      const c = masterDataIdOf('location', child);
      if (!c.ok) return fail(c.code, `children: ${c.detail}`);
      children.push(c.value);
    }
  }
  const element = { type, id: canonical.value, attributes, children };
  const bad = checkMasterDataElement(element, true);
  if (bad && !bad.ok) return fail(bad.code, bad.detail);
  return { ok: true, value: element as MasterDataElement };
}
