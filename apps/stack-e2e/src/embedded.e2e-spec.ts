import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex, verifyReceipt } from '@alliance/protocol';
import { signIn } from '@alliance/sdk';
import { anchorEnvelopes } from './ledger-client';
import { getJson, graphql, root, startProcess, tempDir, waitFor } from './support';

// `npm start`: one process, embedded PostgreSQL, solo ordering, demo consortium.
const dataDir = tempDir('embedded-e2e');
const port = 3350;
const base = `http://127.0.0.1:${port}`;
const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), ALLIANCE_DATA_DIR: dataDir, ALLIANCE_PG_PORT: '54391', LOG_LEVEL: 'warn' };
delete env.DATABASE_URL;

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function startAndWait() {
  const proc = startProcess([join(root, 'tools/start.js')], env);
  // Fails at once if npm start exits instead of waiting out the timeout.
  let exited: number | null | undefined;
  void proc.exited.then((code) => (exited = code));
  await waitFor(
    'npm start to print ready',
    async () => (proc.output().includes('alliance: ready') || exited !== undefined ? true : undefined),
    180_000,
    250,
  )
    .then(() => {
      if (exited !== undefined) throw new Error(`npm start exited with ${exited} before it was ready`);
    })
    .catch((e: Error) => {
      proc.child.kill('SIGKILL');
      throw new Error(`${e.message}\n${proc.output()}`);
    });
  return proc;
}

describe('npm start (embedded mode)', () => {
  it('reaches ready on embedded PostgreSQL, serves /health, /docs-json and /graphql, and stops on Ctrl-C', async () => {
    const proc = await startAndWait();
    try {
      expect(proc.output()).toContain(`API base URL   ${base}`);
      expect(proc.output()).toMatch(/Demo keys\s+.*demo-keys/);
      const health = await getJson(`${base}/health`);
      expect(health.status).toBe(200);
      expect((health.body as { checks: Record<string, unknown> }).checks).toHaveProperty('messaging');
      const docs = await getJson(`${base}/docs-json`);
      expect(docs.status).toBe(200);
      expect((docs.body as { openapi: string }).openapi).toMatch(/^3\./);
      const gql = await graphql(base, '{ __typename }');
      expect(gql.body).toEqual({ data: { __typename: 'Query' } });
      const keys = readdirSync(join(dataDir, 'demo-keys')).sort();
      expect(keys).toEqual(['org1.key.json', 'org2.key.json', 'org3.key.json', 'regulator.key.json']);
      const key = JSON.parse(readFileSync(join(dataDir, 'demo-keys/org1.key.json'), 'utf8')) as { warning: string; publicKey: string };
      expect(key.warning).toMatch(/DEMO KEY/);
      expect(key.publicKey).toMatch(/^[0-9a-f]{64}$/);
      // Solo ordering, three member nodes in the one process: a transaction is certified and its receipt verifies.
      const [envelope] = anchorEnvelopes(dataDir, 'org1', 1);
      const res = await fetch(`${base}/ledger/v1/transactions?wait=commit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope), signal: AbortSignal.timeout(60_000) });
      const body = (await res.json()) as { code: string; receipt: { block: { signatures: unknown[] } } };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.code).toBe('VALID');
      expect(verifyReceipt(body.receipt).ok).toBe(true);
      expect(body.receipt.block.signatures.length).toBeGreaterThanOrEqual(2);
      // The regulator audits with its demo key: a whole-chain run of a member's node streams to a verdict, and is logged.
      const regulatorKey = JSON.parse(readFileSync(join(dataDir, 'demo-keys/regulator.key.json'), 'utf8')) as { privateKey: string };
      const regulator = await signIn(base, { organizationId: 'regulator', algorithm: 'ed25519', privateKey: fromHex(regulatorKey.privateKey) });
      const auth = { authorization: `Bearer ${await regulator.accessToken()}` };
      const run = await fetch(`${base}/audit/v1/verifications/chain?node=org2`, { headers: auth, signal: AbortSignal.timeout(60_000) });
      expect(run.status).toBe(200);
      const lines = (await run.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; ok?: boolean; firstFailure?: unknown });
      expect(lines.at(-1)).toMatchObject({ type: 'verdict', ok: true, firstFailure: null });
      const log = await getJson(`${base}/audit/v1/access-log?limit=1000`, { headers: auth });
      expect((log.body as { items: Array<{ operation: string; organizationId: string }> }).items).toContainEqual(expect.objectContaining({ operation: 'GET /audit/v1/verifications/chain', organizationId: 'regulator' }));
      const org1Key = JSON.parse(readFileSync(join(dataDir, 'demo-keys/org1.key.json'), 'utf8')) as { privateKey: string };
      const org1 = await signIn(base, { organizationId: 'org1', algorithm: 'ed25519', privateKey: fromHex(org1Key.privateKey) });
      const member = await getJson(`${base}/audit/v1/nodes`, { headers: { authorization: `Bearer ${await org1.accessToken()}` } });
      expect(member.status).toBe(403);
    } finally {
      proc.child.kill('SIGINT');
    }
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('alliance: stopped');
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });

  it('reuses the data on the next start (same demo keys, no new initialisation)', async () => {
    const before = readFileSync(join(dataDir, 'demo-keys/org1.key.json'), 'utf8');
    expect(existsSync(join(dataDir, 'postgres/PG_VERSION'))).toBe(true);
    const proc = await startAndWait();
    try {
      expect(proc.output()).not.toContain('initialising embedded PostgreSQL');
      expect((await getJson(`${base}/health`)).status).toBe(200);
      expect(readFileSync(join(dataDir, 'demo-keys/org1.key.json'), 'utf8')).toBe(before);
    } finally {
      proc.child.kill('SIGINT');
    }
    expect(await proc.exited).toBe(0);
  });
});
