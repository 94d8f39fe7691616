import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configTx, fingerprint, isConfigTransaction, RecordStream, tx } from '../test/ordering-support';
import { BlockCutter, type BlockCutterConfig, type BlockCutterState, type CutBlock, cutterStateAfter, decodeTimeToCut, encodeTimeToCut, INITIAL_CUTTER_STATE } from './block-cutter';
import type { OrderedRecord } from './ordering';

const config = (maxTransactions: number, maxBytes: number): BlockCutterConfig => ({ maxTransactions, maxBytes, isConfigTransaction });
const ttc = (n: number) => encodeTimeToCut(n);
const feedAll = (cutter: BlockCutter, records: readonly OrderedRecord[]): CutBlock[] => records.flatMap((r) => cutter.feed(r));

describe('BlockCutter rules', () => {
  it('cuts when the batch reaches maxTransactions; the block carries the cutting record\'s timestamp and offsets', () => {
    const cutter = new BlockCutter(config(3, 1_000));
    const s = new RecordStream(10);
    const [a, b] = [s.add('transaction', tx(5)), s.add('transaction', tx(5))];
    expect(cutter.feed(a)).toEqual([]);
    expect(cutter.feed(b)).toEqual([]);
    expect(cutter.pendingSince()).toEqual({ offset: a.offset, timestamp: a.timestamp });
    const c = s.add('transaction', tx(5), 0, 250);
    const [block] = cutter.feed(c);
    expect(block).toEqual({ blockNumber: 1, records: [a, b, c], firstOffset: 10, lastOffset: 12, cutOffset: 12, timestamp: c.timestamp, reason: 'max-transactions' });
    expect(cutter.pendingSince()).toBeNull();
    expect(cutter.nextBlockNumber).toBe(2);
  });

  it('cuts the pending batch before a transaction that would exceed maxBytes; that transaction starts the next batch and is not consumed', () => {
    const cutter = new BlockCutter(config(100, 10));
    const s = new RecordStream();
    const a = s.add('transaction', tx(5));
    const b = s.add('transaction', tx(5)); // exactly 10: fits, no cut yet
    expect(feedAll(cutter, [a, b])).toEqual([]);
    const c = s.add('transaction', tx(1), 2); // offset 4 after a gap
    const [block] = cutter.feed(c);
    expect(block).toMatchObject({ blockNumber: 1, records: [a, b], firstOffset: 0, lastOffset: 3, cutOffset: 4, timestamp: c.timestamp, reason: 'max-bytes' });
    expect(cutter.pendingSince()?.offset).toBe(c.offset);
  });

  it('puts a transaction larger than maxBytes in a block of its own, after cutting the pending batch', () => {
    const cutter = new BlockCutter(config(100, 10));
    const s = new RecordStream();
    const a = s.add('transaction', tx(3));
    const big = s.add('transaction', tx(11));
    expect(cutter.feed(a)).toEqual([]);
    const blocks = cutter.feed(big);
    expect(blocks.map((b) => [b.blockNumber, b.records.map((r) => r.offset), b.firstOffset, b.lastOffset, b.reason, b.timestamp])).toEqual([
      [1, [0], 0, 0, 'max-bytes', big.timestamp],
      [2, [1], 1, 1, 'oversized-transaction', big.timestamp],
    ]);
    // Alone when nothing is pending.
    const alone = s.add('transaction', tx(50));
    expect(cutter.feed(alone).map((b) => [b.blockNumber, b.reason, b.records.length])).toEqual([[3, 'oversized-transaction', 1]]);
    expect(cutter.pendingSince()).toBeNull();
  });

  it('gives a configuration transaction a block of its own, flushing the pending batch first', () => {
    const cutter = new BlockCutter(config(100, 10));
    const s = new RecordStream();
    const a = s.add('transaction', tx(2));
    const c = s.add('transaction', configTx(40)); // larger than maxBytes: still a config block
    cutter.feed(a);
    expect(cutter.feed(c).map((b) => [b.blockNumber, b.records.map((r) => r.offset), b.lastOffset, b.cutOffset, b.reason])).toEqual([
      [1, [0], 0, 1, 'before-config-transaction'],
      [2, [1], 1, 1, 'config-transaction'],
    ]);
    const c2 = s.add('transaction', configTx(1));
    expect(cutter.feed(c2).map((b) => [b.blockNumber, b.reason])).toEqual([[3, 'config-transaction']]);
  });

  it('cuts on the first time-to-cut naming the pending batch\'s number, with the time-to-cut\'s timestamp', () => {
    const cutter = new BlockCutter(config(100, 1_000));
    const s = new RecordStream();
    const a = s.add('transaction', tx(1));
    const cut = s.add('time-to-cut', ttc(1), 0, 2_000);
    cutter.feed(a);
    expect(cutter.feed(cut)).toEqual([{ blockNumber: 1, records: [a], firstOffset: 0, lastOffset: 1, cutOffset: 1, timestamp: cut.timestamp, reason: 'time-to-cut' }]);
    // The same block number again (another node's timer): stale.
    const b = s.add('transaction', tx(1));
    expect(cutter.feed(b)).toEqual([]);
    expect(cutter.feed(s.add('time-to-cut', ttc(1)))).toEqual([]);
    expect(cutter.pendingTransactions).toBe(1);
    expect(cutter.feed(s.add('time-to-cut', ttc(2))).map((x) => x.blockNumber)).toEqual([2]);
  });

  it('ignores time-to-cut records that are stale, from the future, for an empty batch, or not canonical', () => {
    const cutter = new BlockCutter(config(100, 1_000), { nextBlockNumber: 7, lastOffset: 4 });
    const s = new RecordStream(5);
    // Right number but nothing pending: ignored, and the number does not move.
    expect(cutter.feed(s.add('time-to-cut', ttc(7)))).toEqual([]);
    cutter.feed(s.add('transaction', tx(1)));
    const text = (value: string) => new TextEncoder().encode(value);
    const ignored = [
      ttc(6),
      ttc(8),
      text('{"blockNumber": 7}'),
      text('{"blockNumber":07}'),
      text('{"blockNumber":7.0}'),
      text('{"blockNumber":"7"}'),
      text(' {"blockNumber":7}'),
      text('\ufeff{"blockNumber":7}'),
      text('{"blockNumber":7,"x":1}'),
      text('{"blockNumber":-7}'),
      text('{"blockNumber":99999999999999999}'),
      new Uint8Array([0x7b, 0xff, 0x7d]),
      new Uint8Array(),
    ];
    for (const bytes of ignored) expect(cutter.feed(s.add('time-to-cut', bytes))).toEqual([]);
    expect(cutter.nextBlockNumber).toBe(7);
    expect(cutter.feed(s.add('time-to-cut', ttc(7))).map((b) => b.blockNumber)).toEqual([7]);
  });

  it('ignores header signatures but counts them as consumed', () => {
    const cutter = new BlockCutter(config(2, 1_000));
    const s = new RecordStream();
    const a = s.add('transaction', tx(1));
    s.add('header-signature', tx(64, 9));
    const b = s.add('transaction', tx(1));
    const blocks = feedAll(cutter, s.records);
    expect(blocks.map((x) => x.records)).toEqual([[a, b]]);
    expect(cutter.lastFedOffset).toBe(2);
  });

  it('leaves records the chain does not accept out of every block: they neither count nor cut, and are consumed', () => {
    const garbage = 0xee;
    const cutter = new BlockCutter({ ...config(2, 10), acceptsTransaction: (bytes) => bytes[0] !== garbage });
    const s = new RecordStream();
    const a = s.add('transaction', tx(5));
    s.add('transaction', tx(50, garbage)); // larger than maxBytes, and a would-be config marker below: neither matters
    s.add('transaction', new Uint8Array([garbage, 0xc0]));
    const b = s.add('transaction', tx(5));
    s.add('transaction', tx(1, garbage));
    const blocks = feedAll(cutter, s.records);
    expect(blocks).toEqual([{ blockNumber: 1, records: [a, b], firstOffset: 0, lastOffset: 3, cutOffset: 3, timestamp: b.timestamp, reason: 'max-transactions' }]);
    expect(cutter.lastFedOffset).toBe(4);
    expect(cutter.pendingSince()).toBeNull();
    // A restart after block 1 re-reads offset 4 and skips it again.
    const restarted = new BlockCutter({ ...config(2, 10), acceptsTransaction: (bytes) => bytes[0] !== garbage }, cutterStateAfter(blocks[0]));
    expect(feedAll(restarted, s.records.slice(4))).toEqual([]);
    expect(restarted.pendingSince()).toBeNull();
  });

  it('refuses records out of order, twice, before the restored offset, or malformed, without changing state', () => {
    const cutter = new BlockCutter(config(5, 100), { nextBlockNumber: 3, lastOffset: 9 });
    const ok: OrderedRecord = { offset: 10, timestamp: '2026-11-26T08:00:00.000Z', kind: 'transaction', bytes: tx(1) };
    expect(() => cutter.feed({ ...ok, offset: 9 })).toThrow(RangeError);
    expect(() => cutter.feed({ ...ok, offset: 10.5 })).toThrow(RangeError);
    expect(() => cutter.feed({ ...ok, timestamp: '2026-11-26T08:00:00Z' })).toThrow(TypeError);
    expect(() => cutter.feed({ ...ok, timestamp: '2026-11-26T08:00:00.000+00:00' })).toThrow(TypeError);
    expect(() => cutter.feed({ ...ok, kind: 'other' as OrderedRecord['kind'] })).toThrow(TypeError);
    cutter.feed(ok);
    expect(() => cutter.feed(ok)).toThrow(/does not follow/);
    expect(cutter.pendingTransactions).toBe(1);
  });

  it('stays consistent when isConfigTransaction throws', () => {
    let fail = true;
    const cutter = new BlockCutter({ maxTransactions: 1, maxBytes: 10, isConfigTransaction: () => { if (fail) throw new Error('boom'); return false; } });
    const record: OrderedRecord = { offset: 0, timestamp: '2026-11-26T08:00:00.000Z', kind: 'transaction', bytes: tx(1) };
    expect(() => cutter.feed(record)).toThrow('boom');
    fail = false;
    expect(cutter.feed(record).map((b) => b.blockNumber)).toEqual([1]);
  });

  it('validates its configuration and restored state', () => {
    expect(() => new BlockCutter(config(0, 10))).toThrow(RangeError);
    expect(() => new BlockCutter(config(1, 0))).toThrow(RangeError);
    expect(() => new BlockCutter(config(1.5, 10))).toThrow(RangeError);
    expect(() => new BlockCutter(config(1, 10), { nextBlockNumber: -1, lastOffset: -1 })).toThrow(RangeError);
    expect(() => new BlockCutter(config(1, 10), { nextBlockNumber: 1, lastOffset: -2 })).toThrow(RangeError);
    expect(new BlockCutter(config(1, 10)).nextBlockNumber).toBe(INITIAL_CUTTER_STATE.nextBlockNumber);
  });
});

describe('time-to-cut payload', () => {
  it('is the canonical JSON {"blockNumber":n} in UTF-8 and round-trips', () => {
    expect(new TextDecoder().decode(encodeTimeToCut(42))).toBe('{"blockNumber":42}');
    for (const n of [0, 1, 9, 10, 123_456, Number.MAX_SAFE_INTEGER]) expect(decodeTimeToCut(encodeTimeToCut(n))).toBe(n);
    expect(() => encodeTimeToCut(-1)).toThrow(RangeError);
    expect(() => encodeTimeToCut(1.5)).toThrow(RangeError);
    expect(decodeTimeToCut(new TextEncoder().encode(`{"blockNumber":${Number.MAX_SAFE_INTEGER + 1}}`))).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// Determinism under restarts: the property the whole consortium rests on.

type Op =
  | { kind: 'tx'; size: number; config: boolean }
  | { kind: 'ttc'; delta: number }
  | { kind: 'garbage-ttc' }
  | { kind: 'sig' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('tx' as const), size: fc.integer({ min: 0, max: 48 }), config: fc.constant(false) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tx' as const), size: fc.integer({ min: 1, max: 48 }), config: fc.constant(true) }) },
  // delta 0 is the right number; -1/-2 stale; +1 from the future (a buggy or hostile node).
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ttc' as const), delta: fc.integer({ min: -2, max: 1 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'garbage-ttc' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'sig' as const }) },
);

const scenarioArb = fc.record({
  maxTransactions: fc.integer({ min: 1, max: 6 }),
  maxBytes: fc.integer({ min: 1, max: 60 }),
  nextBlockNumber: fc.integer({ min: 0, max: 3 }),
  firstOffset: fc.integer({ min: 0, max: 5 }),
  ops: fc.array(fc.tuple(opArb, fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1_500 })), { maxLength: 80 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

/** Turns abstract ops into log records; time-to-cut numbers are resolved against a cutter running alongside. */
function materialize(scenario: Scenario): { cfg: BlockCutterConfig; start: BlockCutterState; records: OrderedRecord[] } {
  const cfg = config(scenario.maxTransactions, scenario.maxBytes);
  const start: BlockCutterState = { nextBlockNumber: scenario.nextBlockNumber, lastOffset: scenario.firstOffset - 1 };
  const running = new BlockCutter(cfg, start);
  const s = new RecordStream(scenario.firstOffset);
  for (const [op, gap, advanceMs] of scenario.ops) {
    let record: OrderedRecord;
    if (op.kind === 'tx') record = s.add('transaction', op.config ? configTx(op.size) : tx(op.size, 1 + (s.records.length % 200)), gap, advanceMs);
    else if (op.kind === 'ttc') record = s.add('time-to-cut', ttc(Math.max(0, running.nextBlockNumber + op.delta)), gap, advanceMs);
    else if (op.kind === 'garbage-ttc') record = s.add('time-to-cut', new TextEncoder().encode(`{"blockNumber": ${running.nextBlockNumber}}`), gap, advanceMs);
    else record = s.add('header-signature', tx(8, 7), gap, advanceMs);
    running.feed(record);
  }
  return { cfg, start, records: s.records };
}

/** Resuming from a committed block reads from its lastOffset + 1, exactly like the driver. */
function resume(cfg: BlockCutterConfig, state: BlockCutterState, records: readonly OrderedRecord[]): CutBlock[] {
  return feedAll(new BlockCutter(cfg, state), records.filter((r) => r.offset > state.lastOffset));
}

describe('BlockCutter determinism (property)', () => {
  it('a node restarted at any record boundary, with any committed prefix, cuts byte-identical blocks', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { cfg, start, records } = materialize(scenario);
        const reference = feedAll(new BlockCutter(cfg, start), records);
        const expected = fingerprint(reference);

        // Crash after feeding k records, with every block those records cut committed.
        for (let k = 0; k <= records.length; k += 1) {
          const crashed = new BlockCutter(cfg, start);
          const before = feedAll(crashed, records.slice(0, k));
          const state = before.length > 0 ? cutterStateAfter(before.at(-1)!) : start;
          expect(fingerprint([...before, ...resume(cfg, state, records)])).toBe(expected);
        }
        // A crash can also land between two blocks cut by one record, or before queued blocks were
        // committed: every committed prefix of the reference must resume identically.
        for (let j = 0; j <= reference.length; j += 1) {
          const state = j === 0 ? start : cutterStateAfter(reference[j - 1]);
          expect(fingerprint([...reference.slice(0, j), ...resume(cfg, state, records)])).toBe(expected);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('survives several restarts in a row', () => {
    fc.assert(
      fc.property(scenarioArb, fc.array(fc.nat(), { maxLength: 6 }), (scenario, crashes) => {
        const { cfg, start, records } = materialize(scenario);
        const expected = fingerprint(feedAll(new BlockCutter(cfg, start), records));
        const committed: CutBlock[] = [];
        let state = start;
        for (const crash of crashes) {
          const remaining = records.filter((r) => r.offset > state.lastOffset);
          const cutter = new BlockCutter(cfg, state);
          const cut = feedAll(cutter, remaining.slice(0, remaining.length === 0 ? 0 : crash % (remaining.length + 1)));
          // Only some of the cut blocks made it to the database before the crash.
          const kept = cut.slice(0, cut.length === 0 ? 0 : crash % (cut.length + 1));
          committed.push(...kept);
          if (kept.length > 0) state = cutterStateAfter(kept.at(-1)!);
        }
        committed.push(...resume(cfg, state, records));
        expect(fingerprint(committed)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the structural invariants: every transaction once, in order; limits; config alone; consecutive numbers', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { cfg, start, records } = materialize(scenario);
        const cutter = new BlockCutter(cfg, start);
        const blocks = feedAll(cutter, records);
        const inBlocks = blocks.flatMap((b) => b.records);
        const transactions = records.filter((r) => r.kind === 'transaction');
        // Everything cut is a prefix of the transactions; the rest is pending.
        expect(inBlocks).toEqual(transactions.slice(0, inBlocks.length));
        expect(cutter.pendingTransactions).toBe(transactions.length - inBlocks.length);
        blocks.forEach((block, i) => {
          expect(block.blockNumber).toBe(start.nextBlockNumber + i);
          expect(block.records.length).toBeGreaterThan(0);
          expect(block.records.length).toBeLessThanOrEqual(cfg.maxTransactions);
          const bytes = block.records.reduce((sum, r) => sum + r.bytes.length, 0);
          if (block.records.length > 1) expect(bytes).toBeLessThanOrEqual(cfg.maxBytes);
          const configs = block.records.filter((r) => isConfigTransaction(r.bytes)).length;
          if (configs > 0) expect(block.records.length).toBe(1);
          expect(block.firstOffset).toBe(block.records[0].offset);
          expect(block.lastOffset).toBeGreaterThanOrEqual(block.records.at(-1)!.offset);
          expect(block.cutOffset - block.lastOffset).toBeLessThanOrEqual(1);
          expect(records.find((r) => r.offset === block.cutOffset)?.timestamp).toBe(block.timestamp);
          if (i > 0) {
            expect(block.firstOffset).toBeGreaterThan(blocks[i - 1].lastOffset);
            expect(block.timestamp >= blocks[i - 1].timestamp).toBe(true);
          }
        });
      }),
      { numRuns: 400 },
    );
  });
});
