import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { vectors } from './test/vectors';
import { AllianceApiError, AllianceClient, BlockView, Envelope, SdkErrorCode, createEnvelope, importKey } from './index';

/** A stand-in ledger node: each test sets `handler`; requests are recorded. */
let server: Server;
let base = '';
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = () => undefined;
const requests: Array<{ method: string; url: string; body: string; headers: IncomingMessage['headers'] }> = [];

function json(res: ServerResponse, status: number, value: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8` });
  res.end(JSON.stringify(value));
}

function problem(res: ServerResponse, status: number, code: string, detail: string, extra: Record<string, unknown> = {}): void {
  json(res, status, { type: `urn:alliance:problem:${code}`, title: code, status, detail, code, instance: '/x', ...extra }, 'application/problem+json');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  requests.length = 0;
});

const key = importKey({ organizationId: 'org1', algorithm: 'ed25519', privateKey: vectors.keys.creator.privateKey });
const envelope: Envelope = createEnvelope(key, { chainId: 'alliance-main', type: 'ledger.anchor', payload: { hash: 'ab'.repeat(32) } });
const TX = 'd2d3f32663b51292edfd45cd4a6f6cd945102ee13eff64c92e8bb5b961216baf';

async function apiError(promise: Promise<unknown>): Promise<AllianceApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AllianceApiError);
    return error as AllianceApiError;
  }
  throw new Error('expected an AllianceApiError');
}

describe('AllianceClient', () => {
  it('maps problem+json answers to AllianceApiError with code, status and detail', async () => {
    handler = (_req, res) => problem(res, 409, 'LEDGER.DUPLICATE_TRANSACTION', 'transaction abc was already submitted', { correlationId: 'corr-1', details: { transactionId: 'abc' } });
    const client = new AllianceClient(base);
    const error = await apiError(client.submit(envelope));
    expect(error.code).toBe('LEDGER.DUPLICATE_TRANSACTION');
    expect(error.status).toBe(409);
    expect(error.detail).toBe('transaction abc was already submitted');
    expect(error.correlationId).toBe('corr-1');
    expect(error.extra.details).toEqual({ transactionId: 'abc' });
    expect(error.message).toContain('LEDGER.DUPLICATE_TRANSACTION (HTTP 409)');
    expect(requests[0]).toMatchObject({ method: 'POST', url: '/ledger/v1/transactions' });
    expect(JSON.parse(requests[0].body)).toEqual(envelope);
    expect(requests[0].headers['content-type']).toBe('application/json');
  });

  it('maps error answers without problem+json to SDK.HTTP_ERROR, and non-JSON success to SDK.BAD_RESPONSE', async () => {
    const client = new AllianceClient(base);
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    };
    const gateway = await apiError(client.block(3));
    expect(gateway).toMatchObject({ code: SdkErrorCode.HTTP_ERROR, status: 502 });
    expect(gateway.detail).toContain('Bad Gateway');
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello');
    };
    expect((await apiError(client.block(3))).code).toBe(SdkErrorCode.BAD_RESPONSE);
  });

  it('reports an unreachable node as SDK.NETWORK_ERROR and a silent one as SDK.TIMEOUT (status 0)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = await apiError(new AllianceClient(`http://127.0.0.1:${port}`).block(0));
    expect(unreachable).toMatchObject({ code: SdkErrorCode.NETWORK_ERROR, status: 0 });

    handler = () => undefined; // never answers
    const timeout = await apiError(new AllianceClient({ baseUrl: base, timeoutMs: 200 }).block(0));
    expect(timeout).toMatchObject({ code: SdkErrorCode.TIMEOUT, status: 0 });
  });

  it('sends a GET again after a connection reset, never a POST', async () => {
    let resets = 0;
    handler = (req, res) => {
      if (resets < 2) {
        resets++;
        req.socket.destroy(); // the server drops the connection without answering
        return;
      }
      json(res, 200, { transactionId: TX, status: 'pending' });
    };
    const client = new AllianceClient(base);
    expect(await client.transaction(TX)).toMatchObject({ transactionId: TX });
    expect(requests.filter((r) => r.method === 'GET')).toHaveLength(3);
    resets = 0;
    requests.length = 0;
    expect(await apiError(client.submit(envelope))).toMatchObject({ code: SdkErrorCode.NETWORK_ERROR });
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('submits with ?wait=commit, batches, and accepts a base URL ending in /ledger/v1', async () => {
    handler = (req, res, body) => {
      if (req.url === '/ledger/v1/transactions/batch') return json(res, 202, { transactionIds: JSON.parse(body).transactions.map(() => TX), status: 'pending' });
      json(res, req.url?.endsWith('wait=commit') ? 200 : 202, { transactionId: TX, status: req.url?.endsWith('wait=commit') ? 'committed' : 'pending' });
    };
    const client = new AllianceClient(`${base}/ledger/v1/`);
    expect(client.baseUrl).toBe(base);
    expect(await client.submit(envelope)).toEqual({ transactionId: TX, status: 'pending' });
    expect((await client.submit(envelope, { wait: true })).status).toBe('committed');
    expect(await client.submitBatch([envelope, envelope])).toEqual({ transactionIds: [TX, TX], status: 'pending' });
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /ledger/v1/transactions',
      'POST /ledger/v1/transactions?wait=commit',
      'POST /ledger/v1/transactions/batch',
    ]);
    await expect(client.submitBatch([])).rejects.toMatchObject({ code: SdkErrorCode.INVALID_ARGUMENT });
  });

  it('waitForCommit polls through "not found" and "pending" until the receipt is served', async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      if (calls === 1) return problem(res, 404, 'LEDGER.TRANSACTION_NOT_FOUND', 'not found');
      if (calls === 2) return json(res, 200, { status: 'pending', transactionId: TX });
      if (calls === 3) return json(res, 200, { status: 'committed', transactionId: TX, blockNumber: 1, leafIndex: 2, code: 'VALID', certified: false });
      json(res, 200, { status: 'committed', transactionId: TX, blockNumber: 1, leafIndex: 2, code: 'VALID', certified: true, receipt: vectors.receipt });
    };
    const result = await new AllianceClient(base).waitForCommit(TX, 10_000, { pollIntervalMs: 10 });
    expect(result.receipt.transactionId).toBe(TX);
    expect(calls).toBe(4);
  });

  it('waitForCommit gives up with SDK.COMMIT_TIMEOUT, and stops at other errors', async () => {
    handler = (_req, res) => json(res, 200, { status: 'pending', transactionId: TX });
    const client = new AllianceClient(base);
    const timeout = await apiError(client.waitForCommit(TX, 150, { pollIntervalMs: 20 }));
    expect(timeout.code).toBe(SdkErrorCode.COMMIT_TIMEOUT);
    expect(timeout.detail).toContain('pending');
    handler = (_req, res) => problem(res, 503, 'LEDGER.NODE_HALTED', 'this node halted: fork');
    expect((await apiError(client.waitForCommit(TX, 5_000))).code).toBe('LEDGER.NODE_HALTED');
    await expect(client.transaction('nope')).rejects.toMatchObject({ code: SdkErrorCode.INVALID_ARGUMENT });
  });

  it('streams every block by following next', async () => {
    const view = (n: number): BlockView => ({ blockNumber: n, headerHash: '', header: {} as never, certified: true, signatures: [], transactions: [] });
    handler = (req, res) => {
      const url = new URL(req.url ?? '', base);
      const from = Number(url.searchParams.get('from'));
      const limit = Number(url.searchParams.get('limit'));
      const items = Array.from({ length: Math.max(0, Math.min(limit, 7 - from)) }, (_, i) => view(from + i));
      const nextFrom = from + limit < 7 ? from + limit : null;
      json(res, 200, { items, next: nextFrom === null ? null : `/ledger/v1/blocks?from=${nextFrom}&limit=${limit}` });
    };
    const seen: number[] = [];
    for await (const b of new AllianceClient(base).blocks(0, 3)) seen.push(b.blockNumber);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(requests.map((r) => r.url)).toEqual(['/ledger/v1/blocks?from=0&limit=3', '/ledger/v1/blocks?from=3&limit=3', '/ledger/v1/blocks?from=6&limit=3']);
  });

  it('fetches checkpoints as JSON and as the signed note, and consistency proofs', async () => {
    handler = (req, res) => {
      if (req.url === '/ledger/v1/checkpoints/latest') {
        if ((req.headers.accept ?? '').includes('text/plain')) {
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          return res.end(vectors.checkpoint);
        }
        return json(res, 200, { blockNumber: 1, treeSize: 4, rootHash: vectors.consistency.toRoot, note: vectors.checkpoint, signedBy: ['org1', 'org2', 'org3'] });
      }
      if (req.url === '/ledger/v1/proofs/consistency?from=1&to=4') return json(res, 200, { fromSize: 1, toSize: 4, proof: vectors.consistency.proof });
      problem(res, 404, 'COMMON.ROUTE_NOT_FOUND', 'Cannot GET');
    };
    const client = new AllianceClient(base);
    expect((await client.latestCheckpoint()).treeSize).toBe(4);
    expect(await client.latestCheckpointNote()).toBe(vectors.checkpoint);
    expect((await client.consistencyProof(1, 4)).proof).toEqual(vectors.consistency.proof);
    const missing = await apiError(client.blockTransactions(0));
    expect(missing).toMatchObject({ code: 'COMMON.ROUTE_NOT_FOUND', status: 404 });
  });

  it('rejects a base URL that is not http(s)', () => {
    expect(() => new AllianceClient('localhost:3000')).toThrow(AllianceApiError);
  });
});
