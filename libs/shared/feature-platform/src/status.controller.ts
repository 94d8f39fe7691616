import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { SERVICE_RUNTIME } from './tokens';
import { Public } from './access';
import type { ServiceRuntime } from './runtime';

export class ServiceStatusDto {
  @ApiProperty({ example: 'ledger' })
  name!: string;

  @ApiProperty({ example: '0.1.0' })
  version!: string;

  @ApiProperty({ example: 'org1', description: 'Member organization that runs this instance' })
  organizationId!: string;

  @ApiProperty({ example: '2026-11-25T20:00:00.000Z', description: 'UTC, RFC 3339' })
  startedAt!: string;
}

/** `GET /<service>/v1/status`: the REST twin of the GraphQL `<service>Status` field. */
@ApiTags('status')
@Public('which service answers: no data')
@Controller('status')
export class StatusController {
  constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime) {}

  @Get()
  @ApiOperation({ summary: 'Which service, version and organization answers at this prefix' })
  @ApiOkResponse({ type: ServiceStatusDto })
  status(): ServiceStatusDto {
    return { name: this.runtime.name, version: this.runtime.version, organizationId: this.runtime.config.ORG_ID, startedAt: this.runtime.startedAt.toISOString() };
  }
}
