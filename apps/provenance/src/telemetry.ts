import { normalizeDeviceId } from '@alliance/ledger/domain';
import { type Pool, type PoolClient, withTransaction } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { itemOf } from './provenance-api';

/** The DI token of the TelemetryService (REST and the GraphQL resolver inject the same). */
export const TELEMETRY_SERVICE = Symbol('alliance.provenance-telemetry');

/** What one device measured of one measurement type in one unit: exact decimal strings, UTC times. */
export interface TelemetryUsage {
  readonly measurementType: string;
  readonly uom: string;
  readonly count: number;
  readonly firstObservedAt: string;
  readonly lastObservedAt: string;
  /** The smallest and largest reading (compared as exact numerics), as the device signed it. */
  readonly min: string;
  readonly max: string;
  /** The reading observed last. */
  readonly lastValue: string;
}

/** Where the item was last seen: the newest EPCIS event naming it that says where. */
export interface TelemetryLocation {
  readonly eventId: string;
  readonly eventTime: string;
  readonly readPoint: string | null;
  readonly bizLocation: string | null;
  readonly bizStep: string | null;
}

/** A device and, optionally, the custody item it identifies: the key of the answer. */
export interface TelemetryKey {
  readonly deviceId: string;
  readonly item: string | null;
}

/** The window readings are taken from: `from` ≤ observedAt < `to`, each end open when absent. */
export interface TelemetryWindow {
  readonly from: string | null;
  readonly to: string | null;
}

export interface AssetTelemetryView extends TelemetryKey, TelemetryWindow {
  readonly usage: TelemetryUsage[];
  readonly location: TelemetryLocation | null;
}

const invalidQuery = (detail: string) => new AllianceError('PROVENANCE.INVALID_QUERY', 'invalid', detail);

const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** An RFC 3339 date-time with its offset (`Z` or ±hh:mm), every field in range; else PROVENANCE.INVALID_QUERY. */
export function instantOf(name: string, value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  // A '+' of an offset arrives as a space when the client did not escape it.
  const text = typeof value === 'string' ? value.replace(/ (\d{2}:\d{2})$/, '+$1') : '';
  const m = TIME.exec(text);
  const bad = () => invalidQuery(`${name} must be an RFC 3339 date-time with an offset, e.g. 2026-12-01T08:00:00.000+08:00`);
  if (!m) throw bad();
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || offsetHour > 23 || offsetMinute > 59) throw bad();
  return text;
}

/**
 * The device as telemetry names it — its stored id: a GIAI EPC URN or a DID
 * (pct-escapes upper-cased, as registration stores it). A Digital Link GIAI
 * does not say where its company prefix ends, so it is refused with a hint.
 */
export function deviceIdOf(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalidQuery('deviceId is required');
  const id = normalizeDeviceId(value);
  if (!id.ok) throw invalidQuery(id.link ? 'name the device by its stored id (urn:epc:id:giai:<companyPrefix>.<assetRef>): a Digital Link does not say where the company prefix ends' : `deviceId: ${id.detail}`);
  return id.deviceId;
}

/** The key checked and normalised: the device's stored id, the item's canonical Digital Link (PROVENANCE.INVALID_IDENTIFIER when it is no GS1 key). */
export function telemetryKeyOf(deviceId: unknown, item: unknown): TelemetryKey {
  return { deviceId: deviceIdOf(deviceId), item: item === undefined || item === null || item === '' ? null : itemOf(item) };
}

export function telemetryWindowOf(from: unknown, to: unknown): TelemetryWindow {
  const window = { from: instantOf('from', from), to: instantOf('to', to) };
  if (window.from !== null && window.to !== null && Date.parse(window.from) > Date.parse(window.to)) throw invalidQuery('from must not be after to');
  return window;
}

type Db = Pick<PoolClient, 'query'>;

interface UsageRow {
  type: string;
  uom: string;
  count: string;
  first_observed_at: Date;
  last_observed_at: Date;
  min: string;
  max: string;
  last_value: string;
}

interface LocationRow {
  event_id: string;
  event_time: Date;
  read_point: string | null;
  biz_location: string | null;
  biz_step: string | null;
}

/**
 * Usage and location of a device-identified asset (docs/provenance.md,
 * Telemetry of a device and its asset), from the read model alone:
 *
 * - usage: the device's readings in `provenance.sensor_readings`, whatever
 *   subject their batches were about, per measurement type and unit (byte
 *   order): how many, the first and last instant, the smallest and largest
 *   value and the last one. A reading anchored in several batches (under
 *   several subjects) counts once — the first anchored (block, batch). Values
 *   are compared as SQL numeric, never floats, and answered as signed.
 * - location: the newest EPCIS event (event time, then repository order)
 *   naming the item in any role that has a read point or a business location,
 *   leaving out events that carry an error declaration.
 *
 * A device with no readings (unknown, or never anchored) has an empty usage;
 * no item, or one no event places, has no location. Both read one snapshot.
 */
export class TelemetryService {
  constructor(private readonly pool: Pool) {}

  /** The whole answer of GET /provenance/v1/sensors/devices/{deviceId}/telemetry. */
  telemetry(key: TelemetryKey, window: TelemetryWindow): Promise<AssetTelemetryView> {
    return withTransaction(this.pool, async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const usage = await this.usageIn(client, key.deviceId, window);
      const location = key.item === null ? null : await this.locationIn(client, key.item);
      return { deviceId: key.deviceId, item: key.item, from: window.from, to: window.to, usage, location };
    });
  }

  usage(deviceId: string, window: TelemetryWindow): Promise<TelemetryUsage[]> {
    return this.usageIn(this.pool, deviceId, window);
  }

  location(item: string): Promise<TelemetryLocation | null> {
    return this.locationIn(this.pool, item);
  }

  private async usageIn(db: Db, deviceId: string, window: TelemetryWindow): Promise<TelemetryUsage[]> {
    const { rows } = await db.query<UsageRow>(
      `WITH r AS (
         SELECT DISTINCT ON (type, uom, observed_at) type, uom, observed_at, value
         FROM provenance.sensor_readings
         WHERE device_id = $1 AND ($2::timestamptz IS NULL OR observed_at >= $2::timestamptz) AND ($3::timestamptz IS NULL OR observed_at < $3::timestamptz)
         ORDER BY type, uom, observed_at, block_number, batch_id
       )
       SELECT type, uom, count(*) AS count, min(observed_at) AS first_observed_at, max(observed_at) AS last_observed_at,
              (array_agg(value ORDER BY value::numeric, observed_at))[1] AS min,
              (array_agg(value ORDER BY value::numeric DESC, observed_at))[1] AS max,
              (array_agg(value ORDER BY observed_at DESC))[1] AS last_value
       FROM r GROUP BY type, uom ORDER BY type, uom`,
      [deviceId, window.from, window.to],
    );
    return rows.map((r) => ({
      measurementType: r.type,
      uom: r.uom,
      count: Number(r.count),
      firstObservedAt: r.first_observed_at.toISOString(),
      lastObservedAt: r.last_observed_at.toISOString(),
      min: r.min,
      max: r.max,
      lastValue: r.last_value,
    }));
  }

  private async locationIn(db: Db, item: string): Promise<TelemetryLocation | null> {
    const { rows } = await db.query<LocationRow>(
      `SELECT e.event_id, e.event_time, e.read_point, e.biz_location, e.biz_step
       FROM provenance.events e
       WHERE e.seq IN (SELECT x.seq FROM provenance.event_epcs x WHERE x.epc = $1)
         AND (e.read_point IS NOT NULL OR e.biz_location IS NOT NULL) AND e.error_declaration_time IS NULL
       ORDER BY e.event_time DESC, e.seq DESC LIMIT 1`,
      [item],
    );
    const r = rows[0];
    return r ? { eventId: r.event_id, eventTime: r.event_time.toISOString(), readPoint: r.read_point, bizLocation: r.biz_location, bizStep: r.biz_step } : null;
  }
}
