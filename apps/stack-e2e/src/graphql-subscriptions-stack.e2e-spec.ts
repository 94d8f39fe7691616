import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { privateKafka, type PrivateKafka } from '@alliance/shared/testing';
import { BLOCK_FIELDS, blocksOf, collect, connect, submitAnchors, subscribeUntilOwnBlock } from './subscriptions-client';
import { isAlive, root, runNode, tempDir } from './support';

// `npm run stack` (separate processes, real Kafka of this test's own, real PostgreSQL):
// the gateway process relays the subscription to the org1 ledger process over graphql-ws.
const port = 3500;
const dataDir = tempDir('subscriptions-stack-e2e');
const prefix = `e2e_subs_${process.pid}`;
const base = `http://127.0.0.1:${port}`;
const wsUrl = `ws://127.0.0.1:${port}/graphql`;
const clients: Client[] = [];
let kafka: PrivateKafka;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  kafka = await privateKafka('alliance-subscriptions-stack-e2e');
  env = { ...process.env, ...kafka.env, PORT: String(port), ALLIANCE_DATA_DIR: dataDir, STACK_DB_PREFIX: prefix, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'warn' };
  delete env.KAFKA_BROKERS; // the stack starts this test's broker itself through kafka.sh
  const up = runNode([join(root, 'tools/stack.js'), 'up'], env, 240_000);
  if (up.status !== 0) throw new Error(`stack up failed (${up.status}):\n${up.stdout}\n${up.stderr}`);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  const down = runNode([join(root, 'tools/stack.js'), 'down'], env, 120_000);
  let state: { processes?: Array<{ pid: number }> } = {};
  try {
    state = JSON.parse(readFileSync(join(dataDir, 'stack/state.json'), 'utf8')) as typeof state;
  } catch {
    // nothing was started
  }
  for (const p of state.processes ?? []) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
  await kafka?.remove();
  for (const org of ['org1', 'org2', 'org3', 'regulator']) spawnSync('psql', [inject('databaseUrl'), '-qc', `DROP DATABASE IF EXISTS ${prefix}_${org} WITH (FORCE)`]);
  rmSync(dataDir, { recursive: true, force: true });
  expect(down.status).toBe(0);
});

describe('GraphQL subscriptions through the gateway (npm run stack)', () => {
  it('pushes the block certified by the members’ signatures over Kafka, then replays it for a client that resubscribes with `from`', async () => {
    const { outcome, ids } = await subscribeUntilOwnBlock(connect(wsUrl, clients, { 'X-Correlation-Id': 'stack-subscriptions-1' }), base, dataDir);
    expect(outcome.errors).toBeUndefined();
    const block = blocksOf(outcome.results).find((b) => b.transactions.some((t) => ids.has(t.transactionId)))!;
    expect(block.certified).toBe(true);
    // The consortium's policy is a majority of three members, each signing from its own process.
    expect(block.signedBy.length).toBeGreaterThanOrEqual(2);
    expect(block.signedBy.every((org) => ['org1', 'org2', 'org3'].includes(org))).toBe(true);

    const later = new Set(await submitAnchors(base, dataDir));
    const replay = await collect(connect(wsUrl, clients), `subscription { ledgerBlockCertified(from: ${block.blockNumber}) { ${BLOCK_FIELDS} } }`, (results) =>
      blocksOf(results).some((b) => b.transactions.some((t) => later.has(t.transactionId))),
    );
    expect(replay.errors).toBeUndefined();
    const blocks = blocksOf(replay.results);
    expect(blocks[0]).toMatchObject({ blockNumber: block.blockNumber, certified: true });
    expect(blocks.map((b) => b.blockNumber)).toEqual(blocks.map((_, i) => block.blockNumber + i));
  });
});
