import { CONFIG_KEY, type Agent, type ChainConfig, type Device, type JsonValue, type Proposal, type StateView, type VersionedValue } from '@alliance/ledger/domain';

/**
 * The identity read model mirrors the world-state keys identity contracts write
 * — the chain configuration and everything under `identity/` — from the valid
 * transactions of its own ledger node's committed blocks. It decides nothing:
 * the contracts did; it only makes their results queryable by block.
 */
export function isIdentityKey(key: string): boolean {
  return key === CONFIG_KEY || key.startsWith('identity/');
}

export interface ProjectedWrite {
  readonly key: string;
  /** null: the key was deleted. */
  readonly value: JsonValue;
  readonly version: number;
}

/** One transaction of a committed block, as the ledger's event or its REST API gives it. */
export interface ProjectedTransaction {
  readonly transactionId: string;
  readonly type: string | null;
  readonly organizationId: string | null;
  readonly code: string;
  readonly writes: readonly ProjectedWrite[];
}

/** What a block changed that other services and people care about (the identity Kafka events). */
export type IdentityChange =
  | { readonly kind: 'organization.joined'; readonly organizationId: string; readonly role: string }
  | { readonly kind: 'organization.left'; readonly organizationId: string; readonly reason: 'exit' | 'expel' | 'configuration' }
  | { readonly kind: 'agent.registered'; readonly organizationId: string; readonly agentId: string }
  | { readonly kind: 'key.rotated' | 'key.revoked'; readonly organizationId: string; readonly agentId: string; readonly keyId: string }
  | { readonly kind: 'device.registered'; readonly organizationId: string; readonly deviceId: string }
  | { readonly kind: 'device.status-changed'; readonly organizationId: string; readonly deviceId: string; readonly from: string; readonly to: string; readonly reason: string | null }
  | { readonly kind: 'proposal.opened'; readonly proposalId: string; readonly proposalKind: string; readonly organizationId: string }
  | { readonly kind: 'proposal.decided'; readonly proposalId: string; readonly proposalKind: string; readonly organizationId: string; readonly status: string };

/** The identity writes of a valid transaction, in the order the result lists them (by key). */
export function identityWritesOf(tx: ProjectedTransaction): ProjectedWrite[] {
  return tx.code === 'VALID' ? tx.writes.filter((w) => isIdentityKey(w.key)) : [];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The changes one transaction's identity writes make to `before` (the state
 * just before the transaction). Pure: the same block gives the same changes
 * on every rebuild, so the events derived from it carry stable ids.
 */
export function changesOf(before: StateView, writes: readonly ProjectedWrite[]): IdentityChange[] {
  const out: IdentityChange[] = [];
  const proposals = writes.filter((w) => w.key.startsWith('identity/proposal/') && isObject(w.value)).map((w) => w.value as unknown as Proposal);
  for (const w of writes) {
    const old = before.get(w.key)?.value ?? null;
    if (w.key === CONFIG_KEY) out.push(...memberChanges(old as ChainConfig | null, w.value as unknown as ChainConfig | null, proposals));
    else if (w.key.startsWith('identity/agent/')) out.push(...agentChanges(old as unknown as Agent | null, w.value as unknown as Agent | null));
    else if (w.key.startsWith('identity/device/')) out.push(...deviceChanges(old as unknown as Device | null, w.value as unknown as Device | null));
    else if (w.key.startsWith('identity/proposal/')) out.push(...proposalChanges(w.key.slice('identity/proposal/'.length), old as unknown as Proposal | null, w.value as unknown as Proposal | null));
  }
  return out;
}

function memberChanges(before: ChainConfig | null, after: ChainConfig | null, proposals: readonly Proposal[]): IdentityChange[] {
  const was = new Set((before?.members ?? []).map((m) => m.organizationId));
  const is = new Set((after?.members ?? []).map((m) => m.organizationId));
  const out: IdentityChange[] = [];
  for (const m of after?.members ?? []) if (!was.has(m.organizationId)) out.push({ kind: 'organization.joined', organizationId: m.organizationId, role: m.role });
  for (const id of was) {
    if (is.has(id)) continue;
    const decided = proposals.find((p) => p.organizationId === id && p.status === 'approved' && (p.kind === 'exit' || p.kind === 'expel'));
    out.push({ kind: 'organization.left', organizationId: id, reason: decided ? (decided.kind as 'exit' | 'expel') : 'configuration' });
  }
  return out;
}

function agentChanges(before: Agent | null, after: Agent | null): IdentityChange[] {
  if (!after) return [];
  const out: IdentityChange[] = [];
  if (!before) out.push({ kind: 'agent.registered', organizationId: after.organizationId, agentId: after.agentId });
  const ended = new Map((before?.keys ?? []).map((k) => [k.keyId, k.endedAtBlock]));
  for (const k of after.keys) {
    if (k.endedAtBlock === null || (ended.has(k.keyId) && ended.get(k.keyId) !== null)) continue;
    out.push({ kind: k.endReason === 'rotated' ? 'key.rotated' : 'key.revoked', organizationId: after.organizationId, agentId: after.agentId, keyId: k.keyId });
  }
  return out;
}

function deviceChanges(before: Device | null, after: Device | null): IdentityChange[] {
  if (!after) return [];
  if (!before) return [{ kind: 'device.registered', organizationId: after.organizationId, deviceId: after.deviceId }];
  if (before.status === after.status) return [];
  return [{ kind: 'device.status-changed', organizationId: after.organizationId, deviceId: after.deviceId, from: before.status, to: after.status, reason: after.statusReason }];
}

function proposalChanges(proposalId: string, before: Proposal | null, after: Proposal | null): IdentityChange[] {
  if (!after) return [];
  const base = { proposalId, proposalKind: after.kind, organizationId: after.organizationId };
  if (!before) return [{ kind: 'proposal.opened', ...base }];
  if (before.status === 'open' && after.status !== 'open') return [{ kind: 'proposal.decided', ...base, status: after.status }];
  return [];
}

/** A StateView over a map that transactions of one block update as they are applied. */
export class MapStateView implements StateView {
  constructor(private readonly entries: Map<string, VersionedValue> = new Map()) {}

  get(key: string): VersionedValue | undefined {
    const entry = this.entries.get(key);
    return entry && entry.value !== null ? entry : undefined;
  }

  apply(writes: readonly ProjectedWrite[]): void {
    for (const w of writes) this.entries.set(w.key, { value: w.value, version: w.version });
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }
}
