import { describe, expect, it } from 'vitest';
import { ChainProgressReporter } from './progress';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, columns: 120, write: (t: string) => writes.push(t) };
}

const at = (blocks: number) => ({ mode: 'full' as const, blocks, transactions: blocks * 2, targetBlock: 99, lastBlock: blocks - 1 });

describe('ChainProgressReporter', () => {
  it('redraws one bar in place on a terminal, at most ten times a second, and ends the line', () => {
    let now = 0;
    const s = stream(true);
    const reporter = new ChainProgressReporter(s, { now: () => now });
    for (let b = 1; b <= 100; b++) {
      now += 5; // 200 blocks/s
      reporter.update(at(b));
    }
    reporter.finish();
    expect(s.writes.length).toBeLessThan(10);
    expect(s.writes.every((w, i) => (i === s.writes.length - 1 ? w === '\n' : w.startsWith('\r\x1b[2K')))).toBe(true);
    expect(s.writes[s.writes.length - 2]).toMatch(/\[#+\] 100% 100\/100 blocks, 200 tx · 200 blocks\/s \(full\)/);
  });

  it('writes plain periodic lines elsewhere (no carriage returns)', () => {
    let now = 0;
    const s = stream(false);
    const reporter = new ChainProgressReporter(s, { now: () => now, intervalMs: 100 });
    for (let b = 1; b <= 100; b++) {
      now += 5;
      reporter.update(at(b));
    }
    reporter.finish();
    expect(s.writes.length).toBeGreaterThanOrEqual(5);
    expect(s.writes.length).toBeLessThanOrEqual(7);
    expect(s.writes.join('')).not.toContain('\r');
    expect(s.writes[0]).toMatch(/^verify chain: 1\/100 blocks, 2 tx \(1%\)/);
    expect(s.writes[s.writes.length - 1]).toMatch(/^verify chain: 100\/100 blocks, 200 tx \(100%\), 200 blocks\/s\n$/);
  });
});
