import {
  BlockHeader,
  Envelope,
  GENESIS_PREVIOUS_HASH,
  MerkleAccumulator,
  ProtocolError,
  ProtocolErrorCode,
  ResultEntry,
  canonicalBytes,
  decodeEnvelope,
  fromBase64,
  fromBase64Url,
  parseCanonical,
  fromHex,
  headerHashHex,
  leafHash,
  merkleRoot,
  resultLeafHash,
  toHex,
  transactionId,
  validateResultEntry,
} from '@alliance/protocol';
import { AllianceClient, BlockTransactionsView, BlockView, CheckpointView } from './client';
import { AllianceApiError, AllianceSdkError } from './errors';
import { verifyConsistency, verifyInclusion } from './proofs';
import { StateReplay } from './state-replay';
import { checkpointSignatureDifference, storedBlockDifference, storedTransactionDifference } from './stored-columns';
import { CONFIG_STATE_KEY, ChainTrust, adoptConfiguration, trustFromGenesis } from './trust';
import { verifyBlock, verifyCheckpoint } from './verify';

/**
 * `alliance verify chain`: streams every block of a node and checks everything
 * the API lets a client check, naming the first block that fails.
 *
 * Two modes, chosen by what the node serves:
 *
 * - **full** — the node serves `GET /ledger/v1/blocks/{n}/transactions` (the
 *   exact ordered records and result entries of a block): every record's leaf,
 *   dataRoot, resultsRoot, result ids and codes, and the global log (size and
 *   root recomputed from genesis), configuration changes followed from the
 *   committed results.
 * - **headers** — the node does not: header hashes, the previousHash chain,
 *   logSize continuity, ordering offsets, certification by the members in
 *   force, the transaction list against the header, block 0 against the
 *   pinned genesis, and an RFC 9162 consistency proof from each block's log to
 *   the next (`/proofs/consistency`), which catches a changed transaction only
 *   when the node's in-memory log was rebuilt from its database.
 *
 * In both modes every column the node stores beside the hashed bytes
 * (`stored` of each block: previous hash, counts, offsets, time, signature
 * rows and checkpoint signatures) is checked against the verified header.
 * In full mode the transaction rows' other columns (leaf hash, type,
 * organization, detail) are checked against their records, and the world
 * state (`GET /ledger/v1/state`) against the writes replayed from the
 * verified results. The latest checkpoint is verified against the members and
 * against the header it names. Transport failures are not verdicts: they
 * throw (AllianceApiError) and the caller reports "could not complete".
 */

export type ChainMode = 'full' | 'headers';

export const ChainFailureCode = {
  BLOCK_NUMBER_MISMATCH: 'SDK.BLOCK_NUMBER_MISMATCH',
  HEADER_HASH_MISMATCH: 'SDK.HEADER_HASH_MISMATCH',
  GENESIS_MISMATCH: 'SDK.GENESIS_MISMATCH',
  UNKNOWN_CONFIGURATION: 'SDK.UNKNOWN_CONFIGURATION',
  BAD_CONFIG_UPDATE: 'SDK.BAD_CONFIG_UPDATE',
  TRANSACTION_LIST_MISMATCH: 'SDK.TRANSACTION_LIST_MISMATCH',
  INCONSISTENT_LOG: 'SDK.INCONSISTENT_LOG',
  CHECKPOINT_MISMATCH: 'SDK.CHECKPOINT_MISMATCH',
  MISSING_BLOCKS: 'SDK.MISSING_BLOCKS',
  EMPTY_CHAIN: 'SDK.EMPTY_CHAIN',
  BLOCK_DATA_UNAVAILABLE: 'SDK.BLOCK_DATA_UNAVAILABLE',
  STORED_COLUMN_MISMATCH: 'SDK.STORED_COLUMN_MISMATCH',
  STATE_MISMATCH: 'SDK.STATE_MISMATCH',
} as const;

export interface ChainProgress {
  readonly mode: ChainMode;
  /** Blocks verified so far. */
  readonly blocks: number;
  readonly transactions: number;
  /** The newest certified block when verification started (the checkpoint's), if known. */
  readonly targetBlock: number | null;
  readonly lastBlock: number | null;
  /** World-state rows compared so far (after the blocks), when the state is verified. */
  readonly stateRows?: number;
}

export interface ChainHead {
  readonly blockNumber: number;
  readonly headerHash: string;
  readonly logSize: number;
  readonly logRoot: string;
}

export type ChainVerification =
  | {
      readonly ok: true;
      readonly mode: ChainMode;
      readonly chainId: string;
      readonly blocks: number;
      readonly transactions: number;
      readonly head: ChainHead;
      readonly checkpoint: { readonly blockNumber: number; readonly treeSize: number; readonly verifiedBy: readonly string[] } | null;
      /** World-state rows compared with the replayed writes; null when the state was not verified (see notes). */
      readonly stateRows: number | null;
      readonly trustSource: ChainTrust['source'] | 'node-genesis';
      /** What was not (or could not be) checked, and why. */
      readonly notes: readonly string[];
    }
  | {
      readonly ok: false;
      readonly mode: ChainMode;
      /** The first bad block, or null when the failure is not one block's (checkpoint, empty chain). */
      readonly blockNumber: number | null;
      readonly code: string;
      readonly detail: string;
      /** Blocks verified before the failure. */
      readonly blocks: number;
      readonly notes: readonly string[];
    };

export interface ChainVerifyOptions {
  /** Pinned trust (genesis file or members); without it the node's own genesis block is used (and a note says so). */
  readonly trust?: ChainTrust;
  /** Blocks per request (≤ 500); default 100. */
  readonly pageSize?: number;
  /** Requests in flight for block data and consistency proofs; default 8. */
  readonly concurrency?: number;
  /** `auto` (default) uses block data when the node serves it; `required` fails without it; `off` never asks. */
  readonly blockData?: 'auto' | 'required' | 'off';
  /** Headers mode: fetch a consistency proof between successive blocks (default true). */
  readonly consistency?: boolean;
  readonly onProgress?: (progress: ChainProgress) => void;
  readonly signal?: AbortSignal;
}

class Failure extends Error {
  constructor(
    readonly blockNumber: number | null,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Starts `fn` for every item with at most `limit` running; the returned promises never reject. */
function startLimited<I, T>(items: readonly I[], limit: number, fn: (item: I) => Promise<T>): Promise<Settled<T>>[] {
  let running = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    running--;
    queue.shift()?.();
  };
  return items.map(
    (item) =>
      new Promise<Settled<T>>((resolve) => {
        const run = () => {
          running++;
          fn(item).then(
            (value) => {
              release();
              resolve({ ok: true, value });
            },
            (error: unknown) => {
              release();
              resolve({ ok: false, error });
            },
          );
        };
        if (running < limit) run();
        else queue.push(run);
      }),
  );
}

function unwrap<T>(settled: Settled<T>): T {
  if (settled.ok) return settled.value;
  throw settled.error;
}

function isRouteMissing(error: unknown): boolean {
  return error instanceof AllianceApiError && error.status === 404 && (error.code === 'COMMON.ROUTE_NOT_FOUND' || error.code === 'SDK.HTTP_ERROR');
}

/** A client error (4xx) of the node about its own data is a verdict; anything else stops verification. */
function isRefusal(error: unknown): error is AllianceApiError {
  return error instanceof AllianceApiError && error.status >= 400 && error.status < 500;
}

function short(hash: string): string {
  return hash.length > 16 ? `${hash.slice(0, 16)}…` : hash;
}

function sameMembers(a: ChainTrust, b: ChainTrust): boolean {
  const key = (t: ChainTrust) =>
    JSON.stringify([...t.members].sort((x, y) => (x.organizationId < y.organizationId ? -1 : 1)).map((m) => [m.organizationId, m.publicKey]));
  return key(a) === key(b);
}

interface DecodedRecord {
  readonly leaf: Uint8Array;
  readonly resultLeaf: Uint8Array;
  readonly transactionId: string;
  readonly envelope: Envelope | null;
  readonly result: ResultEntry;
}

export async function verifyChain(client: AllianceClient, options: ChainVerifyOptions = {}): Promise<ChainVerification> {
  const pageSize = Math.min(500, Math.max(1, options.pageSize ?? 100));
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const notes: string[] = [];

  let checkpoint: CheckpointView | null = null;
  try {
    checkpoint = await client.latestCheckpoint();
  } catch (error) {
    if (!(error instanceof AllianceApiError && error.code === 'LEDGER.NO_CHECKPOINT')) throw error;
    notes.push('the node has no certified checkpoint yet');
  }
  const targetBlock = checkpoint?.blockNumber ?? null;

  let mode: ChainMode = 'headers';
  if (options.blockData !== 'off') {
    try {
      await client.blockTransactions(0);
      mode = 'full';
    } catch (error) {
      // The route exists but the node has no block 0: the (empty) block stream gives the verdict.
      if (error instanceof AllianceApiError && error.code === 'LEDGER.BLOCK_NOT_FOUND') mode = 'full';
      else if (!isRouteMissing(error)) throw error;
      else if (options.blockData === 'required') {
        return { ok: false, mode, blockNumber: null, code: ChainFailureCode.BLOCK_DATA_UNAVAILABLE, detail: 'the node does not serve GET /ledger/v1/blocks/{n}/transactions', blocks: 0, notes };
      } else {
        notes.push('transaction contents not verified: the node does not serve GET /ledger/v1/blocks/{n}/transactions (headers, signatures, links and log consistency were)');
      }
    }
  } else {
    notes.push('transaction contents not verified (block data off)');
  }
  if (mode === 'headers' && options.consistency === false) notes.push('log consistency between blocks not checked (--no-consistency)');

  let trust: ChainTrust | null = options.trust ?? null;
  const trustSource: ChainTrust['source'] | 'node-genesis' = trust?.source ?? 'node-genesis';
  const trustAt = new Map<number, ChainTrust>();
  let chainId: string | null = trust?.chainId ?? null;
  let accumulator = new MerkleAccumulator();
  const replay = new StateReplay();
  let blocks = 0;
  let transactions = 0;
  // Mutated by the per-block closures: an object, so TypeScript does not narrow them to their initial null.
  const at: { previous: BlockHeader | null; head: ChainHead | null; uncertifiedTail: number | null } = { previous: null, head: null, uncertifiedTail: null };

  const progress = () => options.onProgress?.({ mode, blocks, transactions, targetBlock, lastBlock: at.head?.blockNumber ?? null });
  const fail = (blockNumber: number | null, code: string, detail: string): ChainVerification => ({ ok: false, mode, blockNumber, code, detail, blocks, notes });

  /** Checks one block; throws Failure with the verdict. */
  const checkBlock = async (view: BlockView, expected: number, data: Settled<BlockTransactionsView> | null, proof: Settled<readonly string[]> | null): Promise<'ok' | 'stop'> => {
    const n = expected;
    if (typeof view !== 'object' || view === null || view.blockNumber !== n || view.header?.blockNumber !== n) {
      throw new Failure(n, ChainFailureCode.BLOCK_NUMBER_MISMATCH, `expected block ${n}, the node sent block ${String(view?.blockNumber)} (header says ${String(view?.header?.blockNumber)})`);
    }
    const header = view.header;
    let computed: string;
    try {
      computed = headerHashHex(header);
    } catch (error) {
      throw new Failure(n, (error as ProtocolError).code ?? ProtocolErrorCode.MALFORMED_HEADER, `the header is not a valid protocol object: ${(error as Error).message}`);
    }
    if (computed !== view.headerHash) {
      throw new Failure(n, ChainFailureCode.HEADER_HASH_MISMATCH, `the node's stored header hash is ${short(view.headerHash)} but its header hashes to ${short(computed)}: the header was changed after it was hashed`);
    }
    if (chainId !== null && header.chainId !== chainId) throw new Failure(n, ProtocolErrorCode.CHAIN_MISMATCH, `block of chain ${header.chainId}, expected ${chainId}`);
    chainId = header.chainId;
    const columns = storedBlockDifference(view, header, computed);
    if (columns !== null) throw new Failure(n, ChainFailureCode.STORED_COLUMN_MISMATCH, columns);

    // What the block's records are, when the node serves them.
    let records: DecodedRecord[] | null = null;
    if (data) {
      let d: BlockTransactionsView;
      try {
        d = unwrap(data);
      } catch (error) {
        if (isRefusal(error)) throw new Failure(n, ChainFailureCode.BLOCK_DATA_UNAVAILABLE, `the node refused the block's transactions: ${error.message}`);
        throw error;
      }
      records = decodeRecords(n, header, d);
    }

    // Block 0 establishes (or is checked against) the trust.
    if (n === 0) {
      if (header.previousHash !== GENESIS_PREVIOUS_HASH) throw new Failure(0, ProtocolErrorCode.BAD_CHAIN_LINK, 'block 0 must have previousHash 0…0');
      let genesisEnvelope: Envelope | null = records?.[0]?.envelope ?? null;
      if (records === null && (trust === null || trust.genesisLeafHash === undefined) && view.transactions.length > 0) {
        // Headers mode: the genesis transaction comes with its receipt; its leaf must be block 0's data root.
        if (trust === null) {
          const status = await client.transaction(view.transactions[0].transactionId);
          const env = status.status !== 'pending' ? status.receipt?.envelope : undefined;
          if (!env) throw new Failure(0, ChainFailureCode.GENESIS_MISMATCH, 'the node serves no receipt for the genesis transaction, so the members cannot be learnt; pass --members');
          genesisEnvelope = env;
        }
      }
      if (genesisEnvelope !== null) {
        let fromBlock: ChainTrust;
        try {
          fromBlock = trustFromGenesis(genesisEnvelope);
        } catch (error) {
          throw new Failure(0, ChainFailureCode.GENESIS_MISMATCH, `block 0 does not hold a valid genesis configuration: ${(error as Error).message}`);
        }
        if (fromBlock.genesisLeafHash !== header.dataRoot || header.transactionCount !== 1) {
          throw new Failure(0, ChainFailureCode.GENESIS_MISMATCH, `the genesis transaction (leaf ${short(fromBlock.genesisLeafHash ?? '')}) is not block 0's only transaction (dataRoot ${short(header.dataRoot)})`);
        }
        if (trust === null) {
          trust = fromBlock;
          notes.push("members taken from the node's own genesis block, not pinned: pass --members <genesis file> to check the chain against the consortium you trust");
        } else if (trust.genesisLeafHash !== undefined && trust.genesisLeafHash !== fromBlock.genesisLeafHash) {
          throw new Failure(0, ChainFailureCode.GENESIS_MISMATCH, `block 0's genesis transaction (leaf ${short(fromBlock.genesisLeafHash ?? '')}) is not the pinned genesis (leaf ${short(trust.genesisLeafHash)})`);
        } else if (!sameMembers(trust, fromBlock) || trust.sequence !== 0) {
          throw new Failure(0, ChainFailureCode.GENESIS_MISMATCH, "block 0's genesis configuration names other members than the pinned ones");
        }
      }
      if (trust?.genesisLeafHash !== undefined && trust.genesisLeafHash !== header.dataRoot) {
        throw new Failure(0, ChainFailureCode.GENESIS_MISMATCH, `block 0's dataRoot ${short(header.dataRoot)} is not the pinned genesis transaction's leaf ${short(trust.genesisLeafHash)}: this is another chain, or block 0 was changed`);
      }
      if (trust?.chainId !== undefined && trust.chainId !== header.chainId) {
        throw new Failure(0, ProtocolErrorCode.CHAIN_MISMATCH, `the node keeps chain ${header.chainId}, the pinned genesis is for ${trust.chainId}`);
      }
      if (records === null && header.logRoot !== header.dataRoot) {
        throw new Failure(0, ProtocolErrorCode.BLOCK_CONTENT_MISMATCH, "block 0's logRoot differs from its dataRoot (the log starts with block 0)");
      }
    }
    if (trust === null) throw new Failure(n, ChainFailureCode.UNKNOWN_CONFIGURATION, 'no members to verify against: pass --members');
    if (n === 0 && header.configSequence !== trust.sequence) {
      throw new Failure(0, ChainFailureCode.GENESIS_MISMATCH, `block 0 has configSequence ${header.configSequence}, the genesis configuration is ${trust.sequence}`);
    }

    // A configuration block is certified by the members in force before it (`trust`); its
    // configuration's members certify the blocks after it (docs/protocol.md §7.4).
    let next = trust;
    if (n > 0 && header.configSequence !== trust.sequence) {
      next = await followConfiguration(n, header, view, records, trust);
    } else if (records !== null && n > 0 && records.some((r) => r.result.code === 'VALID' && r.result.writes.some((w) => w.key === CONFIG_STATE_KEY))) {
      throw new Failure(n, ChainFailureCode.BAD_CONFIG_UPDATE, `block ${n} changes the configuration but keeps configSequence ${header.configSequence}`);
    }

    const verdict = verifyBlock(
      { header, signatures: view.signatures },
      { trust, ...(at.previous ? { previous: at.previous } : {}) },
    );
    if (!verdict.ok) {
      if (verdict.reason === ProtocolErrorCode.NOT_CERTIFIED && targetBlock !== null && n > targetBlock) return 'stop';
      throw new Failure(n, verdict.reason, describeBlockFailure(verdict.reason, verdict.detail, header, at.previous));
    }
    const checkpointSignatures = checkpointSignatureDifference(view, header, trust);
    if (checkpointSignatures !== null) throw new Failure(n, ChainFailureCode.STORED_COLUMN_MISMATCH, checkpointSignatures);

    // The node's transaction list must be the header's slice of the log.
    const first = header.logSize - header.transactionCount;
    if (!Array.isArray(view.transactions) || view.transactions.length !== header.transactionCount) {
      throw new Failure(n, ChainFailureCode.TRANSACTION_LIST_MISMATCH, `the node lists ${Array.isArray(view.transactions) ? view.transactions.length : 'no'} transactions, the header says ${header.transactionCount}`);
    }
    view.transactions.forEach((t, i) => {
      if (t.leafIndex !== first + i) throw new Failure(n, ChainFailureCode.TRANSACTION_LIST_MISMATCH, `transaction ${i} is listed at leaf ${t.leafIndex}, the header puts it at ${first + i}`);
    });

    if (records !== null) {
      checkContents(n, header, view, records);
      const log = accumulator.clone();
      for (const r of records) log.append(r.leaf);
      if (log.size !== header.logSize) throw new Failure(n, ProtocolErrorCode.BLOCK_CONTENT_MISMATCH, `the log holds ${log.size} transactions after this block, the header says logSize ${header.logSize}`);
      const root = toHex(log.root());
      if (root !== header.logRoot) throw new Failure(n, ProtocolErrorCode.BLOCK_CONTENT_MISMATCH, `the log recomputed from genesis has root ${short(root)} after this block, the header says logRoot ${short(header.logRoot)}`);
      accumulator = log;
      replay.apply(n, records.map((r) => r.result));
    } else if (proof !== null && at.previous !== null) {
      const previous = at.previous;
      let hashes: readonly string[];
      try {
        hashes = unwrap(proof);
      } catch (error) {
        if (isRefusal(error)) throw new Failure(n, ChainFailureCode.INCONSISTENT_LOG, `the node cannot prove its log grew from ${previous.logSize} to ${header.logSize}: ${error.message}`);
        throw error;
      }
      const ok =
        Array.isArray(hashes) &&
        hashes.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)) &&
        verifyConsistency({ fromSize: previous.logSize, toSize: header.logSize, fromRoot: fromHex(previous.logRoot), toRoot: fromHex(header.logRoot), proof: hashes.map((h) => fromHex(h)) });
      if (!ok) {
        throw new Failure(n, ChainFailureCode.INCONSISTENT_LOG, `the consistency proof from log size ${previous.logSize} (block ${n - 1}) to ${header.logSize} does not verify: the node's log is not the one the headers commit to (a transaction of this block or an earlier one was changed or removed)`);
      }
    }

    trustAt.set(n, trust);
    trust = next;
    at.previous = header;
    blocks++;
    transactions += header.transactionCount;
    at.head = { blockNumber: n, headerHash: computed, logSize: header.logSize, logRoot: header.logRoot };
    progress();
    return 'ok';
  };

  const followConfiguration = async (n: number, header: BlockHeader, view: BlockView, records: DecodedRecord[] | null, current: ChainTrust): Promise<ChainTrust> => {
    let change: { config: unknown } | null = null;
    if (records !== null) {
      for (const r of records) {
        const write = r.result.code === 'VALID' ? r.result.writes.find((w) => w.key === CONFIG_STATE_KEY) : undefined;
        if (write && r.envelope) change = { config: write.value };
      }
    } else {
      // Headers mode: the configuration transaction's receipt gives its envelope and result, proven against this header.
      for (const t of view.transactions) {
        const status = await client.transaction(t.transactionId).catch((error: unknown) => {
          if (isRefusal(error)) return null;
          throw error;
        });
        const receipt = status && status.status !== 'pending' ? status.receipt : undefined;
        if (!receipt) continue;
        const position = t.leafIndex - (header.logSize - header.transactionCount);
        const proven =
          headerHashHex(receipt.block.header) === view.headerHash &&
          transactionId(receipt.envelope.transaction) === t.transactionId &&
          receipt.result.transactionId === t.transactionId &&
          receipt.resultInclusion.index === position &&
          verifyInclusion({
            leafHash: resultLeafHash(receipt.result),
            leafIndex: position,
            treeSize: header.transactionCount,
            proof: receipt.resultInclusion.proof.map((h) => fromHex(h)),
            root: fromHex(header.resultsRoot),
          }) &&
          verifyInclusion({
            leafHash: leafHash(canonicalBytes(receipt.envelope)),
            leafIndex: t.leafIndex,
            treeSize: header.logSize,
            proof: receipt.inclusionProof.map((h) => fromHex(h)),
            root: fromHex(header.logRoot),
          });
        const write = receipt.result.code === 'VALID' ? receipt.result.writes.find((w) => w.key === CONFIG_STATE_KEY) : undefined;
        if (write && proven) change = { config: write.value };
      }
    }
    if (change === null) {
      throw new Failure(
        n,
        ChainFailureCode.UNKNOWN_CONFIGURATION,
        `block ${n} is under configuration ${header.configSequence}, but no committed configuration change to it can be found or proven (members in force: configuration ${current.sequence})`,
      );
    }
    const applied = adoptConfiguration(current, change.config);
    if (!applied.ok) throw new Failure(n, ChainFailureCode.BAD_CONFIG_UPDATE, `the configuration change in block ${n} is not valid: ${applied.detail}`);
    if (applied.trust.sequence !== header.configSequence) {
      throw new Failure(n, ChainFailureCode.BAD_CONFIG_UPDATE, `block ${n} says configSequence ${header.configSequence}, its configuration change makes it ${applied.trust.sequence}`);
    }
    notes.push(`configuration ${applied.trust.sequence} from block ${n} (certified by the members of configuration ${current.sequence})`);
    return applied.trust;
  };

  try {
    let expected = 0;
    let batch: BlockView[] = [];
    let stopped = false;
    const flush = async (): Promise<void> => {
      const views = batch;
      batch = [];
      if (views.length === 0 || stopped) return;
      const data = mode === 'full' ? startLimited(views, concurrency, (v) => client.blockTransactions(v.blockNumber)) : null;
      const proofs =
        mode === 'headers' && options.consistency !== false
          ? startLimited(
              views.map((_, i) => i),
              concurrency,
              async (i): Promise<readonly string[]> => {
                const v = views[i];
                const prev = i > 0 ? views[i - 1].header : at.previous;
                if (!prev || v.blockNumber === 0 || typeof v.header?.logSize !== 'number' || prev.logSize >= v.header.logSize) return [];
                return (await client.consistencyProof(prev.logSize, v.header.logSize)).proof;
              },
            )
          : null;
      for (let i = 0; i < views.length; i++) {
        const outcome = await checkBlock(views[i], expected, data ? await data[i] : null, proofs ? await proofs[i] : null);
        if (outcome === 'stop') {
          at.uncertifiedTail = views[i].blockNumber;
          stopped = true;
          return;
        }
        expected++;
      }
    };
    for await (const view of client.blocks(0, pageSize, options.signal ? { signal: options.signal } : {})) {
      batch.push(view);
      if (batch.length >= pageSize) await flush();
      if (stopped) break;
    }
    await flush();
  } catch (error) {
    if (error instanceof Failure) return fail(error.blockNumber, error.code, error.detail);
    throw error;
  }

  if (at.head === null) {
    return fail(null, ChainFailureCode.EMPTY_CHAIN, at.uncertifiedTail === 0 ? 'block 0 is not certified' : 'the node serves no blocks');
  }
  const last: ChainHead = at.head;
  if (targetBlock !== null && last.blockNumber < targetBlock) {
    return fail(last.blockNumber + 1, ChainFailureCode.MISSING_BLOCKS, `the node's checkpoint is at block ${targetBlock}, but its blocks end at ${last.blockNumber}`);
  }
  if (at.uncertifiedTail !== null) notes.push(`block ${at.uncertifiedTail} and later are not certified yet and were not verified`);

  let checked: { blockNumber: number; treeSize: number; verifiedBy: string[] } | null = null;
  if (checkpoint !== null) {
    const trusted = trustAt.get(checkpoint.blockNumber);
    if (trusted === undefined) return fail(checkpoint.blockNumber, ChainFailureCode.CHECKPOINT_MISMATCH, `the checkpoint names block ${checkpoint.blockNumber}, which was not verified`);
    const verdict = verifyCheckpoint(checkpoint.note, { trust: trusted, chainId: chainId ?? undefined });
    if (!verdict.ok) return fail(checkpoint.blockNumber, verdict.reason, `the latest checkpoint does not verify: ${verdict.detail}`);
    const header = await headerOf(client, checkpoint.blockNumber, at.previous, last);
    if (verdict.treeSize !== header.logSize || verdict.rootHash !== header.logRoot) {
      return fail(
        checkpoint.blockNumber,
        ChainFailureCode.CHECKPOINT_MISMATCH,
        `the latest checkpoint (size ${verdict.treeSize}, root ${short(verdict.rootHash)}) is not block ${checkpoint.blockNumber}'s log (size ${header.logSize}, root ${short(header.logRoot)})`,
      );
    }
    checked = { blockNumber: checkpoint.blockNumber, treeSize: verdict.treeSize, verifiedBy: verdict.verifiedBy };
  }

  let stateRows: number | null = null;
  if (mode === 'headers') {
    notes.push('world state not verified: replaying its writes needs the block data (GET /ledger/v1/blocks/{n}/transactions)');
  } else {
    const state = await verifyState(client, replay, last.blockNumber, pageSize, (rows) => options.onProgress?.({ mode, blocks, transactions, targetBlock, lastBlock: last.blockNumber, stateRows: rows }), options.signal);
    if (state.ok === false) return fail(state.blockNumber, ChainFailureCode.STATE_MISMATCH, state.detail);
    if (state.ok === 'missing') notes.push('world state not verified: the node does not serve GET /ledger/v1/state');
    else {
      stateRows = state.rows;
      if (state.newer > 0) notes.push(`${state.newer} state rows were rewritten by blocks after block ${last.blockNumber} and were not checked`);
    }
  }
  return { ok: true, mode, chainId: chainId ?? '', blocks, transactions, head: last, checkpoint: checked, stateRows, trustSource, notes };
}

/** GET /ledger/v1/state against the replayed writes of blocks 0–verifiedHead. */
async function verifyState(
  client: AllianceClient,
  replay: StateReplay,
  verifiedHead: number,
  pageSize: number,
  onRow: (rows: number) => void,
  signal: AbortSignal | undefined,
): Promise<{ ok: true; rows: number; newer: number } | { ok: 'missing' } | { ok: false; blockNumber: number | null; detail: string }> {
  const exists = new Map<number, boolean>();
  const blockExists = async (n: number): Promise<boolean> => {
    if (!exists.has(n)) {
      const found = await client.block(n).then(
        () => true,
        (error: unknown) => {
          if (error instanceof AllianceApiError && error.code === 'LEDGER.BLOCK_NOT_FOUND') return false;
          throw error;
        },
      );
      exists.set(n, found);
    }
    return exists.get(n) === true;
  };
  try {
    const verdict = await replay.compare(client.state(pageSize, signal ? { signal } : {}), { verifiedHead, blockExists, onRow });
    if (verdict.ok) return verdict;
    const others = verdict.others === 0 ? '' : verdict.others === 1 ? ' (1 other state row differs too)' : ` (${verdict.others} other state rows differ too)`;
    return { ok: false, blockNumber: verdict.difference.blockNumber, detail: `${verdict.difference.detail}${others}` };
  } catch (error) {
    if (isRouteMissing(error)) return { ok: 'missing' };
    if (isRefusal(error)) return { ok: false, blockNumber: null, detail: `the node refused to list its state: ${error.message}` };
    throw error;
  }
}

/** The verified header of block n: the last one verified, or re-read and compared by hash. */
async function headerOf(client: AllianceClient, n: number, previous: BlockHeader | null, head: ChainHead): Promise<BlockHeader> {
  if (previous !== null && previous.blockNumber === n) return previous;
  const view = await client.block(n);
  if (n === head.blockNumber && headerHashHex(view.header) !== head.headerHash) throw new AllianceSdkError(ChainFailureCode.CHECKPOINT_MISMATCH, `block ${n} changed while it was verified`);
  return view.header;
}

function describeBlockFailure(reason: string, detail: string, header: BlockHeader, previous: BlockHeader | null): string {
  if (reason === ProtocolErrorCode.BAD_CHAIN_LINK && previous) {
    if (header.previousHash !== headerHashHex(previous)) {
      return `previousHash ${short(header.previousHash)} is not the hash of block ${previous.blockNumber} (${short(headerHashHex(previous))})`;
    }
  }
  if (reason === ProtocolErrorCode.BAD_HEADER_SIGNATURE || reason === ProtocolErrorCode.NOT_CERTIFIED) {
    return `${detail} (header hash ${short(headerHashHex(header))}): the header differs from what the members signed, or the signatures were changed`;
  }
  return detail;
}

function bytesOf(text: unknown): Uint8Array | null {
  if (typeof text !== 'string') return null;
  for (const decode of [fromBase64, fromBase64Url]) {
    try {
      return decode(text);
    } catch {
      // try the other alphabet
    }
  }
  return null;
}

function decodeRecords(n: number, header: BlockHeader, data: BlockTransactionsView): DecodedRecord[] {
  if (!data || !Array.isArray(data.transactions)) throw new Failure(n, ChainFailureCode.BLOCK_DATA_UNAVAILABLE, 'the block transactions answer has no transactions array');
  if (data.transactions.length !== header.transactionCount) {
    throw new Failure(n, ProtocolErrorCode.BLOCK_CONTENT_MISMATCH, `the node holds ${data.transactions.length} transactions for this block, the header says ${header.transactionCount}`);
  }
  const first = header.logSize - header.transactionCount;
  return data.transactions.map((t, i) => {
    const bytes = bytesOf(t.envelope);
    if (bytes === null) throw new Failure(n, ChainFailureCode.BLOCK_DATA_UNAVAILABLE, `transaction ${i}: envelope is not base64`);
    if (t.position !== i || t.leafIndex !== first + i) throw new Failure(n, ChainFailureCode.TRANSACTION_LIST_MISMATCH, `transaction ${i} is at position ${t.position}, leaf ${t.leafIndex}; expected ${i}, ${first + i}`);
    // Blocks hold only well-formed envelopes of their chain (protocol.md §7.5): the log may carry anything, blocks may not.
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(bytes);
    } catch (error) {
      throw new Failure(n, ProtocolErrorCode.BLOCK_CONTENT_MISMATCH, `transaction ${i}: the stored envelope does not decode (${(error as ProtocolError).code ?? 'PROTOCOL.INVALID'}): ${(error as Error).message}`);
    }
    if (envelope.transaction.chainId !== header.chainId) throw new Failure(n, ProtocolErrorCode.CHAIN_MISMATCH, `transaction ${i} is for chain ${envelope.transaction.chainId}, the block is of ${header.chainId}`);
    const id = transactionId(envelope.transaction);
    // The result's exact stored bytes when served (they are the results-tree leaf data), else its canonical form.
    let result: ResultEntry;
    let resultBytes: Uint8Array;
    try {
      if (typeof t.result === 'string') {
        const raw = bytesOf(t.result);
        if (raw === null) throw new Error('result is not base64');
        resultBytes = raw;
        result = validateResultEntry(parseCanonical(raw));
      } else {
        result = validateResultEntry(t.result);
        resultBytes = canonicalBytes(result);
      }
    } catch (error) {
      throw new Failure(n, ProtocolErrorCode.MALFORMED_RESULT, `transaction ${i}: the stored result entry is malformed: ${(error as Error).message}`);
    }
    if (result.transactionId !== id) throw new Failure(n, ProtocolErrorCode.TRANSACTION_ID_MISMATCH, `transaction ${i}: the result is for ${short(result.transactionId)}, the record is ${short(id)} (the stored envelope or result was changed)`);
    if (t.transactionId !== id) throw new Failure(n, ChainFailureCode.TRANSACTION_LIST_MISMATCH, `transaction ${i}: stored as ${short(t.transactionId)}, its record is ${short(id)}`);
    if (t.code !== result.code) throw new Failure(n, ChainFailureCode.TRANSACTION_LIST_MISMATCH, `transaction ${i}: stored with code ${t.code} (transactions.code), its result says ${result.code}`);
    const columns = storedTransactionDifference(t, bytes, envelope, result);
    if (columns !== null) throw new Failure(n, ChainFailureCode.STORED_COLUMN_MISMATCH, `transaction ${i} (${short(id)}): ${columns}`);
    return { leaf: leafHash(bytes), resultLeaf: leafHash(resultBytes), transactionId: id, envelope, result };
  });
}

function checkContents(n: number, header: BlockHeader, view: BlockView, records: readonly DecodedRecord[]): void {
  records.forEach((r, i) => {
    const listed = view.transactions[i];
    if (listed.transactionId !== r.transactionId) {
      throw new Failure(n, ChainFailureCode.TRANSACTION_LIST_MISMATCH, `transaction ${i}: listed as ${short(listed.transactionId)}, its record is ${short(r.transactionId)}`);
    }
    if (listed.code !== r.result.code) throw new Failure(n, ChainFailureCode.TRANSACTION_LIST_MISMATCH, `transaction ${i} (${short(r.transactionId)}): listed with code ${listed.code}, its result says ${r.result.code}`);
  });
  const dataRoot = toHex(merkleRoot(records.map((r) => r.leaf)));
  if (dataRoot !== header.dataRoot) {
    throw new Failure(n, ProtocolErrorCode.BLOCK_CONTENT_MISMATCH, `dataRoot recomputed from the ${records.length} stored transactions is ${short(dataRoot)}, the header says ${short(header.dataRoot)}: a stored transaction was changed`);
  }
  const resultsRoot = toHex(merkleRoot(records.map((r) => r.resultLeaf)));
  if (resultsRoot !== header.resultsRoot) {
    throw new Failure(n, ProtocolErrorCode.BLOCK_CONTENT_MISMATCH, `resultsRoot recomputed from the stored results is ${short(resultsRoot)}, the header says ${short(header.resultsRoot)}: a stored result (code or state writes) was changed`);
  }
}
