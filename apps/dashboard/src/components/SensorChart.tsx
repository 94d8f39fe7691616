import { alertsOf, type ReadingSeries, type SensorAlert } from '../lib/trace';

const W = 640;
const H = 220;
const PAD = { left: 56, right: 16, top: 16, bottom: 32 };

/**
 * One measurement type's readings as an SVG line, the rule thresholds (min/max of its alerts) as dashed lines
 * and each alert's out-of-bounds span shaded; the same numbers are in the figure's text for screen readers.
 */
export function SensorChart({ series, alerts }: { readonly series: ReadingSeries; readonly alerts: readonly SensorAlert[] }) {
  const own = alertsOf(series, alerts);
  const thresholds = [...new Set(own.flatMap((a) => [a.min, a.max]).filter((v): v is string => v !== null))];
  const times = series.readings.map((r) => Date.parse(r.time));
  const values = [...series.readings.map((r) => Number(r.value)), ...thresholds.map(Number)];
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const v0 = Math.min(...values);
  const v1 = Math.max(...values);
  const x = (t: number) => PAD.left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (v1 === v0 ? 0.5 : 1 - (v - v0) / (v1 - v0)) * (H - PAD.top - PAD.bottom);
  const points = series.readings.map((r) => `${x(Date.parse(r.time)).toFixed(1)},${y(Number(r.value)).toFixed(1)}`).join(' ');
  const title = `${series.measurementType} (${series.uom || 'no unit'})`;
  const summary = `${series.readings.length} readings from ${series.readings[0]?.time} to ${series.readings[series.readings.length - 1]?.time}, between ${Math.min(...series.readings.map((r) => Number(r.value)))} and ${Math.max(...series.readings.map((r) => Number(r.value)))}${thresholds.length ? `; thresholds ${thresholds.join(', ')}` : ''}; ${own.length} ${own.length === 1 ? 'alert' : 'alerts'}.`;
  return (
    <figure>
      <svg className="sensor-chart" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={`${title}: ${summary}`}>
        {own.map((a) => {
          const from = Math.max(t0, Date.parse(a.from));
          const to = Math.min(t1, Date.parse(a.to));
          return <rect key={a.alertId} className="alert-span" x={x(from)} y={PAD.top} width={Math.max(3, x(to) - x(from))} height={H - PAD.top - PAD.bottom} />;
        })}
        <line className="axis" x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} />
        <line className="axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} />
        <text x={PAD.left - 6} y={y(v1) + 4} textAnchor="end">
          {v1}
        </text>
        <text x={PAD.left - 6} y={y(v0) + 4} textAnchor="end">
          {v0}
        </text>
        <text x={PAD.left} y={H - 10}>
          {new Date(t0).toISOString().slice(0, 16).replace('T', ' ')}
        </text>
        <text x={W - PAD.right} y={H - 10} textAnchor="end">
          {new Date(t1).toISOString().slice(0, 16).replace('T', ' ')} UTC
        </text>
        {thresholds.map((v) => (
          <g key={v}>
            <line className="threshold" x1={PAD.left} x2={W - PAD.right} y1={y(Number(v))} y2={y(Number(v))} />
            <text x={W - PAD.right} y={y(Number(v)) - 4} textAnchor="end">
              threshold {v}
            </text>
          </g>
        ))}
        <polyline className="line" points={points} />
        {series.readings.map((r) => (
          <circle key={r.time + r.value} cx={x(Date.parse(r.time))} cy={y(Number(r.value))} r={3} fill="currentColor" />
        ))}
      </svg>
      <figcaption>
        {title}: {summary}
        {own.length > 0 && (
          <ul>
            {own.map((a) => (
              <li key={a.alertId}>
                Alert {a.alertId}: {a.from} to {a.to}, worst {a.worstValue} {a.uom}, disposition {a.disposition}
              </li>
            ))}
          </ul>
        )}
      </figcaption>
    </figure>
  );
}
