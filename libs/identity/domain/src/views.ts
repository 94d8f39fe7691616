import { type Agent, type ChainConfig, type Proposal, rolePermissions, type StateView } from '@alliance/ledger/domain';

/** One version of the chain configuration and the block that wrote it. */
export interface ConfigVersion {
  readonly blockNumber: number;
  readonly config: ChainConfig;
}

export interface OrganizationView {
  readonly organizationId: string;
  readonly role: string;
  /**
   * `member` while in the configuration's members; `departed` from the block of its exit or expulsion on;
   * `observer` while in its observers (a regulator: it neither certifies nor votes, and reads).
   */
  readonly status: 'member' | 'departed' | 'observer';
  readonly joinedAtBlock: number;
  readonly leftAtBlock: number | null;
  readonly leftReason: 'exit' | 'expel' | 'configuration' | null;
  /** From its approved application; founders written by the genesis have none. */
  readonly legalName: string | null;
  readonly creditCode: string | null;
  readonly gs1CompanyPrefix: string | null;
  readonly gln: string | null;
  /** null for an observer (its node, if it runs one, certifies nothing). */
  readonly nodeKey: { readonly algorithm: string; readonly publicKey: string } | null;
  readonly adminKeys: ReadonlyArray<{ readonly keyId: string; readonly algorithm: string; readonly publicKey: string }>;
}

/**
 * Every organization that has been a member, from the configuration versions
 * in block order and the decided membership proposals: the current members
 * and those that left, with the blocks that admitted and removed them.
 */
export function organizationsOf(versions: readonly ConfigVersion[], proposals: readonly Proposal[]): OrganizationView[] {
  const seen = new Map<string, OrganizationView>();
  const applications = new Map(proposals.filter((p) => p.kind === 'join' && p.status === 'approved' && p.application).map((p) => [p.organizationId, p]));
  for (const { blockNumber, config } of [...versions].sort((a, b) => a.blockNumber - b.blockNumber)) {
    const present = new Set([...config.members, ...(config.observers ?? [])].map((m) => m.organizationId));
    for (const o of config.observers ?? []) {
      const known = seen.get(o.organizationId);
      seen.set(o.organizationId, {
        organizationId: o.organizationId,
        role: o.role,
        status: 'observer',
        joinedAtBlock: known && known.status === 'observer' ? known.joinedAtBlock : blockNumber,
        leftAtBlock: null,
        leftReason: null,
        legalName: null,
        creditCode: null,
        gs1CompanyPrefix: null,
        gln: null,
        nodeKey: null,
        adminKeys: o.keys,
      });
    }
    for (const m of config.members) {
      const known = seen.get(m.organizationId);
      const rejoined = !known || known.status === 'departed';
      const application = applications.get(m.organizationId)?.application ?? null;
      seen.set(m.organizationId, {
        organizationId: m.organizationId,
        role: m.role,
        status: 'member',
        joinedAtBlock: rejoined ? blockNumber : known.joinedAtBlock,
        leftAtBlock: null,
        leftReason: null,
        legalName: application?.legalName ?? null,
        creditCode: application?.creditCode ?? null,
        gs1CompanyPrefix: application?.gs1CompanyPrefix ?? null,
        gln: application?.gln ?? null,
        nodeKey: m.nodeKey,
        adminKeys: m.keys,
      });
    }
    for (const [id, view] of seen) {
      if (present.has(id) || view.status === 'departed') continue;
      const decided = proposals.find((p) => p.organizationId === id && p.status === 'approved' && p.decidedAtBlock === blockNumber && (p.kind === 'exit' || p.kind === 'expel'));
      seen.set(id, { ...view, status: 'departed', leftAtBlock: blockNumber, leftReason: decided ? (decided.kind as 'exit' | 'expel') : 'configuration' });
    }
  }
  return [...seen.values()].sort((a, b) => (a.organizationId < b.organizationId ? -1 : a.organizationId > b.organizationId ? 1 : 0));
}

export type KeyStatus = 'active' | 'rotated' | 'revoked';

export interface AgentView {
  readonly organizationId: string;
  readonly agentId: string;
  readonly name: string;
  readonly roles: readonly string[];
  /** Its permissions in its own organization (roles with what they inherit). */
  readonly permissions: readonly string[];
  readonly keys: ReadonlyArray<{
    readonly keyId: string;
    readonly algorithm: string;
    readonly publicKey: string;
    readonly status: KeyStatus;
    readonly addedAtBlock: number;
    readonly endedAtBlock: number | null;
  }>;
}

export function agentViewOf(state: StateView, agent: Agent): AgentView {
  return {
    organizationId: agent.organizationId,
    agentId: agent.agentId,
    name: agent.name,
    roles: agent.roles,
    permissions: [...rolePermissions(state, agent.organizationId, agent.roles)].sort(),
    keys: agent.keys.map((k) => ({
      keyId: k.keyId,
      algorithm: k.algorithm,
      publicKey: k.publicKey,
      status: k.endedAtBlock === null ? 'active' : (k.endReason ?? 'revoked'),
      addedAtBlock: k.addedAtBlock,
      endedAtBlock: k.endedAtBlock,
    })),
  };
}
