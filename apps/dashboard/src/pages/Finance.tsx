import { type ReactNode, useEffect, useRef, useState } from 'react';
import { Bars } from '../components/Bars';
import { CertificateTree, type TreeNode } from '../components/CertificateTree';
import '../components/finance.css';
import { ErrorAlert, Empty, Loading } from '../components/states';
import { type Loaded, useQuery } from '../components/useQuery';
import { formatMinor, formatMoney } from '../lib/money';
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

interface Receivable {
  readonly receivableId: string;
  readonly rootId: string;
  readonly issuer: string;
  readonly debtor: string;
  readonly holder: string;
  readonly currency: string;
  readonly faceValue: string;
  readonly status: string;
  readonly dueDate: string;
}

interface Financing {
  readonly financingId: string;
  readonly assetKind: string;
  readonly assetId: string;
  readonly applicant: string;
  readonly financier: string;
  readonly kind: string;
  readonly currency: string;
  readonly principal: string;
  readonly status: string;
}

interface Tree {
  readonly rootId: string;
  readonly receivableId: string;
  readonly currency: string;
  readonly debtor: string;
  readonly issuer: string;
  readonly dueDate: string;
  readonly faceValue: string;
  readonly paid: string;
  readonly outstanding: string;
  readonly financed: string;
  readonly asOfBlock: number;
  readonly nodes: readonly TreeNode[];
}

interface DebtorExposure {
  readonly debtor: string;
  readonly currency: string;
  readonly receivables: number;
  readonly outstanding: string;
}

interface FinancierExposure {
  readonly financier: string;
  readonly currency: string;
  readonly financings: number;
  readonly principal: string;
}

const LIVE = 'live { currency count outstanding overdue defaulted financed frozen }';
const POSITIONS = `query ($o: String!) { financePositions(organizationId: $o) { organizationId asOfBlock holding { ${LIVE} } owing { ${LIVE} } } }`;
const RECEIVABLE = 'receivableId rootId issuer debtor holder currency faceValue status dueDate';
const RECEIVABLES = `query ($o: [String!]) {
  held: financeReceivables(filter: { holder: $o }, first: 100) { items { ${RECEIVABLE} } }
  issued: financeReceivables(filter: { issuer: $o }, first: 100) { items { ${RECEIVABLE} } }
  owed: financeReceivables(filter: { debtor: $o }, first: 100) { items { ${RECEIVABLE} } }
}`;
const FINANCING = 'financingId assetKind assetId applicant financier kind currency principal status';
const FINANCINGS = `query ($o: [String!]) {
  applied: financings(filter: { applicant: $o }, first: 200) { items { ${FINANCING} } }
  granted: financings(filter: { financier: $o }, first: 200) { items { ${FINANCING} } }
}`;
const EXPOSURE = `query {
  debtorExposure(first: 50) { items { debtor currency receivables outstanding } asOfBlock }
  financierExposure(first: 50) { items { financier currency financings principal } asOfBlock }
}`;
const TREE = `query ($id: String!) { certificateTree(receivableId: $id) {
  rootId receivableId currency debtor issuer dueDate faceValue paid outstanding financed asOfBlock
  nodes { receivableId parentId children depth holder currency faceValue outstanding status encumbrance { kind financingId financier } frozen { by reason } }
} }`;

/** The order a financing moves through (docs/finance.md); any other status the service answers follows. */
const PIPELINE = ['applied', 'approved', 'disbursed', 'repaid', 'released', 'recourse', 'rejected', 'withdrawn'];

/**
 * Finance for the signed-in organization: its positions (financePositions),
 * the receivables it holds, issued or owes, each opening its certificate tree
 * (certificateTree), its financing pipeline by status, and the consortium's
 * exposure per debtor and per financier. Amounts are minor-unit strings,
 * formatted exactly with the currency's exponent.
 */
export function FinancePage() {
  const { authorize, session } = useSignedIn();
  const organizationId = session.principal.organizationId;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const vars = { o: organizationId };
  const listVars = { o: [organizationId] };
  const positions = useQuery<{ financePositions: Positions }>(authorize, POSITIONS, vars, organizationId);
  const receivables = useQuery<Record<'held' | 'issued' | 'owed', { items: Receivable[] }>>(authorize, RECEIVABLES, listVars, organizationId);
  const financings = useQuery<Record<'applied' | 'granted', { items: Financing[] }>>(authorize, FINANCINGS, listVars, organizationId);
  const exposure = useQuery<{ debtorExposure: { items: DebtorExposure[]; asOfBlock: number }; financierExposure: { items: FinancierExposure[]; asOfBlock: number } }>(authorize, EXPOSURE, {}, 'all');

  return (
    <main id="main">
      <h1 ref={heading} tabIndex={-1}>
        Finance
      </h1>
      <section aria-labelledby="positions-heading">
        <h2 id="positions-heading">Positions</h2>
        <Section loaded={positions}>
          {({ financePositions: p }) => (
            <>
              <p className="hint">
                Positions of {p.organizationId} as of block {p.asOfBlock}.
              </p>
              <PositionTable caption="Receivables held" rows={p.holding.live} />
              <PositionTable caption="Receivables owed" rows={p.owing.live} />
            </>
          )}
        </Section>
      </section>
      <section aria-labelledby="receivables-heading">
        <h2 id="receivables-heading">Receivables</h2>
        <Section loaded={receivables}>{(r) => <Receivables organizationId={organizationId} items={merge([...r.held.items, ...r.issued.items, ...r.owed.items])} />}</Section>
      </section>
      <section aria-labelledby="pipeline-heading">
        <h2 id="pipeline-heading">Financing pipeline</h2>
        <Section loaded={financings}>{(f) => <Pipeline items={uniqueBy([...f.applied.items, ...f.granted.items], (x) => x.financingId)} />}</Section>
      </section>
      <section aria-labelledby="exposure-heading">
        <h2 id="exposure-heading">Exposure</h2>
        <Section loaded={exposure}>
          {(e) => (
            <>
              <h3>Outstanding per debtor</h3>
              {e.debtorExposure.items.length === 0 ? (
                <Empty>No debtor owes a live receivable.</Empty>
              ) : (
                <Bars title="Outstanding per debtor" bars={e.debtorExposure.items.map((d) => ({ key: `${d.debtor}/${d.currency}`, label: `${d.debtor} (${d.receivables})`, amount: d.outstanding, currency: d.currency }))} />
              )}
              <h3>Principal per financier</h3>
              {e.financierExposure.items.length === 0 ? (
                <Empty>No financier has financed anything.</Empty>
              ) : (
                <Bars title="Principal per financier" bars={e.financierExposure.items.map((f) => ({ key: `${f.financier}/${f.currency}`, label: `${f.financier} (${f.financings})`, amount: f.principal, currency: f.currency }))} />
              )}
              <p className="hint">As of block {e.debtorExposure.asOfBlock}.</p>
            </>
          )}
        </Section>
      </section>
    </main>
  );
}

function Section<T>({ loaded, children }: { readonly loaded: Loaded<T>; readonly children: (value: T) => ReactNode }) {
  if (loaded.state === 'loading') return <Loading />;
  if (loaded.state === 'error') return <ErrorAlert error={loaded.error} />;
  return <>{children(loaded.value)}</>;
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}

const merge = (items: readonly Receivable[]) => uniqueBy(items, (r) => r.receivableId).sort((a, b) => (a.receivableId < b.receivableId ? -1 : a.receivableId > b.receivableId ? 1 : 0));

function roleOf(r: Receivable, org: string): string {
  const roles = [r.holder === org && 'holder', r.issuer === org && 'issuer', r.debtor === org && 'debtor'].filter(Boolean);
  return roles.join(', ');
}

function Receivables({ organizationId, items }: { readonly organizationId: string; readonly items: readonly Receivable[] }) {
  const [open, setOpen] = useState<string | null>(null);
  if (items.length === 0) return <Empty>No receivable names {organizationId} as holder, issuer or debtor.</Empty>;
  return (
    <>
      <ul className="receivable-list" aria-label="Receivables">
        {items.map((r) => (
          <li key={r.receivableId}>
            <strong>{r.receivableId}</strong>
            <span>{formatMoney(r.faceValue, r.currency)}</span>
            <span>{r.status}</span>
            <span>
              {r.issuer} → debtor {r.debtor}, held by {r.holder}, due {r.dueDate}
            </span>
            <span className="hint">({roleOf(r, organizationId)})</span>
            <button type="button" aria-expanded={open === r.receivableId} aria-controls="certificate-tree" onClick={() => setOpen(open === r.receivableId ? null : r.receivableId)}>
              Certificate tree of {r.receivableId}
            </button>
          </li>
        ))}
      </ul>
      <div id="certificate-tree">{open !== null && <TreeView receivableId={open} />}</div>
    </>
  );
}

function TreeView({ receivableId }: { readonly receivableId: string }) {
  const { authorize } = useSignedIn();
  const tree = useQuery<{ certificateTree: Tree }>(authorize, TREE, { id: receivableId }, receivableId);
  return (
    <section aria-labelledby="tree-heading">
      <h3 id="tree-heading">Certificate tree of {receivableId}</h3>
      <Section loaded={tree}>
        {({ certificateTree: t }) => (
          <>
            <p className="hint">
              Root {t.rootId}: {t.issuer} → debtor {t.debtor}, face {formatMoney(t.faceValue, t.currency)}, paid {formatMoney(t.paid, t.currency)}, outstanding {formatMoney(t.outstanding, t.currency)}, financed {formatMoney(t.financed, t.currency)}, due {t.dueDate}; as of block {t.asOfBlock}. Arrow keys move through the tree.
            </p>
            {t.nodes.length === 0 ? <Empty>The tree has no certificates.</Empty> : <CertificateTree rootId={t.rootId} nodes={t.nodes} label={`Certificate tree of ${t.rootId}`} />}
          </>
        )}
      </Section>
    </section>
  );
}

function Pipeline({ items }: { readonly items: readonly Financing[] }) {
  if (items.length === 0) return <Empty>No financing: none applied for or granted.</Empty>;
  const statuses = [...PIPELINE.filter((s) => items.some((f) => f.status === s)), ...[...new Set(items.map((f) => f.status))].filter((s) => !PIPELINE.includes(s)).sort()];
  return (
    <ol className="pipeline" aria-label="Financings by status">
      {statuses.map((status) => {
        const group = items.filter((f) => f.status === status);
        return (
          <li key={status}>
            <h3>
              {status} ({group.length})
            </h3>
            <ul>
              {group.map((f) => (
                <li key={f.financingId}>
                  {f.financingId}: {f.kind} of {f.assetKind} {f.assetId}, {formatMoney(f.principal, f.currency)}, {f.applicant} ← {f.financier}
                </li>
              ))}
            </ul>
          </li>
        );
      })}
    </ol>
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
            <td className="num">{formatMinor(r.outstanding, r.currency)}</td>
            <td className="num">{formatMinor(r.overdue, r.currency)}</td>
            <td className="num">{formatMinor(r.defaulted, r.currency)}</td>
            <td className="num">{formatMinor(r.financed, r.currency)}</td>
            <td className="num">{formatMinor(r.frozen, r.currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
