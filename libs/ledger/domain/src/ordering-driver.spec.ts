import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { configTx, EPOCH_MS, eventually, fingerprint, flush, isConfigTransaction, ManualClock, tx } from '../test/ordering-support';
import { BlockCutter, type BlockCutterConfig, type BlockCutterState, type CutBlock, decodeTimeToCut, encodeTimeToCut, INITIAL_CUTTER_STATE } from './block-cutter';
import { InMemoryOrderingLog } from './in-memory-ordering-log';
import type { OrderedRecord, RecordToAppend } from './ordering';
import { OrderingDriver, type OrderingDriverOptions } from './ordering-driver';

const cutterConfig = (maxTransactions: number, maxBytes = 1_000_000): BlockCutterConfig => ({ maxTransactions, maxBytes, isConfigTransaction });
const txs = (n: number, size = 10): RecordToAppend[] => Array.from({ length: n }, (_, i) => ({ kind: 'transaction' as const, bytes: tx(size, 1 + (i % 100)) }));

interface Node {
  readonly driver: OrderingDriver;
  readonly blocks: CutBlock[];
  readonly consumed: number[];
  readonly signatures: OrderedRecord[];
}

const running: OrderingDriver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

async function startNode(options: Partial<OrderingDriverOptions> & Pick<OrderingDriverOptions, 'log'>): Promise<Node> {
  const blocks: CutBlock[] = [];
  const consumed: number[] = [];
  const signatures: OrderedRecord[] = [];
  const driver = new OrderingDriver({
    cutter: cutterConfig(3),
    state: INITIAL_CUTTER_STATE,
    batchTimeoutMs: 1_000,
    commit: async (block, consumedOffset) => {
      blocks.push(block);
      consumed.push(consumedOffset);
    },
    onHeaderSignature: async (record) => {
      signatures.push(record);
    },
    ...options,
  });
  running.push(driver);
  await driver.start();
  return { driver, blocks, consumed, signatures };
}

describe('OrderingDriver', () => {
  it('reads from the stored offset, cuts and commits blocks in order with their consumed offset', async () => {
    const log = new InMemoryOrderingLog({ batchSize: 4 });
    await log.append(txs(7));
    const node = await startNode({ log, clock: new ManualClock() });
    await eventually('two blocks', () => node.blocks.length === 2);
    expect(node.blocks.map((b) => [b.blockNumber, b.firstOffset, b.lastOffset])).toEqual([
      [1, 0, 2],
      [2, 3, 5],
    ]);
    expect(node.consumed).toEqual([2, 5]);
    expect(node.driver.committedState).toEqual({ nextBlockNumber: 3, lastOffset: 5 });

    // A restarted node resumes at lastOffset + 1 and re-reads the pending transaction.
    await node.driver.stop();
    await log.append(txs(2));
    const again = await startNode({ log, state: node.driver.committedState, clock: new ManualClock() });
    await eventually('block 3', () => again.blocks.length === 1);
    expect(again.blocks[0]).toMatchObject({ blockNumber: 3, firstOffset: 6, lastOffset: 8 });
  });

  it('appends a time-to-cut for the pending block when the batch timer fires, and the block carries the log\'s timestamp', async () => {
    const clock = new ManualClock();
    const log = new InMemoryOrderingLog({ now: () => EPOCH_MS + clock.now });
    const node = await startNode({ log, clock, batchTimeoutMs: 500 });
    await log.append(txs(2));
    await flush();
    await clock.advance(499);
    expect(log.records().filter((r) => r.kind === 'time-to-cut')).toHaveLength(0);
    await clock.advance(1);
    await eventually('block 1', () => node.blocks.length === 1);
    const ttc = log.records().find((r) => r.kind === 'time-to-cut')!;
    expect(decodeTimeToCut(ttc.bytes)).toBe(1);
    expect(node.blocks[0]).toMatchObject({ blockNumber: 1, reason: 'time-to-cut', cutOffset: ttc.offset, lastOffset: ttc.offset, timestamp: new Date(EPOCH_MS + 500).toISOString() });
    expect(node.driver.stats.timeToCutPosted).toBe(1);
    // Nothing pending: the timer is disarmed and nothing more is posted.
    await clock.advance(5_000);
    expect(log.records()).toHaveLength(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('restarts the timer for each new batch and never posts for a batch cut by size', async () => {
    const clock = new ManualClock();
    const log = new InMemoryOrderingLog({ now: () => EPOCH_MS + clock.now });
    const node = await startNode({ log, clock, batchTimeoutMs: 1_000 });
    await log.append(txs(2));
    await clock.advance(800);
    await log.append(txs(1)); // third: cut by count at 800 ms
    await eventually('block 1', () => node.blocks.length === 1);
    await clock.advance(700); // the old timer would have fired at 1000
    expect(log.records().some((r) => r.kind === 'time-to-cut')).toBe(false);
    await log.append(txs(1));
    await clock.advance(999);
    expect(log.records().some((r) => r.kind === 'time-to-cut')).toBe(false);
    await clock.advance(1);
    await eventually('block 2 by time-to-cut', () => node.blocks.length === 2);
    expect(node.blocks[1].reason).toBe('time-to-cut');
  });

  it('three nodes with their own timers cut identical blocks; the first time-to-cut wins, the others are stale', async () => {
    const clock = new ManualClock();
    const log = new InMemoryOrderingLog({ now: () => EPOCH_MS + clock.now, batchSize: 3 });
    const nodes = await Promise.all([0, 1, 2].map(() => startNode({ log, clock, batchTimeoutMs: 200, cutter: cutterConfig(4, 100) })));
    for (let round = 0; round < 20; round += 1) {
      await log.append(txs(1 + (round % 5), 15 + round));
      if (round % 4 === 0) await log.append([{ kind: 'transaction', bytes: configTx(8) }]);
      // A late duplicate from a slow node: stale by the time anyone reads it.
      if (round === 10) await log.append([{ kind: 'time-to-cut', bytes: encodeTimeToCut(1) }]);
      await clock.advance(round % 3 === 0 ? 250 : 60);
    }
    await clock.advance(1_000);
    await eventually('all transactions in blocks', () => nodes.every((n) => n.blocks.flatMap((b) => b.records).length === log.records().filter((r) => r.kind === 'transaction').length));
    const [a, b, c] = nodes.map((n) => fingerprint(n.blocks));
    expect(b).toBe(a);
    expect(c).toBe(a);
    const timeToCuts = log.records().filter((r) => r.kind === 'time-to-cut');
    const cutByTimer = nodes[0].blocks.filter((x) => x.reason === 'time-to-cut').length;
    expect(cutByTimer).toBeGreaterThan(0);
    expect(timeToCuts.length).toBeGreaterThan(cutByTimer); // the stale duplicate was ignored by all three
  });

  it('retries a failed commit with backoff, in order, without losing or repeating a block', async () => {
    const clock = new ManualClock();
    const log = new InMemoryOrderingLog();
    await log.append(txs(9));
    let failures = 2;
    const committed: number[] = [];
    const node = await startNode({
      log,
      clock,
      retry: { initialMs: 100, maxMs: 1_000 },
      commit: async (block) => {
        if (block.blockNumber === 2 && failures > 0) {
          failures -= 1;
          throw new Error('database unavailable');
        }
        committed.push(block.blockNumber);
      },
    });
    await eventually('block 1', () => committed.length === 1);
    await clock.advance(100);
    expect(committed).toEqual([1]);
    await clock.advance(200);
    await eventually('all blocks', () => committed.length === 3);
    expect(committed).toEqual([1, 2, 3]);
    expect(node.driver.stats.commitRetries).toBe(2);
    expect(node.driver.committedState).toEqual({ nextBlockNumber: 4, lastOffset: 8 });
  });

  it('halts on a fatal error: stops reading and reports it through whenStopped()', async () => {
    const log = new InMemoryOrderingLog();
    await log.append(txs(9));
    const fork = new Error('fork at block 2');
    const committed: number[] = [];
    const node = await startNode({
      log,
      clock: new ManualClock(),
      isFatal: (error) => error === fork,
      commit: async (block) => {
        if (block.blockNumber === 2) throw fork;
        committed.push(block.blockNumber);
      },
    });
    await expect(node.driver.whenStopped()).rejects.toBe(fork);
    await log.append(txs(6));
    await flush();
    expect(committed).toEqual([1]);
    expect(node.driver.committedState.nextBlockNumber).toBe(2);
  });

  it('halts when a record cannot be cut (isConfigTransaction throws): never skips it', async () => {
    const log = new InMemoryOrderingLog();
    await log.append(txs(2));
    const node = await startNode({
      log,
      clock: new ManualClock(),
      cutter: { maxTransactions: 1, maxBytes: 100, isConfigTransaction: (bytes) => { if (bytes[0] === 2) throw new Error('undecidable'); return false; } },
    });
    await expect(node.driver.whenStopped()).rejects.toThrow('undecidable');
    expect(node.blocks.map((b) => b.blockNumber)).toEqual([1]);
  });

  it('does not read ahead of commits by more than maxUncommittedBlocks', async () => {
    const log = new InMemoryOrderingLog({ batchSize: 50 });
    await log.append(txs(500));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const calls: number[] = [];
    const node = await startNode({
      log,
      clock: new ManualClock(),
      cutter: cutterConfig(1),
      maxUncommittedBlocks: 4,
      commit: async (block) => {
        calls.push(block.blockNumber);
        await gate;
      },
    });
    await flush(100);
    expect(calls).toEqual([1]);
    // The cutter has consumed at most the queued blocks' records.
    expect(node.driver.nextBlockNumber).toBeLessThanOrEqual(1 + 4);
    release();
    await eventually('all commits', () => node.driver.committedState.nextBlockNumber === 501);
    expect(calls).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  });

  it('hands header signatures over in log order, after the blocks cut before them', async () => {
    const log = new InMemoryOrderingLog();
    const events: string[] = [];
    await log.append([...txs(3), { kind: 'header-signature', bytes: tx(4, 5) }, ...txs(1)]);
    await startNode({
      log,
      clock: new ManualClock(),
      commit: async (block) => {
        await flush(3);
        events.push(`block ${block.blockNumber}`);
      },
      onHeaderSignature: async (record) => {
        events.push(`signature @${record.offset}`);
      },
    });
    await eventually('two events', () => events.length === 2);
    expect(events).toEqual(['block 1', 'signature @3']);
  });

  it('re-posts a time-to-cut when the append failed', async () => {
    const clock = new ManualClock();
    let refuse = true;
    const log = new InMemoryOrderingLog({
      now: () => EPOCH_MS + clock.now,
      beforeAppend: (records) => {
        if (refuse && records[0].kind === 'time-to-cut') throw new Error('broker away');
      },
    });
    const node = await startNode({ log, clock, batchTimeoutMs: 300 });
    await log.append(txs(1));
    await clock.advance(300);
    expect(node.driver.stats.timeToCutFailed).toBe(1);
    refuse = false;
    await clock.advance(300);
    await eventually('block 1', () => node.blocks.length === 1);
    expect(node.driver.stats.timeToCutPosted).toBe(1);
  });

  it('refuses to start from an offset beyond the log', async () => {
    const log = new InMemoryOrderingLog();
    await log.append(txs(2));
    const driver = new OrderingDriver({ log, cutter: cutterConfig(3), state: { nextBlockNumber: 9, lastOffset: 5 }, batchTimeoutMs: 100, commit: async () => undefined });
    await expect(driver.start()).rejects.toMatchObject({ code: 'LEDGER.ORDERING_OFFSET_OUT_OF_RANGE' });
  });
});

describe('OrderingDriver determinism under restarts (property)', () => {
  it('nodes stopped at random moments and restarted from their committed state cut the same blocks as one that never stopped', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxTransactions: fc.integer({ min: 1, max: 5 }),
          maxBytes: fc.integer({ min: 5, max: 60 }),
          appends: fc.array(fc.array(fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constant(-1)), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 25 }),
          stops: fc.array(fc.integer({ min: 0, max: 24 }), { maxLength: 5 }),
          batchSize: fc.integer({ min: 1, max: 7 }),
        }),
        async ({ maxTransactions, maxBytes, appends, stops, batchSize }) => {
          const clock = new ManualClock();
          const log = new InMemoryOrderingLog({ now: () => EPOCH_MS + clock.now, batchSize });
          const cutter: BlockCutterConfig = { maxTransactions, maxBytes, isConfigTransaction };
          const steady = await startNode({ log, clock, cutter, batchTimeoutMs: 100, maxUncommittedBlocks: 2 });

          // The restarted node commits slowly, so stops catch blocks still queued.
          const restartedBlocks: CutBlock[] = [];
          let state: BlockCutterState = INITIAL_CUTTER_STATE;
          const startRestarted = () =>
            startNode({
              log,
              clock,
              cutter,
              state,
              batchTimeoutMs: 100,
              maxUncommittedBlocks: 2,
              commit: async (block) => {
                await flush(1);
                restartedBlocks.push(block);
              },
            });
          let restarted = await startRestarted();
          for (const [i, sizes] of appends.entries()) {
            await log.append(sizes.map((size) => ({ kind: 'transaction' as const, bytes: size < 0 ? configTx(3) : tx(size, 1 + i) })));
            await clock.advance(i % 2 === 0 ? 30 : 120);
            if (stops.includes(i)) {
              await restarted.driver.stop();
              state = restarted.driver.committedState;
              restarted = await startRestarted();
            }
          }
          await clock.advance(500);
          const total = log.records().filter((r) => r.kind === 'transaction').length;
          await eventually('steady node done', () => steady.blocks.flatMap((b) => b.records).length === total);
          await eventually('restarted node done', () => restartedBlocks.flatMap((b) => b.records).length === total);
          expect(fingerprint(restartedBlocks)).toBe(fingerprint(steady.blocks));
          // And both equal a plain cutter over the whole log.
          const reference = new BlockCutter(cutter, INITIAL_CUTTER_STATE);
          expect(fingerprint(steady.blocks)).toBe(fingerprint(log.records().flatMap((r) => reference.feed(r))));
          await Promise.all(running.splice(0).map((d) => d.stop()));
        },
      ),
      { numRuns: 60 },
    );
  });
});
