import { describe, expect, it } from 'vitest';
import { isReadOnly, mayAct, principalFromClaims } from './principal';

const claims = { org: 'org1', agent: 'erp', key: 'a'.repeat(32), admin: false, orgRole: 'manufacturer', roles: ['quality'], perms: { org1: ['provenance.event.capture'], org3: ['finance.financing.approve'] } };

describe('principal', () => {
  it('reads the principal from token claims and refuses claims that are not one', () => {
    expect(principalFromClaims(claims)).toEqual({ organizationId: 'org1', agentId: 'erp', keyId: 'a'.repeat(32), admin: false, organizationRole: 'manufacturer', roles: ['quality'], permissions: claims.perms });
    expect(principalFromClaims({ ...claims, perms: { org1: 'provenance.event.capture' } })).toBeUndefined();
    expect(principalFromClaims({ ...claims, admin: 'yes' })).toBeUndefined();
    expect(principalFromClaims({ ...claims, agent: 7 })).toBeUndefined();
  });

  it('grants a permission only in the organization that gave it; an admin key holds all of its own organization’s, none elsewhere', () => {
    const agent = principalFromClaims(claims)!;
    expect(mayAct(agent, 'provenance.event.capture')).toBe(true);
    expect(mayAct(agent, 'provenance.event.capture', 'org3')).toBe(false);
    expect(mayAct(agent, 'finance.financing.approve', 'org3')).toBe(true);
    expect(mayAct(agent, 'finance.financing.approve')).toBe(false);
    const admin = principalFromClaims({ ...claims, agent: null, admin: true, perms: {} })!;
    expect(mayAct(admin, 'anything.at.all')).toBe(true);
    expect(mayAct(admin, 'anything.at.all', 'org2')).toBe(false);
  });

  it('treats regulators as read-only', () => {
    expect(isReadOnly({ organizationRole: 'regulator' })).toBe(true);
    expect(isReadOnly({ organizationRole: 'financier' })).toBe(false);
  });
});
