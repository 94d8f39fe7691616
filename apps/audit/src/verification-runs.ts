// Whole-chain verification runs (docs/audit.md, Verification): the SDK's verifyChain against one node,
// progress streamed to every listener, one append-only row when it ends, an alert when it fails.
import { randomUUID } from 'node:crypto';
 
import { AllianceApiError, ChainFailureCode, type ChainProgress, type ChainVerification, verifyChain } from '@alliance/sdk';
import type { Pool } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { alertIdOf, type AlertStore } from './alerts-store';
import { type AuditNode, clientOf, type TrustAnchor } from './verification-nodes';

/** Blocks and state rows per request to the node, and requests in flight: what one run may cost a node. */
export const RUN_PAGE_SIZE = 100;
export const RUN_CONCURRENCY = 4;
/** At most one progress line per this many milliseconds (and one at the start and one per page). */
const PROGRESS_EVERY_MS = 250;

export interface ProgressLine {
  readonly type: 'progress';
  readonly runId: string;
  readonly node: string;
  readonly phase: 'starting' | 'blocks' | 'state';
  readonly mode: 'full' | 'headers' | null;
  readonly blocksVerified: number;
  readonly transactions: number;
  /** The node's latest checkpoint's block when the run began (what the run verifies up to), once known. */
  readonly target: number | null;
  readonly lastBlock: number | null;
  readonly stateRows: number | null;
  /** Set on the first line a request gets when it joined a run already going. */
  readonly joined?: true;
  readonly at: string;
}

export interface FirstFailure {
  /** The first failing block, or null when the failure is no one block's (an empty chain, an added state row of no block). */
  readonly blockNumber: number | null;
  readonly code: string;
  readonly detail: string;
}

export interface VerdictLine {
  readonly type: 'verdict';
  readonly runId: string;
  readonly node: string;
  readonly nodeUrl: string;
  /** passed: verified; failed: firstFailure says where; incomplete: the run could not finish (error says why) — no verdict on the chain. */
  readonly outcome: 'passed' | 'failed' | 'incomplete';
  readonly ok: boolean;
  readonly mode: 'full' | 'headers' | null;
  readonly target: number | null;
  readonly blocksVerified: number;
  readonly transactions: number;
  readonly stateRows: number | null;
  readonly head: { readonly blockNumber: number; readonly headerHash: string; readonly logSize: number; readonly logRoot: string } | null;
  readonly checkpoint: { readonly blockNumber: number; readonly treeSize: number; readonly verifiedBy: readonly string[] } | null;
  readonly firstFailure: FirstFailure | null;
  readonly error: { readonly code: string; readonly detail: string } | null;
  /** What the chain was verified against: the genesis read from the observer's block 0. */
  readonly trust: { readonly source: string; readonly chainId: string | null; readonly genesisLeafHash: string | null } | null;
  readonly notes: readonly string[];
  /** The alert raised for a failed run (verification-failure, or divergent-state for the world state). */
  readonly alert: { readonly alertId: string; readonly kind: string } | null;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export type RunLine = ProgressLine | VerdictLine;

export interface StoredRun {
  readonly seq: number;
  readonly runId: string;
  readonly node: string;
  readonly nodeUrl: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly blocksVerified: number;
  readonly outcome: VerdictLine['outcome'];
  readonly ok: boolean;
  readonly verdict: VerdictLine;
}

interface RunRow {
  seq: string;
  run_id: string;
  node: string;
  node_url: string;
  started_at: Date;
  finished_at: Date;
  blocks_verified: string;
  outcome: VerdictLine['outcome'];
  verdict: VerdictLine;
}

const runOf = (r: RunRow): StoredRun => ({
  seq: Number(r.seq),
  runId: r.run_id,
  node: r.node,
  nodeUrl: r.node_url,
  startedAt: r.started_at.toISOString(),
  finishedAt: r.finished_at.toISOString(),
  blocksVerified: Number(r.blocks_verified),
  outcome: r.outcome,
  ok: r.outcome === 'passed',
  verdict: r.verdict,
});

/** audit.verification_runs: one row per finished run, append-only. */
export class RunStore {
  constructor(private readonly pool: Pool) {}

  async record(v: VerdictLine): Promise<void> {
    await this.pool.query(
      `INSERT INTO audit.verification_runs (run_id, node, node_url, started_at, finished_at, blocks_verified, outcome, verdict)
       VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6, $7, $8::jsonb)`,
      [v.runId, v.node, v.nodeUrl, v.startedAt, v.finishedAt, v.blocksVerified, v.outcome, JSON.stringify(v)],
    );
  }

  async page(after: number, limit: number, node?: string): Promise<{ items: StoredRun[]; next: number | null }> {
    const { rows } = await this.pool.query<RunRow>(
      `SELECT * FROM audit.verification_runs WHERE seq > $1 AND ($3::text IS NULL OR node = $3) ORDER BY seq LIMIT $2`,
      [after, limit + 1, node ?? null],
    );
    const items = rows.slice(0, limit).map(runOf);
    return { items, next: rows.length > limit ? items[items.length - 1].seq : null };
  }

  async get(runId: string): Promise<StoredRun> {
    const { rows } = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(runId)
      ? await this.pool.query<RunRow>('SELECT * FROM audit.verification_runs WHERE run_id = $1', [runId])
      : { rows: [] as RunRow[] };
    if (!rows[0]) throw new AllianceError('AUDIT.NOT_FOUND', 'not-found', `no finished verification run ${runId}`);
    return runOf(rows[0]);
  }
}

/** A queue one listener reads lines from; closed after the verdict. */
class LineQueue implements AsyncIterable<RunLine> {
  private readonly lines: RunLine[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  push(line: RunLine): void {
    // A slow reader keeps only the newest progress line: the stream stays bounded.
    // (The first line waiting is never replaced: a listener always hears where the run was when it came.)
    const last = this.lines[this.lines.length - 1];
    if (line.type === 'progress' && last?.type === 'progress' && this.lines.length > 1) this.lines[this.lines.length - 1] = line;
    else this.lines.push(line);
    if (line.type === 'verdict') this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RunLine> {
    for (;;) {
      const line = this.lines.shift();
      if (line) {
        yield line;
        if (line.type === 'verdict') return;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

/** One run against one node: verifyChain with progress kept for listeners who join later. */
class Run {
  readonly runId = randomUUID();
  readonly startedAt = new Date().toISOString();
  private readonly listeners = new Set<LineQueue>();
  private progress: ProgressLine;
  private verdict: VerdictLine | null = null;
  readonly abort = new AbortController();
  readonly done: Promise<VerdictLine>;

  constructor(
    readonly node: AuditNode,
    private readonly deps: { trust: TrustAnchor; store: RunStore; alerts: AlertStore; log: (error: unknown, what: string) => void },
  ) {
    this.progress = { type: 'progress', runId: this.runId, node: node.name, phase: 'starting', mode: null, blocksVerified: 0, transactions: 0, target: null, lastBlock: null, stateRows: null, at: this.startedAt };
    this.done = this.execute();
  }

  /** The lines from now on: the current progress (marked joined when the run was already going), later progress, the verdict. */
  listen(joined: boolean): AsyncIterable<RunLine> {
    const queue = new LineQueue();
    if (this.verdict) queue.push(this.verdict);
    else {
      queue.push(joined ? { ...this.progress, joined: true } : this.progress);
      this.listeners.add(queue);
    }
    const listeners = this.listeners;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          yield* queue;
        } finally {
          listeners.delete(queue);
        }
      },
    };
  }

  private emit(line: RunLine): void {
    for (const l of this.listeners) l.push(line);
  }

  private async execute(): Promise<VerdictLine> {
    // Let the first listener subscribe before anything is emitted.
    await Promise.resolve();
    let lastEmit = 0;
    let lastBlocks = 0;
    const onProgress = (p: ChainProgress) => {
      this.progress = {
        ...this.progress,
        phase: p.stateRows === undefined ? 'blocks' : 'state',
        mode: p.mode,
        blocksVerified: p.blocks,
        transactions: p.transactions,
        target: p.targetBlock,
        lastBlock: p.lastBlock,
        stateRows: p.stateRows ?? null,
        at: new Date().toISOString(),
      };
      const now = Date.now();
      if (now - lastEmit >= PROGRESS_EVERY_MS || p.blocks - lastBlocks >= RUN_PAGE_SIZE) {
        lastEmit = now;
        lastBlocks = p.blocks;
        this.emit(this.progress);
      }
    };
    let result: ChainVerification | null = null;
    let error: { code: string; detail: string } | null = null;
    let trustInfo: VerdictLine['trust'] = null;
    try {
      const trust = await this.deps.trust.genesis();
      trustInfo = { source: `genesis of the observer node (block 0)`, chainId: trust.chainId ?? null, genesisLeafHash: trust.genesisLeafHash ?? null };
      this.emit(this.progress);
      result = await verifyChain(clientOf(this.node), { trust, pageSize: RUN_PAGE_SIZE, concurrency: RUN_CONCURRENCY, blockData: 'required', onProgress, signal: this.abort.signal });
    } catch (e) {
      if (this.abort.signal.aborted) error = { code: 'AUDIT.VERIFICATION_STOPPED', detail: 'the audit service stopped while the run was going' };
      else if (e instanceof AllianceError) error = { code: e.code, detail: e.message };
      else if (e instanceof AllianceApiError) error = { code: 'AUDIT.UPSTREAM_UNAVAILABLE', detail: `the node ${this.node.name} (${this.node.url}) could not be read: ${e.code}: ${e.message}` };
      else error = { code: 'AUDIT.VERIFICATION_INCOMPLETE', detail: (e as Error)?.message ?? String(e) };
    }
    const finishedAt = new Date().toISOString();
    const firstFailure: FirstFailure | null = result && !result.ok ? { blockNumber: result.blockNumber, code: result.code, detail: result.detail } : null;
    const outcome: VerdictLine['outcome'] = result === null ? 'incomplete' : result.ok ? 'passed' : 'failed';
    let alert: VerdictLine['alert'] = null;
    if (firstFailure) {
      const kind = firstFailure.code === ChainFailureCode.STATE_MISMATCH ? 'divergent-state' : 'verification-failure';
      // The same failure found again (the next run, another instance) is the same alert.
      alert = { alertId: alertIdOf(kind, this.node.name, firstFailure.blockNumber ?? 'none', firstFailure.code, firstFailure.detail), kind };
    }
    const verdict: VerdictLine = {
      type: 'verdict',
      runId: this.runId,
      node: this.node.name,
      nodeUrl: this.node.url,
      outcome,
      ok: outcome === 'passed',
      mode: result?.mode ?? this.progress.mode,
      target: result?.ok && result.checkpoint ? result.checkpoint.blockNumber : this.progress.target,
      blocksVerified: result?.blocks ?? this.progress.blocksVerified,
      transactions: result?.ok ? result.transactions : this.progress.transactions,
      stateRows: result?.ok ? result.stateRows : null,
      head: result?.ok ? result.head : null,
      checkpoint: result?.ok ? result.checkpoint : null,
      firstFailure,
      error,
      trust: trustInfo,
      notes: result?.notes ?? [],
      alert,
      startedAt: this.startedAt,
      finishedAt,
    };
    if (firstFailure && alert) {
      await this.deps.alerts
        .raise({
          alertId: alert.alertId,
          kind: alert.kind as 'verification-failure' | 'divergent-state',
          severity: 'critical',
          subject: `node:${this.node.name}`,
          organizationId: this.node.organizationId,
          blockNumber: firstFailure.blockNumber,
          transactionId: null,
          summary:
            alert.kind === 'divergent-state'
              ? `the world state of node ${this.node.name} differs from the committed writes${firstFailure.blockNumber === null ? '' : ` (at block ${firstFailure.blockNumber})`}`
              : `node ${this.node.name} fails chain verification${firstFailure.blockNumber === null ? '' : ` at block ${firstFailure.blockNumber}`}: ${firstFailure.code}`,
          detail: { runId: this.runId, node: this.node.name, nodeUrl: this.node.url, ...firstFailure },
          occurredAt: finishedAt,
        })
        .catch((e: unknown) => this.deps.log(e, 'raising the alert of a failed verification run'));
    }
    await this.deps.store.record(verdict).catch((e: unknown) => this.deps.log(e, 'recording a verification run'));
    this.verdict = verdict;
    this.emit(verdict);
    this.listeners.clear();
    return verdict;
  }
}

/**
 * The runs going on, one per node at most: a request for a node whose run is going joins it (its
 * stream starts with the current progress, marked `joined`, and ends with the same verdict); the
 * run goes on to its end, and its row, when every listener has gone.
 */
export class ChainRuns {
  private readonly running = new Map<string, Run>();

  constructor(private readonly deps: { trust: TrustAnchor; store: RunStore; alerts: AlertStore; log: (error: unknown, what: string) => void }) {}

  /** Starts a run of the node, or joins the one going; the lines for this listener. */
  lines(node: AuditNode): AsyncIterable<RunLine> {
    const going = this.running.get(node.name);
    if (going) return going.listen(true);
    const run = new Run(node, this.deps);
    this.running.set(node.name, run);
    void run.done.finally(() => {
      if (this.running.get(node.name) === run) this.running.delete(node.name);
    });
    return run.listen(false);
  }

  /** Runs going now (node, runId, progress). */
  get active(): ReadonlyArray<{ node: string; runId: string }> {
    return [...this.running.values()].map((r) => ({ node: r.node.name, runId: r.runId }));
  }

  /** Stops every run (each still records its row, as incomplete). */
  async stop(): Promise<void> {
    const runs = [...this.running.values()];
    for (const r of runs) r.abort.abort();
    await Promise.all(runs.map((r) => r.done.catch(() => undefined)));
  }
}
