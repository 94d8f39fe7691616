import { useEffect, useRef, useState } from 'react';
import { ErrorAlert, Empty, Loading } from '../components/states';
import { query } from '../lib/api';
import { useSignedIn } from '../session';

interface Live {
  readonly currency: string;
  readonly count: number;
  readonly outstanding: string;
  readonly overdue: string;
  readonly defaulted: string;
  readonly financed: string;
  readonly frozen: string;
}

interface Positions {
  readonly organizationId: string;
  readonly asOfBlock: number;
  readonly holding: { readonly live: readonly Live[] };
  readonly owing: { readonly live: readonly Live[] };
}

const LIVE = 'live { currency count outstanding overdue defaulted financed frozen }';

/** The signed-in organization's receivable positions (GraphQL financePositions); amounts are the decimal strings the service answers. */
export function FinancePage() {
  const { authorize, session } = useSignedIn();
  const organizationId = session.principal.organizationId;
  const [positions, setPositions] = useState<{ state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; value: Positions }>({ state: 'loading' });
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  useEffect(() => {
    const abort = new AbortController();
    query<{ financePositions: Positions }>(authorize, `query ($o: String!) { financePositions(organizationId: $o) { organizationId asOfBlock holding { ${LIVE} } owing { ${LIVE} } } }`, { o: organizationId }, abort.signal).then(
      (data) => setPositions({ state: 'ready', value: data.financePositions }),
      (error: unknown) => {
        if (!abort.signal.aborted) setPositions({ state: 'error', error });
      },
    );
    return () => abort.abort();
  }, [authorize, organizationId]);

  return (
    <main id="main">
      <h1 ref={heading} tabIndex={-1}>
        Finance
      </h1>
      {positions.state === 'loading' && <Loading />}
      {positions.state === 'error' && <ErrorAlert error={positions.error} />}
      {positions.state === 'ready' && (
        <>
          <p className="hint">
            Positions of {positions.value.organizationId} as of block {positions.value.asOfBlock}.
          </p>
          <PositionTable caption="Receivables held" rows={positions.value.holding.live} />
          <PositionTable caption="Receivables owed" rows={positions.value.owing.live} />
        </>
      )}
    </main>
  );
}

function PositionTable({ caption, rows }: { readonly caption: string; readonly rows: readonly Live[] }) {
  if (rows.length === 0) return <Empty>{caption}: none.</Empty>;
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Currency</th>
          <th scope="col">Count</th>
          <th scope="col">Outstanding</th>
          <th scope="col">Overdue</th>
          <th scope="col">Defaulted</th>
          <th scope="col">Financed</th>
          <th scope="col">Frozen</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.currency}>
            <th scope="row">{r.currency}</th>
            <td className="num">{r.count}</td>
            <td className="num">{r.outstanding}</td>
            <td className="num">{r.overdue}</td>
            <td className="num">{r.defaulted}</td>
            <td className="num">{r.financed}</td>
            <td className="num">{r.frozen}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
