/**
 * Pure helpers of the Trace page: the lineage graph's text alternative and the
 * sensor readings carried by an item's EPCIS events (sensorElementList), with
 * the thresholds and alerts of the rules that watched them.
 */

export interface LineageNode {
  readonly id: string;
  readonly kind: string;
  readonly depth: number;
}

export interface LineageEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: string;
  readonly eventID: string;
  readonly eventTime: string;
}

export interface SensorAlert {
  readonly alertId: string;
  readonly measurementType: string;
  readonly uom: string;
  readonly min: string | null;
  readonly max: string | null;
  readonly from: string;
  readonly to: string;
  readonly worstValue: string;
  readonly disposition: string;
}

export interface Reading {
  readonly time: string;
  /** Exact decimal as signed; converted to a number only to draw it. */
  readonly value: string;
}

export interface ReadingSeries {
  readonly measurementType: string;
  readonly uom: string;
  readonly readings: readonly Reading[];
}

/** Where a node sits relative to the searched item. */
export function describeDepth(depth: number): string {
  if (depth === 0) return 'searched item';
  return depth < 0 ? `${-depth} ${-depth === 1 ? 'hop' : 'hops'} upstream` : `${depth} ${depth === 1 ? 'hop' : 'hops'} downstream`;
}

/** Short label of a URN or Digital Link for the graph (the full id stays in the list and the panel). */
export function shortLabel(id: string): string {
  const urn = /^urn:epc:(?:id|class|idpat):([a-z]+):(.+)$/i.exec(id);
  if (urn) return `${(urn[1] ?? '').toUpperCase()} ${urn[2] ?? ''}`;
  const link = /^https?:\/\/[^/]+\/(.+)$/i.exec(id);
  return link?.[1] ?? id;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const decimal = (v: unknown): string | undefined => (typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? v : undefined);
/** "gs1:MT-Temperature" and "MT-Temperature" name the same type. */
export const measurementName = (type: string): string => type.replace(/^(gs1:|https:\/\/gs1\.org\/voc\/)/, '');

/**
 * Every sensor report with a value in the events' JSON, per measurement type and unit, by time. A report
 * without its own time takes its element's sensorMetadata.time, then the event's time.
 */
export function readingsOf(events: readonly { readonly eventTime: string; readonly json: string }[]): ReadingSeries[] {
  const series = new Map<string, { measurementType: string; uom: string; readings: Reading[] }>();
  for (const event of events) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(event.json) as Record<string, unknown>;
    } catch {
      continue;
    }
    const elements = Array.isArray(body['sensorElementList']) ? (body['sensorElementList'] as unknown[]) : [];
    for (const element of elements) {
      if (!element || typeof element !== 'object') continue;
      const meta = (element as Record<string, unknown>)['sensorMetadata'];
      const metaTime = meta && typeof meta === 'object' ? text((meta as Record<string, unknown>)['time']) : undefined;
      const reports = (element as Record<string, unknown>)['sensorReport'];
      if (!Array.isArray(reports)) continue;
      for (const report of reports as Record<string, unknown>[]) {
        const type = text(report['type']);
        const value = decimal(report['value']);
        if (!type || value === undefined) continue;
        const uom = text(report['uom']) ?? '';
        const key = `${measurementName(type)}\u0000${uom}`;
        let s = series.get(key);
        if (!s) series.set(key, (s = { measurementType: measurementName(type), uom, readings: [] }));
        s.readings.push({ time: text(report['time']) ?? metaTime ?? event.eventTime, value });
      }
    }
  }
  return [...series.values()]
    .map((s) => ({ ...s, readings: s.readings.sort((a, b) => Date.parse(a.time) - Date.parse(b.time)) }))
    .sort((a, b) => (a.measurementType < b.measurementType ? -1 : a.measurementType > b.measurementType ? 1 : 0));
}

/** The alerts of one series (same measurement type and unit). */
export function alertsOf(series: ReadingSeries, alerts: readonly SensorAlert[]): SensorAlert[] {
  return alerts.filter((a) => measurementName(a.measurementType) === series.measurementType && a.uom === series.uom);
}
