import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from '../test-vectors/merkle.json';
import { fromHex, toHex } from './encoding';
import {
  EMPTY_TREE_ROOT,
  MerkleAccumulator,
  MerkleTree,
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

const hex = (list: readonly Uint8Array[]) => list.map(toHex);
const bytes = (list: readonly string[]) => list.map((h) => fromHex(h));
const LEAVES = bytes(vectors.leafHashes);
const ROOTS = bytes(vectors.roots);

/** Deterministic, distinct leaf hashes. */
function leaves(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => leafHash(new Uint8Array([i & 0xff, i >> 8, 0xa1])));
}

function flipBit(h: Uint8Array, bit: number): Uint8Array {
  const c = h.slice();
  c[bit >> 3] ^= 1 << (bit & 7);
  return c;
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The side of each inclusion-path element, leaf first, read off the RFC 9162
 * §2.1.3.1 PATH definition (not off the verifier). Two (index, size) pairs
 * with the same shape make the §2.1.3.2 verifier compute the same thing.
 */
function inclusionShape(m: number, n: number): string {
  if (n <= 1) return '';
  const k = largestPowerOfTwoBelow(n);
  return m < k ? `${inclusionShape(m, k)}R` : `${inclusionShape(m - k, n - k)}L`;
}

/**
 * Likewise for consistency proofs, from §2.1.4.1 SUBPROOF: whether the first
 * element is implicit (the old root itself), then per element whether it is a
 * left sibling inside both trees (B) or a right sibling only in the new one (N).
 */
function consistencyShape(m: number, n: number, b = true): string {
  if (m === n) return b ? 'implicit:' : 'explicit:';
  const k = largestPowerOfTwoBelow(n);
  return m <= k ? `${consistencyShape(m, k, b)}N` : `${consistencyShape(m - k, n - k, false)}B`;
}

describe('known answers (RFC 6962 reference tree)', () => {
  it('hashes leaves and builds the published root of every prefix, recursively and incrementally', () => {
    expect(hex(vectors.leafData.map((d) => leafHash(fromHex(d))))).toEqual(vectors.leafHashes);
    expect(toHex(EMPTY_TREE_ROOT)).toBe(vectors.roots[0]);
    const acc = new MerkleAccumulator();
    expect(toHex(acc.root())).toBe(vectors.roots[0]);
    for (let n = 0; n <= 8; n++) {
      expect(toHex(merkleRoot(LEAVES.slice(0, n)))).toBe(vectors.roots[n]);
      if (n > 0) {
        acc.append(LEAVES[n - 1]);
        expect(toHex(acc.root())).toBe(vectors.roots[n]);
      }
    }
    expect(toHex(nodeHash(LEAVES[0], LEAVES[1]))).toBe(vectors.roots[2]);
  });

  for (const v of vectors.inclusion) {
    it(`inclusion proof for leaf ${v.leafIndex} of ${v.treeSize}: generated as published, verifies, corruptions fail`, () => {
      const tree = LEAVES.slice(0, v.treeSize);
      expect(hex(inclusionProof(tree, v.leafIndex))).toEqual(v.proof);
      const input = { leafHash: LEAVES[v.leafIndex], leafIndex: v.leafIndex, treeSize: v.treeSize, proof: bytes(v.proof), root: ROOTS[v.treeSize] };
      expect(verifyInclusion(input)).toBe(true);
      // transparency-dev/merkle's corruption probes.
      const some = fromHex('abacaba000000000000000000000000000000000000000000060061e00123456');
      const probes = [
        { ...input, leafIndex: input.leafIndex - 1 },
        { ...input, leafIndex: input.leafIndex + 1 },
        { ...input, leafIndex: input.leafIndex ^ 2 },
        { ...input, treeSize: input.treeSize * 2 },
        { ...input, treeSize: Math.floor(input.treeSize / 2) },
        { ...input, leafHash: new TextEncoder().encode('WrongLeaf') },
        { ...input, root: EMPTY_TREE_ROOT },
        { ...input, root: some },
        { ...input, proof: [...input.proof, new Uint8Array(0)] },
        { ...input, proof: [...input.proof, input.root] },
        { ...input, proof: [new Uint8Array(0), ...input.proof] },
        { ...input, proof: [input.root, ...input.proof] },
        ...input.proof.map((_, i) => ({ ...input, proof: input.proof.map((p, j) => (i === j ? flipBit(p, 3) : p)) })),
        ...(input.proof.length > 0 ? [{ ...input, proof: input.proof.slice(0, -1) }] : []),
        ...(input.proof.length > 1 ? [{ ...input, proof: [input.proof[0], some, ...input.proof.slice(1)] }] : []),
      ];
      for (const p of probes) expect(verifyInclusion(p)).toBe(false);
    });
  }

  for (const v of vectors.consistency) {
    it(`consistency proof ${v.fromSize} → ${v.toSize}: generated as published, verifies, corruptions fail`, () => {
      expect(hex(consistencyProof(LEAVES.slice(0, v.toSize), v.fromSize))).toEqual(v.proof);
      const input = { fromSize: v.fromSize, toSize: v.toSize, fromRoot: ROOTS[v.fromSize], toRoot: ROOTS[v.toSize], proof: bytes(v.proof) };
      expect(verifyConsistency(input)).toBe(true);
      if (input.proof.length === 0) return;
      const wrong = new TextEncoder().encode('WrongRoot');
      const probes = [
        { ...input, fromSize: input.fromSize - 1 },
        { ...input, fromSize: input.fromSize + 1 },
        { ...input, fromSize: input.fromSize ^ 2 },
        { ...input, toSize: input.toSize * 2 },
        { ...input, toSize: Math.floor(input.toSize / 2) },
        { ...input, fromRoot: wrong },
        { ...input, toRoot: wrong },
        { ...input, fromRoot: input.toRoot, toRoot: input.fromRoot },
        { ...input, proof: [] },
        { ...input, proof: [...input.proof, new Uint8Array(0)] },
        { ...input, proof: [...input.proof, input.fromRoot] },
        { ...input, proof: [...input.proof, input.toRoot] },
        { ...input, proof: [new Uint8Array(0), ...input.proof] },
        { ...input, proof: [input.fromRoot, ...input.proof] },
        { ...input, proof: [input.toRoot, ...input.proof] },
        { ...input, proof: [input.proof[0], ...input.proof] },
        { ...input, proof: input.proof.slice(0, -1) },
        ...input.proof.map((_, i) => ({ ...input, proof: input.proof.map((p, j) => (i === j ? flipBit(p, 4) : p)) })),
      ];
      for (const p of probes) expect(verifyConsistency(p)).toBe(false);
    });
  }

  for (const e of vectors.edges) {
    it(`edge case: ${e.name} → ${e.valid}`, () => {
      expect(verifyConsistency({ fromSize: e.fromSize, toSize: e.toSize, fromRoot: fromHex(e.fromRoot), toRoot: fromHex(e.toRoot), proof: bytes(e.proof) })).toBe(e.valid);
    });
  }
});

describe('exhaustive: every tree up to 64 leaves, every index, every old size', () => {
  const N = 64;
  const all = leaves(N + 1);
  const roots = Array.from({ length: N + 2 }, (_, n) => merkleRoot(all.slice(0, n)));
  /** Every bit of every element up to 12 leaves; six spread-out bits beyond (any flip changes the SHA-256 input alike). */
  const bitsFor = (n: number) => (n <= 12 ? Array.from({ length: 256 }, (_, i) => i) : [0, 1, 93, 170, 254, 255]);

  it('inclusion: every proof verifies; every tampering fails, and a changed index or size passes only where RFC 9162 computes the very same path', { timeout: 120_000 }, () => {
    let checked = 0;
    let sameShape = 0;
    for (let n = 1; n <= N; n++) {
      const tree = all.slice(0, n);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(tree, i);
        const input = { leafHash: tree[i], leafIndex: i, treeSize: n, proof, root: roots[n] };
        expect(verifyInclusion(input)).toBe(true);
        expect(proof.length).toBe(inclusionShape(i, n).length);
        const mustFail = [
          { ...input, leafHash: flipBit(tree[i], (i * 7) % 256) },
          { ...input, leafHash: all[N] },
          { ...input, root: flipBit(roots[n], (n * 11) % 256) },
          { ...input, root: roots[n + 1] },
          ...(n > 1 ? [{ ...input, leafHash: input.root, root: input.leafHash }] : []), // a 1-leaf root is its leaf
          { ...input, proof: [...proof, EMPTY_TREE_ROOT] },
          { ...input, proof: [...proof, roots[n]] },
          { ...input, proof: [EMPTY_TREE_ROOT, ...proof] },
          { ...input, proof: [...proof, new Uint8Array(32)] },
          ...(proof.length > 0 ? [{ ...input, proof: proof.slice(0, -1) }, { ...input, proof: proof.slice(1) }] : []),
          ...proof.flatMap((p, k) => [
            { ...input, proof: proof.map((q, j) => (j === k ? p.subarray(0, 31) : q)) },
            { ...input, proof: proof.map((q, j) => (j === k ? new Uint8Array([...p, 0]) : q)) },
            ...bitsFor(n).map((bit) => ({ ...input, proof: proof.map((q, j) => (j === k ? flipBit(q, bit) : q)) })),
          ]),
          ...proof.slice(1).flatMap((_, k) => {
            const swapped = proof.slice();
            [swapped[k], swapped[k + 1]] = [swapped[k + 1], swapped[k]];
            return [{ ...input, proof: swapped }];
          }),
        ];
        for (const p of mustFail) {
          expect(verifyInclusion(p)).toBe(false);
          checked++;
        }
        // ±1 on the index or the size: rejected unless the path shape is identical (then the
        // verifier's arithmetic is identical too — the root, signed with its size, is what binds the size).
        for (const [index, size] of [[i - 1, n], [i + 1, n], [i, n - 1], [i, n + 1], [i, n * 2]]) {
          const same = index >= 0 && index < size && inclusionShape(index, size) === inclusionShape(i, n);
          if (index !== i) expect(same).toBe(false);
          if (same) sameShape++;
          expect(verifyInclusion({ ...input, leafIndex: index, treeSize: size })).toBe(same);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100_000);
    expect(sameShape).toBeGreaterThan(0);
  });

  it('consistency: every proof verifies; every tampering fails, and a changed size passes only where RFC 9162 computes the very same path', { timeout: 120_000 }, () => {
    let checked = 0;
    for (let n = 0; n <= N; n++) {
      const tree = all.slice(0, n);
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(tree, m);
        const input = { fromSize: m, toSize: n, fromRoot: roots[m], toRoot: roots[n], proof };
        expect(verifyConsistency(input)).toBe(true);
        if (m > 0 && m < n) expect(proof.length).toBe(consistencyShape(m, n).length - (consistencyShape(m, n).startsWith('implicit') ? 'implicit:'.length : 'explicit:'.length - 1));
        const mustFail = [
          { ...input, fromRoot: flipBit(roots[m], (m * 13 + n) % 256) },
          { ...input, fromRoot: input.fromRoot.subarray(0, 31) },
          { ...input, proof: [...proof, EMPTY_TREE_ROOT] },
          { ...input, proof: [...proof, roots[n]] },
          { ...input, proof: [roots[m], ...proof] },
          ...(m > 0 ? [{ ...input, toRoot: flipBit(roots[n], (m + n * 3) % 256) }, { ...input, toRoot: roots[n + 1] }] : []),
          ...(m > 0 && m < n
            ? [
                { ...input, fromRoot: input.toRoot, toRoot: input.fromRoot },
                { ...input, proof: [] },
                { ...input, proof: proof.slice(0, -1) },
                { ...input, proof: proof.slice(1) },
                { ...input, proof: [proof[0], ...proof] },
                { ...input, fromSize: n, toSize: m },
              ]
            : []),
          ...proof.flatMap((p, k) => [
            { ...input, proof: proof.map((q, j) => (j === k ? p.subarray(0, 31) : q)) },
            { ...input, proof: proof.map((q, j) => (j === k ? new Uint8Array([...p, 0]) : q)) },
            ...bitsFor(n).map((bit) => ({ ...input, proof: proof.map((q, j) => (j === k ? flipBit(q, bit) : q)) })),
          ]),
          ...proof.slice(1).flatMap((_, k) => {
            if (toHex(proof[k]) === toHex(proof[k + 1])) return [];
            const swapped = proof.slice();
            [swapped[k], swapped[k + 1]] = [swapped[k + 1], swapped[k]];
            return [{ ...input, proof: swapped }];
          }),
        ];
        for (const p of mustFail) {
          expect(verifyConsistency(p)).toBe(false);
          checked++;
        }
        if (m > 0 && m < n) {
          for (const [from, to] of [[m - 1, n], [m + 1, n], [m, n - 1], [m, n + 1]]) {
            const same = from > 0 && from < to && consistencyShape(from, to) === consistencyShape(m, n);
            if (from !== m) expect(same).toBe(false);
            expect(verifyConsistency({ ...input, fromSize: from, toSize: to })).toBe(same);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100_000);
  });
});

describe('sizes beyond 32 bits (arithmetic, not shifts)', () => {
  it('verifies proofs folded from the RFC path shape for trees of up to 2^53 − 1 leaves', () => {
    const sizes = [2 ** 32 + 1, 2 ** 40 + 12345, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER];
    for (const n of sizes) {
      for (const i of [0, 1, Math.floor(n / 3), n - 2, n - 1]) {
        const shape = inclusionShape(i, n);
        const proof = Array.from(shape, (_, k) => leafHash(new Uint8Array([k, 1])));
        let r = leafHash(new Uint8Array([9]));
        const leaf = r;
        shape.split('').forEach((side, k) => {
          r = side === 'R' ? nodeHash(r, proof[k]) : nodeHash(proof[k], r);
        });
        expect(verifyInclusion({ leafHash: leaf, leafIndex: i, treeSize: n, proof, root: r })).toBe(true);
        expect(verifyInclusion({ leafHash: leaf, leafIndex: i, treeSize: n, proof: proof.slice(1), root: r })).toBe(false);
        if (i > 0) expect(verifyInclusion({ leafHash: leaf, leafIndex: i - 1, treeSize: n, proof, root: r })).toBe(false);
      }
      for (const m of [1, 2 ** 31, 2 ** 32 - 1, Math.floor(n / 2) + 1, n - 1]) {
        const shape = consistencyShape(m, n);
        const implicit = shape.startsWith('implicit');
        const kinds = shape.slice(shape.indexOf(':') + 1);
        const seed = leafHash(new Uint8Array([m % 251]));
        const proof = [...(implicit ? [] : [seed]), ...Array.from(kinds, (_, k) => leafHash(new Uint8Array([k, 2])))];
        let fr = seed;
        let sr = seed;
        Array.from(kinds).forEach((kind, k) => {
          const c = proof[k + (implicit ? 0 : 1)];
          if (kind === 'B') {
            fr = nodeHash(c, fr);
            sr = nodeHash(c, sr);
          } else sr = nodeHash(sr, c);
        });
        expect(verifyConsistency({ fromSize: m, toSize: n, fromRoot: fr, toRoot: sr, proof })).toBe(true);
        expect(verifyConsistency({ fromSize: m, toSize: n, fromRoot: sr, toRoot: fr, proof })).toBe(false);
      }
    }
  });
});

describe('verifiers never throw', () => {
  it('returns false for every kind of malformed input', () => {
    const h = new Uint8Array(32);
    const good = { leafHash: LEAVES[0], leafIndex: 0, treeSize: 8, proof: bytes(vectors.inclusion[1].proof), root: ROOTS[8] };
    const junk: unknown[] = [null, undefined, -1, 1.5, NaN, Infinity, 2 ** 53, '3', {}, [], [null], [h, 'x'], new Uint8Array(31), new Uint8Array(33), Array(65).fill(h)];
    const verifyAny = verifyInclusion as (x: unknown) => boolean;
    const consistencyAny = verifyConsistency as (x: unknown) => boolean;
    expect(verifyAny(null)).toBe(false);
    expect(verifyAny('x')).toBe(false);
    expect(consistencyAny(undefined)).toBe(false);
    for (const field of Object.keys(good)) {
      for (const j of junk) expect(verifyAny({ ...good, [field]: j })).toBe(false);
    }
    const c = { fromSize: 6, toSize: 8, fromRoot: ROOTS[6], toRoot: ROOTS[8], proof: bytes(vectors.consistency[2].proof) };
    expect(verifyConsistency(c)).toBe(true);
    for (const field of Object.keys(c)) {
      for (const j of junk) expect(consistencyAny({ ...c, [field]: j })).toBe(false);
    }
    const trap = new Proxy({}, { get: () => { throw new Error('boom'); } });
    expect(verifyAny(trap)).toBe(false);
    expect(consistencyAny(trap)).toBe(false);
  });

  it('generators reject bad arguments loudly', () => {
    expect(() => inclusionProof(LEAVES, 8)).toThrow(RangeError);
    expect(() => inclusionProof([], 0)).toThrow(RangeError);
    expect(() => consistencyProof(LEAVES, 9)).toThrow(RangeError);
    expect(() => merkleRoot([new Uint8Array(31)])).toThrow(TypeError);
  });
});

describe('MerkleAccumulator', () => {
  it('equals merkleRoot at every size up to 1,100 and survives a state round-trip at every size', () => {
    const all = leaves(1100);
    const acc = new MerkleAccumulator();
    for (let n = 1; n <= all.length; n++) {
      acc.append(all[n - 1]);
      if (n <= 200 || n % 97 === 0 || n === 1024 || n === 1100) {
        expect(toHex(acc.root())).toBe(toHex(merkleRoot(all.slice(0, n))));
        const restored = new MerkleAccumulator(acc.state());
        expect(restored.size).toBe(n);
        expect(toHex(restored.root())).toBe(toHex(acc.root()));
      }
      expect(acc.state().peaks.length).toBe(n.toString(2).replace(/0/g, '').length);
    }
  });

  it('clones independently and refuses inconsistent state', () => {
    const acc = new MerkleAccumulator();
    for (const l of LEAVES.slice(0, 5)) acc.append(l);
    const copy = acc.clone();
    copy.append(LEAVES[5]);
    expect(toHex(acc.root())).toBe(vectors.roots[5]);
    expect(toHex(copy.root())).toBe(vectors.roots[6]);
    const root = acc.root();
    root[0] ^= 1; // mutating a returned root does not corrupt the accumulator
    expect(toHex(acc.root())).toBe(vectors.roots[5]);
    expect(() => new MerkleAccumulator({ size: 5, peaks: [LEAVES[0]] })).toThrow();
    expect(() => new MerkleAccumulator({ size: -1, peaks: [] })).toThrow();
    expect(() => acc.append(new Uint8Array(31))).toThrow();
  });
});

describe('MerkleTree (cached subtree roots)', () => {
  const leaves = Array.from({ length: 300 }, (_, i) => leafHash(new Uint8Array([i & 255, i >> 8])));
  const tree = new MerkleTree();
  for (const l of leaves) tree.append(l);

  it('gives exactly the roots and proofs of the array functions, for every size, index and pair of sizes it is asked', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), (treeSize, a, b) => {
        const prefix = leaves.slice(0, treeSize);
        expect(toHex(tree.root(treeSize))).toBe(toHex(merkleRoot(prefix)));
        const index = a % treeSize;
        expect(tree.inclusionProof(index, treeSize).map(toHex)).toEqual(inclusionProof(prefix, index).map(toHex));
        const fromSize = b % (treeSize + 1);
        expect(tree.consistencyProof(fromSize, treeSize).map(toHex)).toEqual(consistencyProof(prefix, fromSize).map(toHex));
      }),
      { numRuns: 400 },
    );
    expect(toHex(new MerkleTree().root())).toBe(toHex(EMPTY_TREE_ROOT));
  });

  it('refuses sizes and indices outside the tree', () => {
    expect(() => tree.root(301)).toThrow(RangeError);
    expect(() => tree.inclusionProof(300, 300)).toThrow(RangeError);
    expect(() => tree.consistencyProof(5, 4)).toThrow(RangeError);
    expect(() => tree.append(new Uint8Array(31))).toThrow(TypeError);
  });
});
