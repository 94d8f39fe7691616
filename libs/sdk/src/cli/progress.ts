import type { ChainProgress } from '../chain-verifier';

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * Progress of `verify chain` on stderr. On a terminal: one bar redrawn in
 * place at most ten times a second. Elsewhere (CI logs, files, pipes): a
 * plain line every `intervalMs`, so logs stay readable and grep-able.
 */
export class ChainProgressReporter {
  private readonly started: number;
  private lastDraw = -Infinity;
  private drawn = false;
  private latest: ChainProgress | null = null;
  private lastShown: ChainProgress | null = null;

  constructor(
    private readonly stream: ProgressStream,
    private readonly options: { readonly intervalMs?: number; readonly now?: () => number } = {},
  ) {
    this.started = this.now();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  update(progress: ChainProgress): void {
    this.latest = progress;
    const now = this.now();
    const interval = this.stream.isTTY ? 100 : (this.options.intervalMs ?? 5_000);
    if (now - this.lastDraw < interval) return;
    this.lastDraw = now;
    this.draw(progress, now);
  }

  private draw(p: ChainProgress, now: number): void {
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const rate = p.blocks / seconds;
    const total = p.targetBlock === null ? null : p.targetBlock + 1;
    const state = p.stateRows === undefined ? '' : `, ${p.stateRows.toLocaleString('en-US')} state rows`;
    const counts = `${p.blocks.toLocaleString('en-US')}${total === null ? '' : `/${total.toLocaleString('en-US')}`} blocks, ${p.transactions.toLocaleString('en-US')} tx${state}`;
    const eta = total !== null && rate > 0 && p.blocks < total ? `, ETA ${formatSeconds((total - p.blocks) / rate)}` : '';
    const speed = `${rate >= 10 ? Math.round(rate) : rate.toFixed(1)} blocks/s`;
    if (this.stream.isTTY) {
      const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 70));
      const fraction = total === null ? 0 : Math.min(1, p.blocks / total);
      const filled = Math.round(fraction * width);
      const bar = total === null ? '' : `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(fraction * 100)}% `;
      this.stream.write(`\r\x1b[2K${bar}${counts} · ${speed}${eta} (${p.mode})`);
    } else {
      const percent = total === null ? '' : ` (${Math.floor(Math.min(1, p.blocks / total) * 100)}%)`;
      this.stream.write(`verify chain: ${counts}${percent}, ${speed}${eta}\n`);
    }
    this.drawn = true;
    this.lastShown = p;
  }

  /** Draws the final state (if anything was drawn) and leaves the line. */
  finish(): void {
    if (this.latest && this.latest !== this.lastShown) this.draw(this.latest, this.now());
    if (this.stream.isTTY && this.drawn) this.stream.write('\n');
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
