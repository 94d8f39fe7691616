import { type KeyboardEvent, useMemo, useRef, useState } from 'react';
import { formatMoney } from '../lib/money';

export interface TreeNode {
  readonly receivableId: string;
  readonly parentId: string | null;
  readonly children: readonly string[];
  readonly depth: number;
  readonly holder: string;
  readonly currency: string;
  readonly faceValue: string;
  readonly outstanding: string;
  readonly status: string;
  readonly encumbrance: { readonly kind: string; readonly financingId: string; readonly financier: string } | null;
  readonly frozen: { readonly by: string; readonly reason: string } | null;
}

interface Visible {
  readonly node: TreeNode;
  readonly level: number;
  readonly hasChildren: boolean;
}

/** The nodes of the tree in display order (depth first, children in split order), with those under a collapsed node left out. */
export function visibleNodes(rootId: string, nodes: readonly TreeNode[], collapsed: ReadonlySet<string>): Visible[] {
  const byId = new Map(nodes.map((n) => [n.receivableId, n]));
  const out: Visible[] = [];
  const walk = (id: string, level: number) => {
    const node = byId.get(id);
    if (!node) return;
    const kids = node.children.filter((c) => byId.has(c));
    out.push({ node, level, hasChildren: kids.length > 0 });
    if (!collapsed.has(id)) for (const c of kids) walk(c, level + 1);
  };
  walk(rootId, 1);
  return out;
}

/**
 * A receivable's certificate tree as a WAI-ARIA tree view: one treeitem per
 * certificate (aria-level, aria-expanded on split ones), a roving tab stop,
 * ↑/↓ to move, → to open or go to the first child, ← to close or go to the
 * parent, Home/End, Enter or Space to open/close.
 */
export function CertificateTree({ rootId, nodes, label }: { readonly rootId: string; readonly nodes: readonly TreeNode[]; readonly label: string }) {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [active, setActive] = useState(rootId);
  const refs = useRef(new Map<string, HTMLLIElement>());
  const shown = useMemo(() => visibleNodes(rootId, nodes, collapsed), [rootId, nodes, collapsed]);
  const byId = useMemo(() => new Map(nodes.map((n) => [n.receivableId, n])), [nodes]);
  const current = shown.some((v) => v.node.receivableId === active) ? active : rootId;

  const focus = (id: string) => {
    setActive(id);
    refs.current.get(id)?.focus();
  };
  const toggle = (id: string, open?: boolean) =>
    setCollapsed((prev) => {
      const next = new Set(prev);
      const willOpen = open ?? next.has(id);
      if (willOpen) next.delete(id);
      else next.add(id);
      return next;
    });

  function onKeyDown(event: KeyboardEvent<HTMLLIElement>, v: Visible) {
    const index = shown.findIndex((s) => s.node.receivableId === v.node.receivableId);
    const id = v.node.receivableId;
    const open = v.hasChildren && !collapsed.has(id);
    let handled = true;
    switch (event.key) {
      case 'ArrowDown':
        if (index + 1 < shown.length) focus(shown[index + 1].node.receivableId);
        break;
      case 'ArrowUp':
        if (index > 0) focus(shown[index - 1].node.receivableId);
        break;
      case 'ArrowRight':
        if (v.hasChildren && !open) toggle(id, true);
        else if (open) focus(shown[index + 1].node.receivableId);
        break;
      case 'ArrowLeft':
        if (open) toggle(id, false);
        else if (v.node.parentId && byId.has(v.node.parentId)) focus(v.node.parentId);
        break;
      case 'Home':
        focus(shown[0].node.receivableId);
        break;
      case 'End':
        focus(shown[shown.length - 1].node.receivableId);
        break;
      case 'Enter':
      case ' ':
        if (v.hasChildren) toggle(id);
        break;
      default:
        handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  const render = (id: string, level: number, setSize: number, position: number) => {
    const v = shown.find((s) => s.node.receivableId === id);
    if (!v) return null;
    const n = v.node;
    const open = v.hasChildren && !collapsed.has(id);
    const kids = n.children.filter((c) => byId.has(c));
    const labelId = `tree-${rootId}-${id}`;
    return (
      <li
        key={id}
        role="treeitem"
        aria-level={level}
        aria-setsize={setSize}
        aria-posinset={position}
        aria-expanded={v.hasChildren ? open : undefined}
        aria-labelledby={labelId}
        aria-selected={current === id}
        tabIndex={current === id ? 0 : -1}
        ref={(el) => {
          if (el) refs.current.set(id, el);
          else refs.current.delete(id);
        }}
        onKeyDown={(e) => onKeyDown(e, v)}
        onFocus={(e) => {
          if (e.target === e.currentTarget) setActive(id);
        }}
        className="tree-item"
      >
        <div
          className="tree-row"
          onClick={(e) => {
            e.stopPropagation();
            focus(id);
            if (v.hasChildren) toggle(id);
          }}
        >
          <span className="tree-twisty" aria-hidden="true">
            {v.hasChildren ? (open ? '▾' : '▸') : '•'}
          </span>
          <span id={labelId} className="tree-label">
            <strong>{id}</strong> — holder {n.holder}, {formatMoney(n.faceValue, n.currency)}, {n.status}, {n.encumbrance ? `locked (${n.encumbrance.kind} ${n.encumbrance.financingId} by ${n.encumbrance.financier})` : 'unlocked'}, {n.frozen ? `frozen by ${n.frozen.by}: ${n.frozen.reason}` : 'not frozen'}
          </span>
        </div>
        {open && (
          <ul role="group" className="tree-group">
            {kids.map((c, i) => render(c, level + 1, kids.length, i + 1))}
          </ul>
        )}
      </li>
    );
  };

  return (
    <ul role="tree" aria-label={label} className="tree">
      {render(rootId, 1, 1, 1)}
    </ul>
  );
}
