import { useEffect, useRef, useState } from 'react';
import { ErrorAlert, Empty, Loading } from '../components/states';
import { ApiError, describeGraphQLErrors, query, subscriptionError } from '../lib/api';
import { type BlockSummary, memberRows, mergeBlock, type Organization } from '../lib/network';
import { useSignedIn } from '../session';
import { BlockDetails } from './BlockDetails';

const BLOCK_FIELDS = 'blockNumber headerHash timestamp transactionCount certified signedBy';
/** How many recent blocks the page loads before it listens. */
const WINDOW = 20;

type Load<T> = { readonly state: 'loading' } | { readonly state: 'error'; readonly error: unknown } | { readonly state: 'ready'; readonly value: T };

interface Overview {
  readonly servedBy: string;
  readonly organizations: readonly Organization[];
}

export function NetworkPage() {
  const { authorize, subscriptions } = useSignedIn();
  const [overview, setOverview] = useState<Load<Overview>>({ state: 'loading' });
  const [blocks, setBlocks] = useState<BlockSummary[]>([]);
  const [feed, setFeed] = useState<'connecting' | 'live' | { error: string }>('connecting');
  const [selected, setSelected] = useState<number | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => heading.current?.focus(), []);

  useEffect(() => {
    const abort = new AbortController();
    let unsubscribe: (() => void) | undefined;
    (async () => {
      try {
        const data = await query<{ ledgerStatus: { organizationId: string }; identityOrganizations: Organization[] }>(
          authorize,
          '{ ledgerStatus { organizationId } identityOrganizations { organizationId role status nodeKey { algorithm publicKey keyId } } }',
          {},
          abort.signal,
        );
        // The newest certified block (a checkpoint is cut for each), then the recent window, then live from the next one.
        let head = -1;
        try {
          head = (await query<{ ledgerCheckpoint: { blockNumber: number } }>(authorize, '{ ledgerCheckpoint { blockNumber } }', {}, abort.signal)).ledgerCheckpoint.blockNumber;
        } catch (error) {
          if (!(error instanceof ApiError && error.code === 'LEDGER.NO_CHECKPOINT')) throw error;
        }
        const from = Math.max(0, head - WINDOW + 1);
        const recent = head < 0 ? [] : (await query<{ ledgerBlocks: BlockSummary[] }>(authorize, `query ($from: Int!, $limit: Int!) { ledgerBlocks(from: $from, limit: $limit) { ${BLOCK_FIELDS} } }`, { from, limit: WINDOW }, abort.signal)).ledgerBlocks;
        if (abort.signal.aborted) return;
        setOverview({ state: 'ready', value: { servedBy: data.ledgerStatus.organizationId, organizations: data.identityOrganizations } });
        setBlocks(recent.reduce<BlockSummary[]>((list, b) => mergeBlock(list, b), []));
        unsubscribe = subscriptions.subscribe<{ ledgerBlockCertified: BlockSummary }>(
          { query: `subscription ($from: Int) { ledgerBlockCertified(from: $from) { ${BLOCK_FIELDS} } }`, variables: { from: head + 1 } },
          {
            next: (result) => {
              if (result.errors?.length) {
                setFeed({ error: describeGraphQLErrors(result.errors).message });
                return;
              }
              const block = result.data?.ledgerBlockCertified;
              if (block) {
                setFeed('live');
                setBlocks((list) => mergeBlock(list, block));
              }
            },
            error: (error) => setFeed({ error: subscriptionError(error, 'The live feed').message }),
            complete: () => setFeed({ error: 'The live feed ended.' }),
          },
        );
        setFeed((f) => (f === 'connecting' ? 'live' : f));
      } catch (error) {
        if (!abort.signal.aborted) setOverview({ state: 'error', error });
      }
    })();
    return () => {
      abort.abort();
      unsubscribe?.();
    };
  }, [authorize, subscriptions]);

  const certified = blocks.filter((b) => b.certified);

  return (
    <main id="main">
      <h1 ref={heading} tabIndex={-1}>
        Network
      </h1>
      {overview.state === 'loading' && <Loading />}
      {overview.state === 'error' && <ErrorAlert error={overview.error} />}
      {overview.state === 'ready' && (
        <>
          <section aria-labelledby="members-note">
            <table>
              <caption>Members</caption>
              <thead>
                <tr>
                  <th scope="col">Organization</th>
                  <th scope="col">Role</th>
                  <th scope="col">Node head</th>
                  <th scope="col">Certified</th>
                </tr>
              </thead>
              <tbody>
                {memberRows(overview.value.organizations, blocks).map((row) => (
                  <tr key={row.organizationId}>
                    <th scope="row">{row.organizationId}</th>
                    <td>
                      {row.role}
                      {row.status !== 'member' && <span className="muted"> ({row.status})</span>}
                    </td>
                    <td>{row.nodeHead === null ? <span className="muted">—</span> : `Block ${row.nodeHead}`}</td>
                    <td>{row.certified === null ? <span className="muted">—</span> : row.certified ? 'Yes' : 'Not yet'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p id="members-note" className="hint">
              Blocks served by {overview.value.servedBy}’s ledger node. A member’s node head is the newest of the last {WINDOW}+ blocks its node signed.
            </p>
            {overview.value.organizations.length === 0 && <Empty>No organizations yet.</Empty>}
          </section>
          <div className="columns">
            <section aria-labelledby="blocks-heading" className="blocks">
              <h2 id="blocks-heading">Certified blocks</h2>
              {feed === 'connecting' && <Loading label="Loading…" />}
              {typeof feed === 'object' && <ErrorAlert>{feed.error}</ErrorAlert>}
              <ol aria-label="Certified blocks" aria-live="polite" className="block-list">
                {certified.map((b) => (
                  <li key={b.blockNumber}>
                    <button type="button" id={`block-${b.blockNumber}`} className={selected === b.blockNumber ? 'block selected' : 'block'} aria-pressed={selected === b.blockNumber} onClick={() => setSelected(b.blockNumber)}>
                      Block {b.blockNumber}
                    </button>
                  </li>
                ))}
              </ol>
              {certified.length === 0 && <Empty>No certified blocks yet: they appear here as they are certified.</Empty>}
            </section>
            {selected !== null && (
              <BlockDetails
                key={selected}
                blockNumber={selected}
                onClose={() => {
                  // Back to where the user was: the block's button in the list.
                  document.getElementById(`block-${selected}`)?.focus();
                  setSelected(null);
                }}
              />
            )}
          </div>
        </>
      )}
    </main>
  );
}
