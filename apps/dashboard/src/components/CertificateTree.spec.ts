import { describe, expect, it } from 'vitest';
import { type TreeNode, visibleNodes } from './CertificateTree';

const node = (receivableId: string, parentId: string | null, children: string[], depth: number): TreeNode => ({
  receivableId,
  parentId,
  children,
  depth,
  holder: 'org1',
  currency: 'EUR',
  faceValue: '100',
  outstanding: '100',
  status: children.length ? 'split' : 'confirmed',
  encumbrance: null,
  frozen: null,
});

// root → a, b; b → b1, b2 (the service answers root first, then by depth, not in display order)
const nodes = [node('root', null, ['a', 'b'], 0), node('b1', 'b', [], 2), node('a', 'root', [], 1), node('b', 'root', ['b1', 'b2'], 1), node('b2', 'b', [], 2)];

describe('certificate tree display order', () => {
  it('walks depth first in split order with ARIA levels from 1', () => {
    expect(visibleNodes('root', nodes, new Set()).map((v) => [v.node.receivableId, v.level, v.hasChildren])).toEqual([
      ['root', 1, true],
      ['a', 2, false],
      ['b', 2, true],
      ['b1', 3, false],
      ['b2', 3, false],
    ]);
  });

  it('leaves out what is under a collapsed node, and children the answer does not hold', () => {
    expect(visibleNodes('root', nodes, new Set(['b'])).map((v) => v.node.receivableId)).toEqual(['root', 'a', 'b']);
    expect(visibleNodes('root', nodes.filter((n) => n.receivableId !== 'b2'), new Set()).map((v) => v.node.receivableId)).toEqual(['root', 'a', 'b', 'b1']);
    expect(visibleNodes('missing', nodes, new Set())).toEqual([]);
  });
});
