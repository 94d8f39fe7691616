import type { BlockHeader } from '@alliance/protocol';

/** A peer's block as its REST API serves it: header, signatures (with checkpoint signatures) and the exact envelope bytes. */
export interface PeerBlock {
  readonly header: BlockHeader;
  readonly signatures: ReadonlyArray<{ readonly organizationId: string; readonly keyId: string; readonly algorithm: string; readonly value: string; readonly checkpointSignature: string }>;
  readonly records: readonly Uint8Array[];
}

/** What the bootstrap needs of the node (LedgerNode implements it). */
export interface BootstrapTarget {
  readonly headBlock: number;
  importCertifiedBlock(block: PeerBlock): Promise<void>;
}

type Log = (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;

const PAGE = 100;
const REQUEST_TIMEOUT_MS = 15_000;

interface BlockPage {
  items: Array<{
    blockNumber: number;
    header: BlockHeader;
    certified: boolean;
    signatures: Array<{ organizationId: string; keyId: string; algorithm: string; value: string }>;
    stored: { signatures: Array<{ organizationId: string; checkpointSignature: string }> };
  }>;
}

interface BlockTransactions {
  transactions: Array<{ position: number; envelope: string }>;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/**
 * Copies the certified blocks this node lacks from its peers, in order, until
 * the first block a peer has not certified yet (the ordering log brings the
 * rest). The peer is not trusted: the node re-executes every block and
 * requires the same header, certified by the members before it
 * (`importCertifiedBlock`). A peer that cannot be reached, or serves a block
 * the node refuses, is left for the next one. Returns how many blocks were imported.
 */
export async function bootstrapFromPeers(node: BootstrapTarget, peers: readonly string[], log: Log): Promise<number> {
  let imported = 0;
  const started = Date.now();
  for (const peer of peers) {
    const base = peer.replace(/\/+$/, '');
    const before = node.headBlock;
    try {
      // From the head itself: a block this node has gets the signatures it may lack (the genesis
      // block's came through the log before this node existed), then the blocks after it.
      for (let first = true; ; first = false) {
        const from = first ? node.headBlock : node.headBlock + 1;
        const page = await getJson<BlockPage>(`${base}/ledger/v1/blocks?from=${from}&limit=${PAGE}`);
        // The unbroken run of certified blocks from `from`: the log brings what follows the first gap.
        const run = page.items.findIndex((b, i) => !b.certified || b.blockNumber !== from + i);
        const certified = run < 0 ? page.items : page.items.slice(0, run);
        for (const b of certified) {
          const { transactions } = await getJson<BlockTransactions>(`${base}/ledger/v1/blocks/${b.blockNumber}/transactions`);
          const records = [...transactions].sort((x, y) => x.position - y.position).map((t) => new Uint8Array(Buffer.from(t.envelope, 'base64')));
          const checkpointOf = new Map(b.stored.signatures.map((s) => [s.organizationId, s.checkpointSignature]));
          await node.importCertifiedBlock({
            header: b.header,
            signatures: b.signatures.map((s) => ({ ...s, checkpointSignature: checkpointOf.get(s.organizationId) ?? '' })),
            records,
          });
          if (b.blockNumber <= before) continue;
          imported++;
          if (imported % 100 === 0) log('info', `bootstrap: ${imported} blocks imported from ${base}, now at block ${node.headBlock} (${Math.round((Date.now() - started) / 1000)} s)`);
        }
        if (certified.length < page.items.length || page.items.length < PAGE) break;
      }
      log('info', `bootstrap: ${imported} block(s) imported from peers; at block ${node.headBlock}, following the ordering log from there`);
      return imported;
    } catch (error) {
      log('warn', `bootstrap from ${base} stopped at block ${node.headBlock}: ${(error as Error).message}; ${peers.indexOf(peer) < peers.length - 1 ? 'trying the next peer' : 'the ordering log brings the rest'}`);
    }
  }
  return imported;
}
