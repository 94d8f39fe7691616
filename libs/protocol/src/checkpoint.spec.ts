import { describe, expect, it } from 'vitest';
import vectors from '../test-vectors/signed-note.json';
import { TEST_KEYS, buildWorkedExample } from '../scripts/worked-example';
import { ConsortiumMember } from './block';
import {
  checkpointOrigin,
  formatCheckpoint,
  formatSignedNote,
  memberNoteKeys,
  noteKeyHash,
  parseCheckpoint,
  parseSignedNote,
  parseVerifierKey,
  signCheckpoint,
  verifyCheckpoint,
  verifyNote,
} from './checkpoint';
import { fromBase64, fromHex, toBase64, toHex } from './encoding';
import { ProtocolError } from './errors';
import { EMPTY_TREE_ROOT } from './merkle';

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
}

const go = vectors.goSumdb;
const goKey = parseVerifierKey(go.verifierKey);

describe('C2SP signed note known answers', () => {
  it("reproduces Go sumdb/note's published note byte for byte from its private key", () => {
    // PRIVATE+KEY+<name>+<hash>+base64(0x01 ‖ seed)
    const encoded = go.signerKey.split('+').slice(4).join('+');
    const typed = fromBase64(encoded);
    expect(typed[0]).toBe(0x01);
    const line = signCheckpoint(go.text, { name: 'PeterNeumann', privateKey: typed.slice(1) });
    expect(formatSignedNote(go.text, [line])).toBe(go.note);
    expect(toHex(noteKeyHash('PeterNeumann', goKey.publicKey))).toBe('c74f20a3');
  });

  it('verifies the Go and the C2SP example notes', () => {
    expect(verifyNote(go.note, [goKey])).toEqual({ text: go.text, verifiedBy: ['PeterNeumann'] });
    const c2sp = vectors.c2spExample;
    expect(verifyNote(c2sp.note, [parseVerifierKey(c2sp.verifierKey)])).toEqual({ text: c2sp.text, verifiedBy: ['example.com/foo'] });
    // Bytes work as well as text.
    expect(verifyNote(new TextEncoder().encode(go.note), [goKey]).verifiedBy).toEqual(['PeterNeumann']);
  });

  for (const m of vectors.malformed) {
    it(`rejects as malformed: ${m.name}`, () => {
      expect(codeOf(() => parseSignedNote(m.note))).toBe(m.error);
    });
  }

  for (const r of vectors.rejected) {
    it(`rejects: ${r.name}`, () => {
      expect(codeOf(() => verifyNote(r.note, [goKey]))).toBe(r.error);
    });
  }

  it('ignores signatures by unknown keys, even with a known name or key ID', () => {
    const other = { name: 'PeterNeumann', publicKey: fromHex(TEST_KEYS.org1.privateKey) }; // wrong key, same name
    expect(codeOf(() => verifyNote(go.note, [other]))).toBe('PROTOCOL.UNVERIFIED_NOTE');
    const extra = formatSignedNote(go.text, [go.note.slice(go.text.length + 1), `\u2014 Someone ${toBase64(new Uint8Array(68))}\n`]);
    expect(verifyNote(extra, [goKey]).verifiedBy).toEqual(['PeterNeumann']);
  });

  it('rejects malformed verifier keys', () => {
    expect(() => parseVerifierKey(go.verifierKey.replace('c74f20a3', 'c74f20a4'))).toThrow(/key hash/);
    expect(() => parseVerifierKey('PeterNeumann+c74f20a3')).toThrow();
    expect(() => parseVerifierKey(go.verifierKey.replace('+ARpc', '+AhPc'))).toThrow();
  });
});

describe('Alliance checkpoints', () => {
  const ex = buildWorkedExample().vectors as { checkpoint: string; keys: { members: ConsortiumMember[] }; block: { header: { logSize: number; logRoot: string } } };
  const keys = memberNoteKeys(ex.keys.members);
  const header = ex.block.header;

  it('formats origin, size, base64 root, each line ending in a newline', () => {
    const text = formatCheckpoint({ origin: checkpointOrigin('alliance-main'), treeSize: 4, rootHash: fromHex(header.logRoot) });
    expect(text).toBe(`alliance/alliance-main\n4\n${toBase64(fromHex(header.logRoot))}\n`);
    expect(parseCheckpoint(text)).toEqual({ origin: 'alliance/alliance-main', treeSize: 4, rootHash: fromHex(header.logRoot), extensions: [] });
    expect(formatCheckpoint({ origin: 'alliance/x', treeSize: 0, rootHash: EMPTY_TREE_ROOT, extensions: ['ext one'] })).toBe(
      `alliance/x\n0\n${toBase64(EMPTY_TREE_ROOT)}\next one\n`,
    );
  });

  it('verifies the worked-example checkpoint signed by every member', () => {
    const v = verifyCheckpoint(ex.checkpoint, keys, { origin: 'alliance/alliance-main', policy: { type: 'all' } });
    expect(v).toMatchObject({ origin: 'alliance/alliance-main', treeSize: header.logSize, verifiedBy: ['org1', 'org2', 'org3'] });
    expect(toHex(v.rootHash)).toBe(header.logRoot);
  });

  it('enforces origin and policy when asked', () => {
    expect(codeOf(() => verifyCheckpoint(ex.checkpoint, keys, { origin: 'alliance/other' }))).toBe('PROTOCOL.ORIGIN_MISMATCH');
    const [text, ...lines] = [ex.checkpoint.slice(0, ex.checkpoint.indexOf('\n\n') + 1), ...ex.checkpoint.slice(ex.checkpoint.indexOf('\n\n') + 2).split(/(?<=\n)/)];
    const one = formatSignedNote(text, [lines[0]]);
    expect(verifyCheckpoint(one, keys).verifiedBy).toEqual(['org1']);
    expect(codeOf(() => verifyCheckpoint(one, keys, { policy: { type: 'majority' } }))).toBe('PROTOCOL.NOT_CERTIFIED');
    // A forged body under genuine signatures.
    const forged = ex.checkpoint.replace(/^alliance\/alliance-main\n4\n/, 'alliance/alliance-main\n5\n');
    expect(codeOf(() => verifyCheckpoint(forged, keys))).toBe('PROTOCOL.BAD_NOTE_SIGNATURE');
  });

  it('parses bodies strictly', () => {
    const root = toBase64(EMPTY_TREE_ROOT);
    const bad = [
      `alliance/x\n4\n${root}`, // no final newline
      `alliance/x\n04\n${root}\n`, // leading zero
      `alliance/x\n-1\n${root}\n`,
      `alliance/x\n9007199254740992\n${root}\n`, // beyond 2^53 - 1
      `alliance/x\n4\n${root.slice(0, -1)}\n`, // unpadded
      `alliance/x\n4\n${toBase64(new Uint8Array(31))}\n`, // 31 bytes
      `alliance/x\n4\n`,
      `\n4\n${root}\n`,
      `alliance/x\n4\n${root}\n\n`, // empty extension line
    ];
    for (const b of bad) expect(codeOf(() => parseCheckpoint(b))).toBe('PROTOCOL.MALFORMED_CHECKPOINT');
    expect(codeOf(() => formatCheckpoint({ origin: 'example.com/log', treeSize: 1, rootHash: EMPTY_TREE_ROOT }))).toBe('PROTOCOL.MALFORMED_CHECKPOINT');
    expect(codeOf(() => checkpointOrigin('a/b'))).toBe('PROTOCOL.MALFORMED_CHECKPOINT');
  });

  it('refuses to sign text that would not parse back', () => {
    const key = { name: 'org1', privateKey: fromHex(TEST_KEYS.org1.privateKey) };
    expect(codeOf(() => signCheckpoint('no newline', key))).toBe('PROTOCOL.MALFORMED_NOTE');
    expect(codeOf(() => signCheckpoint('a\n\nb\n', key))).toBe('PROTOCOL.MALFORMED_NOTE');
    expect(codeOf(() => signCheckpoint('a\n', { ...key, name: 'org 1' }))).toBe('PROTOCOL.MALFORMED_NOTE');
  });
});
