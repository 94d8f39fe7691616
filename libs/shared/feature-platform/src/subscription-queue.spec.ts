import { describe, expect, it } from 'vitest';
import { SubscriptionQueue } from './subscription-queue';

describe('SubscriptionQueue', () => {
  it('delivers pushed items in order, to a waiting consumer too, then ends after what is queued', async () => {
    const queue = new SubscriptionQueue<number>({ limit: 10 });
    const waiting = queue.next();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    queue.end();
    expect(await waiting).toEqual({ value: 1, done: false });
    const rest: number[] = [];
    for await (const n of queue) rest.push(n);
    expect(rest).toEqual([2, 3]);
  });

  it('return() resolves a pending next() at once and releases the producer exactly once', async () => {
    let stops = 0;
    const queue = new SubscriptionQueue<number>({ limit: 10, onStop: () => stops++ });
    const pending = queue.next();
    await queue.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    await queue.return();
    queue.push(1);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(stops).toBe(1);
  });

  it('fails the consumer with the producer’s error, waiting or not', async () => {
    const waitingQueue = new SubscriptionQueue<number>({ limit: 10 });
    const pending = waitingQueue.next();
    waitingQueue.fail(new Error('upstream lost'));
    await expect(pending).rejects.toThrow('upstream lost');

    const queue = new SubscriptionQueue<number>({ limit: 10 });
    queue.push(1);
    queue.fail(new Error('upstream lost'));
    await expect(queue.next()).rejects.toThrow('upstream lost');
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('fails with COMMON.SUBSCRIBER_TOO_SLOW instead of growing past its limit', async () => {
    let stopped = false;
    const queue = new SubscriptionQueue<number>({ limit: 2, onStop: () => (stopped = true) });
    queue.push(1);
    queue.push(2);
    queue.push(3);
    await expect(queue.next()).rejects.toMatchObject({ code: 'COMMON.SUBSCRIBER_TOO_SLOW' });
    expect(stopped).toBe(true);
  });
});
