import { AllianceError } from '@alliance/shared/util-errors';
import { LedgerErrors, type LedgerNode } from './ledger-node';
import { type BlockView, LedgerQueries } from './ledger-queries';

export interface CertifiedBlocksOptions {
  /** First block to deliver; earlier certified blocks from here are replayed from the store, then live ones follow. Default: the next block certified. */
  readonly from?: number;
  /** Most certified blocks a subscription may replay; further behind is refused (page with the blocks query instead). */
  readonly replayLimit: number;
}

/** Blocks read from the store per round trip while catching up. */
const BATCH = 50;

/**
 * Every block of this node's chain in order, each once it is certified:
 * first the already certified ones from `from` (read from the block store),
 * then each newly certified one, without a gap or a repeat. Listens to the
 * node's `certified` events from outside the node. Pull-based: a slow
 * consumer only delays its own reads, nothing queues up in memory.
 * Arguments are checked at once (before the first `next()`), so a bad `from`
 * is an error of the subscription itself.
 */
export function certifiedBlocks(node: LedgerNode, options: CertifiedBlocksOptions): AsyncIterableIterator<BlockView> {
  const head = node.certifiedBlock;
  const { from, replayLimit } = options;
  if (from !== undefined) {
    if (!Number.isSafeInteger(from) || from < 0) throw new AllianceError('LEDGER.INVALID_PARAMETER', 'invalid', 'from must be a block number >= 0');
    const behind = head - from + 1;
    if (behind > replayLimit) {
      throw new AllianceError(
        'LEDGER.REPLAY_LIMIT_EXCEEDED',
        'invalid',
        `block ${from} is ${behind} certified blocks behind the head (${head}); a subscription replays at most ${replayLimit}: read older blocks with ledgerBlocks(from, limit) and subscribe from a later block`,
        { details: { from, certifiedHead: head, replayLimit } },
      );
    }
  }
  if (node.haltReason) throw LedgerErrors.halted(node.haltReason);
  const stop = new AbortController();
  const blocks = follow(node, from ?? head + 1, stop.signal);
  return {
    next: () => blocks.next(),
    // Wakes a generator parked waiting for the next certification, so leaving takes effect at once.
    return: (value?: unknown) => {
      stop.abort();
      return blocks.return(value as undefined);
    },
    throw: (error?: unknown) => {
      stop.abort();
      return blocks.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* follow(node: LedgerNode, first: number, stop: AbortSignal): AsyncGenerator<BlockView, undefined, undefined> {
  const queries = new LedgerQueries(node);
  let next = first;
  let changed = false;
  let halted: string | undefined;
  let wake: (() => void) | undefined;
  const onChange = () => {
    changed = true;
    wake?.();
  };
  const onAlert = (alert: { reason?: string }) => {
    halted = alert.reason ?? 'halted';
    onChange();
  };
  node.events.on('certified', onChange);
  node.events.on('alert', onAlert);
  stop.addEventListener('abort', onChange);
  try {
    while (!stop.aborted) {
      changed = false;
      const head = node.certifiedBlock;
      catchUp: while (next <= head && !stop.aborted) {
        const { items } = await queries.blocks(next, Math.min(BATCH, head - next + 1));
        for (const block of items) {
          // Blocks have no gaps; should the store ever disagree, wait and look again rather than skip one.
          if (block.blockNumber !== next) break catchUp;
          if (stop.aborted) break catchUp;
          yield block;
          next++;
        }
        if (items.length === 0) break;
      }
      if (halted) throw LedgerErrors.halted(halted);
      if (!changed && !stop.aborted) {
        // Woken by the next certification; a timer re-checks at least every second as a safety net.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1_000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  } finally {
    node.events.off('certified', onChange);
    node.events.off('alert', onAlert);
    stop.removeEventListener('abort', onChange);
  }
  return undefined;
}
