import {
  type BlockHeader,
  type Envelope,
  type HeaderSignature,
  type JsonObject,
  type JsonValue,
  type Receipt,
  type ResultEntry,
  buildReceipt,
  canonicalBytes,
  checkpointOrigin,
  consistencyProof,
  formatCheckpoint,
  formatSignedNote,
  fromHex,
  generateKeyPair,
  headerHashHex,
  inclusionProof,
  leafHash,
  merkleRoot,
  resultLeafHash,
  signCheckpoint,
  signHeader,
  signTransaction,
  toBase64Url,
  toHex,
  transactionId,
  utf8,
} from '@alliance/protocol';
import type { EvidenceRecord, EvidenceTransaction, UnsignedEvidence } from '../evidence';
import { vectors } from './vectors';

/**
 * A small chain built with the protocol library (real headers, roots,
 * signatures, receipts, checkpoint) holding a receivable tree's finance
 * records and an EPCIS capture, from which evidence packages are assembled as
 * the audit service does: for tests of `verifyEvidence`.
 */

export const EVIDENCE_CHAIN = 'alliance-evidence';
const CREATOR = vectors.keys.creator;
const MEMBERS = vectors.keys.members;
export const FIXTURE_MEMBERS = { chainId: EVIDENCE_CHAIN, members: MEMBERS.map((m) => ({ organizationId: m.organizationId, algorithm: 'ed25519', publicKey: m.publicKey })), policy: { type: 'majority' } };
/** The regulator (an observer): its key signs the packages. */
export const REGULATOR = generateKeyPair('ed25519');
export const REGULATOR_KEY = { organizationId: 'reg', algorithm: 'ed25519' as const, privateKey: REGULATOR.privateKey };
export const REGULATOR_PUBLIC = { organizationId: 'reg', algorithm: 'ed25519' as const, publicKey: toHex(REGULATOR.publicKey) };

interface Block {
  header: BlockHeader;
  signatures: HeaderSignature[];
  envelopes: Envelope[];
  results: ResultEntry[];
}

type Writes = (id: string, blockNumber: number) => ResultEntry['writes'];

export class EvidenceFixture {
  readonly blocks: Block[] = [];
  private leaves: Uint8Array[] = [];
  private nonce = 0;

  /** Appends a block of transactions; each `writes(transactionId, blockNumber)` makes its result's writes. */
  block(txs: ReadonlyArray<{ type: string; payload: JsonObject; writes: Writes }>): string[] {
    const blockNumber = this.blocks.length;
    const envelopes = txs.map((t) =>
      signTransaction(
        { chainId: EVIDENCE_CHAIN, type: t.type, creator: { organizationId: 'org1', keyId: CREATOR.keyId }, nonce: `n${++this.nonce}`, timestamp: new Date(Date.UTC(2026, 11, 1, 9, 0, blockNumber)).toISOString(), payload: t.payload },
        { algorithm: 'ed25519', privateKey: fromHex(CREATOR.privateKey) },
      ),
    );
    const ids = envelopes.map((e) => transactionId(e.transaction));
    const results: ResultEntry[] = ids.map((id, i) => ({ transactionId: id, code: 'VALID', writes: [...txs[i].writes(id, blockNumber)].sort((a, b) => (a.key < b.key ? -1 : 1)) }));
    const leaves = envelopes.map((e) => leafHash(canonicalBytes(e)));
    const all = [...this.leaves, ...leaves];
    const previous = this.blocks[blockNumber - 1];
    const header: BlockHeader = {
      chainId: EVIDENCE_CHAIN,
      blockNumber,
      previousHash: previous ? headerHashHex(previous.header) : '0'.repeat(64),
      dataRoot: toHex(merkleRoot(leaves)),
      resultsRoot: toHex(merkleRoot(results.map(resultLeafHash))),
      transactionCount: envelopes.length,
      logSize: all.length,
      logRoot: toHex(merkleRoot(all)),
      ordering: { source: 'solo', firstOffset: blockNumber, lastOffset: blockNumber },
      timestamp: new Date(Date.UTC(2026, 11, 1, 9, 1, blockNumber)).toISOString(),
      configSequence: 0,
    };
    const signatures = MEMBERS.map((m) => signHeader(header, { organizationId: m.organizationId, privateKey: fromHex(m.privateKey) }));
    this.blocks.push({ header, signatures, envelopes, results });
    this.leaves = all;
    return ids;
  }

  receipt(id: string): Receipt {
    for (const b of this.blocks) {
      const i = b.results.findIndex((r) => r.transactionId === id);
      if (i < 0) continue;
      const first = b.header.logSize - b.header.transactionCount;
      return buildReceipt({
        envelope: b.envelopes[i],
        creatorPublicKey: fromHex(CREATOR.publicKey),
        result: b.results[i],
        header: b.header,
        signatures: b.signatures,
        leafIndex: first + i,
        inclusionProof: inclusionProof(this.leaves.slice(0, b.header.logSize), first + i),
        resultProof: inclusionProof(b.results.map(resultLeafHash), i),
        dataProof: inclusionProof(b.envelopes.map((e) => leafHash(canonicalBytes(e))), i),
        members: MEMBERS.map((m) => ({ organizationId: m.organizationId, algorithm: 'ed25519' as const, publicKey: m.publicKey })),
        policy: { type: 'majority' },
      });
    }
    throw new Error(`no transaction ${id}`);
  }

  /** The checkpoint of the last block, signed by every member. */
  checkpoint(): string {
    const h = this.blocks[this.blocks.length - 1].header;
    const text = formatCheckpoint({ origin: checkpointOrigin(EVIDENCE_CHAIN), treeSize: h.logSize, rootHash: fromHex(h.logRoot) });
    return formatSignedNote(text, MEMBERS.map((m) => signCheckpoint(text, { name: m.organizationId, privateKey: fromHex(m.privateKey) })));
  }

  /** A transaction of the package: receipt and the proof from its block's log to the last block's. */
  transaction(id: string): EvidenceTransaction {
    const receipt = this.receipt(id);
    const size = receipt.block.header.logSize;
    return { transactionId: id, receipt, logProof: size === this.leaves.length ? [] : consistencyProof(this.leaves, size).map(toHex) };
  }

  /** The package body of every write to keys starting with `prefixes` (what the audit service's scan collects). */
  writesOf(prefixes: readonly string[]): { records: EvidenceRecord[]; transactions: EvidenceTransaction[] } {
    const records: EvidenceRecord[] = [];
    const ids = new Set<string>();
    for (const b of this.blocks)
      for (const r of b.results)
        for (const w of r.writes)
          if (prefixes.some((p) => w.key.startsWith(p))) {
            records.push({ type: 'state-write', transactionId: r.transactionId, key: w.key, version: w.version, value: w.value as JsonValue });
            ids.add(r.transactionId);
          }
    return { records, transactions: [...ids].map((id) => this.transaction(id)) };
  }
}

const receivable = (id: string, fields: Record<string, JsonValue>, tx: string, block: number): JsonObject => ({
  receivableId: id,
  rootId: 'rcv-root-1',
  parentId: null,
  children: [],
  issuer: 'org1',
  debtor: 'org2',
  holder: 'org1',
  currency: 'EUR',
  faceValue: '100000',
  paidAmount: '0',
  dueDate: '2027-03-31',
  documents: [],
  creditLineId: null,
  status: 'issued',
  frozen: null,
  encumbrance: null,
  createdAtBlock: block,
  updatedAtBlock: block,
  lastTransactionId: tx,
  ...fields,
});

export const CAPTURED = [
  { eventId: `ni:///sha-256;${'1'.repeat(64)}?ver=CBV2.0`, eventHash: `ni:///sha-256;${'1'.repeat(64)}?ver=CBV2.0`, type: 'ObjectEvent', eventTime: '2026-11-30T08:00:00.000Z', event: '{"type":"ObjectEvent","action":"ADD","epcList":["urn:epc:id:sgtin:4012345.011111.1"],"bizStep":"commissioning","temperature":-18.5}' },
  { eventId: `ni:///sha-256;${'2'.repeat(64)}?ver=CBV2.0`, eventHash: `ni:///sha-256;${'2'.repeat(64)}?ver=CBV2.0`, type: 'AggregationEvent', eventTime: '2026-11-30T09:00:00.000Z', event: '{"type":"AggregationEvent","action":"ADD","parentID":"urn:epc:id:sscc:4012345.0000000001","childEPCs":["urn:epc:id:sgtin:4012345.011111.1"]}' },
];

/** Builds the fixture chain: a receivable issued, split, one part financed; an unrelated anchor; a capture of two events. */
export function fixtureChain(): EvidenceFixture {
  const chain = new EvidenceFixture();
  chain.block([{ type: 'config.genesis', payload: { config: { chainId: EVIDENCE_CHAIN } }, writes: () => [] }]);
  chain.block([{ type: 'finance.receivable.issue', payload: { receivableId: 'rcv-root-1' }, writes: (tx, b) => [{ key: 'finance/receivable/rcv-root-1', value: receivable('rcv-root-1', {}, tx, b), version: 1 }] }]);
  chain.block([
    { type: 'ledger.anchor', payload: { hash: 'ab'.repeat(32) }, writes: () => [{ key: `anchor/${'ab'.repeat(32)}`, value: { creator: 'org1' }, version: 1 }] },
    { type: 'finance.receivable.confirm', payload: { receivableId: 'rcv-root-1' }, writes: (tx, b) => [{ key: 'finance/receivable/rcv-root-1', value: receivable('rcv-root-1', { status: 'confirmed', createdAtBlock: 1 }, tx, b), version: 2 }] },
  ]);
  chain.block([
    {
      type: 'finance.receivable.split',
      payload: { receivableId: 'rcv-root-1' },
      writes: (tx, b) => [
        { key: 'finance/receivable/rcv-root-1', value: receivable('rcv-root-1', { status: 'split', children: ['rcv-part-a', 'rcv-part-b'], createdAtBlock: 1 }, tx, b), version: 3 },
        { key: 'finance/receivable/rcv-part-a', value: receivable('rcv-part-a', { parentId: 'rcv-root-1', faceValue: '60000', status: 'confirmed' }, tx, b), version: 1 },
        { key: 'finance/receivable/rcv-part-b', value: receivable('rcv-part-b', { parentId: 'rcv-root-1', faceValue: '40000', holder: 'org5', status: 'confirmed' }, tx, b), version: 1 },
      ],
    },
  ]);
  chain.block([
    {
      type: 'finance.financing.approve',
      payload: { financingId: 'fin-0000001' },
      writes: (tx, b) => [
        { key: 'finance/financing/fin-0000001', value: { financingId: 'fin-0000001', assetKind: 'receivable', assetId: 'rcv-part-a', applicant: 'org1', financier: 'org3', kind: 'discounting', recourse: false, currency: 'EUR', faceValue: '60000', principal: '60000', rateBps: 600, dayCount: 'ACT/360', feeMinor: '100', discount: '1200', status: 'approved', updatedAtBlock: b, lastTransactionId: tx }, version: 1 },
        { key: 'finance/receivable/rcv-part-a', value: receivable('rcv-part-a', { parentId: 'rcv-root-1', faceValue: '60000', status: 'confirmed', createdAtBlock: 3, encumbrance: { kind: 'discounting', financingId: 'fin-0000001', financier: 'org3', sinceBlock: b } }, tx, b), version: 2 },
      ],
    },
  ]);
  chain.block([
    {
      type: 'provenance.epcis.capture',
      payload: { captureId: 'cap-1', documentHash: 'cd'.repeat(32), context: null, events: CAPTURED.map((e) => ({ ...e })) },
      writes: (tx, b) => CAPTURED.map((e) => ({ key: `provenance/event/${toBase64Url(utf8(e.eventId))}`, value: { eventId: e.eventId, eventHash: e.eventHash, captureId: 'cap-1', organizationId: 'org1', type: e.type, eventTime: e.eventTime, blockNumber: b, transactionId: tx }, version: 1 })),
    },
  ]);
  chain.block([{ type: 'ledger.anchor', payload: { hash: 'ef'.repeat(32) }, writes: () => [{ key: `anchor/${'ef'.repeat(32)}`, value: { creator: 'org1' }, version: 1 }] }]);
  return chain;
}

export function receivableBody(chain: EvidenceFixture, createdAt = '2026-12-07T10:00:00.000Z'): UnsignedEvidence {
  const { records, transactions } = chain.writesOf(['finance/receivable/rcv-', 'finance/financing/fin-0000001']);
  return { chainId: EVIDENCE_CHAIN, case: { kind: 'receivable', subject: 'rcv-part-a', rootId: 'rcv-root-1' }, createdAt, records, transactions, checkpoint: chain.checkpoint() };
}

export function traceBody(chain: EvidenceFixture): UnsignedEvidence {
  const capture = chain.blocks[5].results[0].transactionId;
  const sscc = 'https://id.gs1.org/00/040123450000000012';
  const sgtin = 'https://id.gs1.org/01/04012345111118/21/1';
  return {
    chainId: EVIDENCE_CHAIN,
    case: {
      kind: 'trace',
      subject: sgtin,
      direction: 'both',
      depth: 10,
      truncated: false,
      nodes: [
        { id: sgtin, kind: 'sgtin', depth: 0 },
        { id: sscc, kind: 'sscc', depth: 1 },
      ],
      edges: [{ from: sgtin, to: sscc, kind: 'aggregation', eventID: CAPTURED[1].eventId, eventTime: CAPTURED[1].eventTime }],
    },
    createdAt: '2026-12-07T10:00:00.000Z',
    records: CAPTURED.map((e, position) => ({ type: 'epcis-event', transactionId: capture, eventId: e.eventId, eventHash: e.eventHash, eventType: e.type, eventTime: e.eventTime, origin: 'capture', position })),
    transactions: [chain.transaction(capture)],
    checkpoint: chain.checkpoint(),
  };
}
