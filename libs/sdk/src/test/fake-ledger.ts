import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BlockHeader,
  Envelope,
  HeaderSignature,
  JsonObject,
  ResultEntry,
  SignatureDomain,
  StateRow,
  StoredBlockColumns,
  buildReceipt,
  canonicalBytes,
  canonicalize,
  checkpointOrigin,
  consistencyProof,
  formatCheckpoint,
  formatSignedNote,
  fromHex,
  headerHashHex,
  inclusionProof,
  leafHash,
  publicKeyOf,
  merkleRoot,
  resultLeafHash,
  sign,
  signCheckpoint,
  signHeader,
  signTransaction,
  toBase64,
  toBase64Url,
  toHex,
  transactionId,
} from '@alliance/protocol';
import { compareUtf8 } from '../bytes';
import { vectors } from './vectors';

/**
 * An in-memory ledger that builds a real chain (the protocol library's
 * headers, roots, signatures and checkpoints, the ledger's configuration
 * contracts' shapes) and serves it over HTTP with the ledger API's routes and
 * answer shapes (apps/ledger/src/ledger-api.ts, ledger-queries.ts). Tests
 * tamper with its stored rows the way someone editing PostgreSQL would.
 */

export const CHAIN_ID = 'alliance-test';

const CREATOR = vectors.keys.creator;
const NODE_KEYS: Record<string, string> = Object.fromEntries(vectors.keys.members.map((m) => [m.organizationId, m.privateKey]));
/** RFC 8032 TEST SHA(abc) private key: org3's node key after the rotation. */
const ROTATED_ORG3 = '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42';

export interface MemberKey {
  readonly organizationId: string;
  readonly privateKey: string;
}

export interface StoredBlock {
  header: BlockHeader;
  headerHash: string;
  signatures: HeaderSignature[];
  records: Uint8Array[];
  results: ResultEntry[];
  nodeKeys: MemberKey[];
  /** Each signer's signed-note signature body over this block's checkpoint (header_signatures.checkpoint_signature). */
  checkpointSignatures: string[];
}

/** A `transactions` row's columns beside the envelope and result bytes. */
export interface TransactionColumns {
  leafHash: string;
  type: string | null;
  organizationId: string | null;
  detail: string | null;
  code: string;
  transactionId: string;
  position: number;
  leafIndex: number;
}

/** A `state` row: value as stored bytes. */
export interface StoredStateRow {
  value: Uint8Array | null;
  version: number;
  blockNumber: number;
  transactionId: string;
}

function publicHex(privateKey: string): string {
  return toHex(publicKeyOf('ed25519', fromHex(privateKey)));
}

export function chainConfig(sequence: number, nodeKeys: readonly MemberKey[]): JsonObject {
  return {
    chainId: CHAIN_ID,
    sequence,
    members: nodeKeys.map((k) => ({
      organizationId: k.organizationId,
      role: 'member',
      nodeKey: { algorithm: 'ed25519', publicKey: publicHex(k.privateKey) },
      keys: k.organizationId === 'org1' ? [{ keyId: CREATOR.keyId, algorithm: 'ed25519', publicKey: CREATOR.publicKey }] : [],
    })),
    policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
    cutting: { maxTransactions: 500, maxBytes: 1048576, batchTimeoutMs: 250 },
    timestampWindowMs: 300000,
  };
}

let nonce = 0;
function envelopeOf(type: string, payload: JsonObject, seconds: number): Envelope {
  const transaction = {
    chainId: CHAIN_ID,
    type,
    creator: { organizationId: 'org1', keyId: CREATOR.keyId },
    nonce: `n${++nonce}`,
    timestamp: new Date(Date.UTC(2026, 10, 25, 20, 0, seconds)).toISOString(),
    payload,
  };
  return signTransaction(transaction, { algorithm: 'ed25519', privateKey: fromHex(CREATOR.privateKey) });
}

export interface FakeLedgerOptions {
  /** Anchor blocks after genesis (default 6). */
  readonly blocks?: number;
  /** Insert a configuration block rotating org3's node key after this many anchor blocks. */
  readonly rotateAfter?: number;
  /** The rotation as a `config.update` with approvals (default), or written without any (as a deciding membership vote does). */
  readonly rotationApprovals?: boolean;
  /** Who signs the rotation block: the members before it (default, the rule) or the new ones (a forged change). */
  readonly rotationSignedBy?: 'previous' | 'new';
  /** The sequence the rotation writes (default: the next one). */
  readonly rotationSequence?: number;
  /** Serve GET /ledger/v1/blocks/{n}/transactions (default true). */
  readonly blockData?: boolean;
}

export class FakeLedger {
  readonly blocks: StoredBlock[] = [];
  /** What the node holds in memory for proofs (tests may make it differ from the blocks). */
  leafHashes: Uint8Array[] = [];
  readonly genesis: Envelope;
  blockData: boolean;
  /** Serve GET /ledger/v1/state (nodes older than the route do not). */
  stateRoute = true;
  private server: Server | null = null;
  url = '';
  /** Answer the next requests with this status and problem, for transport tests. */
  failWith: { status: number; code: string } | null = null;

  constructor(options: FakeLedgerOptions = {}) {
    this.blockData = options.blockData ?? true;
    let nodeKeys: MemberKey[] = Object.entries(NODE_KEYS).map(([organizationId, privateKey]) => ({ organizationId, privateKey }));
    let config = chainConfig(0, nodeKeys);
    this.genesis = envelopeOf('config.genesis', { config }, 0);
    this.append([this.genesis], [[{ key: 'config/chain', value: config, version: 1 }]], nodeKeys, 0);
    const anchors = options.blocks ?? 6;
    let configVersion = 1;
    for (let b = 1; b <= anchors; b++) {
      if (options.rotateAfter !== undefined && b === options.rotateAfter + 1) {
        const next: MemberKey[] = nodeKeys.map((k) => (k.organizationId === 'org3' ? { organizationId: 'org3', privateKey: ROTATED_ORG3 } : k));
        const nextConfig = chainConfig(options.rotationSequence ?? (config['sequence'] as number) + 1, next);
        const approvals = nodeKeys.slice(0, 2).map((k) => ({
          organizationId: k.organizationId,
          signature: toBase64Url(sign('ed25519', fromHex(k.privateKey), SignatureDomain.configUpdate, canonicalBytes(nextConfig))),
        }));
        const update =
          options.rotationApprovals === false
            ? envelopeOf('identity.membership.vote', { proposalId: 'f'.repeat(64), approve: true }, 10 * b)
            : envelopeOf('config.update', { config: nextConfig, approvals }, 10 * b);
        // The block that changes the configuration is certified by the members before it (protocol.md §7.4).
        this.append([update], [[{ key: 'config/chain', value: nextConfig, version: ++configVersion }]], options.rotationSignedBy === 'new' ? next : nodeKeys, nextConfig['sequence'] as number);
        nodeKeys = next;
        config = nextConfig;
      }
      const count = 1 + (b % 3);
      const envelopes = Array.from({ length: count }, (_, i) => envelopeOf('ledger.anchor', { hash: toHex(leafHash(new TextEncoder().encode(`doc ${b}.${i}`))) }, 10 * b + i));
      const writes = envelopes.map((e) => [{ key: `anchor/${(e.transaction.payload as { hash: string }).hash}`, value: { blockNumber: this.blocks.length, creator: 'org1' }, version: 1 }]);
      this.append(envelopes, writes, nodeKeys, config['sequence'] as number);
    }
  }

  private append(envelopes: Envelope[], writes: ResultEntry['writes'][], nodeKeys: MemberKey[], configSequence: number): void {
    const records = envelopes.map((e) => canonicalBytes(e));
    const leaves = records.map((r) => leafHash(r));
    const results: ResultEntry[] = envelopes.map((e, i) => ({ transactionId: transactionId(e.transaction), code: 'VALID', writes: writes[i] }));
    const previous = this.blocks[this.blocks.length - 1];
    const all = [...this.leafHashes, ...leaves];
    const firstOffset = previous ? previous.header.ordering.lastOffset + 1 : 0;
    const header: BlockHeader = {
      chainId: CHAIN_ID,
      blockNumber: this.blocks.length,
      previousHash: previous ? previous.headerHash : '0'.repeat(64),
      dataRoot: toHex(merkleRoot(leaves)),
      resultsRoot: toHex(merkleRoot(results.map(resultLeafHash))),
      transactionCount: records.length,
      logSize: all.length,
      logRoot: toHex(merkleRoot(all)),
      ordering: { source: 'solo', firstOffset, lastOffset: firstOffset + records.length - 1 },
      timestamp: new Date(Date.UTC(2026, 10, 25, 20, 1, this.blocks.length)).toISOString(),
      configSequence,
    };
    const signatures = nodeKeys.map((k) => signHeader(header, { organizationId: k.organizationId, privateKey: fromHex(k.privateKey) }));
    const note = formatCheckpoint({ origin: checkpointOrigin(CHAIN_ID), treeSize: header.logSize, rootHash: fromHex(header.logRoot) });
    const checkpointSignatures = nodeKeys.map((k) => signCheckpoint(note, { name: k.organizationId, privateKey: fromHex(k.privateKey) }).trimEnd().split(' ').at(-1) ?? '');
    this.blocks.push({ header, headerHash: headerHashHex(header), signatures, records, results, nodeKeys, checkpointSignatures });
    this.leafHashes = all;
    // The world state as the node writes it: last write wins.
    for (const r of results) for (const w of r.writes) this.state.set(w.key, { value: w.value === null ? null : canonicalBytes(w.value), version: w.version, blockNumber: header.blockNumber, transactionId: r.transactionId });
  }

  /** The world state rows (tests edit them as PostgreSQL's `ledger.state`). */
  readonly state = new Map<string, StoredStateRow>();
  /** Hand edits of a block row's columns, by block number. */
  readonly blockColumns = new Map<number, Partial<StoredBlockColumns>>();
  /** Hand edits of a transaction row's columns, by `block/position`. */
  readonly transactionColumns = new Map<string, Partial<TransactionColumns>>();

  private storedColumns(b: StoredBlock): StoredBlockColumns {
    const n = b.header.blockNumber;
    return {
      header: toBase64(canonicalBytes(b.header)),
      previousHash: b.header.previousHash,
      transactionCount: b.header.transactionCount,
      logSize: b.header.logSize,
      firstOffset: n === 0 ? -1 : b.header.ordering.firstOffset,
      lastOffset: n === 0 ? -1 : b.header.ordering.lastOffset,
      blockTime: `${b.header.timestamp.slice(0, -1)}000Z`,
      configSequence: b.header.configSequence,
      signatures: b.signatures.map((sig, i) => ({ organizationId: sig.organizationId, algorithm: 'ed25519', headerHash: b.headerHash, checkpointSignature: b.checkpointSignatures[i] ?? '' })),
      ...this.blockColumns.get(n),
    };
  }

  private transactionRow(n: number, i: number): TransactionColumns {
    const b = this.blocks[n];
    const envelope = JSON.parse(new TextDecoder().decode(b.records[i])) as Envelope;
    const code = b.results[i].code;
    return {
      leafHash: toHex(leafHash(b.records[i])),
      type: envelope.transaction?.type ?? null,
      organizationId: envelope.transaction?.creator?.organizationId ?? null,
      detail: code === 'VALID' ? null : `refused: ${code}`,
      code,
      transactionId: b.results[i].transactionId,
      position: i,
      leafIndex: b.header.logSize - b.header.transactionCount + i,
      ...this.transactionColumns.get(`${n}/${i}`),
    };
  }

  /** GET /ledger/v1/state rows in byte order of the keys. */
  private stateRows(): StateRow[] {
    return [...this.state.entries()]
      .sort(([a], [b]) => compareUtf8(a, b))
      .map(([key, r]) => ({ key, value: r.value === null ? null : toBase64(r.value), version: r.version, blockNumber: r.blockNumber, transactionId: r.transactionId }));
  }

  // ---------------------------------------------------------------- tampering, as an editor of PostgreSQL would

  /** Changes the stored header (not its stored hash). */
  editHeader(n: number, change: (h: BlockHeader) => BlockHeader, alsoHash = false): void {
    const block = this.blocks[n];
    block.header = change({ ...block.header });
    if (alsoHash) block.headerHash = headerHashHex(block.header);
  }

  /** Rewrites a stored transaction's bytes (the node's memory keeps the old leaf unless `restart`). */
  editRecord(n: number, i: number, change: (envelope: Record<string, unknown>) => Record<string, unknown>, restart = false): void {
    const block = this.blocks[n];
    const value = JSON.parse(new TextDecoder().decode(block.records[i])) as Record<string, unknown>;
    block.records[i] = new TextEncoder().encode(canonicalize(change(value)));
    if (restart) this.leafHashes = this.blocks.flatMap((b) => b.records.map((r) => leafHash(r)));
  }

  // ---------------------------------------------------------------- the API

  private view(b: StoredBlock) {
    const first = b.header.logSize - b.header.transactionCount;
    return {
      blockNumber: b.header.blockNumber,
      headerHash: b.headerHash,
      header: b.header,
      certified: true,
      signatures: b.signatures,
      transactions: b.results.map((r, i) => ({ transactionId: r.transactionId, leafIndex: first + i, code: r.code })),
      stored: this.storedColumns(b),
    };
  }

  private receipt(id: string) {
    for (const b of this.blocks) {
      const i = b.results.findIndex((r) => r.transactionId === id);
      if (i < 0) continue;
      const first = b.header.logSize - b.header.transactionCount;
      const envelope = JSON.parse(new TextDecoder().decode(b.records[i])) as Envelope;
      const status = { status: 'committed', transactionId: id, blockNumber: b.header.blockNumber, leafIndex: first + i, code: 'VALID', certified: true };
      const receipt = buildReceipt({
        envelope,
        creatorPublicKey: fromHex(CREATOR.publicKey),
        result: b.results[i],
        header: b.header,
        signatures: b.signatures,
        leafIndex: first + i,
        inclusionProof: inclusionProof(this.leafHashes.slice(0, b.header.logSize), first + i),
        resultProof: inclusionProof(b.results.map(resultLeafHash), i),
        dataProof: inclusionProof(b.records.map((r) => leafHash(r)), i),
        // Like the node: the members that certify the block.
        members: b.nodeKeys.map((k) => ({ organizationId: k.organizationId, algorithm: 'ed25519' as const, publicKey: publicHex(k.privateKey) })),
        policy: { type: 'majority' },
      });
      return { ...status, receipt };
    }
    return null;
  }

  checkpointNote(n = this.blocks.length - 1): string {
    const b = this.blocks[n];
    const text = formatCheckpoint({ origin: checkpointOrigin(CHAIN_ID), treeSize: b.header.logSize, rootHash: fromHex(b.header.logRoot) });
    return formatSignedNote(
      text,
      b.nodeKeys.map((k) => signCheckpoint(text, { name: k.organizationId, privateKey: fromHex(k.privateKey) })),
    );
  }

  checkpointOverride: string | null = null;
  /** Stored result bytes that differ from the canonical form of the result (by `block/position`). */
  readonly resultBytes = new Map<string, Uint8Array>();

  handle(method: string, url: URL, body = ''): { status: number; body: unknown; type?: string } {
    const notFound = (code: string, detail: string) => ({ status: 404, body: { type: `urn:alliance:problem:${code}`, title: code, status: 404, detail, code }, type: 'application/problem+json' });
    if (this.failWith) return { status: this.failWith.status, body: { code: this.failWith.code, status: this.failWith.status, detail: 'injected failure', title: this.failWith.code }, type: 'application/problem+json' };
    const path = url.pathname;
    let m: RegExpMatchArray | null;
    if (method === 'GET' && path === '/ledger/v1/blocks') {
      const from = Number(url.searchParams.get('from') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const items = this.blocks.slice(from, from + limit).map((b) => this.view(b));
      const next = from + limit < this.blocks.length ? `/ledger/v1/blocks?from=${from + limit}&limit=${limit}` : null;
      return { status: 200, body: { items, next } };
    }
    if (method === 'GET' && (m = path.match(/^\/ledger\/v1\/blocks\/(\d+)$/))) {
      const b = this.blocks[Number(m[1])];
      return b ? { status: 200, body: this.view(b) } : notFound('LEDGER.BLOCK_NOT_FOUND', 'no such block');
    }
    if (method === 'GET' && (m = path.match(/^\/ledger\/v1\/blocks\/(\d+)\/transactions$/))) {
      if (!this.blockData) return notFound('COMMON.ROUTE_NOT_FOUND', `Cannot GET ${path}`);
      const n = Number(m[1]);
      const b = this.blocks[n];
      if (!b) return notFound('LEDGER.BLOCK_NOT_FOUND', 'no such block');
      return {
        status: 200,
        // The shape of LedgerQueries.blockTransactions: base64 of the stored envelope and result bytes.
        body: {
          blockNumber: b.header.blockNumber,
          transactions: b.records.map((r, i) => ({
            ...this.transactionRow(n, i),
            envelope: toBase64(r),
            result: toBase64(this.resultBytes.get(`${n}/${i}`) ?? canonicalBytes(b.results[i])),
          })),
        },
      };
    }
    if (method === 'GET' && path === '/ledger/v1/state') {
      if (!this.stateRoute) return notFound('COMMON.ROUTE_NOT_FOUND', `Cannot GET ${path}`);
      const after = url.searchParams.get('after');
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const rows = this.stateRows().filter((r) => after === null || compareUtf8(r.key, after) > 0);
      const items = rows.slice(0, limit);
      const next = rows.length > limit ? `/ledger/v1/state?after=${encodeURIComponent(items[items.length - 1].key)}&limit=${limit}` : null;
      return { status: 200, body: { items, next } };
    }
    if (method === 'GET' && (m = path.match(/^\/ledger\/v1\/transactions\/([0-9a-f]{64})$/))) {
      const found = this.receipt(m[1]);
      return found ? { status: 200, body: found } : notFound('LEDGER.TRANSACTION_NOT_FOUND', 'not found');
    }
    if (method === 'GET' && path === '/ledger/v1/checkpoints/latest') {
      const n = this.blocks.length - 1;
      const b = this.blocks[n];
      return {
        status: 200,
        body: { blockNumber: n, treeSize: b.header.logSize, rootHash: b.header.logRoot, note: this.checkpointOverride ?? this.checkpointNote(n), signedBy: b.nodeKeys.map((k) => k.organizationId) },
      };
    }
    if (method === 'GET' && path === '/ledger/v1/proofs/consistency') {
      const from = Number(url.searchParams.get('from'));
      const to = Number(url.searchParams.get('to'));
      if (!(from >= 1 && from <= to && to <= this.leafHashes.length)) {
        return { status: 400, body: { code: 'LEDGER.INVALID_RANGE', status: 400, detail: `need 1 <= from <= to <= ${this.leafHashes.length}` }, type: 'application/problem+json' };
      }
      return { status: 200, body: { fromSize: from, toSize: to, proof: consistencyProof(this.leafHashes.slice(0, to), from).map(toHex) } };
    }
    if (method === 'POST' && path === '/ledger/v1/transactions') {
      const envelope = JSON.parse(body || 'null') as Envelope | null;
      if (!envelope?.transaction) return { status: 400, body: { code: 'LEDGER.MALFORMED_TRANSACTION', status: 400, detail: 'the body must be a signed transaction envelope' }, type: 'application/problem+json' };
      const id = transactionId(envelope.transaction);
      if (this.submitted.has(id)) return { status: 409, body: { code: 'LEDGER.DUPLICATE_TRANSACTION', status: 409, detail: `transaction ${id} was already submitted` }, type: 'application/problem+json' };
      this.submitted.add(id);
      return { status: 202, body: { transactionId: id, status: 'pending' } };
    }
    return notFound('COMMON.ROUTE_NOT_FOUND', `Cannot ${method} ${path}`);
  }

  readonly submitted = new Set<string>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const reply = this.handle(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x'), body);
        res.writeHead(reply.status, { 'content-type': `${reply.type ?? 'application/json'}; charset=utf-8` });
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

}
