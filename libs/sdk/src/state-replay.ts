import { ResultEntry, StateRow, bytesEqual, canonicalBytes } from '@alliance/protocol';
import { compareUtf8, strictBase64 } from './bytes';

/**
 * The world state a node must hold, replayed from verified result entries
 * (docs/protocol.md §14.3): every write of every VALID result, in block order,
 * the last write of a key winning. Then compared with every row the node
 * serves from GET /ledger/v1/state.
 */

interface ExpectedRow {
  /** Canonical bytes of the written value; null when the write deleted the key. */
  readonly value: Uint8Array | null;
  readonly version: number;
  readonly blockNumber: number;
  readonly transactionId: string;
}

export interface StateDifference {
  /** The block whose write the row should equal, or null for a row no verified block accounts for. */
  readonly blockNumber: number | null;
  readonly key: string;
  readonly detail: string;
}

export type StateVerdict =
  | { readonly ok: true; readonly rows: number; readonly newer: number }
  | { readonly ok: false; readonly difference: StateDifference; readonly others: number; readonly rows: number };

export interface StateCompareOptions {
  /** The last block verified: rows written after it cannot be checked yet. */
  readonly verifiedHead: number;
  /** Whether the node has block n (for rows that name blocks after the verified head). */
  readonly blockExists: (blockNumber: number) => Promise<boolean>;
  readonly onRow?: (rows: number) => void;
}

const decoder = new TextDecoder();

function short(hash: string): string {
  return hash.length > 16 ? `${hash.slice(0, 16)}…` : hash;
}

function valueText(bytes: Uint8Array | null): string {
  if (bytes === null) return 'null (deleted)';
  const text = decoder.decode(bytes);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function isRow(row: unknown): row is StateRow {
  const r = row as Partial<StateRow> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.key === 'string' &&
    (r.value === null || typeof r.value === 'string') &&
    Number.isSafeInteger(r.version) &&
    Number.isSafeInteger(r.blockNumber) &&
    typeof r.transactionId === 'string'
  );
}

export class StateReplay {
  private readonly expected = new Map<string, ExpectedRow>();

  /** Applies one verified block's results, in order. */
  apply(blockNumber: number, results: readonly ResultEntry[]): void {
    for (const result of results) {
      if (result.code !== 'VALID') continue;
      for (const w of result.writes) {
        this.expected.set(w.key, { value: w.value === null ? null : canonicalBytes(w.value), version: w.version, blockNumber, transactionId: result.transactionId });
      }
    }
  }

  get size(): number {
    return this.expected.size;
  }

  /** Compares every served row with the replay; reports the difference at the lowest block. */
  async compare(served: AsyncIterable<unknown>, options: StateCompareOptions): Promise<StateVerdict> {
    const differences: StateDifference[] = [];
    const seen = new Set<string>();
    const head = options.verifiedHead;
    let previous: string | null = null;
    let rows = 0;
    let newer = 0;
    for await (const row of served) {
      rows++;
      options.onRow?.(rows);
      if (!isRow(row)) {
        differences.push({ blockNumber: null, key: String((row as { key?: unknown } | null)?.key), detail: `the node serves a malformed state row ${JSON.stringify(row).slice(0, 200)}` });
        continue;
      }
      if (previous !== null && compareUtf8(row.key, previous) <= 0) {
        differences.push({ blockNumber: null, key: row.key, detail: `the node lists state key ${JSON.stringify(row.key)} out of key order or twice` });
        continue;
      }
      previous = row.key;
      seen.add(row.key);
      const want = this.expected.get(row.key);
      if (row.blockNumber > head) {
        // Written by a block committed after verification began: checkable on the next run, if that block exists.
        if (await options.blockExists(row.blockNumber)) {
          newer++;
          continue;
        }
      }
      const served = { value: row.value === null ? null : strictBase64(row.value), version: row.version, blockNumber: row.blockNumber, transactionId: row.transactionId };
      const described = `version ${row.version}, block ${row.blockNumber}, transaction ${short(row.transactionId)}`;
      if (want === undefined) {
        differences.push({
          blockNumber: row.blockNumber >= 0 && row.blockNumber <= head ? row.blockNumber : null,
          key: row.key,
          detail: `state key ${JSON.stringify(row.key)} (${described}) was written by no committed transaction of blocks 0–${head}: the row was added, or its key changed, by hand`,
        });
        continue;
      }
      const diffs: string[] = [];
      if (served.value === null && row.value !== null) diffs.push(`value ${JSON.stringify(row.value)} is not base64`);
      else if (served.value === null || want.value === null ? served.value !== want.value : !bytesEqual(served.value, want.value)) diffs.push(`value ${valueText(served.value)} (written: ${valueText(want.value)})`);
      if (served.version !== want.version) diffs.push(`version ${served.version} (written: ${want.version})`);
      if (served.blockNumber !== want.blockNumber) diffs.push(`block number ${served.blockNumber} (written in block ${want.blockNumber})`);
      if (served.transactionId !== want.transactionId) diffs.push(`transaction ${short(served.transactionId)} (written by ${short(want.transactionId)})`);
      if (diffs.length > 0) {
        differences.push({
          blockNumber: want.blockNumber,
          key: row.key,
          detail: `state key ${JSON.stringify(row.key)} differs from the write of transaction ${short(want.transactionId)} in block ${want.blockNumber}: ${diffs.join('; ')}`,
        });
      }
    }
    for (const [key, want] of this.expected) {
      if (seen.has(key)) continue;
      differences.push({
        blockNumber: want.blockNumber,
        key,
        detail: `state key ${JSON.stringify(key)}, written by transaction ${short(want.transactionId)} in block ${want.blockNumber} (version ${want.version}), is missing from the node's state`,
      });
    }
    if (differences.length === 0) return { ok: true, rows, newer };
    // The first bad block, as for blocks; differences no block accounts for come last.
    const rank = (d: StateDifference) => (d.blockNumber === null ? Number.MAX_SAFE_INTEGER : d.blockNumber);
    const first = [...differences].sort((a, b) => rank(a) - rank(b) || compareUtf8(a.key, b.key))[0];
    return { ok: false, difference: first, others: differences.length - 1, rows };
  }
}
