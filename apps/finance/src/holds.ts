import { createHash } from 'node:crypto';
import { type AlertRaisedV1, type EventEnvelope, sealProblem, type StockChangedV1, Topics, type TrustedSealKey } from '@alliance/contracts';
import { fromHex, isSignatureAlgorithm, isValidPublicKey, SIGNATURE_ALGORITHMS } from '@alliance/protocol';
import { type Consumer, startConsumer, type Transport } from '@alliance/shared/data-access-messaging';
import type { Pool, PoolClient } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import type { CommandService, Receipt } from './commands';
import { financeRecordKey } from './read-model';

/**
 * The finance service's watch over pledged goods (docs/finance.md, Holds from
 * provenance): the chain anchors EPCIS events by hash, so no contract sees a
 * sensor alarm or a stock count; this service does, from its own
 * organization's provenance read model, and places the warehouse receipt's
 * hold itself — signed by its organization, so only the service of the
 * receipt's warehouse or of its lender acts on it.
 *
 * - `provenance.alert.raised.v1` and `provenance.stock.changed.v1` are kept as
 *   signals in `finance.goods_signals` (effectively once, in the consumer's
 *   transaction), then a sweep compares them with the live receipts.
 * - A sensor alarm on the goods (the lot or SSCC itself, or its GTIN) holds
 *   an active receipt (`sensor-alarm`, reference `alert:<alertId>`) — unless
 *   the alarm is older than the receipt and the receipt came from a split or
 *   merge (its family was held for that alarm already, and released).
 * - The warehouse's stock on hand of the goods below what its live receipts
 *   cover holds them (`stock-shortfall`, reference `stock:<onHand> <uom> < <issued>@<eventId>`);
 *   for an SSCC, the unit not being on hand at the warehouse does. Quantities
 *   in another unit than the receipt's are not compared.
 * - Each hold is a finance command with a fixed Idempotency-Key (the receipt,
 *   the cause and the signal), so a signal holds a receipt at most once:
 *   after the lender (or warehouse) releases it, the same alarm or count does
 *   not hold it again; a new one does. Both parties' services may try; the
 *   contract lets the first win and refuses the other (FINANCE.INVALID_STATE).
 */
export interface HoldWatcherOptions {
  readonly pool: Pool;
  /**
   * Whose seals a signal must carry: the keys of this organization's provenance service. Anyone who can write to the
   * topics could publish an alert or a stock level; an unsealed or foreign-sealed one is dead-lettered, never kept.
   */
  readonly trustedSealKeys: readonly TrustedSealKey[];
  readonly commands: CommandService;
  /** The organization this service signs for. */
  readonly organizationId: string;
  /** Brings the read model up to `blockNumber`. */
  readonly catchUp: (blockNumber: number) => Promise<unknown>;
  readonly lastBlock: () => Promise<number>;
  readonly transport?: Transport;
  /** How often the sweep runs besides after each signal (default 2 s). */
  readonly sweepIntervalMs?: number;
  readonly logger?: (level: 'info' | 'warn', message: string, context?: Record<string, unknown>) => void;
}

export const HoldErrors = {
  unsealedSignal: (event: EventEnvelope, problem: string) =>
    new AllianceError('FINANCE.UNSEALED_SIGNAL', 'invalid', `${event.topic} event ${event.eventId} is not kept: ${problem}`, { details: { topic: event.topic, eventId: event.eventId, problem } }),
};

/**
 * FINANCE_SIGNAL_KEYS (`<algorithm>:<public key hex>`, comma-separated) as keys of `organizationId`, or `fallback`
 * when unset; a malformed entry stops the service at start with the setting named.
 */
export function signalKeysOf(setting: string | undefined, organizationId: string, fallback: readonly TrustedSealKey[]): TrustedSealKey[] {
  if (setting === undefined || setting.trim() === '') return [...fallback];
  return setting.split(',').map((entry) => {
    const [algorithm, hex] = entry.trim().split(':');
    if (!isSignatureAlgorithm(algorithm) || !/^([0-9a-f]{2})+$/.test(hex ?? '') || !isValidPublicKey(algorithm, fromHex(hex))) {
      throw new Error(`FINANCE_SIGNAL_KEYS: "${entry.trim()}" is not <algorithm>:<public key hex> (algorithm ${SIGNATURE_ALGORITHMS.join(', ')})`);
    }
    return { organizationId, algorithm, publicKey: fromHex(hex) };
  });
}

export interface HoldDecision {
  readonly receiptId: string;
  readonly cause: 'sensor-alarm' | 'stock-shortfall';
  readonly reference: string;
  readonly idempotencyKey: string;
}

const DL_GTIN = /^https:\/\/id\.gs1\.org\/01\/\d{14}$/;

/**
 * The service's check before it signs a `finance.warehouse-receipt.issue`:
 * the warehouse's stock on hand of the goods, as provenance derives it, must
 * cover the quantity and the `onHand` the warehouse states — or the receipt
 * would be held at once. An instance key (SSCC) must be on hand (1).
 * `FINANCE.ON_HAND_NOT_CONFIRMED` (409) when provenance shows less, or no
 * level of the goods in the receipt's unit at this organization yet.
 */
export async function confirmOnHand(pool: Pool, organizationId: string, payload: Record<string, unknown>): Promise<void> {
  const goods = payload['goods'] as { item?: unknown; quantity?: unknown; uom?: unknown } | undefined;
  const item = goods?.item;
  const quantity = goods?.quantity;
  const stated = payload['onHand'];
  // Malformed payloads are the contract's to refuse, with its codes.
  if (typeof item !== 'string' || typeof quantity !== 'string' || typeof stated !== 'string' || !/^\d{1,30}$/.test(quantity) || !/^\d{1,30}$/.test(stated)) return;
  const { rows } = await pool.query<{ uom: string; on_hand: string; block_number: string }>(
    `SELECT uom, on_hand::text AS on_hand, block_number FROM finance.goods_signals WHERE kind = 'stock' AND item = $1 AND organization_id = $2`,
    [item, organizationId],
  );
  const instance = rows.find((r) => r.uom === '');
  const level = instance ?? rows.find((r) => r.uom === goods?.uom);
  const refuse = (detail: string) => {
    throw new AllianceError('FINANCE.ON_HAND_NOT_CONFIRMED', 'conflict', detail, { details: { item, organizationId, onHand: level?.on_hand ?? null, uom: level ? level.uom || null : null } });
  };
  if (!level) return refuse(`provenance shows no stock of ${item} in ${String(goods?.uom)} at ${organizationId}: capture its receiving first (docs/finance.md, Holds from provenance)`);
  const covers = instance ? level.on_hand === '1' : BigInt(level.on_hand.split('.')[0]) >= BigInt(quantity) && BigInt(level.on_hand.split('.')[0]) >= BigInt(stated);
  if (!covers) refuse(`provenance shows ${level.on_hand}${instance ? '' : ` ${level.uom}`} of ${item} on hand at ${organizationId} (block ${level.block_number}); the receipt states onHand ${stated} and covers ${quantity}`);
}

export class HoldWatcher {
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<HoldDecision[]> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: HoldWatcherOptions) {}

  async start(): Promise<void> {
    if (this.options.transport) {
      this.consumer = await startConsumer({
        transport: this.options.transport,
        pool: this.options.pool,
        schema: 'finance',
        group: `finance-holds-${this.options.organizationId}`,
        topics: [Topics.provenanceAlertRaised, Topics.provenanceStockChanged],
        producer: 'finance',
        handler: async (event, client) => {
          await this.keep(client, event as EventEnvelope<AlertRaisedV1 | StockChangedV1>);
          setImmediate(() => void this.sweep().catch(() => undefined));
        },
      });
    }
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), this.options.sweepIntervalMs ?? 2_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.consumer?.close();
    await this.running?.catch(() => undefined);
  }

  /** Records a provenance signal (an alert, a stock level) in the consumer's transaction. */
  async keep(client: PoolClient, event: EventEnvelope<AlertRaisedV1 | StockChangedV1>): Promise<void> {
    const unsealed = sealProblem(event, this.options.trustedSealKeys);
    if (unsealed) throw HoldErrors.unsealedSignal(event, unsealed);
    if (event.topic === Topics.provenanceAlertRaised.name) {
      const a = event.payload as AlertRaisedV1;
      await client.query(
        `INSERT INTO finance.goods_signals (kind, item, organization_id, reference, uom, on_hand, block_number, detail)
         VALUES ('sensor-alarm', $1, $2, $3, NULL, NULL, $4, $5::jsonb) ON CONFLICT (kind, item, organization_id, reference) DO NOTHING`,
        [a.subject, a.organizationId, a.alertId, a.blockNumber, JSON.stringify({ ruleId: a.ruleId, measurementType: a.measurementType, from: a.from, to: a.to, worstValue: a.worstValue, disposition: a.disposition })],
      );
    } else if (event.topic === Topics.provenanceStockChanged.name) {
      const s = event.payload as StockChangedV1;
      // One row per item, organization and unit: the latest level (a replayed older event does not win).
      await client.query(
        `INSERT INTO finance.goods_signals (kind, item, organization_id, reference, uom, on_hand, block_number, detail)
         VALUES ('stock', $1, $2, $3, $3, $4::numeric, $5, $6::jsonb)
         ON CONFLICT (kind, item, organization_id, reference) DO UPDATE SET on_hand = EXCLUDED.on_hand, block_number = EXCLUDED.block_number, detail = EXCLUDED.detail
           WHERE goods_signals.block_number <= EXCLUDED.block_number`,
        [s.item, s.organizationId, s.uom ?? '', s.onHand, s.blockNumber, JSON.stringify({ eventId: s.eventId, previousOnHand: s.previousOnHand })],
      );
    } else {
      throw new AllianceError('FINANCE.UNEXPECTED_EVENT', 'invalid', `the hold watcher does not handle ${event.topic}`);
    }
  }

  /** Compares the signals with the live receipts this organization warehouses or lends against, and submits the holds due. */
  sweep(): Promise<HoldDecision[]> {
    if (this.stopped) return Promise.resolve([]);
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      const placed: HoldDecision[] = [];
      do {
        this.again = false;
        const signalled = await this.options.pool.query<{ block: string | null }>('SELECT max(block_number)::text AS block FROM finance.goods_signals');
        const through = Number(signalled.rows[0]?.block ?? -1);
        // The receipts the signals speak of may be in blocks the read model has not applied yet.
        if (through >= 0 && (await this.options.lastBlock()) < through) await this.options.catchUp(through);
        for (const decision of await this.decisions()) {
          if (this.stopped) break;
          const receipt = await this.hold(decision);
          if (receipt) placed.push(decision);
        }
      } while (this.again && !this.stopped);
      return placed;
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** The holds due now (not yet asked for under their Idempotency-Key). */
  async decisions(): Promise<HoldDecision[]> {
    const org = this.options.organizationId;
    const { rows } = await this.options.pool.query<{ receipt_id: string; cause: 'sensor-alarm' | 'stock-shortfall'; reference: string; signal: string }>(
      `WITH live AS (
         SELECT r.receipt_id, r.warehouse, r.goods_item, r.created_at_block, r.record,
                jsonb_array_length(r.record->'parentIds') = 0 AS root,
                r.record->'goods'->>'uom' AS uom,
                (SELECT sum((f.record->'goods'->>'quantity')::numeric) FROM finance.warehouse_receipts f
                  WHERE f.goods_item = r.goods_item AND f.status IN ('active', 'held')) AS issued
         FROM finance.warehouse_receipts r
         WHERE r.status = 'active' AND NOT r.frozen AND (r.warehouse = $1 OR r.encumbrance_financier = $1)
       )
       SELECT l.receipt_id, 'sensor-alarm' AS cause, 'alert:' || s.reference AS reference, s.reference AS signal
         FROM live l JOIN finance.goods_signals s ON s.kind = 'sensor-alarm'
           AND (s.item = l.goods_item OR (s.item ~ $2 AND starts_with(l.goods_item, s.item || '/10/')))
         WHERE l.root OR s.block_number >= l.created_at_block
       UNION ALL
       SELECT l.receipt_id, 'stock-shortfall', 'stock:' || s.on_hand::text || ' ' || coalesce(nullif(s.uom, ''), 'units') || ' < ' || l.issued::text || '@' || (s.detail->>'eventId'),
              s.detail->>'eventId'
         FROM live l JOIN finance.goods_signals s ON s.kind = 'stock' AND s.item = l.goods_item AND s.organization_id = l.warehouse
         WHERE (s.uom = '' AND s.on_hand = 0) OR (s.uom <> '' AND s.uom = l.uom AND s.on_hand < l.issued)
       ORDER BY 1, 2, 3`,
      [org, DL_GTIN.source],
    );
    const decisions = rows.map((r) => ({
      receiptId: r.receipt_id,
      cause: r.cause,
      reference: r.reference.slice(0, 200),
      idempotencyKey: `hold:${r.cause}:${createHash('sha256').update(`${r.receipt_id}\u0000${r.signal}`).digest('hex').slice(0, 32)}`,
    }));
    if (decisions.length === 0) return [];
    const { rows: asked } = await this.options.pool.query<{ idempotency_key: string }>('SELECT idempotency_key FROM finance.commands WHERE idempotency_key = ANY($1::text[])', [decisions.map((d) => d.idempotencyKey)]);
    const done = new Set(asked.map((r) => r.idempotency_key));
    // One hold per receipt per sweep: the first due (a held receipt takes no second hold).
    const seen = new Set<string>();
    return decisions.filter((d) => !done.has(d.idempotencyKey) && !seen.has(d.receiptId) && seen.add(d.receiptId));
  }

  private async hold(d: HoldDecision): Promise<Receipt | undefined> {
    const body = { receiptId: d.receiptId, cause: d.cause, reference: d.reference };
    try {
      const receipt = await this.options.commands.execute(
        {
          operation: `POST /warehouse-receipts/{receiptId}/hold`,
          type: 'finance.warehouse-receipt.hold',
          payload: body,
          recordKey: financeRecordKey('warehouse-receipt', d.receiptId),
          requestHash: createHash('sha256').update(JSON.stringify(['hold-watcher', body])).digest('hex'),
          idempotencyKey: d.idempotencyKey,
          requestedBy: `finance-hold-watcher:${this.options.organizationId}`,
        },
        10_000,
      );
      this.options.logger?.(receipt.status === 'invalid' ? 'warn' : 'info', `hold of warehouse receipt ${d.receiptId} (${d.cause}): ${receipt.status}${receipt.code ? ` ${receipt.code}` : ''}`, {
        receiptId: d.receiptId,
        cause: d.cause,
        reference: d.reference,
        transactionId: receipt.transactionId,
      });
      return receipt;
    } catch (error) {
      this.options.logger?.('warn', `hold of warehouse receipt ${d.receiptId} (${d.cause}) not submitted: ${(error as Error).message}`, { receiptId: d.receiptId });
      return undefined;
    }
  }
}

