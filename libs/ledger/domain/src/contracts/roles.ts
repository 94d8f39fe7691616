import { IDENTIFIER_PATTERN } from '@alliance/protocol';
import { adminOnly, agentKeyOf, type Agent, exactFields, findAgentKey, reject } from './agent-keys';
import type { ContractContext, ContractHandler, ContractOutcome, JsonValue, StateView } from './types';

/**
 * Roles and permissions (issue 4, second part; after Grid's Pike). An
 * organization defines roles — named permissions such as
 * `finance.receivable.issue`, plus roles of its own they inherit — and gives
 * them to its agents (`roles` of the agent). It may also grant one of its
 * roles to an agent of another organization (a bank acting inside a core
 * enterprise's finance programme): that agent then holds the role's
 * permissions **in the granting organization's scope only**. State:
 *
 *   identity/role/<organizationId>/<roleId>                 → Role
 *   identity/grants/<organizationId>/<agentOrg>/<agentId>    → { roles: [roleId…] (sorted) }
 *
 * `permissionsOf` is the one answer to "what may this agent do for that
 * organization", deterministic (sorted, cycle-safe), for contracts and for
 * the services' authorization alike.
 */
export interface Role {
  readonly organizationId: string;
  readonly roleId: string;
  readonly permissions: readonly string[];
  /** Role ids of the same organization whose permissions this one includes. */
  readonly inherits: readonly string[];
}

export const roleKeyOf = (organizationId: string, roleId: string) => `identity/role/${organizationId}/${roleId}`;
/** The roles `organizationId` granted to another organization's agent. */
export const grantsKeyOf = (organizationId: string, agentOrganizationId: string, agentId: string) => `identity/grants/${organizationId}/${agentOrganizationId}/${agentId}`;

const ROLE_ID = /^[a-z][a-z0-9_.-]{0,63}$/;
const PERMISSION = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*){1,5}$/;
const MAX_PERMISSIONS = 128;
const MAX_INHERITS = 16;

/** The permissions of `roleIds` of `organizationId`, with everything they inherit; unknown roles give nothing. */
export function rolePermissions(state: StateView, organizationId: string, roleIds: readonly string[]): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (roleId: string) => {
    if (seen.has(roleId)) return; // inheritance cycles end here
    seen.add(roleId);
    const role = state.get(roleKeyOf(organizationId, roleId))?.value as Role | null | undefined;
    if (!role) return;
    for (const p of role.permissions) out.add(p);
    for (const parent of role.inherits) visit(parent);
  };
  for (const r of roleIds) visit(r);
  return out;
}

/**
 * What agent `agentOrganizationId/agentId` may do in `scopeOrganizationId`'s
 * name: its own roles in its own organization; roles granted to it by the
 * scope organization there; nothing anywhere else.
 */
export function permissionsOf(state: StateView, agentOrganizationId: string, agentId: string, scopeOrganizationId: string): Set<string> {
  const agent = state.get(agentKeyOf(agentOrganizationId, agentId))?.value as Agent | null | undefined;
  if (!agent) return new Set();
  if (scopeOrganizationId === agentOrganizationId) return rolePermissions(state, agentOrganizationId, agent.roles);
  const grants = state.get(grantsKeyOf(scopeOrganizationId, agentOrganizationId, agentId))?.value as { roles?: string[] } | null | undefined;
  return rolePermissions(state, scopeOrganizationId, grants?.roles ?? []);
}

/**
 * The one rule for "an organization's admin key, or one of its agents holding
 * `permission` there": undefined when the creator may, the refusal otherwise.
 */
export function mayActWith(ctx: ContractContext, permission: string, what: string): ContractOutcome | undefined {
  if (adminOnly(ctx) === undefined) return undefined;
  const { organizationId, keyId } = ctx.transaction.creator;
  const found = findAgentKey(ctx.state, organizationId, keyId);
  if (found && permissionsOf(ctx.state, organizationId, found.agent.agentId, organizationId).has(permission)) return undefined;
  return reject('IDENTITY.NOT_ALLOWED', `only an admin key of ${organizationId} or its agent with ${permission} ${what}`);
}

/** @internal shared by the identity contracts: a payload with no field outside `fields`. */
const sortedUnique = (list: readonly string[]) => [...new Set(list)].sort();

/** `identity.role.define`: `{ roleId, permissions: [..], inherits?: [roleId..] }`; defining an existing role replaces it. */
export const roleDefineContract: ContractHandler = {
  type: 'identity.role.define',
  configuration: false,
  execute(ctx) {
    const denied = adminOnly(ctx, 'roles');
    if (denied) return denied;
    const payload = ctx.transaction.payload as Record<string, unknown>;
    const bad = exactFields(payload, ['roleId', 'permissions', 'inherits']);
    if (bad) return bad;
    const { roleId, permissions } = payload;
    const inherits = payload['inherits'] ?? [];
    if (typeof roleId !== 'string' || !ROLE_ID.test(roleId)) return reject('IDENTITY.INVALID', 'payload.roleId must be 1-64 of [a-z0-9_.-], starting with a letter');
    if (!Array.isArray(permissions) || permissions.length > MAX_PERMISSIONS || !permissions.every((p) => typeof p === 'string' && PERMISSION.test(p))) {
      return reject('IDENTITY.INVALID', `payload.permissions must be at most ${MAX_PERMISSIONS} names like "finance.receivable.issue"`);
    }
    if (!Array.isArray(inherits) || inherits.length > MAX_INHERITS || !inherits.every((r) => typeof r === 'string' && ROLE_ID.test(r) && r !== roleId)) {
      return reject('IDENTITY.INVALID', `payload.inherits must be at most ${MAX_INHERITS} other role ids of this organization`);
    }
    const organizationId = ctx.transaction.creator.organizationId;
    const role: Role = { organizationId, roleId, permissions: sortedUnique(permissions as string[]), inherits: sortedUnique(inherits as string[]) };
    return { ok: true, writes: [{ key: roleKeyOf(organizationId, roleId), value: role as unknown as JsonValue }] };
  },
};

interface GrantTarget {
  readonly roleId: string;
  readonly agentOrganizationId: string;
  readonly agentId: string;
  /** The grants record of the signer's organization for that agent, and the roles it holds. */
  readonly key: string;
  readonly roles: readonly string[];
}

// The common part of grant and ungrant: an admin of the granting organization, a well-formed target.
function grantTarget(ctx: ContractContext): GrantTarget | ContractOutcome {
  const denied = adminOnly(ctx, 'roles');
  if (denied) return denied;
  const payload = ctx.transaction.payload as Record<string, unknown>;
  const bad = exactFields(payload, ['roleId', 'agent']);
  if (bad) return bad;
  const agent = payload['agent'] as { organizationId?: unknown; agentId?: unknown } | null;
  const roleId = payload['roleId'];
  if (typeof roleId !== 'string' || !ROLE_ID.test(roleId)) return reject('IDENTITY.INVALID', 'payload.roleId must be a role id');
  if (!agent || typeof agent !== 'object' || typeof agent.organizationId !== 'string' || !IDENTIFIER_PATTERN.test(agent.organizationId) || typeof agent.agentId !== 'string' || !IDENTIFIER_PATTERN.test(agent.agentId)) {
    return reject('IDENTITY.INVALID', 'payload.agent must be { "organizationId", "agentId" }');
  }
  const key = grantsKeyOf(ctx.transaction.creator.organizationId, agent.organizationId, agent.agentId);
  const roles = (ctx.state.get(key)?.value as { roles?: string[] } | null | undefined)?.roles ?? [];
  return { roleId, agentOrganizationId: agent.organizationId, agentId: agent.agentId, key, roles };
}

/** `identity.role.grant`: `{ roleId, agent: { organizationId, agentId } }` — a role of the signer's organization, to another organization's agent. */
export const roleGrantContract: ContractHandler = {
  type: 'identity.role.grant',
  configuration: false,
  execute(ctx) {
    const t = grantTarget(ctx);
    if ('ok' in t) return t;
    const organizationId = ctx.transaction.creator.organizationId;
    if (t.agentOrganizationId === organizationId) return reject('IDENTITY.INVALID', 'a grant is for an agent of another organization; give own agents their roles directly');
    if (!ctx.state.get(roleKeyOf(organizationId, t.roleId))) return reject('IDENTITY.ROLE_NOT_FOUND', `role ${organizationId}/${t.roleId} is not defined`);
    if (!ctx.state.get(agentKeyOf(t.agentOrganizationId, t.agentId))) return reject('IDENTITY.AGENT_NOT_FOUND', `agent ${t.agentOrganizationId}/${t.agentId} is not registered`);
    if (t.roles.includes(t.roleId)) return reject('IDENTITY.GRANT_EXISTS', `${t.agentOrganizationId}/${t.agentId} already holds ${organizationId}/${t.roleId}`);
    return { ok: true, writes: [{ key: t.key, value: { roles: sortedUnique([...t.roles, t.roleId]) } }] };
  },
};

/** `identity.role.ungrant`: `{ roleId, agent: { organizationId, agentId } }`; the permissions end at this block. */
export const roleUngrantContract: ContractHandler = {
  type: 'identity.role.ungrant',
  configuration: false,
  execute(ctx) {
    const t = grantTarget(ctx);
    if ('ok' in t) return t;
    if (!t.roles.includes(t.roleId)) return reject('IDENTITY.GRANT_NOT_FOUND', `no grant of ${t.roleId} to ${t.agentOrganizationId}/${t.agentId}`);
    const rest = t.roles.filter((r) => r !== t.roleId);
    return { ok: true, writes: [{ key: t.key, value: rest.length ? { roles: rest } : null }] };
  },
};

export const roleContracts: readonly ContractHandler[] = [roleDefineContract, roleGrantContract, roleUngrantContract];
