/**
 * The chain run as the Audit page subscribes to it: the lines of `GET /audit/v1/verifications/chain`
 * (docs/audit.md, Chain runs) as GraphQL `AuditChainLine`s.
 */
export const CHAIN_VERIFICATION =
  'subscription ($node: String!) { auditChainVerification(node: $node) { type runId node phase blocksVerified transactions target outcome ok firstFailure { blockNumber code detail } error } }';

/** The lines the Audit page shows. */
export interface ProgressLine {
  readonly type: 'progress';
  readonly runId: string;
  readonly node: string;
  readonly phase: string;
  readonly blocksVerified: number;
  readonly transactions: number;
  readonly target: number | null;
}

export interface VerdictLine {
  readonly type: 'verdict';
  readonly runId: string;
  readonly node: string;
  readonly outcome: 'passed' | 'failed' | 'incomplete';
  readonly ok: boolean;
  readonly target: number | null;
  readonly blocksVerified: number;
  readonly transactions?: number;
  readonly firstFailure: { readonly blockNumber: number | null; readonly code: string; readonly detail: string } | null;
  readonly error: string | null;
}

export type RunLine = ProgressLine | VerdictLine;

export function isRunLine(value: unknown): value is RunLine {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v['type'] === 'progress' || v['type'] === 'verdict') && typeof v['blocksVerified'] === 'number';
}

/** Percent done (0-100, whole): blocks 0..target are target + 1 blocks; a verdict is 100. */
export function percentDone(line: RunLine): number {
  if (line.type === 'verdict') return 100;
  if (line.target === null || line.target < 0) return 0;
  return Math.max(0, Math.min(100, Math.floor((line.blocksVerified * 100) / (line.target + 1))));
}
