import { fromHex, IDENTIFIER_PATTERN, isSignatureAlgorithm, isValidPublicKey, keyId as keyIdOf } from '@alliance/protocol';
import type { ChainConfig, ObserverConfig, ContractContext, ContractHandler, ContractOutcome, JsonValue, StateView, StateWrite } from './types';

/**
 * Agents and their keys (issue 4, first part; after Hyperledger Grid's Pike):
 * an organization's admin — a key of the organization in the chain
 * configuration — registers its agents (people, ERP connectors) with public
 * keys and roles, adds, rotates and revokes their keys. Every change is a
 * transaction, so every node resolves the same key to the same verdict at the
 * same block. State:
 *
 *   identity/agent/<organizationId>/<agentId> → Agent
 *   identity/key/<keyId>                      → { organizationId, agentId }
 *
 * A key ended at block n (rotated or revoked) signs nothing valid from block n
 * on — in block n, from the ending transaction on — and what it signed before
 * stays committed and verifiable. Key ids are unique on the chain: a key is
 * never reused, by another agent or after it ended.
 */
export interface AgentKey {
  readonly keyId: string;
  readonly algorithm: string;
  readonly publicKey: string;
  readonly addedAtBlock: number;
  /** Block from which the key signs nothing valid; null while it is in force. */
  readonly endedAtBlock: number | null;
  readonly endReason: 'rotated' | 'revoked' | null;
}

export interface Agent {
  readonly organizationId: string;
  readonly agentId: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly keys: readonly AgentKey[];
}

export const agentKeyOf = (organizationId: string, agentId: string) => `identity/agent/${organizationId}/${agentId}`;
export const keyIndexOf = (keyId: string) => `identity/key/${keyId}`;
/** A device key's index (contracts/devices.ts): → { organizationId, deviceId }. */
export const deviceKeyIndexOf = (keyId: string) => `identity/device-key/${keyId}`;

/**
 * True when a key is already on the chain in any role — an admin or node key
 * in the configuration, an agent key (ended ones too), a device key — or in
 * `pending` (the same transaction). Keys are never reused: the one check every
 * contract that adds a key runs.
 */
export function keyInUse(config: ChainConfig, state: StateView, keyId: string, publicKeyHex: string, pending: ReadonlySet<string> = new Set()): boolean {
  const inConfig = config.members.some((m) => m.keys.some((c) => c.keyId === keyId) || m.nodeKey.publicKey === publicKeyHex) || (config.observers ?? []).some((o) => o.keys.some((c) => c.keyId === keyId));
  return inConfig || pending.has(keyId) || state.get(keyIndexOf(keyId)) !== undefined || state.get(deviceKeyIndexOf(keyId)) !== undefined;
}

const ROLE = /^[a-z][a-z0-9_.-]{0,63}$/;
const MAX_KEYS = 16;
const MAX_ROLES = 64;

export type KeyResolution =
  | { readonly found: true; readonly algorithm: string; readonly publicKey: string }
  | { readonly found: false; readonly code: 'LEDGER.UNKNOWN_KEY' | 'LEDGER.KEY_REVOKED'; readonly detail: string };

/**
 * The key that may sign for `organizationId` under `keyId` now: an admin key
 * of the organization in the configuration, or a key in force of one of its
 * agents. The one rule the door, the cutter's pre-verification and the
 * executor share.
 */
export function resolveSigningKey(config: ChainConfig, state: StateView, organizationId: string, keyId: string): KeyResolution {
  const admin = adminKeyOf(config, organizationId, keyId);
  if (admin) return { found: true, algorithm: admin.algorithm, publicKey: admin.publicKey };
  const found = findAgentKey(state, organizationId, keyId);
  if (!found) return { found: false, code: 'LEDGER.UNKNOWN_KEY', detail: `key ${keyId} of organization ${organizationId} is not registered` };
  if (!config.members.some((m) => m.organizationId === organizationId)) return { found: false, code: 'LEDGER.UNKNOWN_KEY', detail: `organization ${organizationId} is not a member` };
  const { agent, key } = found;
  if (key.endedAtBlock !== null) return { found: false, code: 'LEDGER.KEY_REVOKED', detail: `key ${keyId} of agent ${organizationId}/${agent.agentId} was ${key.endReason} at block ${key.endedAtBlock}` };
  return { found: true, algorithm: key.algorithm, publicKey: key.publicKey };
}

/** An organization's key in the configuration itself: a member's admin key or an observer's key. */
export function adminKeyOf(config: ChainConfig, organizationId: string, keyId: string): { readonly keyId: string; readonly algorithm: string; readonly publicKey: string } | undefined {
  return (config.members.find((m) => m.organizationId === organizationId) ?? observerOf(config, organizationId))?.keys.find((k) => k.keyId === keyId);
}

/** The observer organization `organizationId` of the configuration, if it is one. */
export function observerOf(config: ChainConfig, organizationId: string): ObserverConfig | undefined {
  return (config.observers ?? []).find((o) => o.organizationId === organizationId);
}

/** An agent key of `organizationId` under `keyId`, in force or ended (keys are never removed, so receipts of old blocks find theirs). */
export function findAgentKey(state: StateView, organizationId: string, keyId: string): { readonly agent: Agent; readonly key: AgentKey } | undefined {
  const index = state.get(keyIndexOf(keyId))?.value as { organizationId?: string; agentId?: string } | null | undefined;
  if (!index || index.organizationId !== organizationId || typeof index.agentId !== 'string') return undefined;
  const agent = state.get(agentKeyOf(organizationId, index.agentId))?.value as Agent | null | undefined;
  const key = agent?.keys.find((k) => k.keyId === keyId);
  return agent && key ? { agent, key } : undefined;
}

/** @internal shared by the identity contracts */
export function reject(code: string, detail: string): ContractOutcome {
  return { ok: false, code, detail };
}

/** @internal Only an admin key of the organization (the configuration's keys) manages its agents and roles. */
/** IDENTITY.INVALID when the payload has a field outside `fields`. */
export function exactFields(payload: Record<string, unknown>, fields: readonly string[]): ContractOutcome | undefined {
  const extra = Object.keys(payload).filter((k) => !fields.includes(k));
  return extra.length ? reject('IDENTITY.INVALID', `unexpected payload field(s): ${extra.join(', ')}`) : undefined;
}

export function adminOnly(ctx: ContractContext, what = 'agents'): ContractOutcome | undefined {
  const { organizationId, keyId } = ctx.transaction.creator;
  const member = ctx.config.members.find((m) => m.organizationId === organizationId);
  if (!member?.keys.some((k) => k.keyId === keyId)) return reject('IDENTITY.NOT_ALLOWED', `only an admin key of ${organizationId} manages its ${what}`);
  return undefined;
}

/** @internal A new key from `{ algorithm, publicKey }`: a valid point, never seen on the chain (agents and devices alike). */
export function parseNewKey(ctx: ContractContext, value: unknown, pending: ReadonlySet<string> = new Set()): { readonly keyId: string; readonly algorithm: string; readonly publicKey: string } | ContractOutcome {
  const k = value as { algorithm?: unknown; publicKey?: unknown } | null;
  if (!k || typeof k !== 'object' || !isSignatureAlgorithm(k.algorithm) || typeof k.publicKey !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(k.publicKey)) {
    return reject('IDENTITY.INVALID', 'a key is { "algorithm": "ed25519" | "ecdsa-p256" | "ecdsa-secp256k1", "publicKey": lower-case hex }');
  }
  const bytes = fromHex(k.publicKey);
  if (!isValidPublicKey(k.algorithm, bytes)) return reject('IDENTITY.INVALID', `publicKey is not a valid ${k.algorithm} public key`);
  const keyId = keyIdOf(k.algorithm, bytes);
  if (keyInUse(ctx.config, ctx.state, keyId, k.publicKey, pending)) return reject('IDENTITY.KEY_EXISTS', `key ${keyId} is already registered on this chain; keys are never reused`);
  return { keyId, algorithm: k.algorithm, publicKey: k.publicKey };
}

function newKey(ctx: ContractContext, value: unknown, pending: ReadonlySet<string>): AgentKey | ContractOutcome {
  const key = parseNewKey(ctx, value, pending);
  return 'ok' in key ? key : { ...key, addedAtBlock: ctx.blockNumber, endedAtBlock: null, endReason: null };
}

const isOutcome = (v: AgentKey | ContractOutcome): v is ContractOutcome => 'ok' in v;

function payloadOf(ctx: ContractContext, fields: readonly string[]): Record<string, unknown> | ContractOutcome {
  const payload = ctx.transaction.payload as Record<string, unknown>;
  const bad = exactFields(payload, fields);
  if (bad) return bad;
  if (typeof payload['agentId'] !== 'string' || !IDENTIFIER_PATTERN.test(payload['agentId'])) return reject('IDENTITY.INVALID', 'payload.agentId must be 1-64 of [a-z0-9._-], starting with a letter or digit');
  return payload;
}

function existingAgent(ctx: ContractContext, agentId: string): Agent | ContractOutcome {
  const agent = ctx.state.get(agentKeyOf(ctx.transaction.creator.organizationId, agentId))?.value as Agent | null | undefined;
  return agent ?? reject('IDENTITY.AGENT_NOT_FOUND', `agent ${ctx.transaction.creator.organizationId}/${agentId} is not registered`);
}

const isAgent = (v: Agent | ContractOutcome): v is Agent => !('ok' in v);

function writeAgent(agent: Agent, extra: readonly StateWrite[] = []): ContractOutcome {
  return { ok: true, writes: [{ key: agentKeyOf(agent.organizationId, agent.agentId), value: agent as unknown as JsonValue }, ...extra] };
}

/** `identity.agent.register`: `{ agentId, name, roles?: string[], keys: [{ algorithm, publicKey }] }` (1–16 keys). */
export const agentRegisterContract: ContractHandler = {
  type: 'identity.agent.register',
  configuration: false,
  execute(ctx) {
    const denied = adminOnly(ctx);
    if (denied) return denied;
    const payload = payloadOf(ctx, ['agentId', 'name', 'roles', 'keys']);
    if ('ok' in payload) return payload as ContractOutcome;
    const agentId = payload['agentId'] as string;
    const name = payload['name'];
    if (typeof name !== 'string' || name.length < 1 || name.length > 200) return reject('IDENTITY.INVALID', 'payload.name must be a string of 1-200 characters');
    const roles = rolesOf(payload['roles'] ?? []);
    if (!roles) return reject('IDENTITY.INVALID', `payload.roles must be at most ${MAX_ROLES} distinct role names`);
    const keys = payload['keys'];
    if (!Array.isArray(keys) || keys.length < 1 || keys.length > MAX_KEYS) return reject('IDENTITY.INVALID', `payload.keys must hold 1-${MAX_KEYS} keys`);
    const organizationId = ctx.transaction.creator.organizationId;
    if (ctx.state.get(agentKeyOf(organizationId, agentId))) return reject('IDENTITY.AGENT_EXISTS', `agent ${organizationId}/${agentId} is already registered`);
    const added: AgentKey[] = [];
    for (const k of keys) {
      const key = newKey(ctx, k, new Set(added.map((a) => a.keyId)));
      if (isOutcome(key)) return key;
      added.push(key);
    }
    const agent: Agent = { organizationId, agentId, name, roles, keys: added };
    return writeAgent(agent, added.map((k) => ({ key: keyIndexOf(k.keyId), value: { organizationId, agentId } })));
  },
};

function rolesOf(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_ROLES || !value.every((r) => typeof r === 'string' && ROLE.test(r)) || new Set(value).size !== value.length) return undefined;
  return [...(value as string[])].sort();
}

/** `identity.agent.update`: `{ agentId, name?, roles? }` — the roles (of its own organization) replace the agent's. */
export const agentUpdateContract: ContractHandler = {
  type: 'identity.agent.update',
  configuration: false,
  execute(ctx) {
    const denied = adminOnly(ctx);
    if (denied) return denied;
    const payload = payloadOf(ctx, ['agentId', 'name', 'roles']);
    if ('ok' in payload) return payload as ContractOutcome;
    const agent = existingAgent(ctx, payload['agentId'] as string);
    if (!isAgent(agent)) return agent;
    const name = payload['name'] ?? agent.name;
    if (typeof name !== 'string' || name.length < 1 || name.length > 200) return reject('IDENTITY.INVALID', 'payload.name must be a string of 1-200 characters');
    const roles = payload['roles'] === undefined ? [...agent.roles] : rolesOf(payload['roles']);
    if (!roles) return reject('IDENTITY.INVALID', `payload.roles must be at most ${MAX_ROLES} distinct role names`);
    return writeAgent({ ...agent, name, roles });
  },
};

/** `identity.agent.key.add`: `{ agentId, key: { algorithm, publicKey } }`. */
export const agentKeyAddContract: ContractHandler = {
  type: 'identity.agent.key.add',
  configuration: false,
  execute(ctx) {
    const denied = adminOnly(ctx);
    if (denied) return denied;
    const payload = payloadOf(ctx, ['agentId', 'key']);
    if ('ok' in payload) return payload as ContractOutcome;
    const agent = existingAgent(ctx, payload['agentId'] as string);
    if (!isAgent(agent)) return agent;
    if (agent.keys.length >= MAX_KEYS) return reject('IDENTITY.INVALID', `an agent holds at most ${MAX_KEYS} keys, ended ones included`);
    const key = newKey(ctx, payload['key'], new Set());
    if (isOutcome(key)) return key;
    return writeAgent({ ...agent, keys: [...agent.keys, key] }, [{ key: keyIndexOf(key.keyId), value: { organizationId: agent.organizationId, agentId: agent.agentId } }]);
  },
};

function endKey(ctx: ContractContext, reason: 'rotated' | 'revoked', replacement?: unknown): ContractOutcome {
  const denied = adminOnly(ctx);
  if (denied) return denied;
  const payload = payloadOf(ctx, reason === 'rotated' ? ['agentId', 'keyId', 'newKey'] : ['agentId', 'keyId']);
  if ('ok' in payload) return payload as ContractOutcome;
  const agent = existingAgent(ctx, payload['agentId'] as string);
  if (!isAgent(agent)) return agent;
  const keyId = payload['keyId'];
  const current = agent.keys.find((k) => k.keyId === keyId);
  if (!current) return reject('IDENTITY.KEY_NOT_FOUND', `agent ${agent.organizationId}/${agent.agentId} has no key ${String(keyId)}`);
  if (current.endedAtBlock !== null) return reject('IDENTITY.KEY_ENDED', `key ${current.keyId} was already ${current.endReason} at block ${current.endedAtBlock}`);
  const keys = agent.keys.map((k): AgentKey => (k.keyId === current.keyId ? { ...k, endedAtBlock: ctx.blockNumber, endReason: reason } : k));
  if (reason === 'revoked') return writeAgent({ ...agent, keys });
  const next = newKey(ctx, replacement, new Set());
  if (isOutcome(next)) return next;
  return writeAgent({ ...agent, keys: [...keys, next] }, [{ key: keyIndexOf(next.keyId), value: { organizationId: agent.organizationId, agentId: agent.agentId } }]);
}

/** `identity.agent.key.rotate`: `{ agentId, keyId, newKey: { algorithm, publicKey } }`; the old key ends at this block. */
export const agentKeyRotateContract: ContractHandler = {
  type: 'identity.agent.key.rotate',
  configuration: false,
  execute: (ctx) => endKey(ctx, 'rotated', (ctx.transaction.payload as Record<string, unknown>)['newKey']),
};

/** `identity.agent.key.revoke`: `{ agentId, keyId }`; the key signs nothing valid from this block on. */
export const agentKeyRevokeContract: ContractHandler = {
  type: 'identity.agent.key.revoke',
  configuration: false,
  execute: (ctx) => endKey(ctx, 'revoked'),
};

export const agentKeyContracts: readonly ContractHandler[] = [agentRegisterContract, agentUpdateContract, agentKeyAddContract, agentKeyRotateContract, agentKeyRevokeContract];
