import { consistencyProof, inclusionProof, leafHash, merkleRoot } from '@alliance/protocol';
import { describe, expect, it } from 'vitest';
import { verifyConsistency, verifyInclusion } from './index';

const leaves = Array.from({ length: 13 }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)));
const root = (n: number) => merkleRoot(leaves.slice(0, n));

const goodInclusion = { leafHash: leaves[5], leafIndex: 5, treeSize: 13, proof: inclusionProof(leaves, 5), root: root(13) };
const goodConsistency = { fromSize: 5, toSize: 13, fromRoot: root(5), toRoot: root(13), proof: consistencyProof(leaves, 5) };

// Everything a careless or hostile caller might pass where a number, a hash or a proof belongs.
const BAD_NUMBERS: unknown[] = [null, undefined, '5', NaN, Infinity, -Infinity, -1, 5.5, 2 ** 53, 2 ** 60, Number.MAX_VALUE, 5n, {}, [], true];
const BAD_HASHES: unknown[] = [null, undefined, 'ab'.repeat(32), new Uint8Array(31), new Uint8Array(33), new Uint8Array(0), Array.from({ length: 32 }, () => 0), new Uint16Array(32), new ArrayBuffer(32), {}, 42];
const BAD_PROOFS: unknown[] = [
  null,
  undefined,
  'proof',
  42,
  {},
  { length: 1, 0: new Uint8Array(32) },
  [null],
  ['00'.repeat(32)],
  [new Uint8Array(31)],
  new Array(3), // sparse: holes, not hashes
  Array.from({ length: 65 }, () => new Uint8Array(32)),
  new Set([new Uint8Array(32)]),
];

describe('verifyInclusion', () => {
  it('accepts a valid proof for every leaf of every tree size up to 13', () => {
    for (let n = 1; n <= 13; n++) {
      for (let i = 0; i < n; i++) {
        expect(verifyInclusion({ leafHash: leaves[i], leafIndex: i, treeSize: n, proof: inclusionProof(leaves.slice(0, n), i), root: root(n) })).toBe(true);
      }
    }
    expect(verifyInclusion(goodInclusion)).toBe(true);
  });

  it('rejects tampered proofs, wrong indices and sizes, swapped roots', () => {
    const flipped = goodInclusion.proof.map((h) => h.slice());
    flipped[1][0] ^= 1;
    expect(verifyInclusion({ ...goodInclusion, proof: flipped })).toBe(false);
    expect(verifyInclusion({ ...goodInclusion, proof: goodInclusion.proof.slice(1) })).toBe(false);
    expect(verifyInclusion({ ...goodInclusion, proof: [...goodInclusion.proof, leaves[0]] })).toBe(false);
    expect(verifyInclusion({ ...goodInclusion, leafIndex: 4 })).toBe(false);
    expect(verifyInclusion({ ...goodInclusion, leafIndex: 13 })).toBe(false);
    expect(verifyInclusion({ ...goodInclusion, treeSize: 5 })).toBe(false);
    expect(verifyInclusion({ ...goodInclusion, root: root(12) })).toBe(false);
    expect(verifyInclusion({ ...goodInclusion, leafHash: leaves[6] })).toBe(false);
  });

  it('returns false, never throws, on malformed input', () => {
    const cases: unknown[] = [null, undefined, 'x', 42, [], {}, Object.create(null)];
    for (const value of BAD_NUMBERS) cases.push({ ...goodInclusion, leafIndex: value }, { ...goodInclusion, treeSize: value });
    for (const value of BAD_HASHES) cases.push({ ...goodInclusion, leafHash: value }, { ...goodInclusion, root: value });
    for (const value of BAD_PROOFS) cases.push({ ...goodInclusion, proof: value });
    const hostile = Object.defineProperty({ ...goodInclusion }, 'proof', {
      get() {
        throw new Error('boom');
      },
    });
    cases.push(hostile, new Proxy({}, { get: () => { throw new Error('proxy'); } }));
    for (const input of cases) {
      expect(() => verifyInclusion(input as never)).not.toThrow();
      expect(verifyInclusion(input as never)).toBe(false);
    }
  });

  it('does not read a getter twice (a value cannot change between check and use)', () => {
    let reads = 0;
    const input = Object.defineProperty({ ...goodInclusion }, 'leafIndex', {
      get() {
        reads++;
        return reads === 1 ? 5 : 'garbage';
      },
    });
    expect(verifyInclusion(input as never)).toBe(true);
    expect(reads).toBe(1);
  });

  it('accepts a Buffer (a Uint8Array) as a hash', () => {
    expect(verifyInclusion({ ...goodInclusion, leafHash: Buffer.from(leaves[5]), root: Buffer.from(root(13)) })).toBe(true);
  });
});

describe('verifyConsistency', () => {
  it('accepts valid proofs between every pair of sizes up to 13, with the defined edges', () => {
    for (let m = 0; m <= 13; m++) {
      for (let n = m; n <= 13; n++) {
        const proof = consistencyProof(leaves.slice(0, n), m);
        expect(verifyConsistency({ fromSize: m, toSize: n, fromRoot: root(m), toRoot: root(n), proof })).toBe(true);
      }
    }
  });

  it('rejects tampered proofs, swapped roots, wrong sizes and the undefined directions', () => {
    const flipped = goodConsistency.proof.map((h) => h.slice());
    flipped[0][31] ^= 0x80;
    expect(verifyConsistency({ ...goodConsistency, proof: flipped })).toBe(false);
    expect(verifyConsistency({ ...goodConsistency, proof: goodConsistency.proof.slice(0, -1) })).toBe(false);
    expect(verifyConsistency({ ...goodConsistency, proof: [...goodConsistency.proof, leaves[0]] })).toBe(false);
    expect(verifyConsistency({ ...goodConsistency, fromRoot: goodConsistency.toRoot, toRoot: goodConsistency.fromRoot })).toBe(false);
    expect(verifyConsistency({ ...goodConsistency, fromSize: 6 })).toBe(false);
    // (±1 with the same path shape verifies: sizes are bound by the roots, docs/protocol.md §5.5.)
    expect(verifyConsistency({ ...goodConsistency, toSize: 8 })).toBe(false);
    expect(verifyConsistency({ fromSize: 13, toSize: 5, fromRoot: root(13), toRoot: root(5), proof: goodConsistency.proof })).toBe(false);
    expect(verifyConsistency({ fromSize: 5, toSize: 5, fromRoot: root(5), toRoot: root(5), proof: [leaves[0]] })).toBe(false);
    expect(verifyConsistency({ fromSize: 0, toSize: 5, fromRoot: root(1), toRoot: root(5), proof: [] })).toBe(false);
  });

  it('returns false, never throws, on malformed input', () => {
    const cases: unknown[] = [null, undefined, 'x', 42, [], {}];
    for (const value of BAD_NUMBERS) cases.push({ ...goodConsistency, fromSize: value }, { ...goodConsistency, toSize: value });
    for (const value of BAD_HASHES) cases.push({ ...goodConsistency, fromRoot: value }, { ...goodConsistency, toRoot: value });
    for (const value of BAD_PROOFS) cases.push({ ...goodConsistency, proof: value });
    cases.push({ ...goodConsistency, fromSize: 2 ** 53 - 1, toSize: 2 ** 53 }, { ...goodConsistency, fromSize: 2 ** 52, toSize: 2 ** 53 - 1 });
    for (const input of cases) {
      expect(() => verifyConsistency(input as never)).not.toThrow();
      expect(verifyConsistency(input as never)).toBe(false);
    }
  });
});
