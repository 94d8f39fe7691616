// Membership by vote on real PostgreSQL (solo ordering log shared by the nodes): the configuration
// block is certified by the members before it, and the joining member's new node bootstraps from a peer.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { canonicalBytes, formatTimestamp, generateKeyPair, keyId, nodeVerify, sign, signTransaction, toBase64Url, toHex, transactionId, type Envelope, type KeyPair } from '@alliance/protocol';
import {
  agentKeyContracts,
  anchorContract,
  configUpdateContract,
  ContractRegistry,
  genesisContract,
  MEMBERSHIP_APPLICATION_DOMAIN,
  membershipContracts,
  roleContracts,
  type ChainConfig,
  type JsonValue,
} from '@alliance/ledger/domain';
import { PostgresOrderingLog } from '@alliance/ledger/data-access';
import { createPool, readMigrations, runMigrations, type Pool } from '@alliance/shared/data-access-postgres';
import { createTestDatabase, type TestDatabase } from '@alliance/shared/testing';
import { LedgerNode } from './ledger-node';
import { LedgerQueries } from './ledger-queries';
import { VerifierPool } from './verifier-pool';
import { until } from '../test/until';

const chainId = 'membership-test';
interface Org {
  readonly organizationId: string;
  readonly admin: KeyPair;
  readonly node: KeyPair;
}
const org = (organizationId: string): Org => ({ organizationId, admin: generateKeyPair('ed25519'), node: generateKeyPair('ed25519') });
const [org1, org2, org3] = [org('org1'), org('org2'), org('org3')];
const keyOf = (k: KeyPair) => ({ keyId: keyId('ed25519', k.publicKey), algorithm: 'ed25519', publicKey: toHex(k.publicKey) });
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: [org1, org2].map((o) => ({ organizationId: o.organizationId, role: 'manufacturer', nodeKey: { algorithm: 'ed25519', publicKey: toHex(o.node.publicKey) }, keys: [keyOf(o.admin)] })),
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 10, maxBytes: 1_048_576, batchTimeoutMs: 50 },
  timestampWindowMs: 300_000,
};

let nonce = 0;
function signed(by: Org, type: string, payload: Record<string, unknown>): Envelope {
  return signTransaction(
    { chainId, type, creator: { organizationId: by.organizationId, keyId: keyId('ed25519', by.admin.publicKey) }, nonce: `n${nonce++}`, timestamp: formatTimestamp(Date.now()), payload: payload as never },
    { algorithm: 'ed25519', privateKey: by.admin.privateKey },
  );
}
const bytesOf = (e: Envelope) => canonicalBytes(e as unknown as JsonValue);
const genesis = bytesOf(signed(org1, 'config.genesis', { config }));

/** The two routes a bootstrapping peer reads, answered by the same queries the ledger app's controllers call. */
function serveBlocks(node: LedgerNode, tamper?: (path: string, body: Record<string, unknown>) => void): Promise<{ server: Server; url: string }> {
  const queries = new LedgerQueries(node);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const answer = async () => {
      const tx = /^\/ledger\/v1\/blocks\/(\d+)\/transactions$/.exec(url.pathname);
      if (tx) return queries.blockTransactions(Number(tx[1]));
      if (url.pathname === '/ledger/v1/blocks') return queries.blocks(Number(url.searchParams.get('from') ?? 0), Number(url.searchParams.get('limit') ?? 50));
      throw new Error('not found');
    };
    answer().then(
      (answered) => {
        const body = JSON.parse(JSON.stringify(answered)) as Record<string, unknown>;
        tamper?.(url.pathname, body);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      },
      (error: Error) => res.writeHead(404).end(error.message),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

describe('membership by vote on ledger nodes', () => {
  let database: TestDatabase;
  let orderingPool: Pool;
  let log: PostgresOrderingLog;
  const pools: Pool[] = [];
  const nodes: LedgerNode[] = [];
  const servers: Server[] = [];
  const verifierPool = new VerifierPool({ threads: 1 });
  const databases: TestDatabase[] = [];

  // Each node keeps its chain in its own database (schema "ledger"), as every member does.
  const nodeDatabase = async (organizationId: string): Promise<Pool> => {
    const db = await createTestDatabase(inject('databaseUrl'), `ledger_membership_${organizationId}`);
    databases.push(db);
    const pool = createPool(db.url, { applicationName: `membership-${organizationId}`, schema: 'ledger', max: 6 });
    pools.push(pool);
    await runMigrations(pool, 'ledger', readMigrations(join(__dirname, '../../../../apps/ledger/migrations')));
    return pool;
  };

  // A member signs with its node key; without one the node is an observer.
  const startNode = async (organizationId: string, options: { nodeKey?: KeyPair; bootstrapPeers?: string[]; logger?: (level: string, message: string) => void } = {}): Promise<LedgerNode> => {
    const { nodeKey, ...rest } = options;
    const node = new LedgerNode({
      chainId,
      organizationId,
      role: nodeKey ? 'member' : 'observer',
      ...(nodeKey ? { nodeKey: { algorithm: 'ed25519' as const, publicKey: nodeKey.publicKey, privateKey: nodeKey.privateKey } } : {}),
      genesis,
      pool: await nodeDatabase(organizationId),
      log,
      orderingSource: 'solo',
      registry: new ContractRegistry([genesisContract, configUpdateContract, anchorContract, ...agentKeyContracts, ...roleContracts, ...membershipContracts]),
      verifier: nodeVerify,
      verifierPool,
      ...rest,
    });
    nodes.push(node);
    await node.start();
    return node;
  };

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'ledger_membership');
    orderingPool = createPool(database.url, { applicationName: 'membership-ordering', max: 4 });
    log = new PostgresOrderingLog({ pool: orderingPool, chainId, pollIntervalMs: 20 });
  });

  afterAll(async () => {
    for (const node of nodes) await node.stop().catch(() => undefined);
    for (const s of servers) s.close();
    await log?.close().catch(() => undefined);
    await verifierPool.close();
    for (const p of pools) await p.end().catch(() => undefined);
    await orderingPool?.end().catch(() => undefined);
    await database?.drop();
    for (const db of databases) await db.drop().catch(() => undefined);
  });

  it('admits a member by vote in a block the members before it certify, and its new node bootstraps from a peer and certifies from then on', async () => {
    const [a, b] = [await startNode('org1', { nodeKey: org1.node }), await startNode('org2', { nodeKey: org2.node })];
    const application = {
      organizationId: 'org3',
      legalName: 'Org Three Logistics Co., Ltd.',
      creditCode: '91310000MA1FL8XQ3C',
      gln: '6901234000016',
      role: 'logistics',
      adminKeys: [{ algorithm: 'ed25519', publicKey: toHex(org3.admin.publicKey) }],
      nodeKey: { algorithm: 'ed25519', publicKey: toHex(org3.node.publicKey) },
    };
    const proofs = [{ keyId: keyId('ed25519', org3.admin.publicKey), signature: toBase64Url(sign('ed25519', org3.admin.privateKey, MEMBERSHIP_APPLICATION_DOMAIN, canonicalBytes(application))) }];
    const proposal = signed(org1, 'identity.membership.propose', { kind: 'join', application, proofs });
    const proposalId = transactionId(proposal.transaction);
    await a.submit([bytesOf(proposal)]);
    await a.waitForCertified(proposalId, 15_000);
    const vote1 = signed(org1, 'identity.membership.vote', { proposalId, approve: true });
    await a.submit([bytesOf(vote1)]);
    await a.waitForCertified(transactionId(vote1.transaction), 15_000);
    expect(a.currentConfig().members.map((m) => m.organizationId)).toEqual(['org1', 'org2']);
    const vote2 = signed(org2, 'identity.membership.vote', { proposalId, approve: true });
    await b.submit([bytesOf(vote2)]);
    const joinBlock = await a.waitForCertified(transactionId(vote2.transaction), 15_000);

    const queries0 = new LedgerQueries(a);
    for (const e of [proposal, vote1, vote2]) expect(await queries0.status(transactionId(e.transaction))).toMatchObject({ code: 'VALID' });
    // The deciding vote wrote configuration 1 with org3; its block is certified by org1 + org2 (the members before it).
    expect(a.currentConfig()).toMatchObject({ sequence: 1 });
    expect(a.currentConfig().members.map((m) => m.organizationId)).toEqual(['org1', 'org2', 'org3']);
    expect(a.certifiersOf(joinBlock).members.map((m) => m.organizationId)).toEqual(['org1', 'org2']);
    expect(a.certifiersOf(joinBlock + 1).members.map((m) => m.organizationId)).toEqual(['org1', 'org2', 'org3']);
    const queries = new LedgerQueries(a);
    const joined = await queries.block(joinBlock);
    expect(joined.certified).toBe(true);
    expect(joined.header.configSequence).toBe(1);
    expect(joined.signatures.map((s) => s.organizationId)).toEqual(['org1', 'org2']);
    // A receipt of the configuration block names the members that certify it.
    const receipt = await queries.receipt(transactionId(vote2.transaction));
    expect(receipt.members.map((m) => m.organizationId)).toEqual(['org1', 'org2']);

    // One more block under the new configuration (3 members: 2 of 3 certify), before org3's node exists.
    const before = signed(org1, 'ledger.anchor', { hash: toHex(new Uint8Array(32).fill(7)) });
    await a.submit([bytesOf(before)]);
    const beforeBlock = await a.waitForCertified(transactionId(before.transaction), 15_000);

    const { server, url } = await serveBlocks(a);
    servers.push(server);
    const said: string[] = [];
    const c = await startNode('org3', { nodeKey: org3.node, bootstrapPeers: ['http://127.0.0.1:1', url], logger: (_level, message) => said.push(message) });
    expect(said.some((m) => m.startsWith('bootstrap from http://127.0.0.1:1 stopped at block 0')), said.join('\n')).toBe(true);
    expect(said, said.join("\\n")).toContain(`bootstrap: ${beforeBlock} block(s) imported from peers; at block ${beforeBlock}, following the ordering log from there`);
    // Everything up to the peer's certified head came from the peer (re-executed: same headers), the rest from the log.
    expect(c.headBlock).toBeGreaterThanOrEqual(beforeBlock);
    for (let n = 0; n <= beforeBlock; n++) {
      const [ours, theirs] = await Promise.all([c.blockStore.block(n), a.blockStore.block(n)]);
      expect(toHex(ours!.headerHash)).toBe(toHex(theirs!.headerHash));
    }
    const imported = await new LedgerQueries(c).block(beforeBlock);
    expect(imported.certified).toBe(true);

    // org3's node follows the log and its signature counts from the block after its join.
    const after = signed(org3, 'ledger.anchor', { hash: toHex(new Uint8Array(32).fill(9)) });
    await c.submit([bytesOf(after)]);
    const afterBlock = await c.waitForCertified(transactionId(after.transaction), 15_000);
    await until('org3 to sign the new block everywhere', async () => (await a.blockStore.signatures(afterBlock)).length === 3);
    expect((await a.blockStore.signatures(afterBlock)).map((s) => s.organizationId)).toEqual(['org1', 'org2', 'org3']);
    expect(toHex((await c.blockStore.block(afterBlock))!.headerHash)).toBe(toHex((await b.blockStore.block(afterBlock))!.headerHash));
    // org3 never signed the blocks before it was a member.
    expect((await a.blockStore.signatures(joinBlock)).map((s) => s.organizationId)).toEqual(['org1', 'org2']);
  });

  it('refuses what a peer serves that is not certified by the members before it, or does not re-execute to the same header, and follows the log instead', async () => {
    const a = nodes[0];
    const forged = async (tamper: (path: string, body: Record<string, unknown>) => void) => {
      const { server, url } = await serveBlocks(a, tamper);
      servers.push(server);
      return url;
    };
    // Peer 1 drops one of the two signatures of every block; peer 2 changes a transaction of block 2.
    const stripped = await forged((path, body) => {
      if (path === '/ledger/v1/blocks') for (const item of body['items'] as Array<{ signatures: unknown[] }>) item.signatures = item.signatures.slice(0, 1);
    });
    const changed = await forged((path, body) => {
      if (path === '/ledger/v1/blocks/2/transactions') {
        const t = (body['transactions'] as Array<{ envelope: string }>)[0];
        const envelope = JSON.parse(Buffer.from(t.envelope, 'base64').toString('utf8')) as Envelope;
        t.envelope = Buffer.from(canonicalBytes({ ...envelope, transaction: { ...envelope.transaction, nonce: 'forged' } } as unknown as JsonValue)).toString('base64');
      }
    });
    const warnings: string[] = [];
    const observer = await startNode('regulator', { bootstrapPeers: [stripped, changed], logger: (level, message) => void (level === 'warn' && warnings.push(message)) });
    expect(warnings.some((w) => w.includes(stripped) && /LEDGER\.BOOTSTRAP_REFUSED|certified by 1 of the 2/.test(w))).toBe(true);
    expect(warnings.some((w) => w.includes(changed) && /re-executed here it has header/.test(w))).toBe(true);
    // Nothing it refused was kept: it holds block 1 from the second peer (untouched), and the log brings the rest.
    await until('the observer to reach the head', () => observer.headBlock >= a.headBlock);
    for (let n = 0; n <= a.headBlock; n++) expect(toHex((await observer.blockStore.block(n))!.headerHash)).toBe(toHex((await a.blockStore.block(n))!.headerHash));
  });
});
