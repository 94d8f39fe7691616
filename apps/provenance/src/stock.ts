import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type SealingKey, Topics } from '@alliance/contracts';
import type { CommittedBlock, Outbox } from '@alliance/shared/data-access-messaging';
import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';
import { Authenticated } from '@alliance/shared/feature-platform';
import { AllianceError } from '@alliance/shared/util-errors';
import { itemOf } from './provenance-api';
import type { RepositoryEvent } from './read-model';

/**
 * Stock on hand in the provenance read model (docs/provenance.md, Stock on
 * hand): how much of a lot (class key, in its unit) or whether a logistic
 * unit (SSCC: 1 or 0) an organization holds — the keys goods are stored and
 * pledged under; other instance keys (SGTIN, GRAI…) are not counted — derived from the EPCIS events
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
/** Instance keys kept: logistic units (SSCC), the instances goods are stored and pledged as; other instances (SGTIN, GRAI…) are not counted. */
const SSCC_PREFIX = 'https://id.gs1.org/00/';
const KEPT = `(x.role IN ('quantity', 'input_quantity', 'output_quantity') OR starts_with(x.epc, '${SSCC_PREFIX}'))`;
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
  item: string;
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
const levelKey = (item: string, organizationId: string, uom: string | null) => `${item}\u0000${organizationId}\u0000${uom ?? ''}`;

const MOVEMENT_COLUMNS = `e.seq, e.event_id, e.type, e.action, e.biz_step, e.origin, e.organization_id, x.epc AS item, x.role, x.quantity::text AS quantity, x.uom, e.block_number,
  (SELECT substr(p.party, ${ORG_PARTY.length + 1}) FROM provenance.event_parties p WHERE p.seq = e.seq AND p.party LIKE '${ORG_PARTY}%' ORDER BY p.kind LIMIT 1) AS party_org`;

/**
 * Folds movements (in repository order) into `levels` (keyed by item,
 * organization and unit), returning the keys it changed. The stock of a block
 * is the fold of its movements over the levels before it, so applying block by
 * block and recomputing from all events give the same levels.
 */
function fold(levels: Map<string, StockLevel>, rows: readonly Movement[]): Set<string> {
  const changed = new Set<string>();
  for (const m of rows) {
    const effect = effectOf(m);
    if (!effect) continue;
    const item = m.item;
    const organizationId = m.origin.startsWith('transfer:') && m.party_org ? m.party_org : m.organization_id;
    const at = { eventId: m.event_id, blockNumber: Number(m.block_number) };
    if (effect.amount === null) {
      // A class entry without a quantity: a removal empties every unit the organization holds; an addition adds an unknown amount.
      if (effect.sign > 0) continue;
      for (const [key, level] of levels) {
        if (level.item !== item || level.organizationId !== organizationId || level.uom === null || level.onHand === '0') continue;
        levels.set(key, { ...level, onHand: '0', ...at });
        changed.add(key);
      }
      continue;
    }
    // A class quantity without a unit is a count of instances (EPCIS 2.0 §7.3.3.3): "EA".
    const uom = CLASS_ROLES.has(m.role) ? (m.uom ?? 'EA') : null;
    const key = levelKey(item, organizationId, uom);
    const previous = levels.get(key);
    const before = previous?.onHand ?? '0';
    let onHand = addDecimal(before, effect.sign < 0 ? `-${effect.amount}` : effect.amount);
    if (negative(onHand)) onHand = '0';
    if (uom === null && onHand !== '0') onHand = '1';
    if (previous && onHand === before) continue;
    levels.set(key, { item, organizationId, uom, onHand, ...at });
    changed.add(key);
  }
  return changed;
}

const byOrganizationAndUnit = (a: StockLevel, b: StockLevel) => (a.organizationId < b.organizationId ? -1 : a.organizationId > b.organizationId ? 1 : (a.uom ?? '') < (b.uom ?? '') ? -1 : 1);

/** The stock levels of `item` at every organization that ever held it, recomputed from all its events. */
export async function stockLevelsOf(client: Pool | PoolClient, item: string): Promise<StockLevel[]> {
  const { rows } = await client.query<Movement>(
    `SELECT ${MOVEMENT_COLUMNS} FROM provenance.event_epcs x JOIN provenance.events e ON e.seq = x.seq
     WHERE x.epc = $1 AND x.role = ANY($2::text[]) AND ${KEPT} AND e.error_declaration_time IS NULL ORDER BY e.seq`,
    [item, COUNTED_ROLES],
  );
  const levels = new Map<string, StockLevel>();
  fold(levels, rows.map((r) => ({ ...r, item })));
  return [...levels.values()].sort(byOrganizationAndUnit);
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
 * transaction applying it — the block's movements folded over the stored
 * levels of the items they name, three statements per block — and announces
 * each changed level on `provenance.stock.changed.v1` when the block is first
 * applied.
 */
export class StockLevels {
  private outbox: Outbox | undefined;
  private seal: SealingKey | undefined;

  /** The outbox and the sealing key, as for the sensor alerts (sensor-read-model.ts). */
  publishThrough(outbox: Outbox | undefined, seal?: SealingKey): void {
    this.outbox = outbox;
    this.seal = seal;
  }

  async onApplied(client: PoolClient, block: CommittedBlock, added: ReadonlyArray<{ readonly seq: number; readonly event: RepositoryEvent }>, publish: boolean): Promise<void> {
    if (added.length === 0) return;
    const { rows: movements } = await client.query<Movement>(
      `SELECT ${MOVEMENT_COLUMNS} FROM provenance.event_epcs x JOIN provenance.events e ON e.seq = x.seq
       WHERE x.seq = ANY($1::bigint[]) AND x.role = ANY($2::text[]) AND ${KEPT} AND e.error_declaration_time IS NULL ORDER BY e.seq`,
      [added.map((r) => r.seq), COUNTED_ROLES],
    );
    const moving = movements.filter((m) => effectOf(m) !== null);
    if (moving.length === 0) return;
    const items = [...new Set(moving.map((m) => m.item))];
    const { rows: stored } = await client.query<StockRow>('SELECT item, organization_id, uom, on_hand::text AS on_hand, event_id, block_number FROM provenance.stock WHERE item = ANY($1::text[])', [items]);
    const levels = new Map(stored.map((r) => [levelKey(r.item, r.organization_id, r.uom === '' ? null : r.uom), levelOf(r)]));
    const before = new Map([...levels].map(([k, v]) => [k, v.onHand]));
    const changed = [...fold(levels, moving)].map((k) => levels.get(k) as StockLevel);
    if (changed.length === 0) return;
    await client.query(
      `INSERT INTO provenance.stock (item, organization_id, uom, on_hand, event_id, block_number)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::bigint[])
       ON CONFLICT (item, organization_id, uom) DO UPDATE SET on_hand = EXCLUDED.on_hand, event_id = EXCLUDED.event_id, block_number = EXCLUDED.block_number`,
      [changed.map((l) => l.item), changed.map((l) => l.organizationId), changed.map((l) => l.uom ?? ''), changed.map((l) => l.onHand), changed.map((l) => l.eventId), changed.map((l) => l.blockNumber)],
    );
    if (!this.outbox || !publish) return;
    for (const level of changed) {
      const previous = before.get(levelKey(level.item, level.organizationId, level.uom)) ?? null;
      if (previous === level.onHand) continue;
      await this.outbox.enqueue(
        client,
        Topics.provenanceStockChanged,
        { chainId: block.chainId, blockNumber: block.blockNumber, item: level.item, organizationId: level.organizationId, uom: level.uom, onHand: level.onHand, previousOnHand: previous, eventId: level.eventId },
        { key: level.item, correlationId: `block-${block.blockNumber}`, causationId: null, producer: 'provenance', seal: this.seal },
      );
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
  @ApiOperation({ summary: 'Stock on hand of `item` (a lot or other class key, or an SSCC; URN or Digital Link) per organization, derived from its EPCIS events (docs/provenance.md, Stock on hand); `organizationId` narrows it to one' })
  @ApiQuery({ name: 'item', required: true })
  @ApiQuery({ name: 'organizationId', required: false })
  async levels(@Query('item') item?: string, @Query('organizationId') organizationId?: string) {
    if (item === undefined || item === '') throw new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', 'item is required: a lot (class key) or an SSCC, as a URN or a GS1 Digital Link');
    const id = itemOf(item);
    const { rows } = await this.pool.query<StockRow>(
      `SELECT item, organization_id, uom, on_hand::text AS on_hand, event_id, block_number FROM provenance.stock WHERE item = $1 AND ($2::text IS NULL OR organization_id = $2) ORDER BY organization_id, uom`,
      [id, organizationId === undefined || organizationId === '' ? null : organizationId],
    );
    return { item: id, levels: rows.map(levelOf) };
  }
}
