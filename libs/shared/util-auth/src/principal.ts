import type { Principal } from '@alliance/contracts';

export type { Principal };

/** Whether `principal` may use `permission` in `scopeOrganizationId`'s name (default: its own). */
export function mayAct(principal: Pick<Principal, 'organizationId' | 'admin' | 'permissions'>, permission: string, scopeOrganizationId: string = principal.organizationId): boolean {
  if (principal.admin && scopeOrganizationId === principal.organizationId) return true;
  return (principal.permissions[scopeOrganizationId] ?? []).includes(permission);
}

/** Regulators observe: they read everything they are entitled to and change nothing. */
export function isReadOnly(principal: Pick<Principal, 'organizationRole'>): boolean {
  return principal.organizationRole === 'regulator';
}

/** The principal in a verified token's claims (`org`, `agent`, `key`, `admin`, `orgRole`, `roles`, `perms`). */
export function principalFromClaims(claims: Record<string, unknown>): Principal | undefined {
  const { org, agent, key, admin, orgRole, roles, perms } = claims as Record<string, unknown>;
  if (typeof org !== 'string' || typeof key !== 'string' || typeof admin !== 'boolean' || typeof orgRole !== 'string') return undefined;
  if (agent !== null && typeof agent !== 'string') return undefined;
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) return undefined;
  if (!perms || typeof perms !== 'object' || Array.isArray(perms)) return undefined;
  const permissions: Record<string, string[]> = {};
  for (const [scope, list] of Object.entries(perms as Record<string, unknown>)) {
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) return undefined;
    permissions[scope] = list as string[];
  }
  return { organizationId: org, agentId: agent as string | null, keyId: key, admin, organizationRole: orgRole, roles: roles as string[], permissions };
}
