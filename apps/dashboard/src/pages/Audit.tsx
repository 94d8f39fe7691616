import { useEffect, useRef, useState } from 'react';
import { AccessLogTable, AlertsTable } from '../components/AuditTables';
import { EvidenceExport } from '../components/EvidenceExport';
import { ErrorAlert } from '../components/states';
import { describeGraphQLErrors, subscriptionError } from '../lib/api';
import { CHAIN_VERIFICATION, isRunLine, percentDone, type ProgressLine, type VerdictLine } from '../lib/audit';
import { useSignedIn } from '../session';

type Run = { readonly state: 'idle' } | { readonly state: 'running'; readonly progress: ProgressLine | null } | { readonly state: 'done'; readonly verdict: VerdictLine } | { readonly state: 'error'; readonly error: unknown };

/** The regulator's whole-chain verification of its observer node, streamed (GraphQL subscription auditChainVerification). */
export function AuditPage() {
  const { authorize, session, subscriptions } = useSignedIn();
  const [run, setRun] = useState<Run>({ state: 'idle' });
  const heading = useRef<HTMLHeadingElement>(null);
  const stop = useRef<(() => void) | null>(null);
  const regulator = session.principal.organizationRole === 'regulator';

  useEffect(() => heading.current?.focus(), []);
  useEffect(() => () => stop.current?.(), []);

  function verify() {
    stop.current?.();
    setRun({ state: 'running', progress: null });
    let finished = false;
    const fail = (error: unknown) => {
      if (finished) return;
      finished = true;
      setRun({ state: 'error', error });
    };
    stop.current = subscriptions.subscribe<{ auditChainVerification: unknown }>(
      { query: CHAIN_VERIFICATION, variables: { node: 'observer' } },
      {
        next: (result) => {
          if (result.errors?.length) return fail(describeGraphQLErrors(result.errors));
          const line = result.data?.auditChainVerification;
          if (finished || !isRunLine(line)) return;
          if (line.type === 'verdict') {
            finished = true;
            setRun({ state: 'done', verdict: line });
            stop.current?.();
            return;
          }
          setRun({ state: 'running', progress: line });
        },
        error: (error) => fail(subscriptionError(error, 'The verification stream')),
        complete: () => fail(new Error('The verification stream ended without a verdict.')),
      },
    );
  }

  const percent = run.state === 'done' ? 100 : run.state === 'running' && run.progress ? percentDone(run.progress) : 0;

  return (
    <main id="main">
      <h1 ref={heading} tabIndex={-1}>
        Audit
      </h1>
      <section aria-labelledby="chain-heading">
        <h2 id="chain-heading">Chain verification</h2>
        <p>Re-verifies every block of the regulator’s observer node — headers, signatures, Merkle roots, stored rows and world state — with the SDK’s open verifier.</p>
        {!regulator && <p className="hint">Only the regulator may run it; signed in as {session.principal.organizationId}, the audit service refuses the request.</p>}
        <button type="button" onClick={verify} disabled={run.state === 'running'}>
          Verify chain
        </button>
        {run.state !== 'idle' && run.state !== 'error' && (
          <div className="progress-wrap">
            <div id="chain-progress-label" className="progress-label">
              {run.state === 'running' ? (run.progress ? `Verifying: ${run.progress.blocksVerified} blocks, ${run.progress.transactions} transactions (${run.progress.phase})` : 'Starting…') : `Verified ${run.verdict.blocksVerified} blocks`}
            </div>
            <div role="progressbar" aria-labelledby="chain-progress-label" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} className="progress">
              <div className="progress-fill" style={{ width: `${percent}%` }} />
            </div>
          </div>
        )}
        {run.state === 'running' && (
          <p role="status" className="state state-loading">
            Loading…
          </p>
        )}
        {run.state === 'done' && <Verdict verdict={run.verdict} />}
        {run.state === 'error' && <ErrorAlert error={run.error} />}
      </section>
      {regulator && (
        <>
          <section aria-labelledby="evidence-heading">
            <h2 id="evidence-heading">Evidence export</h2>
            <EvidenceExport authorize={authorize} />
          </section>
          <section aria-labelledby="alerts-heading">
            <h2 id="alerts-heading">Alerts</h2>
            <AlertsTable authorize={authorize} subscriptions={subscriptions} />
          </section>
          <section aria-labelledby="access-heading">
            <h2 id="access-heading">Access log</h2>
            <p className="hint">Every audit query, who asked it and how many records it answered, hash-chained (oldest first).</p>
            <AccessLogTable authorize={authorize} />
          </section>
        </>
      )}
    </main>
  );
}

function Verdict({ verdict }: { readonly verdict: VerdictLine }) {
  if (verdict.outcome === 'passed') {
    return (
      <p role="status" className="verdict verdict-ok" aria-label="Chain verified">
        <svg aria-hidden="true" viewBox="0 0 16 16" width="16" height="16">
          <path d="M2 8.5l4 4 8-9" fill="none" stroke="currentColor" strokeWidth="2.2" />
        </svg>
        Chain verified: {verdict.blocksVerified} blocks{verdict.transactions !== undefined ? `, ${verdict.transactions} transactions` : ''} of node {verdict.node}
      </p>
    );
  }
  if (verdict.outcome === 'failed') {
    return (
      <div role="alert" className="verdict verdict-failed">
        <svg aria-hidden="true" viewBox="0 0 16 16" width="16" height="16">
          <path d="M3 3l10 10M13 3L3 13" fill="none" stroke="currentColor" strokeWidth="2.2" />
        </svg>
        Chain verification failed
        {verdict.firstFailure && (
          <>
            {verdict.firstFailure.blockNumber !== null ? ` at block ${verdict.firstFailure.blockNumber}` : ''}: {verdict.firstFailure.code} — {verdict.firstFailure.detail}
          </>
        )}
      </div>
    );
  }
  return <div role="alert" className="state state-error">Verification incomplete: {verdict.error ?? 'the node could not be read'}</div>;
}
