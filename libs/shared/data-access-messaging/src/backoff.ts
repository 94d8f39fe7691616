export interface BackoffOptions {
  /** Delay before the second attempt. */
  readonly initialMs: number;
  /** Upper bound of any delay, jitter included. */
  readonly maxMs: number;
  /** Growth per attempt (default 2). */
  readonly multiplier?: number;
  /**
   * Fraction of the delay that is random (0..1, default 0.5): many consumers
   * retrying after one outage must not hit the recovering broker in lock-step.
   */
  readonly jitter?: number;
}

/**
 * Delay after failed attempt number `attempt` (1-based): exponential, capped,
 * with the random part taken off the top so the cap is never exceeded.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  const { initialMs, maxMs } = options;
  const multiplier = options.multiplier ?? 2;
  const jitter = options.jitter ?? 0.5;
  if (!(initialMs >= 0) || !(maxMs >= initialMs)) throw new RangeError('backoff needs 0 <= initialMs <= maxMs');
  if (!(multiplier >= 1)) throw new RangeError('backoff multiplier must be >= 1');
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError('backoff jitter must be within 0..1');
  // Math.min before the power would overflow to Infinity for large attempts.
  const exponent = Math.min(attempt - 1, 1_000);
  const base = Math.min(maxMs, initialMs * multiplier ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(base * (1 - jitter) + base * jitter * r);
}

export function withBackoffDefaults(options: Partial<BackoffOptions> | undefined, defaults: BackoffOptions): BackoffOptions {
  return { ...defaults, ...options };
}

/** Resolves after `ms`, or earlier when `signal` aborts; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
