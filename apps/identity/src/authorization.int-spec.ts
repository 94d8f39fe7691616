// The authorization matrix (docs/authorization.md): every REST route and GraphQL root field of the
// identity service and a ledger node, called by every kind of caller with real tokens, must answer as
// the route's rule says — the same rule table the page is generated from.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateKeyPair, toHex } from '@alliance/protocol';
import { accessOf, type AccessEntry } from '@alliance/shared/feature-platform';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ledgerService } from '../../ledger/src/app.module';
import { identityService } from './app.module';
import { call, IdentityTestChain, keyIdOf, member } from '../test/harness';

const org1 = member('org1');
const org2 = member('org2', 'supplier');
const regulator = member('reg', 'regulator');
const chain = new IdentityTestChain('authorization-test', [org1, org2], [regulator]);
const opsKey = generateKeyPair('ed25519');
const clerkKey = generateKeyPair('ed25519');

type Caller = 'anonymous' | 'org1 admin' | 'org1 agent with the permission' | 'org1 agent without it' | 'org2 admin' | 'regulator';
const CALLERS: Caller[] = ['anonymous', 'org1 admin', 'org1 agent with the permission', 'org1 agent without it', 'org2 admin', 'regulator'];

/** Sample values for every path parameter the services use; a new parameter fails the test until it has one. */
const PARAMS: Record<string, string> = {
  organizationId: 'org1',
  agentId: 'ops',
  deviceId: encodeURIComponent('did:example:none'),
  keyId: keyIdOf(org1.admin),
  proposalId: '0'.repeat(64),
  blockNumber: '0',
  transactionId: '0'.repeat(64),
};

/** One valid query per GraphQL root field; a new field fails the test until it has one. */
const QUERIES: Record<string, string> = {
  identityStatus: '{ identityStatus { name } }',
  identityOrganizations: '{ identityOrganizations { organizationId } }',
  identityOrganization: '{ identityOrganization(organizationId: "org1") { organizationId } }',
  identityAgents: '{ identityAgents(organizationId: "org1") { nextAfter } }',
  identityAgent: '{ identityAgent(organizationId: "org1", agentId: "ops") { agentId } }',
  identityRoles: '{ identityRoles(organizationId: "org1") { roleId } }',
  identityPermissions: '{ identityPermissions(organizationId: "org1", agentId: "ops") }',
  identityDevices: '{ identityDevices { nextAfter } }',
  identityDevice: '{ identityDevice(deviceId: "did:example:none") { deviceId } }',
  identityProposals: '{ identityProposals { proposalId } }',
  identityReadModel: '{ identityReadModel { lastBlock } }',
  ledgerStatus: '{ ledgerStatus { name } }',
  ledgerBlock: '{ ledgerBlock(blockNumber: 0) { blockNumber } }',
  ledgerBlocks: '{ ledgerBlocks { blockNumber } }',
  ledgerTransaction: `{ ledgerTransaction(transactionId: "${'0'.repeat(64)}") { status } }`,
  ledgerCheckpoint: '{ ledgerCheckpoint { blockNumber } }',
};

type Outcome = 'allowed' | 401 | 403;

/** What the rule says a caller gets (allowed: anything but 401/403 — a 404 or 400 means the guard let it through). */
function expected(entry: AccessEntry, caller: Caller): Outcome {
  const rule = entry.rule;
  if (rule.kind === 'public') return 'allowed';
  if (caller === 'anonymous') return 401;
  const write = entry.kind === 'rest' ? !['GET', 'HEAD', 'OPTIONS'].includes(entry.method) : entry.method === 'Mutation';
  if (caller === 'regulator' && write) return 403;
  if (rule.kind === 'authenticated') return 'allowed';
  // Every permission rule of these services is scoped to the organization running it (org1).
  expect(rule.scope).toEqual({ from: 'service' });
  return caller === 'org1 admin' || caller === 'org1 agent with the permission' ? 'allowed' : 403;
}

describe('authorization matrix', () => {
  const tokens = new Map<Caller, string | undefined>();

  beforeAll(async () => {
    await chain.start(inject('databaseUrl'), 'identity_authz');
    // The holder holds every permission a rule of these services names; the other agent none.
    const permissions = [...new Set([...accessOf(identityService), ...accessOf(ledgerService)].flatMap((e) => (e.rule.kind === 'permission' ? [e.rule.permission] : [])))].sort();
    expect(permissions.length).toBeGreaterThan(0);
    await chain.submit(chain.signed(org1, 'identity.role.define', { roleId: 'operator', permissions }));
    await chain.submit(chain.signed(org1, 'identity.agent.register', { agentId: 'ops', name: 'Operations', roles: ['operator'], keys: [{ algorithm: 'ed25519', publicKey: toHex(opsKey.publicKey) }] }));
    const last = await chain.submit(chain.signed(org1, 'identity.agent.register', { agentId: 'clerk', name: 'Clerk', roles: [], keys: [{ algorithm: 'ed25519', publicKey: toHex(clerkKey.publicKey) }] }));
    await chain.startIdentity();
    await chain.caughtUp(last);
    tokens.set('anonymous', undefined);
    tokens.set('org1 admin', (await chain.signIn('org1', org1.admin)).accessToken);
    tokens.set('org1 agent with the permission', (await chain.signIn('org1', opsKey)).accessToken);
    tokens.set('org1 agent without it', (await chain.signIn('org1', clerkKey)).accessToken);
    tokens.set('org2 admin', (await chain.signIn('org2', org2.admin)).accessToken);
    const reg = await chain.signIn('reg', regulator.admin);
    expect(reg.principal).toMatchObject({ organizationId: 'reg', organizationRole: 'regulator' });
    tokens.set('regulator', reg.accessToken);
  });

  it('the regulator is an observer on the chain too: every node refuses a transaction it signs, whatever the door', async () => {
    const r = await call(`${chain.ledger.url}/ledger/v1/transactions?wait=commit`, {
      method: 'POST',
      body: JSON.stringify(chain.signed(regulator, 'identity.role.define', { roleId: 'auditor', permissions: ['identity.read-model.rebuild'] })),
    });
    expect(r.body, JSON.stringify(r.body)).toMatchObject({ status: 'invalid', code: 'LEDGER.OBSERVER_READ_ONLY' });
    const orgs = await call(`${chain.identityApi}/organizations`, { token: tokens.get('regulator') });
    expect((orgs.body['items'] as Array<Record<string, unknown>>).map((o) => [o['organizationId'], o['status'], o['nodeKey'] === null])).toEqual([
      ['org1', 'member', false],
      ['org2', 'member', false],
      ['reg', 'observer', true],
    ]);
  });

  afterAll(() => chain.stop());

  async function attempt(base: string, entry: AccessEntry, token: string | undefined): Promise<{ status: number; code?: string }> {
    if (entry.kind === 'rest') {
      const path = entry.path.replace(/:(\w+)/g, (_, name: string) => {
        expect(PARAMS, `no sample value for path parameter ${name} (${entry.operation})`).toHaveProperty(name);
        return PARAMS[name];
      });
      const reply = await call(`${base}${path}`, { method: entry.method, token, body: entry.method === 'GET' ? undefined : '{}' });
      return { status: reply.status, code: reply.body['code'] as string | undefined };
    }
    const query = QUERIES[entry.path];
    expect(query, `no sample query for GraphQL field ${entry.path}`).toBeDefined();
    const reply = await call(`${base}/graphql`, { method: 'POST', token, body: JSON.stringify({ query }) });
    const error = (reply.body['errors'] as Array<{ extensions?: { code?: string; status?: number } }> | undefined)?.[0];
    return { status: error?.extensions?.status ?? reply.status, code: error?.extensions?.code };
  }

  for (const [label, definition, baseOf] of [
    ['identity service', identityService, () => chain.identity!.url],
    ['ledger node', ledgerService, () => chain.ledger.url],
  ] as const) {
    it(`${label}: every route and field, every caller, answers as its rule says`, async () => {
      const entries = accessOf(definition).filter((e) => e.method !== 'Subscription');
      expect(entries.length).toBeGreaterThan(10);
      const mismatches: string[] = [];
      let cellsWalked = 0;
      for (const entry of entries) {
        for (const caller of CALLERS) {
          const want = expected(entry, caller);
          const got = await attempt(baseOf(), entry, tokens.get(caller));
          cellsWalked++;
          const outcome: Outcome = got.status === 401 || got.status === 403 ? got.status : 'allowed';
          if (outcome !== want) mismatches.push(`${entry.operation} as ${caller}: expected ${want}, got ${got.status} ${got.code ?? ''}`);
          if (outcome === 401) expect(got.code).toMatch(/^AUTH\./);
          if (outcome === 403) expect(['AUTH.FORBIDDEN', 'AUTH.READ_ONLY']).toContain(got.code);
        }
      }
      expect(mismatches).toEqual([]);
      expect(cellsWalked).toBe(entries.length * CALLERS.length);
    });
  }

  it('subscriptions over WebSocket are public chain data only', () => {
    const subscriptions = [...accessOf(identityService), ...accessOf(ledgerService)].filter((e) => e.method === 'Subscription');
    expect(subscriptions.map((s) => [s.operation, s.rule.kind])).toEqual([['Subscription.ledgerBlockCertified', 'public']]);
  });
});
