import cytoscape, { type Core } from 'cytoscape';
import { useEffect, useRef } from 'react';
import { describeDepth, type LineageEdge, type LineageNode, shortLabel } from '../lib/trace';
import './trace.css';

// Cytoscape adds a one-rule inline <style> to <head> unless an element with this id exists; the dashboard's
// CSP allows no inline style, so the rule lives in trace.css and a placeholder keeps Cytoscape from adding it.
const CYTOSCAPE_STYLESHEET_ID = '__________cytoscape_stylesheet';

function keepCytoscapeFromInlineStyles(): void {
  if (document.getElementById(CYTOSCAPE_STYLESHEET_ID)) return;
  const placeholder = document.createElement('meta');
  placeholder.id = CYTOSCAPE_STYLESHEET_ID;
  document.head.prepend(placeholder);
}

const COLOURS: Record<string, string> = { root: '#b45309', upstream: '#0b5cad', downstream: '#116329' };

/**
 * The lineage drawn with Cytoscape.js (upstream to the left, downstream to the right, by depth). The canvas
 * is one focusable region whose arrow keys move the selection; the list beside it (LineageList) is its text
 * alternative for screen readers and keyboards. Loaded on demand (Cytoscape is most of its weight).
 */
export default function LineageGraph({
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
  const container = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | null>(null);
  const select = useRef(onSelect);
  select.current = onSelect;

  useEffect(() => {
    if (!container.current) return;
    keepCytoscapeFromInlineStyles();
    const known = new Set(nodes.map((n) => n.id));
    // Column per depth, nodes of one depth stacked.
    const rows = new Map<number, number>();
    const instance = cytoscape({
      container: container.current,
      elements: [
        ...nodes.map((n) => {
          const row = rows.get(n.depth) ?? 0;
          rows.set(n.depth, row + 1);
          return {
            group: 'nodes' as const,
            data: { id: n.id, label: shortLabel(n.id), side: n.depth === 0 ? 'root' : n.depth < 0 ? 'upstream' : 'downstream' },
            position: { x: n.depth * 260, y: row * 90 },
          };
        }),
        ...edges
          .filter((e) => known.has(e.from) && known.has(e.to))
          .map((e, i) => ({ group: 'edges' as const, data: { id: `e${i}`, source: e.from, target: e.to, label: e.kind } })),
      ],
      layout: { name: 'preset', fit: true, padding: 40 },
      style: [
        {
          selector: 'node',
          style: {
            label: 'data(label)',
            'background-color': '#4a5068',
            color: '#1a1f36',
            'font-size': 11,
            'text-valign': 'bottom',
            'text-margin-y': 4,
            'text-wrap': 'ellipsis',
            'text-max-width': '220px',
            width: 26,
            height: 26,
          },
        },
        ...Object.entries(COLOURS).map(([side, colour]) => ({ selector: `node[side = "${side}"]`, style: { 'background-color': colour } })),
        { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#1a1f36' } },
        {
          selector: 'edge',
          style: { width: 2, 'line-color': '#4a5068', 'target-arrow-color': '#4a5068', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 10, color: '#4a5068', 'text-background-color': '#ffffff', 'text-background-opacity': 1 },
        },
      ],
      autoungrabify: true,
      boxSelectionEnabled: false,
      selectionType: 'single',
      wheelSensitivity: 0.3,
    });
    instance.on('tap', 'node', (event) => select.current(event.target.id() as string));
    cy.current = instance;
    return () => {
      cy.current = null;
      instance.destroy();
    };
  }, [nodes, edges]);

  useEffect(() => {
    const instance = cy.current;
    if (!instance) return;
    instance.nodes(':selected').unselect();
    if (selected) instance.getElementById(selected).select();
  }, [selected, nodes, edges]);

  function onKeyDown(event: React.KeyboardEvent) {
    if (nodes.length === 0) return;
    const order = [...nodes].sort((a, b) => a.depth - b.depth);
    const at = order.findIndex((n) => n.id === selected);
    let next: number | undefined;
    if (event.key === 'ArrowRight' || event.key === 'ArrowDown') next = at < 0 ? 0 : Math.min(order.length - 1, at + 1);
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') next = at < 0 ? 0 : Math.max(0, at - 1);
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = order.length - 1;
    const target = next === undefined ? undefined : order[next];
    if (!target) return;
    event.preventDefault();
    onSelect(target.id);
  }

  const current = nodes.find((n) => n.id === selected);
  return (
    <div
      ref={container}
      className="lineage-graph"
      role="application"
      aria-roledescription="lineage graph"
      aria-label={`Lineage graph: ${nodes.length} items, ${edges.length} links. Arrow keys move between items${current ? `; selected ${current.id} (${describeDepth(current.depth)})` : ''}.`}
      tabIndex={0}
      onKeyDown={onKeyDown}
      data-testid="lineage-graph"
    />
  );
}
