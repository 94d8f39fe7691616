import { describe, expect, it } from 'vitest';
import { TEST_KEYS, buildWorkedExample } from '../scripts/worked-example';
import {
  BlockHeader,
  CertificationPolicy,
  ConsortiumMember,
  HeaderSignature,
  ResultEntry,
  certifyingMembers,
  dataRootOf,
  headerHash,
  headerHashHex,
  isCertified,
  requiredSignatures,
  resultsRootOf,
  signHeader,
  validateBlockHeader,
  validatePolicy,
  validateResultEntry,
  verifyBlock,
  verifyHeaderSignature,
} from './block';
import { canonicalBytes } from './canonical-json';
import { ascii, concatBytes, fromHex, toHex } from './encoding';
import { ProtocolError } from './errors';
import { sha256 } from './hash';
import { generateKeyPair, keyId, publicKeyOf } from './keys';
import { MerkleAccumulator, leafHash } from './merkle';
import { nodeVerify } from './node-verify';
import { Envelope } from './transaction';

interface Example {
  policy: CertificationPolicy;
  keys: { members: ConsortiumMember[] };
  genesis: { envelopes: Envelope[]; results: ResultEntry[]; header: BlockHeader; headerHash: string };
  block: { envelopes: Envelope[]; results: ResultEntry[]; header: BlockHeader; headerHash: string; signatures: HeaderSignature[] };
}
const ex = buildWorkedExample().vectors as Example;
const members = ex.keys.members.map(({ organizationId, algorithm, publicKey }) => ({ organizationId, algorithm, publicKey }));
const header = ex.block.header;
const signatures = ex.block.signatures;
const orgKey = (org: 'org1' | 'org2' | 'org3') => ({ organizationId: org, privateKey: fromHex(TEST_KEYS[org].privateKey) });

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
}

describe('block header', () => {
  it('hash = SHA-256("alliance/block-header/v1" ‖ 0x00 ‖ canonical header)', () => {
    const expected = sha256(concatBytes(ascii('alliance/block-header/v1'), new Uint8Array([0]), canonicalBytes(header)));
    expect(toHex(headerHash(header))).toBe(toHex(expected));
    expect(headerHashHex(header)).toBe(ex.block.headerHash);
    // Domain separation: not the plain hash of the canonical bytes.
    expect(headerHashHex(header)).not.toBe(toHex(sha256(canonicalBytes(header))));
  });

  it('validates every field', () => {
    expect(validateBlockHeader(header)).toBe(header);
    const bad: [string, Record<string, unknown>][] = [
      ['negative block number', { blockNumber: -1 }],
      ['fractional block number', { blockNumber: 1.5 }],
      ['genesis previous hash on block 1', { previousHash: '0'.repeat(64) }],
      ['upper-case hash', { dataRoot: header.dataRoot.toUpperCase() }],
      ['short hash', { logRoot: header.logRoot.slice(2) }],
      ['no transactions', { transactionCount: 0 }],
      ['log smaller than the block', { logSize: 2 }],
      ['offsets backwards', { ordering: { ...header.ordering, lastOffset: 3 } }],
      ['ordering source with a space', { ordering: { ...header.ordering, source: 'kafka topic' } }],
      ['local time', { timestamp: '2026-11-25 20:00:01' }],
      ['extra field', { proposer: 'org1' }],
      ['unsafe integer', { configSequence: 2 ** 53 }],
    ];
    for (const [, change] of bad) expect(codeOf(() => validateBlockHeader({ ...header, ...change }))).toBe('PROTOCOL.MALFORMED_HEADER');
    expect(codeOf(() => validateBlockHeader({ ...ex.genesis.header, previousHash: header.previousHash }))).toBe('PROTOCOL.MALFORMED_HEADER');
    expect(codeOf(() => validateBlockHeader({ ...ex.genesis.header, logSize: 2 }))).toBe('PROTOCOL.MALFORMED_HEADER');
  });

  it('validates result entries', () => {
    for (const r of ex.block.results) expect(validateResultEntry(r)).toBe(r);
    const ok = ex.block.results[0];
    const write = ok.writes[0];
    const bad: unknown[] = [
      { ...ok, code: 'valid' },
      { ...ok, code: 'LEDGER' },
      { ...ok, code: 'LEDGER.ALREADY_ANCHORED' }, // an invalid transaction writes nothing
      { ...ok, writes: [write, write] }, // duplicate key
      { ...ok, writes: [{ ...write, key: 'b' }, { ...write, key: 'a' }] }, // unsorted
      { ...ok, writes: [{ ...write, key: 'has space' }] },
      { ...ok, writes: [{ ...write, key: 'é' }] },
      { ...ok, writes: [{ ...write, version: -1 }] },
      { ...ok, writes: [{ key: write.key, value: null }] },
      { ...ok, transactionId: 'x' },
    ];
    for (const b of bad) expect(codeOf(() => validateResultEntry(b))).toBe('PROTOCOL.MALFORMED_RESULT');
    expect(codeOf(() => validateResultEntry({ ...ok, writes: [{ ...write, value: { price: 0.5 } }] }))).toBe('PROTOCOL.NUMBER_NOT_ALLOWED');
    expect(validateResultEntry({ ...ok, writes: [{ ...write, value: null }] })).toBeTruthy(); // null deletes
  });

  it('roots are the Merkle roots of the leaf hashes of the canonical entries', () => {
    expect(dataRootOf(ex.block.envelopes)).toBe(header.dataRoot);
    expect(resultsRootOf(ex.block.results)).toBe(header.resultsRoot);
  });
});

describe('header signatures and certification', () => {
  it('signs over signingInput("alliance/block-header/v1", headerHash) with the node key', () => {
    const s = signHeader(header, orgKey('org1'));
    expect(s).toEqual(signatures[0]);
    expect(s.keyId).toBe(keyId('ed25519', publicKeyOf('ed25519', orgKey('org1').privateKey)));
    expect(verifyHeaderSignature(header, s, members[0])).toBe(true);
    expect(verifyHeaderSignature(header, s, members[0], { verifier: nodeVerify })).toBe(true);
    expect(verifyHeaderSignature(header, s, members[1])).toBe(false); // another member
    expect(verifyHeaderSignature({ ...header, blockNumber: 2 }, s, members[0])).toBe(false);
    expect(verifyHeaderSignature(header, { ...s, keyId: '00'.repeat(16) }, members[0])).toBe(false);
    expect(verifyHeaderSignature(header, null as unknown as HeaderSignature, members[0])).toBe(false);
  });

  it('policies: majority, all, threshold', () => {
    expect(requiredSignatures({ type: 'majority' }, 1)).toBe(1);
    expect(requiredSignatures({ type: 'majority' }, 3)).toBe(2);
    expect(requiredSignatures({ type: 'majority' }, 4)).toBe(3);
    expect(requiredSignatures({ type: 'all' }, 4)).toBe(4);
    expect(requiredSignatures({ type: 'threshold', threshold: 2 }, 4)).toBe(2);
    expect(codeOf(() => validatePolicy({ type: 'threshold', threshold: 4 }, 3))).toBe('PROTOCOL.MALFORMED_POLICY');
    expect(codeOf(() => validatePolicy({ type: 'threshold' }, 3))).toBe('PROTOCOL.MALFORMED_POLICY');
    expect(codeOf(() => validatePolicy({ type: 'majority', threshold: 2 }, 3))).toBe('PROTOCOL.MALFORMED_POLICY');
    expect(codeOf(() => validatePolicy({ type: 'any' }, 3))).toBe('PROTOCOL.MALFORMED_POLICY');
  });

  it('isCertified counts each member once, valid signatures by its current key only', () => {
    const [s1, s2, s3] = signatures;
    const majority: CertificationPolicy = { type: 'majority' };
    const all: CertificationPolicy = { type: 'all' };
    expect(isCertified(header, [s1, s2, s3], all, members)).toBe(true);
    expect(isCertified(header, [s1, s2], majority, members)).toBe(true);
    expect(isCertified(header, [s1, s2], all, members)).toBe(false);
    expect(isCertified(header, [s1, s1, s1], majority, members)).toBe(false); // one member, three times
    expect(isCertified(header, [s1], { type: 'threshold', threshold: 1 }, members)).toBe(true);
    // A valid signature by a key that is no longer the member's does not count.
    const rotated = members.map((m) => (m.organizationId === 'org2' ? { ...m, publicKey: toHex(generateKeyPair('ed25519').publicKey) } : m));
    expect(certifyingMembers(header, [s1, s2, s3], rotated)).toEqual(['org1', 'org3']);
    expect(isCertified(header, [s1, s2, s3], all, rotated)).toBe(false);
    // Garbage is ignored, not fatal.
    const junk = [null, { organizationId: 'org9' }, { ...s3, value: 'x' }] as unknown as HeaderSignature[];
    expect(isCertified(header, [...junk, s1, s2], majority, members, { verifier: nodeVerify })).toBe(true);
    expect(isCertified(header, [s1, s2], majority, [] as ConsortiumMember[])).toBe(false);
  });
});

describe('verifyBlock', () => {
  const options = { members, policy: ex.policy };
  const logBefore = (() => {
    const acc = new MerkleAccumulator();
    acc.append(leafHash(canonicalBytes(ex.genesis.envelopes[0])));
    return acc.state();
  })();
  const full = { header, signatures, envelopes: ex.block.envelopes, results: ex.block.results, previous: ex.genesis.header, logBefore };

  it('accepts the example block with everything checked, and returns the log after it', () => {
    const verdict = verifyBlock(full, { ...options, verifier: nodeVerify });
    expect(verdict).toMatchObject({ ok: true, headerHash: ex.block.headerHash, certifiedBy: ['org1', 'org2', 'org3'] });
    if (!verdict.ok) return;
    expect(new MerkleAccumulator(verdict.logAfter).root()).toEqual(fromHex(header.logRoot));
  });

  it('names what is wrong', () => {
    const reason = (block: Partial<typeof full>, opts: Partial<typeof options> = {}) => {
      const v = verifyBlock({ ...full, ...block } as typeof full, { ...options, ...opts });
      return v.ok ? 'ok' : v.reason;
    };
    const [e0, e1, e2] = ex.block.envelopes;
    const [r0, r1, r2] = ex.block.results;
    expect(reason({ envelopes: [e1, e0, e2] })).toBe('PROTOCOL.BLOCK_CONTENT_MISMATCH');
    expect(reason({ envelopes: [e0, e1] })).toBe('PROTOCOL.BLOCK_CONTENT_MISMATCH');
    expect(reason({ results: [r0, r2, r1] })).toBe('PROTOCOL.BLOCK_CONTENT_MISMATCH');
    expect(reason({ results: [r0, r1, { ...r2, code: 'VALID' }] })).toBe('PROTOCOL.BLOCK_CONTENT_MISMATCH');
    expect(reason({ logBefore: new MerkleAccumulator().state() })).toBe('PROTOCOL.BLOCK_CONTENT_MISMATCH');
    expect(reason({ previous: { ...ex.genesis.header, timestamp: '2026-11-25T19:59:00.121Z' } })).toBe('PROTOCOL.BAD_CHAIN_LINK');
    expect(reason({ previous: header })).toBe('PROTOCOL.BAD_CHAIN_LINK');
    expect(reason({ signatures: [signatures[0]] })).toBe('PROTOCOL.NOT_CERTIFIED');
    expect(reason({ signatures: [...signatures, signatures[0]] })).toBe('PROTOCOL.BAD_HEADER_SIGNATURE');
    expect(reason({ signatures: [{ ...signatures[1], value: signatures[0].value }] })).toBe('PROTOCOL.BAD_HEADER_SIGNATURE');
    expect(reason({ header: { ...header, timestamp: '2026-11-25T20:00:01.001Z' } })).toBe('PROTOCOL.BAD_HEADER_SIGNATURE');
    expect(reason({ header: { ...header, logSize: -1 } })).toBe('PROTOCOL.MALFORMED_HEADER');
    expect(reason({}, { policy: { type: 'threshold', threshold: 5 } })).toBe('PROTOCOL.MALFORMED_POLICY');
    expect(reason({ header: null as unknown as BlockHeader })).toBe('PROTOCOL.MALFORMED_HEADER');
    // The genesis block verifies on its own (with the signatures its members would make).
    const genesisSignatures = (['org1', 'org2', 'org3'] as const).map((o) => signHeader(ex.genesis.header, orgKey(o)));
    expect(verifyBlock({ header: ex.genesis.header, signatures: genesisSignatures, envelopes: ex.genesis.envelopes, results: ex.genesis.results, logBefore: new MerkleAccumulator().state() }, options).ok).toBe(true);
  });
});
