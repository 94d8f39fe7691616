/**
 * GS1 identifier normalisation of the CBV 2.0 event hash (rules 17 and 18): EPC URIs, EPC Class URIs
 * and EPC ID Pattern URIs become canonical GS1 Digital Link URIs; a GS1 Digital Link URI is constrained
 * (domain https://id.gs1.org, no query string, only the finest identification level). A TypeScript port
 * of `epcis_event_hash_generator/dl_normaliser.py` of the reference implementation, pattern for pattern
 * and offset for offset, including its fixed string offsets; `null` where the reference returns None.
 */
import { gs1CheckDigit as chainGs1CheckDigit } from '@alliance/ledger/domain';

/** Check digit of GTIN-8/12/13/14, GLN, SSCC, GSIN, GSRN, GSRN-P (GS1 General Specifications §7.9.1). */
export const gs1CheckDigit = (keyWithoutCheckDigit: string): number => Number(chainGs1CheckDigit(keyWithoutCheckDigit));

// One character of an EPC URI serial component (TDS §A, percent-escapes as the reference allows them).
const C = "(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])";
const CPI = '(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])';
/** Company prefix of 6–12 digits and a reference completing `total` digits, as `(\d{6}\.\d{k})|…`. */
function split(total: number, last12 = '\\d{1}'): string {
  const alts: string[] = [];
  for (let p = 6; p <= 11; p++) alts.push(`(?:\\d{${p}}\\.\\d{${total - p}})`);
  alts.push(`(?:\\d{12}\\.${last12})`);
  return `(?:${alts.join('|')})`;
}
function variable(charClass: string, max: number): string {
  const alts: string[] = [];
  for (let p = 6; p <= 12; p++) alts.push(`(?:\\d{${p}}\\.${charClass}{1,${max - (p - 6)}})`);
  return `(?:${alts.join('|')})`;
}
function re(source: string): RegExp {
  return new RegExp(source);
}

const SGTIN = re(`^urn:epc:id:sgtin:${split(13)}\\.${C}{1,20}$`);
const SSCC = re(`^urn:epc:id:sscc:${split(17, '\\d{5}')}$`);
const SGLN = re(`^urn:epc:id:sgln:${split(12, '')}\\.${C}{1,20}$`);
const GRAI = re(`^urn:epc:id:grai:${split(12, '\\.')}\\.${C}{1,16}$`);
const GIAI = re(`^urn:epc:id:giai:${variable(C, 24)}$`);
const GSRN = re(`^urn:epc:id:gsrn:${split(17, '\\d{5}')}$`);
const GSRNP = re(`^urn:epc:id:gsrnp:${split(17, '\\d{5}')}$`);
const GDTI = re(`^urn:epc:id:gdti:${split(12, '\\.')}${C}{1,20}$`);
const CPI_ID = re(`^urn:epc:id:cpi:${variable(CPI, 24)}\\.\\d{1,12}$`);
const SGCN = re(`^urn:epc:id:sgcn:${split(12, '')}\\.\\d{1,12}$`);
const GINC = re(`^urn:epc:id:ginc:${variable(C, 24)}$`);
const GSIN = re(`^urn:epc:id:gsin:${split(16, '\\d{4}')}$`);
const ITIP = re(`^urn:epc:id:itip:${split(13)}\\.\\d{2}\\.\\d{2}\\.${C}{1,20}$`);
const UPUI = re(`^urn:epc:id:upui:${split(13)}\\.${C}{1,28}$`);
const PGLN = re(`^urn:epc:id:pgln:${split(12, '')}$`);
const LGTIN = re(`^urn:epc:class:lgtin:${split(13)}\\.${C}{1,20}$`);
const SGTIN_PAT = re(`^urn:epc:idpat:sgtin:${split(13)}\\.\\*$`);
const GRAI_PAT = re(`^urn:epc:idpat:grai:${split(12, '\\.')}\\.\\*$`);
const GDTI_PAT = re(`^urn:epc:idpat:gdti:${split(12, '\\.')}\\.\\*$`);
const SGCN_PAT = re(`^urn:epc:idpat:sgcn:${split(12, '\\.')}\\.\\*$`);
const CPI_PAT = re(`^urn:epc:idpat:cpi:${variable(CPI, 24)}\\.\\*$`);
const ITIP_PAT = re(`^urn:epc:idpat:itip:${split(13)}\\.\\d{2}\\.\\d{2}\\.\\*$`);
const UPUI_PAT = re(`^urn:epc:idpat:upui:${split(13)}\\.\\*$`);

const DL_KEYS = '01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai';
const DL_URI = re(
  `^https?:(\\/\\/((([^\\/?#]*)@)?([^\\/?#:]*)(:([^\\/?#]*))?))?((([^?#]*)(\\/(${DL_KEYS})\\/)(\\d{4}[^\\/]+)(\\/[^/]+\\/[^/]+)?[/]?(\\?([^?\\n]*))?(#([^\\n]*))?)|(\\/[A-Za-z_-]{10}$))`,
);
const CANONICAL_DOMAIN = re(
  '^(?:https:\\/\\/id.gs1.org\\/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)\\/(\\d{4}[^\\/]+)(\\/[^\\/]+\\/[^\\/]+)?[\\/]?(\\?([^?\\n]*))?(#([^\\n]*))?|(\\/[A-Za-z_-]{10}$))',
);
const SHORT_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['/gtin/', '/01/'], ['/itip/', '/8006/'], ['/cpid/', '/8010/'], ['/gln/', '/414/'], ['/party/', '/417/'],
  ['/gsrnp/', '/8017/'], ['/gsrn/', '/8018/'], ['/gcn/', '/255/'], ['/sscc/', '/00/'], ['/gdti/', '/253/'],
  ['/ginc/', '/401/'], ['/gsin/', '/402/'], ['/grai/', '/8003/'], ['/giai/', '/8004/'], ['/cpv/', '/22/'],
  ['/lot/', '/10/'], ['/ser/', '/21/'],
];
const DOMAIN_KEYS = ['/00/', '/01/', '/253/', '/255/', '/401/', '/402/', '/414/', '/417/', '/8003/', '/8004/', '/8006/', '/8010/', '/8017/', '/8018/'];
const X = "[\\x22\\x27\\x2D\\x2E\\x30-\\x39\\x3B-\\x3F\\x41-\\x5A\\x5F\\x61-\\x7A]";
const CPV_ONLY = [re(`^https:\\/\\/id.gs1.org\\/8006\\/\\d{18}\\/22\\/(${X}{0,20})$`), re(`^https:\\/\\/id.gs1.org\\/01\\/\\d{14}\\/22\\/(${X}{0,20})$`)];
const XS = "[\\x2F\\x22\\x27\\x2D\\x2E\\x30-\\x39\\x3B-\\x3F\\x41-\\x5A\\x5F\\x61-\\x7A]";
const CPV_MORE = [re(`^https:\\/\\/id.gs1.org\\/8006\\/\\d{18}\\/22\\/(${XS}{0,20})$`), re(`^https:\\/\\/id.gs1.org\\/01\\/\\d{14}\\/22\\/(${XS}{0,20})$`)];
const LOT_AND_SERIAL = [
  re(`^https:\\/\\/id.gs1.org\\/8006\\/\\d{18}\\/10\\/(${X}{0,20})\\/21\\/(${X}{0,20})$`),
  re(`^https:\\/\\/id.gs1.org\\/01\\/(\\d{14})\\/10\\/(${X}{0,20})\\/21\\/(${X}{0,20})$`),
];
const VALID_OUTPUT = [
  '00\\/(\\d{18})$',
  `01\\/(\\d{14})\\/21\\/(${X}{0,20})$`,
  `01\\/(\\d{14})\\/10\\/(${X}{0,20})$`,
  '01\\/(\\d{14})$',
  `01\\/(\\d{14})\\/235\\/(${X}{0,28})$`,
  `253\\/(\\d{13})(${X}{0,17})$`,
  '255\\/(\\d{13})(\\d{0,12})$',
  `401\\/(${X}{0,30})$`,
  '402\\/(\\d{17})$',
  '414\\/(\\d{13})$',
  `414\\/(\\d{13})\\/254\\/(${X}{0,20})$`,
  '417\\/(\\d{13})$',
  `8003\\/(\\d{14})(${X}{0,16})$`,
  `8004\\/(${X}{0,30})$`,
  `8006\\/(\\d{18})\\/21\\/(${X}{0,20})$`,
  `8006\\/(\\d{18})\\/10\\/(${X}{0,20})$`,
  '8006\\/(\\d{18})$',
  '8010\\/([\\x23\\x2D\\x2F\\x30-\\x39\\x41-\\x5A]{0,30})\\/8011/(\\d{0,12})$',
  '8010\\/([\\x23\\x2D\\x2F\\x30-\\x39\\x41-\\x5A]{0,30})$',
  '8017\\/(\\d{18})$',
  '8018\\/(\\d{18})$',
].map((tail) => re(`^https:\\/\\/id.gs1.org\\/${tail}`));

/** Python's `s[start:]` / `s[start:end]` with negative indices counted from the end. */
function pySlice(s: string, start: number, end?: number): string {
  const norm = (i: number) => (i < 0 ? Math.max(0, s.length + i) : Math.min(i, s.length));
  return s.slice(norm(start), end === undefined ? s.length : norm(end));
}

function withCheckDigit(digits: string): string {
  return digits + String(gs1CheckDigit(digits));
}

/**
 * The constrained canonical GS1 Digital Link URI for an EPC URI, EPC Class URI, EPC ID Pattern URI or
 * GS1 Digital Link URI; `null` for anything else (the value is then hashed as it is).
 */
export function normaliseGs1Identifier(uri: string): string | null {
  const partition = uri.indexOf('.');
  if (partition < 0) return null;
  const gtinFrom = (prefixStart: number) => {
    const companyPrefix = uri.slice(prefixStart, partition);
    const itemRef = uri.slice(partition + 1, partition + 1 + (13 - companyPrefix.length));
    return withCheckDigit(itemRef.slice(0, 1) + companyPrefix + itemRef.slice(1));
  };
  const twelveFrom = (prefixStart: number) => {
    const companyPrefix = uri.slice(prefixStart, partition);
    return companyPrefix + uri.slice(partition + 1, partition + 1 + (12 - companyPrefix.length));
  };

  // EPC URIs
  if (SGTIN.test(uri)) return `https://id.gs1.org/01/${gtinFrom(17)}/21/${uri.slice(32)}`;
  if (SSCC.test(uri)) {
    const companyPrefix = uri.slice(16, partition);
    return `https://id.gs1.org/00/${withCheckDigit(uri.slice(partition + 1, partition + 2) + companyPrefix + uri.slice(partition + 2))}`;
  }
  if (SGLN.test(uri)) {
    const gln = withCheckDigit(twelveFrom(16));
    const extension = uri.slice(30);
    return extension === '0' ? `https://id.gs1.org/414/${gln}` : `https://id.gs1.org/414/${gln}/254/${extension}`;
  }
  if (GRAI.test(uri)) return `https://id.gs1.org/8003/${withCheckDigit(`0${twelveFrom(16)}`)}${uri.slice(30)}`;
  if (GIAI.test(uri)) return `https://id.gs1.org/8004/${uri.slice(16, partition)}${uri.slice(partition + 1)}`;
  if (GSRN.test(uri)) return `https://id.gs1.org/8018/${withCheckDigit(uri.slice(16, partition) + uri.slice(partition + 1))}`;
  if (GSRNP.test(uri)) return `https://id.gs1.org/8017/${withCheckDigit(uri.slice(17, partition) + uri.slice(partition + 1))}`;
  if (GDTI.test(uri)) return `https://id.gs1.org/253/${withCheckDigit(twelveFrom(16))}${uri.slice(30)}`;
  if (CPI_ID.test(uri)) {
    const separator = uri.lastIndexOf('.');
    return `https://id.gs1.org/8010/${uri.slice(15, partition)}${uri.slice(partition + 1, separator)}/8011/${uri.slice(separator + 1)}`;
  }
  if (SGCN.test(uri)) return `https://id.gs1.org/255/${withCheckDigit(twelveFrom(16))}${uri.slice(30)}`;
  if (GINC.test(uri)) return `https://id.gs1.org/401/${uri.slice(16, partition)}${uri.slice(partition + 1)}`;
  if (GSIN.test(uri)) return `https://id.gs1.org/402/${withCheckDigit(uri.slice(16, partition) + uri.slice(partition + 1))}`;
  if (ITIP.test(uri)) return `https://id.gs1.org/8006/${gtinFrom(16)}${uri.slice(31, 33)}${uri.slice(34, 36)}/21/${uri.slice(37)}`;
  if (UPUI.test(uri)) return `https://id.gs1.org/01/${gtinFrom(16)}/235/${uri.slice(31)}`;
  if (PGLN.test(uri)) return `https://id.gs1.org/417/${withCheckDigit(twelveFrom(16))}`;
  // EPC Class URIs
  if (LGTIN.test(uri)) return `https://id.gs1.org/01/${gtinFrom(20)}/10/${uri.slice(35)}`;
  // EPC ID Pattern URIs
  if (SGTIN_PAT.test(uri)) return `https://id.gs1.org/01/${gtinFrom(20)}`;
  if (GRAI_PAT.test(uri)) return `https://id.gs1.org/8003/${withCheckDigit(`0${twelveFrom(19)}`)}`;
  if (GDTI_PAT.test(uri)) return `https://id.gs1.org/253/${withCheckDigit(twelveFrom(19))}`;
  if (SGCN_PAT.test(uri)) return `https://id.gs1.org/255/${withCheckDigit(twelveFrom(19))}`;
  if (CPI_PAT.test(uri)) return `https://id.gs1.org/8010/${uri.slice(18, partition)}${uri.slice(partition + 1, uri.lastIndexOf('.'))}`;
  if (ITIP_PAT.test(uri)) return `https://id.gs1.org/8006/${gtinFrom(19)}${uri.slice(34, 36)}${uri.slice(37, 39)}`;
  if (UPUI_PAT.test(uri)) return `https://id.gs1.org/01/${gtinFrom(19)}`;

  // GS1 Digital Link URIs
  if (!DL_URI.test(uri)) return null;
  let dl = uri.includes('?') ? uri.slice(0, uri.indexOf('?')) : uri;
  for (const [short, ai] of SHORT_NAMES) dl = dl.split(short).join(ai);
  if (!CANONICAL_DOMAIN.test(dl)) {
    const key = DOMAIN_KEYS.find((k) => dl.includes(k));
    if (key !== undefined) dl = `https://id.gs1.org${dl.slice(dl.indexOf(key))}`;
  }
  if (!/^https:\/\/id.gs1.org\/01\/\d{14}/.test(dl)) {
    if (/^https:\/\/id.gs1.org\/01\/\d{13}/.test(dl)) dl = dl.split('/01/').join('/01/0');
    else if (/^https:\/\/id.gs1.org\/01\/\d{12}/.test(dl)) dl = dl.split('/01/').join('/01/00');
    else if (/^https:\/\/id.gs1.org\/01\/\d{8}/.test(dl)) dl = dl.split('/01/').join('/01/000000');
  }
  // Strip a consumer product variant (AI 22).
  const afterCpv = pySlice(dl, dl.indexOf('/22/') + 4);
  if (CPV_ONLY.some((r) => r.test(dl))) dl = dl.slice(0, dl.indexOf('/22/')) + pySlice(afterCpv, afterCpv.indexOf('/'), -1);
  if (CPV_MORE.some((r) => r.test(dl))) dl = dl.slice(0, dl.indexOf('/22/')) + pySlice(afterCpv, afterCpv.indexOf('/'));
  // Only the finest level of identification: a serial makes the lot redundant.
  if (LOT_AND_SERIAL.some((r) => r.test(dl))) {
    const afterLot = dl.slice(dl.indexOf('/10/') + 4);
    dl = dl.slice(0, dl.indexOf('/10/')) + pySlice(afterLot, afterLot.indexOf('/'));
  }
  return VALID_OUTPUT.some((r) => r.test(dl)) ? dl : null;
}
