import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Authenticated, principalOfRequest, RequirePermission } from '@alliance/shared/feature-platform';
import type { Principal } from '@alliance/shared/util-auth';
import type { EventRepository } from './events';
import type { PrivateDataStore } from './private-data';
import { EVENT_REPOSITORY } from './provenance-api';

export const PRIVATE_DATA_STORE = Symbol('alliance.provenance-private-data');

const principal = (req: unknown) => principalOfRequest(req) as Principal;

/** Private data of events (docs/provenance.md, Private data). */
@ApiTags('epcis')
@Controller('epcis/events/:eventID/private')
export class PrivateDataController {
  constructor(
    @Inject(PRIVATE_DATA_STORE) private readonly store: PrivateDataStore,
    @Inject(EVENT_REPOSITORY) private readonly events: EventRepository,
  ) {}

  @Get()
  @Authenticated()
  @ApiOperation({
    summary:
      'Each private group of an event as the caller’s organization may see it: commitment, fields, readers and status — disclosed (with the payload text and salt that open the commitment), purged (with the chain’s purge record), not-entitled or not-held',
  })
  async groups(@Param('eventID') eventId: string, @Req() req: Request) {
    const { eventId: id, event } = await this.events.anchoredEvent(eventId);
    return { eventID: id, groups: await this.store.groups(id, event, principal(req).organizationId) };
  }

  @Post('purge')
  @HttpCode(200)
  @RequirePermission('provenance.private.purge')
  @ApiOperation({ summary: '`{ reason, commitments? }` by the capturing organization: records the purge on the chain (provenance.private.purge), then deletes payload and salt; default every group not purged yet' })
  async purge(@Param('eventID') eventId: string, @Body() body: { reason?: unknown; commitments?: unknown } | null, @Req() req: Request) {
    const { eventId: id, event } = await this.events.anchoredEvent(eventId);
    return { eventID: id, ...(await this.store.purge(id, event, principal(req).organizationId, body ?? {})) };
  }
}
