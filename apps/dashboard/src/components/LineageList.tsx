import { describeDepth, type LineageEdge, type LineageNode } from '../lib/trace';
import './trace.css';

/** The graph's text alternative: every node (a button that selects it) and the links from it. */
export function LineageList({
  nodes,
  edges,
  selected,
  onSelect,
}: {
  readonly nodes: readonly LineageNode[];
  readonly edges: readonly LineageEdge[];
  readonly selected: string | null;
  readonly onSelect: (id: string) => void;
}) {
  const sorted = [...nodes].sort((a, b) => a.depth - b.depth || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return (
    <ul aria-label="Lineage" className="lineage-list">
      {sorted.map((n) => {
        const out = edges.filter((e) => e.from === n.id);
        return (
          <li key={n.id}>
            <button type="button" aria-pressed={n.id === selected} onClick={() => onSelect(n.id)}>
              {n.id}
            </button>{' '}
            <span className="muted">
              {n.kind}, {describeDepth(n.depth)}
            </span>
            {out.length > 0 && (
              <ul aria-label={`Links from ${n.id}`}>
                {out.map((e) => (
                  <li key={`${e.eventID}-${e.to}`}>
                    {e.kind} → {e.to} ({e.eventTime})
                  </li>
                ))}
              </ul>
            )}
          </li>
        );
      })}
    </ul>
  );
}
