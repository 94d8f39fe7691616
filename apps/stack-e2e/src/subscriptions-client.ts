import { type Client, createClient, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { anchorEnvelopes } from './ledger-client';
import { getJson } from './support';

/** A dashboard's graphql-ws client for the subscription e2e tests (embedded and stack). */
export interface Block {
  blockNumber: number;
  certified: boolean;
  signedBy: string[];
  transactions: Array<{ transactionId: string; status: string; certified: boolean }>;
}

export interface ErrorShape {
  message: string;
  extensions?: { code?: string; correlationId?: string; details?: Record<string, unknown> };
}

export type BlockResult = FormattedExecutionResult<Record<string, Block>>;

export interface Outcome {
  results: BlockResult[];
  errors?: ErrorShape[];
  completed: boolean;
}

export const BLOCK_FIELDS = 'blockNumber certified signedBy transactions { transactionId status certified }';

/** Connects like a dashboard would, optionally sending headers with the upgrade request; `dispose` them all at the end. */
export function connect(url: string, clients: Client[], headers: Record<string, string> = {}): Client {
  const client = createClient({
    url,
    webSocketImpl: class extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    },
    retryAttempts: 0,
  });
  clients.push(client);
  return client;
}

/** Collects a subscription's results until `until` says stop (then unsubscribes), or its error, or its end. */
export function collect(client: Client, query: string, until: (results: BlockResult[]) => boolean, timeoutMs = 60_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const results: BlockResult[] = [];
    const timer = setTimeout(() => {
      unsubscribe();
      resolve({ results, errors: [{ message: `timed out after ${timeoutMs} ms` }], completed: false });
    }, timeoutMs);
    const unsubscribe = client.subscribe<Record<string, Block>, Record<string, unknown>>(
      { query },
      {
        next: (result) => {
          results.push(result);
          if (until(results)) {
            clearTimeout(timer);
            unsubscribe();
            resolve({ results, completed: false });
          }
        },
        error: (error) => {
          clearTimeout(timer);
          resolve({ results, errors: Array.isArray(error) ? (error as ErrorShape[]) : [{ message: String((error as { reason?: string }).reason ?? error) }], completed: false });
        },
        complete: () => {
          clearTimeout(timer);
          resolve({ results, completed: true });
        },
      },
    );
  });
}

/** Submits signed demo anchors through the gateway's REST API; returns their transaction ids. */
export async function submitAnchors(base: string, dataDir: string, count = 1): Promise<string[]> {
  const ids: string[] = [];
  for (const envelope of anchorEnvelopes(dataDir, 'org1', count)) {
    const res = await getJson(`${base}/ledger/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
    if (res.status !== 202) throw new Error(`submission answered ${res.status}: ${JSON.stringify(res.body)}`);
    ids.push((res.body as { transactionId: string }).transactionId);
  }
  return ids;
}

export const blocksOf = (results: BlockResult[]): Block[] => results.map((r) => r.data?.ledgerBlockCertified).filter((b): b is Block => b !== undefined);

/**
 * Subscribes to live certified blocks and keeps submitting a transaction every
 * two seconds until a pushed block carries one of them, so the test does not
 * depend on when the relay's upstream subscription is in place.
 */
export async function subscribeUntilOwnBlock(client: Client, base: string, dataDir: string): Promise<{ outcome: Outcome; ids: Set<string> }> {
  const ids = new Set<string>();
  const received = collect(client, `subscription { ledgerBlockCertified { ${BLOCK_FIELDS} } }`, (results) => blocksOf(results).some((b) => b.transactions.some((t) => ids.has(t.transactionId))));
  let settled = false;
  void received.then(() => (settled = true));
  while (!settled) {
    for (const id of await submitAnchors(base, dataDir)) ids.add(id);
    await Promise.race([received, new Promise((r) => setTimeout(r, 2_000))]);
  }
  return { outcome: await received, ids };
}
