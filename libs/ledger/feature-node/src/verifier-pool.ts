import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { nodeVerify, type Verifier } from '@alliance/protocol';

export interface VerifyItem {
  readonly algorithm: string;
  readonly publicKey: Uint8Array;
  readonly domain: string;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/** @internal the messages between the pool and its threads */
export interface VerifyRequest {
  readonly id: number;
  readonly items: readonly VerifyItem[];
}
/** @internal */
export interface VerifyResponse {
  readonly id: number;
  readonly results: Uint8Array;
}

export interface VerifierPoolOptions {
  /** Verification threads; 0 verifies on the calling thread. Default: cores − 1, at least 1, at most 4. */
  readonly threads?: number;
  /** Most items per message to a thread (default 256). */
  readonly maxBatch?: number;
  readonly logger?: (level: 'warn' | 'error', message: string) => void;
}

interface Waiting {
  readonly items: VerifyItem[];
  readonly resolve: (results: boolean[]) => void;
  readonly reject: (error: unknown) => void;
}

interface Thread {
  worker: Worker;
  readonly inflight: Map<number, Waiting>;
  load: number;
}

/**
 * Signature verification on worker threads, so the node's event loop keeps
 * parsing, ordering and committing while other cores verify. Requests made in
 * the same turn of the event loop are coalesced into one message per thread
 * (single submissions from many clients batch up by themselves). The verdict
 * is `nodeVerify`'s, bit for bit: the threads run the same function; when a
 * thread dies, its requests are verified on the calling thread instead, so a
 * crash costs speed, never a verdict.
 */
export class VerifierPool {
  private readonly threads: Thread[] = [];
  private readonly maxBatch: number;
  private queue: Waiting[] = [];
  private queued = 0;
  private flushScheduled = false;
  private nextId = 1;
  private closed = false;
  private readonly log: NonNullable<VerifierPoolOptions['logger']>;

  private static process: VerifierPool | undefined;

  /**
   * The process's pool (created on first use, threads unref'd so they never
   * keep a process alive): several nodes in one process (`npm start`) share it.
   */
  static shared(options?: VerifierPoolOptions): VerifierPool {
    VerifierPool.process ??= new VerifierPool(options);
    return VerifierPool.process;
  }

  constructor(options: VerifierPoolOptions = {}) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.log = options.logger ?? (() => undefined);
    const threads = options.threads ?? Math.min(4, Math.max(1, availableParallelism() - 1));
    for (let i = 0; i < threads; i++) {
      const thread = this.spawn();
      if (!thread) break;
      this.threads.push(thread);
    }
  }

  get size(): number {
    return this.threads.length;
  }

  /** The verdicts of `items`, in order (true = the signature verifies). Never rejects for a bad signature. */
  verify(items: readonly VerifyItem[]): Promise<boolean[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (this.threads.length === 0 || this.closed) return Promise.resolve(verifyInline(items));
    return new Promise((resolve, reject) => {
      this.queue.push({ items: [...items], resolve, reject });
      this.queued += items.length;
      if (this.queued >= this.maxBatch) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** One signature; same verdict as `nodeVerify`. */
  async verifyOne(item: VerifyItem): Promise<boolean> {
    return (await this.verify([item]))[0];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    await Promise.all(this.threads.map((t) => t.worker.terminate().catch(() => undefined)));
    this.threads.length = 0;
  }

  private flush(): void {
    this.flushScheduled = false;
    const waiting = this.queue;
    this.queue = [];
    this.queued = 0;
    if (waiting.length === 0) return;
    if (this.threads.length === 0 || this.closed) {
      for (const w of waiting) w.resolve(verifyInline(w.items));
      return;
    }
    // Least-loaded thread per request; big requests are split across threads.
    for (const w of waiting) {
      if (w.items.length <= this.maxBatch) {
        this.send(this.leastLoaded(), w);
        continue;
      }
      const parts: Promise<boolean[]>[] = [];
      for (let i = 0; i < w.items.length; i += this.maxBatch) {
        const items = w.items.slice(i, i + this.maxBatch);
        parts.push(new Promise((resolve, reject) => this.send(this.leastLoaded(), { items, resolve, reject })));
      }
      Promise.all(parts).then((r) => w.resolve(r.flat()), w.reject);
    }
  }

  private leastLoaded(): Thread {
    let best = this.threads[0];
    for (const t of this.threads) if (t.load < best.load) best = t;
    return best;
  }

  private send(thread: Thread, waiting: Waiting): void {
    const id = this.nextId++;
    thread.inflight.set(id, waiting);
    thread.load += waiting.items.length;
    const request: VerifyRequest = { id, items: waiting.items };
    thread.worker.postMessage(request);
  }

  private spawn(): Thread | undefined {
    let worker: Worker;
    try {
      worker = startWorker();
    } catch (error) {
      this.log('warn', `signature verification threads unavailable (${(error as Error).message}); verifying on the main thread`);
      return undefined;
    }
    const thread: Thread = { worker, inflight: new Map(), load: 0 };
    worker.unref();
    worker.on('message', (response: VerifyResponse) => {
      const waiting = thread.inflight.get(response.id);
      if (!waiting) return;
      thread.inflight.delete(response.id);
      thread.load -= waiting.items.length;
      waiting.resolve(Array.from(response.results, (r) => r === 1));
    });
    const fail = (reason: string) => {
      // Whatever was in flight is verified here instead; a fresh thread takes the place of the dead one.
      for (const waiting of thread.inflight.values()) waiting.resolve(verifyInline(waiting.items));
      thread.inflight.clear();
      thread.load = 0;
      const index = this.threads.indexOf(thread);
      if (index < 0 || this.closed) return;
      this.log('error', `a signature verification thread stopped (${reason}); starting another`);
      const replacement = this.spawn();
      if (replacement) this.threads[index] = replacement;
      else this.threads.splice(index, 1);
    };
    worker.on('error', (error) => fail(error.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    return thread;
  }
}

function verifyInline(items: readonly VerifyItem[], verifier: Verifier = nodeVerify): boolean[] {
  return items.map((i) => verifier(i.algorithm, i.publicKey, i.domain, i.message, i.signature));
}

// Built code runs verify-worker.js; tests run the TypeScript source through SWC's register hook.
function startWorker(): Worker {
  const js = join(__dirname, 'verify-worker.js');
  if (existsSync(js)) return new Worker(js);
  const ts = join(__dirname, 'verify-worker.ts');
  return new Worker(ts, { execArgv: ['--require', '@swc-node/register'], env: { ...process.env, SWC_NODE_PROJECT: process.env.SWC_NODE_PROJECT ?? join(__dirname, '../../../../tsconfig.json') } });
}
