import { useEffect, useRef, useState } from 'react';
import { ErrorAlert, Empty, Loading } from '../components/states';
import { query } from '../lib/api';
import { type Organization, pinnedMembers } from '../lib/network';
import { checkReceipt, type ReceiptCheck } from '../lib/receipts';
import { useSignedIn } from '../session';

interface BlockTransaction {
  readonly transactionId: string;
  readonly status: string;
  readonly code: string | null;
  readonly leafIndex: number | null;
  /** The receipt's JSON text once the block is certified (GraphQL `LedgerTransaction.receipt`). */
  readonly receipt: string | null;
}

interface Block {
  readonly blockNumber: number;
  readonly headerHash: string;
  readonly previousHash: string;
  readonly timestamp: string;
  readonly transactionCount: number;
  readonly logSize: number;
  readonly certified: boolean;
  readonly signedBy: readonly string[];
  readonly transactions: readonly BlockTransaction[];
}

type Check = { readonly state: 'checking' } | ReceiptCheck;

/** The receipt's JSON text as a value for the verifier; text that is not JSON is no receipt (the check fails). */
function parseReceipt(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { malformed: text };
  }
}

/** One block: its header facts and transactions, each receipt fetched and verified here, in the browser, by the SDK. */
export function BlockDetails({ blockNumber, onClose }: { readonly blockNumber: number; readonly onClose: () => void }) {
  const { authorize } = useSignedIn();
  const [block, setBlock] = useState<{ state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; block: Block }>({ state: 'loading' });
  const [checks, setChecks] = useState<Record<string, Check>>({});
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => heading.current?.focus(), []);

  useEffect(() => {
    const abort = new AbortController();
    (async () => {
      try {
        // The members a receipt must be certified by: the identity service's members after this block.
        const data = await query<{ ledgerBlock: Block; identityOrganizations: Organization[] }>(
          authorize,
          `query ($n: Int!) {
            ledgerBlock(blockNumber: $n) { blockNumber headerHash previousHash timestamp transactionCount logSize certified signedBy transactions { transactionId status code leafIndex receipt } }
            identityOrganizations(atBlock: $n) { organizationId role status nodeKey { algorithm publicKey keyId } }
          }`,
          { n: blockNumber },
          abort.signal,
        );
        if (abort.signal.aborted) return;
        setBlock({ state: 'ready', block: data.ledgerBlock });
        const members = pinnedMembers(data.identityOrganizations);
        // Every receipt came with the block; each is verified here against the members pinned above.
        setChecks(Object.fromEntries(data.ledgerBlock.transactions.map((t) => [t.transactionId, checkReceipt(parseReceipt(t.receipt), members, t.transactionId, blockNumber)])));
      } catch (error) {
        if (!abort.signal.aborted) setBlock({ state: 'error', error });
      }
    })();
    return () => abort.abort();
  }, [authorize, blockNumber]);

  return (
    <section className="block-details" aria-labelledby="block-heading">
      <div className="details-head">
        <h2 id="block-heading" ref={heading} tabIndex={-1}>
          Block {blockNumber}
        </h2>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {block.state === 'loading' && <Loading />}
      {block.state === 'error' && <ErrorAlert error={block.error} />}
      {block.state === 'ready' && (
        <>
          <dl className="facts">
            <dt>Time (UTC)</dt>
            <dd>{block.block.timestamp}</dd>
            <dt>Header hash</dt>
            <dd className="hash">{block.block.headerHash}</dd>
            <dt>Previous hash</dt>
            <dd className="hash">{block.block.previousHash}</dd>
            <dt>Log size</dt>
            <dd>{block.block.logSize}</dd>
            <dt>Signed by</dt>
            <dd>{block.block.signedBy.join(', ') || '—'}</dd>
            <dt>Certified</dt>
            <dd>{block.block.certified ? 'Yes' : 'Not yet'}</dd>
          </dl>
          {block.block.transactions.length === 0 ? (
            <Empty>This block has no transactions.</Empty>
          ) : (
            <table>
              <caption>Transactions of block {blockNumber}</caption>
              <thead>
                <tr>
                  <th scope="col">Transaction</th>
                  <th scope="col">Result</th>
                  <th scope="col">Receipt</th>
                </tr>
              </thead>
              <tbody>
                {block.block.transactions.map((t) => (
                  <tr key={t.transactionId}>
                    <td className="hash">{t.transactionId}</td>
                    <td>{t.code ?? t.status}</td>
                    <td>
                      <ReceiptBadge check={checks[t.transactionId] ?? { state: 'checking' }} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

function ReceiptBadge({ check }: { readonly check: Check }) {
  if (check.state === 'checking') return <span role="status">Verifying…</span>;
  if (check.state === 'verified') {
    return (
      <span className="verdict verdict-ok" aria-label="Receipt verified" title={`Proofs, result and signatures checked in this browser; certified by ${check.certifiedBy.join(', ')}`}>
        <svg aria-hidden="true" viewBox="0 0 16 16" width="16" height="16">
          <path d="M2 8.5l4 4 8-9" fill="none" stroke="currentColor" strokeWidth="2.2" />
        </svg>
        Receipt verified
      </span>
    );
  }
  return (
    <span className="verdict verdict-failed" aria-label="Proof failed">
      <svg aria-hidden="true" viewBox="0 0 16 16" width="16" height="16">
        <path d="M3 3l10 10M13 3L3 13" fill="none" stroke="currentColor" strokeWidth="2.2" />
      </svg>
      Proof failed <span className="why">({check.why})</span>
    </span>
  );
}
