import { agentViewOf, type AgentView, organizationsOf, type OrganizationView } from '@alliance/identity/domain';
import { type Agent, agentKeyOf, type Device, deviceKeyIndexOf, deviceKeyOf, findDevice, keyIndexOf, ORGANIZATION_ID_PATTERN, permissionsOf, type Proposal, type Role } from '@alliance/ledger/domain';
import { fromHex, IDENTIFIER_PATTERN, KEY_ID_PATTERN, keyId as keyIdOf } from '@alliance/protocol';
import { AllianceError } from '@alliance/shared/util-errors';
import type { IdentityReadModel, IdentitySnapshot } from './read-model';

export const IdentityQueryErrors = {
  invalid: (message: string) => new AllianceError('IDENTITY.INVALID_PARAMETER', 'invalid', message),
  organizationNotFound: (id: string) => new AllianceError('IDENTITY.ORGANIZATION_NOT_FOUND', 'not-found', `organization ${id} has never been a member`),
  agentNotFound: (org: string, id: string) => new AllianceError('IDENTITY.AGENT_NOT_FOUND', 'not-found', `organization ${org} has no agent ${id}`),
  deviceNotFound: (id: string) => new AllianceError('IDENTITY.DEVICE_NOT_FOUND', 'not-found', `no device ${id} is registered`),
  keyNotFound: (id: string) => new AllianceError('IDENTITY.KEY_NOT_FOUND', 'not-found', `no key ${id} is on the chain`),
  proposalNotFound: (id: string) => new AllianceError('IDENTITY.PROPOSAL_NOT_FOUND', 'not-found', `no membership proposal ${id}`),
};

export interface Page<T> {
  readonly items: T[];
  /** Pass as `after` for the next page; null on the last one. */
  readonly nextAfter: string | null;
}

export interface DeviceFilter {
  readonly organizationId?: string;
  readonly status?: string;
}

export interface KeyOwner {
  readonly keyId: string;
  readonly kind: 'admin' | 'node' | 'agent' | 'device';
  readonly organizationId: string;
  readonly agentId: string | null;
  readonly deviceId: string | null;
  readonly algorithm: string;
  readonly publicKey: string;
  /** `active`, `rotated`, `revoked`, or for a device key its device's status; `departed` when the organization left. */
  readonly status: string;
  readonly addedAtBlock: number | null;
  readonly endedAtBlock: number | null;
}

export type ProposalView = Proposal & { readonly proposalId: string };


export function checkOrganizationId(value: string, name = 'organizationId'): string {
  if (!ORGANIZATION_ID_PATTERN.test(value)) throw IdentityQueryErrors.invalid(`${name} must be lower-case letters, digits and dashes, starting with a letter`);
  return value;
}

function page<T>(items: T[], keyOf: (t: T) => string, after: string | undefined, limit: number): Page<T> {
  const rest = after === undefined ? items : items.filter((t) => keyOf(t) > after);
  const slice = rest.slice(0, limit);
  return { items: slice, nextAfter: rest.length > limit ? keyOf(slice[slice.length - 1]) : null };
}

/** Every identity question the REST API and the GraphQL subgraph answer, over one snapshot of the read model. */
export class IdentityQueries {
  constructor(private readonly readModel: IdentityReadModel) {}

  snapshot(atBlock?: number): Promise<IdentitySnapshot> {
    return this.readModel.snapshot(atBlock);
  }

  async organizations(atBlock?: number): Promise<OrganizationView[]> {
    const s = await this.snapshot(atBlock);
    return organizationsOf(s.configVersions, s.proposals);
  }

  async organization(organizationId: string, atBlock?: number): Promise<OrganizationView> {
    const found = (await this.organizations(atBlock)).find((o) => o.organizationId === organizationId);
    if (!found) throw IdentityQueryErrors.organizationNotFound(organizationId);
    return found;
  }

  async agents(organizationId: string, after: string | undefined, limit: number, atBlock?: number): Promise<Page<AgentView>> {
    const s = await this.snapshot(atBlock);
    const agents = s.valuesUnder(`identity/agent/${organizationId}/`).map((r) => agentViewOf(s.state, r.value as unknown as Agent));
    return page(agents, (a) => a.agentId, after, limit);
  }

  async agent(organizationId: string, agentId: string, atBlock?: number): Promise<AgentView> {
    if (!IDENTIFIER_PATTERN.test(agentId)) throw IdentityQueryErrors.invalid('agentId must be 1-64 lower-case letters, digits, dots, dashes or underscores');
    const s = await this.snapshot(atBlock);
    const agent = s.state.get(agentKeyOf(organizationId, agentId))?.value as Agent | undefined;
    if (!agent) throw IdentityQueryErrors.agentNotFound(organizationId, agentId);
    return agentViewOf(s.state, agent);
  }

  /** Every version of the agent's record: registration, role changes, every key added, rotated or revoked. */
  async agentHistory(organizationId: string, agentId: string) {
    const versions = await this.readModel.history(agentKeyOf(organizationId, agentId));
    if (versions.length === 0) throw IdentityQueryErrors.agentNotFound(organizationId, agentId);
    return versions.map((v) => ({ version: v.version, blockNumber: v.blockNumber, transactionId: v.transactionId, transactionType: v.transactionType, agent: v.value }));
  }

  async roles(organizationId: string, atBlock?: number): Promise<Role[]> {
    const s = await this.snapshot(atBlock);
    return s.valuesUnder(`identity/role/${organizationId}/`).map((r) => r.value as unknown as Role);
  }

  /** The roles `organizationId` granted to other organizations' agents. */
  async grants(organizationId: string, atBlock?: number): Promise<Array<{ organizationId: string; agentOrganizationId: string; agentId: string; roles: string[] }>> {
    const s = await this.snapshot(atBlock);
    const prefix = `identity/grants/${organizationId}/`;
    return s.valuesUnder(prefix).map((r) => {
      const [agentOrganizationId, agentId] = r.key.slice(prefix.length).split('/');
      return { organizationId, agentOrganizationId, agentId, roles: ((r.value as { roles?: string[] }).roles ?? []).slice() };
    });
  }

  /** What agent `agentOrganizationId/agentId` may do in `scopeOrganizationId`'s name, by the rule the contracts apply. */
  async permissions(agentOrganizationId: string, agentId: string, scopeOrganizationId: string, atBlock?: number): Promise<{ blockNumber: number; permissions: string[] }> {
    const s = await this.snapshot(atBlock);
    if (!s.state.get(agentKeyOf(agentOrganizationId, agentId))) throw IdentityQueryErrors.agentNotFound(agentOrganizationId, agentId);
    return { blockNumber: s.blockNumber, permissions: [...permissionsOf(s.state, agentOrganizationId, agentId, scopeOrganizationId)].sort() };
  }

  /** Who holds key `keyId` (admin, node, agent or device key) and whether it is in force at the block. */
  async key(keyId: string, atBlock?: number): Promise<KeyOwner> {
    if (!KEY_ID_PATTERN.test(keyId)) throw IdentityQueryErrors.invalid('a key id is 32 lower-case hex digits (docs/protocol.md §3.2)');
    const s = await this.snapshot(atBlock);
    const orgs = organizationsOf(s.configVersions, s.proposals);
    for (const org of orgs) {
      const admin = org.adminKeys.find((k) => k.keyId === keyId);
      const status = org.status === 'departed' ? 'departed' : 'active';
      if (admin) return { keyId, kind: 'admin', organizationId: org.organizationId, agentId: null, deviceId: null, algorithm: admin.algorithm, publicKey: admin.publicKey, status, addedAtBlock: org.joinedAtBlock, endedAtBlock: org.leftAtBlock };
      if (org.nodeKey && keyIdOf('ed25519', fromHex(org.nodeKey.publicKey)) === keyId) {
        return { keyId, kind: 'node', organizationId: org.organizationId, agentId: null, deviceId: null, algorithm: org.nodeKey.algorithm, publicKey: org.nodeKey.publicKey, status, addedAtBlock: org.joinedAtBlock, endedAtBlock: org.leftAtBlock };
      }
    }
    const agentRef = s.state.get(keyIndexOf(keyId))?.value as { organizationId: string; agentId: string } | undefined;
    if (agentRef) {
      const agent = s.state.get(agentKeyOf(agentRef.organizationId, agentRef.agentId))?.value as Agent | undefined;
      const k = agent?.keys.find((x) => x.keyId === keyId);
      if (agent && k) {
        const departed = orgs.find((o) => o.organizationId === agent.organizationId)?.status === 'departed';
        return { keyId, kind: 'agent', organizationId: agent.organizationId, agentId: agent.agentId, deviceId: null, algorithm: k.algorithm, publicKey: k.publicKey, status: departed ? 'departed' : k.endedAtBlock === null ? 'active' : (k.endReason ?? 'revoked'), addedAtBlock: k.addedAtBlock, endedAtBlock: k.endedAtBlock };
      }
    }
    const deviceRef = s.state.get(deviceKeyIndexOf(keyId))?.value as { organizationId: string; deviceId: string } | undefined;
    if (deviceRef) {
      const device = s.state.get(deviceKeyOf(deviceRef.organizationId, deviceRef.deviceId))?.value as Device | undefined;
      if (device) return { keyId, kind: 'device', organizationId: device.organizationId, agentId: null, deviceId: device.deviceId, algorithm: device.key.algorithm, publicKey: device.key.publicKey, status: device.status, addedAtBlock: device.registeredAtBlock, endedAtBlock: null };
    }
    throw IdentityQueryErrors.keyNotFound(keyId);
  }

  async devices(filter: DeviceFilter, after: string | undefined, limit: number, atBlock?: number): Promise<Page<Device>> {
    const s = await this.snapshot(atBlock);
    const devices = s
      .valuesUnder(filter.organizationId ? `identity/device/${filter.organizationId}/` : 'identity/device/')
      .map((r) => r.value as unknown as Device)
      .filter((d) => filter.status === undefined || d.status === filter.status)
      .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    return page(devices, (d) => d.deviceId, after, limit);
  }

  /** A device by any accepted form of its id (GIAI URN, GS1 Digital Link, DID), as it stood at the block. */
  async device(deviceId: string, atBlock?: number): Promise<Device> {
    const s = await this.snapshot(atBlock);
    const device = findDevice(s.state, deviceId);
    if (!device) throw IdentityQueryErrors.deviceNotFound(deviceId);
    return device;
  }

  async deviceHistory(deviceId: string) {
    const current = await this.device(deviceId);
    const versions = await this.readModel.history(deviceKeyOf(current.organizationId, current.deviceId));
    return versions.map((v) => ({ version: v.version, blockNumber: v.blockNumber, transactionId: v.transactionId, transactionType: v.transactionType, device: v.value }));
  }

  async proposals(status: string | undefined, atBlock?: number): Promise<ProposalView[]> {
    const s = await this.snapshot(atBlock);
    return s.proposals.filter((p) => status === undefined || p.status === status).sort((a, b) => a.proposedAtBlock - b.proposedAtBlock || (a.proposalId < b.proposalId ? -1 : 1));
  }

  async proposal(proposalId: string, atBlock?: number): Promise<ProposalView> {
    if (!/^[0-9a-f]{64}$/.test(proposalId)) throw IdentityQueryErrors.invalid('a proposal id is the 64 lower-case hex digits of the transaction that made it');
    const found = (await this.snapshot(atBlock)).proposals.find((p) => p.proposalId === proposalId);
    if (!found) throw IdentityQueryErrors.proposalNotFound(proposalId);
    return found;
  }
}
