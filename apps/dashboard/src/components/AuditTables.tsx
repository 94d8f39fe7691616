import { useEffect, useState } from 'react';
import type { Client } from 'graphql-ws';
import { type Authorize, describeGraphQLErrors, query, subscriptionError } from '../lib/api';
import { Empty, ErrorAlert, Loading } from './states';

interface Alert {
  readonly seq: number;
  readonly alertId: string;
  readonly kind: string;
  readonly severity: string;
  readonly subject: string;
  readonly organizationId: string | null;
  readonly blockNumber: number | null;
  readonly summary: string;
  readonly occurredAt: string;
  readonly raisedAt: string;
}

interface AccessEntry {
  readonly seq: number;
  readonly at: string;
  readonly organizationId: string;
  readonly actor: string;
  readonly transport: string;
  readonly operation: string;
  readonly recordCount: number;
  readonly outcome: string;
  readonly entryHash: string;
}

interface PageOf<T> {
  readonly items: readonly T[];
  readonly next: number | null;
}

const ALERT_FIELDS = 'seq alertId kind severity subject organizationId blockNumber summary occurredAt raisedAt';
const ALERTS = `query ($after: Int) { auditAlerts(after: $after, limit: 100) { items { ${ALERT_FIELDS} } next } }`;
const ALERTS_LIVE = `subscription ($after: Int) { auditAlertRaised(after: $after) { ${ALERT_FIELDS} } }`;
const ACCESS_LOG = 'query ($after: Int) { auditAccessLog(after: $after, limit: 100) { items { seq at organizationId actor transport operation recordCount outcome entryHash } next } }';

type Paged<T> = { readonly state: 'loading'; readonly items: readonly T[] } | { readonly state: 'error'; readonly items: readonly T[]; readonly error: unknown } | { readonly state: 'ready'; readonly items: readonly T[]; readonly next: number | null };

/** Pages of one audit list in order (`after` a seq): the first page on mount, the next on "Load more". */
function usePaged<T>(authorize: Authorize, document: string, field: string): [Paged<T>, () => void] {
  const [paged, setPaged] = useState<Paged<T>>({ state: 'loading', items: [] });
  const [after, setAfter] = useState<number | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    query<Record<string, PageOf<T>>>(authorize, document, after === null ? {} : { after }, abort.signal).then(
      (data) => setPaged((prev) => ({ state: 'ready', items: [...prev.items, ...data[field].items], next: data[field].next })),
      (error: unknown) => {
        if (!abort.signal.aborted) setPaged((prev) => ({ state: 'error', items: prev.items, error }));
      },
    );
    return () => abort.abort();
  }, [authorize, document, field, after]);
  const more = () => {
    if (paged.state !== 'ready' || paged.next === null) return;
    const next = paged.next;
    setPaged((prev) => ({ state: 'loading', items: prev.items }));
    setAfter(next);
  };
  return [paged, more];
}

function More({ paged, more, what }: { readonly paged: Paged<unknown>; readonly more: () => void; readonly what: string }) {
  if (paged.state === 'loading') return <Loading />;
  if (paged.state === 'error') return <ErrorAlert error={paged.error} />;
  if (paged.next === null) return null;
  return (
    <button type="button" onClick={more}>
      More {what}
    </button>
  );
}

type Feed = 'off' | 'live' | { readonly error: string };

/**
 * Once every page is loaded, the alerts raised after the last one, live (subscription auditAlertRaised with
 * `after`: none is missed between the last page and the subscription, and a reconnection resumes from the last seen).
 */
function useLiveAlerts(subscriptions: Client, paged: Paged<Alert>): [readonly Alert[], Feed] {
  const [live, setLive] = useState<readonly Alert[]>([]);
  const [feed, setFeed] = useState<Feed>('off');
  const caughtUp = paged.state === 'ready' && paged.next === null;
  const lastSeq = caughtUp ? (paged.items.at(-1)?.seq ?? 0) : null;
  useEffect(() => {
    if (lastSeq === null) return undefined;
    let after = lastSeq;
    const stop = subscriptions.subscribe<{ auditAlertRaised: Alert }>(
      { query: ALERTS_LIVE, variables: { after } },
      {
        next: (result) => {
          if (result.errors?.length) return setFeed({ error: describeGraphQLErrors(result.errors).message });
          const alert = result.data?.auditAlertRaised;
          if (!alert || alert.seq <= after) return;
          after = alert.seq;
          setFeed('live');
          setLive((list) => [...list, alert]);
        },
        error: (error) => setFeed({ error: subscriptionError(error, 'The live feed').message }),
        complete: () => setFeed({ error: 'The live feed ended.' }),
      },
    );
    setFeed('live');
    return stop;
    // Subscribed once, from the seq the pages ended at; later pages cannot appear once caught up.
  }, [subscriptions, lastSeq]);
  return [live, feed];
}

/** The regulator's alerts (GraphQL auditAlerts, then auditAlertRaised live), in the order raised. */
export function AlertsTable({ authorize, subscriptions }: { readonly authorize: Authorize; readonly subscriptions: Client }) {
  const [loaded, more] = usePaged<Alert>(authorize, ALERTS, 'auditAlerts');
  const [live, feed] = useLiveAlerts(subscriptions, loaded);
  const paged = { ...loaded, items: [...loaded.items, ...live] } as Paged<Alert>;
  return (
    <>
      <p className="hint" aria-live="polite">
        {feed === 'live' ? 'Live: alerts appear here as they are raised.' : feed === 'off' ? 'New alerts appear here once every page is loaded.' : `Live feed stopped: ${feed.error}`}
      </p>
      {paged.state === 'ready' && paged.items.length === 0 && <Empty>No alerts have been raised.</Empty>}
      {paged.items.length > 0 && (
        <table>
          <caption>Alerts</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Severity</th>
              <th scope="col">Kind</th>
              <th scope="col">Subject</th>
              <th scope="col">Organization</th>
              <th scope="col">Block</th>
              <th scope="col">Summary</th>
              <th scope="col">Occurred (UTC)</th>
            </tr>
          </thead>
          <tbody>
            {paged.items.map((a) => (
              <tr key={a.alertId}>
                <td className="num">{a.seq}</td>
                <td>{a.severity}</td>
                <td>{a.kind}</td>
                <td className="mono">{a.subject}</td>
                <td>{a.organizationId ?? '—'}</td>
                <td className="num">{a.blockNumber ?? '—'}</td>
                <td>{a.summary}</td>
                <td>{a.occurredAt}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <More paged={paged} more={more} what="alerts" />
    </>
  );
}

/** Every audit query (GraphQL auditAccessLog), hash-chained, oldest first. */
export function AccessLogTable({ authorize }: { readonly authorize: Authorize }) {
  const [paged, more] = usePaged<AccessEntry>(authorize, ACCESS_LOG, 'auditAccessLog');
  return (
    <>
      {paged.state === 'ready' && paged.items.length === 0 && <Empty>No audit query has been logged.</Empty>}
      {paged.items.length > 0 && (
        <table>
          <caption>Access log</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">At (UTC)</th>
              <th scope="col">Organization</th>
              <th scope="col">Actor</th>
              <th scope="col">Operation</th>
              <th scope="col">Records</th>
              <th scope="col">Outcome</th>
              <th scope="col">Entry hash</th>
            </tr>
          </thead>
          <tbody>
            {paged.items.map((e) => (
              <tr key={e.seq}>
                <td className="num">{e.seq}</td>
                <td>{e.at}</td>
                <td>{e.organizationId}</td>
                <td>{e.actor}</td>
                <td>
                  {e.operation} ({e.transport})
                </td>
                <td className="num">{e.recordCount}</td>
                <td>{e.outcome}</td>
                <td className="mono" title={e.entryHash}>
                  {e.entryHash.slice(0, 12)}…
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <More paged={paged} more={more} what="log entries" />
    </>
  );
}
