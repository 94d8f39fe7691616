import type { BlockHeader, Envelope, HeaderSignature, Receipt, ResultEntry, StateRow, StoredBlockColumns, StoredTransactionRow } from '@alliance/protocol';
import { compareUtf8 } from './bytes';
import { AllianceApiError, SdkErrorCode } from './errors';

/**
 * A client of one Alliance base URL (the gateway, or a ledger node). Uses
 * `fetch` only, so it runs in browsers, Node ≥ 18, Deno and workers. Every
 * error answer becomes an `AllianceApiError` carrying the problem+json
 * `code`, `status` and `detail`; transport failures too (`SDK.NETWORK_ERROR`,
 * `SDK.TIMEOUT`, status 0).
 */

// ------------------------------------------------------------ API shapes

export type TransactionStatus =
  | { readonly status: 'pending'; readonly transactionId: string }
  | {
      readonly status: 'committed';
      readonly transactionId: string;
      readonly blockNumber: number;
      readonly leafIndex: number;
      readonly code: 'VALID';
      readonly certified: boolean;
      readonly receipt?: Receipt;
    }
  | {
      readonly status: 'invalid';
      readonly transactionId: string;
      readonly blockNumber: number;
      readonly leafIndex: number;
      readonly code: string;
      readonly detail: string | null;
      readonly certified: boolean;
      readonly receipt?: Receipt;
    };

export type CommittedTransaction = Exclude<TransactionStatus, { status: 'pending' }> & { readonly receipt: Receipt };

export interface SubmitResult {
  readonly transactionId: string;
  readonly status: TransactionStatus['status'];
}

export interface BatchSubmitResult {
  readonly transactionIds: readonly string[];
  readonly status: 'pending';
}

/** GET /ledger/v1/blocks/{n} (libs/ledger/feature-node/src/ledger-queries.ts). */
export interface BlockView {
  readonly blockNumber: number;
  readonly headerHash: string;
  readonly header: BlockHeader;
  /** The node's own claim; verifiers recompute it. */
  readonly certified: boolean;
  readonly signatures: readonly HeaderSignature[];
  readonly transactions: ReadonlyArray<{ readonly transactionId: string; readonly leafIndex: number; readonly code: string }>;
  /** The block row's columns no hash covers, as stored (docs/protocol.md §14.2); absent on older nodes. */
  readonly stored?: StoredBlockColumns;
}

export interface StatePage {
  /** docs/protocol.md §14.1. */
  readonly items: readonly StateRow[];
  /** Path of the next page, or null after the last key. */
  readonly next: string | null;
}

export interface BlockPage {
  readonly items: readonly BlockView[];
  /** Path of the next page, or null at the head. */
  readonly next: string | null;
}

export interface CheckpointView {
  readonly blockNumber: number;
  readonly treeSize: number;
  readonly rootHash: string;
  /** The C2SP signed note. */
  readonly note: string;
  readonly signedBy: readonly string[];
}

export interface ConsistencyProofView {
  readonly fromSize: number;
  readonly toSize: number;
  /** Lower-case hex hashes. */
  readonly proof: readonly string[];
}

/**
 * GET /ledger/v1/blocks/{n}/transactions (libs/ledger/feature-node/src/ledger-queries.ts
 * `blockTransactions`): a block's records and result entries exactly as
 * stored, which full chain verification needs to recompute dataRoot,
 * resultsRoot and the log without trusting the node.
 */
export interface BlockTransactionsView {
  readonly blockNumber: number;
  /** The rows as stored (docs/protocol.md §14.1); a result given as an object is accepted too. */
  readonly transactions: ReadonlyArray<Omit<StoredTransactionRow, 'result'> & { readonly result: string | ResultEntry }>;
}

// ------------------------------------------------------------ client

export type FetchLike = (input: string, init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<ResponseLike>;

export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface AllianceClientOptions {
  /** e.g. `http://localhost:3000` (gateway) or a ledger node; a trailing `/ledger/v1` is accepted too. */
  readonly baseUrl: string;
  /** Defaults to globalThis.fetch. */
  readonly fetch?: FetchLike;
  /** Sent with every request (e.g. Authorization). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per request; default 30 s. `submit(…, { wait: true })` adds the commit wait. */
  readonly timeoutMs?: number;
  /** Sends `Authorization: Bearer <accessToken()>` with every request (a `Session` of `signIn` fits); it replaces an Authorization in `headers`. */
  readonly auth?: { accessToken(): Promise<string> };
}

export interface WaitOptions {
  /** Poll interval, growing to at most 1 s; default 200 ms. */
  readonly pollIntervalMs?: number;
  readonly signal?: AbortSignal;
}

const PROBLEM_TYPES = /^application\/(problem\+)?json\b/i;
const TX_ID = /^[0-9a-f]{64}$/;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function integer(value: number, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new AllianceApiError(SdkErrorCode.INVALID_ARGUMENT, 0, `${name} must be an integer >= ${min}`);
  return value;
}

export class AllianceClient {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly auth: { accessToken(): Promise<string> } | undefined;

  constructor(options: AllianceClientOptions | string) {
    const o = typeof options === 'string' ? { baseUrl: options } : options;
    let base = String(o.baseUrl ?? '').trim();
    if (!/^https?:\/\/[^/]/i.test(base)) throw new AllianceApiError(SdkErrorCode.INVALID_ARGUMENT, 0, `baseUrl must be an http(s) URL, got "${base}"`);
    base = base.replace(/\/+$/, '').replace(/\/ledger\/v1$/, '');
    this.baseUrl = base;
    const f = o.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
    if (typeof f !== 'function') throw new AllianceApiError(SdkErrorCode.INVALID_ARGUMENT, 0, 'no fetch implementation: pass options.fetch');
    // Unbound window.fetch throws "Illegal invocation" in browsers.
    this.fetchImpl = o.fetch ?? ((input, init) => (globalThis.fetch as unknown as FetchLike)(input, init));
    this.headers = { ...(o.headers ?? {}) };
    this.timeoutMs = o.timeoutMs ?? 30_000;
    if (o.auth !== undefined && typeof o.auth?.accessToken !== 'function') throw new AllianceApiError(SdkErrorCode.INVALID_ARGUMENT, 0, 'auth must have an accessToken() method');
    this.auth = o.auth;
  }

  // ---------------------------------------------------------------- transactions

  /**
   * POST /ledger/v1/transactions. With `wait: true` the node holds the request
   * until the transaction's block is certified and answers with the receipt
   * (bounded by the node's LEDGER_COMMIT_WAIT_MS; `LEDGER.COMMIT_TIMEOUT` after).
   */
  async submit(envelope: Envelope, options?: { readonly wait?: false }): Promise<SubmitResult>;
  async submit(envelope: Envelope, options: { readonly wait: true; readonly timeoutMs?: number }): Promise<CommittedTransaction>;
  async submit(envelope: Envelope, options: { readonly wait?: boolean; readonly timeoutMs?: number } = {}): Promise<SubmitResult | CommittedTransaction> {
    const path = options.wait ? '/ledger/v1/transactions?wait=commit' : '/ledger/v1/transactions';
    const timeout = options.wait ? (options.timeoutMs ?? this.timeoutMs + 60_000) : this.timeoutMs;
    return this.request<SubmitResult | CommittedTransaction>('POST', path, { body: envelope, timeoutMs: timeout });
  }

  /** POST /ledger/v1/transactions/batch: all are checked before any is ordered; one bad envelope refuses the batch. */
  async submitBatch(envelopes: readonly Envelope[]): Promise<BatchSubmitResult> {
    if (!Array.isArray(envelopes) || envelopes.length === 0) throw new AllianceApiError(SdkErrorCode.INVALID_ARGUMENT, 0, 'submitBatch needs at least one envelope');
    return this.request<BatchSubmitResult>('POST', '/ledger/v1/transactions/batch', { body: { transactions: envelopes } });
  }

  /** GET /ledger/v1/transactions/{id}: pending, committed or invalid; with the receipt once certified. */
  async transaction(transactionId: string): Promise<TransactionStatus> {
    if (typeof transactionId !== 'string' || !TX_ID.test(transactionId)) {
      throw new AllianceApiError(SdkErrorCode.INVALID_ARGUMENT, 0, 'a transaction id is 64 lower-case hex digits');
    }
    return this.request<TransactionStatus>('GET', `/ledger/v1/transactions/${transactionId}`);
  }

  /**
   * Polls until the transaction is in a certified block and its receipt is
   * served (committed or invalid — check `code`). A node that has not seen
   * the transaction yet (another node behind a load balancer) counts as
   * pending. Throws `SDK.COMMIT_TIMEOUT` after `timeoutMs`.
   */
  async waitForCommit(transactionId: string, timeoutMs = 60_000, options: WaitOptions = {}): Promise<CommittedTransaction> {
    const deadline = Date.now() + timeoutMs;
    let interval = options.pollIntervalMs ?? 200;
    let last: TransactionStatus | null = null;
    for (;;) {
      try {
        last = await this.transaction(transactionId);
        if (last.status !== 'pending' && last.certified && last.receipt) return last as CommittedTransaction;
      } catch (error) {
        const notYet = error instanceof AllianceApiError && (error.code === 'LEDGER.TRANSACTION_NOT_FOUND' || error.code === 'LEDGER.NOT_CERTIFIED');
        if (!notYet) throw error;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const state = last === null ? 'not known to the node' : last.status === 'pending' ? 'pending' : `${last.status} in block ${last.blockNumber}, not yet certified`;
        throw new AllianceApiError(SdkErrorCode.COMMIT_TIMEOUT, 0, `transaction ${transactionId} is ${state} after ${timeoutMs} ms`);
      }
      await sleep(Math.min(interval, left), options.signal);
      interval = Math.min(1_000, Math.ceil(interval * 1.5));
    }
  }

  // ---------------------------------------------------------------- blocks

  /** GET /ledger/v1/blocks/{n}. */
  async block(blockNumber: number): Promise<BlockView> {
    return this.request<BlockView>('GET', `/ledger/v1/blocks/${integer(blockNumber, 'blockNumber', 0)}`);
  }

  /** One page of GET /ledger/v1/blocks?from=&limit= (limit ≤ 500). */
  async blockPage(from = 0, limit = 100): Promise<BlockPage> {
    const page = await this.request<BlockPage>('GET', `/ledger/v1/blocks?from=${integer(from, 'from', 0)}&limit=${integer(limit, 'limit', 1)}`);
    if (!page || !Array.isArray(page.items)) throw new AllianceApiError(SdkErrorCode.BAD_RESPONSE, 200, 'GET /ledger/v1/blocks did not return { items, next }');
    return page;
  }

  /**
   * Every block from `from` to the head, in order, fetching `limit` per
   * request and following `next` until the node says there are no more.
   * Blocks committed while iterating are included.
   */
  async *blocks(from = 0, limit = 100, options: { readonly signal?: AbortSignal } = {}): AsyncGenerator<BlockView, void, undefined> {
    let cursor: number | null = integer(from, 'from', 0);
    while (cursor !== null) {
      if (options.signal?.aborted) throw options.signal.reason;
      const page = await this.blockPage(cursor, limit);
      for (const block of page.items) yield block;
      const next = nextFrom(page.next);
      if (next === null || page.items.length === 0) break;
      if (next <= cursor) throw new AllianceApiError(SdkErrorCode.BAD_RESPONSE, 200, `the next page (from=${next}) does not advance past from=${cursor}`);
      cursor = next;
    }
  }

  /** GET /ledger/v1/blocks/{n}/transactions; 404 COMMON.ROUTE_NOT_FOUND on nodes older than the route. */
  async blockTransactions(blockNumber: number): Promise<BlockTransactionsView> {
    return this.request<BlockTransactionsView>('GET', `/ledger/v1/blocks/${integer(blockNumber, 'blockNumber', 0)}/transactions`);
  }

  // ---------------------------------------------------------------- world state

  /** One page of GET /ledger/v1/state?after=&limit= (limit ≤ 500): rows in byte order of the keys after `after`. */
  async statePage(after: string | null = null, limit = 100): Promise<StatePage> {
    const query = `${after === null ? '' : `after=${encodeURIComponent(after)}&`}limit=${integer(limit, 'limit', 1)}`;
    const page = await this.request<StatePage>('GET', `/ledger/v1/state?${query}`);
    if (!page || !Array.isArray(page.items)) throw new AllianceApiError(SdkErrorCode.BAD_RESPONSE, 200, 'GET /ledger/v1/state did not return { items, next }');
    return page;
  }

  /** Every state row, in key order, following `next`. */
  async *state(limit = 100, options: { readonly signal?: AbortSignal } = {}): AsyncGenerator<StateRow, void, undefined> {
    let cursor: string | null = null;
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason;
      const page: StatePage = await this.statePage(cursor, limit);
      for (const row of page.items) yield row;
      const next = queryParam(page.next, 'after');
      if (next === null || page.items.length === 0) return;
      if (cursor !== null && compareUtf8(next, cursor) <= 0) throw new AllianceApiError(SdkErrorCode.BAD_RESPONSE, 200, `the next state page (after=${next}) does not advance past after=${cursor}`);
      cursor = next;
    }
  }

  // ---------------------------------------------------------------- checkpoints and proofs

  /** GET /ledger/v1/checkpoints/latest (JSON): the newest certified checkpoint. */
  async latestCheckpoint(): Promise<CheckpointView> {
    return this.request<CheckpointView>('GET', '/ledger/v1/checkpoints/latest');
  }

  /** GET /ledger/v1/checkpoints/latest as the C2SP signed note text. */
  async latestCheckpointNote(): Promise<string> {
    return this.request<string>('GET', '/ledger/v1/checkpoints/latest', { accept: 'text/plain', text: true });
  }

  /** GET /ledger/v1/proofs/consistency?from=&to= (RFC 9162; 1 ≤ from ≤ to ≤ current log size). */
  async consistencyProof(fromSize: number, toSize: number): Promise<ConsistencyProofView> {
    const view = await this.request<ConsistencyProofView>('GET', `/ledger/v1/proofs/consistency?from=${integer(fromSize, 'fromSize', 1)}&to=${integer(toSize, 'toSize', 1)}`);
    if (!view || !Array.isArray(view.proof)) throw new AllianceApiError(SdkErrorCode.BAD_RESPONSE, 200, 'GET /ledger/v1/proofs/consistency did not return { proof }');
    return view;
  }

  // ---------------------------------------------------------------- transport

  /**
   * A GET that failed in transport (a connection reset, e.g. a keep-alive
   * socket the server closed just as the request went out) is sent again, up
   * to twice: reads are idempotent. A POST is never repeated here — the caller
   * decides (a resubmitted envelope is refused as a duplicate, never applied twice).
   */
  private async request<T>(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce<T>(method, path, options);
      } catch (error) {
        if (method !== 'GET' || attempt >= GET_ATTEMPTS || !(error instanceof AllianceApiError) || error.code !== SdkErrorCode.NETWORK_ERROR) throw error;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  private async requestOnce<T>(method: 'GET' | 'POST', path: string, options: RequestOptions): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json, application/problem+json', ...this.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (this.auth) {
      for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
      headers['authorization'] = `Bearer ${await this.auth.accessToken()}`;
    }
    const controller = new AbortController();
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response: ResponseLike;
    let text: string;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal: controller.signal,
      });
      text = await response.text();
    } catch (error) {
      if (controller.signal.aborted) throw new AllianceApiError(SdkErrorCode.TIMEOUT, 0, `no answer from ${method} ${url} within ${timeoutMs} ms`, { method, url, cause: error });
      throw new AllianceApiError(SdkErrorCode.NETWORK_ERROR, 0, `${method} ${url} failed: ${describe(error)}`, { method, url, cause: error });
    } finally {
      clearTimeout(timer);
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (!response.ok) throw problemError(response.status, contentType, text, method, url, response.headers.get('x-correlation-id') ?? undefined);
    if (options.text) return text as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new AllianceApiError(SdkErrorCode.BAD_RESPONSE, response.status, `${method} ${url} did not answer JSON (${contentType || 'no content type'})`, { method, url, cause: error });
    }
  }
}

interface RequestOptions {
  readonly body?: unknown;
  readonly timeoutMs?: number;
  readonly accept?: string;
  readonly text?: boolean;
}

const GET_ATTEMPTS = 3;

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const inner = cause instanceof Error ? ` (${(cause as { code?: string }).code ?? cause.message})` : '';
    return `${error.message}${inner}`;
  }
  return String(error);
}

/** A query parameter of a `next` link; null when there is no next page. */
function queryParam(next: unknown, name: string): string | null {
  if (typeof next !== 'string' || next.length === 0) return null;
  const query = next.includes('?') ? next.slice(next.indexOf('?') + 1) : '';
  const value = new URLSearchParams(query).get(name);
  if (value === null) throw new AllianceApiError(SdkErrorCode.BAD_RESPONSE, 200, `cannot read "${name}" in the next link "${next}"`);
  return value;
}

function nextFrom(next: unknown): number | null {
  const from = queryParam(next, 'from');
  if (from === null) return null;
  if (!/^\d+$/.test(from)) throw new AllianceApiError(SdkErrorCode.BAD_RESPONSE, 200, `cannot read "from" in the next link "${next}"`);
  return Number(from);
}

/** Maps an error answer to AllianceApiError: problem+json fields when present, else SDK.HTTP_ERROR with the start of the body. */
export function problemError(status: number, contentType: string, body: string, method?: string, url?: string, correlationHeader?: string): AllianceApiError {
  let problem: Record<string, unknown> | null = null;
  if (PROBLEM_TYPES.test(contentType) || body.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) problem = parsed as Record<string, unknown>;
    } catch {
      problem = null;
    }
  }
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const code = str(problem?.['code']);
  if (problem && code) {
    const details = problem['details'];
    return new AllianceApiError(code, status, str(problem['detail']) ?? str(problem['title']) ?? code, {
      title: str(problem['title']),
      type: str(problem['type']),
      instance: str(problem['instance']),
      correlationId: str(problem['correlationId']) ?? correlationHeader,
      details: details && typeof details === 'object' && !Array.isArray(details) ? (details as Record<string, unknown>) : undefined,
      method,
      url,
    });
  }
  const snippet = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  const detail = str(problem?.['detail']) ?? str(problem?.['message']) ?? (snippet || 'no body');
  return new AllianceApiError(SdkErrorCode.HTTP_ERROR, status, `${method ?? ''} ${url ?? ''} answered ${status}: ${detail}`.trim(), { correlationId: correlationHeader, method, url });
}
