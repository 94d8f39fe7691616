// Issue 7 items 1 and 3: the observer verifies — whole-chain runs of the SDK's verifier streamed as NDJSON
// and over a GraphQL subscription, recorded append-only; one transaction and a consistency proof verified;
// the observer watch comparing members' signed checkpoints (fork, withheld blocks). And the "done means":
// for every table that holds ledger data, one row changed in the member's database is detected and located
// by the audit's chain verification and by `alliance verify chain`, and passes again once restored.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { checkpointOrigin, formatCheckpoint, formatSignedNote, generateKeyPair, sha256, signCheckpoint, toHex, utf8 } from '@alliance/protocol';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { main as alliance } from '../../../libs/sdk/src/cli';
import { startService } from '@alliance/shared/feature-platform';
import { freePort } from '@alliance/shared/testing';
import { AuditTestChain, member, REGULATOR, until } from '../test/harness';
import { auditService } from './main';
import type { RunLine, VerdictLine } from './verification-runs';

type Line = RunLine & Record<string, unknown>;

/** A member node of "org2" for the watch: mirrors org1's node, or serves the checkpoint a test scripts. */
class FakeNode {
  server!: Server;
  upstream = '';
  /** Milliseconds added to every answer (a slow node keeps a run going). */
  delayMs = 0;
  checkpoint: Record<string, unknown> | null = null;
  refuseProofs = false;

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void (async () => {
        if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
        const path = req.url ?? '/';
        if (this.checkpoint && path.startsWith('/ledger/v1/checkpoints/latest')) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.checkpoint));
          return;
        }
        if (this.refuseProofs && path.startsWith('/ledger/v1/proofs/consistency')) {
          res.writeHead(503, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: 'COMMON.UNAVAILABLE', detail: 'down' }));
          return;
        }
        const up = await fetch(`${this.upstream}${path}`, { headers: { accept: req.headers.accept ?? 'application/json' } });
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await up.arrayBuffer()));
      })().catch(() => res.writeHead(502).end());
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('audit verification: chain runs, items with proofs, the observer watch', () => {
  const chain = new AuditTestChain('audit-verification', [member('org1', 'manufacturer')], [member(REGULATOR, 'regulator')]);
  const fake = new FakeNode();
  const ledgerPool = () => chain.identity!.runtime.pool; // org1's node's database (the identity test DB)
  const auditPool = () => chain.service(REGULATOR).service.runtime.pool;
  let anchorTx = '';

  /** One whole-chain run of `node` over REST: every NDJSON line, in order. */
  async function runChain(node: string): Promise<{ lines: Line[]; verdict: VerdictLine; contentType: string | null }> {
    const res = await fetch(`${chain.audit.url}/audit/v1/verifications/chain?node=${node}`, { headers: { authorization: `Bearer ${await chain.tokenOf(chain.regulator)}` } });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Line);
    const verdict = lines[lines.length - 1] as VerdictLine;
    expect(verdict.type).toBe('verdict');
    return { lines, verdict, contentType: res.headers.get('content-type') };
  }

  const anchor = (i: number) => chain.signed(chain.members[0], 'ledger.anchor', { hash: toHex(sha256(utf8(`audit-verification-${i}`))) });

  beforeAll(async () => {
    await fake.start();
    await chain.startAudit(inject('databaseUrl'), 'audit_verification', ['org1'], {
      // A getter: read when the harness builds the audit's variables, once org1's node is up.
      get AUDIT_MEMBER_NODES() {
        fake.upstream = chain.ledger.url;
        return `org1=${chain.ledger.url},org2=${fake.url}`;
      },
      AUDIT_WATCH_INTERVAL_MS: '150',
      AUDIT_WITHHELD_AFTER_MS: '500',
    } as Record<string, string>);
    // A few blocks with state: one anchor per block.
    for (let i = 0; i < 4; i++) {
      const envelope = anchor(i);
      await chain.submit(envelope);
      if (i === 1) anchorTx = (await ledgerPool().query<{ transaction_id: string }>(`SELECT transaction_id FROM ledger.transactions WHERE type = 'ledger.anchor' ORDER BY leaf_index LIMIT 1`)).rows[0].transaction_id;
    }
  }, 180_000);
  afterAll(async () => {
    await chain.stop();
    await fake.stop();
  });

  it('refuses a bad member-node configuration at start-up with a clear error', async () => {
    const c = chain.audit.runtime.config as unknown as Record<string, unknown>;
    const env = { DATABASE_URL: String(c['DATABASE_URL']), MESSAGING: 'postgres', ORG_ID: REGULATOR, CHAIN_ID: chain.chainId, LOG_LEVEL: 'silent', AUTH_JWKS_URL: String(c['AUTH_JWKS_URL']), AUDIT_LEDGER_URL: chain.ledger.url };
    for (const [nodes, says] of [
      ['org1=ftp://x', /AUDIT_MEMBER_NODES: the node of org1 \("ftp:\/\/x"\) is not an http/],
      ['org1=http://a,org1=http://b', /AUDIT_MEMBER_NODES: org1 is listed twice/],
      ['http://a', /AUDIT_MEMBER_NODES: "http:\/\/a" is not <organizationId>=<http\(s\) URL>/],
    ] as const) {
      await expect(startService(auditService, { ...env, PORT: String(await freePort()), AUDIT_MEMBER_NODES: nodes }), nodes).rejects.toThrow(says);
    }
  });

  it('verifies a node’s whole chain, streaming progress lines then the verdict; the run is recorded and listed', async () => {
    const { lines, verdict, contentType } = await runChain('observer');
    expect(contentType).toMatch(/^application\/x-ndjson/);
    expect(lines[0]).toMatchObject({ type: 'progress', node: 'observer', blocksVerified: 0 });
    expect(lines.slice(0, -1).every((l) => l.type === 'progress' && l.runId === verdict.runId)).toBe(true);
    const head = Number((await ledgerPool().query('SELECT max(block_number) AS n FROM ledger.blocks')).rows[0].n);
    expect(head).toBeGreaterThanOrEqual(4);
    expect(verdict).toMatchObject({ ok: true, outcome: 'passed', node: 'observer', mode: 'full', firstFailure: null, error: null, blocksVerified: head + 1, target: head });
    expect(verdict.stateRows).toBeGreaterThanOrEqual(4);
    expect(verdict.trust).toMatchObject({ chainId: chain.chainId, genesisLeafHash: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const listed = await chain.auditCall('GET', '/verifications?limit=1000');
    expect(listed.status, listed.text).toBe(200);
    const items = listed.body['items'] as Array<{ runId: string; node: string; outcome: string; ok: boolean; blocksVerified: number; verdict: VerdictLine }>;
    expect(items.find((r) => r.runId === verdict.runId)).toMatchObject({ node: 'observer', outcome: 'passed', ok: true, blocksVerified: head + 1, verdict: { firstFailure: null, target: head } });
    const one = await chain.auditCall('GET', `/verifications/${verdict.runId}`);
    expect(one.body).toMatchObject({ runId: verdict.runId, outcome: 'passed' });
    expect((await chain.auditCall('GET', `/verifications/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`)).body['code']).toBe('AUDIT.NOT_FOUND');
    expect((await chain.auditCall('GET', '/verifications/chain')).body['code']).toBe('AUDIT.INVALID_QUERY');
    expect((await chain.auditCall('GET', '/verifications/chain?node=org9')).body['code']).toBe('AUDIT.NOT_FOUND');
    expect((await chain.auditCall('GET', '/verifications?limit=0')).body['code']).toBe('AUDIT.INVALID_QUERY');
    // The table is append-only and the run's access is recorded.
    await expect(auditPool().query(`UPDATE audit.verification_runs SET outcome = 'failed'`)).rejects.toThrow(/append-only/);
    const log = await chain.auditCall('GET', '/access-log?limit=1000');
    expect((log.body['items'] as Array<{ operation: string; parameters: string }>).some((e) => e.operation === 'GET /audit/v1/verifications/chain' && e.parameters.includes('"node":"observer"'))).toBe(true);
  });

  it('a second request while a run of the node is going joins it: same run, one record', async () => {
    fake.delayMs = 40;
    try {
      const token = await chain.tokenOf(chain.regulator);
      const first = await fetch(`${chain.audit.url}/audit/v1/verifications/chain?node=org2`, { headers: { authorization: `Bearer ${token}` } });
      const reader = first.body!.getReader();
      const firstChunk = new TextDecoder().decode((await reader.read()).value);
      const runId = (JSON.parse(firstChunk.split('\n')[0]) as Line).runId;
      const second = await fetch(`${chain.audit.url}/audit/v1/verifications/chain?node=org2`, { headers: { authorization: `Bearer ${token}` } });
      const secondLines = (await second.text()).trim().split('\n').map((l) => JSON.parse(l) as Line);
      let rest = firstChunk;
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
      const firstVerdict = JSON.parse(rest.trim().split('\n').pop()!) as VerdictLine;
      expect(secondLines[0]).toMatchObject({ type: 'progress', runId, joined: true });
      expect(secondLines[secondLines.length - 1]).toEqual(firstVerdict);
      expect(firstVerdict).toMatchObject({ runId, ok: true, node: 'org2' });
      const { rows } = await auditPool().query('SELECT count(*)::int AS n FROM audit.verification_runs WHERE run_id = $1', [runId]);
      expect(rows[0].n).toBe(1);
    } finally {
      fake.delayMs = 0;
    }
  });

  it('streams the same run over the GraphQL subscription auditChainVerification', async () => {
    const token = await chain.tokenOf(chain.regulator);
    const client = createClient({
      url: `${chain.audit.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: class extends WebSocket {
        constructor(address: string | URL, protocols?: string | string[]) {
          super(address, protocols, { headers: { authorization: `Bearer ${token}` } });
        }
      },
      retryAttempts: 0,
    });
    const lines: Array<Record<string, unknown>> = [];
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => {
      client.subscribe<{ auditChainVerification: Record<string, unknown> }>(
        { query: 'subscription { auditChainVerification(node: "org1") { type runId node blocksVerified target outcome ok firstFailure { blockNumber code detail } verdict } }' },
        { next: (r) => (r.data ? lines.push(r.data.auditChainVerification) : errors.push(r.errors)), error: (e) => (errors.push(e), resolve()), complete: () => resolve() },
      );
    });
    await client.dispose();
    expect(JSON.stringify(errors)).toBe('[]');
    expect(lines[0]).toMatchObject({ type: 'progress', node: 'org1', blocksVerified: 0 });
    const last = lines[lines.length - 1];
    expect(last).toMatchObject({ type: 'verdict', node: 'org1', ok: true, outcome: 'passed', firstFailure: null });
    expect(JSON.parse(last['verdict'] as string)).toMatchObject({ runId: last['runId'], ok: true });
    const runs = await chain.auditGraphql('query($node: String) { auditVerificationRuns(node: $node, limit: 1000) { items { runId ok outcome } next } }', { node: 'org1' });
    expect(runs.errors).toBeUndefined();
    expect((runs.data!['auditVerificationRuns'] as { items: Array<{ runId: string }> }).items.map((r) => r.runId)).toContain(last['runId']);
  });

  it('verifies one transaction with its proof against the latest checkpoint, and consistency between two checkpoints', async () => {
    const r = await chain.auditCall('GET', `/verifications/transactions/${anchorTx}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ ok: true, node: 'observer', transactionId: anchorTx, code: 'VALID', receiptVerification: { ok: true, certifiedBy: ['org1'] }, checkpoint: { ok: true, verifiedBy: ['org1'] }, inCheckpoint: { ok: true }, firstFailure: null });
    expect((await chain.auditCall('GET', `/verifications/transactions/${'ab'.repeat(32)}`)).body['code']).toBe('AUDIT.NOT_FOUND');
    expect((await chain.auditCall('GET', '/verifications/transactions/xyz')).body['code']).toBe('AUDIT.INVALID_QUERY');

    const byBlock = await chain.auditCall('GET', '/verifications/consistency?fromBlock=1');
    expect(byBlock.status, byBlock.text).toBe(200);
    expect(byBlock.body).toMatchObject({ ok: true, from: { blockNumber: 1, certifiedBy: ['org1'] }, method: 'consistency-proof', firstFailure: null });
    const sizes = (await ledgerPool().query<{ log_size: string }>('SELECT log_size FROM ledger.blocks WHERE block_number IN (2, 3) ORDER BY block_number')).rows.map((x) => Number(x.log_size));
    const bySize = await chain.auditCall('GET', `/verifications/consistency?fromSize=${sizes[0]}&toSize=${sizes[1]}&node=org1`);
    expect(bySize.body).toMatchObject({ ok: true, node: 'org1', from: { blockNumber: 2, treeSize: sizes[0] }, to: { blockNumber: 3, treeSize: sizes[1] } });
    expect((await chain.auditCall('GET', `/verifications/consistency?fromSize=${sizes[1]}&toSize=${sizes[0]}`)).body['code']).toBe('AUDIT.INVALID_QUERY');
    expect((await chain.auditCall('GET', '/verifications/consistency')).body['code']).toBe('AUDIT.INVALID_QUERY');
    // Event and receivable verification read through the regulator's provenance and finance services.
    expect((await chain.auditCall('GET', '/verifications/events/urn:uuid:no-such-event')).status).toBe(404);
  });

  it('done means: a changed row in any ledger table of the member’s database is detected and located, by the audit and by `alliance verify chain`, and passes once restored', async () => {
    const sql = async (statement: string): Promise<string | null> => {
      const { rows } = await ledgerPool().query(statement);
      const first = rows[0] as Record<string, unknown> | undefined;
      return first === undefined ? null : String(Object.values(first)[0]);
    };
    const head = Number(await sql('SELECT max(block_number) FROM ledger.blocks'));
    const anchorKeys = (await ledgerPool().query<{ key: string }>(`SELECT key FROM ledger.state WHERE key LIKE 'anchor/%' ORDER BY key COLLATE "C"`)).rows.map((r) => r.key);
    expect(anchorKeys.length).toBeGreaterThanOrEqual(3);
    const validLeaf = await sql("SELECT min(leaf_index) FROM ledger.transactions WHERE block_number > 0 AND code = 'VALID'");
    const otherCheckpointSignature = await sql(`SELECT checkpoint_signature FROM ledger.header_signatures WHERE block_number = ${head} AND organization_id = 'org1'`);
    const cases: Array<{ table: string; what: string; save?: string; edit: string; undo: (saved: string) => string; code: RegExp; alert: 'verification-failure' | 'divergent-state' }> = [
      {
        table: 'blocks',
        what: 'the stored header (one byte of its timestamp)',
        edit: `UPDATE ledger.blocks SET header = convert_to(regexp_replace(convert_from(header, 'UTF8'), '"timestamp":"(\\d)', '"timestamp":"9'), 'UTF8') WHERE block_number = 2 RETURNING block_number`,
        save: `SELECT encode(header, 'hex') FROM ledger.blocks WHERE block_number = 2`,
        undo: (saved) => `UPDATE ledger.blocks SET header = decode('${saved}', 'hex') WHERE block_number = 2`,
        code: /SDK\.HEADER_HASH_MISMATCH/,
        alert: 'verification-failure',
      },
      {
        table: 'blocks',
        what: 'transaction_count',
        edit: 'UPDATE ledger.blocks SET transaction_count = transaction_count + 1 WHERE block_number = 1 RETURNING block_number',
        undo: () => 'UPDATE ledger.blocks SET transaction_count = transaction_count - 1 WHERE block_number = 1',
        code: /SDK\.STORED_COLUMN_MISMATCH/,
        alert: 'verification-failure',
      },
      {
        table: 'transactions',
        what: 'one bit of a stored envelope',
        edit: 'UPDATE ledger.transactions SET envelope = set_byte(envelope, 40, get_byte(envelope, 40) # 1) WHERE leaf_index = (SELECT max(leaf_index) FROM ledger.transactions) RETURNING block_number',
        undo: () => 'UPDATE ledger.transactions SET envelope = set_byte(envelope, 40, get_byte(envelope, 40) # 1) WHERE leaf_index = (SELECT max(leaf_index) FROM ledger.transactions)',
        code: /PROTOCOL\.TRANSACTION_ID_MISMATCH|PROTOCOL\.BLOCK_CONTENT_MISMATCH|SDK\.STORED_COLUMN_MISMATCH/,
        alert: 'verification-failure',
      },
      {
        table: 'transactions',
        what: 'the code column',
        edit: `UPDATE ledger.transactions SET code = 'LEDGER.ANCHOR_EXISTS' WHERE leaf_index = ${validLeaf} RETURNING block_number`,
        undo: () => `UPDATE ledger.transactions SET code = 'VALID' WHERE leaf_index = ${validLeaf}`,
        code: /SDK\.TRANSACTION_LIST_MISMATCH/,
        alert: 'verification-failure',
      },
      {
        table: 'header_signatures',
        what: 'one bit of a header signature',
        edit: "UPDATE ledger.header_signatures SET signature = set_byte(signature, 5, get_byte(signature, 5) # 1) WHERE block_number = 2 AND organization_id = 'org1' RETURNING block_number",
        undo: () => "UPDATE ledger.header_signatures SET signature = set_byte(signature, 5, get_byte(signature, 5) # 1) WHERE block_number = 2 AND organization_id = 'org1'",
        code: /PROTOCOL\.BAD_HEADER_SIGNATURE|PROTOCOL\.NOT_CERTIFIED/,
        alert: 'verification-failure',
      },
      {
        table: 'header_signatures',
        what: 'the checkpoint signature (another block’s)',
        edit: `UPDATE ledger.header_signatures SET checkpoint_signature = '${otherCheckpointSignature}' WHERE block_number = 1 AND organization_id = 'org1' RETURNING block_number`,
        save: "SELECT checkpoint_signature FROM ledger.header_signatures WHERE block_number = 1 AND organization_id = 'org1'",
        undo: (saved) => `UPDATE ledger.header_signatures SET checkpoint_signature = '${saved}' WHERE block_number = 1 AND organization_id = 'org1'`,
        code: /SDK\.STORED_COLUMN_MISMATCH/,
        alert: 'verification-failure',
      },
      {
        table: 'state',
        what: 'a value',
        edit: `UPDATE ledger.state SET value = convert_to('{"forged":true}', 'UTF8') WHERE key = '${anchorKeys[0]}' RETURNING block_number`,
        save: `SELECT encode(value, 'hex') FROM ledger.state WHERE key = '${anchorKeys[0]}'`,
        undo: (saved) => `UPDATE ledger.state SET value = decode('${saved}', 'hex') WHERE key = '${anchorKeys[0]}'`,
        code: /SDK\.STATE_MISMATCH/,
        alert: 'divergent-state',
      },
      {
        table: 'state',
        what: 'a version',
        edit: `UPDATE ledger.state SET version = version + 1 WHERE key = '${anchorKeys[1]}' RETURNING block_number`,
        undo: () => `UPDATE ledger.state SET version = version - 1 WHERE key = '${anchorKeys[1]}'`,
        code: /SDK\.STATE_MISMATCH/,
        alert: 'divergent-state',
      },
      {
        table: 'state',
        what: 'a row added by hand',
        edit: "INSERT INTO ledger.state (key, value, version, block_number, transaction_id) VALUES ('anchor/forged', convert_to('{}', 'UTF8'), 1, 1, repeat('ab', 32)) RETURNING block_number",
        undo: () => "DELETE FROM ledger.state WHERE key = 'anchor/forged'",
        code: /SDK\.STATE_MISMATCH/,
        alert: 'divergent-state',
      },
    ];
    expect(new Set(cases.map((c) => c.table))).toEqual(new Set(['blocks', 'transactions', 'header_signatures', 'state']));
    for (const c of cases) {
      const label = `${c.table}: ${c.what}`;
      const saved = c.save === undefined ? '' : ((await sql(c.save)) ?? '');
      const block = Number(await sql(c.edit));
      try {
        const { verdict } = await runChain('org1');
        expect(verdict.outcome, `${label}: ${JSON.stringify(verdict)}`).toBe('failed');
        expect(verdict.firstFailure?.blockNumber, `${label}: ${JSON.stringify(verdict.firstFailure)}`).toBe(block);
        expect(verdict.firstFailure?.code, label).toMatch(c.code);
        expect(verdict.alert?.kind, label).toBe(c.alert);
        const { rows } = await auditPool().query('SELECT kind, severity, subject, organization_id, block_number FROM audit.alerts WHERE alert_id = $1', [verdict.alert!.alertId]);
        expect(rows, label).toEqual([{ kind: c.alert, severity: 'critical', subject: 'node:org1', organization_id: 'org1', block_number: String(block) }]);
        const recorded = await chain.auditCall('GET', `/verifications/${verdict.runId}`);
        expect(recorded.body, label).toMatchObject({ outcome: 'failed', ok: false, verdict: { firstFailure: { blockNumber: block } } });
        if (c === cases[0] || c.table === 'state') {
          // The SDK's own CLI against the same edited node names the same block.
          let out = '';
          const code = await alliance(['verify', 'chain', '--url', chain.ledger.url, '--quiet'], { stdout: { write: (t: string | Uint8Array) => (out += String(t)) }, stderr: { write: () => true }, env: {}, readStdin: async () => new Uint8Array() });
          expect(code, `${label}: ${out}`).toBe(1);
          expect(out, label).toMatch(new RegExp(`^chain INVALID at block ${block}: `));
        }
      } finally {
        await sql(c.undo(saved));
      }
      const again = await runChain('org1');
      expect(again.verdict, `${label} restored`).toMatchObject({ ok: true, outcome: 'passed' });
    }
  }, 240_000);

  it('watches the members’ signed checkpoints: lists nodes; raises withheld-block (behind, ahead) and fork once each', async () => {
    const nodes = await chain.auditCall('GET', '/nodes');
    expect(nodes.status, nodes.text).toBe(200);
    const items = nodes.body['items'] as Array<{ node: string; url: string; status: string; checkpoint: { treeSize: number; verified: boolean } | null }>;
    expect(items.map((n) => [n.node, n.status])).toEqual([
      ['observer', 'reference'],
      ['org1', 'in-sync'],
      ['org2', 'in-sync'],
    ]);
    expect(items[0]).toMatchObject({ url: chain.ledger.url, checkpoint: { verified: true } });
    const alertsOf = async (kind: string) => (await auditPool().query<{ alert_id: string; subject: string; block_number: string; detail: Record<string, unknown> }>('SELECT alert_id, subject, block_number, detail FROM audit.alerts WHERE kind = $1 ORDER BY seq', [kind])).rows;
    const checkpoint = async () => (await (await fetch(`${chain.ledger.url}/ledger/v1/checkpoints/latest`)).json()) as { blockNumber: number; treeSize: number; rootHash: string };

    // org2 stays at an old checkpoint while the chain moves on: behind for longer than AUDIT_WITHHELD_AFTER_MS.
    const old = await checkpoint();
    fake.checkpoint = old;
    await chain.submit(anchor(10));
    const behind = await until('a withheld-block alert naming org2', async () => (await alertsOf('withheld-block')).find((a) => a.subject === 'node:org2' && a.detail['lackedBy'] === 'org2'), 15_000);
    expect(Number(behind.block_number)).toBe(old.blockNumber + 1);
    const listed = (await chain.auditCall('GET', '/nodes')).body['items'] as Array<{ node: string; status: string; consistency: string }>;
    expect(listed.find((n) => n.node === 'org2')).toMatchObject({ status: 'behind', consistency: 'proven' });

    // org2 signs a checkpoint of the same size with another root: a fork, raised once.
    const now = await checkpoint();
    const forgedRoot = new Uint8Array(randomBytes(32));
    const text = formatCheckpoint({ origin: checkpointOrigin(chain.chainId), treeSize: now.treeSize, rootHash: forgedRoot });
    fake.checkpoint = { blockNumber: now.blockNumber, treeSize: now.treeSize, rootHash: toHex(forgedRoot), note: formatSignedNote(text, [signCheckpoint(text, { name: 'org1', privateKey: chain.node.privateKey })]), signedBy: ['org1'] };
    const fork = await until('a fork alert', async () => (await alertsOf('fork'))[0], 15_000);
    expect(fork).toMatchObject({ subject: 'node:org2', block_number: String(now.blockNumber), detail: { treeSize: now.treeSize, memberRoot: toHex(forgedRoot), observerRoot: now.rootHash } });
    await new Promise((r) => setTimeout(r, 600));
    expect(await alertsOf('fork')).toHaveLength(1);

    // org2 claims a checkpoint ahead of the observer that the observer never gets: withheld from the observer.
    const aheadText = formatCheckpoint({ origin: checkpointOrigin(chain.chainId), treeSize: now.treeSize + 3, rootHash: forgedRoot });
    fake.refuseProofs = true;
    fake.checkpoint = { blockNumber: now.blockNumber + 1, treeSize: now.treeSize + 3, rootHash: toHex(forgedRoot), note: formatSignedNote(aheadText, [signCheckpoint(aheadText, { name: 'org1', privateKey: chain.node.privateKey })]), signedBy: ['org1'] };
    const lacked = await until('a withheld-block alert for the observer', async () => (await alertsOf('withheld-block')).find((a) => a.detail['lackedBy'] === 'observer'), 15_000);
    expect(lacked).toMatchObject({ subject: 'node:org2', detail: { treeSize: now.treeSize + 3, consistency: 'unproven' } });

    // A checkpoint signed by a key that is not the member's: not verified, a verification-failure.
    const stranger = generateKeyPair('ed25519');
    fake.checkpoint = { ...fake.checkpoint, note: formatSignedNote(aheadText, [signCheckpoint(aheadText, { name: 'org1', privateKey: stranger.privateKey })]) };
    const bad = await until('a verification-failure for org2’s checkpoint', async () => (await alertsOf('verification-failure')).find((a) => a.subject === 'node:org2'), 15_000);
    expect(bad.detail).toMatchObject({ treeSize: now.treeSize + 3 });
    expect(((await chain.auditCall('GET', '/nodes')).body['items'] as Array<{ node: string; status: string }>).find((n) => n.node === 'org2')?.status).toBe('bad-checkpoint');
    fake.checkpoint = null;
    fake.refuseProofs = false;
    const gql = await chain.auditGraphql('{ auditNodes { node status checkpoint { treeSize verified } } }');
    expect(gql.errors).toBeUndefined();
    expect((gql.data!['auditNodes'] as Array<{ node: string }>).map((n) => n.node)).toEqual(['observer', 'org1', 'org2']);
  });
});
