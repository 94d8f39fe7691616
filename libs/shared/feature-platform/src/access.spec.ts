import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import type { Principal } from '@alliance/shared/util-auth';
import { ACCESS_RULE, type AccessRule, authorize, permissionRule, permissionsOf, RequirePermission, type ScopeSource } from './access';

const principal = (over: Partial<Principal> = {}): Principal => ({
  organizationId: 'org1',
  agentId: 'erp',
  keyId: 'a'.repeat(32),
  admin: false,
  organizationRole: 'supplier',
  roles: [],
  permissions: {},
  ...over,
});
const regulatorAdmin = principal({ organizationId: 'reg', agentId: null, admin: true, organizationRole: 'regulator' });
const regulatorAgent = principal({ organizationId: 'reg', organizationRole: 'regulator', permissions: { reg: ['finance.asset.freeze'] } });
const service = (organizationId: string) => (source: ScopeSource) => (source.from === 'service' ? organizationId : 'elsewhere');

/** The code authorize throws, or 'allowed'. */
function verdict(rule: AccessRule, who: Principal, write: boolean, organizationId = who.organizationId): string {
  try {
    authorize(rule, who, write, service(organizationId));
    return 'allowed';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

const freeze = permissionRule('finance.asset.freeze', { from: 'service' }, { observerMay: true });
const cancel = permissionRule('finance.receivable.manage');
const either = permissionRule(['finance.receivable.manage', 'finance.financing.manage']);

describe('authorize: the observer exemption', () => {
  it('lets a regulator call a write whose rule says observerMay, with the permission in the scope', () => {
    expect(freeze).toEqual({ kind: 'permission', permission: 'finance.asset.freeze', scope: { from: 'service' }, observerMay: true });
    expect(verdict(freeze, regulatorAdmin, true)).toBe('allowed');
    expect(verdict(freeze, regulatorAgent, true)).toBe('allowed');
  });

  it('still needs the permission: a regulator agent without it, or in another organization’s service, is AUTH.FORBIDDEN', () => {
    expect(verdict(freeze, principal({ organizationId: 'reg', organizationRole: 'regulator' }), true)).toBe('AUTH.FORBIDDEN');
    expect(verdict(freeze, regulatorAdmin, true, 'org1')).toBe('AUTH.FORBIDDEN');
  });

  it('refuses a regulator every other write AUTH.READ_ONLY, whatever it holds', () => {
    const holds = principal({ organizationId: 'reg', organizationRole: 'regulator', permissions: { reg: ['finance.receivable.manage', 'finance.financing.manage', 'finance.asset.freeze'] } });
    expect(verdict(cancel, regulatorAdmin, true)).toBe('AUTH.READ_ONLY');
    expect(verdict(cancel, holds, true)).toBe('AUTH.READ_ONLY');
    expect(verdict(either, holds, true)).toBe('AUTH.READ_ONLY');
    expect(verdict({ kind: 'authenticated' }, regulatorAdmin, true)).toBe('AUTH.READ_ONLY');
    // An authenticated rule cannot carry the exemption, even if a table says so.
    expect(verdict({ kind: 'authenticated', observerMay: true } as unknown as AccessRule, regulatorAdmin, true)).toBe('AUTH.READ_ONLY');
    // Reads stay open to it.
    expect(verdict({ kind: 'authenticated' }, regulatorAdmin, false)).toBe('allowed');
    expect(verdict(cancel, regulatorAdmin, false)).toBe('allowed');
  });

  it('opens the exempt write to members as before: an admin key of its own organization passes, the contract decides', () => {
    expect(verdict(freeze, principal({ agentId: null, admin: true }), true)).toBe('allowed');
    expect(verdict(freeze, principal(), true)).toBe('AUTH.FORBIDDEN');
  });
});

describe('authorize: any of several permissions', () => {
  it('accepts a principal holding any one of them', () => {
    expect(permissionsOf(either)).toEqual(['finance.receivable.manage', 'finance.financing.manage']);
    expect(verdict(either, principal({ permissions: { org1: ['finance.financing.manage'] } }), true)).toBe('allowed');
    expect(verdict(either, principal({ permissions: { org1: ['finance.receivable.manage'] } }), true)).toBe('allowed');
  });

  it('refuses one holding none of them in the scope, naming them all', () => {
    const bank = principal({ organizationId: 'org3', permissions: { org3: ['finance.financing.manage'], org1: ['finance.credit-line.manage'] } });
    let thrown: { code: string; details: unknown; message: string } | undefined;
    try {
      authorize(either, bank, true, service('org1'));
    } catch (error) {
      thrown = error as typeof thrown;
    }
    expect(thrown?.code).toBe('AUTH.FORBIDDEN');
    expect(thrown?.details).toEqual({ permission: 'finance.receivable.manage', permissions: ['finance.receivable.manage', 'finance.financing.manage'], scope: 'org1' });
    expect(thrown?.message).toContain('finance.receivable.manage, finance.financing.manage');
  });

  it('keeps a single-permission rule and its refusal as they were', () => {
    expect(cancel).toEqual({ kind: 'permission', permission: 'finance.receivable.manage', scope: { from: 'service' } });
    let details: unknown;
    try {
      authorize(cancel, principal(), true, service('org1'));
    } catch (error) {
      details = (error as { details: unknown }).details;
    }
    expect(details).toEqual({ permission: 'finance.receivable.manage', scope: 'org1' });
  });
});

describe('RequirePermission', () => {
  it('declares the rule the guard and the docs read, options included', () => {
    class Routes {
      freeze() {
        return 'freeze';
      }
      overdue() {
        return 'overdue';
      }
    }
    RequirePermission('finance.asset.freeze', { from: 'service' }, { observerMay: true })(Routes.prototype, 'freeze', Object.getOwnPropertyDescriptor(Routes.prototype, 'freeze') as PropertyDescriptor);
    RequirePermission(['finance.receivable.manage', 'finance.financing.manage'], { from: 'param', name: 'org' })(Routes.prototype, 'overdue', Object.getOwnPropertyDescriptor(Routes.prototype, 'overdue') as PropertyDescriptor);
    expect(Reflect.getMetadata(ACCESS_RULE, Routes.prototype.freeze)).toEqual(freeze);
    expect(Reflect.getMetadata(ACCESS_RULE, Routes.prototype.overdue)).toEqual({
      kind: 'permission',
      permission: 'finance.receivable.manage',
      alternatives: ['finance.financing.manage'],
      scope: { from: 'param', name: 'org' },
    });
    expect(() => permissionRule([] as unknown as [string])).toThrow(/at least one permission/);
  });
});
