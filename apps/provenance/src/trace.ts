import { itemKeyOf } from '@alliance/ledger/domain';
import { canonicalId, parseGs1Key, TRANSFORMATION_NODE_PREFIX } from '@alliance/provenance/domain';
import type { Pool } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { csvField } from './events';
import { likePrefix } from './event-query';

export const TraceErrors = {
  invalid: (detail: string) => new AllianceError('PROVENANCE.INVALID_TRACE', 'invalid', detail),
};

export const DEFAULT_TRACE_DEPTH = 10;
export const MAX_TRACE_DEPTH = 50;
export const DEFAULT_TRACE_NODES = 10_000;
export const MAX_TRACE_NODES = 100_000;

export type TraceDirection = 'upstream' | 'downstream' | 'both';

export interface TraceNode {
  readonly id: string;
  /** A GS1 key's kind (sgtin, lgtin, sscc, gtin …), `transformation`, or `other`. */
  readonly kind: string;
  /** Hops from the root (negative upstream, positive downstream; transformations do not count as a hop). */
  readonly depth: number;
}

export interface TraceEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: string;
  readonly eventID: string;
  readonly eventTime: string;
}

export interface Trace {
  readonly root: string;
  /** The nodes the root stands for: itself, or for a product class (GTIN) every lot and instance of it. */
  readonly seeds: readonly string[];
  readonly direction: TraceDirection;
  readonly depth: number;
  readonly nodes: readonly TraceNode[];
  readonly edges: readonly TraceEdge[];
  /** Every event on a path, oldest first. */
  readonly events: ReadonlyArray<{ eventID: string; type: string; eventTime: string; bizStep: string | null }>;
  /** True when maxNodes stopped the walk before the depth limit. */
  readonly truncated: boolean;
}

/** An event time as whole epoch milliseconds (what a Date holds). */
const EPOCH_MS = 'floor(extract(epoch FROM event_time) * 1000)::bigint';

const kindOfNode = (id: string) => (id.startsWith(TRANSFORMATION_NODE_PREFIX) ? 'transformation' : (() => {
  const parsed = parseGs1Key(id);
  return parsed.ok ? parsed.key.kind : 'other';
})());

/**
 * One-call lineage over the index in PostgreSQL (`provenance.lineage`): the
 * upstream walk follows edges backwards (what went into it: an aggregate's
 * children, a transformation's inputs, a lot of an instance), the downstream
 * walk forwards (where it went: the containers it was packed into, what it was
 * transformed into, the instances of a lot). One indexed query per level;
 * transformation nodes are crossed within the level.
 */
export class TraceService {
  constructor(private readonly pool: Pool) {}

  async trace(input: string, options: { direction?: TraceDirection; depth?: number; maxNodes?: number } = {}): Promise<Trace> {
    const direction = options.direction ?? 'both';
    const depth = options.depth ?? DEFAULT_TRACE_DEPTH;
    const maxNodes = options.maxNodes ?? DEFAULT_TRACE_NODES;
    if (!['upstream', 'downstream', 'both'].includes(direction)) throw TraceErrors.invalid('direction must be upstream, downstream or both');
    if (!Number.isSafeInteger(depth) || depth < 1 || depth > MAX_TRACE_DEPTH) throw TraceErrors.invalid(`depth must be an integer from 1 to ${MAX_TRACE_DEPTH}`);
    if (!Number.isSafeInteger(maxNodes) || maxNodes < 1 || maxNodes > MAX_TRACE_NODES) throw TraceErrors.invalid(`maxNodes must be an integer from 1 to ${MAX_TRACE_NODES}`);
    if (typeof input !== 'string' || input.trim() === '' || input.length > 1000) throw TraceErrors.invalid('epc must be an EPC, lot or product class (URN or GS1 Digital Link) of at most 1000 characters');
    const root = canonicalId(input);
    const seeds = await this.seedsOf(root);
    const nodes = new Map<string, TraceNode>(seeds.map((id) => [id, { id, kind: kindOfNode(id), depth: 0 }]));
    const edges = new Map<string, TraceEdge & { seq: string }>();
    let truncated = false;
    for (const dir of direction === 'both' ? (['upstream', 'downstream'] as const) : [direction]) {
      let frontier = [...seeds];
      for (let level = 1; level <= depth && frontier.length > 0 && !truncated; level++) {
        const next: string[] = [];
        // Transformation nodes are crossed in the same level: an input and an output are one hop apart.
        // One query gives the level's edges and those of the transformation nodes they reach.
        const [direct, beyond] = await this.step(frontier, dir);
        let found = direct;
        for (let crossing = 0; crossing < 2 && found.length > 0; crossing++) {
          const virtual: string[] = [];
          for (const e of found) {
            const key = `${e.from}\n${e.to}\n${e.seq}`;
            if (!edges.has(key)) edges.set(key, e);
            const other = dir === 'upstream' ? e.from : e.to;
            if (nodes.has(other)) continue;
            if (nodes.size >= maxNodes) {
              truncated = true;
              break;
            }
            const isVirtual = other.startsWith(TRANSFORMATION_NODE_PREFIX);
            nodes.set(other, { id: other, kind: isVirtual ? 'transformation' : kindOfNode(other), depth: dir === 'upstream' ? -level : level });
            (isVirtual ? virtual : next).push(other);
          }
          // The second crossing: edges of the transformation nodes this level found first.
          const reached = new Set(virtual);
          found = crossing === 0 ? beyond.filter((e) => reached.has(dir === 'upstream' ? e.to : e.from)) : [];
        }
        frontier = next;
      }
    }
    const edgeList = [...edges.values()];
    const seqs = [...new Set(edgeList.map((e) => e.seq))];
    const { rows } = seqs.length
      ? await this.pool.query<{ seq: string; event_id: string; type: string; ms: string; biz_step: string | null }>(`SELECT seq, event_id, type, ${EPOCH_MS} AS ms, biz_step FROM provenance.events WHERE seq = ANY($1::bigint[]) ORDER BY event_time, seq`, [seqs])
      : { rows: [] };
    const eventIdOf = new Map(rows.map((r) => [r.seq, r.event_id]));
    return {
      root,
      seeds,
      direction,
      depth,
      nodes: [...nodes.values()],
      edges: edgeList.map(({ seq, ...e }) => ({ ...e, eventID: eventIdOf.get(seq) ?? '' })),
      events: rows.map((r) => ({ eventID: r.event_id, type: r.type, eventTime: new Date(Number(r.ms)).toISOString(), bizStep: r.biz_step })),
      truncated,
    };
  }

  /** A product class (GTIN) stands for every lot and instance of it that the index knows; anything else for itself. */
  private async seedsOf(root: string): Promise<string[]> {
    if (!/^https:\/\/id\.gs1\.org\/01\/\d{14}$/.test(root)) return [root];
    const { rows } = await this.pool.query<{ node: string }>(
      `SELECT from_node AS node FROM provenance.lineage WHERE from_node LIKE $1 UNION SELECT to_node FROM provenance.lineage WHERE to_node LIKE $1 UNION SELECT epc FROM provenance.event_epcs WHERE epc LIKE $1 LIMIT 10000`,
      [likePrefix(`${root}/`)],
    );
    return [root, ...rows.map((r) => r.node).sort()];
  }

  /**
   * One level of the walk: the edges into (upstream) or out of (downstream) the frontier, and the
   * edges of the transformation nodes those reach (crossed within the level). Events are named
   * afterwards, once for the whole trace.
   */
  private async step(frontier: readonly string[], direction: 'upstream' | 'downstream'): Promise<[Array<TraceEdge & { seq: string }>, Array<TraceEdge & { seq: string }>]> {
    const [near, far] = direction === 'upstream' ? ['to_node', 'from_node'] : ['from_node', 'to_node'];
    // Times come as epoch milliseconds: parsing thousands of timestamptz texts costs more than the query.
    const { rows } = await this.pool.query<{ crossing: number; from_node: string; to_node: string; kind: string; seq: string; ms: string }>(
      `WITH hop AS (SELECT from_node, to_node, kind, seq, event_time FROM provenance.lineage WHERE ${near} = ANY($1::text[]))
       SELECT 0 AS crossing, from_node, to_node, kind, seq, ${EPOCH_MS} AS ms FROM hop
       UNION ALL
       SELECT 1, l.from_node, l.to_node, l.kind, l.seq, ${EPOCH_MS.replace('event_time', 'l.event_time')} FROM provenance.lineage l
       WHERE l.${near} IN (SELECT DISTINCT ${far} FROM hop WHERE ${far} LIKE $2)`,
      [frontier, likePrefix(TRANSFORMATION_NODE_PREFIX)],
    );
    const direct: Array<TraceEdge & { seq: string }> = [];
    const beyond: Array<TraceEdge & { seq: string }> = [];
    for (const r of rows) (r.crossing === 0 ? direct : beyond).push({ from: r.from_node, to: r.to_node, kind: r.kind, seq: r.seq, eventID: '', eventTime: new Date(Number(r.ms)).toISOString() });
    return [direct, beyond];
  }

  /**
   * The recall report of `input`: every item downstream of it (and it), each
   * with its last known event, location, owner and custodian. Location: the
   * bizLocation (else readPoint) of the newest event naming the item or a
   * container it was packed into later. Owner and custodian: the custody
   * registry (provenance.item.register / transfers) when the item is
   * registered there; else the newest `owning_party` / `possessing_party`
   * destination of its events or, failing those, of the nearest container it
   * went into; else the organization that captured its newest event.
   */
  async recall(input: string, options: { depth?: number; maxNodes?: number } = {}): Promise<{ root: string; generatedAt: string; trace: Trace; items: RecallItem[] }> {
    const trace = await this.trace(input, { direction: 'downstream', depth: options.depth ?? MAX_TRACE_DEPTH, maxNodes: options.maxNodes });
    const ids = trace.nodes.filter((n) => n.kind !== 'transformation').map((n) => n.id);
    const [latest, parties, registry] = await Promise.all([
      this.pool.query<{ epc: string; event_id: string; event_time: Date; biz_location: string | null; read_point: string | null; biz_step: string | null; disposition: string | null; organization_id: string }>(
        `SELECT DISTINCT ON (x.epc) x.epc, e.event_id, e.event_time, e.biz_location, e.read_point, e.biz_step, e.disposition, e.organization_id
         FROM provenance.event_epcs x JOIN provenance.events e ON e.seq = x.seq WHERE x.epc = ANY($1::text[]) ORDER BY x.epc, e.event_time DESC, e.seq DESC`,
        [ids],
      ),
      this.pool.query<{ epc: string; type: string; party: string }>(
        `SELECT DISTINCT ON (x.epc, p.type) x.epc, p.type, p.party FROM provenance.event_epcs x JOIN provenance.event_parties p ON p.seq = x.seq AND p.kind = 'destination' AND p.type IN ('owning_party', 'possessing_party')
         JOIN provenance.events e ON e.seq = x.seq WHERE x.epc = ANY($1::text[]) ORDER BY x.epc, p.type, e.event_time DESC, e.seq DESC`,
        [ids],
      ),
      this.pool.query<{ key: string; value: { item: string; owner: string; custodian: string } }>('SELECT key, value FROM provenance.chain_state WHERE key = ANY($1::text[]) AND value IS NOT NULL', [ids.map(itemKeyOf)]),
    ]);
    const last = new Map(latest.rows.map((r) => [r.epc, r]));
    const owning = new Map<string, string>();
    const possessing = new Map<string, string>();
    for (const r of parties.rows) (r.type === 'owning_party' ? owning : possessing).set(r.epc, r.party);
    const registered = new Map(registry.rows.map((r) => [r.value.item, r.value]));
    // Containers an item went into (downstream aggregation edges): their later events say where the item is.
    const containers = new Map<string, string[]>();
    for (const e of trace.edges) if (e.kind === 'aggregation') containers.set(e.from, [...(containers.get(e.from) ?? []), e.to]);
    const whereabouts = (id: string, seen = new Set<string>()): typeof latest.rows[number] | undefined => {
      seen.add(id);
      let best = last.get(id);
      for (const c of containers.get(id) ?? []) {
        if (seen.has(c)) continue;
        const candidate = whereabouts(c, seen);
        if (candidate && (!best || candidate.event_time > best.event_time)) best = candidate;
      }
      return best;
    };
    // A party named for the item itself, else for the nearest container it went into.
    const partyOf = (id: string, map: Map<string, string>, seen = new Set<string>()): string | undefined => {
      if (map.has(id)) return map.get(id);
      seen.add(id);
      for (const c of containers.get(id) ?? []) {
        if (seen.has(c)) continue;
        const found = partyOf(c, map, seen);
        if (found) return found;
      }
      return undefined;
    };
    const items: RecallItem[] = ids.map((id) => {
      const own = last.get(id);
      const where = whereabouts(id);
      const reg = registered.get(id);
      const owner = partyOf(id, owning);
      const custodian = partyOf(id, possessing);
      return {
        id,
        kind: kindOfNode(id),
        depth: trace.nodes.find((n) => n.id === id)?.depth ?? 0,
        lastEventID: own?.event_id ?? null,
        lastEventTime: own ? own.event_time.toISOString() : null,
        lastBizStep: own?.biz_step ?? null,
        lastDisposition: own?.disposition ?? null,
        location: where?.biz_location ?? where?.read_point ?? null,
        locationSince: where ? where.event_time.toISOString() : null,
        owner: reg ? `urn:alliance:org:${reg.owner}` : (owner ?? (own ? `urn:alliance:org:${own.organization_id}` : null)),
        custodian: reg ? `urn:alliance:org:${reg.custodian}` : (custodian ?? owner ?? (own ? `urn:alliance:org:${own.organization_id}` : null)),
        ownershipSource: reg ? 'custody-registry' : owner || custodian ? 'epcis-destination' : own ? 'capturing-organization' : 'unknown',
      };
    });
    return { root: trace.root, generatedAt: new Date().toISOString(), trace, items };
  }
}

export interface RecallItem {
  readonly id: string;
  readonly kind: string;
  readonly depth: number;
  readonly lastEventID: string | null;
  readonly lastEventTime: string | null;
  readonly lastBizStep: string | null;
  readonly lastDisposition: string | null;
  readonly location: string | null;
  readonly locationSince: string | null;
  readonly owner: string | null;
  readonly custodian: string | null;
  readonly ownershipSource: 'custody-registry' | 'epcis-destination' | 'capturing-organization' | 'unknown';
}

export const RECALL_CSV_COLUMNS = ['id', 'kind', 'depth', 'location', 'locationSince', 'owner', 'custodian', 'ownershipSource', 'lastEventID', 'lastEventTime', 'lastBizStep', 'lastDisposition'] as const;

export function recallCsv(items: readonly RecallItem[]): string {
  const lines = [RECALL_CSV_COLUMNS.join(',')];
  for (const item of items) lines.push(RECALL_CSV_COLUMNS.map((c) => csvField(item[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
