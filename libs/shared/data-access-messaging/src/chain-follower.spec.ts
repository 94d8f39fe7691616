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
