import { bytesEqual, isBytes } from './encoding';
import { sha256, sha256Concat } from './hash';

/**
 * RFC 9162 §2.1 Merkle trees, literally. Sizes and indices are JavaScript
 * numbers (integers ≤ 2^53 − 1), so bit operations are written as arithmetic:
 * `>>`/`&` would silently truncate to 32 bits.
 *
 * Generators (`merkleRoot`, `inclusionProof`, `consistencyProof`) throw on
 * bad arguments — they run on data the caller owns. Verifiers return false and
 * never throw — they run on data anyone can send.
 */

export const HASH_LENGTH = 32;
const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** MTH({}) = SHA-256() */
export const EMPTY_TREE_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** SHA-256(0x00 ‖ data) */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256Concat(LEAF_PREFIX, data);
}

/** SHA-256(0x01 ‖ left ‖ right) */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256Concat(NODE_PREFIX, left, right);
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isHash(value: unknown): value is Uint8Array {
  return isBytes(value) && value.length === HASH_LENGTH;
}

function assertLeafHashes(leafHashes: readonly Uint8Array[]): void {
  if (!Array.isArray(leafHashes)) throw new TypeError('leafHashes must be an array');
  for (const h of leafHashes) if (!isHash(h)) throw new TypeError('every leaf hash must be 32 bytes');
}

/** MTH(D[start:end]) over leaf hashes. */
function subtreeRoot(leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 0) return EMPTY_TREE_ROOT;
  if (n === 1) return leafHashes[start];
  const k = splitPoint(n);
  return nodeHash(subtreeRoot(leafHashes, start, start + k), subtreeRoot(leafHashes, start + k, end));
}

/** MTH over the given leaf hashes (RFC 9162 §2.1.1). */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  assertLeafHashes(leafHashes);
  // A copy: the empty root and single-leaf roots are shared objects otherwise.
  return subtreeRoot(leafHashes, 0, leafHashes.length).slice();
}

/** MTH(D[start:end]) for a tree whose leaves the caller holds one way or another. */
type SubtreeRoot = (start: number, end: number) => Uint8Array;

// PATH(m, D[0:n]) (RFC 9162 §2.1.3.1), leaf-side first.
function pathOf(leafIndex: number, treeSize: number, mth: SubtreeRoot): Uint8Array[] {
  const path: Uint8Array[] = [];
  const walk = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, start, start + k);
      path.push(mth(start + k, end));
    } else {
      walk(m - k, start + k, end);
      path.push(mth(start, start + k));
    }
  };
  walk(leafIndex, 0, treeSize);
  return path;
}

// PROOF(m, D[0:n]) (RFC 9162 §2.1.4.1); empty for m = 0 and m = n.
function proofOf(fromSize: number, treeSize: number, mth: SubtreeRoot): Uint8Array[] {
  if (fromSize === 0 || fromSize === treeSize) return [];
  const proof: Uint8Array[] = [];
  // SUBPROOF(m, D[start:end], b)
  const sub = (m: number, start: number, end: number, b: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!b) proof.push(mth(start, end));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, start + k, b);
      proof.push(mth(start + k, end));
    } else {
      sub(m - k, start + k, end, false);
      proof.push(mth(start, start + k));
    }
  };
  sub(fromSize, 0, treeSize, true);
  return proof;
}

/** PATH(m, D[n]) (RFC 9162 §2.1.3.1), leaf-side first. */
export function inclusionProof(leafHashes: readonly Uint8Array[], leafIndex: number): Uint8Array[] {
  assertLeafHashes(leafHashes);
  if (!isSize(leafIndex) || leafIndex >= leafHashes.length) throw new RangeError('leafIndex must be an integer in [0, treeSize)');
  return pathOf(leafIndex, leafHashes.length, (a, b) => subtreeRoot(leafHashes, a, b));
}

/**
 * PROOF(m, D[n]) (RFC 9162 §2.1.4.1) from the first m leaves to all n given.
 * For m = 0 and m = n the proof is empty (docs/protocol.md §5.5).
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], fromSize: number): Uint8Array[] {
  assertLeafHashes(leafHashes);
  if (!isSize(fromSize) || fromSize > leafHashes.length) throw new RangeError('fromSize must be an integer in [0, treeSize]');
  return proofOf(fromSize, leafHashes.length, (a, b) => subtreeRoot(leafHashes, a, b));
}

/**
 * An append-only tree that keeps the root of every complete, aligned subtree
 * (level h holds the roots of leaves [i·2^h, (i+1)·2^h)), so a root, an
 * inclusion proof or a consistency proof for any tree size costs O(log² n)
 * hashes instead of O(n): RFC 9162's recursion splits at the largest power of
 * two below n, so every left part it asks for is such a subtree. Same
 * results as `merkleRoot`, `inclusionProof` and `consistencyProof` over the
 * first `treeSize` leaves (merkle.spec.ts compares them); about two hashes of
 * memory per leaf.
 */
export class MerkleTree {
  private readonly levels: Uint8Array[][] = [[]];

  get size(): number {
    return this.levels[0].length;
  }

  append(leafHash: Uint8Array): void {
    if (!isHash(leafHash)) throw new TypeError('leaf hash must be 32 bytes');
    this.levels[0].push(leafHash);
    // Each completed pair closes a subtree one level up.
    for (let h = 0, i = this.levels[0].length - 1; isOdd(i); h++, i = half(i)) {
      (this.levels[h + 1] ??= []).push(nodeHash(this.levels[h][i - 1], this.levels[h][i]));
    }
  }

  /** Leaf i's hash. */
  leaf(index: number): Uint8Array {
    if (!isSize(index) || index >= this.size) throw new RangeError('index must be an integer in [0, size)');
    return this.levels[0][index];
  }

  /** MTH(D[0:treeSize]). */
  root(treeSize = this.size): Uint8Array {
    this.assertSize(treeSize, 'treeSize');
    return this.mth(0, treeSize).slice();
  }

  inclusionProof(leafIndex: number, treeSize = this.size): Uint8Array[] {
    this.assertSize(treeSize, 'treeSize');
    if (!isSize(leafIndex) || leafIndex >= treeSize) throw new RangeError('leafIndex must be an integer in [0, treeSize)');
    return pathOf(leafIndex, treeSize, (a, b) => this.mth(a, b));
  }

  consistencyProof(fromSize: number, toSize = this.size): Uint8Array[] {
    this.assertSize(toSize, 'toSize');
    if (!isSize(fromSize) || fromSize > toSize) throw new RangeError('fromSize must be an integer in [0, toSize]');
    return proofOf(fromSize, toSize, (a, b) => this.mth(a, b));
  }

  private mth = (start: number, end: number): Uint8Array => {
    const n = end - start;
    if (n === 0) return EMPTY_TREE_ROOT;
    // A complete aligned subtree: stored.
    if ((n & (n - 1)) === 0 && n <= 2 ** 30 && start % n === 0) {
      const h = Math.log2(n);
      const stored = this.levels[h]?.[start / n];
      if (stored) return stored;
    }
    const k = splitPoint(n);
    return nodeHash(this.mth(start, start + k), this.mth(start + k, end));
  };

  private assertSize(size: number, name: string): void {
    if (!isSize(size) || size > this.size) throw new RangeError(`${name} must be an integer in [0, ${this.size}]`);
  }
}

export interface InclusionProofInput {
  readonly leafHash: Uint8Array;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly proof: readonly Uint8Array[];
  readonly root: Uint8Array;
}

const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

function isProof(value: unknown): value is readonly Uint8Array[] {
  // 2^53 leaves need at most 53 hashes; anything longer is garbage.
  return Array.isArray(value) && value.length <= 64 && value.every(isHash);
}

/** RFC 9162 §2.1.3.2, step by step. Never throws. */
export function verifyInclusion(input: InclusionProofInput): boolean {
  try {
    if (typeof input !== 'object' || input === null) return false;
    const { leafHash: hash, leafIndex, treeSize, proof, root } = input;
    if (!isHash(hash) || !isHash(root) || !isSize(leafIndex) || !isSize(treeSize) || !isProof(proof)) return false;
    // 1. leaf_index ≥ tree_size fails.
    if (leafIndex >= treeSize) return false;
    // 2. fn = leaf_index, sn = tree_size − 1.
    let fn = leafIndex;
    let sn = treeSize - 1;
    // 3. r = hash.
    let r = hash;
    // 4. For each p in inclusion_path:
    for (const p of proof) {
      // a. sn = 0: fail.
      if (sn === 0) return false;
      if (isOdd(fn) || fn === sn) {
        // b. r = HASH(0x01 ‖ p ‖ r); if LSB(fn) is not set, shift until it is or fn = 0.
        r = nodeHash(p, r);
        if (!isOdd(fn)) {
          while (!isOdd(fn) && fn !== 0) {
            fn = half(fn);
            sn = half(sn);
          }
        }
      } else {
        // c. r = HASH(0x01 ‖ r ‖ p).
        r = nodeHash(r, p);
      }
      // d. shift both once.
      fn = half(fn);
      sn = half(sn);
    }
    // 5. sn = 0 and r = root.
    return sn === 0 && bytesEqual(r, root);
  } catch {
    return false;
  }
}

export interface ConsistencyProofInput {
  readonly fromSize: number;
  readonly toSize: number;
  readonly fromRoot: Uint8Array;
  readonly toRoot: Uint8Array;
  readonly proof: readonly Uint8Array[];
}

const isPowerOfTwo = (x: number): boolean => {
  let v = x;
  while (v > 1 && v % 2 === 0) v /= 2;
  return v === 1;
};

/**
 * RFC 9162 §2.1.4.2, step by step, for 0 < fromSize < toSize. The RFC leaves
 * the edges undefined; the protocol defines them (docs/protocol.md §5.5):
 * fromSize = toSize holds iff the proof is empty and the roots are equal;
 * fromSize = 0 holds iff the proof is empty and fromRoot is the empty-tree
 * root. Never throws.
 */
export function verifyConsistency(input: ConsistencyProofInput): boolean {
  try {
    if (typeof input !== 'object' || input === null) return false;
    const { fromSize: first, toSize: second, fromRoot, toRoot, proof } = input;
    if (!isSize(first) || !isSize(second) || !isHash(fromRoot) || !isHash(toRoot) || !isProof(proof)) return false;
    if (first > second) return false;
    if (first === second) return proof.length === 0 && bytesEqual(fromRoot, toRoot);
    if (first === 0) return proof.length === 0 && bytesEqual(fromRoot, EMPTY_TREE_ROOT);
    // 1. empty consistency_path fails.
    if (proof.length === 0) return false;
    // 2. first an exact power of 2: prepend first_hash.
    const path = isPowerOfTwo(first) ? [fromRoot, ...proof] : [...proof];
    // 3. fn = first − 1, sn = second − 1.
    let fn = first - 1;
    let sn = second - 1;
    // 4. while LSB(fn) is set, shift both.
    while (isOdd(fn)) {
      fn = half(fn);
      sn = half(sn);
    }
    // 5. fr = sr = first value of the path.
    let fr = path[0];
    let sr = path[0];
    // 6. for each subsequent value c:
    for (let i = 1; i < path.length; i++) {
      const c = path[i];
      // a. sn = 0: fail.
      if (sn === 0) return false;
      if (isOdd(fn) || fn === sn) {
        // b. fr = HASH(0x01 ‖ c ‖ fr), sr = HASH(0x01 ‖ c ‖ sr); if LSB(fn) not set, shift until set or fn = 0.
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        if (!isOdd(fn)) {
          while (!isOdd(fn) && fn !== 0) {
            fn = half(fn);
            sn = half(sn);
          }
        }
      } else {
        // c. sr = HASH(0x01 ‖ sr ‖ c).
        sr = nodeHash(sr, c);
      }
      // d. shift both once.
      fn = half(fn);
      sn = half(sn);
    }
    // 7. fr = first_hash, sr = second_hash, sn = 0.
    return sn === 0 && bytesEqual(fr, fromRoot) && bytesEqual(sr, toRoot);
  } catch {
    return false;
  }
}

export interface MerkleAccumulatorState {
  readonly size: number;
  /** Roots of the perfect subtrees covering [0, size), largest (leftmost) first. */
  readonly peaks: readonly Uint8Array[];
}

/**
 * Append-only tree keeping only the compact range: one perfect-subtree root
 * per set bit of the size. Append is amortized O(1) hashes, root O(log n).
 * Folding the peaks right to left yields exactly MTH, because RFC 9162's split
 * at the largest power of two below n peels off the largest peak first.
 */
export class MerkleAccumulator {
  private readonly stack: Uint8Array[];
  private count: number;

  constructor(state?: MerkleAccumulatorState) {
    if (state === undefined) {
      this.stack = [];
      this.count = 0;
      return;
    }
    if (!isSize(state.size)) throw new RangeError('size must be a non-negative safe integer');
    let bits = 0;
    for (let s = state.size; s > 0; s = half(s)) if (isOdd(s)) bits++;
    if (!Array.isArray(state.peaks) || state.peaks.length !== bits || !state.peaks.every(isHash)) {
      throw new TypeError('peaks must be one 32-byte hash per set bit of size');
    }
    this.stack = state.peaks.map((p) => p.slice());
    this.count = state.size;
  }

  get size(): number {
    return this.count;
  }

  append(hash: Uint8Array): void {
    if (!isHash(hash)) throw new TypeError('leaf hash must be 32 bytes');
    if (this.count >= Number.MAX_SAFE_INTEGER) throw new RangeError('tree is full');
    let merged = hash;
    // Each trailing one bit of the old size is a peak of equal height to merge with.
    for (let s = this.count; isOdd(s); s = half(s)) merged = nodeHash(this.stack.pop() as Uint8Array, merged);
    this.stack.push(merged);
    this.count++;
  }

  root(): Uint8Array {
    if (this.stack.length === 0) return EMPTY_TREE_ROOT.slice();
    let r: Uint8Array = this.stack[this.stack.length - 1].slice();
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i], r);
    return r;
  }

  /** An independent copy, e.g. to compute a block's log root before committing it. */
  clone(): MerkleAccumulator {
    return new MerkleAccumulator(this.state());
  }

  /** What to persist to resume appending after a restart. */
  state(): MerkleAccumulatorState {
    return { size: this.count, peaks: this.stack.map((p) => p.slice()) };
  }
}
