import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { fromHex } from '@alliance/protocol';
import { type Session, signIn } from '@alliance/sdk';
import { root, startProcess, tempDir, waitFor } from './support';

export interface DemoKey {
  readonly organizationId: string;
  readonly publicKey: string;
  readonly privateKey: string;
}

/** An `npm start` of one test file: its own port, embedded PostgreSQL port and temporary data dir. */
export interface NpmStart {
  readonly base: string;
  readonly dataDir: string;
  readonly pgPort: number;
  demoKey(org: string): DemoKey;
  /** A session of the organization's demo (admin) key, signed in through the gateway. */
  signIn(org: string): Promise<Session>;
}

/** Registers the file's beforeAll/afterAll: starts `npm start` (plus `env`), stops it and removes the data dir. */
export function npmStart(name: string, port: number, pgPort: number, env: Record<string, string> = {}): NpmStart {
  const dataDir = tempDir(`${name}-e2e`);
  const processEnv: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), ALLIANCE_DATA_DIR: dataDir, ALLIANCE_PG_PORT: String(pgPort), LOG_LEVEL: 'warn', ...env };
  delete processEnv.DATABASE_URL;
  let proc: ReturnType<typeof startProcess> | undefined;
  beforeAll(async () => {
    const p = startProcess([join(root, 'tools/start.js')], processEnv);
    proc = p;
    let exited: number | null | undefined;
    void p.exited.then((code) => (exited = code));
    await waitFor('npm start to print ready', async () => (p.output().includes('alliance: ready') || exited !== undefined ? true : undefined), 240_000, 250).catch((e: Error) => {
      p.child.kill('SIGKILL');
      throw new Error(`${e.message}\n${p.output()}`);
    });
    if (exited !== undefined) throw new Error(`npm start exited with ${exited} before it was ready\n${p.output()}`);
  });
  afterAll(async () => {
    if (proc) {
      proc.child.kill('SIGINT');
      await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 30_000))]);
      proc.child.kill('SIGKILL');
      const errors = proc.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
      if (errors.length > 0) process.stdout.write(`${name} e2e: ${errors.length} error log lines from npm start:\n${errors.slice(0, 20).map((l) => `  ${l.slice(0, 500)}`).join('\n')}\n`);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  const demoKey = (org: string) => JSON.parse(readFileSync(join(dataDir, 'demo-keys', `${org}.key.json`), 'utf8')) as DemoKey;
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    dataDir,
    pgPort,
    demoKey,
    signIn: (org) => signIn(base, { organizationId: org, algorithm: 'ed25519', privateKey: fromHex(demoKey(org).privateKey) }),
  };
}

/** What the ledger holds: VALID transactions per block and every world-state key's version. */
export interface LedgerSnapshot {
  readonly height: number;
  readonly validTransactions: ReadonlyMap<string, { readonly organizationId: string | null; readonly type: string | null }>;
  readonly state: ReadonlyMap<string, string>;
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Reads a ledger node's whole chain and state, following each page's `next` (small demo chains only). */
export async function ledgerSnapshot(base: string): Promise<LedgerSnapshot> {
  const validTransactions = new Map<string, { organizationId: string | null; type: string | null }>();
  let height = -1;
  for (let path: string | null = '/ledger/v1/blocks?from=0&limit=500'; path; ) {
    const page: { items: Array<{ blockNumber: number }>; next: string | null } = await json(`${base}${path}`);
    for (const block of page.items) {
      height = Math.max(height, block.blockNumber);
      const txs = await json<{ transactions: Array<{ transactionId: string; code: string; organizationId: string | null; type: string | null }> }>(`${base}/ledger/v1/blocks/${block.blockNumber}/transactions`);
      for (const t of txs.transactions) if (t.code === 'VALID') validTransactions.set(t.transactionId, { organizationId: t.organizationId, type: t.type });
    }
    path = page.next;
  }
  const state = new Map<string, string>();
  for (let path: string | null = '/ledger/v1/state?limit=500'; path; ) {
    const page: { items: Array<{ key: string; value: string | null; version: string }>; next: string | null } = await json(`${base}${path}`);
    for (const item of page.items) state.set(item.key, `${item.version}:${item.value}`);
    path = page.next;
  }
  return { height, validTransactions, state };
}

/** Keys whose value changed, appeared or disappeared between two snapshots. */
export function changedKeys(before: LedgerSnapshot, after: LedgerSnapshot): string[] {
  const keys = new Set([...before.state.keys(), ...after.state.keys()]);
  return [...keys].filter((k) => before.state.get(k) !== after.state.get(k)).sort();
}
