import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalize, generateKeyPair, sign, SignatureDomain, toBase64Url, toHex } from '@alliance/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from './cli';
import {
  encodeEvidencePackage,
  type EvidencePackage,
  EvidenceFailureCode,
  evidenceSignedBytes,
  issuerKeysOf,
  renderEvidenceCsv,
  sealEvidencePackage,
  verifyEvidence,
  csvCell,
} from './evidence';
import { parseTrust } from './trust';
import { EVIDENCE_CHAIN, FIXTURE_MEMBERS, fixtureChain, receivableBody, REGULATOR_KEY, REGULATOR_PUBLIC, traceBody } from './test/evidence-fixture';

const chain = fixtureChain();
const trust = parseTrust(FIXTURE_MEMBERS);
const pinned = { trust, issuerKeys: [REGULATOR_PUBLIC] };
const receivablePkg = sealEvidencePackage(receivableBody(chain), REGULATOR_KEY);
const tracePkg = sealEvidencePackage(traceBody(chain), REGULATOR_KEY);

/** The package changed and signed again by the regulator: what only the checks behind the signature can catch. */
function resigned(pkg: EvidencePackage, change: (p: Record<string, unknown>) => void): Uint8Array {
  const copy = JSON.parse(canonicalize(pkg)) as Record<string, unknown>;
  delete copy['signature'];
  change(copy);
  const signature = toBase64Url(sign('ed25519', REGULATOR_KEY.privateKey, SignatureDomain.evidencePackage, evidenceSignedBytes(copy as never)));
  return new TextEncoder().encode(canonicalize({ ...copy, signature }));
}

/** A fixed-seed generator (mulberry32): the sampled flips are the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('evidence packages', () => {
  it('a receivable tree package verifies offline against the pinned members and regulator key, CSV rendered from the records', () => {
    const bytes = encodeEvidencePackage(receivablePkg);
    const verdict = verifyEvidence(bytes, pinned);
    expect(verdict).toMatchObject({ ok: true, chainId: EVIDENCE_CHAIN, case: { kind: 'receivable', subject: 'rcv-part-a' }, issuer: { organizationId: 'reg' }, issuerPinned: true, membersPinned: true, transactions: 4, records: 7 });
    if (!verdict.ok) return;
    expect(verdict.csv).toEqual(['financings.csv', 'history.csv', 'payments.csv', 'receivables.csv']);
    expect(verdict.checkpoint.verifiedBy).toHaveLength(3);
    const rows = receivablePkg.csv['receivables.csv'].split('\r\n');
    expect(rows[0]).toBe('receivableId,rootId,parentId,children,issuer,debtor,holder,currency,faceValue,paidAmount,dueDate,status,creditLineId,encumbrance.financingId,encumbrance.financier,frozen.by,createdAtBlock,updatedAtBlock,lastTransactionId');
    expect(rows[1]).toMatch(/^rcv-part-a,rcv-root-1,rcv-root-1,,org1,org2,org1,EUR,60000,0,2027-03-31,confirmed,,fin-0000001,org3,,3,4,[0-9a-f]{64}$/);
    expect(rows[3]).toMatch(/^rcv-root-1,rcv-root-1,,rcv-part-a\|rcv-part-b,.*,split,/);
    const history = receivablePkg.csv['history.csv'].split('\r\n');
    expect(history.slice(1, -1).map((r) => r.split(',').slice(4, 9).join(','))).toEqual([
      'finance.receivable.issue,org1,finance/receivable/rcv-root-1,1,issued',
      'finance.receivable.confirm,org1,finance/receivable/rcv-root-1,2,confirmed',
      'finance.receivable.split,org1,finance/receivable/rcv-part-a,1,confirmed',
      'finance.receivable.split,org1,finance/receivable/rcv-part-b,1,confirmed',
      'finance.receivable.split,org1,finance/receivable/rcv-root-1,3,split',
      'finance.financing.approve,org1,finance/financing/fin-0000001,1,approved',
      'finance.financing.approve,org1,finance/receivable/rcv-part-a,2,confirmed',
    ]);
    expect(receivablePkg.csv['financings.csv'].split('\r\n')[1]).toMatch(/^fin-0000001,receivable,rcv-part-a,org1,org3,discounting,false,EUR,60000,60000,600,ACT\/360,100,1200,,,approved,4,/);
  });

  it('a trace package verifies: each captured event is the one its capture transaction carries and anchors', () => {
    const verdict = verifyEvidence(encodeEvidencePackage(tracePkg), pinned);
    expect(verdict).toMatchObject({ ok: true, case: { kind: 'trace' }, records: 2, transactions: 1, csv: ['edges.csv', 'events.csv', 'nodes.csv'] });
    expect(tracePkg.csv['nodes.csv']).toBe('id,kind,depth\r\nhttps://id.gs1.org/01/04012345111118/21/1,sgtin,0\r\nhttps://id.gs1.org/00/040123450000000012,sscc,1\r\n');
    expect(tracePkg.csv['events.csv'].split('\r\n')[1]).toMatch(/^ni:\/\/\/sha-256;1{64}\?ver=CBV2\.0,ObjectEvent,2026-11-30T08:00:00\.000Z,capture,ni:.*,5,2026-12-01T09:01:05\.000Z,[0-9a-f]{64},org1$/);
  });

  it('flipping any byte of a package makes verification fail: every byte of the trace package, and 3000 of the receivable package (fixed seed)', () => {
    const bytes = encodeEvidencePackage(tracePkg);
    expect(verifyEvidence(bytes, pinned).ok).toBe(true);
    const passed: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const copy = bytes.slice();
      copy[i] ^= 0x01;
      if (verifyEvidence(copy, pinned).ok) passed.push(i);
    }
    expect(passed).toEqual([]);
    // Without anything pinned the signature still covers every byte.
    for (let i = 0; i < bytes.length; i += 7) {
      const copy = bytes.slice();
      copy[i] ^= 0x20;
      if (verifyEvidence(copy).ok) passed.push(i);
    }
    expect(passed).toEqual([]);
    const big = encodeEvidencePackage(receivablePkg);
    const next = random(20261207);
    for (let n = 0; n < 3000; n++) {
      const i = Math.floor(next() * big.length);
      const copy = big.slice();
      copy[i] ^= 1 + Math.floor(next() * 255);
      if (verifyEvidence(copy, pinned).ok) passed.push(i);
    }
    expect(passed).toEqual([]);
  }, 120_000);

  it('names what failed: whitespace, the signature, a CSV that is not the rendering, a changed record, a gap in a history, a missing node', () => {
    expect(verifyEvidence(new TextEncoder().encode(JSON.stringify(receivablePkg, null, 2)), pinned)).toMatchObject({ ok: false, reason: EvidenceFailureCode.NON_CANONICAL });
    const bytes = encodeEvidencePackage(receivablePkg);
    const flipped = bytes.slice();
    const at = new TextDecoder().decode(bytes).indexOf('"signature":"') + 20;
    flipped[at] = flipped[at] === 0x41 ? 0x42 : 0x41;
    expect(verifyEvidence(flipped, pinned)).toMatchObject({ ok: false, reason: EvidenceFailureCode.BAD_SIGNATURE });
    // Behind the signature (the regulator signing something wrong): each check on its own.
    const csv = resigned(receivablePkg, (p) => {
      const files = p['csv'] as Record<string, string>;
      files['receivables.csv'] = files['receivables.csv'].replace('60000', '60001');
    });
    expect(verifyEvidence(csv, pinned)).toMatchObject({ ok: false, reason: EvidenceFailureCode.CSV_MISMATCH, detail: expect.stringContaining('receivables.csv') });
    const record = resigned(receivablePkg, (p) => {
      const records = p['records'] as Array<{ key?: string; value?: Record<string, unknown> }>;
      const r = records.find((x) => x.key === 'finance/financing/fin-0000001');
      if (r?.value) r.value['rateBps'] = 1;
      p['csv'] = renderEvidenceCsv(p as never);
    });
    expect(verifyEvidence(record, pinned)).toMatchObject({ ok: false, reason: EvidenceFailureCode.RECORD_NOT_PROVEN, detail: expect.stringContaining('fin-0000001') });
    const body = receivableBody(chain);
    const gap = sealEvidencePackage({ ...body, records: body.records.filter((r) => !(r.type === 'state-write' && r.key === 'finance/receivable/rcv-root-1' && r.version === 2)), transactions: body.transactions.filter((t) => t.receipt.envelope.transaction.type !== 'finance.receivable.confirm') }, REGULATOR_KEY);
    expect(verifyEvidence(encodeEvidencePackage(gap), pinned)).toMatchObject({ ok: false, reason: EvidenceFailureCode.HISTORY_GAP, detail: expect.stringContaining('rcv-root-1') });
    const missing = sealEvidencePackage({ ...body, records: body.records.filter((r) => !(r.type === 'state-write' && r.key === 'finance/receivable/rcv-part-b')) }, REGULATOR_KEY);
    expect(verifyEvidence(encodeEvidencePackage(missing), pinned)).toMatchObject({ ok: false, reason: EvidenceFailureCode.INCOMPLETE_CASE, detail: expect.stringContaining('rcv-part-b') });
    const stray = sealEvidencePackage({ ...body, transactions: [...body.transactions, chain.transaction(chain.blocks[6].results[0].transactionId)] }, REGULATOR_KEY);
    expect(verifyEvidence(encodeEvidencePackage(stray), pinned)).toMatchObject({ ok: false, reason: EvidenceFailureCode.MALFORMED, detail: expect.stringContaining('no record names it') });
    const edge = resigned(tracePkg, (p) => {
      (p['case'] as { edges: Array<{ eventID: string }> }).edges[0].eventID = 'ni:///sha-256;' + '9'.repeat(64) + '?ver=CBV2.0';
      p['csv'] = renderEvidenceCsv(p as never);
    });
    expect(verifyEvidence(edge, pinned)).toMatchObject({ ok: false, reason: EvidenceFailureCode.INCOMPLETE_CASE });
    const event = resigned(tracePkg, (p) => {
      (p['records'] as Array<{ eventTime: string }>)[0].eventTime = '2026-11-30T08:00:00.001Z';
      p['csv'] = renderEvidenceCsv(p as never);
    });
    expect(verifyEvidence(event, pinned)).toMatchObject({ ok: false, reason: EvidenceFailureCode.RECORD_NOT_PROVEN });
  });

  it('checks the members and the regulator it is given: other members, another chain, an unknown issuer key fail; nothing pinned says so', () => {
    const bytes = encodeEvidencePackage(receivablePkg);
    const others = parseTrust({ members: FIXTURE_MEMBERS.members.map((m, i) => (i === 0 ? { ...m, publicKey: toHex(generateKeyPair('ed25519').publicKey) } : m)) });
    expect(verifyEvidence(bytes, { trust: others, issuerKeys: [REGULATOR_PUBLIC] })).toMatchObject({ ok: false, reason: EvidenceFailureCode.BAD_RECEIPT, detail: expect.stringContaining('PROTOCOL.MEMBERS_MISMATCH') });
    expect(verifyEvidence(bytes, { ...pinned, chainId: 'alliance-main' })).toMatchObject({ ok: false, reason: EvidenceFailureCode.CHAIN_MISMATCH });
    expect(verifyEvidence(bytes, { trust, issuerKeys: [{ ...REGULATOR_PUBLIC, publicKey: toHex(generateKeyPair('ed25519').publicKey) }] })).toMatchObject({ ok: false, reason: EvidenceFailureCode.ISSUER_NOT_TRUSTED });
    expect(verifyEvidence(bytes)).toMatchObject({ ok: true, issuerPinned: false, membersPinned: false });
    // A package signed by someone else's key verifies as unchanged, but not as the regulator's.
    const forged = sealEvidencePackage(receivableBody(chain), { organizationId: 'reg', algorithm: 'ed25519', privateKey: generateKeyPair('ed25519').privateKey });
    expect(verifyEvidence(encodeEvidencePackage(forged)).ok).toBe(true);
    expect(verifyEvidence(encodeEvidencePackage(forged), pinned)).toMatchObject({ ok: false, reason: EvidenceFailureCode.ISSUER_NOT_TRUSTED });
    // The regulator's keys come from the chain configuration's observers (genesis envelope or config).
    const config = { chainId: EVIDENCE_CHAIN, observers: [{ organizationId: 'reg', role: 'regulator', keys: [{ keyId: 'x', ...REGULATOR_PUBLIC }] }] };
    expect(issuerKeysOf({ transaction: { payload: { config } }, signature: {} })).toEqual([REGULATOR_PUBLIC]);
    expect(issuerKeysOf(config)).toEqual([REGULATOR_PUBLIC]);
    expect(issuerKeysOf({ members: [] })).toEqual([]);
  });

  it('renders CSV cells safely: quoting, formula-leading text, integers as they are', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "x"')).toBe('"say ""x"""');
    expect(csvCell('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvCell(-1)).toBe('-1');
    expect(csvCell(null)).toBe('');
    expect(csvCell(['a', 'b'])).toBe('a|b');
    expect(csvCell({ b: 1, a: 'x' })).toBe('"{""a"":""x"",""b"":1}"');
  });
});

describe('alliance verify evidence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alliance-evidence-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    const value: CliIo & { out: string[]; err: string[] } = { out, err, stdout: { write: (t) => out.push(String(t)) }, stderr: { write: (t) => err.push(t) }, env: {}, readStdin: async () => new Uint8Array() };
    return value;
  };

  it('exits 0 for a package, 1 naming what failed, 2 for usage errors', async () => {
    const file = join(dir, 'evidence.json');
    writeFileSync(file, encodeEvidencePackage(receivablePkg));
    writeFileSync(join(dir, 'members.json'), JSON.stringify({ ...FIXTURE_MEMBERS, observers: [{ organizationId: 'reg', role: 'regulator', keys: [{ keyId: 'x', ...REGULATOR_PUBLIC }] }] }));
    writeFileSync(join(dir, 'issuer.json'), JSON.stringify(REGULATOR_PUBLIC));
    const ok = io();
    expect(await main(['verify', 'evidence', file, '--members', join(dir, 'members.json')], ok)).toBe(0);
    expect(ok.out.join('')).toMatch(/^evidence OK: receivable rcv-part-a of alliance-evidence, signed by reg \(key [0-9a-f]{32}, pinned\); 7 records in 4 transactions/);
    const json = io();
    expect(await main(['verify', 'evidence', file, '--members', join(dir, 'members.json'), '--issuer-key', join(dir, 'issuer.json'), '--json'], json)).toBe(0);
    expect(JSON.parse(json.out.join(''))).toMatchObject({ ok: true, issuerPinned: true, membersPinned: true });
    const unpinned = io();
    expect(await main(['verify', 'evidence', file], unpinned)).toBe(0);
    expect(unpinned.out.join('')).toMatch(/note: members not pinned/);
    const bytes = encodeEvidencePackage(receivablePkg);
    bytes[100] ^= 1;
    writeFileSync(join(dir, 'flipped.json'), bytes);
    const bad = io();
    expect(await main(['verify', 'evidence', join(dir, 'flipped.json'), '--members', join(dir, 'members.json')], bad)).toBe(1);
    expect(bad.out.join('')).toMatch(/^evidence INVALID: EVIDENCE\.(BAD_SIGNATURE|NON_CANONICAL|MALFORMED): /);
    const noIssuer = io();
    writeFileSync(join(dir, 'plain-members.json'), JSON.stringify(FIXTURE_MEMBERS));
    expect(await main(['verify', 'evidence', file, '--members', join(dir, 'plain-members.json')], noIssuer)).toBe(0);
    expect(noIssuer.out.join('')).toMatch(/note: the regulator's key is not pinned/);
    expect(await main(['verify', 'evidence'], io())).toBe(2);
    expect(await main(['verify', 'evidence', join(dir, 'missing.json')], io())).toBe(2);
    const help = io();
    expect(await main(['verify', 'evidence', '--help'], help)).toBe(0);
    expect(help.out.join('')).toMatch(/usage: alliance verify evidence/);
  });
});
