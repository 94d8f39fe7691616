import { Inject } from '@nestjs/common';
import { Args, Context, Directive, Field, InputType, Int, ObjectType, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { Authenticated, principalOfRequest } from '@alliance/shared/feature-platform';
import type { Principal } from '@alliance/shared/util-auth';
import { AllianceError } from '@alliance/shared/util-errors';
import { ALERT_SERVICE, type AlertRecord, type AlertService } from './alerts';
import { parseEventQuery } from './event-query';
import type { EventRepository } from './events';
import { EVENT_REPOSITORY, TRACE_SERVICE } from './provenance-api';
import { TELEMETRY_SERVICE, type TelemetryKey, telemetryKeyOf, type TelemetryLocation, type TelemetryService, type TelemetryUsage, telemetryWindowOf } from './telemetry';
import { MAX_TRACE_DEPTH, type RecallItem, type Trace, type TraceDirection, type TraceService } from './trace';

@InputType({ description: 'One EPCIS query parameter of GET /provenance/v1/epcis/events (e.g. name "EQ_bizStep", value "shipping"); repeat a name for several values' })
export class EpcisQueryParameter {
  @Field() name!: string;
  @Field() value!: string;
}

@ObjectType({ description: 'An EPCIS 2.0 event of the repository, its main fields typed and the whole event as JSON-LD text' })
@Directive('@shareable')
export class ProvenanceEvent {
  @Field() eventID!: string;
  @Field({ description: 'ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent or AssociationEvent' }) type!: string;
  @Field({ description: 'RFC 3339 with its offset, as captured' }) eventTime!: string;
  @Field(() => String, { nullable: true }) eventTimeZoneOffset!: string | null;
  @Field({ description: 'When the chain recorded it: the block time (UTC)' }) recordTime!: string;
  @Field(() => String, { nullable: true }) action!: string | null;
  @Field(() => String, { nullable: true }) bizStep!: string | null;
  @Field(() => String, { nullable: true }) disposition!: string | null;
  @Field(() => String, { nullable: true }) readPoint!: string | null;
  @Field(() => String, { nullable: true }) bizLocation!: string | null;
  @Field(() => String, { nullable: true, description: 'AggregationEvent / AssociationEvent parent' }) parentID!: string | null;
  @Field(() => [String], { description: 'Every EPC it names: epcList, childEPCs, inputEPCList, outputEPCList' }) epcs!: string[];
  @Field({ description: 'Whether it carries sensor data (sensorElementList)' }) hasSensorData!: boolean;
  @Field({ description: 'The event as JSON-LD text (private fields the caller may read put back in place)' }) json!: string;
}

@ObjectType()
@Directive('@shareable')
export class ProvenanceEventPage {
  @Field(() => [ProvenanceEvent]) events!: ProvenanceEvent[];
  @Field(() => String, { nullable: true, description: 'Pass as nextPageToken for the next page (same parameters)' }) nextPageToken!: string | null;
}

@ObjectType({ description: 'A node of a lineage graph: an EPC, lot, class or transformation' })
@Directive('@shareable')
export class TraceGraphNode {
  @Field() id!: string;
  @Field({ description: 'sgtin, lgtin, sscc, gtin, … or transformation' }) kind!: string;
  @Field(() => Int, { description: 'Hops from the root: negative upstream, positive downstream' }) depth!: number;
}

@ObjectType({ description: 'A lineage edge: `from` went into `to`, by the event named' })
@Directive('@shareable')
export class TraceGraphEdge {
  @Field() from!: string;
  @Field() to!: string;
  @Field({ description: 'aggregation, transformation, association or lot' }) kind!: string;
  @Field() eventID!: string;
  @Field() eventTime!: string;
}

@ObjectType()
@Directive('@shareable')
export class TraceGraphEvent {
  @Field() eventID!: string;
  @Field() type!: string;
  @Field() eventTime!: string;
  @Field(() => String, { nullable: true }) bizStep!: string | null;
}

@ObjectType({ description: 'Upstream and downstream lineage of an EPC, lot or product class as nodes and edges' })
@Directive('@shareable')
export class TraceGraph {
  @Field() root!: string;
  @Field(() => [String]) seeds!: string[];
  @Field() direction!: string;
  @Field(() => Int) depth!: number;
  @Field(() => [TraceGraphNode]) nodes!: TraceGraphNode[];
  @Field(() => [TraceGraphEdge]) edges!: TraceGraphEdge[];
  @Field(() => [TraceGraphEvent], { description: 'The events on the paths, oldest first' }) events!: TraceGraphEvent[];
  @Field({ description: 'True when maxNodes stopped the walk before the depth limit' }) truncated!: boolean;
}

@ObjectType({ description: 'One affected item of a recall with its last known whereabouts' })
@Directive('@shareable')
export class RecallReportItem {
  @Field() id!: string;
  @Field() kind!: string;
  @Field(() => Int) depth!: number;
  @Field(() => String, { nullable: true }) location!: string | null;
  @Field(() => String, { nullable: true }) locationSince!: string | null;
  @Field(() => String, { nullable: true }) owner!: string | null;
  @Field(() => String, { nullable: true }) custodian!: string | null;
  @Field({ description: 'custody-registry, epcis-destination, capturing-organization or unknown' }) ownershipSource!: string;
  @Field(() => String, { nullable: true }) lastEventID!: string | null;
  @Field(() => String, { nullable: true }) lastEventTime!: string | null;
  @Field(() => String, { nullable: true }) lastBizStep!: string | null;
  @Field(() => String, { nullable: true }) lastDisposition!: string | null;
}

@ObjectType()
@Directive('@shareable')
export class RecallReport {
  @Field() root!: string;
  @Field() generatedAt!: string;
  @Field(() => [RecallReportItem]) items!: RecallReportItem[];
  @Field() truncated!: boolean;
}

@ObjectType({ description: 'A sensor threshold breach: the rule, the run of readings outside its bounds, and the disposition it set' })
@Directive('@shareable')
export class ProvenanceAlert {
  @Field() alertId!: string;
  @Field() ruleId!: string;
  @Field(() => Int) ruleVersion!: number;
  @Field({ description: 'The organization whose rule it is' }) organizationId!: string;
  @Field({ description: 'The readings’ subject (stored Digital Link form)' }) subject!: string;
  @Field() measurementType!: string;
  @Field() uom!: string;
  @Field(() => String, { nullable: true, description: 'Exact decimal' }) min!: string | null;
  @Field(() => String, { nullable: true, description: 'Exact decimal' }) max!: string | null;
  @Field({ description: 'First out-of-bounds reading' }) from!: string;
  @Field({ description: 'Last out-of-bounds reading so far' }) to!: string;
  @Field(() => Int) durationSeconds!: number;
  @Field({ description: 'The reading farthest outside the bounds (exact decimal)' }) worstValue!: string;
  @Field({ description: 'The persistent disposition set on the subject' }) disposition!: string;
  @Field({ description: 'The derived EPCIS event that set it' }) eventId!: string;
  @Field() batchId!: string;
  @Field() transactionId!: string;
  @Field(() => Int) blockNumber!: number;
  @Field() raisedAt!: string;
}

@ObjectType()
@Directive('@shareable')
export class ProvenanceAlertPage {
  @Field(() => [ProvenanceAlert]) items!: ProvenanceAlert[];
  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page' }) next!: string | null;
}

const toAlert = (a: AlertRecord): ProvenanceAlert => ({
  alertId: a.alertId,
  ruleId: a.ruleId,
  ruleVersion: a.ruleVersion,
  organizationId: a.organizationId,
  subject: a.subject,
  measurementType: a.measurementType,
  uom: a.uom,
  min: a.min,
  max: a.max,
  from: a.from,
  to: a.to,
  durationSeconds: a.durationSeconds,
  worstValue: a.worstValue,
  disposition: a.disposition,
  eventId: a.eventId,
  batchId: a.batchId,
  transactionId: a.transactionId,
  blockNumber: a.blockNumber,
  raisedAt: a.raisedAt,
});

/** How often a live alert subscription looks for new alerts in the read model. */
export const ALERT_POLL_MS = 500;

/**
 * The alerts raised after `after` (or, without it, after the newest one when
 * the subscription starts), in the order they were raised, as they arrive.
 * Read from the read model, so every replica of the service answers alike
 * and a client that reconnects with its last alertId misses nothing.
 */
export async function* alertsRaised(alerts: AlertService, options: { subject?: string; after?: string; intervalMs?: number }): AsyncGenerator<AlertRecord> {
  let cursor: string | null = options.after ?? null;
  if (cursor === null) {
    let page = await alerts.list({ subject: options.subject, limit: 500 });
    while (page.next) page = await alerts.list({ subject: options.subject, after: page.next, limit: 500 });
    cursor = page.items.length > 0 ? page.items[page.items.length - 1].alertId : null;
  } else {
    await alerts.get(cursor);
  }
  for (;;) {
    const page = await alerts.list({ subject: options.subject, after: cursor ?? undefined, limit: 500 });
    for (const a of page.items) {
      cursor = a.alertId;
      yield a;
    }
    if (page.next === null) await new Promise((r) => setTimeout(r, options.intervalMs ?? ALERT_POLL_MS));
  }
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The typed view of one repository event (identifiers as captured; the REST query answers the same). */
export function toProvenanceEvent(event: Record<string, unknown>): ProvenanceEvent {
  const location = (v: unknown) => (v && typeof v === 'object' ? text((v as Record<string, unknown>)['id']) : text(v));
  return {
    eventID: String(event['eventID']),
    type: String(event['type']),
    eventTime: String(event['eventTime']),
    eventTimeZoneOffset: text(event['eventTimeZoneOffset']),
    recordTime: String(event['recordTime']),
    action: text(event['action']),
    bizStep: text(event['bizStep']),
    disposition: text(event['disposition']),
    readPoint: location(event['readPoint']),
    bizLocation: location(event['bizLocation']),
    parentID: text(event['parentID']),
    epcs: [...list(event['epcList']), ...list(event['childEPCs']), ...list(event['inputEPCList']), ...list(event['outputEPCList'])],
    hasSensorData: Array.isArray(event['sensorElementList']) && event['sensorElementList'].length > 0,
    json: JSON.stringify(event),
  };
}

const toTraceGraph = (t: Trace): TraceGraph => ({
  root: t.root,
  seeds: [...t.seeds],
  direction: t.direction,
  depth: t.depth,
  nodes: t.nodes.map((n) => ({ ...n })),
  edges: t.edges.map((e) => ({ from: e.from, to: e.to, kind: e.kind, eventID: e.eventID, eventTime: e.eventTime })),
  events: t.events.map((e) => ({ ...e })),
  truncated: t.truncated,
});

const DIRECTIONS: readonly string[] = ['upstream', 'downstream', 'both'];
const viewerOf = (ctx: { req?: unknown }) => (principalOfRequest(ctx.req) as Principal | undefined)?.organizationId;

/** Provenance for dashboards (docs/provenance.md, GraphQL): the same repository, trace and recall as REST. */
@Resolver()
@Authenticated()
export class ProvenanceResolver {
  constructor(
    @Inject(EVENT_REPOSITORY) private readonly events: EventRepository,
    @Inject(TRACE_SERVICE) private readonly traces: TraceService,
    @Inject(ALERT_SERVICE) private readonly alerts: AlertService,
  ) {}

  @Query(() => ProvenanceAlertPage, { description: 'Sensor alerts in the order they were raised, of a subject (a GTIN finds its instances’) or all; `after` the last alertId of the previous page' })
  async provenanceAlerts(
    @Args('subject', { type: () => String, nullable: true }) subject?: string | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
    @Args('limit', { type: () => Int, defaultValue: 50 }) limit?: number,
  ): Promise<ProvenanceAlertPage> {
    const page = await this.alerts.list({ subject: subject ?? undefined, after: after ?? undefined, limit });
    return { items: page.items.map(toAlert), next: page.next };
  }

  @Query(() => ProvenanceAlert, { description: 'One sensor alert' })
  async provenanceAlert(@Args('alertId') alertId: string): Promise<ProvenanceAlert> {
    return toAlert(await this.alerts.get(alertId));
  }

  @Subscription(() => ProvenanceAlert, {
    description:
      'Each sensor alert as the read model raises it, in order; of `subject` only when given. With `after` (an alertId), the alerts raised since then first: a client that reconnects with its last alertId misses nothing.',
    resolve: (alert: AlertRecord) => toAlert(alert),
  })
  provenanceAlertRaised(@Args('subject', { type: () => String, nullable: true }) subject?: string | null, @Args('after', { type: () => String, nullable: true }) after?: string | null): AsyncGenerator<AlertRecord> {
    return alertsRaised(this.alerts, { subject: subject ?? undefined, after: after ?? undefined });
  }

  @Query(() => ProvenanceEventPage, { description: 'EPCIS SimpleEventQuery with the parameters of GET /provenance/v1/epcis/events, paged' })
  async provenanceEvents(
    @Context() ctx: { req?: unknown },
    @Args('parameters', { type: () => [EpcisQueryParameter], defaultValue: [] }) parameters: EpcisQueryParameter[],
    @Args('perPage', { type: () => Int, nullable: true }) perPage?: number | null,
    @Args('nextPageToken', { type: () => String, nullable: true }) nextPageToken?: string | null,
  ): Promise<ProvenanceEventPage> {
    const params: Record<string, string | string[]> = {};
    for (const p of parameters) {
      const existing = params[p.name];
      params[p.name] = existing === undefined ? p.value : [...(Array.isArray(existing) ? existing : [existing]), p.value];
    }
    if (perPage !== null && perPage !== undefined) params['perPage'] = String(perPage);
    if (nextPageToken) params['nextPageToken'] = nextPageToken;
    const page = await this.events.page(parseEventQuery(params), viewerOf(ctx));
    return { events: page.events.map(toProvenanceEvent), nextPageToken: page.nextPageToken };
  }

  @Query(() => ProvenanceEvent, { description: 'One event by its eventID or CBV 2.0 hash ID' })
  async provenanceEvent(@Context() ctx: { req?: unknown }, @Args('eventID') eventId: string): Promise<ProvenanceEvent> {
    const { '@context': _context, ...event } = await this.events.event(eventId, viewerOf(ctx));
    return toProvenanceEvent(event);
  }

  @Query(() => [ProvenanceEvent], { description: 'The timeline of an EPC, lot or class (URN or Digital Link): every event naming it, by event time, at most `limit` (default 200, max 1000)' })
  async productTimeline(@Context() ctx: { req?: unknown }, @Args('epc') epc: string, @Args('limit', { type: () => Int, defaultValue: 200 }) limit: number): Promise<ProvenanceEvent[]> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', 'limit must be an integer from 1 to 1000');
    const page = await this.events.page(parseEventQuery({ MATCH_anyEPC: epc, perPage: String(limit) }), viewerOf(ctx));
    return page.events.map(toProvenanceEvent).sort((a, b) => Date.parse(a.eventTime) - Date.parse(b.eventTime) || (a.recordTime < b.recordTime ? -1 : 1));
  }

  @Query(() => TraceGraph, { description: 'Upstream and downstream lineage in one call (as GET /provenance/v1/trace)' })
  async traceGraph(
    @Args('epc') epc: string,
    @Args('direction', { type: () => String, defaultValue: 'both', description: 'upstream, downstream or both' }) direction: string,
    @Args('depth', { type: () => Int, nullable: true, description: `default 10, max ${MAX_TRACE_DEPTH}` }) depth?: number | null,
    @Args('maxNodes', { type: () => Int, nullable: true }) maxNodes?: number | null,
  ): Promise<TraceGraph> {
    if (!DIRECTIONS.includes(direction)) throw new AllianceError('PROVENANCE.INVALID_TRACE', 'invalid', 'direction must be upstream, downstream or both');
    return toTraceGraph(await this.traces.trace(epc, { direction: direction as TraceDirection, depth: depth ?? undefined, maxNodes: maxNodes ?? undefined }));
  }

  @Query(() => RecallReport, { description: 'Every item downstream of an EPC, lot or class with its last known location, owner and custodian (as GET /provenance/v1/recall)' })
  async recallReport(@Args('epc') epc: string, @Args('depth', { type: () => Int, nullable: true }) depth?: number | null): Promise<RecallReport> {
    const report = await this.traces.recall(epc, { depth: depth ?? MAX_TRACE_DEPTH });
    return { root: report.root, generatedAt: report.generatedAt, items: report.items.map((i: RecallItem) => ({ ...i })), truncated: report.trace.truncated };
  }
}

@ObjectType({ description: 'What a device measured of one measurement type in one unit' })
@Directive('@shareable')
export class ProvenanceTelemetryUsage {
  @Field() measurementType!: string;
  @Field() uom!: string;
  @Field(() => Int, { description: 'Readings (one per instant, however often anchored)' }) count!: number;
  @Field({ description: 'UTC' }) firstObservedAt!: string;
  @Field({ description: 'UTC' }) lastObservedAt!: string;
  @Field({ description: 'The smallest reading, compared as an exact decimal, as signed' }) min!: string;
  @Field({ description: 'The largest reading, compared as an exact decimal, as signed' }) max!: string;
  @Field({ description: 'The reading observed last (exact decimal)' }) lastValue!: string;
}

@ObjectType({ description: 'Where an item was last seen: the newest EPCIS event naming it with a read point or business location' })
@Directive('@shareable')
export class ProvenanceTelemetryLocation {
  @Field() eventId!: string;
  @Field({ description: 'UTC' }) eventTime!: string;
  @Field(() => String, { nullable: true }) readPoint!: string | null;
  @Field(() => String, { nullable: true }) bizLocation!: string | null;
  @Field(() => String, { nullable: true }) bizStep!: string | null;
}

/** A device-identified asset by its device and the custody item it identifies: the parent of its usage and location. */
@ObjectType('ProvenanceAssetTelemetry', { description: 'Usage (the device’s readings) and location (the item’s EPCIS events) of a device-identified asset' })
@Directive('@shareable')
export class ProvenanceAssetTelemetry {
  @Field({ description: 'The device’s stored id (urn:epc:id:giai:… or did:…)' })
  deviceId!: string;

  @Field(() => String, { nullable: true, description: 'The custody item it identifies (canonical GS1 Digital Link), or null' })
  item!: string | null;
}

/**
 * Telemetry of a device-identified asset (docs/provenance.md, Telemetry of a
 * device and its asset): the TelemetryService as REST answers it. A lease's
 * device and item (finance's FinanceLease.asset) are its arguments: a client
 * asks both subgraphs in one GraphQL document through the gateway.
 */
@Resolver(() => ProvenanceAssetTelemetry)
@Authenticated()
export class AssetTelemetryResolver {
  constructor(@Inject(TELEMETRY_SERVICE) private readonly telemetry: TelemetryService) {}

  @Query(() => ProvenanceAssetTelemetry, { description: 'Usage and location of a device-identified asset (as GET /provenance/v1/sensors/devices/{deviceId}/telemetry); an unknown device has no usage' })
  assetTelemetry(@Args('deviceId') deviceId: string, @Args('item', { type: () => String, nullable: true }) item?: string | null): TelemetryKey {
    return telemetryKeyOf(deviceId, item);
  }

  @ResolveField(() => [ProvenanceTelemetryUsage], { description: 'Per measurement type and unit (byte order); empty for a device with no readings' })
  usage(
    @Parent() asset: TelemetryKey,
    @Args('from', { type: () => String, nullable: true, description: 'Readings observed at or after (RFC 3339 with offset)' }) from?: string | null,
    @Args('to', { type: () => String, nullable: true, description: 'Readings observed before (RFC 3339 with offset)' }) to?: string | null,
  ): Promise<TelemetryUsage[]> {
    return this.telemetry.usage(asset.deviceId, telemetryWindowOf(from, to));
  }

  @ResolveField(() => ProvenanceTelemetryLocation, { nullable: true, description: 'Null without an item or when no event places it' })
  async location(@Parent() asset: TelemetryKey): Promise<TelemetryLocation | null> {
    return asset.item === null ? null : this.telemetry.location(asset.item);
  }
}
