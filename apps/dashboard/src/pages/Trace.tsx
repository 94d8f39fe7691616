import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { ErrorAlert, Empty, Loading } from '../components/states';
import { query } from '../lib/api';
import { useSignedIn } from '../session';

interface TimelineEvent {
  readonly eventID: string;
  readonly type: string;
  readonly eventTime: string;
  readonly action: string | null;
  readonly bizStep: string | null;
  readonly disposition: string | null;
  readonly bizLocation: string | null;
}

type Result = { readonly state: 'idle' } | { readonly state: 'loading' } | { readonly state: 'error'; readonly error: unknown } | { readonly state: 'ready'; readonly epc: string; readonly events: readonly TimelineEvent[] };

/** A product's event timeline by EPC (GraphQL productTimeline); the lineage graph comes with the trace view of issue 8. */
export function TracePage() {
  const { authorize } = useSignedIn();
  const inputId = useId();
  const [epc, setEpc] = useState('');
  const [result, setResult] = useState<Result>({ state: 'idle' });
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  async function search(event: FormEvent) {
    event.preventDefault();
    const wanted = epc.trim();
    if (wanted === '') {
      setResult({ state: 'error', error: new Error('Enter an EPC, for example urn:epc:id:sgtin:0614141.107346.2017.') });
      return;
    }
    setResult({ state: 'loading' });
    try {
      const data = await query<{ productTimeline: TimelineEvent[] }>(
        authorize,
        'query ($epc: String!) { productTimeline(epc: $epc, limit: 200) { eventID type eventTime action bizStep disposition bizLocation } }',
        { epc: wanted },
      );
      setResult({ state: 'ready', epc: wanted, events: data.productTimeline });
    } catch (error) {
      setResult({ state: 'error', error });
    }
  }

  return (
    <main id="main">
      <h1 ref={heading} tabIndex={-1}>
        Trace
      </h1>
      <form className="search" onSubmit={search} role="search">
        <label htmlFor={inputId}>EPC</label>
        <input id={inputId} type="text" value={epc} onChange={(e) => setEpc(e.currentTarget.value)} placeholder="urn:epc:id:sgtin:…" spellCheck={false} />
        <button type="submit">Search</button>
      </form>
      {result.state === 'loading' && <Loading />}
      {result.state === 'error' && <ErrorAlert error={result.error} />}
      {result.state === 'ready' &&
        (result.events.length === 0 ? (
          <Empty>No events for {result.epc}.</Empty>
        ) : (
          <table>
            <caption>Timeline of {result.epc}</caption>
            <thead>
              <tr>
                <th scope="col">Event time</th>
                <th scope="col">Type</th>
                <th scope="col">Business step</th>
                <th scope="col">Disposition</th>
                <th scope="col">Location</th>
              </tr>
            </thead>
            <tbody>
              {result.events.map((e) => (
                <tr key={e.eventID}>
                  <td>{e.eventTime}</td>
                  <td>
                    {e.type}
                    {e.action ? ` (${e.action})` : ''}
                  </td>
                  <td>{e.bizStep ?? '—'}</td>
                  <td>{e.disposition ?? '—'}</td>
                  <td>{e.bizLocation ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </main>
  );
}
