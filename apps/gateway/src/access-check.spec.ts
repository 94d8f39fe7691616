import { describe, expect, it } from 'vitest';
import type { AccessEntry, TokenVerifier } from '@alliance/shared/feature-platform';
import type { Principal } from '@alliance/shared/util-auth';
import { AllianceError } from '@alliance/shared/util-errors';
import { compileEntry, GatewayAccess } from './access-check';

const entries: AccessEntry[] = [
  { kind: 'rest', operation: 'GET /identity/v1/organizations/:organizationId', method: 'GET', path: '/identity/v1/organizations/:organizationId', rule: { kind: 'authenticated' } },
  { kind: 'rest', operation: 'POST /identity/v1/auth/tokens', method: 'POST', path: '/identity/v1/auth/tokens', rule: { kind: 'public', reason: 'sign-in' } },
  { kind: 'rest', operation: 'POST /identity/v1/read-model/rebuild', method: 'POST', path: '/identity/v1/read-model/rebuild', rule: { kind: 'permission', permission: 'identity.read-model.rebuild', scope: { from: 'service' } } },
  { kind: 'rest', operation: 'POST /identity/v1/orgs/:org/things', method: 'POST', path: '/identity/v1/orgs/:org/things', rule: { kind: 'permission', permission: 'x.y', scope: { from: 'param', name: 'org' } } },
];

const principal = (p: Partial<Principal>): Principal => ({ organizationId: 'org1', agentId: 'a', keyId: 'k', admin: false, organizationRole: 'manufacturer', roles: [], permissions: {}, ...p });
const tokens: Record<string, Principal> = {
  admin1: principal({ admin: true, agentId: null }),
  clerk1: principal({}),
  admin2: principal({ organizationId: 'org2', admin: true, agentId: null }),
  regulator: principal({ organizationId: 'reg', organizationRole: 'regulator', permissions: { org1: ['identity.read-model.rebuild'] } }),
};
const verifier: TokenVerifier = {
  async verify(token) {
    const p = tokens[token];
    if (!p) throw new AllianceError('AUTH.TOKEN_SIGNATURE', 'unauthenticated', 'the signature does not verify');
    return p;
  },
};

function gateway(): GatewayAccess {
  const access = new GatewayAccess([], verifier);
  // The table as the identity service publishes it at /identity/v1/access.json.
  (access as unknown as { tables: Map<string, unknown> }).tables.set('identity', { organizationId: 'org1', entries: entries.map(compileEntry) });
  return access;
}

const outcome = (p: Promise<void>) => p.then(() => 'allowed', (e: { code: string }) => e.code);

describe('the gateway’s access check', () => {
  it('matches route templates, parameters decoded, query strings ignored', () => {
    const m = gateway().match('identity', 'GET', '/identity/v1/organizations/org%2D1?atBlock=3');
    expect(m).toMatchObject({ entry: { operation: 'GET /identity/v1/organizations/:organizationId' }, params: { organizationId: 'org-1' } });
    expect(gateway().match('identity', 'GET', '/identity/v1/organizations/org1/extra')).toBeUndefined();
    expect(gateway().match('identity', 'DELETE', '/identity/v1/organizations/org1')).toBeUndefined();
  });

  it('lets public and unknown routes through, and asks for a token elsewhere', async () => {
    const g = gateway();
    expect(await outcome(g.check('identity', { method: 'POST', url: '/identity/v1/auth/tokens', authorization: undefined }))).toBe('allowed');
    expect(await outcome(g.check('identity', { method: 'GET', url: '/identity/v1/unknown', authorization: undefined }))).toBe('allowed');
    expect(await outcome(g.check('identity', { method: 'GET', url: '/identity/v1/organizations/org1', authorization: undefined }))).toBe('AUTH.TOKEN_MISSING');
    expect(await outcome(g.check('identity', { method: 'GET', url: '/identity/v1/organizations/org1', authorization: 'Bearer forged' }))).toBe('AUTH.TOKEN_SIGNATURE');
    expect(await outcome(g.check('identity', { method: 'GET', url: '/identity/v1/organizations/org1', authorization: 'Bearer clerk1' }))).toBe('allowed');
  });

  it('holds permissions to the scope organization and regulators to reading', async () => {
    const g = gateway();
    const rebuild = (who: string) => outcome(g.check('identity', { method: 'POST', url: '/identity/v1/read-model/rebuild', authorization: `Bearer ${who}` }));
    expect(await rebuild('admin1')).toBe('allowed');
    expect(await rebuild('clerk1')).toBe('AUTH.FORBIDDEN');
    expect(await rebuild('admin2')).toBe('AUTH.FORBIDDEN');
    expect(await rebuild('regulator')).toBe('AUTH.READ_ONLY');
    const things = (org: string, who: string) => outcome(g.check('identity', { method: 'POST', url: `/identity/v1/orgs/${org}/things`, authorization: `Bearer ${who}` }));
    expect(await things('org2', 'admin2')).toBe('allowed');
    expect(await things('org1', 'admin2')).toBe('AUTH.FORBIDDEN');
  });
});
