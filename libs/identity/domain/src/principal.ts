import type { Principal } from '@alliance/shared/util-auth';
import { CONFIG_KEY, observerOf, type ChainConfig, permissionsOf, resolveSigningKey, rolePermissions, type Agent, findAgentKey, type StateView } from '@alliance/ledger/domain';

export type { Principal };

export type PrincipalResolution = { readonly ok: true; readonly principal: Principal; readonly key: { readonly algorithm: string; readonly publicKey: string } } | { readonly ok: false; readonly code: 'AUTH.KEY_UNKNOWN' | 'AUTH.KEY_REVOKED'; readonly detail: string };

/**
 * The principal of `organizationId`'s key `keyId`: the same rule that decides
 * whether the key may sign a transaction (`resolveSigningKey`), so a key that
 * signs nothing valid on the chain signs nobody in either.
 */
export function principalOf(state: StateView & { keys(): Iterable<string> }, organizationId: string, keyId: string): PrincipalResolution {
  const config = state.get(CONFIG_KEY)?.value as ChainConfig | undefined;
  if (!config) return { ok: false, code: 'AUTH.KEY_UNKNOWN', detail: 'the read model holds no chain configuration yet' };
  const resolved = resolveSigningKey(config, state, organizationId, keyId);
  if (!resolved.found) return { ok: false, code: resolved.code === 'LEDGER.KEY_REVOKED' ? 'AUTH.KEY_REVOKED' : 'AUTH.KEY_UNKNOWN', detail: resolved.detail };
  const organizationRole = config.members.find((m) => m.organizationId === organizationId)?.role ?? observerOf(config, organizationId)?.role ?? 'unknown';
  const found = findAgentKey(state, organizationId, keyId);
  const key = { algorithm: resolved.algorithm, publicKey: resolved.publicKey };
  if (!found) return { ok: true, key, principal: { organizationId, agentId: null, keyId, admin: true, organizationRole, roles: [], permissions: {} } };
  const agent: Agent = found.agent;
  const permissions: Record<string, string[]> = { [organizationId]: [...rolePermissions(state, organizationId, agent.roles)].sort() };
  const suffix = `/${organizationId}/${agent.agentId}`;
  for (const key of state.keys()) {
    if (!key.startsWith('identity/grants/') || !key.endsWith(suffix) || !state.get(key)) continue;
    const scope = key.slice('identity/grants/'.length, key.length - suffix.length);
    if (scope.includes('/')) continue;
    const granted = [...permissionsOf(state, organizationId, agent.agentId, scope)].sort();
    if (granted.length > 0) permissions[scope] = granted;
  }
  return { ok: true, key, principal: { organizationId, agentId: agent.agentId, keyId, admin: false, organizationRole, roles: [...agent.roles], permissions } };
}
