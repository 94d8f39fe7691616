import { describe, expect, it } from 'vitest';
import { isRunLine, percentDone, type ProgressLine } from './audit';

const progress = (blocksVerified: number, target: number | null): ProgressLine => ({ type: 'progress', runId: 'r', node: 'observer', phase: 'blocks', blocksVerified, transactions: 0, target });

describe('chain run progress', () => {
  it('counts blocks 0..target as target + 1, whole percents, never past 100', () => {
    expect(percentDone(progress(0, 3))).toBe(0);
    expect(percentDone(progress(1, 3))).toBe(25);
    expect(percentDone(progress(2, 2))).toBe(66);
    expect(percentDone(progress(3, 2))).toBe(100);
    expect(percentDone(progress(9, 2))).toBe(100);
    expect(percentDone(progress(0, null))).toBe(0);
  });

  it('is 100 at the verdict, whatever it says', () => {
    expect(percentDone({ type: 'verdict', runId: 'r', node: 'observer', outcome: 'failed', ok: false, target: 9, blocksVerified: 2, firstFailure: null, error: null })).toBe(100);
  });

  it('knows the lines it can show', () => {
    expect(isRunLine({ type: 'progress', blocksVerified: 1 })).toBe(true);
    expect(isRunLine({ type: 'verdict', blocksVerified: 1 })).toBe(true);
    expect(isRunLine({ type: 'other', blocksVerified: 1 })).toBe(false);
    expect(isRunLine({ type: 'progress' })).toBe(false);
    expect(isRunLine(null)).toBe(false);
  });
});
