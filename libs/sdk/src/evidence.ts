import {
  type ConsortiumMember,
  type JsonValue,
  type Receipt,
  type SignatureAlgorithm,
  canonicalBytes,
  canonicalize,
  checkpointOrigin,
  fromBase64Url,
  fromHex,
  isJsonObject,
  isSignatureAlgorithm,
  keyId,
  memberNoteKeys,
  nodeVerify,
  parseCanonical,
  ProtocolError,
  publicKeyOf,
  sign,
  SignatureDomain,
  toBase64Url,
  toHex,
  utf8,
  verifyCheckpoint as protocolVerifyCheckpoint,
} from '@alliance/protocol';
import type { ChainTrust } from './trust';
import { verifyReceipt, verifyTreeExtension } from './verify';

/**
 * Evidence packages (docs/audit.md, Evidence packages): one self-contained,
 * canonical JSON file for a case — an item's trace or a receivable's tree —
 * holding the ledger facts, the receipts of the transactions that wrote them,
 * one checkpoint signed by the members that every receipt's log is proven
 * consistent with, CSV renderings of the facts, and the issuing regulator's
 * signature over all of it. It verifies offline with `verifyEvidence` or
 * `alliance verify evidence <file>`.
 */

export const EVIDENCE_FORMAT = 'alliance-evidence/v1';

/** One write of a transaction's result: `key` held `value` at `version` after `transactionId`. */
export interface StateWriteRecord {
  readonly type: 'state-write';
  readonly transactionId: string;
  readonly key: string;
  readonly version: number;
  /** null: the key was deleted. */
  readonly value: JsonValue;
}

/** One EPCIS event on a trace's paths and the transaction that carries it (captured) or that it was derived from. */
export interface EpcisEventRecord {
  readonly type: 'epcis-event';
  readonly transactionId: string;
  readonly eventId: string;
  readonly eventHash: string;
  readonly eventType: string;
  readonly eventTime: string;
  /** `capture` (its text is `payload.events[position]` of the transaction), or what derived it, e.g. `transfer:<id>`. */
  readonly origin: string;
  readonly position: number;
}

export type EvidenceRecord = StateWriteRecord | EpcisEventRecord;

export interface TraceNodeRecord {
  readonly id: string;
  readonly kind: string;
  readonly depth: number;
}

export interface TraceEdgeRecord {
  readonly from: string;
  readonly to: string;
  readonly kind: string;
  readonly eventID: string;
  readonly eventTime: string;
}

export type EvidenceCase =
  | { readonly kind: 'receivable'; readonly subject: string; readonly rootId: string; readonly title?: string }
  | {
      readonly kind: 'trace';
      readonly subject: string;
      readonly direction: string;
      readonly depth: number;
      readonly truncated: boolean;
      readonly nodes: readonly TraceNodeRecord[];
      readonly edges: readonly TraceEdgeRecord[];
      readonly title?: string;
    };

export interface EvidenceTransaction {
  readonly transactionId: string;
  readonly receipt: Receipt;
  /** RFC 9162 consistency proof (hex) from the receipt's block log (`header.logSize`) to the checkpoint's tree; [] when they are one size. */
  readonly logProof: readonly string[];
}

export interface EvidenceIssuer {
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly keyId: string;
  /** Hex; checked against the pinned observer keys (or --issuer-key) when given. */
  readonly publicKey: string;
}

export interface EvidencePackage {
  readonly format: typeof EVIDENCE_FORMAT;
  readonly chainId: string;
  readonly case: EvidenceCase;
  readonly createdAt: string;
  readonly issuer: EvidenceIssuer;
  readonly records: readonly EvidenceRecord[];
  readonly transactions: readonly EvidenceTransaction[];
  /** A C2SP signed note (docs/protocol.md §8) signed by the members, at or after every receipt's block. */
  readonly checkpoint: string;
  /** File name → CSV text, each rendered from `records`, `transactions` and `case` by `renderEvidenceCsv`. */
  readonly csv: Readonly<Record<string, string>>;
  /** base64url signature by the issuer's key over the canonical bytes of every other field (domain alliance/evidence-package/v1). */
  readonly signature: string;
}

export type UnsignedEvidence = Omit<EvidencePackage, 'issuer' | 'csv' | 'signature' | 'format'>;

export interface EvidenceSigningKey {
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly privateKey: Uint8Array;
}

/** What a verifier pins for the issuer: the regulator's keys (observers of the chain configuration, or --issuer-key). */
export interface IssuerKey {
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly publicKey: string;
}

export const EvidenceFailureCode = {
  MALFORMED: 'EVIDENCE.MALFORMED',
  NON_CANONICAL: 'EVIDENCE.NON_CANONICAL',
  CHAIN_MISMATCH: 'EVIDENCE.CHAIN_MISMATCH',
  ISSUER_NOT_TRUSTED: 'EVIDENCE.ISSUER_NOT_TRUSTED',
  BAD_SIGNATURE: 'EVIDENCE.BAD_SIGNATURE',
  BAD_RECEIPT: 'EVIDENCE.BAD_RECEIPT',
  BAD_CHECKPOINT: 'EVIDENCE.BAD_CHECKPOINT',
  NOT_IN_CHECKPOINT: 'EVIDENCE.NOT_IN_CHECKPOINT',
  RECORD_NOT_PROVEN: 'EVIDENCE.RECORD_NOT_PROVEN',
  HISTORY_GAP: 'EVIDENCE.HISTORY_GAP',
  INCOMPLETE_CASE: 'EVIDENCE.INCOMPLETE_CASE',
  CSV_MISMATCH: 'EVIDENCE.CSV_MISMATCH',
} as const;
export type EvidenceFailureCode = (typeof EvidenceFailureCode)[keyof typeof EvidenceFailureCode];

export type EvidenceVerification =
  | {
      readonly ok: true;
      readonly chainId: string;
      readonly case: { readonly kind: EvidenceCase['kind']; readonly subject: string };
      readonly createdAt: string;
      readonly issuer: { readonly organizationId: string; readonly keyId: string };
      /** The issuer's key was one of the pinned keys; false: the signature only proves the file is unchanged since someone signed it. */
      readonly issuerPinned: boolean;
      /** Receipts and checkpoint were checked against pinned members; false: against the receipts' own member lists. */
      readonly membersPinned: boolean;
      readonly records: number;
      readonly transactions: number;
      readonly checkpoint: { readonly treeSize: number; readonly rootHash: string; readonly verifiedBy: readonly string[] };
      readonly csv: readonly string[];
    }
  | { readonly ok: false; readonly reason: EvidenceFailureCode; readonly detail: string };

export interface EvidenceVerifyOptions {
  /** The consortium the verifier trusts (`--members`): receipts and the checkpoint must be certified by it. */
  readonly trust?: ChainTrust;
  /** The regulator keys the verifier trusts; `issuerKeysOf(membersFile)` reads the observers of a genesis or chain configuration. */
  readonly issuerKeys?: readonly IssuerKey[];
  /** The chain the verifier expects (default: the trust's). */
  readonly chainId?: string;
}

// ------------------------------------------------------------------ CSV

/**
 * One CSV cell (RFC 4180): quoted when it holds `"`, `,`, CR or LF, quotes
 * doubled; a text starting with `=`, `+`, `-`, `@`, TAB or CR that is not an
 * integer is prefixed with `'` so a spreadsheet does not run it as a formula.
 */
export function csvCell(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) text = value.join('|');
  else text = canonicalize(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvText(columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  return [columns.map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))].map((line) => `${line}\r\n`).join('');
}

/** `a.b` reads value.a.b; missing → undefined. */
function at(value: unknown, path: string): unknown {
  let v: unknown = value;
  for (const part of path.split('.')) v = isJsonObject(v) ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

const RECEIVABLE_COLUMNS = ['receivableId', 'rootId', 'parentId', 'children', 'issuer', 'debtor', 'holder', 'currency', 'faceValue', 'paidAmount', 'dueDate', 'status', 'creditLineId', 'encumbrance.financingId', 'encumbrance.financier', 'frozen.by', 'createdAtBlock', 'updatedAtBlock', 'lastTransactionId'];
const FINANCING_COLUMNS = ['financingId', 'assetKind', 'assetId', 'applicant', 'financier', 'kind', 'recourse', 'currency', 'faceValue', 'principal', 'rateBps', 'dayCount', 'feeMinor', 'discount', 'interest', 'disbursedAmount', 'status', 'updatedAtBlock', 'lastTransactionId'];
const PAYMENT_COLUMNS = ['paymentId', 'rootId', 'debtor', 'currency', 'amount', 'paymentReference', 'allocations', 'skippedFrozen', 'atBlock', 'at'];
const HISTORY_COLUMNS = ['blockNumber', 'blockTime', 'leafIndex', 'transactionId', 'transactionType', 'creator', 'key', 'version', 'status'];
const EVENT_COLUMNS = ['eventID', 'eventType', 'eventTime', 'origin', 'eventHash', 'blockNumber', 'blockTime', 'transactionId', 'creator'];

/**
 * The CSV files of a package, rendered from its facts alone (the verifier
 * renders them again and compares byte for byte). Receivable: `receivables.csv`,
 * `financings.csv`, `payments.csv` (each key's latest version) and
 * `history.csv` (every write, in log order). Trace: `events.csv`, `nodes.csv`,
 * `edges.csv`. CRLF line ends, a header line first.
 */
export function renderEvidenceCsv(pkg: Pick<EvidencePackage, 'case' | 'records' | 'transactions'>): Record<string, string> {
  const receipts = new Map(pkg.transactions.map((t) => [t.transactionId, t.receipt]));
  const txColumns = (transactionId: string) => {
    const r = receipts.get(transactionId);
    return { blockNumber: r?.block.header.blockNumber, blockTime: r?.block.header.timestamp, leafIndex: r?.leafIndex, transactionType: r?.envelope.transaction.type, creator: r?.envelope.transaction.creator.organizationId };
  };
  if (pkg.case.kind === 'trace') {
    const events = pkg.records.filter((r): r is EpcisEventRecord => r.type === 'epcis-event');
    return {
      'edges.csv': csvText(['from', 'to', 'kind', 'eventID', 'eventTime'], pkg.case.edges.map((e) => [e.from, e.to, e.kind, e.eventID, e.eventTime])),
      'events.csv': csvText(
        EVENT_COLUMNS,
        events.map((e) => {
          const tx = txColumns(e.transactionId);
          return [e.eventId, e.eventType, e.eventTime, e.origin, e.eventHash, tx.blockNumber, tx.blockTime, e.transactionId, tx.creator];
        }),
      ),
      'nodes.csv': csvText(['id', 'kind', 'depth'], pkg.case.nodes.map((n) => [n.id, n.kind, n.depth])),
    };
  }
  const writes = pkg.records.filter((r): r is StateWriteRecord => r.type === 'state-write');
  const latest = new Map<string, StateWriteRecord>();
  for (const w of writes) if ((latest.get(w.key)?.version ?? -1) < w.version) latest.set(w.key, w);
  const ofKind = (prefix: string) => [...latest.values()].filter((w) => w.key.startsWith(prefix) && w.value !== null).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const table = (prefix: string, columns: readonly string[], cell: (w: StateWriteRecord, column: string) => unknown = (w, c) => at(w.value, c)) =>
    csvText(columns, ofKind(prefix).map((w) => columns.map((c) => cell(w, c))));
  return {
    'financings.csv': table('finance/financing/', FINANCING_COLUMNS),
    'history.csv': csvText(
      HISTORY_COLUMNS,
      writes.map((w) => {
        const tx = txColumns(w.transactionId);
        return [tx.blockNumber, tx.blockTime, tx.leafIndex, w.transactionId, tx.transactionType, tx.creator, w.key, w.version, w.value === null ? 'deleted' : at(w.value, 'status')];
      }),
    ),
    'payments.csv': table('finance/payment/', PAYMENT_COLUMNS, (w, c) =>
      c === 'allocations' ? ((at(w.value, c) as unknown[] | undefined) ?? []).map((a) => `${String(at(a, 'receivableId'))}:${String(at(a, 'payee'))}:${String(at(a, 'amount'))}`).join('|') : at(w.value, c),
    ),
    'receivables.csv': table('finance/receivable/', RECEIVABLE_COLUMNS),
  };
}

// ------------------------------------------------------------------ sealing

/** The bytes the issuer signs: the canonical JSON of the package without `signature`. */
export function evidenceSignedBytes(pkg: Omit<EvidencePackage, 'signature'>): Uint8Array {
  return canonicalBytes(pkg as unknown as JsonValue);
}

/** Orders what an issuer assembled (transactions by leaf index; writes by log position and key), renders the CSV, and signs. */
export function sealEvidencePackage(body: UnsignedEvidence, key: EvidenceSigningKey): EvidencePackage {
  const publicKey = publicKeyOf(key.algorithm, key.privateKey);
  const transactions = [...body.transactions].sort((a, b) => a.receipt.leafIndex - b.receipt.leafIndex);
  const position = new Map(transactions.map((t, i) => [t.transactionId, i]));
  const records = [...body.records].sort((a, b) => {
    const d = (position.get(a.transactionId) ?? 0) - (position.get(b.transactionId) ?? 0);
    if (d !== 0) return d;
    const ka = a.type === 'state-write' ? a.key : a.eventId;
    const kb = b.type === 'state-write' ? b.key : b.eventId;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const unsigned: Omit<EvidencePackage, 'signature'> = {
    format: EVIDENCE_FORMAT,
    chainId: body.chainId,
    case: body.case,
    createdAt: body.createdAt,
    issuer: { organizationId: key.organizationId, algorithm: key.algorithm, keyId: keyId(key.algorithm, publicKey), publicKey: toHex(publicKey) },
    records,
    transactions,
    checkpoint: body.checkpoint,
    csv: renderEvidenceCsv({ case: body.case, records, transactions }),
  };
  // A deep copy through canonical JSON: plain protocol data (no undefined, no non-integer numbers), or an exception here.
  const plain = JSON.parse(canonicalize(unsigned)) as Omit<EvidencePackage, 'signature'>;
  return { ...plain, signature: toBase64Url(sign(key.algorithm, key.privateKey, SignatureDomain.evidencePackage, evidenceSignedBytes(plain))) };
}

/** The package as it is exchanged: its canonical bytes (the only form `verifyEvidence` accepts as bytes). */
export function encodeEvidencePackage(pkg: EvidencePackage): Uint8Array {
  return canonicalBytes(pkg as unknown as JsonValue);
}

// ------------------------------------------------------------------ issuer keys

function keysOfObservers(observers: unknown): IssuerKey[] {
  if (!Array.isArray(observers)) return [];
  const keys: IssuerKey[] = [];
  for (const o of observers) {
    if (!isJsonObject(o) || typeof o['organizationId'] !== 'string' || !Array.isArray(o['keys'])) continue;
    for (const k of o['keys'] as unknown[]) {
      if (isJsonObject(k) && typeof k['publicKey'] === 'string' && isSignatureAlgorithm(k['algorithm'])) keys.push({ organizationId: o['organizationId'], algorithm: k['algorithm'], publicKey: k['publicKey'] });
    }
  }
  return keys;
}

/**
 * The observers' keys (the regulators) of a members file: a genesis envelope
 * (`config.observers`), a chain configuration, or `{ observers: [...] }`.
 * Empty when the file names none.
 */
export function issuerKeysOf(membersFile: unknown): IssuerKey[] {
  if (!isJsonObject(membersFile)) return [];
  const v = membersFile as Record<string, unknown>;
  const config = isJsonObject(v['transaction']) ? at(v, 'transaction.payload.config') : v;
  return keysOfObservers(at(config, 'observers'));
}

/** `{ organizationId, algorithm, publicKey }`, a list of them, or a key file with those fields (`--issuer-key`). */
export function parseIssuerKeys(value: unknown): IssuerKey[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((k, i) => {
    if (!isJsonObject(k) || typeof k['organizationId'] !== 'string' || !isSignatureAlgorithm(k['algorithm']) || typeof k['publicKey'] !== 'string') {
      throw new Error(`issuer key ${i + 1}: expected { organizationId, algorithm, publicKey }`);
    }
    return { organizationId: k['organizationId'], algorithm: k['algorithm'], publicKey: k['publicKey'] };
  });
}

// ------------------------------------------------------------------ verification

class Failure extends Error {
  constructor(
    readonly reason: EvidenceFailureCode,
    detail: string,
  ) {
    super(detail);
  }
}

const fail = (reason: EvidenceFailureCode, detail: string): never => {
  throw new Failure(reason, detail);
};

const HEX64 = /^[0-9a-f]{64}$/;

function exactFields(value: unknown, fields: readonly string[], optional: readonly string[], what: string): Record<string, unknown> {
  if (!isJsonObject(value)) fail(EvidenceFailureCode.MALFORMED, `${what} must be an object`);
  const v = value as Record<string, unknown>;
  const extra = Object.keys(v).filter((k) => !fields.includes(k) && !optional.includes(k));
  const missing = fields.filter((f) => !(f in v));
  if (extra.length || missing.length) fail(EvidenceFailureCode.MALFORMED, `${what}: ${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unexpected ${extra.join(', ')}` : ''}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

function checkShape(value: unknown): EvidencePackage {
  const p = exactFields(value, ['format', 'chainId', 'case', 'createdAt', 'issuer', 'records', 'transactions', 'checkpoint', 'csv', 'signature'], [], 'the package');
  if (p['format'] !== EVIDENCE_FORMAT) fail(EvidenceFailureCode.MALFORMED, `format must be ${EVIDENCE_FORMAT}`);
  if (!isString(p['chainId']) || !isString(p['createdAt']) || !isString(p['checkpoint']) || !isString(p['signature'])) fail(EvidenceFailureCode.MALFORMED, 'chainId, createdAt, checkpoint and signature must be strings');
  const issuer = exactFields(p['issuer'], ['organizationId', 'algorithm', 'keyId', 'publicKey'], [], 'issuer');
  if (!isString(issuer['organizationId']) || !isSignatureAlgorithm(issuer['algorithm']) || !isString(issuer['keyId']) || !isString(issuer['publicKey'])) fail(EvidenceFailureCode.MALFORMED, 'issuer: organizationId, algorithm, keyId, publicKey');
  const c = p['case'];
  if (!isJsonObject(c)) fail(EvidenceFailureCode.MALFORMED, 'case must be an object');
  const kind = (c as Record<string, unknown>)['kind'];
  if (kind === 'receivable') {
    const r = exactFields(c, ['kind', 'subject', 'rootId'], ['title'], 'case');
    if (!isString(r['subject']) || !isString(r['rootId'])) fail(EvidenceFailureCode.MALFORMED, 'case: subject and rootId must be strings');
  } else if (kind === 'trace') {
    const t = exactFields(c, ['kind', 'subject', 'direction', 'depth', 'truncated', 'nodes', 'edges'], ['title'], 'case');
    if (!isString(t['subject']) || !isString(t['direction']) || !isInt(t['depth']) || typeof t['truncated'] !== 'boolean' || !Array.isArray(t['nodes']) || !Array.isArray(t['edges'])) fail(EvidenceFailureCode.MALFORMED, 'case: a trace needs subject, direction, depth, truncated, nodes and edges');
    (t['nodes'] as unknown[]).forEach((n, i) => {
      const x = exactFields(n, ['id', 'kind', 'depth'], [], `case.nodes[${i}]`);
      if (!isString(x['id']) || !isString(x['kind']) || typeof x['depth'] !== 'number') fail(EvidenceFailureCode.MALFORMED, `case.nodes[${i}]`);
    });
    (t['edges'] as unknown[]).forEach((e, i) => {
      const x = exactFields(e, ['from', 'to', 'kind', 'eventID', 'eventTime'], [], `case.edges[${i}]`);
      if (![x['from'], x['to'], x['kind'], x['eventID'], x['eventTime']].every(isString)) fail(EvidenceFailureCode.MALFORMED, `case.edges[${i}]`);
    });
  } else fail(EvidenceFailureCode.MALFORMED, 'case.kind must be receivable or trace');
  if (!Array.isArray(p['records']) || !Array.isArray(p['transactions'])) fail(EvidenceFailureCode.MALFORMED, 'records and transactions must be arrays');
  (p['transactions'] as unknown[]).forEach((t, i) => {
    const x = exactFields(t, ['transactionId', 'receipt', 'logProof'], [], `transactions[${i}]`);
    if (!isString(x['transactionId']) || !HEX64.test(x['transactionId']) || !Array.isArray(x['logProof']) || !(x['logProof'] as unknown[]).every((h) => isString(h) && HEX64.test(h))) fail(EvidenceFailureCode.MALFORMED, `transactions[${i}]: transactionId and logProof (hex64 hashes)`);
  });
  (p['records'] as unknown[]).forEach((r, i) => {
    const type = isJsonObject(r) ? (r as Record<string, unknown>)['type'] : undefined;
    if (type === 'state-write') {
      const x = exactFields(r, ['type', 'transactionId', 'key', 'version', 'value'], [], `records[${i}]`);
      if (!isString(x['transactionId']) || !isString(x['key']) || !isInt(x['version'], 1)) fail(EvidenceFailureCode.MALFORMED, `records[${i}]: transactionId, key, version`);
    } else if (type === 'epcis-event') {
      const x = exactFields(r, ['type', 'transactionId', 'eventId', 'eventHash', 'eventType', 'eventTime', 'origin', 'position'], [], `records[${i}]`);
      if (![x['transactionId'], x['eventId'], x['eventHash'], x['eventType'], x['eventTime'], x['origin']].every(isString) || !isInt(x['position'])) fail(EvidenceFailureCode.MALFORMED, `records[${i}]: an epcis-event's fields`);
    } else fail(EvidenceFailureCode.MALFORMED, `records[${i}]: type must be state-write or epcis-event`);
  });
  if (!isJsonObject(p['csv']) || !Object.values(p['csv'] as Record<string, unknown>).every(isString)) fail(EvidenceFailureCode.MALFORMED, 'csv must map file names to texts');
  return p as unknown as EvidencePackage;
}

/** The anchor key of an event (provenance contract): `provenance/event/<base64url(UTF-8 eventId)>`. */
const eventAnchorKey = (eventId: string) => `provenance/event/${toBase64Url(utf8(eventId))}`;

function checkRecords(pkg: EvidencePackage, receipts: ReadonlyMap<string, Receipt>): void {
  const used = new Set<string>();
  const seen = new Set<string>();
  pkg.records.forEach((record, i) => {
    const receipt = receipts.get(record.transactionId) ?? fail(EvidenceFailureCode.RECORD_NOT_PROVEN, `records[${i}] names transaction ${record.transactionId}, which has no receipt in the package`);
    used.add(record.transactionId);
    if (record.type === 'state-write') {
      const id = `${record.key}\n${record.version}`;
      if (seen.has(id)) fail(EvidenceFailureCode.MALFORMED, `records[${i}]: ${record.key} version ${record.version} appears twice`);
      seen.add(id);
      const write = receipt.result.writes.find((w) => w.key === record.key);
      if (!write) fail(EvidenceFailureCode.RECORD_NOT_PROVEN, `records[${i}]: transaction ${record.transactionId} wrote no ${record.key}`);
      else if (write.version !== record.version || canonicalize(write.value) !== canonicalize(record.value)) {
        fail(EvidenceFailureCode.RECORD_NOT_PROVEN, `records[${i}]: ${record.key} as the package states it is not what transaction ${record.transactionId} wrote (version ${write.version})`);
      }
      return;
    }
    if (seen.has(`event\n${record.eventId}`)) fail(EvidenceFailureCode.MALFORMED, `records[${i}]: event ${record.eventId} appears twice`);
    seen.add(`event\n${record.eventId}`);
    if (receipt.result.code !== 'VALID') fail(EvidenceFailureCode.RECORD_NOT_PROVEN, `records[${i}]: event ${record.eventId}'s transaction is ${receipt.result.code}, not VALID`);
    if (record.origin !== 'capture') return; // derived: its transaction is proven, the derivation is the provenance rules'
    const tx = receipt.envelope.transaction;
    const entry = tx.type === 'provenance.epcis.capture' ? at(tx.payload, 'events') : undefined;
    const e = Array.isArray(entry) ? (entry[record.position] as unknown) : undefined;
    if (!isJsonObject(e)) return fail(EvidenceFailureCode.RECORD_NOT_PROVEN, `records[${i}]: transaction ${record.transactionId} carries no captured event at position ${record.position}`);
    if (e['eventId'] !== record.eventId || e['eventHash'] !== record.eventHash || e['type'] !== record.eventType || e['eventTime'] !== record.eventTime) {
      fail(EvidenceFailureCode.RECORD_NOT_PROVEN, `records[${i}]: event ${record.eventId} is not the event the capture carries at position ${record.position}`);
    }
    const anchor = receipt.result.writes.find((w) => w.key === eventAnchorKey(record.eventId));
    if (!anchor || at(anchor.value, 'eventHash') !== record.eventHash) fail(EvidenceFailureCode.RECORD_NOT_PROVEN, `records[${i}]: transaction ${record.transactionId} did not anchor event ${record.eventId}`);
  });
  const unused = [...receipts.keys()].filter((id) => !used.has(id));
  if (unused.length) fail(EvidenceFailureCode.MALFORMED, `transaction ${unused[0]} is in the package but no record names it`);
}

function checkCase(pkg: EvidencePackage): void {
  if (pkg.case.kind === 'trace') {
    const events = new Set(pkg.records.filter((r) => r.type === 'epcis-event').map((r) => (r as EpcisEventRecord).eventId));
    const nodes = new Set(pkg.case.nodes.map((n) => n.id));
    pkg.case.edges.forEach((e, i) => {
      if (!events.has(e.eventID)) fail(EvidenceFailureCode.INCOMPLETE_CASE, `case.edges[${i}] (${e.from} → ${e.to}) names event ${e.eventID || '(none)'}, which is not among the records`);
      if (!nodes.has(e.from) || !nodes.has(e.to)) fail(EvidenceFailureCode.INCOMPLETE_CASE, `case.edges[${i}] joins a node that is not in case.nodes`);
    });
    if (!nodes.has(pkg.case.subject)) fail(EvidenceFailureCode.INCOMPLETE_CASE, `the trace's subject ${pkg.case.subject} is not among its nodes`);
    return;
  }
  // Every key's history from version 1, without a gap: no write of the case left out.
  const versions = new Map<string, number[]>();
  for (const r of pkg.records) if (r.type === 'state-write') versions.set(r.key, [...(versions.get(r.key) ?? []), r.version]);
  for (const [key, list] of versions) {
    const sorted = [...list].sort((a, b) => a - b);
    sorted.forEach((v, i) => v !== i + 1 && fail(EvidenceFailureCode.HISTORY_GAP, `${key}: the package holds versions ${sorted.join(', ')}, not every version from 1`));
  }
  const latest = new Map<string, JsonValue>();
  for (const r of pkg.records) if (r.type === 'state-write' && r.version === versions.get(r.key)?.length) latest.set(r.key, r.value);
  const node = (id: string) => latest.get(`finance/receivable/${id}`);
  const subject = node(pkg.case.subject);
  if (!isJsonObject(subject)) return fail(EvidenceFailureCode.INCOMPLETE_CASE, `the package holds no record of receivable ${pkg.case.subject}`);
  if (subject['rootId'] !== pkg.case.rootId) fail(EvidenceFailureCode.INCOMPLETE_CASE, `receivable ${pkg.case.subject} belongs to tree ${String(subject['rootId'])}, not ${pkg.case.rootId}`);
  for (const [key, value] of latest) {
    if (!key.startsWith('finance/receivable/') || !isJsonObject(value)) continue;
    if (value['rootId'] !== pkg.case.rootId) fail(EvidenceFailureCode.INCOMPLETE_CASE, `${key} is not a node of tree ${pkg.case.rootId}`);
    const linked = [...(Array.isArray(value['children']) ? (value['children'] as unknown[]) : []), ...(value['parentId'] ? [value['parentId']] : [])];
    for (const other of linked) if (!isJsonObject(node(String(other)))) fail(EvidenceFailureCode.INCOMPLETE_CASE, `${key} links receivable ${String(other)}, which the package does not hold`);
    const financing = at(value, 'encumbrance.financingId');
    if (typeof financing === 'string' && !latest.has(`finance/financing/${financing}`)) fail(EvidenceFailureCode.INCOMPLETE_CASE, `${key} is encumbered by financing ${financing}, which the package does not hold`);
  }
}

/**
 * Verifies an evidence package offline, given as its bytes (the file: exactly
 * canonical JSON, anything else fails) or as an object. In order: canonical
 * bytes and shape; the issuer's signature over everything but itself (and the
 * issuer's key against the pinned keys, when given); every receipt (against
 * the pinned members when given); the checkpoint (signed by the members) and
 * each receipt's log proven consistent with it; every record against the
 * receipt of its transaction; the case's completeness; the CSV texts rendered
 * again. The first failure is the verdict; it never throws.
 */
export function verifyEvidence(input: Uint8Array | string | unknown, options: EvidenceVerifyOptions = {}): EvidenceVerification {
  try {
    return verifyOrThrow(input, options);
  } catch (error) {
    if (error instanceof Failure) return { ok: false, reason: error.reason, detail: error.message };
    return { ok: false, reason: EvidenceFailureCode.MALFORMED, detail: `unreadable package (${(error as Error)?.message ?? String(error)})` };
  }
}

function verifyOrThrow(input: unknown, options: EvidenceVerifyOptions): EvidenceVerification {
  let value: unknown = input;
  if (typeof input === 'string') value = utf8(input);
  if (value instanceof Uint8Array) {
    try {
      value = parseCanonical(value);
    } catch (error) {
      fail(EvidenceFailureCode.NON_CANONICAL, `the file is not canonical JSON (docs/protocol.md §1.1): ${error instanceof ProtocolError ? `${error.code}: ${error.message}` : (error as Error).message}`);
    }
  }
  const pkg = checkShape(value);

  // 1. The issuer's signature over every other byte of the package.
  const { signature, ...unsigned } = pkg;
  let publicKey: Uint8Array;
  try {
    publicKey = fromHex(pkg.issuer.publicKey);
  } catch {
    return fail(EvidenceFailureCode.MALFORMED, 'issuer.publicKey must be lower-case hex');
  }
  if (keyId(pkg.issuer.algorithm, publicKey) !== pkg.issuer.keyId) fail(EvidenceFailureCode.BAD_SIGNATURE, `issuer.keyId ${pkg.issuer.keyId} is not the id of issuer.publicKey`);
  let signatureBytes: Uint8Array;
  try {
    signatureBytes = fromBase64Url(signature);
  } catch {
    return fail(EvidenceFailureCode.BAD_SIGNATURE, 'signature is not canonical base64url');
  }
  if (!nodeVerify(pkg.issuer.algorithm, publicKey, SignatureDomain.evidencePackage, evidenceSignedBytes(unsigned), signatureBytes)) {
    fail(EvidenceFailureCode.BAD_SIGNATURE, `the signature of ${pkg.issuer.organizationId} (key ${pkg.issuer.keyId}) does not verify: the package was changed after it was signed`);
  }
  let issuerPinned = false;
  if (options.issuerKeys !== undefined) {
    issuerPinned = options.issuerKeys.some((k) => k.organizationId === pkg.issuer.organizationId && k.algorithm === pkg.issuer.algorithm && k.publicKey === pkg.issuer.publicKey);
    if (!issuerPinned) fail(EvidenceFailureCode.ISSUER_NOT_TRUSTED, `the package is signed by ${pkg.issuer.organizationId} with key ${pkg.issuer.keyId}, which is not a pinned regulator key`);
  }

  // 2. The chain.
  const chainId = options.chainId ?? options.trust?.chainId;
  if (chainId !== undefined && pkg.chainId !== chainId) fail(EvidenceFailureCode.CHAIN_MISMATCH, `the package is of chain ${pkg.chainId}, expected ${chainId}`);

  // 3. Every receipt, in log order, once each.
  const receipts = new Map<string, Receipt>();
  let previousLeaf = -1;
  pkg.transactions.forEach((t, i) => {
    const verdict = verifyReceipt(t.receipt, { ...(options.trust ? { trust: options.trust } : {}), chainId: pkg.chainId });
    if (!verdict.ok) fail(EvidenceFailureCode.BAD_RECEIPT, `the receipt of transaction ${t.transactionId} (transactions[${i}]) does not verify: ${verdict.reason}: ${verdict.detail}`);
    else {
      if (verdict.transactionId !== t.transactionId) fail(EvidenceFailureCode.BAD_RECEIPT, `transactions[${i}] says ${t.transactionId}, its receipt is of ${verdict.transactionId}`);
      if (verdict.leafIndex <= previousLeaf) fail(EvidenceFailureCode.MALFORMED, `transactions[${i}]: transactions must be in log order, each once`);
      previousLeaf = verdict.leafIndex;
    }
    receipts.set(t.transactionId, t.receipt);
  });
  if (pkg.transactions.length === 0) fail(EvidenceFailureCode.INCOMPLETE_CASE, 'the package holds no transaction');

  // 4. The checkpoint, signed by the members, and every receipt's log consistent with it.
  const newest = pkg.transactions[pkg.transactions.length - 1].receipt;
  const members: readonly ConsortiumMember[] = options.trust?.members ?? newest.members;
  const policy = options.trust?.certification ?? newest.policy;
  let checkpoint: { treeSize: number; rootHash: Uint8Array; verifiedBy: string[] };
  try {
    checkpoint = protocolVerifyCheckpoint(pkg.checkpoint, memberNoteKeys(members), { policy, origin: checkpointOrigin(pkg.chainId) });
  } catch (error) {
    return fail(EvidenceFailureCode.BAD_CHECKPOINT, `the checkpoint does not verify against the ${options.trust ? 'pinned members' : "newest receipt's members"}: ${error instanceof ProtocolError ? `${error.code}: ${error.message}` : 'unreadable'}`);
  }
  for (const t of pkg.transactions) {
    const h = t.receipt.block.header;
    if (h.logSize > checkpoint.treeSize) fail(EvidenceFailureCode.NOT_IN_CHECKPOINT, `transaction ${t.transactionId}'s block ${h.blockNumber} (log size ${h.logSize}) is after the checkpoint (tree size ${checkpoint.treeSize})`);
    const consistent =
      h.logSize === checkpoint.treeSize ? t.logProof.length === 0 && h.logRoot === toHex(checkpoint.rootHash) : verifyTreeExtension({ treeSize: h.logSize, rootHash: h.logRoot }, { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash }, t.logProof);
    if (!consistent) fail(EvidenceFailureCode.NOT_IN_CHECKPOINT, `the log of transaction ${t.transactionId}'s block ${h.blockNumber} is not proven consistent with the checkpoint (tree size ${checkpoint.treeSize})`);
  }

  // 5. Every record against its transaction's receipt; 6. the case complete.
  checkRecords(pkg, receipts);
  checkCase(pkg);

  // 7. The CSV texts are renderings of the records.
  const expected = renderEvidenceCsv(pkg);
  const names = [...new Set([...Object.keys(expected), ...Object.keys(pkg.csv)])].sort();
  for (const name of names) {
    if (pkg.csv[name] !== expected[name]) fail(EvidenceFailureCode.CSV_MISMATCH, pkg.csv[name] === undefined ? `${name} is missing` : expected[name] === undefined ? `${name} is not a file of a ${pkg.case.kind} package` : `${name} is not the rendering of the records`);
  }
  return {
    ok: true,
    chainId: pkg.chainId,
    case: { kind: pkg.case.kind, subject: pkg.case.subject },
    createdAt: pkg.createdAt,
    issuer: { organizationId: pkg.issuer.organizationId, keyId: pkg.issuer.keyId },
    issuerPinned,
    membersPinned: options.trust !== undefined,
    records: pkg.records.length,
    transactions: pkg.transactions.length,
    checkpoint: { treeSize: checkpoint.treeSize, rootHash: toHex(checkpoint.rootHash), verifiedBy: checkpoint.verifiedBy },
    csv: names,
  };
}
