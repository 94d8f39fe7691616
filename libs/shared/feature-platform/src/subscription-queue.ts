import { AllianceError } from '@alliance/shared/util-errors';

export interface SubscriptionQueueOptions {
  /** Most items held for a consumer that does not keep up; beyond it the subscription fails (memory stays bounded). */
  readonly limit: number;
  /** Runs once when the consumer stops early or the queue fails: release the producer (unsubscribe upstream, remove listeners). */
  readonly onStop?: () => void;
}

/**
 * Turns pushed events (an upstream subscription, an event emitter) into the
 * async iterator a GraphQL subscription returns. Unlike an async generator,
 * `return()` takes effect at once, even while a `next()` waits for an event:
 * a client that leaves releases its producer immediately, not at the next
 * event.
 */
export class SubscriptionQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiting: Array<{ resolve(r: IteratorResult<T>): void; reject(e: unknown): void }> = [];
  private state: 'open' | 'ended' | 'failed' = 'open';
  private failure: unknown;
  private stopped = false;

  constructor(private readonly options: SubscriptionQueueOptions) {}

  push(item: T): void {
    if (this.state !== 'open') return;
    const waiter = this.waiting.shift();
    if (waiter) return waiter.resolve({ value: item, done: false });
    if (this.items.length >= this.options.limit) {
      this.fail(new AllianceError('COMMON.SUBSCRIBER_TOO_SLOW', 'rate-limited', `the subscriber fell more than ${this.options.limit} events behind; subscribe again (from where it stopped, where the field offers it)`));
      return;
    }
    this.items.push(item);
  }

  /** No more events: the consumer gets what is queued, then done. */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ended';
    for (const waiter of this.waiting.splice(0)) waiter.resolve({ value: undefined, done: true });
  }

  /** The subscription failed: queued events are dropped and the next `next()` rejects with `error`. */
  fail(error: unknown): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.failure = error;
    this.items.length = 0;
    const waiters = this.waiting.splice(0);
    if (waiters.length > 0) {
      this.failure = undefined;
      waiters[0].reject(error);
      for (const waiter of waiters.slice(1)) waiter.resolve({ value: undefined, done: true });
    }
    this.stop();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
    if (this.state === 'failed' && this.failure !== undefined) {
      const error = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.state !== 'open') return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    this.items.length = 0;
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.fail(error);
    return this.return();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.options.onStop?.();
  }
}
