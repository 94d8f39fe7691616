import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { anchorEnvelopes } from './ledger-client';
import { BLOCK_FIELDS, type Block, blocksOf, collect, connect as connectTo, type ErrorShape, submitAnchors, subscribeUntilOwnBlock } from './subscriptions-client';
import { getJson, root, startProcess, tempDir, waitFor } from './support';

// A dashboard's view of `npm start`: GraphQL subscriptions through the gateway's one
// `/graphql` WebSocket (graphql-ws protocol), relayed to the ledger subgraph that owns them.
const dataDir = tempDir('subscriptions-e2e');
const port = 3390;
const base = `http://127.0.0.1:${port}`;
const wsUrl = `ws://127.0.0.1:${port}/graphql`;
const REPLAY_LIMIT = 5;
const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), ALLIANCE_DATA_DIR: dataDir, ALLIANCE_PG_PORT: '54394', LOG_LEVEL: 'warn', LEDGER_SUBSCRIPTION_REPLAY_LIMIT: String(REPLAY_LIMIT) };
delete env.DATABASE_URL;

let proc: ReturnType<typeof startProcess>;
const clients: Client[] = [];
const connect = (headers: Record<string, string> = {}) => connectTo(wsUrl, clients, headers);

beforeAll(async () => {
  proc = startProcess([join(root, 'tools/start.js')], env);
  let exited: number | null | undefined;
  void proc.exited.then((code) => (exited = code));
  await waitFor('npm start to print ready', async () => (proc.output().includes('alliance: ready') || exited !== undefined ? true : undefined), 180_000, 250).catch((e: Error) => {
    proc.child.kill('SIGKILL');
    throw new Error(`${e.message}\n${proc.output()}`);
  });
  if (exited !== undefined) throw new Error(`npm start exited with ${exited} before it was ready\n${proc.output()}`);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  proc?.child.kill('SIGINT');
  await proc?.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

async function submitAndWait(): Promise<void> {
  const [envelope] = anchorEnvelopes(dataDir, 'org1', 1);
  const res = await fetch(`${base}/ledger/v1/transactions?wait=commit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope), signal: AbortSignal.timeout(60_000) });
  expect(res.status, await res.text()).toBe(200);
}

async function certifiedHead(): Promise<number> {
  const res = await getJson(`${base}/ledger/v1/checkpoints/latest`);
  expect(res.status).toBe(200);
  return (res.body as { blockNumber: number }).blockNumber;
}

describe('GraphQL subscriptions through the gateway (npm start)', () => {
  let certifiedBlock: Block;

  it('pushes the certified block that carries a transaction submitted after subscribing', async () => {
    const { outcome, ids } = await subscribeUntilOwnBlock(connect(), base, dataDir);
    expect(outcome.errors).toBeUndefined();
    const blocks = blocksOf(outcome.results);
    const numbers = blocks.map((b) => b.blockNumber);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(numbers.length);
    certifiedBlock = blocks.find((b) => b.transactions.some((t) => ids.has(t.transactionId)))!;
    expect(certifiedBlock.certified).toBe(true);
    expect(certifiedBlock.signedBy.length).toBeGreaterThanOrEqual(2);
    const ours = certifiedBlock.transactions.find((t) => ids.has(t.transactionId))!;
    expect(ours).toMatchObject({ status: 'committed', certified: true });
    // The same block as the REST API serves.
    const rest = await getJson(`${base}/ledger/v1/blocks/${certifiedBlock.blockNumber}`);
    expect(rest.status).toBe(200);
    expect(JSON.stringify(rest.body)).toContain(ours.transactionId);
  });

  it('with `from`, replays the certified blocks a reconnecting client missed, then continues live', async () => {
    const from = certifiedBlock.blockNumber;
    const client = connect();
    const target = new Set<string>();
    const received = collect(client, `subscription { ledgerBlockCertified(from: ${from}) { ${BLOCK_FIELDS} } }`, (results) => blocksOf(results).some((b) => b.transactions.some((t) => target.has(t.transactionId))));
    for (const id of await submitAnchors(base, dataDir)) target.add(id);
    const { results, errors } = await received;
    expect(errors).toBeUndefined();
    const blocks = blocksOf(results);
    // First the block we already saw (from the store), then every later one in order, without a gap.
    expect(blocks[0].blockNumber).toBe(from);
    expect(blocks[0].transactions.map((t) => t.transactionId)).toEqual(certifiedBlock.transactions.map((t) => t.transactionId));
    expect(blocks.map((b) => b.blockNumber)).toEqual(blocks.map((_, i) => from + i));
    expect(blocks.every((b) => b.certified)).toBe(true);
  });

  it('refuses a replay longer than the limit with LEDGER.REPLAY_LIMIT_EXCEEDED and a bad `from` with LEDGER.INVALID_PARAMETER, carrying the caller’s correlation id', async () => {
    // Blocks 0..REPLAY_LIMIT certified: replaying from 0 is one block too many.
    while ((await certifiedHead()) < REPLAY_LIMIT) await submitAndWait();
    // The correlation id travels gateway → ledger with the upgrade request and comes back in the ledger's error.
    const client = connect({ 'X-Correlation-Id': 'e2e-subscriptions-1' });
    const tooFar = await collect(client, `subscription { ledgerBlockCertified(from: 0) { blockNumber } }`, () => false);
    expect(tooFar.completed).toBe(true);
    expect(tooFar.results[0].errors?.[0]).toMatchObject({ extensions: { code: 'LEDGER.REPLAY_LIMIT_EXCEEDED', correlationId: 'e2e-subscriptions-1', details: { from: 0, replayLimit: REPLAY_LIMIT } } });
    expect(tooFar.results[0].errors?.[0].message).toMatch(/replays at most 5: read older blocks with ledgerBlocks/);
    const negative = await collect(client, `subscription { ledgerBlockCertified(from: -1) { blockNumber } }`, () => false);
    expect(negative.completed).toBe(true);
    expect(negative.results[0].errors?.[0]).toMatchObject({ extensions: { code: 'LEDGER.INVALID_PARAMETER', correlationId: 'e2e-subscriptions-1' } });
  });

  it('gives clear errors for an unknown subscription field, a query over the WebSocket and a subscription over HTTP', async () => {
    const client = connect();
    const unknown = await collect(client, 'subscription { ledgerBlockCertifed { blockNumber } }', () => false);
    expect(unknown.errors?.[0]).toMatchObject({ message: 'Cannot query field "ledgerBlockCertifed" on type "Subscription". Did you mean "ledgerBlockCertified"?', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    const query = await collect(client, '{ ledgerStatus { name } }', () => false);
    expect(query.errors?.[0]).toMatchObject({ extensions: { code: 'COMMON.SUBSCRIPTION_REQUIRED' } });
    const overHttp = await getJson(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
      body: JSON.stringify({ query: 'subscription { ledgerBlockCertified { blockNumber } }' }),
    });
    expect(overHttp.status).toBe(400);
    expect((overHttp.body as { errors: ErrorShape[] }).errors[0].extensions?.code).toBe('COMMON.WEBSOCKET_REQUIRED');
    // Queries keep working over HTTP next to the WebSocket.
    const health = await getJson(`${base}/health`);
    expect(health.status).toBe(200);
  });

  it('answers the upgrade with the correlation id and refuses WebSockets on other paths', async () => {
    const echoed = await new Promise<string | undefined>((resolve, reject) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: { 'X-Correlation-Id': 'e2e-upgrade-7' } });
      socket.once('upgrade', (res) => resolve(res.headers['x-correlation-id'] as string | undefined));
      socket.once('open', () => socket.close());
      socket.once('error', reject);
    });
    expect(echoed).toBe('e2e-upgrade-7');
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ledger/v1/blocks`, 'graphql-transport-ws');
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('error', () => resolve(-1));
    });
    expect(refused).toBe(404);
  });
});
