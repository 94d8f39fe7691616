import { randomUUID } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { SENSOR_CAPTURE_PERMISSION, SENSOR_MANAGE_PERMISSION, sensorBatchKeyOf, sensorRuleKeyOf, sensorSubjectKindOf } from '@alliance/ledger/domain';
import type { ChainFollower, ChainWriter } from '@alliance/shared/data-access-messaging';
import { Authenticated, RequirePermission } from '@alliance/shared/feature-platform';
import { AllianceError } from '@alliance/shared/util-errors';
import { ALERT_SERVICE, type AlertService, MAX_ALERT_PAGE } from './alerts';
import { CHAIN_WRITER, itemOf, PROVENANCE_FOLLOWER, PROVENANCE_READ_MODEL, writeAndApply } from './provenance-api';
import type { ProvenanceReadModel } from './read-model';
import { TELEMETRY_SERVICE, telemetryKeyOf, type TelemetryService, telemetryWindowOf } from './telemetry';

const RULE_PREFIX = 'provenance/sensor-rule/';

function limitOf(value: string | undefined, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!/^\d{1,6}$/.test(value) || n < 1 || n > max) throw new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', `limit must be an integer from 1 to ${max}`);
  return n;
}

/**
 * Sensor rules and device-signed readings (docs/provenance.md, Sensor data and
 * threshold alerts). The service signs each transaction for its organization
 * (PROVENANCE_SIGNING_KEY_FILE), waits for its block and for the read model to
 * apply it; a refusal comes back with the contract's code.
 */
@ApiTags('sensors')
@Controller('sensors')
export class SensorsController {
  constructor(
    @Inject(CHAIN_WRITER) private readonly writer: ChainWriter,
    @Inject(PROVENANCE_READ_MODEL) private readonly readModel: ProvenanceReadModel,
    @Inject(PROVENANCE_FOLLOWER) private readonly follower: ChainFollower,
    @Inject(ALERT_SERVICE) private readonly alerts: AlertService,
    @Inject(TELEMETRY_SERVICE) private readonly telemetry: TelemetryService,
  ) {}

  private write(type: string, payload: Record<string, unknown>) {
    return writeAndApply({ writer: this.writer, readModel: this.readModel, follower: this.follower }, type, payload);
  }

  @Post('rules')
  @HttpCode(201)
  @RequirePermission(SENSOR_MANAGE_PERMISSION)
  @ApiOperation({
    summary:
      '`{ ruleId, subject: { id, kind? } | id (GTIN, SSCC or instance key; URN or Digital Link), measurementType, uom, min?, max?, durationSeconds, disposition? }` → this organization’s threshold rule (defining its ruleId again replaces it, version + 1)',
  })
  async define(@Body() body: Record<string, unknown> | null) {
    const { subject, ...rest } = body ?? {};
    const given = (typeof subject === 'object' && subject !== null ? subject : { id: subject }) as { id?: unknown; kind?: unknown };
    const id = itemOf(given.id);
    const tx = await this.write('provenance.sensor.rule.define', { ...rest, subject: { kind: given.kind ?? sensorSubjectKindOf(id) ?? null, id } });
    return { ...(await this.readModel.record<Record<string, unknown>>(sensorRuleKeyOf(this.writer.organizationId ?? '', String(rest['ruleId'])))), ...tx };
  }

  @Get('rules')
  @Authenticated()
  @ApiOperation({ summary: 'The rules in force, of every organization or of `organizationId`, in key order; `limit` (default 100, max 500), `after` (`next` of the previous page: `<organizationId>/<ruleId>`)' })
  @ApiQuery({ name: 'organizationId', required: false })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false })
  async rules(@Query('organizationId') organizationId?: string, @Query('after') after?: string, @Query('limit') limit?: string) {
    const n = limitOf(limit, 100, 500);
    const prefix = organizationId ? `${RULE_PREFIX}${organizationId}/` : RULE_PREFIX;
    const rows = await this.readModel.records<Record<string, unknown>>(prefix, after ? `${RULE_PREFIX}${after}` : null, n + 1);
    const items = rows.slice(0, n).map((r) => r.value);
    return { items, next: rows.length > n ? rows[n - 1].key.slice(RULE_PREFIX.length) : null };
  }

  @Get('devices/:deviceId/telemetry')
  @Authenticated()
  @ApiOperation({
    summary:
      'Usage and location of a device-identified asset: per measurement type and unit, the count, first and last observedAt, min, max and last value (exact decimals) of the device’s readings (`from` ≤ observedAt < `to`, RFC 3339 with offset), and the newest EPCIS event naming `item` (URN or Digital Link) with a read point or business location; an unknown device has no usage',
  })
  @ApiQuery({ name: 'item', required: false })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  deviceTelemetry(@Param('deviceId') deviceId: string, @Query('item') item?: string, @Query('from') from?: string, @Query('to') to?: string) {
    return this.telemetry.telemetry(telemetryKeyOf(deviceId, item), telemetryWindowOf(from, to));
  }

  @Delete('rules/:ruleId')
  @HttpCode(200)
  @RequirePermission(SENSOR_MANAGE_PERMISSION)
  @ApiOperation({ summary: 'Retires one of this organization’s rules (PROVENANCE.UNKNOWN_RULE when it has none of that id); its alerts stay' })
  async retire(@Param('ruleId') ruleId: string) {
    const tx = await this.write('provenance.sensor.rule.retire', { ruleId });
    return { organizationId: this.writer.organizationId, ruleId, retired: true, ...tx };
  }

  @Post('readings')
  @HttpCode(201)
  @RequirePermission(SENSOR_CAPTURE_PERMISSION)
  @ApiOperation({
    summary:
      '`{ batchId?, subject (URN or Digital Link), readings: [signed telemetry of this organization’s devices] (1-500), series?: { sha256, count, from, to } }` → anchored in a transaction signed by this organization; answers with the batch record and the alerts it raised. Pass your own batchId so a retry is refused as PROVENANCE.DUPLICATE_BATCH instead of anchored twice',
  })
  async readings(@Body() body: Record<string, unknown> | null) {
    const { batchId, subject, ...rest } = body ?? {};
    const id = batchId === undefined ? randomUUID() : batchId;
    const tx = await this.write('provenance.sensor.readings', { ...rest, batchId: id, subject: itemOf(subject) });
    return { ...(await this.readModel.record<Record<string, unknown>>(sensorBatchKeyOf(String(id)))), ...tx, alerts: await this.alerts.raisedBy(tx.transactionId) };
  }
}

@ApiTags('sensors')
@Authenticated()
@Controller('alerts')
export class AlertsController {
  constructor(@Inject(ALERT_SERVICE) private readonly alerts: AlertService) {}

  @Get()
  @ApiOperation({ summary: 'Sensor alerts in the order they were raised: of `subject` (a GTIN also finds its instances’), after the alertId `after` (`next` of the previous page), at most `limit` (default 50, max 500)' })
  @ApiQuery({ name: 'subject', required: false })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false })
  list(@Query('subject') subject?: string, @Query('after') after?: string, @Query('limit') limit?: string) {
    return this.alerts.list({ subject, after, limit: limitOf(limit, 50, MAX_ALERT_PAGE) });
  }

  @Get(':alertId')
  @ApiOperation({ summary: 'One alert: the breach (from, to, duration, worst value), its rule, subject and disposition, the disposition event and the batch, transaction and block that raised it' })
  get(@Param('alertId') alertId: string) {
    return this.alerts.get(alertId);
  }
}
