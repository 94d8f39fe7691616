import { formatMoney, maxAmount, permille } from '../lib/money';

export interface Bar {
  readonly key: string;
  readonly label: string;
  readonly amount: string;
  readonly currency: string;
}

const ROW = 28;
const LABEL = 180;
const TRACK = 360;
const VALUE = 200;

/**
 * Horizontal bars in SVG, each with its text label and exact amount; lengths
 * are proportions of the largest bar of the same currency (BigInt thousandths).
 */
export function Bars({ title, bars }: { readonly title: string; readonly bars: readonly Bar[] }) {
  const largest = new Map<string, string>();
  for (const currency of new Set(bars.map((b) => b.currency))) largest.set(currency, maxAmount(bars.filter((b) => b.currency === currency).map((b) => b.amount)));
  const width = LABEL + TRACK + VALUE;
  const height = bars.length * ROW + 4;
  return (
    <svg role="img" aria-label={`${title}: ${bars.map((b) => `${b.label} ${formatMoney(b.amount, b.currency)}`).join('; ')}`} viewBox={`0 0 ${width} ${height}`} width="100%" className="bars">
      <title>{title}</title>
      {bars.map((b, i) => {
        const y = i * ROW + 2;
        const length = Math.max(permille(b.amount, largest.get(b.currency) ?? '0') * TRACK / 1000, b.amount === '0' ? 0 : 2);
        return (
          <g key={b.key}>
            <text x={0} y={y + 18} className="bar-label">
              {b.label}
            </text>
            <rect x={LABEL} y={y + 4} width={TRACK} height={ROW - 10} className="bar-track" />
            <rect x={LABEL} y={y + 4} width={length} height={ROW - 10} className="bar-fill" />
            <text x={LABEL + TRACK + 8} y={y + 18} className="bar-value">
              {formatMoney(b.amount, b.currency)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
