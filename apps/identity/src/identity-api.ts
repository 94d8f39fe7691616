import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { AllianceError } from '@alliance/shared/util-errors';
import { Authenticated, RequirePermission } from '@alliance/shared/feature-platform';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { checkOrganizationId, IdentityQueries, IdentityQueryErrors } from './identity-queries';
import type { ChainFollower } from '@alliance/shared/data-access-messaging';
import type { IdentityReadModel } from './read-model';

export const IDENTITY_QUERIES = Symbol('alliance.identity-queries');
export const IDENTITY_READ_MODEL = Symbol('alliance.identity-read-model');
export const IDENTITY_FOLLOWER = Symbol('alliance.identity-follower');

/** `atBlock`: a block number the read model holds (default: its newest). */
export function atBlockOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value)) throw IdentityQueryErrors.invalid('atBlock must be a block number (a non-negative integer)');
  return Number(value);
}

export function limitOf(value: string | undefined, fallback = 100, max = 500): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > max) throw IdentityQueryErrors.invalid(`limit must be between 1 and ${max}`);
  return Number(value);
}

export const DEVICE_STATUSES = ['active', 'suspended', 'retired'];
export const PROPOSAL_STATUSES = ['open', 'approved', 'rejected', 'stale'];

/** `value` when it is one of `allowed`, undefined when absent; IDENTITY.INVALID_PARAMETER otherwise. */
export function oneOf(value: string | undefined, allowed: readonly string[], name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!allowed.includes(value)) throw IdentityQueryErrors.invalid(`${name} must be one of ${allowed.join(', ')}`);
  return value;
}

const AT_BLOCK = { name: 'atBlock', required: false, description: 'The state as it stood after this block (default: the newest block the read model holds)' };

@ApiTags('organizations')
@Authenticated()
@Controller('organizations')
export class OrganizationsController {
  constructor(@Inject(IDENTITY_QUERIES) private readonly queries: IdentityQueries) {}

  @Get()
  @ApiOperation({ summary: 'Every organization that has been a member: current members and departed ones, with the blocks that admitted and removed them' })
  @ApiQuery(AT_BLOCK)
  async list(@Query('atBlock') atBlock?: string) {
    return { items: await this.queries.organizations(atBlockOf(atBlock)) };
  }

  @Get(':organizationId')
  @ApiOperation({ summary: 'One organization: role, membership, application details, node and admin keys' })
  @ApiQuery(AT_BLOCK)
  organization(@Param('organizationId') organizationId: string, @Query('atBlock') atBlock?: string) {
    return this.queries.organization(checkOrganizationId(organizationId), atBlockOf(atBlock));
  }

  @Get(':organizationId/agents')
  @ApiOperation({ summary: 'The organization’s agents in id order, `limit` (default 100, max 500) per page; `nextAfter` continues' })
  @ApiQuery(AT_BLOCK)
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false })
  agents(@Param('organizationId') organizationId: string, @Query('after') after?: string, @Query('limit') limit?: string, @Query('atBlock') atBlock?: string) {
    return this.queries.agents(checkOrganizationId(organizationId), after || undefined, limitOf(limit), atBlockOf(atBlock));
  }

  @Get(':organizationId/agents/:agentId')
  @ApiOperation({ summary: 'One agent: roles, permissions in its organization, every key with its status' })
  @ApiQuery(AT_BLOCK)
  agent(@Param('organizationId') organizationId: string, @Param('agentId') agentId: string, @Query('atBlock') atBlock?: string) {
    return this.queries.agent(checkOrganizationId(organizationId), agentId, atBlockOf(atBlock));
  }

  @Get(':organizationId/agents/:agentId/history')
  @ApiOperation({ summary: 'Every version of the agent’s record, oldest first, with the block and transaction that wrote it (key history)' })
  async agentHistory(@Param('organizationId') organizationId: string, @Param('agentId') agentId: string) {
    return { items: await this.queries.agentHistory(checkOrganizationId(organizationId), agentId) };
  }

  @Get(':organizationId/roles')
  @ApiOperation({ summary: 'The roles the organization defined: permissions and inherited roles' })
  @ApiQuery(AT_BLOCK)
  async roles(@Param('organizationId') organizationId: string, @Query('atBlock') atBlock?: string) {
    return { items: await this.queries.roles(checkOrganizationId(organizationId), atBlockOf(atBlock)) };
  }

  @Get(':organizationId/grants')
  @ApiOperation({ summary: 'The roles the organization granted to other organizations’ agents' })
  @ApiQuery(AT_BLOCK)
  async grants(@Param('organizationId') organizationId: string, @Query('atBlock') atBlock?: string) {
    return { items: await this.queries.grants(checkOrganizationId(organizationId), atBlockOf(atBlock)) };
  }
}

@ApiTags('permissions')
@Authenticated()
@Controller()
export class KeysController {
  constructor(@Inject(IDENTITY_QUERIES) private readonly queries: IdentityQueries) {}

  @Get('permissions')
  @ApiOperation({ summary: 'What an agent may do in an organization’s name (`scope`, default its own), by the rule the ledger contracts apply' })
  @ApiQuery({ name: 'organizationId', required: true })
  @ApiQuery({ name: 'agentId', required: true })
  @ApiQuery({ name: 'scope', required: false })
  @ApiQuery(AT_BLOCK)
  permissions(@Query('organizationId') organizationId?: string, @Query('agentId') agentId?: string, @Query('scope') scope?: string, @Query('atBlock') atBlock?: string) {
    if (!organizationId || !agentId) throw IdentityQueryErrors.invalid('organizationId and agentId are required');
    const org = checkOrganizationId(organizationId);
    return this.queries.permissions(org, agentId, scope ? checkOrganizationId(scope, 'scope') : org, atBlockOf(atBlock));
  }

  @Get('keys/:keyId')
  @ApiOperation({ summary: 'Who holds a key (admin, node, agent or device key) and whether it is in force at the block' })
  @ApiQuery(AT_BLOCK)
  key(@Param('keyId') keyId: string, @Query('atBlock') atBlock?: string) {
    return this.queries.key(keyId, atBlockOf(atBlock));
  }
}

@ApiTags('devices')
@Authenticated()
@Controller('devices')
export class DevicesController {
  constructor(@Inject(IDENTITY_QUERIES) private readonly queries: IdentityQueries) {}

  @Get()
  @ApiOperation({ summary: 'Registered devices in id order, filtered by owner and status; `limit` (default 100, max 500), `nextAfter` continues' })
  @ApiQuery({ name: 'organizationId', required: false })
  @ApiQuery({ name: 'status', required: false, enum: DEVICE_STATUSES })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery(AT_BLOCK)
  list(@Query('organizationId') organizationId?: string, @Query('status') status?: string, @Query('after') after?: string, @Query('limit') limit?: string, @Query('atBlock') atBlock?: string) {
    const filter = { organizationId: organizationId ? checkOrganizationId(organizationId) : undefined, status: oneOf(status, DEVICE_STATUSES, 'status') };
    return this.queries.devices(filter, after || undefined, limitOf(limit), atBlockOf(atBlock));
  }

  @Get(':deviceId')
  @ApiOperation({ summary: 'One device by GIAI URN, GS1 Digital Link or DID (percent-encoded): model, key, status, bindings, as at the block' })
  @ApiQuery(AT_BLOCK)
  device(@Param('deviceId') deviceId: string, @Query('atBlock') atBlock?: string) {
    return this.queries.device(deviceId, atBlockOf(atBlock));
  }

  @Get(':deviceId/history')
  @ApiOperation({ summary: 'Every state change of the device, oldest first, with its block and transaction' })
  async history(@Param('deviceId') deviceId: string) {
    return { items: await this.queries.deviceHistory(deviceId) };
  }
}

@ApiTags('proposals')
@Authenticated()
@Controller('proposals')
export class ProposalsController {
  constructor(@Inject(IDENTITY_QUERIES) private readonly queries: IdentityQueries) {}

  @Get()
  @ApiOperation({ summary: 'Membership proposals (join, exit, expel) with their votes, oldest first' })
  @ApiQuery({ name: 'status', required: false, enum: PROPOSAL_STATUSES })
  @ApiQuery(AT_BLOCK)
  async list(@Query('status') status?: string, @Query('atBlock') atBlock?: string) {
    return { items: await this.queries.proposals(oneOf(status, PROPOSAL_STATUSES, 'status'), atBlockOf(atBlock)) };
  }

  @Get(':proposalId')
  @ApiOperation({ summary: 'One membership proposal with its application and votes' })
  @ApiQuery(AT_BLOCK)
  proposal(@Param('proposalId') proposalId: string, @Query('atBlock') atBlock?: string) {
    return this.queries.proposal(proposalId, atBlockOf(atBlock));
  }
}

@ApiTags('read-model')
@Authenticated()
@Controller('read-model')
export class ReadModelController {
  constructor(
    @Inject(IDENTITY_READ_MODEL) private readonly readModel: IdentityReadModel,
    @Inject(IDENTITY_FOLLOWER) private readonly follower: ChainFollower,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Where the identity read model stands: chain, ledger node, last applied block' })
  async position() {
    return { ...(await this.readModel.position()), problem: this.follower.problem ?? null };
  }

  @Post('rebuild')
  @HttpCode(200)
  @RequirePermission('identity.read-model.rebuild')
  @ApiOperation({ summary: 'Empties the read model and rebuilds it from this organization’s ledger node; answers once it is back at the node’s head' })
  async rebuild() {
    if (!this.follower.canRebuild) throw new AllianceError('IDENTITY.LEDGER_NOT_CONFIGURED', 'conflict', 'LEDGER_URL is not set: the read model has no ledger node to rebuild from');
    const lastBlock = await this.follower.rebuild(() => this.readModel.reset());
    return { rebuilt: true, lastBlock };
  }
}
