import { execFile } from 'node:child_process';
import { getJson, root } from './support';

// What the tests that break the stack on purpose share (ledger-crash.e2e-spec.ts, faults.faults-spec.ts):
// a seeded generator so a run's choices can be replayed, bounded concurrency, and reading a node's blocks.

/** mulberry32: a small seeded generator, so a failing run can be replayed with its seed. */
export function seeded(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
export const pick = <T>(rng: () => number, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fisher-Yates with the seeded generator. */
export function shuffled<T>(rng: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

export interface BlockItem {
  blockNumber: number;
  headerHash: string;
  header: { logSize: number };
  certified: boolean;
  signatures: unknown[];
  transactions: Array<{ transactionId: string; leafIndex: number; code: string }>;
}

/** Every block a node serves, in order. */
export async function allBlocks(url: string): Promise<BlockItem[]> {
  const blocks: BlockItem[] = [];
  for (let from = 0; ; ) {
    const r = await getJson(`${url}/ledger/v1/blocks?from=${from}&limit=200`);
    if (r.status !== 200) throw new Error(`${url} blocks?from=${from}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    const page = r.body as { items: BlockItem[]; next: string | null };
    blocks.push(...page.items);
    if (!page.next || page.items.length === 0) return blocks;
    from = page.items[page.items.length - 1].blockNumber + 1;
  }
}

/** A node's newest certified block (its latest checkpoint's), as the block list serves it. */
export async function certifiedHead(url: string): Promise<BlockItem | undefined> {
  const checkpoint = (await getJson(`${url}/ledger/v1/checkpoints/latest`)).body as { blockNumber?: number };
  if (typeof checkpoint.blockNumber !== 'number') return undefined;
  const r = (await getJson(`${url}/ledger/v1/blocks?from=${checkpoint.blockNumber}&limit=2`)).body as { items?: BlockItem[] };
  return r.items?.length === 1 ? r.items[0] : undefined;
}

/** Runs a Node script without blocking the event loop (the load keeps running meanwhile). */
export function nodeScript(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root, env, timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}
