import { Inject } from '@nestjs/common';
import { Authenticated } from '@alliance/shared/feature-platform';
import { Args, Directive, Field, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import type { AgentView, OrganizationView } from '@alliance/identity/domain';
import type { Device, Role } from '@alliance/ledger/domain';
import { fromHex, keyId as keyIdOf } from '@alliance/protocol';
import { checkOrganizationId, type IdentityQueries, IdentityQueryErrors, type ProposalView } from './identity-queries';
import { DEVICE_STATUSES, IDENTITY_QUERIES, IDENTITY_READ_MODEL, oneOf, PROPOSAL_STATUSES } from './identity-api';
import type { IdentityReadModel } from './read-model';

@ObjectType({ description: 'A key on the chain and whether it is in force' })
@Directive('@shareable')
export class IdentityKey {
  @Field() keyId!: string;
  @Field() algorithm!: string;
  @Field({ description: 'Hex of the public key' }) publicKey!: string;
  @Field({ nullable: true, description: 'active, rotated or revoked (agent keys)' }) status?: string;
  @Field(() => Int, { nullable: true }) addedAtBlock?: number | null;
  @Field(() => Int, { nullable: true, description: 'From this block on the key signs nothing valid' }) endedAtBlock?: number | null;
}

@ObjectType({ description: 'An organization that is or was a member of the consortium' })
@Directive('@shareable')
export class IdentityOrganization {
  @Field() organizationId!: string;
  @Field({ description: 'manufacturer, supplier, logistics, warehouse, financier or regulator' }) role!: string;
  @Field({ description: 'member, departed or observer' }) status!: string;
  @Field(() => Int) joinedAtBlock!: number;
  @Field(() => Int, { nullable: true }) leftAtBlock!: number | null;
  @Field(() => String, { nullable: true, description: 'exit, expel or configuration' }) leftReason!: string | null;
  @Field(() => String, { nullable: true }) legalName!: string | null;
  @Field(() => String, { nullable: true, description: 'Unified social credit code' }) creditCode!: string | null;
  @Field(() => String, { nullable: true }) gs1CompanyPrefix!: string | null;
  @Field(() => String, { nullable: true }) gln!: string | null;
  @Field(() => IdentityKey, { nullable: true, description: 'null for an observer' }) nodeKey!: IdentityKey | null;
  @Field(() => [IdentityKey]) adminKeys!: IdentityKey[];
}

@ObjectType({ description: 'A person or system acting for an organization' })
@Directive('@shareable')
export class IdentityAgent {
  @Field() organizationId!: string;
  @Field() agentId!: string;
  @Field() name!: string;
  @Field(() => [String]) roles!: string[];
  @Field(() => [String], { description: 'Its permissions in its own organization' }) permissions!: string[];
  @Field(() => [IdentityKey]) keys!: IdentityKey[];
}

@ObjectType()
@Directive('@shareable')
export class IdentityAgentPage {
  @Field(() => [IdentityAgent]) items!: IdentityAgent[];
  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page' }) nextAfter!: string | null;
}

@ObjectType({ description: 'A role an organization defined' })
@Directive('@shareable')
export class IdentityRole {
  @Field() organizationId!: string;
  @Field() roleId!: string;
  @Field(() => [String]) permissions!: string[];
  @Field(() => [String]) inherits!: string[];
}

@ObjectType({ description: 'A registered industrial device' })
@Directive('@shareable')
export class IdentityDevice {
  @Field() organizationId!: string;
  @Field({ description: 'GIAI URN or DID' }) deviceId!: string;
  @Field() model!: string;
  @Field(() => IdentityKey) key!: IdentityKey;
  @Field({ description: 'active, suspended or retired' }) status!: string;
  @Field(() => [String]) assets!: string[];
  @Field(() => [String]) locations!: string[];
  @Field(() => Int) registeredAtBlock!: number;
  @Field(() => Int) statusChangedAtBlock!: number;
  @Field(() => String, { nullable: true }) statusReason!: string | null;
}

@ObjectType()
@Directive('@shareable')
export class IdentityDevicePage {
  @Field(() => [IdentityDevice]) items!: IdentityDevice[];
  @Field(() => String, { nullable: true }) nextAfter!: string | null;
}

@ObjectType()
@Directive('@shareable')
export class IdentityVote {
  @Field() organizationId!: string;
  @Field() approve!: boolean;
}

@ObjectType({ description: 'A membership proposal: join, exit or expel' })
@Directive('@shareable')
export class IdentityProposal {
  @Field() proposalId!: string;
  @Field() kind!: string;
  @Field() organizationId!: string;
  @Field(() => String, { nullable: true, description: 'From the application (join)' }) legalName!: string | null;
  @Field() proposedBy!: string;
  @Field(() => Int) proposedAtBlock!: number;
  @Field({ description: 'open, approved, rejected or stale' }) status!: string;
  @Field(() => Int, { nullable: true }) decidedAtBlock!: number | null;
  @Field(() => [IdentityVote]) votes!: IdentityVote[];
}

@ObjectType()
@Directive('@shareable')
export class IdentityReadModelPosition {
  @Field(() => String, { nullable: true }) chainId!: string | null;
  @Field(() => String, { nullable: true }) nodeId!: string | null;
  @Field(() => Int, { description: 'Last block applied; -1 before the genesis' }) lastBlock!: number;
}

const toOrganization = (o: OrganizationView): IdentityOrganization => ({ ...o, nodeKey: o.nodeKey ? { keyId: keyIdOf('ed25519', fromHex(o.nodeKey.publicKey)), ...o.nodeKey } : null, adminKeys: o.adminKeys.map((k) => ({ ...k })) });
const toAgent = (a: AgentView): IdentityAgent => ({ ...a, roles: [...a.roles], permissions: [...a.permissions], keys: a.keys.map((k) => ({ ...k })) });
const toDevice = (d: Device): IdentityDevice => ({ ...d, key: { ...d.key }, assets: [...d.assets], locations: [...d.locations] });
const toProposal = (p: ProposalView): IdentityProposal => ({
  proposalId: p.proposalId,
  kind: p.kind,
  organizationId: p.organizationId,
  legalName: p.application?.legalName ?? null,
  proposedBy: p.proposedBy,
  proposedAtBlock: p.proposedAtBlock,
  status: p.status,
  decidedAtBlock: p.decidedAtBlock,
  votes: Object.entries(p.votes).map(([organizationId, approve]) => ({ organizationId, approve })),
});

function atBlock(value: number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (value < 0) throw IdentityQueryErrors.invalid('atBlock must be a block number (a non-negative integer)');
  return value;
}

function limit(value: number): number {
  if (value < 1 || value > 500) throw IdentityQueryErrors.invalid('limit must be between 1 and 500');
  return value;
}

const AT = { name: 'atBlock', type: () => Int, nullable: true, description: 'The state as it stood after this block' } as const;

/** The identity subgraph: the same questions as `/identity/v1`, from the same queries. */
@Resolver()
@Authenticated()
export class IdentityResolver {
  constructor(
    @Inject(IDENTITY_QUERIES) private readonly queries: IdentityQueries,
    @Inject(IDENTITY_READ_MODEL) private readonly readModel: IdentityReadModel,
  ) {}

  @Query(() => [IdentityOrganization], { description: 'Every organization that is or was a member' })
  async identityOrganizations(@Args(AT) at?: number | null): Promise<IdentityOrganization[]> {
    return (await this.queries.organizations(atBlock(at))).map(toOrganization);
  }

  @Query(() => IdentityOrganization)
  async identityOrganization(@Args('organizationId') organizationId: string, @Args(AT) at?: number | null): Promise<IdentityOrganization> {
    return toOrganization(await this.queries.organization(checkOrganizationId(organizationId), atBlock(at)));
  }

  @Query(() => IdentityAgentPage, { description: 'An organization’s agents in id order' })
  async identityAgents(
    @Args('organizationId') organizationId: string,
    @Args('after', { nullable: true }) after?: string,
    @Args('limit', { type: () => Int, defaultValue: 100 }) lim = 100,
    @Args(AT) at?: number | null,
  ): Promise<IdentityAgentPage> {
    const page = await this.queries.agents(checkOrganizationId(organizationId), after ?? undefined, limit(lim), atBlock(at));
    return { items: page.items.map(toAgent), nextAfter: page.nextAfter };
  }

  @Query(() => IdentityAgent)
  async identityAgent(@Args('organizationId') organizationId: string, @Args('agentId') agentId: string, @Args(AT) at?: number | null): Promise<IdentityAgent> {
    return toAgent(await this.queries.agent(checkOrganizationId(organizationId), agentId, atBlock(at)));
  }

  @Query(() => [IdentityRole])
  async identityRoles(@Args('organizationId') organizationId: string, @Args(AT) at?: number | null): Promise<IdentityRole[]> {
    return (await this.queries.roles(checkOrganizationId(organizationId), atBlock(at))).map((r: Role) => ({ ...r, permissions: [...r.permissions], inherits: [...r.inherits] }));
  }

  @Query(() => [String], { description: 'What an agent may do in an organization’s name (`scope`, default its own)' })
  async identityPermissions(
    @Args('organizationId') organizationId: string,
    @Args('agentId') agentId: string,
    @Args('scope', { nullable: true }) scope?: string,
    @Args(AT) at?: number | null,
  ): Promise<string[]> {
    const org = checkOrganizationId(organizationId);
    return (await this.queries.permissions(org, agentId, scope ? checkOrganizationId(scope, 'scope') : org, atBlock(at))).permissions;
  }

  @Query(() => IdentityDevicePage)
  async identityDevices(
    @Args('organizationId', { nullable: true }) organizationId?: string,
    @Args('status', { nullable: true }) status?: string,
    @Args('after', { nullable: true }) after?: string,
    @Args('limit', { type: () => Int, defaultValue: 100 }) lim = 100,
    @Args(AT) at?: number | null,
  ): Promise<IdentityDevicePage> {
    const page = await this.queries.devices({ organizationId: organizationId ? checkOrganizationId(organizationId) : undefined, status: oneOf(status ?? undefined, DEVICE_STATUSES, 'status') }, after ?? undefined, limit(lim), atBlock(at));
    return { items: page.items.map(toDevice), nextAfter: page.nextAfter };
  }

  @Query(() => IdentityDevice, { description: 'A device by GIAI URN, GS1 Digital Link or DID' })
  async identityDevice(@Args('deviceId') deviceId: string, @Args(AT) at?: number | null): Promise<IdentityDevice> {
    return toDevice(await this.queries.device(deviceId, atBlock(at)));
  }

  @Query(() => [IdentityProposal])
  async identityProposals(@Args('status', { nullable: true }) status?: string, @Args(AT) at?: number | null): Promise<IdentityProposal[]> {
    return (await this.queries.proposals(oneOf(status ?? undefined, PROPOSAL_STATUSES, 'status'), atBlock(at))).map(toProposal);
  }

  @Query(() => IdentityReadModelPosition)
  async identityReadModel(): Promise<IdentityReadModelPosition> {
    return this.readModel.position();
  }
}
