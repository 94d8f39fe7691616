import { EventEmitter } from 'node:events';
import {
  type BlockHeader,
  canonicalBytes,
  decodeEnvelope,
  decodeEnvelopeParts,
  type DecodedEnvelope,
  encodeEnvelopeValue,
  formatCheckpoint,
  fromBase64Url,
  fromHex,
  headerHash,
  keyId as keyIdOf,
  leafHash,
  MerkleAccumulator,
  MerkleTree,
  merkleRoot,
  sign,
  signCheckpoint,
  toBase64Url,
  toHex,
  checkpointOrigin,
  formatSignedNote,
  isSignatureAlgorithm,
  SignatureDomain,
  verifyNote,
} from '@alliance/protocol';
import {
  adminKeyOf,
  type BlockExecution,
  type ChainConfig,
  CONFIG_KEY,
  type ContractRegistry,
  type CutBlock,
  cutterStateAfter,
  decodeHeaderSignature,
  encodeHeaderSignature,
  executeBlock,
  type HeaderSignatureRecord,
  INITIAL_CUTTER_STATE,
  type JsonValue,
  OrderingDriver,
  type OrderedRecord,
  type PreparedRecord,
  type OrderingLog,
  requiredApprovals,
  resolveSigningKey,
  findAgentKey,
  type SignatureVerifier,
  TRANSACTION_DOMAIN,
  type VersionedValue,
} from '@alliance/ledger/domain';
import { BlockStore, type NodePosition, type PersistedBlock } from '@alliance/ledger/data-access';
import { type Pool, type PoolClient, withTransaction } from '@alliance/shared/data-access-postgres';
import { AllianceError } from '@alliance/shared/util-errors';
import { type VerifyItem, VerifierPool } from './verifier-pool';
import { bootstrapFromPeers, type PeerBlock } from './peer-bootstrap';

export const HEADER_DOMAIN = SignatureDomain.blockHeader;
const ZERO_HASH = new Uint8Array(32);

export interface NodeKey {
  readonly algorithm: 'ed25519';
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface LedgerNodeOptions {
  readonly chainId: string;
  readonly organizationId: string;
  /** `member` nodes sign headers and checkpoints; an `observer` only verifies. */
  readonly role: 'member' | 'observer';
  readonly nodeKey?: NodeKey;
  /** Canonical bytes of the genesis transaction envelope (`config.genesis`), the same on every node. */
  readonly genesis: Uint8Array;
  readonly pool: Pool;
  readonly log: OrderingLog;
  /** `solo` or the Kafka topic/partition, recorded in every header. */
  readonly orderingSource: string;
  readonly registry: ContractRegistry;
  readonly verifier: SignatureVerifier;
  /** Verifies door and cut-time signatures on other cores (default: the process's shared pool). */
  readonly verifierPool?: VerifierPool;
  readonly logger?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, context?: Record<string, unknown>) => void;
  /** Runs inside the block's PostgreSQL transaction (the outbox event `ledger.block.committed.v1`). */
  onCommitted?(client: PoolClient, committed: CommittedBlock): Promise<void>;
  /** Runs inside the transaction that records the halt (the outbox event `ledger.fork.detected.v1`). */
  onForkDetected?(client: PoolClient, fork: ForkDetails): Promise<void>;
  /**
   * Peers' ledger node base URLs: on start, certified blocks this node lacks are copied from them (each
   * re-executed here and required to match, and certified by the members before it) before the ordering
   * log is followed from the last one's offset, so a new member does not replay the log from offset 0.
   */
  readonly bootstrapPeers?: readonly string[];
  /** Blocks per partition of the chain's tables (LEDGER_PARTITION_BLOCKS; docs/ledger.md, Partitioning). */
  readonly partitionBlocks?: number;
}

/** Two header hashes for one block number: what this node committed, and what a member signed. */
export interface ForkDetails {
  readonly blockNumber: number;
  readonly committedHeaderHash: string;
  readonly signerOrganizationId: string;
  readonly signedHeaderHash: string;
  readonly detectedAt: string;
}

export interface CommittedBlock {
  readonly header: BlockHeader;
  readonly headerHash: string;
  readonly execution: BlockExecution;
}

export type TransactionStatus =
  | { readonly status: 'pending'; readonly transactionId: string }
  | { readonly status: 'committed'; readonly transactionId: string; readonly blockNumber: number; readonly leafIndex: number; readonly code: 'VALID'; readonly certified: boolean }
  | { readonly status: 'invalid'; readonly transactionId: string; readonly blockNumber: number; readonly leafIndex: number; readonly code: string; readonly detail: string | null; readonly certified: boolean };

export const LedgerErrors = {
  notFound: (what: string) => new AllianceError('LEDGER.NOT_FOUND', 'not-found', `${what} not found`),
  blockNotFound: (n: number) => new AllianceError('LEDGER.BLOCK_NOT_FOUND', 'not-found', `block ${n} not found`),
  transactionNotFound: (id: string) => new AllianceError('LEDGER.TRANSACTION_NOT_FOUND', 'not-found', `transaction ${id} not found`),
  rejected: (code: string, detail: string) => new AllianceError(code, code === 'LEDGER.DUPLICATE_TRANSACTION' ? 'conflict' : 'invalid', detail),
  halted: (reason: string) => new AllianceError('LEDGER.NODE_HALTED', 'unavailable', `this node halted: ${reason}`),
  timeout: (id: string) => new AllianceError('LEDGER.COMMIT_TIMEOUT', 'unavailable', `transaction ${id} was accepted but not certified in time; poll GET /ledger/v1/transactions/${id}`),
};

/**
 * One organization's ledger node: validates submissions at the door, appends
 * them to the ordering log, cuts and executes blocks deterministically,
 * persists each block atomically with its consumed offset, signs headers and
 * checkpoints, collects every member's signatures from the log and detects
 * forks. Framework-free; the ledger app exposes it over REST and GraphQL.
 */
export class LedgerNode {
  readonly events = new EventEmitter();
  private readonly store: BlockStore;
  private accumulator = new MerkleAccumulator();
  /** The chain's global log with every complete subtree's root: proofs in O(log² n). */
  private readonly tree = new MerkleTree();
  private state = new Map<string, VersionedValue>();
  private committedIds = new Set<string>();
  private config: ChainConfig | undefined;
  /** Each configuration with the block that put it in force, in block order (genesis first). */
  private configHistory: Array<{ readonly blockNumber: number; readonly config: ChainConfig }> = [];
  private head: { blockNumber: number; hash: Uint8Array; header: BlockHeader } | undefined;
  private driver: OrderingDriver | undefined;
  private readonly pending = new Map<string, number>();
  /**
   * Submissions between their reservation and the end of their append, by transaction id: settles
   * when the append is done or has failed. A copy submitted meanwhile waits for it (see submit).
   */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Door-checked records by leaf hash (hex): decoded once and verified once on this node. */
  private readonly admitted = new Map<string, PreparedRecord>();
  /** What cutting learned about each record read from the log (same bytes object the block carries). */
  private readonly cutRecords = new WeakMap<Uint8Array, CutRecord>();
  private readonly pool: VerifierPool;
  /** Committed world state as contracts see it (keys and agents for the door). */
  private readonly stateView = { get: (key: string) => this.state.get(key) };
  private readonly signaturesByBlock = new Map<number, Set<string>>();
  private certifiedHead = -1;
  private halted: string | undefined;
  private signing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: LedgerNodeOptions) {
    this.store = new BlockStore(options.pool, { partitionBlocks: options.partitionBlocks });
    this.pool = options.verifierPool ?? VerifierPool.shared();
    this.events.setMaxListeners(0);
  }

  get chainId(): string {
    return this.options.chainId;
  }

  get headBlock(): number {
    return this.head?.blockNumber ?? -1;
  }

  get certifiedBlock(): number {
    return this.certifiedHead;
  }

  get haltReason(): string | undefined {
    return this.halted;
  }

  currentConfig(): ChainConfig {
    if (!this.config) throw new AllianceError('LEDGER.NOT_READY', 'unavailable', 'the node has no configuration yet');
    return this.config;
  }

  /** Loads the chain from PostgreSQL (writing the genesis block on first start) and starts following the log. */
  async start(): Promise<void> {
    const position = await this.store.position(this.options.chainId);
    if (position?.halted) {
      this.halted = position.haltReason ?? 'halted';
      this.log('error', `node is halted: ${this.halted}; it will not follow the chain until an operator clears node_position.halted`);
      return;
    }
    await this.loadFromStore(position);
    if (!this.head) await this.commitGenesis();
    else await this.checkGenesis();
    let lastOffset = position?.lastOffset ?? -1;
    if (this.options.bootstrapPeers?.length) {
      await bootstrapFromPeers(this, this.options.bootstrapPeers, (level, message) => this.log(level, message));
      lastOffset = (await this.store.position(this.options.chainId))?.lastOffset ?? lastOffset;
      this.certifiedHead = await this.findCertifiedHead(this.headBlock);
    }
    // A freshly created Kafka topic takes a moment to be served everywhere;
    // several nodes starting together race to create it. Retry for a while.
    for (let attempt = 1; ; attempt++) {
      this.driver = this.createDriver(lastOffset);
      try {
        await this.driver.start();
        break;
      } catch (error) {
        await this.driver.stop().catch(() => undefined);
        if (attempt >= 30 || (error as { code?: string }).code === 'LEDGER.ORDERING_OFFSET_OUT_OF_RANGE') throw error;
        this.log('warn', `ordering log not ready (${(error as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
    await this.resignMissing();
  }

  private createDriver(lastOffset: number): OrderingDriver {
    const config = this.currentConfig();
    const driver = new OrderingDriver({
      log: this.options.log,
      cutter: {
        maxTransactions: config.cutting.maxTransactions,
        maxBytes: config.cutting.maxBytes,
        acceptsTransaction: (bytes) => this.prepareRecord(bytes) !== undefined,
        isConfigTransaction: (bytes) => this.options.registry.isConfiguration((this.prepareRecord(bytes) as PreparedRecord).decoded.envelope.transaction.type),
      },
      state: lastOffset < 0 ? { ...INITIAL_CUTTER_STATE, nextBlockNumber: this.headBlock + 1 } : cutterStateAfter({ blockNumber: this.headBlock, lastOffset }),
      batchTimeoutMs: config.cutting.batchTimeoutMs,
      commit: (block) => this.commitBlock(block),
      onHeaderSignature: (record) => this.acceptSignature(record),
      isFatal: (error) => error instanceof ForkError,
      logger: (entry) => this.log(entry.level, entry.message, entry.context as Record<string, unknown> | undefined),
    });
    driver.whenStopped().catch((error: unknown) => {
      if (error instanceof ForkError) void this.halt(error);
      else this.log('error', `ordering stopped: ${(error as Error).message}`);
    });
    return driver;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.driver?.stop();
    await this.signing;
  }

  // ---------------------------------------------------------------- submission

  /**
   * Checks a signed envelope at the door (the contract decides again in the
   * block) and appends it to the ordering log. Returns the transaction id.
   */
  async submit(submissions: readonly Submission[]): Promise<string[]> {
    if (this.halted) throw LedgerErrors.halted(this.halted);
    const where = (i: number) => (submissions.length > 1 ? `transactions[${i}]: ` : '');
    let checked: ReturnType<LedgerNode['checkAtDoor']>[];
    try {
      checked = submissions.map((submission, i) => this.checkAtDoor(submission, where(i)));
    } catch (error) {
      // A copy of a transaction whose append is still under way: "duplicate" would tell a client that
      // retries after a timeout that it was accepted, yet that append may still fail (the broker away)
      // and the transaction never reach the log. Wait for it: then a copy of an appended transaction is
      // a duplicate, and a copy of a failed one is appended in its place.
      if (!(error instanceof InFlightCopy)) throw error;
      await error.settled;
      return this.submit(submissions);
    }
    const ids = checked.map((c) => c.decoded.transactionId);
    if (new Set(ids).size !== ids.length) throw LedgerErrors.rejected('LEDGER.DUPLICATE_TRANSACTION', 'the batch contains the same transaction twice');
    // Reserved before the first await, so a concurrent copy of the same transaction waits (above) or is refused as a duplicate.
    const now = Date.now();
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    for (const id of ids) {
      this.pending.set(id, now);
      this.inFlight.set(id, settled);
    }
    const leaves = checked.map((c) => toHex(leafHash(c.bytes)));
    try {
      const verdicts = await this.pool.verify(checked.map((c) => c.signature));
      const bad = verdicts.indexOf(false);
      if (bad >= 0) throw LedgerErrors.rejected('LEDGER.BAD_SIGNATURE', `${where(bad)}the signature does not verify with the registered key`);
      checked.forEach((c, i) => {
        if (!this.options.registry.find(c.decoded.envelope.transaction.type)) throw LedgerErrors.rejected('LEDGER.UNKNOWN_TRANSACTION_TYPE', `${where(i)}no contract handles type ${c.decoded.envelope.transaction.type}`);
      });
      checked.forEach((c, i) => this.admitted.set(leaves[i], { decoded: c.decoded, verifiedWith: c.verifiedWith }));
      await this.options.log.append(checked.map((c) => ({ kind: 'transaction' as const, bytes: c.bytes })));
    } catch (error) {
      for (const id of ids) this.pending.delete(id);
      for (const leaf of leaves) this.admitted.delete(leaf);
      throw error;
    } finally {
      for (const id of ids) if (this.inFlight.get(id) === settled) this.inFlight.delete(id);
      settle();
    }
    return ids;
  }

  /** Every check but the signature's (which the pool does, for the whole batch at once). */
  private checkAtDoor(submission: Submission, where: string): { readonly bytes: Uint8Array; readonly decoded: DecodedEnvelope; readonly signature: VerifyItem; readonly verifiedWith: string } {
    let bytes: Uint8Array;
    let decoded: DecodedEnvelope;
    try {
      if (submission instanceof Uint8Array) {
        bytes = submission;
        decoded = decodeEnvelopeParts(bytes);
      } else {
        ({ bytes, decoded } = encodeEnvelopeValue(submission.json));
      }
    } catch (error) {
      throw LedgerErrors.rejected('LEDGER.MALFORMED_TRANSACTION', `${where}${(error as { code?: string }).code ?? 'PROTOCOL.INVALID'}: ${(error as Error).message}`);
    }
    const { envelope, transactionId: id } = decoded;
    const tx = envelope.transaction;
    const config = this.currentConfig();
    if (tx.chainId !== this.options.chainId) throw LedgerErrors.rejected('LEDGER.WRONG_CHAIN', `${where}this node keeps chain ${this.options.chainId}, not ${tx.chainId}`);
    const inFlight = this.committedIds.has(id) ? undefined : this.inFlight.get(id);
    if (inFlight) throw new InFlightCopy(inFlight);
    if (this.committedIds.has(id) || this.pending.has(id)) throw LedgerErrors.rejected('LEDGER.DUPLICATE_TRANSACTION', `${where}transaction ${id} was already submitted`);
    const skew = Math.abs(Date.parse(tx.timestamp) - Date.now());
    if (skew > config.timestampWindowMs) throw LedgerErrors.rejected('LEDGER.TIMESTAMP_OUT_OF_WINDOW', `${where}timestamp ${tx.timestamp} is ${skew} ms from now; the window is ${config.timestampWindowMs} ms`);
    const key = resolveSigningKey(config, this.stateView, tx.creator.organizationId, tx.creator.keyId);
    if (!key.found) throw LedgerErrors.rejected(key.code, `${where}${key.detail}`);
    if (key.algorithm !== envelope.signature.algorithm || !isSignatureAlgorithm(key.algorithm)) throw LedgerErrors.rejected('LEDGER.BAD_SIGNATURE', `${where}the envelope is signed with ${envelope.signature.algorithm}, the registered key is ${key.algorithm}`);
    return { bytes, decoded, signature: signatureItem(decoded, key.publicKey), verifiedWith: `${key.algorithm}:${key.publicKey}` };
  }

  // ---------------------------------------------------------------- commit

  /**
   * Asked by the cutter once per transaction record, in log order: decodes
   * the record (or takes what the door already decoded and verified) and
   * keeps it with its leaf hash for the block that will carry it.
   */
  /**
   * Asked by the cutter once per transaction record, in log order: decodes
   * the record (or takes what the door already decoded and verified) and
   * keeps it with its leaf hash for the block that will carry it. Undefined
   * when the record is not a well-formed envelope of this chain: anyone who
   * can write to the log can write such bytes, and they go in no block
   * (deterministic: the bytes alone decide), so every block holds only
   * envelopes a verifier can decode (docs/protocol.md §7.5).
   */
  private prepareRecord(bytes: Uint8Array): PreparedRecord | undefined {
    const known = this.cutRecords.get(bytes);
    if (known) return known.prepared;
    const leaf = leafHash(bytes);
    let prepared = this.admitted.get(toHex(leaf));
    let verification: Promise<string | undefined> | undefined;
    if (!prepared) {
      try {
        prepared = { decoded: decodeEnvelopeParts(bytes) };
      } catch {
        prepared = undefined;
      }
      if (prepared && prepared.decoded.envelope.transaction.chainId !== this.options.chainId) prepared = undefined;
      // Not seen at this door (another member's submission, or written straight to the log):
      // verify now on another core, against the key in force, while earlier blocks commit.
      const tx = prepared?.decoded.envelope.transaction;
      const resolved = tx && this.config ? resolveSigningKey(this.config, this.stateView, tx.creator.organizationId, tx.creator.keyId) : undefined;
      const key = resolved?.found ? resolved : undefined;
      if (prepared && key && key.algorithm === prepared.decoded.envelope.signature.algorithm) {
        const verifiedWith = `${key.algorithm}:${key.publicKey}`;
        verification = this.pool.verifyOne(signatureItem(prepared.decoded, key.publicKey)).then(
          (ok) => (ok ? verifiedWith : undefined),
          () => undefined, // the executor verifies it itself
        );
      }
    }
    this.cutRecords.set(bytes, { leaf, prepared, verification });
    return prepared;
  }

  private async commitGenesis(): Promise<void> {
    const envelope = decodeEnvelope(this.options.genesis);
    await this.commitBlock(
      { blockNumber: 0, records: [{ offset: -1, timestamp: envelope.transaction.timestamp, kind: 'transaction', bytes: this.options.genesis }], firstOffset: -1, lastOffset: -1, cutOffset: -1, timestamp: envelope.transaction.timestamp, reason: 'config-transaction' },
      'genesis',
    );
    if (!this.config) throw new Error('the genesis transaction was not valid: no chain configuration');
  }

  /** A database holding another chain's genesis must never be mixed with this one. */
  private async checkGenesis(): Promise<void> {
    const [genesis] = await this.store.blockTransactions(0);
    if (!genesis || toHex(genesis.envelope) !== toHex(this.options.genesis)) {
      throw new AllianceError('LEDGER.GENESIS_MISMATCH', 'internal', 'the genesis block in this database is not the one in LEDGER_GENESIS_FILE: this database belongs to another chain');
    }
  }

  /**
   * Bootstrapping (before the log is followed): commits a peer's block after
   * checking that the members before it certified its header, re-executing
   * its transactions here and requiring the very same header; then keeps the
   * peer's verified signatures. For a block it already has (same header
   * required), only keeps the signatures. Throws LEDGER.BOOTSTRAP_REFUSED
   * otherwise, leaving nothing of the block behind.
   */
  async importCertifiedBlock(peer: PeerBlock): Promise<void> {
    const refuse = (detail: string) => new AllianceError('LEDGER.BOOTSTRAP_REFUSED', 'conflict', `block ${peer.header.blockNumber}: ${detail}`);
    if (this.driver) throw refuse('blocks are imported only before the node follows the ordering log');
    const n = peer.header.blockNumber;
    if (!this.head || n > this.head.blockNumber + 1) throw refuse(`this node is at block ${this.headBlock}; it imports blocks in order`);
    if (peer.header.chainId !== this.options.chainId) throw refuse(`the peer keeps chain ${peer.header.chainId}`);
    const hash = headerHash(peer.header);
    const note = formatCheckpoint({ origin: checkpointOrigin(this.options.chainId), treeSize: peer.header.logSize, rootHash: fromHex(peer.header.logRoot) });
    const certifiers = this.certifiersOf(n);
    const valid: Array<{ organizationId: string; keyId: string; signature: Uint8Array; checkpointSignature: string }> = [];
    for (const sig of peer.signatures) {
      const member = certifiers.members.find((m) => m.organizationId === sig.organizationId);
      if (!member || valid.some((v) => v.organizationId === sig.organizationId) || sig.algorithm !== 'ed25519') continue;
      try {
        const publicKey = fromHex(member.nodeKey.publicKey);
        if (sig.keyId !== keyIdOf('ed25519', publicKey) || !this.options.verifier('ed25519', publicKey, HEADER_DOMAIN, hash, fromBase64Url(sig.value))) continue;
        const line = `\u2014 ${sig.organizationId} ${sig.checkpointSignature}\n`;
        verifyNote(formatSignedNote(note, [line]), [{ name: sig.organizationId, publicKey }]);
        valid.push({ organizationId: sig.organizationId, keyId: sig.keyId, signature: fromBase64Url(sig.value), checkpointSignature: sig.checkpointSignature });
      } catch {
        continue;
      }
    }
    if (valid.length < this.requiredSignatures(n)) throw refuse(`certified by ${valid.length} of the ${this.requiredSignatures(n)} member signatures it needs`);
    const save = async () => {
      for (const v of valid) {
        await this.store.saveSignature({ blockNumber: n, organizationId: v.organizationId, keyId: v.keyId, algorithm: 'ed25519', headerHash: hash, signature: v.signature, checkpointSignature: v.checkpointSignature });
      }
    };
    if (n <= this.head.blockNumber) {
      // A block this node has (its genesis, or its head after a restart): only the signatures it may lack.
      const ours = n === this.head.blockNumber ? this.head.hash : (await this.store.block(n))?.headerHash;
      if (!ours || toHex(ours) !== toHex(hash)) throw refuse(`the peer's header ${toHex(hash)} is not this node's ${ours ? toHex(ours) : '(none)'}`);
      await save();
      return;
    }
    if (peer.header.ordering.source !== this.options.orderingSource) throw refuse(`it was cut from ${peer.header.ordering.source}, this node orders with ${this.options.orderingSource}`);
    const block: CutBlock = {
      blockNumber: n,
      records: peer.records.map((bytes) => ({ offset: peer.header.ordering.lastOffset, timestamp: peer.header.timestamp, kind: 'transaction' as const, bytes })),
      firstOffset: peer.header.ordering.firstOffset,
      lastOffset: peer.header.ordering.lastOffset,
      cutOffset: peer.header.ordering.lastOffset,
      timestamp: peer.header.timestamp,
      reason: 'time-to-cut',
    };
    await this.commitBlock(block, this.options.orderingSource, hash);
    await save();
  }

  private async commitBlock(block: CutBlock, source = this.options.orderingSource, expectedHash?: Uint8Array): Promise<void> {
    if (this.head && block.blockNumber <= this.head.blockNumber) return; // redelivered after a restart
    const records = block.records.map((r) => r.bytes);
    const cut = records.map((bytes) => this.cutRecords.get(bytes));
    const verified = await Promise.all(cut.map((c) => c?.verification));
    const prepared = cut.map((c, i) => (c?.prepared && verified[i] ? { ...c.prepared, verifiedWith: verified[i] } : c?.prepared));
    const execution = executeBlock(
      {
        chainId: this.options.chainId,
        blockNumber: block.blockNumber,
        blockTimestamp: block.timestamp,
        config: this.config,
        state: { get: (key) => this.state.get(key) },
        isCommitted: (id) => this.committedIds.has(id),
        verifier: this.options.verifier,
        registry: this.options.registry,
        prepared,
      },
      records,
    );
    const leaves = records.map((bytes, i) => cut[i]?.leaf ?? leafHash(bytes));
    const accumulator = this.accumulator.clone();
    for (const l of leaves) accumulator.append(l);
    const resultBytes = execution.transactions.map((t) => canonicalBytes(t.result as unknown as JsonValue));
    const config = execution.config;
    const header: BlockHeader = {
      chainId: this.options.chainId,
      blockNumber: block.blockNumber,
      previousHash: toHex(this.head?.hash ?? ZERO_HASH),
      dataRoot: toHex(merkleRoot(leaves)),
      resultsRoot: toHex(merkleRoot(resultBytes.map((b) => leafHash(b)))),
      transactionCount: records.length,
      logSize: accumulator.size,
      logRoot: toHex(accumulator.root()),
      // Genesis is not read from the log; protocol.md requires offsets >= 0, so it records 0/0
      // (the node's stored position stays -1 so the log is still read from its first record).
      ordering: source === 'genesis' ? { source, firstOffset: 0, lastOffset: 0 } : { source, firstOffset: block.firstOffset, lastOffset: block.lastOffset },
      timestamp: block.timestamp,
      configSequence: config?.sequence ?? 0,
    };
    const hash = headerHash(header);
    if (expectedHash && toHex(expectedHash) !== toHex(hash)) {
      throw new AllianceError('LEDGER.BOOTSTRAP_REFUSED', 'conflict', `block ${block.blockNumber}: re-executed here it has header ${toHex(hash)}, the peer's is ${toHex(expectedHash)} (its transactions, results or state differ from this node's contracts)`);
    }
    const firstLeaf = this.tree.size;
    const persisted: PersistedBlock = {
      chainId: this.options.chainId,
      blockNumber: block.blockNumber,
      header: canonicalBytes(header as unknown as JsonValue),
      headerHash: hash,
      previousHash: this.head?.hash ?? ZERO_HASH,
      transactionCount: records.length,
      logSize: accumulator.size,
      firstOffset: block.firstOffset,
      lastOffset: block.lastOffset,
      blockTime: block.timestamp,
      configSequence: header.configSequence,
      transactions: execution.transactions.map((t, i) => ({
        leafIndex: firstLeaf + i,
        transactionId: t.result.transactionId,
        position: i,
        envelope: records[i],
        leafHash: leaves[i],
        type: t.envelope?.transaction.type ?? null,
        organizationId: t.envelope?.transaction.creator.organizationId ?? null,
        code: t.result.code,
        detail: t.detail ?? null,
        result: resultBytes[i],
      })),
      writes: [...execution.writes.entries()].map(([key, v]) => ({
        key,
        value: v.value === null ? null : canonicalBytes(v.value),
        version: v.version,
        transactionId: lastWriter(execution, key),
      })),
    };
    const committed: CommittedBlock = { header, headerHash: toHex(hash), execution };
    await withTransaction(this.options.pool, async (client) => {
      await this.store.insertBlock(client, persisted);
      await this.options.onCommitted?.(client, committed);
    });
    // Only after PostgreSQL said COMMIT does memory move on.
    this.accumulator = accumulator;
    for (const l of leaves) {
      this.tree.append(l);
      this.admitted.delete(toHex(l));
    }
    for (const [key, v] of execution.writes) this.state.set(key, v);
    for (const t of execution.transactions) {
      this.committedIds.add(t.result.transactionId);
      this.pending.delete(t.result.transactionId);
    }
    if (config && config !== this.config) this.configHistory.push({ blockNumber: block.blockNumber, config });
    this.config = config;
    this.head = { blockNumber: block.blockNumber, hash, header };
    this.events.emit('committed', committed);
    await this.signBlock(header, hash);
  }

  private async signBlock(header: BlockHeader, hash: Uint8Array): Promise<void> {
    const key = this.options.nodeKey;
    if (this.options.role !== 'member' || !key) return;
    // Only a member in force before the block certifies it (a joining member from the block after its join).
    const self = this.certifiersOf(header.blockNumber).members.find((m) => m.organizationId === this.options.organizationId);
    if (!self || self.nodeKey.publicKey !== toHex(key.publicKey)) return;
    const note = formatCheckpoint({ origin: checkpointOrigin(this.options.chainId), treeSize: header.logSize, rootHash: fromHex(header.logRoot) });
    const record: HeaderSignatureRecord = {
      chainId: this.options.chainId,
      blockNumber: header.blockNumber,
      headerHash: toHex(hash),
      organizationId: this.options.organizationId,
      keyId: keyIdOf('ed25519', key.publicKey),
      algorithm: 'ed25519',
      signature: toBase64Url(sign('ed25519', key.privateKey, HEADER_DOMAIN, hash)),
      checkpointSignature: noteSignatureBody(note, this.options.organizationId, key),
    };
    // Our own signature is recorded when it comes back through the log, like
    // everyone else's. Publishing is retried in order until the log takes it:
    // a lost signature would leave the block short of one member forever.
    this.signing = this.signing.then(() => this.publishSignature(record));
  }

  private async publishSignature(record: HeaderSignatureRecord): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.options.log.append([{ kind: 'header-signature', bytes: encodeHeaderSignature(record) }]);
        return;
      } catch (error) {
        if (attempt % 10 === 0) this.log('warn', `could not publish the signature of block ${record.blockNumber} yet: ${(error as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** Math.min(attempt, 6))));
      }
    }
  }

  /** After a restart: sign again the recent blocks whose signature of ours never came back through the log. */
  private async resignMissing(): Promise<void> {
    if (this.options.role !== 'member' || !this.options.nodeKey || !this.head) return;
    const from = Math.max(0, this.head.blockNumber - 256);
    const missing = await this.store.blocksWithoutSignature(this.options.organizationId, from);
    for (const block of missing) {
      const header = JSON.parse(new TextDecoder().decode(block.header)) as BlockHeader;
      await this.signBlock(header, block.headerHash);
    }
  }

  private async acceptSignature(record: OrderedRecord): Promise<void> {
    let sig: HeaderSignatureRecord;
    try {
      sig = decodeHeaderSignature(record.bytes);
    } catch (error) {
      this.log('warn', `ignoring a malformed header signature at offset ${record.offset}: ${(error as Error).message}`);
      return;
    }
    if (sig.chainId !== this.options.chainId || !this.head || sig.blockNumber > this.head.blockNumber) return; // not a block of ours (cannot happen in log order)
    const config = this.certifiersOf(sig.blockNumber);
    const member = config.members.find((m) => m.organizationId === sig.organizationId);
    if (!member) return; // not a member when this block was cut: its signature does not count
    const signedHash = fromHex(sig.headerHash);
    let valid = false;
    try {
      valid = this.options.verifier('ed25519', fromHex(member.nodeKey.publicKey), HEADER_DOMAIN, signedHash, fromBase64Url(sig.signature));
    } catch {
      valid = false;
    }
    if (!valid) {
      this.log('warn', `ignoring a header signature of ${sig.organizationId} for block ${sig.blockNumber} that does not verify`);
      return;
    }
    const ours = sig.blockNumber === this.head.blockNumber ? this.head.hash : (await this.store.block(sig.blockNumber))?.headerHash;
    if (!ours) return;
    if (toHex(ours) !== sig.headerHash) {
      throw new ForkError({ blockNumber: sig.blockNumber, committedHeaderHash: toHex(ours), signerOrganizationId: sig.organizationId, signedHeaderHash: sig.headerHash, detectedAt: new Date().toISOString() });
    }
    await this.store.saveSignature({
      blockNumber: sig.blockNumber,
      organizationId: sig.organizationId,
      keyId: sig.keyId,
      algorithm: 'ed25519',
      headerHash: signedHash,
      signature: fromBase64Url(sig.signature),
      checkpointSignature: sig.checkpointSignature,
    });
    const signers = this.signaturesByBlock.get(sig.blockNumber) ?? new Set<string>();
    signers.add(sig.organizationId);
    this.signaturesByBlock.set(sig.blockNumber, signers);
    if (signers.size >= this.requiredSignatures(sig.blockNumber) && sig.blockNumber > this.certifiedHead) {
      this.certifiedHead = sig.blockNumber;
      this.signaturesByBlock.forEach((_, n) => n < sig.blockNumber - 64 && this.signaturesByBlock.delete(n));
      this.events.emit('certified', sig.blockNumber);
    }
  }

  /**
   * A fork: stop following the chain, say so everywhere an operator looks
   * (error log, `alert` event, readiness, every write refused with
   * LEDGER.NODE_HALTED) and record the halt with its alert event in one
   * transaction, so a restart stays halted and the alert is never lost.
   */
  private async halt(fork: ForkError): Promise<void> {
    const reason = fork.message;
    this.halted = reason;
    this.log('error', `HALT: ${reason}`, { ...fork.details });
    this.events.emit('alert', { code: 'LEDGER.FORK_DETECTED', reason, ...fork.details });
    for (let attempt = 0; ; attempt++) {
      try {
        await withTransaction(this.options.pool, async (client) => {
          await this.store.halt(this.options.chainId, reason, client);
          await this.options.onForkDetected?.(client, fork.details);
        });
        return;
      } catch (error) {
        // The halt holds in memory already; keep trying to make it durable.
        this.log('error', `could not record the halt yet: ${(error as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  // ---------------------------------------------------------------- reading

  private async loadFromStore(position: NodePosition | undefined): Promise<void> {
    const [state, ids, leaves] = await Promise.all([this.store.loadState(), this.store.loadTransactionIds(), this.store.leafHashes()]);
    this.state = new Map([...state].map(([k, v]) => [k, { value: v.value ? (JSON.parse(new TextDecoder().decode(v.value)) as JsonValue) : null, version: v.version }]));
    this.committedIds = ids;
    for (const l of leaves) {
      this.accumulator.append(l);
      this.tree.append(l);
    }
    if (position && position.headBlock >= 0) {
      const block = await this.store.block(position.headBlock);
      if (block) this.head = { blockNumber: block.blockNumber, hash: block.headerHash, header: JSON.parse(new TextDecoder().decode(block.header)) as BlockHeader };
    }
    // A partition detached or dropped by hand (docs/ledger.md, Partitioning) leaves the log short: the next
    // header would disagree with every member's, so the node refuses to start rather than fork.
    if (this.head && this.tree.size !== this.head.header.logSize) {
      throw new AllianceError('LEDGER.STORE_INCOMPLETE', 'internal', `this database holds ${this.tree.size} transactions of the ${this.head.header.logSize} up to block ${this.head.blockNumber}: a partition of the chain is missing`);
    }
    const config = this.state.get(CONFIG_KEY);
    this.config = config ? (config.value as unknown as ChainConfig) : undefined;
    this.configHistory = [];
    for (const { blockNumber, result } of await this.store.configurationResults()) {
      const written = (JSON.parse(new TextDecoder().decode(result)) as { writes: Array<{ key: string; value: unknown }> }).writes.find((w) => w.key === CONFIG_KEY);
      if (written) this.configHistory.push({ blockNumber, config: written.value as ChainConfig });
    }
    if (this.config && this.head) this.certifiedHead = await this.findCertifiedHead(this.head.blockNumber);
  }

  isPending(transactionId: string): boolean {
    return this.pending.has(transactionId);
  }

  /**
   * Resolves with the block number once `transactionId` is in a certified
   * block; rejects with LEDGER.COMMIT_TIMEOUT after `timeoutMs`.
   */
  async waitForCertified(transactionId: string, timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const copies = await this.store.transactionsById(transactionId);
      const chosen = copies.find((c) => c.code === 'VALID') ?? copies[0];
      if (chosen && chosen.blockNumber <= this.certifiedHead) return chosen.blockNumber;
      if (this.halted) throw LedgerErrors.halted(this.halted);
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) throw LedgerErrors.timeout(transactionId);
      // Wake on the next certified (or committed) block, or poll within a second at most.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.events.off('certified', done);
          this.events.off('committed', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 1000));
        this.events.on('certified', done);
        this.events.on('committed', done);
      });
    }
  }

  /** The leaf hashes of the first `treeSize` transactions of the global log (for proofs). */
  /**
   * The configuration in force after block `blockNumber` was committed (its
   * header's configSequence): for block n − 1, the keys that sign the
   * transactions of block n and the members that certify block n.
   */
  configAt(blockNumber: number): ChainConfig {
    let found: ChainConfig | undefined;
    for (const entry of this.configHistory) {
      if (entry.blockNumber > blockNumber) break;
      found = entry.config;
    }
    if (!found) throw new AllianceError('LEDGER.NOT_READY', 'unavailable', `no configuration is known at block ${blockNumber}`);
    return found;
  }

  /**
   * The members and policy that certify block `blockNumber`: those in force
   * before it (genesis certifies itself). A block that changes the
   * configuration is certified by the members it changes, so a verifier that
   * trusts them can follow the change whatever contract wrote it
   * (docs/protocol.md §7.4).
   */
  certifiersOf(blockNumber: number): ChainConfig {
    return this.configAt(Math.max(0, blockNumber - 1));
  }

  /** How many member signatures certify block `blockNumber`. */
  requiredSignatures(blockNumber: number): number {
    const c = this.certifiersOf(blockNumber);
    return requiredApprovals(c.policies.certification, c.members.length);
  }

  // The newest block at or below `head` whose stored signatures satisfy its certifiers (read back in windows).
  private async findCertifiedHead(head: number): Promise<number> {
    for (let to = head; to >= 0; to -= 512) {
      const from = Math.max(0, to - 511);
      const signers = await this.store.signersBetween(from, to);
      for (let n = to; n >= from; n--) {
        const members = new Set(this.certifiersOf(n).members.map((m) => m.organizationId));
        const count = (signers.get(n) ?? []).filter((o) => members.has(o)).length;
        if (count >= this.requiredSignatures(n)) return n;
      }
    }
    return -1;
  }

  /**
   * The key that signed a transaction of block `blockNumber`: an admin key of
   * the configuration in force before that block, or an agent key added at or
   * before it (ended keys included: what they signed before stays valid).
   */
  creatorKeyAt(blockNumber: number, organizationId: string, keyId: string): { readonly algorithm: string; readonly publicKey: string } | undefined {
    const admin = adminKeyOf(this.configAt(Math.max(0, blockNumber - 1)), organizationId, keyId);
    if (admin) return admin;
    const agentKey = findAgentKey(this.stateView, organizationId, keyId)?.key;
    return agentKey && agentKey.addedAtBlock <= blockNumber ? agentKey : undefined;
  }

  /** Leaves of the chain's global log this node has committed. */
  get logSize(): number {
    return this.tree.size;
  }

  /** RFC 9162 inclusion proof of leaf `leafIndex` in the log of size `treeSize` (≤ logSize). */
  inclusionProof(leafIndex: number, treeSize: number): Uint8Array[] {
    return this.tree.inclusionProof(leafIndex, treeSize);
  }

  /** RFC 9162 consistency proof between log sizes `fromSize` ≤ `toSize` (≤ logSize). */
  consistencyProof(fromSize: number, toSize: number): Uint8Array[] {
    return this.tree.consistencyProof(fromSize, toSize);
  }

  get blockStore(): BlockStore {
    return this.store;
  }

  private log(level: 'error' | 'warn' | 'info' | 'debug', message: string, context?: Record<string, unknown>): void {
    this.options.logger?.(level, message, context);
  }
}

/** What the door takes: the canonical envelope bytes, or the envelope as parsed JSON (an HTTP body), canonicalised here. */
export type Submission = Uint8Array | { readonly json: unknown };

interface CutRecord {
  readonly leaf: Uint8Array;
  readonly prepared?: PreparedRecord;
  /** Resolves to `verifiedWith` when the pool verified the signature, else undefined. */
  readonly verification?: Promise<string | undefined>;
}

function signatureItem(decoded: DecodedEnvelope, publicKeyHex: string): VerifyItem {
  return { algorithm: decoded.envelope.signature.algorithm, publicKey: fromHex(publicKeyHex), domain: TRANSACTION_DOMAIN, message: decoded.transactionBytes, signature: fromBase64Url(decoded.envelope.signature.value) };
}

export class ForkError extends Error {
  override readonly name = 'ForkError';

  constructor(readonly details: ForkDetails) {
    super(`fork at block ${details.blockNumber}: ${details.signerOrganizationId} signed header ${details.signedHeaderHash}, this node committed ${details.committedHeaderHash}`);
  }
}

// The base64 body of this node's signed-note signature line over `note`.
function noteSignatureBody(note: string, name: string, key: NodeKey): string {
  const line = signCheckpoint(note, { name, privateKey: key.privateKey });
  return line.slice(line.lastIndexOf(' ') + 1).trim();
}

function lastWriter(execution: BlockExecution, key: string): string {
  for (let i = execution.transactions.length - 1; i >= 0; i--) {
    const t = execution.transactions[i];
    if (t.result.writes.some((w) => w.key === key)) return t.result.transactionId;
  }
  return '';
}

/** Thrown by the door check for a copy of a transaction whose append is under way; submit waits for `settled`. */
class InFlightCopy extends Error {
  constructor(readonly settled: Promise<void>) {
    super('a copy of this transaction is being appended');
  }
}
