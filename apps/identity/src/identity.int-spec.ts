// The identity read model against a real ledger service on real PostgreSQL (embedded messaging):
// blocks arrive as ledger.block.committed.v1 events and through the node's REST API; the REST and
// GraphQL answers, `atBlock`, the identity events and a rebuild are checked against the chain.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatTimestamp, generateKeyPair, keyId, signTransaction, toHex, type Envelope, type KeyPair } from '@alliance/protocol';
import type { ChainConfig } from '@alliance/ledger/domain';
import { startService, type RunningService } from '@alliance/shared/feature-platform';
import { createTestDatabase, freePort, type TestDatabase } from '@alliance/shared/testing';
// The real ledger service, in this process: the read model is tested against the node it follows in production.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ledgerService } from '../../ledger/src/main';
import { identityService } from './main';

const chainId = 'identity-test';
const admin = generateKeyPair('ed25519');
const node = generateKeyPair('ed25519');
const agentKey = generateKeyPair('ed25519');
const nextAgentKey = generateKeyPair('ed25519');
const deviceKey = generateKeyPair('ed25519');
const adminKeyId = keyId('ed25519', admin.publicKey);
const config: ChainConfig = {
  chainId,
  sequence: 0,
  members: [{ organizationId: 'org1', role: 'manufacturer', nodeKey: { algorithm: 'ed25519', publicKey: toHex(node.publicKey) }, keys: [{ keyId: adminKeyId, algorithm: 'ed25519', publicKey: toHex(admin.publicKey) }] }],
  policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
  cutting: { maxTransactions: 10, maxBytes: 1_048_576, batchTimeoutMs: 20 },
  timestampWindowMs: 300_000,
};

let nonce = 0;
function signed(type: string, payload: Record<string, unknown>, key: KeyPair = admin): Envelope {
  return signTransaction(
    { chainId, type, creator: { organizationId: 'org1', keyId: keyId('ed25519', key.publicKey) }, nonce: `n${nonce++}`, timestamp: formatTimestamp(Date.now()), payload: payload as never },
    { algorithm: 'ed25519', privateKey: key.privateKey },
  );
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('identity read model', () => {
  let database: TestDatabase;
  let ledger: RunningService;
  let identity: RunningService | undefined;
  const blocks: Record<string, number> = {};

  const env = () => ({ DATABASE_URL: database.url, MESSAGING: 'postgres', ORG_ID: 'org1', CHAIN_ID: chainId, LOG_LEVEL: 'silent' });
  const submit = async (envelope: Envelope): Promise<number> => {
    const r = await json(`${ledger.url}/ledger/v1/transactions?wait=commit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
    expect(r.body['code'], JSON.stringify(r.body)).toBe('VALID');
    return r.body['blockNumber'] as number;
  };
  const startIdentity = async () => {
    identity = await startService(identityService, { ...env(), PORT: String(await freePort()), LEDGER_URL: ledger.url, IDENTITY_POLL_INTERVAL_MS: '200' });
    return identity;
  };
  const lastBlock = async () => ((await json(`${identity!.url}/identity/v1/read-model`)).body['lastBlock'] as number);
  const caughtUp = (n: number) => until(`read model at block ${n}`, async () => ((await lastBlock()) >= n ? true : undefined));

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'identity_rm');
    const dir = mkdtempSync(join(tmpdir(), 'alliance-identity-'));
    writeFileSync(join(dir, 'genesis.json'), JSON.stringify(signed('config.genesis', { config })));
    writeFileSync(join(dir, 'node.key.json'), JSON.stringify({ publicKey: toHex(node.publicKey), privateKey: toHex(node.privateKey) }));
    ledger = await startService(ledgerService, { ...env(), PORT: String(await freePort()), LEDGER_GENESIS_FILE: join(dir, 'genesis.json'), LEDGER_NODE_KEY_FILE: join(dir, 'node.key.json') });
    // Blocks before the identity service starts: it must backfill them.
    await submit(signed('identity.role.define', { roleId: 'quality', permissions: ['provenance.event.capture'] }));
    blocks['registered'] = await submit(signed('identity.agent.register', { agentId: 'erp', name: 'ERP connector', roles: ['quality'], keys: [{ algorithm: 'ed25519', publicKey: toHex(agentKey.publicKey) }] }));
  });

  afterAll(async () => {
    await identity?.close();
    await ledger?.close();
    await database?.drop();
  });

  it('catches up with the blocks committed before it started, then follows new ones as they commit', async () => {
    await startIdentity();
    await caughtUp(blocks['registered']);
    blocks['device'] = await submit(signed('identity.device.register', { deviceId: 'urn:epc:id:giai:6901234.sensor-1', model: 'TH-100', key: { algorithm: 'ed25519', publicKey: toHex(deviceKey.publicKey) }, assets: [], locations: [] }));
    blocks['rotated'] = await submit(signed('identity.agent.key.rotate', { agentId: 'erp', keyId: keyId('ed25519', agentKey.publicKey), newKey: { algorithm: 'ed25519', publicKey: toHex(nextAgentKey.publicKey) } }));
    blocks['revoked'] = await submit(signed('identity.agent.key.revoke', { agentId: 'erp', keyId: keyId('ed25519', nextAgentKey.publicKey) }));
    blocks['suspended'] = await submit(signed('identity.device.suspend', { deviceId: 'urn:epc:id:giai:6901234.sensor-1', reason: 'calibration overdue' }));
    await caughtUp(blocks['suspended']);
  });

  it('answers organizations, agents with their key history, roles, permissions and devices, now and at an earlier block', async () => {
    const base = `${identity!.url}/identity/v1`;
    const orgs = (await json(`${base}/organizations`)).body['items'] as Array<Record<string, unknown>>;
    expect(orgs).toEqual([expect.objectContaining({ organizationId: 'org1', role: 'manufacturer', status: 'member', joinedAtBlock: 0, leftAtBlock: null })]);

    const now = (await json(`${base}/organizations/org1/agents/erp`)).body;
    expect(now['permissions']).toEqual(['provenance.event.capture']);
    expect((now['keys'] as Array<Record<string, unknown>>).map((k) => [k['status'], k['endedAtBlock']])).toEqual([
      ['rotated', blocks['rotated']],
      ['revoked', blocks['revoked']],
    ]);
    const before = (await json(`${base}/organizations/org1/agents/erp?atBlock=${blocks['registered']}`)).body;
    expect((before['keys'] as Array<Record<string, unknown>>).map((k) => k['status'])).toEqual(['active']);
    const history = (await json(`${base}/organizations/org1/agents/erp/history`)).body['items'] as Array<Record<string, unknown>>;
    expect(history.map((h) => [h['blockNumber'], h['transactionType']])).toEqual([
      [blocks['registered'], 'identity.agent.register'],
      [blocks['rotated'], 'identity.agent.key.rotate'],
      [blocks['revoked'], 'identity.agent.key.revoke'],
    ]);

    const key = (await json(`${base}/keys/${encodeURIComponent(keyId('ed25519', nextAgentKey.publicKey))}`)).body;
    expect(key).toMatchObject({ kind: 'agent', organizationId: 'org1', agentId: 'erp', status: 'revoked', endedAtBlock: blocks['revoked'] });
    expect((await json(`${base}/keys/${encodeURIComponent(adminKeyId)}`)).body).toMatchObject({ kind: 'admin', status: 'active' });
    expect((await json(`${base}/permissions?organizationId=org1&agentId=erp`)).body['permissions']).toEqual(['provenance.event.capture']);
    expect((await json(`${base}/organizations/org1/roles`)).body['items']).toEqual([{ organizationId: 'org1', roleId: 'quality', permissions: ['provenance.event.capture'], inherits: [] }]);

    // A device by its GS1 Digital Link form, suspended now and active at the block that registered it.
    const link = encodeURIComponent('https://id.gs1.org/8004/6901234sensor-1');
    expect((await json(`${base}/devices/${link}`)).body).toMatchObject({ deviceId: 'urn:epc:id:giai:6901234.sensor-1', status: 'suspended', statusReason: 'calibration overdue' });
    expect((await json(`${base}/devices/${encodeURIComponent('urn:epc:id:giai:6901234.sensor-1')}?atBlock=${blocks['device']}`)).body).toMatchObject({ status: 'active' });
    expect((await json(`${base}/devices?status=active`)).body).toEqual({ items: [], nextAfter: null });
    expect(((await json(`${base}/devices?organizationId=org1`)).body['items'] as unknown[]).length).toBe(1);
  });

  it('refuses bad parameters and unknown ids with problem+json codes, and a block it does not hold yet with 409', async () => {
    const base = `${identity!.url}/identity/v1`;
    const cases: Array<[string, number, string]> = [
      ['/organizations/org9', 404, 'IDENTITY.ORGANIZATION_NOT_FOUND'],
      ['/organizations/Org1', 400, 'IDENTITY.INVALID_PARAMETER'],
      ['/organizations/org1/agents/nobody', 404, 'IDENTITY.AGENT_NOT_FOUND'],
      ['/organizations/org1/agents?limit=0', 400, 'IDENTITY.INVALID_PARAMETER'],
      ['/devices/did%3Aexample%3Anone', 404, 'IDENTITY.DEVICE_NOT_FOUND'],
      ['/devices?status=broken', 400, 'IDENTITY.INVALID_PARAMETER'],
      ['/organizations?atBlock=-1', 400, 'IDENTITY.INVALID_PARAMETER'],
      ['/organizations?atBlock=999999', 409, 'IDENTITY.BLOCK_NOT_PROJECTED'],
      [`/proposals/${'0'.repeat(64)}`, 404, 'IDENTITY.PROPOSAL_NOT_FOUND'],
      ['/keys/ed25519:00', 404, 'IDENTITY.KEY_NOT_FOUND'],
    ];
    for (const [path, status, code] of cases) {
      const res = await fetch(`${base}${path}`);
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, status, expect.stringContaining('application/problem+json')]);
      expect(((await res.json()) as { code: string }).code).toBe(code);
    }
  });

  it('answers the same over GraphQL, with the same error codes', async () => {
    const query = async (q: string) => (await json(`${identity!.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) })).body;
    const ok = await query(`{ identityAgent(organizationId: "org1", agentId: "erp") { name permissions keys { status endedAtBlock } } identityDevices(organizationId: "org1") { items { deviceId status } nextAfter } identityReadModel { lastBlock } }`);
    expect(ok['errors']).toBeUndefined();
    expect(ok['data']).toMatchObject({
      identityAgent: { name: 'ERP connector', permissions: ['provenance.event.capture'], keys: [{ status: 'rotated' }, { status: 'revoked', endedAtBlock: blocks['revoked'] }] },
      identityDevices: { items: [{ deviceId: 'urn:epc:id:giai:6901234.sensor-1', status: 'suspended' }], nextAfter: null },
    });
    const missing = await query(`{ identityAgent(organizationId: "org1", agentId: "nobody") { name } }`);
    expect((missing['errors'] as Array<{ extensions: { code: string } }>)[0].extensions.code).toBe('IDENTITY.AGENT_NOT_FOUND');
  });

  it('publishes one identity event per change through its outbox, in the block order', async () => {
    const { rows } = await identity!.runtime.pool.query<{ topic: string; payload: Record<string, unknown> }>(`SELECT topic, envelope->'payload' AS payload FROM identity.outbox ORDER BY id`);
    expect(rows.map((r) => r.topic)).toEqual([
      'identity.organization.joined.v1',
      'identity.agent.registered.v1',
      'identity.device.registered.v1',
      'identity.key.rotated.v1',
      'identity.key.revoked.v1',
      'identity.device.status-changed.v1',
    ]);
    expect(rows[4].payload).toMatchObject({ chainId, blockNumber: blocks['revoked'], organizationId: 'org1', agentId: 'erp', keyId: keyId('ed25519', nextAgentKey.publicKey) });
    expect(rows[5].payload).toMatchObject({ from: 'active', to: 'suspended', reason: 'calibration overdue' });
  });

  it('a rebuild from the ledger node gives the same read model and announces nothing twice', async () => {
    const pool = identity!.runtime.pool;
    const dump = async () => (await pool.query(`SELECT key, value, version, block_number, transaction_id FROM identity.state ORDER BY key COLLATE "C"`)).rows;
    const historyCount = async () => Number((await pool.query(`SELECT count(*) AS n FROM identity.state_history`)).rows[0].n);
    const outboxCount = async () => Number((await pool.query(`SELECT count(*) AS n FROM identity.outbox`)).rows[0].n);
    const [state, history, events] = [await dump(), await historyCount(), await outboxCount()];
    // A hand edit of the read model is repaired by the rebuild: it is derived data.
    await pool.query(`UPDATE identity.state SET value = '{"forged":true}' WHERE key = 'identity/agent/org1/erp'`);
    const r = await json(`${identity!.url}/identity/v1/read-model/rebuild`, { method: 'POST' });
    expect(r).toEqual({ status: 200, body: { rebuilt: true, lastBlock: expect.any(Number) } });
    expect(r.body['lastBlock']).toBeGreaterThanOrEqual(blocks['suspended']);
    expect(await dump()).toEqual(state);
    expect(await historyCount()).toBe(history);
    expect(await outboxCount()).toBe(events);
  });

  it('after a restart it resumes from its position and backfills what committed while it was down', async () => {
    await identity!.close();
    identity = undefined;
    const added = await submit(signed('identity.agent.register', { agentId: 'wms', name: 'Warehouse system', roles: [], keys: [{ algorithm: 'ed25519', publicKey: toHex(generateKeyPair('ed25519').publicKey) }] }));
    await startIdentity();
    await caughtUp(added);
    const agents = (await json(`${identity!.url}/identity/v1/organizations/org1/agents?limit=1`)).body;
    expect(agents).toMatchObject({ items: [{ agentId: 'erp' }], nextAfter: 'erp' });
    expect((await json(`${identity!.url}/identity/v1/organizations/org1/agents?limit=1&after=erp`)).body).toMatchObject({ items: [{ agentId: 'wms' }], nextAfter: null });
  });
});
