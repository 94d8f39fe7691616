import { gs1CheckDigit, normaliseGs1Identifier } from './dl-normaliser';

/** What a GS1 identifier names (master data: products, locations, parties; instances: items, logistic units, assets). */
export type Gs1KeyKind = 'gtin' | 'sgtin' | 'lgtin' | 'gln' | 'sgln' | 'party' | 'sscc' | 'grai' | 'giai';

export interface Gs1Key {
  readonly kind: Gs1KeyKind;
  /** The one stored form: the constrained canonical GS1 Digital Link URI (`https://id.gs1.org/…`), as the CBV 2.0 event hash uses it. */
  readonly id: string;
  /** Application Identifier → value (e.g. `{ "01": "09506000134352", "21": "abc" }`); the primary key is the first AI of `id`. */
  readonly elements: Readonly<Record<string, string>>;
}

export type Gs1KeyResult = { readonly ok: true; readonly key: Gs1Key } | { readonly ok: false; readonly code: 'PROVENANCE.INVALID_IDENTIFIER'; readonly detail: string };

/** Primary keys whose last digit is a GS1 check digit over the digits before it, with their lengths. */
const CHECKED: Record<string, { digits: number; name: string }> = {
  '01': { digits: 14, name: 'GTIN' },
  '414': { digits: 13, name: 'GLN' },
  '417': { digits: 13, name: 'party GLN' },
  '00': { digits: 18, name: 'SSCC' },
  '8003': { digits: 14, name: 'GRAI' },
};

const invalid = (detail: string): Gs1KeyResult => ({ ok: false, code: 'PROVENANCE.INVALID_IDENTIFIER', detail });

// The primary key is the path's first AI: object key order cannot say it (`"414"` sorts before `"01"`).
function kindOf(primary: string, elements: Record<string, string>): Gs1KeyKind | undefined {
  if (primary === '01') return '21' in elements ? 'sgtin' : '10' in elements ? 'lgtin' : 'gtin';
  if (primary === '414') return '254' in elements ? 'sgln' : 'gln';
  if (primary === '417') return 'party';
  if (primary === '00') return 'sscc';
  if (primary === '8003') return 'grai';
  if (primary === '8004') return 'giai';
  return undefined;
}

/**
 * Accepts a GS1 key as an EPC URN (`urn:epc:id:sgtin:…`, `urn:epc:class:lgtin:…`, …) or a GS1 Digital
 * Link URI (any domain), normalises it to the one stored form — the canonical Digital Link on
 * `id.gs1.org` — and checks what can be checked: the primary key's length and GS1 check digit
 * (GS1 General Specifications §7.9). An EPC URN carries no check digit; its Digital Link gets the right one.
 */
export function parseGs1Key(value: unknown): Gs1KeyResult {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) return invalid('a GS1 identifier is an EPC URN or a GS1 Digital Link URI of at most 512 characters');
  const id = normaliseGs1Identifier(value);
  if (!id) return invalid(`${value} is not a GS1 EPC URN or GS1 Digital Link URI this service understands (SGTIN, LGTIN, GTIN, SGLN, GLN, party GLN, SSCC, GRAI, GIAI)`);
  const segments = id.slice('https://id.gs1.org/'.length).split('/');
  if (segments.length % 2 !== 0) return invalid(`${value}: a GS1 Digital Link path is pairs of application identifier and value`);
  const elements: Record<string, string> = {};
  for (let i = 0; i < segments.length; i += 2) elements[segments[i]] = decodeURIComponent(segments[i + 1]);
  const kind = kindOf(segments[0], elements);
  if (!kind) return invalid(`${value}: primary key AI ${segments[0]} is not one of 01, 414, 417, 00, 8003, 8004`);
  const primary = segments[0];
  const checked = CHECKED[primary];
  if (checked) {
    const digits = primary === '8003' ? elements[primary].slice(0, 14) : elements[primary];
    if (!new RegExp(`^\\d{${checked.digits}}$`).test(digits)) return invalid(`${value}: a ${checked.name} has ${checked.digits} digits`);
    if (gs1CheckDigit(digits.slice(0, -1)) !== Number(digits[digits.length - 1])) return invalid(`${value}: the ${checked.name} check digit must be ${gs1CheckDigit(digits.slice(0, -1))}`);
  }
  return { ok: true, key: { kind, id, elements } };
}
