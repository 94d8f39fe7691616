import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { itemKeyOf, MAX_CAPTURE_EVENTS, transferKeyOf } from '@alliance/ledger/domain';
import { parseGs1Key } from '@alliance/provenance/domain';
import type { ChainFollower, ChainWriter } from '@alliance/shared/data-access-messaging';
import { Authenticated, principalOfRequest, RequirePermission, mediaTypeOf, unsupportedMediaType } from '@alliance/shared/feature-platform';
import type { Principal } from '@alliance/shared/util-auth';
import { AllianceError } from '@alliance/shared/util-errors';
import type { CaptureService } from './capture';
import { type EventQuery, parseEventQuery } from './event-query';
import type { EventRepository } from './events';
import type { ProvenanceReadModel } from './read-model';
import { MAX_TRACE_DEPTH, recallCsv, type TraceDirection, type TraceService } from './trace';

export const CAPTURE_SERVICE = Symbol('alliance.provenance-capture');
export const EVENT_REPOSITORY = Symbol('alliance.provenance-events');
export const TRACE_SERVICE = Symbol('alliance.provenance-trace');
export const CHAIN_WRITER = Symbol('alliance.provenance-chain-writer');
export const PROVENANCE_READ_MODEL = Symbol('alliance.provenance-read-model');
export const PROVENANCE_FOLLOWER = Symbol('alliance.provenance-follower');

const principal = (req: unknown) => principalOfRequest(req) as Principal;
const EPCIS_HEADERS = { 'GS1-EPCIS-Version': '2.0.0', 'GS1-CBV-Version': '2.0.0', 'GS1-Extensions': '' };
const EVENT_TYPES = ['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent'];

function gs1Headers(res: Response): void {
  for (const [k, v] of Object.entries(EPCIS_HEADERS)) res.setHeader(k, v);
}

const wantsCsv = (req: Request) => req.query['format'] === 'csv' || (!req.query['format'] && /\btext\/csv\b/.test(req.headers.accept ?? ''));

@ApiTags('epcis')
@Controller('epcis')
export class EpcisController {
  constructor(
    @Inject(CAPTURE_SERVICE) private readonly captures: CaptureService,
    @Inject(EVENT_REPOSITORY) private readonly events: EventRepository,
  ) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'The EPCIS top-level resources this repository serves (GS1 REST binding)' })
  top(@Res({ passthrough: true }) res: Response) {
    gs1Headers(res);
    return ['capture', 'events', 'eventTypes', 'epcs', 'bizSteps', 'bizLocations', 'readPoints', 'dispositions'];
  }

  @Post('capture')
  @HttpCode(202)
  @RequirePermission('provenance.event.capture')
  @ApiOperation({ summary: 'Capture an EPCISDocument (JSON or JSON-LD): validated, each event named by its CBV 2.0 hash ID unless it has an eventID, anchored on the ledger all or nothing; 202 with the capture job in Location' })
  async capture(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response, @Headers('gs1-capture-error-behaviour') behaviour?: string, @Headers('idempotency-key') idempotencyKey?: string) {
    checkJson(req);
    const job = await this.captures.capture(body, principal(req), { idempotencyKey: idempotencyKeyOf(idempotencyKey), errorBehaviour: behaviour });
    gs1Headers(res);
    res.setHeader('Location', `${req.baseUrl ?? ''}/provenance/v1/epcis/capture/${job.captureID}`);
    return job;
  }

  @Get('capture')
  @RequirePermission('provenance.event.capture')
  @ApiOperation({ summary: 'This organization’s capture jobs, newest first; `perPage` (default 30, max 500), `nextPageToken` continues' })
  @ApiQuery({ name: 'perPage', required: false })
  @ApiQuery({ name: 'nextPageToken', required: false })
  async jobs(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Query('perPage') perPage?: string, @Query('nextPageToken') token?: string) {
    const limit = perPage === undefined ? 30 : Number(perPage);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) throw new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', 'perPage must be an integer from 1 to 500');
    const page = await this.captures.jobs(principal(req).organizationId, limit, token);
    gs1Headers(res);
    res.setHeader('GS1-EPCIS-Capture-Limit', String(MAX_CAPTURE_EVENTS));
    if (page.next) res.setHeader('Link', `<${req.baseUrl ?? ''}/provenance/v1/epcis/capture?perPage=${limit}&nextPageToken=${encodeURIComponent(page.next)}>; rel="next"`);
    return page.items;
  }

  @Get('capture/:captureID')
  @RequirePermission('provenance.event.capture')
  @ApiOperation({ summary: 'A capture job: running, success, errors (problem details with the ledger’s code), its events and transaction' })
  async job(@Param('captureID') captureId: string, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    gs1Headers(res);
    return this.captures.job(captureId, principal(req).organizationId);
  }

  @Post('events')
  @HttpCode(201)
  @RequirePermission('provenance.event.capture')
  @ApiOperation({ summary: 'Capture one EPCIS event; 201 with its Location once committed, 202 with the capture job if that takes longer than 10 s' })
  async captureOne(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response, @Headers('idempotency-key') idempotencyKey?: string) {
    checkJson(req);
    const event = body as Record<string, unknown> | null;
    const context = event && typeof event === 'object' ? event['@context'] : undefined;
    const { '@context': _ctx, ...rest } = (event ?? {}) as Record<string, unknown>;
    const document = { '@context': context ?? ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList: [rest] } };
    let job = await this.captures.capture(document, principal(req), { idempotencyKey: idempotencyKeyOf(idempotencyKey) });
    const deadline = Date.now() + 10_000;
    while (job.running && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      job = await this.captures.job(job.captureID, principal(req).organizationId);
    }
    gs1Headers(res);
    if (!job.success) throw new AllianceError(job.errors[0]?.code ?? 'PROVENANCE.CAPTURE_FAILED', 'conflict', job.errors[0]?.detail ?? 'the capture was refused', { details: { captureID: job.captureID } });
    if (job.running) {
      res.status(202);
      res.setHeader('Location', `${req.baseUrl ?? ''}/provenance/v1/epcis/capture/${job.captureID}`);
      return job;
    }
    res.setHeader('Location', `${req.baseUrl ?? ''}/provenance/v1/epcis/events/${encodeURIComponent(job.eventIDs[0])}`);
    return { eventID: job.eventIDs[0], captureID: job.captureID, transactionId: job.transactionId, blockNumber: job.blockNumber };
  }

  @Get('events')
  @Authenticated()
  @ApiOperation({ summary: 'EPCIS SimpleEventQuery over every member’s events: eventType, GE_/LT_eventTime, GE_/LT_recordTime, EQ_action, EQ_bizStep, EQ_disposition, EQ_readPoint, WD_readPoint, EQ_bizLocation, WD_bizLocation, MATCH_* (URN or Digital Link, `*` patterns), EQ_bizTransaction_<type>, EQ_source_/EQ_destination_<type>, quantity and sensor filters; `perPage` (default 30, max 1000) and `nextPageToken`; EPCISQueryDocument (JSON-LD) or CSV (`Accept: text/csv` or `format=csv`)' })
  async query(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.answer(req, res, parseEventQuery(req.query as Record<string, string | string[]>), 'events');
  }

  @Get('events/:eventID')
  @Authenticated()
  @ApiOperation({ summary: 'One event by its eventID (or its CBV 2.0 hash ID), JSON-LD; private fields the caller’s organization may read are put back in place' })
  async event(@Param('eventID') eventId: string, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    gs1Headers(res);
    res.type('application/ld+json');
    return this.events.event(eventId, principal(req).organizationId);
  }

  @Get('events/:eventID/proof')
  @Authenticated()
  @ApiOperation({ summary: 'What proves an event: the transaction carrying it, its position, the receipt (envelope, header, RFC 9162 inclusion proof, member signatures; verifies offline with the SDK) and the latest checkpoint' })
  async proof(@Param('eventID') eventId: string) {
    return this.events.proof(eventId);
  }

  @Get('eventTypes')
  @Authenticated()
  @ApiOperation({ summary: 'The EPCIS 2.0 event types' })
  eventTypes(@Res({ passthrough: true }) res: Response) {
    gs1Headers(res);
    return EVENT_TYPES;
  }

  @Get(':resource/:value/events')
  @Authenticated()
  @ApiOperation({ summary: 'Events of one eventType, EPC, bizStep, bizLocation, readPoint or disposition (`/eventTypes/ObjectEvent/events`, `/epcs/{epc}/events`, …), with the same query parameters as /events' })
  async resourceEvents(@Param('resource') resource: string, @Param('value') value: string, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const fixed: Record<string, string> | undefined = {
      eventTypes: { eventType: value },
      epcs: { MATCH_anyEPC: value },
      bizSteps: { EQ_bizStep: value },
      bizLocations: { EQ_bizLocation: value },
      readPoints: { EQ_readPoint: value },
      dispositions: { EQ_disposition: value },
    }[resource];
    if (!fixed) throw new AllianceError('PROVENANCE.NOT_FOUND', 'not-found', `no EPCIS resource ${resource}`);
    return this.answer(req, res, parseEventQuery(req.query as Record<string, string | string[]>, fixed), `${resource}/${encodeURIComponent(value)}/events`);
  }

  private async answer(req: Request, res: Response, query: EventQuery, path: string) {
    gs1Headers(res);
    const link = (token: string) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query)) if (k !== 'nextPageToken') for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
      params.set('nextPageToken', token);
      return `<${req.baseUrl ?? ''}/provenance/v1/epcis/${path}?${params.toString()}>; rel="next"`;
    };
    if (wantsCsv(req)) {
      const page = await this.events.csv(query);
      if (page.nextPageToken) res.setHeader('Link', link(page.nextPageToken));
      res.type('text/csv; charset=utf-8');
      return page.text;
    }
    const page = await this.events.page(query, principal(req).organizationId);
    if (page.nextPageToken) res.setHeader('Link', link(page.nextPageToken));
    res.type('application/ld+json');
    return { ...page.document, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }
}

function checkJson(req: Request): void {
  const type = mediaTypeOf(req);
  if (type !== 'application/json' && type !== 'application/ld+json') throw unsupportedMediaType(type, 'send the EPCIS document as application/json or application/ld+json (EPCIS XML is not accepted)');
}

function idempotencyKeyOf(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(value)) throw new AllianceError('PROVENANCE.INVALID_IDEMPOTENCY_KEY', 'invalid', 'Idempotency-Key must be 1-200 printable ASCII characters');
  return value;
}

@ApiTags('trace')
@Authenticated()
@Controller()
export class TraceController {
  constructor(@Inject(TRACE_SERVICE) private readonly traces: TraceService) {}

  @Get('trace')
  @ApiOperation({ summary: 'Upstream (what went into it) and downstream (where it went) lineage of an EPC, lot or product class (URN or Digital Link) in one call: nodes, edges with their events, the events on the paths; `depth` (default 10, max 50), `direction`, `maxNodes`' })
  @ApiQuery({ name: 'epc', required: true })
  @ApiQuery({ name: 'direction', required: false, enum: ['upstream', 'downstream', 'both'] })
  @ApiQuery({ name: 'depth', required: false })
  @ApiQuery({ name: 'maxNodes', required: false })
  trace(@Query('epc') epc: string, @Query('direction') direction?: string, @Query('depth') depth?: string, @Query('maxNodes') maxNodes?: string) {
    return this.traces.trace(epc, { direction: (direction ?? 'both') as TraceDirection, depth: intOf(depth, 'depth'), maxNodes: intOf(maxNodes, 'maxNodes') });
  }

  @Get('recall')
  @ApiOperation({ summary: 'Recall report: every item downstream of an EPC, lot or product class with its last known location, owner and custodian; JSON, or CSV with `Accept: text/csv` or `format=csv`' })
  @ApiQuery({ name: 'epc', required: true })
  @ApiQuery({ name: 'depth', required: false })
  async recall(@Query('epc') epc: string, @Req() req: Request, @Res({ passthrough: true }) res: Response, @Query('depth') depth?: string) {
    const report = await this.traces.recall(epc, { depth: intOf(depth, 'depth') ?? MAX_TRACE_DEPTH });
    if (wantsCsv(req)) {
      res.type('text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', 'attachment; filename="recall.csv"');
      return recallCsv(report.items);
    }
    return report;
  }
}

function intOf(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,6}$/.test(value)) throw new AllianceError('PROVENANCE.INVALID_TRACE', 'invalid', `${name} must be a positive integer`);
  return Number(value);
}

/** A GS1 item key in its stored form, refused with PROVENANCE.INVALID_IDENTIFIER (naming the check digit) when it is not one. */
export function itemOf(value: unknown): string {
  const parsed = parseGs1Key(value);
  if (!parsed.ok) throw new AllianceError(parsed.code, 'invalid', parsed.detail);
  return parsed.key.id;
}

/**
 * Signs a transaction for this organization, submits it, waits for its block
 * (the contract's refusal comes back with the contract's code) and for the
 * read model to apply that block, so what the caller reads next includes it.
 */
export async function writeAndApply(
  on: { readonly writer: ChainWriter; readonly readModel: ProvenanceReadModel; readonly follower: ChainFollower },
  type: string,
  payload: Record<string, unknown>,
): Promise<{ transactionId: string; blockNumber: number }> {
  const done = await on.writer.submitAndWait(type, payload);
  if ((await on.readModel.lastBlock()) < done.blockNumber) await on.follower.catchUp(done.blockNumber).catch(() => undefined);
  return done;
}

@ApiTags('custody')
@Controller('custody')
export class CustodyController {
  constructor(
    @Inject(CHAIN_WRITER) private readonly writer: ChainWriter,
    @Inject(PROVENANCE_READ_MODEL) private readonly readModel: ProvenanceReadModel,
    @Inject(PROVENANCE_FOLLOWER) private readonly follower: ChainFollower,
  ) {}

  /** Submits a custody transaction for this organization, waits for its block and for the read model to apply it. */
  private write(type: string, payload: Record<string, unknown>): Promise<{ transactionId: string; blockNumber: number }> {
    return writeAndApply({ writer: this.writer, readModel: this.readModel, follower: this.follower }, type, payload);
  }

  @Post('items')
  @HttpCode(201)
  @RequirePermission('provenance.custody.manage')
  @ApiOperation({ summary: '`{ item }` (URN or Digital Link) → registered with this organization as owner and custodian' })
  async register(@Body() body: { item?: unknown } | null) {
    const item = itemOf(body?.item);
    const tx = await this.write('provenance.item.register', { item });
    return { ...(await this.readModel.record<Record<string, unknown>>(itemKeyOf(item))), ...tx };
  }

  @Get('items/:item')
  @Authenticated()
  @ApiOperation({ summary: 'An item’s owner, custodian and open transfer (item as URN or Digital Link, URL-encoded)' })
  async item(@Param('item') value: string) {
    const item = itemOf(value);
    const record = await this.readModel.record(itemKeyOf(item));
    if (!record) throw new AllianceError('PROVENANCE.UNKNOWN_ITEM', 'not-found', `item ${item} is not registered`);
    return record;
  }

  @Post('transfers')
  @HttpCode(201)
  @RequirePermission('provenance.custody.manage')
  @ApiOperation({ summary: '`{ transferId, item, kind: ownership|custody, to, note? }`: the owner proposes a change of owner, the custodian a change of custody' })
  async propose(@Body() body: Record<string, unknown> | null) {
    const { item, ...rest } = body ?? {};
    const payload: Record<string, unknown> = { ...rest, item: itemOf(item) };
    const tx = await this.write('provenance.transfer.propose', payload);
    return { ...(await this.readModel.record<Record<string, unknown>>(transferKeyOf(String(payload['transferId'])))), ...tx };
  }

  @Get('transfers/:transferId')
  @Authenticated()
  @ApiOperation({ summary: 'One transfer: kind, from, to, status and the blocks that proposed and decided it' })
  async transfer(@Param('transferId') transferId: string) {
    const record = await this.readModel.record(transferKeyOf(transferId));
    if (!record) throw new AllianceError('PROVENANCE.UNKNOWN_TRANSFER', 'not-found', `no transfer ${transferId}`);
    return record;
  }

  @Post('transfers/:transferId/answer')
  @HttpCode(200)
  @RequirePermission('provenance.custody.manage')
  @ApiOperation({ summary: '`{ decision: accept|reject, reason? }` by the receiving organization; an accepted transfer yields its shipping and receiving events' })
  async answer(@Param('transferId') transferId: string, @Body() body: Record<string, unknown> | null) {
    const tx = await this.write('provenance.transfer.answer', { ...(body ?? {}), transferId });
    return { ...(await this.readModel.record<Record<string, unknown>>(transferKeyOf(transferId))), ...tx };
  }

  @Post('transfers/:transferId/cancel')
  @HttpCode(200)
  @RequirePermission('provenance.custody.manage')
  @ApiOperation({ summary: '`{ reason? }` by the proposing organization, while the transfer is open' })
  async cancel(@Param('transferId') transferId: string, @Body() body: Record<string, unknown> | null) {
    const tx = await this.write('provenance.transfer.cancel', { ...(body ?? {}), transferId });
    return { ...(await this.readModel.record<Record<string, unknown>>(transferKeyOf(transferId))), ...tx };
  }
}

@ApiTags('read-model')
@Controller('read-model')
export class ProvenanceReadModelController {
  constructor(
    @Inject(PROVENANCE_READ_MODEL) private readonly readModel: ProvenanceReadModel,
    @Inject(PROVENANCE_FOLLOWER) private readonly follower: ChainFollower,
  ) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'Where the provenance read model stands: chain, ledger node, last applied block, problems found in committed data' })
  async position() {
    return { ...(await this.readModel.position()), problem: this.follower.problem ?? null, problems: await this.readModel.problems() };
  }

  @Post('rebuild')
  @HttpCode(200)
  @RequirePermission('provenance.read-model.rebuild')
  @ApiOperation({ summary: 'Empties the read model (events, lineage index, records) and rebuilds it from this organization’s ledger node; answers once it is back at the node’s head' })
  async rebuild() {
    if (!this.follower.canRebuild) throw new AllianceError('PROVENANCE.LEDGER_NOT_CONFIGURED', 'conflict', 'LEDGER_URL is not set: the read model has no ledger node to rebuild from');
    const lastBlock = await this.follower.rebuild(() => this.readModel.reset());
    return { rebuilt: true, lastBlock };
  }
}

