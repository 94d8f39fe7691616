import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { privateKafka, type PrivateKafka } from '@alliance/shared/testing';
import { fromBase64, fromHex, leafHash, merkleRoot, toHex, verifyReceipt } from '@alliance/protocol';
import { signIn } from '@alliance/sdk';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser';
import { memberSeesItsBlockLive, regulatorVerifiesTheChain } from './dashboard-walks';
import { anchorEnvelopes } from './ledger-client';
import { getJson, graphql, isAlive, root, runNode, tempDir, waitFor } from './support';

// `npm run stack -- up` on real PostgreSQL and a real Kafka broker of its own
// (a second KRaft node on other ports, so stopping it disturbs no other test),
// then everything is checked only over HTTP, like a customer would.
interface StackState {
  processes: Array<{ id: string; service: string; pid: number; url: string; org: string }>;
}

const port = 3300;
const dataDir = tempDir('stack-e2e');
const prefix = `e2e_${process.pid}`;
const base = `http://127.0.0.1:${port}`;
let kafka: PrivateKafka;
let env: NodeJS.ProcessEnv;
let state: StackState;

beforeAll(async () => {
  kafka = await privateKafka('alliance-stack-e2e');
  env = {
    ...process.env,
    // `up` finds no KAFKA_BROKERS and starts this broker itself through kafka.sh.
    ...kafka.env,
    PORT: String(port),
    ALLIANCE_DATA_DIR: dataDir,
    STACK_DB_PREFIX: prefix,
    DATABASE_URL: inject('databaseUrl'),
    LOG_LEVEL: 'warn',
  };
  delete env.KAFKA_BROKERS; // the stack starts its own broker through deploy/kafka/kafka.sh
  const up = runNode([join(root, 'tools/stack.js'), 'up'], env, 240_000);
  if (up.status !== 0) throw new Error(`stack up failed (${up.status}):\n${up.stdout}\n${up.stderr}`);
  expect(up.stdout).toContain(`API base URL  ${base}`);
  state = JSON.parse(readFileSync(join(dataDir, 'stack/state.json'), 'utf8')) as StackState;
});

afterAll(async () => {
  const down = runNode([join(root, 'tools/stack.js'), 'down'], env, 120_000);
  // Whatever happened, leave nothing running.
  for (const p of state?.processes ?? []) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
  await kafka?.remove();
  for (const org of ['org1', 'org2', 'org3', 'regulator']) {
    spawnSync('psql', [inject('databaseUrl'), '-qc', `DROP DATABASE IF EXISTS ${prefix}_${org} WITH (FORCE)`]);
  }
  rmSync(dataDir, { recursive: true, force: true });
  expect(down.status).toBe(0);
});

describe('npm run stack', () => {
  it('runs a consortium of three members and a regulator, each ledger node on its own database', () => {
    const ids = state.processes.map((p) => p.id).sort();
    expect(ids).toEqual(['audit', 'audit-regulator', 'finance', 'gateway', 'identity', 'ledger-org1', 'ledger-org2', 'ledger-org3', 'ledger-regulator', 'provenance']);
    for (const p of state.processes) expect(isAlive(p.pid)).toBe(true);
    const status = runNode([join(root, 'tools/stack.js'), 'status'], env);
    expect(status.status).toBe(0);
    expect(status.stdout.match(/ ready /g)).toHaveLength(10);
  });

  it('is green through the gateway: every service ready on PostgreSQL and Kafka', async () => {
    const health = await getJson(`${base}/health`);
    expect(health.status).toBe(200);
    const checks = (health.body as { checks: Record<string, { status: string }> }).checks;
    expect(Object.keys(checks).sort()).toEqual(['audit', 'finance', 'identity', 'kafka', 'ledger', 'postgres', 'provenance']);
    for (const c of Object.values(checks)) expect(c.status).toBe('up');
    for (const p of state.processes) {
      const ready = await getJson(`${p.url}/health/ready`);
      expect(ready.status, p.id).toBe(200);
      expect((ready.body as { checks: Record<string, { status: string }> }).checks).toMatchObject({ postgres: { status: 'up' }, kafka: { status: 'up' } });
    }
  });

  it('keeps each member’s ledger in its own database', async () => {
    for (const org of ['org1', 'org2', 'org3', 'regulator']) {
      const r = spawnSync('psql', [inject('databaseUrl').replace(/\/[^/]*$/, `/${prefix}_${org}`), '-Atc', "SELECT count(*) FROM ledger.schema_migrations"], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(Number(r.stdout.trim())).toBeGreaterThan(0);
    }
    const byOrg = await Promise.all(['ledger-org1', 'ledger-org2', 'ledger-org3', 'ledger-regulator'].map(async (id) => {
      const p = state.processes.find((x) => x.id === id)!;
      return ((await getJson(`${p.url}/ledger/v1/status`)).body as { organizationId: string }).organizationId;
    }));
    expect(byOrg).toEqual(['org1', 'org2', 'org3', 'regulator']);
  });

  it('proxies REST by prefix with the correlation id and answers errors as problem+json', async () => {
    for (const service of ['identity', 'ledger', 'provenance', 'finance', 'audit']) {
      const r = await getJson(`${base}/${service}/v1/status`, { headers: { 'X-Correlation-Id': `e2e-${service}` } });
      expect(r.status).toBe(200);
      expect((r.body as { name: string }).name).toBe(service);
      expect(r.headers.get('x-correlation-id')).toBe(`e2e-${service}`);
    }
    const missing = await getJson(`${base}/ledger/v1/no-such-route`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect((missing.body as { code: string }).code).toBe('COMMON.ROUTE_NOT_FOUND');
  });

  it('serves one GraphQL endpoint composed from every service', async () => {
    const typename = await graphql(base, '{ __typename }');
    expect(typename.body).toEqual({ data: { __typename: 'Query' } });
    const all = await graphql(base, '{ identityStatus { name } ledgerStatus { name organizationId } provenanceStatus { name } financeStatus { name } auditStatus { name } }');
    expect(all.body.errors).toBeUndefined();
    expect(all.body.data).toMatchObject({ identityStatus: { name: 'identity' }, ledgerStatus: { name: 'ledger', organizationId: 'org1' }, auditStatus: { name: 'audit' } });
    const blocks = await graphql(base, '{ ledgerBlocks(from: 0, limit: 1) { blockNumber headerHash transactionCount } }');
    expect(blocks.body.errors).toBeUndefined();
    expect(blocks.body.data).toMatchObject({ ledgerBlocks: [{ blockNumber: 0, transactionCount: 1 }] });
    const missing = await graphql(base, '{ ledgerTransaction(transactionId: "0000000000000000000000000000000000000000000000000000000000000000") { status } }');
    expect(missing.body.errors?.[0].extensions?.code).toBe('LEDGER.TRANSACTION_NOT_FOUND');
    expect(JSON.stringify(missing.body)).not.toContain('stacktrace');
    const bad = await graphql(base, '{ noSuchField }');
    expect(bad.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // Refused before planning with the caller's status, not the gateway executor's 500.
    const unnamed = await graphql(base, 'query A { __typename }', {}, 'B');
    expect([unnamed.status, unnamed.body.errors?.[0].extensions?.code]).toEqual([400, 'OPERATION_RESOLUTION_FAILURE']);
    const mutation = await graphql(base, 'mutation { __typename }');
    expect([mutation.status, mutation.body.errors?.[0].extensions?.code]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED']);
  });

  it('signs org1 in with its demo key through the gateway (SDK); the token opens the identity API over REST and GraphQL', async () => {
    const key = JSON.parse(readFileSync(join(dataDir, 'demo-keys/org1.key.json'), 'utf8')) as { privateKey: string };
    // The identity read model needs the genesis before it knows org1's key.
    const session = await waitFor('sign-in', () => signIn(base, { organizationId: 'org1', algorithm: 'ed25519', privateKey: fromHex(key.privateKey) }).catch(() => undefined), 30_000);
    expect(session.principal).toMatchObject({ organizationId: 'org1', agentId: null, admin: true });
    const authorization = await session.authorizationHeader();
    const orgs = await getJson(`${base}/identity/v1/organizations`, { headers: { authorization } });
    expect(orgs.status).toBe(200);
    expect((orgs.body as { items: Array<{ organizationId: string; status: string }> }).items.map((o) => [o.organizationId, o.status])).toEqual([
      ['org1', 'member'],
      ['org2', 'member'],
      ['org3', 'member'],
      ['regulator', 'observer'],
    ]);
    const anonymous = await getJson(`${base}/identity/v1/organizations`);
    expect([anonymous.status, (anonymous.body as { code: string }).code]).toEqual([401, 'AUTH.TOKEN_MISSING']);
    // The gateway passes the token on to the identity subgraph.
    const viaGraphql = await graphql(base, '{ identityOrganizations { organizationId role } }', { authorization });
    expect(viaGraphql.body.errors).toBeUndefined();
    expect(viaGraphql.body.data).toMatchObject({ identityOrganizations: [{ organizationId: 'org1', role: 'manufacturer' }, { organizationId: 'org2' }, { organizationId: 'org3' }, { organizationId: 'regulator', role: 'regulator' }] });
    const refused = await graphql(base, '{ identityOrganizations { organizationId } }');
    expect(refused.body.errors?.[0].extensions?.code).toBe('AUTH.TOKEN_MISSING');
    await session.logout();
    // The regulator signs in with its demo key too: it reads, and writes nothing.
    const regulatorKey = JSON.parse(readFileSync(join(dataDir, 'demo-keys/regulator.key.json'), 'utf8')) as { privateKey: string };
    const regulator = await signIn(base, { organizationId: 'regulator', algorithm: 'ed25519', privateKey: fromHex(regulatorKey.privateKey) });
    expect(regulator.principal).toMatchObject({ organizationId: 'regulator', organizationRole: 'regulator' });
    const asRegulator = { authorization: await regulator.authorizationHeader() };
    expect((await getJson(`${base}/identity/v1/organizations/org2`, { headers: asRegulator })).status).toBe(200);
    const rebuild = await getJson(`${base}/identity/v1/read-model/rebuild`, { method: 'POST', headers: asRegulator });
    expect([rebuild.status, (rebuild.body as { code: string }).code]).toEqual([403, 'AUTH.READ_ONLY']);
    // The gateway's audit API is the regulator's: it compares every member's node with its own observer node.
    const nodes = await waitFor(
      'the regulator’s audit to compare every node',
      async () => {
        const r = await getJson(`${base}/audit/v1/nodes`, { headers: asRegulator });
        const items = (r.body as { items?: Array<{ node: string; status: string }> }).items ?? [];
        return r.status === 200 && items.length === 4 && items.every((n) => n.status !== 'unreachable') ? items : undefined;
      },
      60_000,
    );
    expect(nodes.map((n) => n.node).sort()).toEqual(['observer', 'org1', 'org2', 'org3']);
    expect(nodes.filter((n) => n.status === 'fork')).toEqual([]);
  });

  it('merges every service’s OpenAPI at /docs-json and serves the UI at /docs', async () => {
    const doc = await waitFor(
      'every service in the merged OpenAPI',
      async () => {
        const r = await getJson(`${base}/docs-json`);
        const paths = Object.keys((r.body as { paths: Record<string, unknown> }).paths);
        return ['identity', 'ledger', 'provenance', 'finance', 'audit'].every((s) => paths.includes(`/${s}/v1/status`)) ? r.body : undefined;
      },
      30_000,
    );
    expect((doc as { openapi: string }).openapi).toMatch(/^3\./);
    const ui = await fetch(`${base}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  // --- the ledger across three member nodes fed by one Kafka topic ---
  it('commits a signed transaction, certifies it with every member’s signature and returns a receipt that verifies offline', async () => {
    const [envelope] = anchorEnvelopes(dataDir, 'org2', 1);
    const res = await fetch(`${base}/ledger/v1/transactions?wait=commit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope), signal: AbortSignal.timeout(60_000) });
    const body = (await res.json()) as { status: string; code: string; receipt: unknown; blockNumber: number };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'committed', code: 'VALID' });
    const verdict = verifyReceipt(body.receipt);
    expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
    // A flipped bit in the receipt's envelope signature must fail.
    const tampered = JSON.parse(JSON.stringify(body.receipt)) as { envelope: { signature: { value: string } } };
    const v = tampered.envelope.signature.value;
    tampered.envelope.signature.value = `${v.slice(0, 10)}${v[10] === 'A' ? 'B' : 'A'}${v.slice(11)}`;
    expect(verifyReceipt(tampered).ok).toBe(false);
  });

  it('produces byte-identical blocks on every node, each carrying all three member signatures', async () => {
    const envelopes = anchorEnvelopes(dataDir, 'org3', 120);
    const batch = await getJson(`${base}/ledger/v1/transactions/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transactions: envelopes }) });
    expect(batch.status).toBe(202);
    const nodes = ['ledger-org1', 'ledger-org2', 'ledger-org3', 'ledger-regulator'].map((id) => state.processes.find((p) => p.id === id)!);
    const last = (batch.body as { transactionIds: string[] }).transactionIds.at(-1)!;
    const head = await waitFor(
      'the batch to be certified on org1',
      async () => {
        const r = await getJson(`${nodes[0].url}/ledger/v1/transactions/${last}`);
        const b = r.body as { status: string; certified?: boolean; blockNumber?: number };
        return b.status === 'committed' && b.certified ? b.blockNumber : undefined;
      },
      60_000,
    );
    for (const node of nodes) {
      const blocks = await waitFor(
        `${node.url} to reach block ${head} with all signatures`,
        async () => {
          const r = await getJson(`${node.url}/ledger/v1/blocks?from=0&limit=500`);
          const items = (r.body as { items: Array<{ blockNumber: number; headerHash: string; signatures: unknown[] }> }).items;
          const top = items.find((b) => b.blockNumber === head);
          return top && top.signatures.length === 3 ? items.filter((b) => b.blockNumber <= head) : undefined;
        },
        60_000,
      );
      const reference = await getJson(`${nodes[0].url}/ledger/v1/blocks?from=0&limit=500`);
      const refHashes = (reference.body as { items: Array<{ blockNumber: number; headerHash: string }> }).items.filter((b) => b.blockNumber <= head).map((b) => b.headerHash);
      expect(blocks.map((b) => b.headerHash), node.id).toEqual(refHashes);
      for (const b of blocks) expect(b.signatures, `${node.id} block ${b.blockNumber}`).toHaveLength(3);
    }
    // The stored bytes reproduce the header's data and results roots (what `alliance verify chain` recomputes).
    const txs = (await getJson(`${nodes[1].url}/ledger/v1/blocks/${head}/transactions`)).body as { transactions: Array<{ envelope: string; result: string }> };
    const header = ((await getJson(`${nodes[1].url}/ledger/v1/blocks/${head}`)).body as { header: { dataRoot: string; resultsRoot: string; transactionCount: number } }).header;
    expect(txs.transactions).toHaveLength(header.transactionCount);
    expect(toHex(merkleRoot(txs.transactions.map((t) => leafHash(fromBase64(t.envelope)))))).toBe(header.dataRoot);
    expect(toHex(merkleRoot(txs.transactions.map((t) => leafHash(fromBase64(t.result)))))).toBe(header.resultsRoot);
  });

  describe('the dashboard in Chromium, served by the stack’s gateway', () => {
    let browser: Browser | undefined;
    const target = () => {
      if (!browser) throw new Error('Chromium did not start');
      return { browser, base, dataDir, name: 'stack-' };
    };
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    // The same walks as against `npm start` (dashboard.e2e-spec.ts): here the gateway relays GraphQL and its
    // subscriptions to separate processes, the blocks come from org1's node, and the audit is the regulator's.
    it('a member signs in, sees its transaction’s block arrive live and verifies its receipt in the browser', () => memberSeesItsBlockLive(target()), 180_000);

    it('the regulator runs a whole-chain verification of its observer node to its verdict', () => regulatorVerifiesTheChain(target()), 180_000);
  });

  it('`alliance verify chain` passes on every node, and names the block when a row is changed by hand', () => {
    const cli = join(root, 'libs/sdk/bin/alliance.js');
    const members = join(dataDir, 'genesis.json');
    const verify = (id: string) => runNode([cli, 'verify', 'chain', '--url', state.processes.find((p) => p.id === id)!.url, '--members', members, '--quiet'], env, 120_000);
    for (const id of ['ledger-org1', 'ledger-org2', 'ledger-org3', 'ledger-regulator']) {
      const ok = verify(id);
      expect(ok.status, `${id}: ${ok.stdout}${ok.stderr}`).toBe(0);
      expect(ok.stdout).toMatch(/chain OK: .* \d+ state rows match the replayed writes; full mode/);
    }
    // Hand edits of org3's database, one at a time: each is named, then undone.
    const db = inject('databaseUrl').replace(/\/[^/]*$/, `/${prefix}_org3`);
    const sql = (statement: string): string[] => {
      const r = spawnSync('psql', [db, '-v', 'ON_ERROR_STOP=1', '-Atc', statement], { encoding: 'utf8' });
      expect(r.status, `${statement}\n${r.stderr}`).toBe(0);
      return r.stdout.trim().split('\n')[0].split('|');
    };
    const head = Number(sql('SELECT max(block_number) FROM ledger.blocks')[0]);
    expect(head).toBeGreaterThanOrEqual(2);
    const anchorKeys = sql("SELECT string_agg(key, ',' ORDER BY key COLLATE \"C\") FROM ledger.state WHERE key LIKE 'anchor/%'")[0].split(',');
    expect(anchorKeys.length).toBeGreaterThanOrEqual(3);
    const validLeaf = sql("SELECT min(leaf_index) FROM ledger.transactions WHERE block_number > 0 AND code = 'VALID'")[0];
    const otherCheckpointSignature = sql(`SELECT checkpoint_signature FROM ledger.header_signatures WHERE block_number = ${head} AND organization_id = 'org1'`)[0];
    // `save` reads what `undo` puts back.
    const cases: Array<{ what: string; save?: string; edit: string; undo: (saved: string) => string; says: RegExp }> = [
      {
        what: 'one stored envelope bit',
        edit: 'UPDATE ledger.transactions SET envelope = set_byte(envelope, 40, get_byte(envelope, 40) # 1) WHERE leaf_index = (SELECT max(leaf_index) FROM ledger.transactions) RETURNING block_number',
        undo: () => 'UPDATE ledger.transactions SET envelope = set_byte(envelope, 40, get_byte(envelope, 40) # 1) WHERE leaf_index = (SELECT max(leaf_index) FROM ledger.transactions)',
        says: /PROTOCOL\.TRANSACTION_ID_MISMATCH|PROTOCOL\.BLOCK_CONTENT_MISMATCH|SDK\.STORED_COLUMN_MISMATCH/,
      },
      {
        what: 'a state row value',
        edit: `UPDATE ledger.state SET value = convert_to('{"blockNumber":1,"creator":"forged"}', 'UTF8') WHERE key = '${anchorKeys[0]}' RETURNING block_number`,
        save: `SELECT encode(value, 'hex') FROM ledger.state WHERE key = '${anchorKeys[0]}'`,
        undo: (saved) => `UPDATE ledger.state SET value = decode('${saved}', 'hex') WHERE key = '${anchorKeys[0]}'`,
        says: new RegExp(`SDK\\.STATE_MISMATCH: state key "${anchorKeys[0]}" differs from the write of transaction [0-9a-f]{16}… in block \\d+: value \\{"blockNumber":1,"creator":"forged"\\} \\(written: \\{`),
      },
      {
        what: 'a state row version',
        edit: `UPDATE ledger.state SET version = version + 1 WHERE key = '${anchorKeys[1]}' RETURNING block_number`,
        undo: () => `UPDATE ledger.state SET version = version - 1 WHERE key = '${anchorKeys[1]}'`,
        says: new RegExp(`SDK\\.STATE_MISMATCH: state key "${anchorKeys[1]}" differs .*: version 2 \\(written: 1\\)`),
      },
      {
        what: 'a state row added by hand',
        edit: "INSERT INTO ledger.state (key, value, version, block_number, transaction_id) VALUES ('anchor/e2e-forged', convert_to('{}', 'UTF8'), 1, 1, repeat('ab', 32)) RETURNING block_number",
        undo: () => "DELETE FROM ledger.state WHERE key = 'anchor/e2e-forged'",
        says: /SDK\.STATE_MISMATCH: state key "anchor\/e2e-forged" .* was written by no committed transaction of blocks 0–\d+: the row was added, or its key changed, by hand/,
      },
      {
        what: "a transaction's code column",
        edit: `UPDATE ledger.transactions SET code = 'LEDGER.ALREADY_ANCHORED' WHERE leaf_index = ${validLeaf} RETURNING block_number`,
        undo: () => `UPDATE ledger.transactions SET code = 'VALID' WHERE leaf_index = ${validLeaf}`,
        says: /SDK\.TRANSACTION_LIST_MISMATCH: transaction \d+: stored with code LEDGER\.ALREADY_ANCHORED \(transactions\.code\), its result says VALID/,
      },
      {
        what: "a block's transaction_count",
        edit: 'UPDATE ledger.blocks SET transaction_count = transaction_count + 1 WHERE block_number = 1 RETURNING block_number',
        undo: () => 'UPDATE ledger.blocks SET transaction_count = transaction_count - 1 WHERE block_number = 1',
        says: /SDK\.STORED_COLUMN_MISMATCH: blocks\.transaction_count is \d+, the header says transactionCount \d+/,
      },
      {
        what: "a block's previous_hash",
        edit: `UPDATE ledger.blocks SET previous_hash = set_byte(previous_hash, 0, get_byte(previous_hash, 0) # 1) WHERE block_number = ${head} RETURNING block_number`,
        undo: () => `UPDATE ledger.blocks SET previous_hash = set_byte(previous_hash, 0, get_byte(previous_hash, 0) # 1) WHERE block_number = ${head}`,
        says: /SDK\.STORED_COLUMN_MISMATCH: blocks\.previous_hash is "[0-9a-f]{64}", the header says previousHash "[0-9a-f]{64}"/,
      },
      {
        what: 'one header signature',
        edit: "UPDATE ledger.header_signatures SET signature = set_byte(signature, 5, get_byte(signature, 5) # 1) WHERE block_number = 2 AND organization_id = 'org2' RETURNING block_number",
        undo: () => "UPDATE ledger.header_signatures SET signature = set_byte(signature, 5, get_byte(signature, 5) # 1) WHERE block_number = 2 AND organization_id = 'org2'",
        says: /PROTOCOL\.BAD_HEADER_SIGNATURE/,
      },
      {
        what: "one header signature row's checkpoint signature",
        edit: `UPDATE ledger.header_signatures SET checkpoint_signature = '${otherCheckpointSignature}' WHERE block_number = 1 AND organization_id = 'org1' RETURNING block_number`,
        save: "SELECT checkpoint_signature FROM ledger.header_signatures WHERE block_number = 1 AND organization_id = 'org1'",
        undo: (saved) => `UPDATE ledger.header_signatures SET checkpoint_signature = '${saved}' WHERE block_number = 1 AND organization_id = 'org1'`,
        says: /SDK\.STORED_COLUMN_MISMATCH: a stored checkpoint signature \(header_signatures\.checkpoint_signature\) does not verify over the checkpoint of this block/,
      },
    ];
    for (const c of cases) {
      const saved = c.save === undefined ? '' : sql(c.save)[0];
      const block = Number(sql(c.edit)[0]);
      const bad = verify('ledger-org3');
      expect(bad.status, `${c.what}: ${bad.stdout}${bad.stderr}`).toBe(1);
      expect(bad.stdout, c.what).toMatch(new RegExp(`^chain INVALID at block ${block}: `));
      expect(bad.stdout, c.what).toMatch(c.says);
      sql(c.undo(saved));
    }
    // Every edit undone: org3 verifies again, and the other members never stopped verifying.
    for (const id of ['ledger-org3', 'ledger-org1', 'ledger-org2', 'ledger-regulator']) {
      const ok = verify(id);
      expect(ok.status, `${id}: ${ok.stdout}${ok.stderr}`).toBe(0);
    }
  });

  it('refuses bad submissions at the door with stable codes and never orders them', async () => {
    const [good] = anchorEnvelopes(dataDir, 'org1', 1);
    const post = (body: unknown) => getJson(`${base}/ledger/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const badSig = JSON.parse(JSON.stringify(good)) as { signature: { value: string }; transaction: { nonce: string } };
    badSig.transaction.nonce = 'tampered-nonce';
    const r1 = await post(badSig);
    expect(r1.status).toBe(400);
    expect((r1.body as { code: string }).code).toBe('LEDGER.BAD_SIGNATURE');
    const stale = JSON.parse(JSON.stringify(good)) as { transaction: { timestamp: string } };
    stale.transaction.timestamp = '2020-01-01T00:00:00.000Z';
    expect(((await post(stale)).body as { code: string }).code).toBe('LEDGER.TIMESTAMP_OUT_OF_WINDOW');
    expect(((await post({ transaction: {} })).body as { code: string }).code).toBe('LEDGER.MALFORMED_TRANSACTION');
    const first = await post(good);
    expect(first.status).toBe(202);
    const again = await post(good);
    expect(again.status).toBe(409);
    expect((again.body as { code: string }).code).toBe('LEDGER.DUPLICATE_TRANSACTION');
  });

  it('turns readiness red while Kafka is down and green again when it returns, without restarting services', async () => {
    const ledger = state.processes.find((p) => p.id === 'ledger-org2')!;
    const pids = state.processes.map((p) => p.pid);
    await kafka.kafkaSh('stop');
    const down = await waitFor(
      'readiness to fail',
      async () => {
        const r = await getJson(`${ledger.url}/health/ready`);
        return r.status === 503 ? r.body : undefined;
      },
      60_000,
    );
    expect((down as { checks: Record<string, { status: string }> }).checks.kafka.status).toBe('down');
    expect((down as { checks: Record<string, { status: string }> }).checks.postgres.status).toBe('up');
    expect((await getJson(`${base}/health`)).status).toBe(503);
    expect((await getJson(`${ledger.url}/health/live`)).status).toBe(200);

    await kafka.kafkaSh('start');
    await waitFor('readiness to recover', async () => ((await getJson(`${ledger.url}/health/ready`)).status === 200 ? true : undefined), 90_000);
    await waitFor('the gateway to be green', async () => ((await getJson(`${base}/health`)).status === 200 ? true : undefined), 90_000);
    for (const pid of pids) expect(isAlive(pid)).toBe(true);
  });

  it('`down` stops exactly what `up` started', async () => {
    const pids = state.processes.map((p) => p.pid);
    const down = runNode([join(root, 'tools/stack.js'), 'down'], env, 120_000);
    expect(down.status).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    await expect(kafka.kafkaSh('status')).rejects.toThrow(/exit code 3|Command failed/); // stopped
    const status = runNode([join(root, 'tools/stack.js'), 'status'], env);
    expect(status.status).toBe(3);
  });
});
