import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { privateKafka, type PrivateKafka } from '@alliance/shared/testing';
import {
  canonicalBytes,
  type Envelope,
  formatTimestamp,
  fromHex,
  generateKeyPair,
  keyId,
  type KeyPair,
  sha256,
  sign,
  SignatureDomain,
  signTransaction,
  toBase64Url,
  toHex,
  transactionId,
  utf8,
  verifyReceipt,
} from '@alliance/protocol';
import { getJson, isAlive, root, runNode, tempDir, waitFor } from './support';

// A fourth organization joins the running consortium end to end, the way its
// operators would do it: the application (signed by the applicant's admin key)
// is proposed and voted on through the members' APIs, the deciding vote becomes
// a configuration block certified by the members before it, the new member
// starts its own ledger node on an empty database with LEDGER_BOOTSTRAP_PEERS,
// the node copies the certified blocks from its peers and then follows Kafka,
// and from the block after its join its signature certifies blocks with the
// others. On the same chain: an agent's key is revoked; what it signed before
// stays valid and provable, what it signs after is refused. `alliance verify
// chain` passes on every node, the new one and the regulator's observer too.

interface StackProcess {
  id: string;
  pid: number;
  url: string;
}
interface BlockView {
  blockNumber: number;
  headerHash: string;
  header: { configSequence: number };
  certified: boolean;
  signatures: Array<{ organizationId: string }>;
}

const port = 3600;
const org4Port = port + 20;
const dataDir = tempDir('onboarding');
const prefix = `onboard_${process.pid}`;
const chainId = 'alliance-demo';
const stackJs = join(root, 'tools/stack.js');
const cli = join(root, 'libs/sdk/bin/alliance.js');
const gateway = `http://127.0.0.1:${port}`;

let kafka: PrivateKafka;
let env: NodeJS.ProcessEnv;
let nodes: Record<string, StackProcess>;
let org4Node: ChildProcess | undefined;
let org4Output = '';
const org4Url = `http://127.0.0.1:${org4Port}`;

const demoKey = (org: string) => JSON.parse(readFileSync(join(dataDir, 'demo-keys', `${org}.key.json`), 'utf8')) as { publicKey: string; privateKey: string };
let nonce = 0;
function signedBy(organizationId: string, key: { publicKey: Uint8Array; privateKey: Uint8Array }, type: string, payload: Record<string, unknown>): Envelope {
  return signTransaction(
    { chainId, type, creator: { organizationId, keyId: keyId('ed25519', key.publicKey) }, nonce: `onboarding-${process.pid}-${nonce++}`, timestamp: formatTimestamp(Date.now()), payload: payload as never },
    { algorithm: 'ed25519', privateKey: key.privateKey },
  );
}
const admin = (org: string) => {
  const k = demoKey(org);
  return { publicKey: fromHex(k.publicKey), privateKey: fromHex(k.privateKey) };
};

/** POST a signed transaction and wait for its certified block; returns the ledger's answer. */
async function submit(baseUrl: string, envelope: Envelope): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await getJson(`${baseUrl}/ledger/v1/transactions?wait=commit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
  return { status: res.status, body: res.body as Record<string, unknown> };
}
async function committed(baseUrl: string, envelope: Envelope): Promise<number> {
  const r = await submit(baseUrl, envelope);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body['code'], JSON.stringify(r.body)).toBe('VALID');
  return r.body['blockNumber'] as number;
}
const block = async (baseUrl: string, n: number) => (await getJson(`${baseUrl}/ledger/v1/blocks/${n}`)).body as BlockView;
const head = async (baseUrl: string) => {
  const { body } = await getJson(`${baseUrl}/ledger/v1/checkpoints/latest`);
  return (body as { blockNumber: number }).blockNumber;
};

function nodeScript(args: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root, env, timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

beforeAll(async () => {
  kafka = await privateKafka('alliance-onboarding');
  env = { ...process.env, ...kafka.env, PORT: String(port), ALLIANCE_DATA_DIR: dataDir, STACK_DB_PREFIX: prefix, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'info' };
  delete env.KAFKA_BROKERS; // the stack starts this private broker itself
  const up = runNode([stackJs, 'up'], env, 240_000);
  if (up.status !== 0) throw new Error(`stack up failed (${up.status}):\n${up.stdout}\n${up.stderr}`);
  const state = JSON.parse(readFileSync(join(dataDir, 'stack/state.json'), 'utf8')) as { processes: StackProcess[] };
  nodes = Object.fromEntries(state.processes.map((p) => [p.id, p]));
}, 300_000);

afterAll(async () => {
  if (org4Node && org4Node.exitCode === null) {
    org4Node.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 3_000));
    if (org4Node.pid && isAlive(org4Node.pid)) org4Node.kill('SIGKILL');
  }
  const down = runNode([stackJs, 'down'], env, 120_000);
  for (const p of Object.values(nodes ?? {})) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
  await kafka?.remove();
  for (const org of ['org1', 'org2', 'org3', 'regulator', 'org4']) spawnSync('psql', [inject('databaseUrl'), '-qc', `DROP DATABASE IF EXISTS ${prefix}_${org} WITH (FORCE)`]);
  rmSync(dataDir, { recursive: true, force: true });
  expect(down.status).toBe(0);
});

describe('onboarding a fourth organization, and revoking an agent key, on the running stack', () => {
  const erp: KeyPair = generateKeyPair('ed25519');
  let beforeRevocation: Envelope;
  let revocationBlock: number;

  it("refuses a revoked agent key from the revocation block on and keeps what it signed before valid", async () => {
    const org1 = admin('org1');
    await committed(gateway, signedBy('org1', org1, 'identity.agent.register', { agentId: 'erp-connector', name: 'ERP connector', keys: [{ algorithm: 'ed25519', publicKey: toHex(erp.publicKey) }] }));
    beforeRevocation = signedBy('org1', erp, 'ledger.anchor', { hash: toHex(sha256(utf8('invoice signed before the revocation'))) });
    const before = await committed(gateway, beforeRevocation);
    revocationBlock = await committed(gateway, signedBy('org1', org1, 'identity.agent.key.revoke', { agentId: 'erp-connector', keyId: keyId('ed25519', erp.publicKey) }));
    expect(revocationBlock).toBeGreaterThan(before);

    const after = await submit(gateway, signedBy('org1', erp, 'ledger.anchor', { hash: toHex(sha256(utf8('invoice signed after the revocation'))) }));
    expect(after.status).toBe(400);
    expect(after.body['code']).toBe('LEDGER.KEY_REVOKED');
    // Another member's node refuses it too: every node resolves the key with the same state.
    const atOrg2 = await submit(nodes['ledger-org2'].url, signedBy('org1', erp, 'ledger.anchor', { hash: toHex(sha256(utf8('at org2'))) }));
    expect(atOrg2.body['code']).toBe('LEDGER.KEY_REVOKED');

    // The transaction signed before still has a receipt that verifies offline, carrying the (now revoked) key.
    const status = (await getJson(`${nodes['ledger-org3'].url}/ledger/v1/transactions/${transactionId(beforeRevocation.transaction)}`)).body as { code: string; receipt: Parameters<typeof verifyReceipt>[0] };
    expect(status.code).toBe('VALID');
    const verdict = verifyReceipt(status.receipt);
    expect(verdict).toMatchObject({ ok: true });
  }, 120_000);

  const org4Admin: KeyPair = generateKeyPair('ed25519');
  const org4NodeKey: KeyPair = generateKeyPair('ed25519');
  let joinBlock: number;

  it('admits org4 by vote through the API: application with proof of possession, two votes, one configuration block certified by the members before it', async () => {
    const application = {
      organizationId: 'org4',
      legalName: 'Demo Cold-Chain Logistics Co., Ltd.',
      creditCode: '91310115MA1K4QXR5D',
      gs1CompanyPrefix: '6901234',
      gln: '6901234000016',
      role: 'logistics',
      adminKeys: [{ algorithm: 'ed25519', publicKey: toHex(org4Admin.publicKey) }],
      nodeKey: { algorithm: 'ed25519', publicKey: toHex(org4NodeKey.publicKey) },
    };
    const proofs = [{ keyId: keyId('ed25519', org4Admin.publicKey), signature: toBase64Url(sign('ed25519', org4Admin.privateKey, SignatureDomain.membershipApplication, canonicalBytes(application))) }];
    // org1 sponsors the application (the applicant has no key on the chain yet).
    const proposal = signedBy('org1', admin('org1'), 'identity.membership.propose', { kind: 'join', application, proofs });
    await committed(gateway, proposal);
    const proposalId = transactionId(proposal.transaction);
    const firstVote = await committed(gateway, signedBy('org1', admin('org1'), 'identity.membership.vote', { proposalId, approve: true }));
    expect((await block(nodes['ledger-org1'].url, firstVote)).header.configSequence).toBe(0);
    // org2 votes through its own node: 2 of 3 members decide.
    joinBlock = await committed(nodes['ledger-org2'].url, signedBy('org2', admin('org2'), 'identity.membership.vote', { proposalId, approve: true }));

    for (const id of ['ledger-org1', 'ledger-org2', 'ledger-org3', 'ledger-regulator']) {
      const b = await waitFor(`${id} to certify the join block`, async () => {
        const v = await block(nodes[id].url, joinBlock);
        return v.certified && v.signatures.length === 3 ? v : undefined;
      }, 30_000);
      expect(b.header.configSequence).toBe(1);
      // Certified by the three members before it; org4 is not among them.
      expect(b.signatures.map((s) => s.organizationId)).toEqual(['org1', 'org2', 'org3']);
    }
    const state = (await getJson(`${nodes['ledger-org1'].url}/ledger/v1/state?limit=500`)).body as { items: Array<{ key: string; value: string | null }> };
    const config = state.items.find((r) => r.key === 'config/chain');
    expect(config, 'config/chain in the state').toBeDefined();
    const decoded = JSON.parse(Buffer.from(config!.value!, 'base64').toString('utf8')) as { sequence: number; members: Array<{ organizationId: string }> };
    expect(decoded.sequence).toBe(1);
    expect(decoded.members.map((m) => m.organizationId)).toEqual(['org1', 'org2', 'org3', 'org4']);
  }, 120_000);

  it("org4's new ledger node bootstraps from its peers' certified blocks, reaches the same head and certifies with the others", async () => {
    const keyFile = join(dataDir, 'org4-node.key.json');
    writeFileSync(keyFile, JSON.stringify({ warning: 'TEST KEY', organizationId: 'org4', algorithm: 'ed25519', publicKey: toHex(org4NodeKey.publicKey), privateKey: toHex(org4NodeKey.privateKey) }), { mode: 0o600 });
    const url = new URL(inject('databaseUrl'));
    url.pathname = `/${prefix}_org4`;
    spawnSync('psql', [inject('databaseUrl'), '-qc', `CREATE DATABASE ${prefix}_org4`]);
    mkdirSync(join(dataDir, 'org4'), { recursive: true });
    const peerHead = await head(nodes['ledger-org1'].url);
    org4Node = spawn(process.execPath, ['--enable-source-maps', join(root, 'dist/apps/ledger/src/main.js')], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(org4Port),
        ORG_ID: 'org4',
        DATABASE_URL: url.toString(),
        MESSAGING: 'kafka',
        KAFKA_BROKERS: kafka.brokers.join(','),
        CHAIN_ID: chainId,
        LEDGER_GENESIS_FILE: join(dataDir, 'genesis.json'),
        LEDGER_NODE_KEY_FILE: keyFile,
        LEDGER_ROLE: 'member',
        LEDGER_NODE_ID: 'org4-node',
        LEDGER_BOOTSTRAP_PEERS: `${nodes['ledger-org1'].url},${nodes['ledger-org2'].url}`,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    org4Node.stdout?.on('data', (d: Buffer) => (org4Output += d.toString()));
    org4Node.stderr?.on('data', (d: Buffer) => (org4Output += d.toString()));
    await waitFor('org4 node ready', async () => ((await getJson(`${org4Url}/health/ready`).catch(() => ({ status: 0 }))).status === 200 ? true : undefined), 90_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${org4Output.slice(-3000)}`);
    });
    // It copied the certified blocks from a peer rather than replaying Kafka from offset 0.
    const imported = /bootstrap: (\d+) block\(s\) imported from peers; at block (\d+)/.exec(org4Output);
    expect(imported, org4Output.slice(-2000)).not.toBeNull();
    expect(Number(imported![2])).toBeGreaterThanOrEqual(peerHead);

    // A transaction signed by org4's own admin key, through org4's own node.
    const first = signedBy('org4', org4Admin, 'ledger.anchor', { hash: toHex(sha256(utf8('org4 first document'))) });
    const n = await committed(org4Url, first);
    expect(n).toBeGreaterThan(joinBlock);
    const everyone = ['ledger-org1', 'ledger-org2', 'ledger-org3', 'ledger-regulator'].map((id) => nodes[id].url).concat(org4Url);
    const views = await Promise.all(
      everyone.map((u) => waitFor(`${u} to have block ${n} signed by all four members`, async () => {
        const v = await block(u, n).catch(() => undefined);
        return v && v.certified && v.signatures.length === 4 ? v : undefined;
      }, 30_000)),
    );
    for (const v of views) {
      expect(v.headerHash).toBe(views[0].headerHash);
      expect(v.signatures.map((s) => s.organizationId)).toEqual(['org1', 'org2', 'org3', 'org4']);
    }
    // The same head everywhere, block by block.
    const org1Head = await head(nodes['ledger-org1'].url);
    await waitFor('org4 at the same certified head', async () => ((await head(org4Url)) >= org1Head ? true : undefined), 30_000);
    for (let b = 0; b <= org1Head; b++) expect((await block(org4Url, b)).headerHash).toBe((await block(nodes['ledger-org1'].url, b)).headerHash);
  }, 180_000);

  it('`alliance verify chain` passes on the new node, a founding member and the observer (genesis members pinned)', async () => {
    const members = join(dataDir, 'genesis.json');
    for (const u of [org4Url, nodes['ledger-org1'].url, nodes['ledger-regulator'].url]) {
      const run = await nodeScript([cli, 'verify', 'chain', '--url', u, '--members', members], 120_000);
      expect(run.code, `${u}: ${run.output}`).toBe(0);
      expect(run.output).toMatch(/chain OK/);
      expect(run.output).toMatch(/configuration 1 from block \d+ \(certified by the members of configuration 0\)/);
    }
  }, 300_000);
});
