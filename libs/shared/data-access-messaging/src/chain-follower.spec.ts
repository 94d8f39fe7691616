import { describe, expect, it } from 'vitest';
import { type BlockProjection, ChainFollower, type CommittedBlock, type LedgerBlockSource } from './chain-follower';

const block = (blockNumber: number): CommittedBlock => ({ chainId: 'c', blockNumber, headerHash: 'h', committedAt: '2026-12-06T00:00:00Z', transactions: [] });

/** A projection in memory and a ledger of `head + 1` blocks whose reads wait for `gate` to open. */
function setup(head: number) {
  let last = -1;
  const applied: number[] = [];
  let open: () => void = () => undefined;
  let gate = new Promise<void>((r) => (open = r));
  const projection: BlockProjection = {
    lastBlock: async () => last,
    apply: async (b) => {
      if (b.blockNumber !== last + 1) return 'gap';
      last = b.blockNumber;
      applied.push(b.blockNumber);
      return 'applied';
    },
  };
  const ledger = { block: async (n: number) => (await gate, n <= head ? block(n) : null) } as unknown as LedgerBlockSource;
  const follower = new ChainFollower({ projection, pool: {} as never, schema: 's', service: 'TEST', group: 'g', nodeId: 'n', chainId: 'c', ledger, pollIntervalMs: 0, logger: () => undefined });
  return {
    follower,
    applied,
    reset: async () => {
      last = -1;
    },
    release: () => open(),
    hold: () => (gate = new Promise<void>((r) => (open = r))),
  };
}

describe('ChainFollower.rebuild', () => {
  it('lets a catch-up in flight finish before the reset, then applies every block again from the first', async () => {
    const t = setup(2);
    t.release();
    expect(await t.follower.catchUp()).toBe(2);
    t.hold();
    // A poll asks for more while nothing is new: it has read the position (2) and waits on the node.
    const poll = t.follower.catchUp();
    const rebuilt = t.follower.rebuild(t.reset);
    t.release();
    expect(await poll).toBe(2);
    expect(await rebuilt).toBe(2);
    expect(t.applied).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('a catch-up asked for during the reset joins it instead of starting from the old position', async () => {
    const t = setup(1);
    t.release();
    await t.follower.catchUp();
    let resetDone: () => void = () => undefined;
    const slowReset = () => new Promise<void>((r) => (resetDone = () => t.reset().then(r)));
    const rebuilt = t.follower.rebuild(slowReset);
    await new Promise((r) => setImmediate(r));
    const joined = t.follower.catchUp();
    resetDone();
    expect(await joined).toBe(-1);
    expect(await rebuilt).toBe(1);
    expect(t.applied).toEqual([0, 1, 0, 1]);
  });
});

describe('ChainFollower.announced', () => {
  /**
   * A projection whose `apply` in a consumer's transaction holds the position
   * (SELECT … FOR UPDATE) until that transaction ends, as the real cursor does:
   * an apply in a transaction of its own waits for it.
   */
  function lockingSetup(head: number, rebuiltMeanwhile = false) {
    let last = -1;
    const applied: number[] = [];
    let holder: unknown;
    let released: () => void = () => undefined;
    let freed = Promise.resolve();
    const projection: BlockProjection = {
      lastBlock: async () => last,
      apply: async (b, client) => {
        while (holder !== undefined && holder !== client) await freed;
        if (client !== undefined && holder === undefined) {
          if (rebuiltMeanwhile) last = -1;
          holder = client;
          freed = new Promise<void>((r) => (released = r));
        }
        if (b.blockNumber <= last) return 'duplicate';
        if (b.blockNumber !== last + 1) return 'gap';
        last = b.blockNumber;
        applied.push(b.blockNumber);
        return 'applied';
      },
    };
    const ledger = { block: async (n: number) => (n <= head ? block(n) : null) } as unknown as LedgerBlockSource;
    const follower = new ChainFollower({ projection, pool: {} as never, schema: 's', service: 'TEST', group: 'g', nodeId: 'n', chainId: 'c', ledger, pollIntervalMs: 0, logger: () => undefined });
    const commit = () => {
      holder = undefined;
      released();
    };
    return { follower, applied, commit };
  }

  it('fills a gap from the node before it takes the position in the consumer’s transaction, so the two never wait on each other', async () => {
    const t = lockingSetup(3);
    const client = {} as never;
    const outcome = await Promise.race([t.follower.announced(block(3), client).then(() => 'done'), new Promise((r) => setTimeout(() => r('stuck'), 2_000))]);
    t.commit();
    expect(outcome).toBe('done');
    expect(t.applied).toEqual([0, 1, 2, 3]);
  });

  it('answers a gap still there after the catch-up (a rebuild emptied the read model meanwhile) as retryable, applying nothing out of order', async () => {
    const t = lockingSetup(3, true);
    await expect(t.follower.announced(block(3), {} as never)).rejects.toMatchObject({ code: 'TEST.GAP', kind: 'unavailable' });
    t.commit();
    expect(t.applied).toEqual([0, 1, 2]);
  });
});
