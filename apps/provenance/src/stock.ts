import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Topics } from '@alliance/contracts';
import type { CommittedBlock, Outbox } from '@alliance/shared/data-access-messaging';
import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';
import { Authenticated } from '@alliance/shared/feature-platform';
import { AllianceError } from '@alliance/shared/util-errors';
import { itemOf } from './provenance-api';
import type { RepositoryEvent } from './read-model';

/**
 * Stock on hand in the provenance read model (docs/provenance.md, Stock on
 * hand): how much of a lot (class key, in its unit) or whether an instance
 * (SSCC, SGTIN: 1 or 0) an organization holds, derived from the EPCIS events
 * naming it in repository order — the same at every member and after a
 * rebuild, since it is a function of committed blocks only.
 *
 * The rule, per event naming the item (events later declared erroneous do not count):
 * - a transformation's input consumes the quantity, its output adds it;
 * - an ObjectEvent (`epcList`, `quantityList`) or an AggregationEvent's parent
 *   with bizStep `shipping` or `departing` removes it from the organization,
 *   `receiving`, `arriving` or `accepting` adds it; an ObjectEvent with action
 *   ADD adds it (commissioning), DELETE removes it (decommissioning, destroying);
 *   other events leave the stock alone;
 * - the organization is the one that captured the event, except for the
 *   shipping and receiving events derived from an accepted custody transfer,
 *   which count for the transfer's sender and recipient respectively;
 * - a quantity list entry without a quantity removes everything of the item
 *   the organization holds (a shipment of "the lot") and adds nothing (an
 *   unknown amount); a quantity without a unit is a count ("EA"); an instance
 *   counts 1, and its stock stays between 0 and 1.
 */
export interface StockLevel {
  readonly item: string;
  readonly organizationId: string;
  /** The unit of a class key's quantities (UN/CEFACT Rec. 20); null for an instance (a count of 1 or 0). */
  readonly uom: string | null;
  /** Exact decimal text, never negative. */
  readonly onHand: string;
  /** The last event that changed it, and its block. */
  readonly eventId: string;
  readonly blockNumber: number;
}

const CLASS_ROLES = new Set(['quantity', 'child_quantity', 'input_quantity', 'output_quantity']);
const COUNTED_ROLES = ['epc', 'quantity', 'parent', 'input', 'input_quantity', 'output', 'output_quantity'];
const SHIPPING = new Set(['shipping', 'departing']);
const RECEIVING = new Set(['receiving', 'arriving', 'accepting']);
const ORG_PARTY = 'urn:alliance:org:';

interface Movement {
  seq: string;
  event_id: string;
  type: string;
  action: string | null;
  biz_step: string | null;
  origin: string;
  organization_id: string;
  role: string;
  quantity: string | null;
  uom: string | null;
  block_number: string;
  party_org: string | null;
}

/** What one event row does to the stock: add, remove (an amount, or everything when null) or nothing. */
function effectOf(m: Movement): { sign: 1 | -1; amount: string | null } | null {
  const amount = CLASS_ROLES.has(m.role) ? m.quantity : '1';
  if (m.role === 'input' || m.role === 'input_quantity') return { sign: -1, amount };
  if (m.role === 'output' || m.role === 'output_quantity') return { sign: 1, amount };
  if (m.type !== 'ObjectEvent' && !(m.type === 'AggregationEvent' && m.role === 'parent')) return null;
  if (m.type === 'ObjectEvent' && m.action === 'DELETE') return { sign: -1, amount };
  if (m.biz_step !== null && SHIPPING.has(m.biz_step)) return { sign: -1, amount };
  if (m.biz_step !== null && RECEIVING.has(m.biz_step)) return { sign: 1, amount };
  if (m.type === 'ObjectEvent' && m.action === 'ADD') return { sign: 1, amount };
  return null;
}

/** Exact decimal addition of plain decimal strings (no exponent), by integers at the longer scale. */
export function addDecimal(a: string, b: string): string {
  const fraction = (t: string) => /\.(\d+)$/.exec(t)?.[1].length ?? 0;
  const scale = Math.max(fraction(a), fraction(b));
  const scaled = (t: string) => {
    const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(t);
    if (!m) throw new Error(`${JSON.stringify(t)} is not a plain decimal`);
    return BigInt(`${m[1]}${m[2]}${(m[3] ?? '').padEnd(scale, '0')}`);
  };
  const sum = scaled(a) + scaled(b);
  const digits = (sum < 0n ? -sum : sum).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`.replace(/\.?0+$/, '');
  return sum < 0n ? `-${text}` : text;
}

const negative = (t: string) => t.startsWith('-');

/** The stock levels of `item` at every organization that ever held it, from its events in repository order. */
export async function stockLevelsOf(client: Pool | PoolClient, item: string): Promise<StockLevel[]> {
  const { rows } = await client.query<Movement>(
    `SELECT e.seq, e.event_id, e.type, e.action, e.biz_step, e.origin, e.organization_id, x.role, x.quantity::text AS quantity, x.uom, e.block_number,
       (SELECT substr(p.party, ${ORG_PARTY.length + 1}) FROM provenance.event_parties p WHERE p.seq = e.seq AND p.party LIKE '${ORG_PARTY}%' ORDER BY p.kind LIMIT 1) AS party_org
     FROM provenance.event_epcs x JOIN provenance.events e ON e.seq = x.seq
     WHERE x.epc = $1 AND x.role = ANY($2::text[]) AND e.error_declaration_time IS NULL
     ORDER BY e.seq`,
    [item, COUNTED_ROLES],
  );
  const levels = new Map<string, StockLevel>();
  for (const m of rows) {
    const effect = effectOf(m);
    if (!effect) continue;
    const organizationId = m.origin.startsWith('transfer:') && m.party_org ? m.party_org : m.organization_id;
    if (effect.amount === null) {
      // A class entry without a quantity: a removal empties every unit the organization holds; an addition adds an unknown amount.
      if (effect.sign > 0) continue;
      for (const [key, level] of levels) {
        if (level.organizationId === organizationId && level.uom !== null && level.onHand !== '0') levels.set(key, { ...level, onHand: '0', eventId: m.event_id, blockNumber: Number(m.block_number) });
      }
      continue;
    }
    // A class quantity without a unit is a count of instances (EPCIS 2.0 §7.3.3.3): "EA".
    const uom = CLASS_ROLES.has(m.role) ? (m.uom ?? 'EA') : null;
    const key = `${organizationId}\u0000${uom ?? ''}`;
    const before = levels.get(key)?.onHand ?? '0';
    let onHand = addDecimal(before, effect.sign < 0 ? `-${effect.amount}` : effect.amount);
    if (negative(onHand)) onHand = '0';
    if (uom === null && onHand !== '0') onHand = '1';
    if (onHand === before && levels.has(key)) continue;
    levels.set(key, { item, organizationId, uom, onHand, eventId: m.event_id, blockNumber: Number(m.block_number) });
  }
  return [...levels.values()].sort((a, b) => (a.organizationId < b.organizationId ? -1 : a.organizationId > b.organizationId ? 1 : (a.uom ?? '') < (b.uom ?? '') ? -1 : 1));
}

interface StockRow {
  item: string;
  organization_id: string;
  uom: string;
  on_hand: string;
  event_id: string;
  block_number: string;
}

const levelOf = (r: StockRow): StockLevel => ({ item: r.item, organizationId: r.organization_id, uom: r.uom === '' ? null : r.uom, onHand: r.on_hand, eventId: r.event_id, blockNumber: Number(r.block_number) });

/**
 * Keeps `provenance.stock` in step with the events a block added, in the
 * transaction applying it, and announces each changed level on
 * `provenance.stock.changed.v1` when the block is first applied.
 */
export class StockLevels {
  private outbox: Outbox | undefined;

  publishThrough(outbox: Outbox | undefined): void {
    this.outbox = outbox;
  }

  async onApplied(client: PoolClient, block: CommittedBlock, added: ReadonlyArray<{ readonly seq: number; readonly event: RepositoryEvent }>, publish: boolean): Promise<void> {
    if (added.length === 0) return;
    const { rows: touched } = await client.query<{ epc: string }>(
      'SELECT DISTINCT epc FROM provenance.event_epcs WHERE seq = ANY($1::bigint[]) AND role = ANY($2::text[]) ORDER BY epc',
      [added.map((r) => r.seq), COUNTED_ROLES],
    );
    for (const { epc } of touched) {
      const { rows: stored } = await client.query<StockRow>('SELECT * FROM provenance.stock WHERE item = $1', [epc]);
      const before = new Map(stored.map((r) => [`${r.organization_id}\u0000${r.uom}`, levelOf(r)]));
      for (const level of await stockLevelsOf(client, epc)) {
        const previous = before.get(`${level.organizationId}\u0000${level.uom ?? ''}`);
        if (previous && previous.onHand === level.onHand && previous.eventId === level.eventId) continue;
        await client.query(
          `INSERT INTO provenance.stock (item, organization_id, uom, on_hand, event_id, block_number) VALUES ($1, $2, $3, $4::numeric, $5, $6)
           ON CONFLICT (item, organization_id, uom) DO UPDATE SET on_hand = EXCLUDED.on_hand, event_id = EXCLUDED.event_id, block_number = EXCLUDED.block_number`,
          [level.item, level.organizationId, level.uom ?? '', level.onHand, level.eventId, level.blockNumber],
        );
        if (!this.outbox || !publish || previous?.onHand === level.onHand) continue;
        await this.outbox.enqueue(
          client,
          Topics.provenanceStockChanged,
          { chainId: block.chainId, blockNumber: block.blockNumber, item: level.item, organizationId: level.organizationId, uom: level.uom, onHand: level.onHand, previousOnHand: previous?.onHand ?? null, eventId: level.eventId },
          { key: level.item, correlationId: `block-${block.blockNumber}`, causationId: null, producer: 'provenance' },
        );
      }
    }
  }
}

export const STOCK_POOL = Symbol('alliance.provenance-stock-pool');

@ApiTags('stock')
@Authenticated()
@Controller('stock')
export class StockController {
  constructor(@Inject(STOCK_POOL) private readonly pool: Pool) {}

  @Get()
  @ApiOperation({ summary: 'Stock on hand of `item` (lot or instance; URN or Digital Link) per organization, derived from its EPCIS events (docs/provenance.md, Stock on hand); `organizationId` narrows it to one' })
  @ApiQuery({ name: 'item', required: true })
  @ApiQuery({ name: 'organizationId', required: false })
  async levels(@Query('item') item?: string, @Query('organizationId') organizationId?: string) {
    if (item === undefined || item === '') throw new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', 'item is required: a lot (class key) or an instance key, as a URN or a GS1 Digital Link');
    const id = itemOf(item);
    const { rows } = await this.pool.query<StockRow>(
      `SELECT item, organization_id, uom, on_hand::text AS on_hand, event_id, block_number FROM provenance.stock WHERE item = $1 AND ($2::text IS NULL OR organization_id = $2) ORDER BY organization_id, uom`,
      [id, organizationId === undefined || organizationId === '' ? null : organizationId],
    );
    return { item: id, levels: rows.map(levelOf) };
  }
}
