// The identity read model and sign-in against a real ledger service on real PostgreSQL (embedded messaging):
// blocks arrive as ledger.block.committed.v1 events and through the node's REST API; the REST and GraphQL
// answers, `atBlock`, the identity events, a rebuild, and sign-in by key are checked against the chain.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateKeyPair, toHex, type Envelope, type KeyPair } from '@alliance/protocol';
import { keyObjectFromJwk, verifyJwt } from '@alliance/shared/util-auth';
import { call, IdentityTestChain, keyIdOf, member, type CallOptions } from '../test/harness';

const org1 = member('org1');
const chain = new IdentityTestChain('identity-test', [org1]);
const chainId = chain.chainId;
const admin = org1.admin;
const adminKeyId = keyIdOf(admin);
const agentKey = generateKeyPair('ed25519');
const nextAgentKey = generateKeyPair('ed25519');
const deviceKey = generateKeyPair('ed25519');

/** The access token the reads below send (the admin's, once signed in). */
let bearer: string | undefined;
const json = (url: string, init: CallOptions & { anonymous?: boolean } = {}) => call(url, { ...init, token: init.anonymous ? undefined : (init.token ?? bearer) });
const post = (url: string, body: unknown, extra: { anonymous?: boolean; token?: string } = {}) => json(url, { method: 'POST', body: JSON.stringify(body), ...extra });
const signed = (type: string, payload: Record<string, unknown>, key: KeyPair = admin): Envelope => chain.signed(org1, type, payload, key);
const submit = (envelope: Envelope) => chain.submit(envelope);
const signChallenge = (challenge: unknown, key: KeyPair) => IdentityTestChain.signChallenge(challenge, key);
const challengeFor = (organizationId: string, key: KeyPair) => chain.challengeFor(organizationId, key);
const signIn = (key: KeyPair) => chain.signIn('org1', key);
const caughtUp = (n: number) => chain.caughtUp(n);

describe('identity read model and sign-in', () => {
  const blocks: Record<string, number> = {};
  const refresh = (refreshToken: string) => post(`${chain.identityApi}/auth/refresh`, { refreshToken }, { anonymous: true });
  let agentSession: { accessToken: string; refreshToken: string };

  beforeAll(async () => {
    await chain.start(inject('databaseUrl'), 'identity_rm');
    // Blocks before the identity service starts: it must backfill them.
    await submit(signed('identity.role.define', { roleId: 'quality', permissions: ['provenance.event.capture'] }));
    blocks['registered'] = await submit(signed('identity.agent.register', { agentId: 'erp', name: 'ERP connector', roles: ['quality'], keys: [{ algorithm: 'ed25519', publicKey: toHex(agentKey.publicKey) }] }));
  });

  afterAll(() => chain.stop());

  it('catches up with the blocks committed before it started', async () => {
    await chain.startIdentity();
    await caughtUp(blocks['registered']);
  });

  it('signs an admin key and an agent key in: a single-use, short-lived challenge for an EdDSA access token the JWKS verifies', async () => {
    const base = `${chain.identity!.url}/identity/v1`;
    expect(await json(`${base}/organizations`, { anonymous: true })).toMatchObject({ status: 401, body: { code: 'AUTH.TOKEN_MISSING' } });

    const admin1 = await signIn(admin);
    expect(admin1.principal).toEqual({ organizationId: 'org1', agentId: null, keyId: adminKeyId, admin: true, organizationRole: 'manufacturer', roles: [], permissions: {} });
    const jwks = (await json(`${base}/.well-known/jwks.json`, { anonymous: true })).body as { keys: Array<{ kid: string }> };
    const { claims, header } = verifyJwt(admin1.accessToken, { keys: (kid) => { const jwk = jwks.keys.find((k) => k.kid === kid); return jwk ? keyObjectFromJwk(jwk) : undefined; }, now: new Date(), audience: 'alliance' });
    expect(header.alg).toBe('EdDSA');
    expect(claims).toMatchObject({ iss: `alliance:${chainId}:org1`, org: 'org1', agent: null, key: adminKeyId, admin: true });
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBeLessThanOrEqual(60);
    bearer = admin1.accessToken;
    expect((await json(`${base}/organizations`)).status).toBe(200);
    // Without a master key, managed signing is off, and says how to turn it on.
    expect(await post(`${base}/managed-keys`, { agentId: 'erp' })).toMatchObject({ status: 409, body: { code: 'IDENTITY.MANAGED_SIGNING_DISABLED' } });

    // A challenge is one attempt: used, forged, expired or for an unknown key, it signs nobody in.
    const c = await challengeFor('org1', admin);
    const good = { challengeId: c.body['challengeId'], signature: signChallenge(c.body['challenge'], admin) };
    expect((await post(`${base}/auth/tokens`, good, { anonymous: true })).status).toBe(200);
    expect(await post(`${base}/auth/tokens`, good, { anonymous: true })).toMatchObject({ status: 401, body: { code: 'AUTH.CHALLENGE_USED' } });
    const forged = await challengeFor('org1', admin);
    expect(await post(`${base}/auth/tokens`, { challengeId: forged.body['challengeId'], signature: signChallenge(forged.body['challenge'], deviceKey) }, { anonymous: true })).toMatchObject({ status: 401, body: { code: 'AUTH.BAD_SIGNATURE' } });
    expect(await post(`${base}/auth/tokens`, { challengeId: forged.body['challengeId'], signature: signChallenge(forged.body['challenge'], admin) }, { anonymous: true })).toMatchObject({ status: 401, body: { code: 'AUTH.CHALLENGE_USED' } });
    const late = await challengeFor('org1', admin);
    await chain.identity!.runtime.pool.query(`UPDATE identity.auth_challenges SET expires_at = now() - interval '1 second' WHERE challenge_id = $1`, [late.body['challengeId']]);
    expect(await post(`${base}/auth/tokens`, { challengeId: late.body['challengeId'], signature: signChallenge(late.body['challenge'], admin) }, { anonymous: true })).toMatchObject({ status: 401, body: { code: 'AUTH.CHALLENGE_EXPIRED' } });
    expect(await challengeFor('org1', deviceKey)).toMatchObject({ status: 401, body: { code: 'AUTH.KEY_UNKNOWN' } });
    expect(await post(`${base}/auth/challenges`, { organizationId: 'Org 1', keyId: 'x' }, { anonymous: true })).toMatchObject({ status: 400, body: { code: 'AUTH.INVALID_REQUEST' } });

    // A tampered token is refused by the guard.
    const [h, , sig] = admin1.accessToken.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, org: 'org2' })).toString('base64url');
    expect(await json(`${base}/organizations`, { token: `${h}.${forgedPayload}.${sig}` })).toMatchObject({ status: 401, body: { code: 'AUTH.TOKEN_SIGNATURE' } });

    // The agent: its roles' permissions in the claims; it may read, not rebuild.
    agentSession = await signIn(agentKey);
    expect(agentSession).toMatchObject({ expiresIn: 60, principal: { organizationId: 'org1', agentId: 'erp', admin: false, roles: ['quality'], permissions: { org1: ['provenance.event.capture'] } } });
    expect((await json(`${base}/organizations/org1/agents/erp`, { token: agentSession.accessToken })).status).toBe(200);
    expect(await post(`${base}/read-model/rebuild`, {}, { token: agentSession.accessToken })).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN', details: { permission: 'identity.read-model.rebuild', scope: 'org1' } } });
  });

  it('rotates refresh tokens, ends the session when one is used twice, and on logout', async () => {
    const session = await signIn(admin);
    const next = await refresh(session.refreshToken);
    expect(next.status).toBe(200);
    expect(next.body['refreshToken']).not.toBe(session.refreshToken);
    expect(await refresh(session.refreshToken)).toMatchObject({ status: 401, body: { code: 'AUTH.REFRESH_REUSED' } });
    expect(await refresh(next.body['refreshToken'] as string)).toMatchObject({ status: 401, body: { code: 'AUTH.REFRESH_REVOKED' } });

    const other = await signIn(admin);
    expect((await post(`${chain.identity!.url}/identity/v1/auth/logout`, { refreshToken: other.refreshToken }, { anonymous: true })).status).toBe(204);
    expect(await refresh(other.refreshToken)).toMatchObject({ status: 401, body: { code: 'AUTH.REFRESH_REVOKED' } });
  });

  it('follows new blocks as they commit; a rotated key’s session ends and it signs nobody in again', async () => {
    blocks['device'] = await submit(signed('identity.device.register', { deviceId: 'urn:epc:id:giai:6901234.sensor-1', model: 'TH-100', key: { algorithm: 'ed25519', publicKey: toHex(deviceKey.publicKey) }, assets: [], locations: [] }));
    blocks['rotated'] = await submit(signed('identity.agent.key.rotate', { agentId: 'erp', keyId: keyIdOf(agentKey), newKey: { algorithm: 'ed25519', publicKey: toHex(nextAgentKey.publicKey) } }));
    blocks['revoked'] = await submit(signed('identity.agent.key.revoke', { agentId: 'erp', keyId: keyIdOf(nextAgentKey) }));
    blocks['suspended'] = await submit(signed('identity.device.suspend', { deviceId: 'urn:epc:id:giai:6901234.sensor-1', reason: 'calibration overdue' }));
    await caughtUp(blocks['suspended']);
    const ended = await refresh(agentSession.refreshToken);
    expect(ended.status).toBe(401);
    expect(['AUTH.REFRESH_REVOKED', 'AUTH.KEY_REVOKED']).toContain(ended.body['code']);
    expect(await challengeFor('org1', agentKey)).toMatchObject({ status: 401, body: { code: 'AUTH.KEY_REVOKED' } });
  });

  it('answers organizations, agents with their key history, roles, permissions and devices, now and at an earlier block', async () => {
    const base = `${chain.identity!.url}/identity/v1`;
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

    const key = (await json(`${base}/keys/${encodeURIComponent(keyIdOf(nextAgentKey))}`)).body;
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
    const base = `${chain.identity!.url}/identity/v1`;
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
      ['/keys/' + '0'.repeat(32), 404, 'IDENTITY.KEY_NOT_FOUND'],
      ['/keys/ed25519:00', 400, 'IDENTITY.INVALID_PARAMETER'],
    ];
    for (const [path, status, code] of cases) {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, status, expect.stringContaining('application/problem+json')]);
      expect(((await res.json()) as { code: string }).code).toBe(code);
    }
  });

  it('answers the same over GraphQL, with the same error codes', async () => {
    const query = async (q: string, anonymous = false) => (await json(`${chain.identity!.url}/graphql`, { method: 'POST', body: JSON.stringify({ query: q }), anonymous })).body;
    const anonymous = await query(`{ identityReadModel { lastBlock } }`, true);
    expect((anonymous['errors'] as Array<{ extensions: { code: string } }>)[0].extensions.code).toBe('AUTH.TOKEN_MISSING');
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
    const { rows } = await chain.identity!.runtime.pool.query<{ topic: string; payload: Record<string, unknown> }>(`SELECT topic, envelope->'payload' AS payload FROM identity.outbox ORDER BY id`);
    expect(rows.map((r) => r.topic)).toEqual([
      'identity.organization.joined.v1',
      'identity.agent.registered.v1',
      'identity.device.registered.v1',
      'identity.key.rotated.v1',
      'identity.key.revoked.v1',
      'identity.device.status-changed.v1',
    ]);
    expect(rows[4].payload).toMatchObject({ chainId, blockNumber: blocks['revoked'], organizationId: 'org1', agentId: 'erp', keyId: keyIdOf(nextAgentKey) });
    expect(rows[5].payload).toMatchObject({ from: 'active', to: 'suspended', reason: 'calibration overdue' });
  });

  it('a rebuild from the ledger node gives the same read model and announces nothing twice', async () => {
    const pool = chain.identity!.runtime.pool;
    const dump = async () => (await pool.query(`SELECT key, value, version, block_number, transaction_id FROM identity.state ORDER BY key COLLATE "C"`)).rows;
    const historyCount = async () => Number((await pool.query(`SELECT count(*) AS n FROM identity.state_history`)).rows[0].n);
    const outboxCount = async () => Number((await pool.query(`SELECT count(*) AS n FROM identity.outbox`)).rows[0].n);
    const [state, history, events] = [await dump(), await historyCount(), await outboxCount()];
    // A hand edit of the read model is repaired by the rebuild: it is derived data.
    await pool.query(`UPDATE identity.state SET value = '{"forged":true}' WHERE key = 'identity/agent/org1/erp'`);
    const r = await post(`${chain.identity!.url}/identity/v1/read-model/rebuild`, {});
    expect(r).toEqual({ status: 200, body: { rebuilt: true, lastBlock: expect.any(Number) } });
    expect(r.body['lastBlock']).toBeGreaterThanOrEqual(blocks['suspended']);
    expect(await dump()).toEqual(state);
    expect(await historyCount()).toBe(history);
    expect(await outboxCount()).toBe(events);
  });

  it('after a restart it resumes from its position and backfills what committed while it was down', async () => {
    await chain.identity!.close();
    chain.identity = undefined;
    const added = await submit(signed('identity.agent.register', { agentId: 'wms', name: 'Warehouse system', roles: [], keys: [{ algorithm: 'ed25519', publicKey: toHex(generateKeyPair('ed25519').publicKey) }] }));
    await chain.startIdentity();
    await caughtUp(added);
    // The token signing key is the service's, kept across restarts: the admin's token still verifies.
    const agents = (await json(`${chain.identity!.url}/identity/v1/organizations/org1/agents?limit=1`)).body;
    expect(agents).toMatchObject({ items: [{ agentId: 'erp' }], nextAfter: 'erp' });
    expect((await json(`${chain.identity!.url}/identity/v1/organizations/org1/agents?limit=1&after=erp`)).body).toMatchObject({ items: [{ agentId: 'wms' }], nextAfter: null });
  });
});
