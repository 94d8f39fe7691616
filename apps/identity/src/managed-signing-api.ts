import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { principalOfRequest, RequirePermission } from '@alliance/shared/feature-platform';
import type { Principal } from '@alliance/shared/util-auth';
import { limitOf } from './identity-api';
import { IdentityQueryErrors } from './identity-queries';
import type { ManagedSigning } from './managed-signing';

export const MANAGED_SIGNING = Symbol('alliance.identity-managed-signing');

const principal = (req: unknown) => principalOfRequest(req) as Principal;

@ApiTags('managed-signing')
@Controller('managed-keys')
export class ManagedSigningController {
  constructor(@Inject(MANAGED_SIGNING) private readonly managed: ManagedSigning) {}

  @Post()
  @HttpCode(201)
  @RequirePermission('identity.managed-key.manage')
  @ApiOperation({ summary: '`{ agentId }` → a new Ed25519 key kept by this service for the agent, encrypted at rest; register its public key with identity.agent.key.add before it signs' })
  create(@Body() body: unknown, @Req() req: unknown) {
    return this.managed.create(body, principal(req));
  }

  @Get()
  @RequirePermission('identity.managed-key.manage')
  @ApiOperation({ summary: 'This organization’s managed keys, with whether the chain holds each in force' })
  async list() {
    return { items: await this.managed.list() };
  }

  @Post(':keyId/signatures')
  @HttpCode(201)
  @RequirePermission('identity.managed-key.sign')
  @ApiOperation({ summary: '`{ type, payload, nonce? }` → the transaction signed with the managed key (submit it to /ledger/v1/transactions); recorded with the principal that asked' })
  sign(@Param('keyId') keyId: string, @Body() body: unknown, @Req() req: unknown) {
    return this.managed.sign(keyId, body, principal(req));
  }

  @Get('signatures')
  @RequirePermission('identity.managed-key.manage')
  @ApiOperation({ summary: 'The record of managed signatures, newest first: key, transaction, who asked, when; `nextBefore` continues' })
  @ApiQuery({ name: 'before', required: false })
  @ApiQuery({ name: 'limit', required: false })
  signatures(@Query('before') before?: string, @Query('limit') limit?: string) {
    if (before !== undefined && before !== '' && !/^\d{1,15}$/.test(before)) throw IdentityQueryErrors.invalid('before must be a record id');
    return this.managed.signatures(before ? Number(before) : undefined, limitOf(limit));
  }
}
