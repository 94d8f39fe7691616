import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './backoff';

describe('backoffDelay', () => {
  const options = { initialMs: 100, maxMs: 5_000 };

  it('doubles from initialMs and stops at maxMs (no jitter)', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelay(attempt, { ...options, jitter: 0 }));
    expect(delays).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
  });

  it('takes the random part off the top: delays stay within [base·(1−jitter), base]', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(200);
    expect(backoffDelay(3, options, () => 1)).toBe(400);
    expect(backoffDelay(3, options, () => 0.5)).toBe(300);
    for (let attempt = 1; attempt <= 40; attempt += 1) {
      const delay = backoffDelay(attempt, options);
      expect(delay).toBeGreaterThanOrEqual(Math.min(5_000, 100 * 2 ** (attempt - 1)) / 2);
      expect(delay).toBeLessThanOrEqual(5_000);
    }
  });

  it('spreads concurrent retries apart (jitter is random, not fixed)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(6, options)));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('never overflows for huge attempt numbers', () => {
    expect(backoffDelay(1_000_000, { ...options, jitter: 0 })).toBe(5_000);
    expect(backoffDelay(1_000_000, { initialMs: 1, maxMs: 10, multiplier: 10, jitter: 0 })).toBe(10);
  });

  it('honours a custom multiplier, and clamps a misbehaving random source', () => {
    expect(backoffDelay(3, { initialMs: 10, maxMs: 1_000, multiplier: 3, jitter: 0 })).toBe(90);
    expect(backoffDelay(1, { ...options, jitter: 1 }, () => 7)).toBe(100);
    expect(backoffDelay(1, { ...options, jitter: 1 }, () => -3)).toBe(0);
  });

  it('rejects nonsense', () => {
    expect(() => backoffDelay(0, options)).toThrow(RangeError);
    expect(() => backoffDelay(1.5, options)).toThrow(RangeError);
    expect(() => backoffDelay(1, { initialMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => backoffDelay(1, { ...options, multiplier: 0.5 })).toThrow(RangeError);
    expect(() => backoffDelay(1, { ...options, jitter: 2 })).toThrow(RangeError);
  });
});

describe('sleep', () => {
  it('ends early when aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const sleeping = sleep(10_000, controller.signal);
    controller.abort();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
