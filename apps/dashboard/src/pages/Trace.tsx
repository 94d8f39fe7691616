import { type FormEvent, lazy, Suspense, useEffect, useId, useRef, useState } from 'react';
import { LineageList } from '../components/LineageList';
import { SensorChart } from '../components/SensorChart';
import { ErrorAlert, Empty, Loading } from '../components/states';
import { type Authorize, query } from '../lib/api';
import { describeDepth, type LineageEdge, type LineageNode, readingsOf, type SensorAlert } from '../lib/trace';
import { useSignedIn } from '../session';

interface TimelineEvent {
  readonly eventID: string;
  readonly type: string;
  readonly eventTime: string;
  readonly action: string | null;
  readonly bizStep: string | null;
  readonly disposition: string | null;
  readonly bizLocation: string | null;
  readonly parentID: string | null;
  readonly epcs: readonly string[];
  readonly json: string;
}

interface TraceGraph {
  readonly root: string;
  readonly nodes: readonly LineageNode[];
  readonly edges: readonly LineageEdge[];
  readonly truncated: boolean;
}

interface Found {
  readonly item: string;
  readonly trace: TraceGraph;
  readonly events: readonly TimelineEvent[];
  readonly alerts: readonly SensorAlert[] | { readonly error: unknown };
}

type Result = { readonly state: 'idle' } | { readonly state: 'loading' } | { readonly state: 'error'; readonly error: unknown } | ({ readonly state: 'ready' } & Found);

// Cytoscape is a large bundle of its own: fetched when a lineage is first drawn.
const LineageGraph = lazy(() => import('../components/LineageGraph'));

const EVENT_FIELDS = 'eventID type eventTime action bizStep disposition bizLocation parentID epcs json';
const TIMELINE = `query ($epc: String!) { productTimeline(epc: $epc, limit: 200) { ${EVENT_FIELDS} } }`;
const TRACE = 'query ($epc: String!) { traceGraph(epc: $epc, direction: "both") { root truncated nodes { id kind depth } edges { from to kind eventID eventTime } } }';
const ALERTS = 'query ($subject: String) { provenanceAlerts(subject: $subject, limit: 200) { items { alertId measurementType uom min max from to worstValue disposition } } }';

async function find(authorize: Authorize, item: string): Promise<Found> {
  const [trace, timeline, alerts] = await Promise.all([
    query<{ traceGraph: TraceGraph }>(authorize, TRACE, { epc: item }),
    query<{ productTimeline: TimelineEvent[] }>(authorize, TIMELINE, { epc: item }),
    query<{ provenanceAlerts: { items: SensorAlert[] } }>(authorize, ALERTS, { subject: item }).then(
      (d) => d.provenanceAlerts.items,
      (error: unknown) => ({ error }),
    ),
  ]);
  return { item, trace: trace.traceGraph, events: timeline.productTimeline, alerts };
}

/**
 * Trace an EPC, lot or GTIN (URN or GS1 Digital Link): its lineage upstream and downstream (GraphQL
 * traceGraph) as a Cytoscape graph with a list as its text alternative, a details panel of the selected
 * node with its events, the item's event timeline and its sensor readings with the rules' thresholds and alerts.
 */
export function TracePage() {
  const { authorize } = useSignedIn();
  const inputId = useId();
  const [item, setItem] = useState('');
  const [result, setResult] = useState<Result>({ state: 'idle' });
  const [selected, setSelected] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const searchRun = useRef(0);
  useEffect(() => heading.current?.focus(), []);

  async function search(event: FormEvent) {
    event.preventDefault();
    const wanted = item.trim();
    setSelected(null);
    if (wanted === '') {
      setResult({ state: 'error', error: new Error('Enter an EPC, lot or GTIN, for example urn:epc:id:sscc:0614141.1234567890 or https://id.gs1.org/01/09506000134352/21/2017.') });
      return;
    }
    const run = ++searchRun.current;
    setResult({ state: 'loading' });
    try {
      const found = await find(authorize, wanted);
      if (run === searchRun.current) setResult({ state: 'ready', ...found });
    } catch (error) {
      if (run === searchRun.current) setResult({ state: 'error', error });
    }
  }

  return (
    <main id="main">
      <h1 ref={heading} tabIndex={-1}>
        Trace
      </h1>
      <form className="search" onSubmit={search} role="search">
        <label htmlFor={inputId}>Item</label>
        <input
          id={inputId}
          type="text"
          value={item}
          onChange={(e) => setItem(e.currentTarget.value)}
          placeholder="EPC, lot or GTIN: urn:epc:id:sgtin:… or https://id.gs1.org/01/…"
          spellCheck={false}
          autoComplete="off"
        />
        <button type="submit">Trace</button>
      </form>
      {result.state === 'loading' && <Loading />}
      {result.state === 'error' && <ErrorAlert error={result.error} />}
      {result.state === 'ready' && <TraceResult found={result} selected={selected} onSelect={setSelected} />}
    </main>
  );
}

function TraceResult({ found, selected, onSelect }: { readonly found: Found; readonly selected: string | null; readonly onSelect: (id: string) => void }) {
  const { trace, events } = found;
  if (trace.nodes.length <= 1 && events.length === 0) return <Empty>No lineage and no events for {found.item}.</Empty>;
  const node = trace.nodes.find((n) => n.id === selected) ?? null;
  return (
    <>
      <section aria-labelledby="lineage-heading">
        <h2 id="lineage-heading">Lineage of {trace.root}</h2>
        {trace.truncated && <p className="muted">The graph stops at its node limit: items farther away are not shown.</p>}
        <div className="trace-layout">
          <div>
            <Suspense fallback={<Loading label="Loading the graph…" />}>
              <LineageGraph nodes={trace.nodes} edges={trace.edges} selected={selected} onSelect={onSelect} />
            </Suspense>
            <h3>Items and links</h3>
            <LineageList nodes={trace.nodes} edges={trace.edges} selected={selected} onSelect={onSelect} />
          </div>
          {node ? <NodeDetails key={node.id} node={node} /> : <p className="muted">Select an item in the graph or the list to see its events.</p>}
        </div>
      </section>
      <EventsTable caption="Events" events={events} empty={`No events name ${found.item}.`} />
      <Sensors found={found} />
    </>
  );
}

function EventsTable({ caption, events, empty }: { readonly caption: string; readonly events: readonly TimelineEvent[]; readonly empty: string }) {
  if (events.length === 0) return <Empty>{empty}</Empty>;
  return (
    <table className="trace-events">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Event time</th>
          <th scope="col">Type</th>
          <th scope="col">Business step</th>
          <th scope="col">Disposition</th>
          <th scope="col">Location</th>
          <th scope="col">Event ID</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.eventID}>
            <td>{e.eventTime}</td>
            <td>
              {e.type}
              {e.action ? ` (${e.action})` : ''}
            </td>
            <td>{e.bizStep ?? '—'}</td>
            <td>{e.disposition ?? '—'}</td>
            <td>{e.bizLocation ?? '—'}</td>
            <td className="mono">{e.eventID}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

type NodeEvents = { readonly state: 'loading' } | { readonly state: 'error'; readonly error: unknown } | { readonly state: 'ready'; readonly events: readonly TimelineEvent[] };

/** The selected node: what it is, where it sits, and the events naming it (its own productTimeline). */
function NodeDetails({ node }: { readonly node: LineageNode }) {
  const { authorize } = useSignedIn();
  const [events, setEvents] = useState<NodeEvents>({ state: 'loading' });
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const controller = new AbortController();
    query<{ productTimeline: TimelineEvent[] }>(authorize, TIMELINE, { epc: node.id }, controller.signal).then(
      (d) => setEvents({ state: 'ready', events: d.productTimeline }),
      (error: unknown) => {
        if (!controller.signal.aborted) setEvents({ state: 'error', error });
      },
    );
    return () => controller.abort();
  }, [authorize, node.id]);
  return (
    <section className="node-details" aria-labelledby="node-details-heading">
      <h2 id="node-details-heading" ref={heading} tabIndex={-1}>
        {node.id}
      </h2>
      <p>
        {node.kind}, {describeDepth(node.depth)}
      </p>
      {events.state === 'loading' && <Loading />}
      {events.state === 'error' && <ErrorAlert error={events.error} />}
      {events.state === 'ready' &&
        (events.events.length === 0 ? (
          <Empty>No events name {node.id}.</Empty>
        ) : (
          <table className="trace-events">
            <caption>Events of {node.id}</caption>
            <thead>
              <tr>
                <th scope="col">Event time</th>
                <th scope="col">Event</th>
                <th scope="col">Disposition</th>
              </tr>
            </thead>
            <tbody>
              {events.events.map((e) => (
                <tr key={e.eventID}>
                  <td>{e.eventTime}</td>
                  <td>
                    {e.type}
                    {e.action ? ` (${e.action})` : ''}
                    {e.bizStep ? `, ${e.bizStep}` : ''}
                  </td>
                  <td>{e.disposition ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}

function Sensors({ found }: { readonly found: Found }) {
  const series = readingsOf(found.events);
  const alerts = Array.isArray(found.alerts) ? (found.alerts as readonly SensorAlert[]) : [];
  const alertsError = Array.isArray(found.alerts) ? undefined : (found.alerts as { error: unknown }).error;
  return (
    <section aria-labelledby="sensor-heading">
      <h2 id="sensor-heading">Sensor readings</h2>
      {alertsError !== undefined && <ErrorAlert error={alertsError} />}
      {series.length === 0 ? <Empty>No sensor readings in the events of {found.item}.</Empty> : series.map((s) => <SensorChart key={`${s.measurementType} ${s.uom}`} series={s} alerts={alerts} />)}
    </section>
  );
}
