// Verification (issue 7 items 1 and 3; docs/audit.md, Verification and Observer watch): whole-chain runs of
// the SDK's verifier streamed as NDJSON or a GraphQL subscription, one item with its proof, consistency
// between two checkpoints, and the observer watch comparing every member's signed checkpoint.
import { Readable } from 'node:stream';
import { Controller, Get, Inject, Param, Query, Req, StreamableFile } from '@nestjs/common';
import { Args, Field, Int, ObjectType, Query as GqlQuery, Resolver, Subscription } from '@nestjs/graphql';
import { ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { canonicalize, type Receipt } from '@alliance/protocol';
 
import { AllianceApiError, type AllianceClient, type ChainTrust, verifyBlock, verifyCheckpoint, verifyReceipt, verifyTreeExtension } from '@alliance/sdk';
import { RequirePermission } from '@alliance/shared/feature-platform';
import { AllianceError } from '@alliance/shared/util-errors';
import { AUDIT_READ } from './access-log';
import type { AuditContext, AuditFeature } from './features';
import { type AuditNode, clientOf, NodeDirectory, parseMemberNodes, TrustAnchor, unavailable } from './verification-nodes';
import { ChainRuns, type RunLine, RunStore } from './verification-runs';
import { type NodeObservation, ObserverWatch } from './verification-watch';

export const VERIFICATION = Symbol('alliance.audit-verification');
/** How often every node is verified whole when AUDIT_CHAIN_RUN_INTERVAL_MS is unset: hourly. */
const DEFAULT_CHAIN_RUN_INTERVAL_MS = 3_600_000;
/** The watch's interval when AUDIT_WATCH_INTERVAL_MS is unset. */
export const DEFAULT_WATCH_INTERVAL_MS = 10_000;

const TX_ID = /^[0-9a-f]{64}$/;

function intOf(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,16}$/.test(value) || Number(value) < min || Number(value) > max) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', `${name} must be an integer from ${min} to ${max}`);
  return Number(value);
}

interface TreeHead {
  readonly blockNumber: number;
  readonly treeSize: number;
  readonly rootHash: string;
  /** Who certified it: the block's header signatures, verified against the members in force. */
  readonly certifiedBy: readonly string[];
}

/** Everything the verification feature holds, built once per audit service. */
export class Verification {
  readonly nodes: NodeDirectory;
  readonly trust: TrustAnchor;
  readonly store: RunStore;
  readonly runs: ChainRuns;
  readonly watch: ObserverWatch;
  readonly watchIntervalMs: number;

  constructor(readonly context: AuditContext) {
    const config = context.runtime.config;
    this.nodes = new NodeDirectory(config.AUDIT_LEDGER_URL, parseMemberNodes(config.AUDIT_MEMBER_NODES));
    this.trust = new TrustAnchor(this.nodes, config.CHAIN_ID);
    this.store = new RunStore(context.pool);
    const log = (error: unknown, what: string) => context.runtime.logger.error({ err: error }, `audit verification: ${what} failed`);
    this.runs = new ChainRuns({ trust: this.trust, store: this.store, alerts: context.alerts, log });
    this.watch = new ObserverWatch(this.nodes, this.trust, context.alerts, config.AUDIT_WITHHELD_AFTER_MS, log);
    this.watchIntervalMs = config.AUDIT_WATCH_INTERVAL_MS ?? DEFAULT_WATCH_INTERVAL_MS;
  }

  /** The lines of a run of `node` (started, or joined when one is going), from the first pull on. */
  async *chainLines(node: AuditNode): AsyncGenerator<RunLine> {
    yield* this.runs.lines(node);
  }

  private async trusted(configSequence: number): Promise<ChainTrust> {
    const trust = await this.trust.at(configSequence);
    if (!trust) throw new AllianceError('AUDIT.MEMBERS_UNKNOWN', 'conflict', `the block is under configuration ${configSequence}, which is no longer in force: verify it within a chain run (GET /audit/v1/verifications/chain), which follows every configuration change`);
    return trust;
  }

  /** The node's latest checkpoint, verified against the members in force. */
  private async checkpointOf(node: AuditNode, client: AllianceClient) {
    const trust = await this.trust.current();
    let view;
    try {
      view = await client.latestCheckpoint();
    } catch (error) {
      if (error instanceof AllianceApiError && error.code === 'LEDGER.NO_CHECKPOINT') throw new AllianceError('AUDIT.NOT_CERTIFIED', 'conflict', `the node ${node.name} has no certified checkpoint yet`);
      throw unavailable(node, error);
    }
    const v = verifyCheckpoint(view.note, { trust, ...(trust.chainId ? { chainId: trust.chainId } : {}) });
    return v.ok
      ? { ok: true as const, blockNumber: view.blockNumber, treeSize: v.treeSize, rootHash: v.rootHash, verifiedBy: v.verifiedBy, note: view.note, failure: null }
      : { ok: false as const, blockNumber: view.blockNumber, treeSize: view.treeSize, rootHash: view.rootHash, verifiedBy: [] as string[], note: view.note, failure: { code: v.reason as string, detail: `the node's latest checkpoint does not verify: ${v.detail}` } };
  }

  /** Whether tree head `from` is extended by `to`, with the node's consistency proof. */
  private async extension(node: AuditNode, client: AllianceClient, from: { treeSize: number; rootHash: string }, to: { treeSize: number; rootHash: string }) {
    if (from.treeSize > to.treeSize) return { ok: false, method: 'none' as const, proof: [] as string[], failure: { code: 'AUDIT.CHECKPOINT_BEHIND', detail: `tree size ${from.treeSize} is newer than the checkpoint (size ${to.treeSize})` } };
    if (from.treeSize === to.treeSize) {
      const same = from.rootHash === to.rootHash;
      return { ok: same, method: 'same-size' as const, proof: [] as string[], failure: same ? null : { code: 'AUDIT.CONSISTENCY_FAILED', detail: `two roots for tree size ${to.treeSize}: ${from.rootHash} and ${to.rootHash}` } };
    }
    let proof: readonly string[];
    try {
      proof = (await client.consistencyProof(from.treeSize, to.treeSize)).proof;
    } catch (error) {
      throw unavailable(node, error);
    }
    const ok = verifyTreeExtension(from, to, proof);
    return { ok, method: 'consistency-proof' as const, proof: [...proof], failure: ok ? null : { code: 'AUDIT.CONSISTENCY_FAILED', detail: `the consistency proof from tree size ${from.treeSize} to ${to.treeSize} does not verify` } };
  }

  /**
   * One transaction with its proof: the node's receipt verified with the SDK against the pinned members
   * (inclusion proofs, result, header signatures, envelope signature), and its block's log shown to be
   * inside the node's latest checkpoint (verified too) by a consistency proof.
   */
  async transaction(transactionId: string, nodeName?: string) {
    if (!TX_ID.test(transactionId)) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'a transaction id is 64 lower-case hex digits');
    const node = this.nodes.byName(nodeName);
    const client = clientOf(node);
    let status;
    try {
      status = await client.transaction(transactionId);
    } catch (error) {
      if (error instanceof AllianceApiError && error.status === 404) throw new AllianceError('AUDIT.NOT_FOUND', 'not-found', `the node ${node.name} has no transaction ${transactionId}`);
      throw unavailable(node, error);
    }
    const receipt = status.status === 'pending' ? undefined : (status.receipt as Receipt | undefined);
    if (!receipt) throw new AllianceError('AUDIT.NOT_CERTIFIED', 'conflict', `transaction ${transactionId} is ${status.status === 'pending' ? 'pending' : `in block ${status.blockNumber}, not certified yet`}: retry shortly`);
    const header = receipt.block?.header;
    const trust = await this.trusted(typeof header?.configSequence === 'number' ? header.configSequence : 0);
    const r = verifyReceipt(receipt, { trust, ...(trust.chainId ? { chainId: trust.chainId } : {}) });
    const checkpoint = await this.checkpointOf(node, client);
    const inCheckpoint = r.ok && checkpoint.ok ? await this.extension(node, client, { treeSize: header.logSize, rootHash: header.logRoot }, checkpoint) : null;
    const firstFailure = !r.ok ? { code: r.reason as string, detail: `the receipt does not verify: ${r.detail}` } : (checkpoint.failure ?? inCheckpoint?.failure ?? null);
    return {
      ok: firstFailure === null,
      node: node.name,
      transactionId,
      blockNumber: r.ok ? r.blockNumber : (header?.blockNumber ?? null),
      leafIndex: r.ok ? r.leafIndex : null,
      code: r.ok ? r.code : null,
      receiptVerification: r.ok ? { ok: true, headerHash: r.headerHash, certifiedBy: r.certifiedBy } : { ok: false, reason: r.reason, detail: r.detail },
      checkpoint: { ok: checkpoint.ok, blockNumber: checkpoint.blockNumber, treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, verifiedBy: checkpoint.verifiedBy, note: checkpoint.note },
      inCheckpoint: inCheckpoint && { ok: inCheckpoint.ok, method: inCheckpoint.method, fromSize: header.logSize, toSize: checkpoint.treeSize, proof: inCheckpoint.proof },
      firstFailure,
      membersPinned: { source: 'genesis of the observer node', configSequence: trust.sequence, members: trust.members.map((m) => m.organizationId) },
      receipt,
    };
  }

  /** An EPCIS event: its anchoring transaction (from the regulator's provenance service), verified with its proof, and the event named in that transaction. */
  async event(eventId: string, authorization: string | undefined) {
    if (eventId.length === 0 || eventId.length > 1024) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'an event id is 1 to 1024 characters');
    const proof = await this.context.upstreams.get<{ eventID: string; transactionId: string; blockNumber: number }>('provenance', `/provenance/v1/epcis/events/${encodeURIComponent(eventId)}/proof`, authorization);
    const verified = await this.transaction(proof.transactionId);
    // The event's id is in the anchored document (the capture payload), which the verified receipt's envelope carries.
    const eventInTransaction = canonicalize(JSON.parse(JSON.stringify(verified.receipt.envelope.transaction.payload))).includes(JSON.stringify(proof.eventID).slice(1, -1));
    const firstFailure = verified.firstFailure ?? (eventInTransaction ? null : { code: 'AUDIT.EVENT_NOT_IN_TRANSACTION', detail: `the verified transaction ${proof.transactionId} does not carry event ${proof.eventID}` });
    return { ...verified, ok: firstFailure === null, firstFailure, eventID: proof.eventID, eventInTransaction };
  }

  /** A receivable: its record's last transaction (from the regulator's finance service), verified with its proof, and that it wrote the record. */
  async receivable(receivableId: string, authorization: string | undefined) {
    if (receivableId.length === 0 || receivableId.length > 256) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'a receivable id is 1 to 256 characters');
    const record = await this.context.upstreams.get<{ receivableId: string; lastTransactionId: string; updatedAtBlock: number }>('finance', `/finance/v1/receivables/${encodeURIComponent(receivableId)}`, authorization);
    const verified = await this.transaction(record.lastTransactionId);
    const writes = verified.receipt.result.code === 'VALID' ? verified.receipt.result.writes : [];
    const recordWritten = writes.some((w) => w.key.split('/').includes(record.receivableId));
    const firstFailure = verified.firstFailure ?? (recordWritten ? null : { code: 'AUDIT.RECORD_NOT_WRITTEN', detail: `the verified transaction ${record.lastTransactionId} writes no state of receivable ${record.receivableId}` });
    return { ...verified, ok: firstFailure === null, firstFailure, receivableId: record.receivableId, recordWritten, writtenKeys: writes.map((w) => w.key) };
  }

  /** The certified tree head of block n (its header's logSize and logRoot, the header's signatures verified). */
  private async headOfBlock(node: AuditNode, client: AllianceClient, n: number): Promise<TreeHead> {
    let view;
    try {
      view = await client.block(n);
    } catch (error) {
      if (error instanceof AllianceApiError && error.code === 'LEDGER.BLOCK_NOT_FOUND') throw new AllianceError('AUDIT.NOT_FOUND', 'not-found', `the node ${node.name} has no block ${n}`);
      throw unavailable(node, error);
    }
    const trust = await this.trusted(view.header.configSequence);
    const v = verifyBlock({ header: view.header, signatures: view.signatures }, { trust });
    if (!v.ok) throw new AllianceError('AUDIT.VERIFICATION_FAILED', 'conflict', `block ${n} of node ${node.name} is not certified by the members: ${v.reason}: ${v.detail}`, { details: { blockNumber: n, code: v.reason } });
    return { blockNumber: n, treeSize: view.header.logSize, rootHash: view.header.logRoot, certifiedBy: v.certifiedBy };
  }

  /** The certified block whose log has exactly `size` leaves (a checkpoint is one block's log): a binary search, ≤ log2(blocks) reads. */
  private async headOfSize(node: AuditNode, client: AllianceClient, size: number, upTo: number): Promise<TreeHead> {
    let lo = 0;
    let hi = upTo;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      let view;
      try {
        view = await client.block(mid);
      } catch (error) {
        throw unavailable(node, error);
      }
      if (view.header.logSize === size) return this.headOfBlock(node, client, mid);
      if (view.header.logSize < size) lo = mid + 1;
      else hi = mid - 1;
    }
    throw new AllianceError('AUDIT.NOT_FOUND', 'not-found', `no block of node ${node.name} up to its checkpoint has a log of size ${size}: checkpoints are at block boundaries`);
  }

  /**
   * Consistency between two checkpoints of a node, by tree size or by block: each tree head certified
   * (the latest checkpoint's signed note, or the block header's signatures), and the node's RFC 9162
   * proof that the later log extends the earlier one verified. `to` defaults to the latest checkpoint.
   */
  async consistency(q: { fromSize?: string; toSize?: string; fromBlock?: string; toBlock?: string; node?: string }) {
    const fromSize = intOf(q.fromSize, 'fromSize', 1, Number.MAX_SAFE_INTEGER);
    const toSize = intOf(q.toSize, 'toSize', 1, Number.MAX_SAFE_INTEGER);
    const fromBlock = intOf(q.fromBlock, 'fromBlock', 0, Number.MAX_SAFE_INTEGER);
    const toBlock = intOf(q.toBlock, 'toBlock', 0, Number.MAX_SAFE_INTEGER);
    if ((fromSize === undefined) === (fromBlock === undefined)) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'give fromSize or fromBlock (one of them)');
    if (toSize !== undefined && toBlock !== undefined) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'give toSize or toBlock, not both (neither: the latest checkpoint)');
    const node = this.nodes.byName(q.node);
    const client = clientOf(node);
    const checkpoint = await this.checkpointOf(node, client);
    if (!checkpoint.ok) return { ok: false, node: node.name, from: null, to: null, proof: [], firstFailure: checkpoint.failure };
    const latest: TreeHead = { blockNumber: checkpoint.blockNumber, treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, certifiedBy: checkpoint.verifiedBy };
    const head = (size: number | undefined, block: number | undefined): Promise<TreeHead> => {
      if (size !== undefined) return size === latest.treeSize ? Promise.resolve(latest) : this.headOfSize(node, client, size, latest.blockNumber);
      if (block !== undefined) return block === latest.blockNumber ? Promise.resolve(latest) : this.headOfBlock(node, client, block);
      return Promise.resolve(latest);
    };
    const from = await head(fromSize, fromBlock);
    const to = await head(toSize, toBlock);
    if (from.treeSize > to.treeSize) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', `from (tree size ${from.treeSize}) is after to (tree size ${to.treeSize})`);
    const ext = await this.extension(node, client, from, to);
    return { ok: ext.ok, node: node.name, from, to, method: ext.method, proof: ext.proof, firstFailure: ext.failure };
  }

  /** Every node: URL, latest checkpoint and how it compares with the observer's (a fresh check, shared with the watch). */
  async nodeList(): Promise<{ items: NodeObservation[]; watchIntervalMs: number; running: ReadonlyArray<{ node: string; runId: string }> }> {
    return { items: await this.watch.check(), watchIntervalMs: this.watchIntervalMs, running: this.runs.active };
  }
}

const instances = new WeakMap<AuditContext, Verification>();
/** One Verification per audit context: the providers and the watch share it. */
export function verificationOf(context: AuditContext): Verification {
  let v = instances.get(context);
  if (!v) {
    v = new Verification(context);
    instances.set(context, v);
  }
  return v;
}

const LIMIT_MAX = 1000;
function limitOf(value: string | undefined): number {
  return intOf(value, 'limit', 1, LIMIT_MAX) ?? 100;
}
function afterOf(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d{1,15}$/.test(value)) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'after must be the seq of the last run of the previous page');
  return Number(value);
}

@ApiTags('verifications')
@Controller('verifications')
export class VerificationController {
  constructor(@Inject(VERIFICATION) private readonly v: Verification) {}

  @Get('chain')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({
    summary:
      'Verifies the whole chain of a node with the SDK (alliance verify chain) and streams application/x-ndjson: progress lines { type: "progress", blocksVerified, target, … }, then one verdict line { type: "verdict", ok, outcome, target, firstFailure: { blockNumber, code, detail } | null, … }. One run per node at a time: a request while one runs joins it. Recorded in the verification runs; a failure raises an alert.',
  })
  @ApiQuery({ name: 'node', required: true, description: '"observer" or a member organization id of AUDIT_MEMBER_NODES' })
  @ApiProduces('application/x-ndjson')
  chain(@Query('node') node?: string): StreamableFile {
    const target = this.v.nodes.byName(node, true);
    const v = this.v;
    // Lazy: the run starts when the platform pipes the stream, after the access log entry is written.
    const lines = Readable.from(
      (async function* () {
        for await (const line of v.chainLines(target)) yield `${JSON.stringify(line)}\n`;
      })(),
      { objectMode: false },
    );
    return new StreamableFile(lines, { type: 'application/x-ndjson' });
  }

  @Get('transactions/:transactionId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'One transaction verified with its proof: the node’s receipt (inclusion proofs, result, header signatures against the pinned members) and its block’s log inside the node’s latest checkpoint (verified) by a consistency proof; `node` default observer' })
  @ApiQuery({ name: 'node', required: false })
  transaction(@Param('transactionId') transactionId: string, @Query('node') node?: string) {
    return this.v.transaction(transactionId, node);
  }

  @Get('events/:eventId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'An EPCIS event verified: its anchoring transaction (from the regulator’s provenance service) with its proof, as transactions/{id}, and the event named in the verified transaction' })
  event(@Param('eventId') eventId: string, @Req() req: { headers: { authorization?: string } }) {
    return this.v.event(eventId, req.headers.authorization);
  }

  @Get('receivables/:receivableId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'A receivable verified: its record’s last transaction (from the regulator’s finance service) with its proof, as transactions/{id}, and that the transaction wrote the record' })
  receivable(@Param('receivableId') receivableId: string, @Req() req: { headers: { authorization?: string } }) {
    return this.v.receivable(receivableId, req.headers.authorization);
  }

  @Get('consistency')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'Consistency between two checkpoints of a node: fromSize or fromBlock, toSize or toBlock (default the latest checkpoint); both tree heads certified, the RFC 9162 proof verified; `node` default observer' })
  @ApiQuery({ name: 'fromSize', required: false })
  @ApiQuery({ name: 'toSize', required: false })
  @ApiQuery({ name: 'fromBlock', required: false })
  @ApiQuery({ name: 'toBlock', required: false })
  @ApiQuery({ name: 'node', required: false })
  consistency(@Query('fromSize') fromSize?: string, @Query('toSize') toSize?: string, @Query('fromBlock') fromBlock?: string, @Query('toBlock') toBlock?: string, @Query('node') node?: string) {
    return this.v.consistency({ fromSize, toSize, fromBlock, toBlock, node });
  }

  @Get()
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'Finished verification runs in order (append-only): `{ items: [{ seq, runId, node, startedAt, finishedAt, blocksVerified, outcome, ok, verdict }], next }`; `after` a seq, `limit` 1-1000 (default 100), `node` to filter' })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'node', required: false })
  list(@Query('after') after?: string, @Query('limit') limit?: string, @Query('node') node?: string) {
    return this.v.store.page(afterOf(after), limitOf(limit), node === undefined || node === '' ? undefined : this.v.nodes.byName(node).name);
  }

  @Get(':runId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'One finished verification run with its verdict' })
  run(@Param('runId') runId: string) {
    return this.v.store.get(runId);
  }
}

@ApiTags('verifications')
@Controller('nodes')
export class NodesController {
  constructor(@Inject(VERIFICATION) private readonly v: Verification) {}

  @Get()
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'Every node (the observer, the members of AUDIT_MEMBER_NODES): URL, latest checkpoint (signatures verified) and its comparison with the observer’s (in-sync, ahead, behind, fork, …), checked now' })
  list() {
    return this.v.nodeList();
  }
}

@ObjectType('AuditChainFailure', { description: 'Where a chain verification failed' })
class ChainFailureType {
  @Field(() => Int, { nullable: true, description: 'The first failing block; null when the failure is no one block’s' }) blockNumber!: number | null;
  @Field() code!: string;
  @Field() detail!: string;
}

@ObjectType('AuditChainVerificationLine', { description: 'One line of a chain verification run: progress, then the verdict (docs/audit.md, Verification)' })
class ChainLineType {
  @Field({ description: 'progress or verdict' }) type!: string;
  @Field() runId!: string;
  @Field() node!: string;
  @Field(() => Int) blocksVerified!: number;
  @Field(() => Int) transactions!: number;
  @Field(() => Int, { nullable: true, description: 'The checkpoint block the run verifies up to' }) target!: number | null;
  @Field(() => Int, { nullable: true }) lastBlock!: number | null;
  @Field(() => Int, { nullable: true }) stateRows!: number | null;
  @Field(() => String, { nullable: true, description: 'Progress: starting, blocks or state' }) phase!: string | null;
  @Field(() => String, { nullable: true, description: 'Verdict: passed, failed or incomplete' }) outcome!: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Verdict: whether the chain verified' }) ok!: boolean | null;
  @Field(() => ChainFailureType, { nullable: true }) firstFailure!: ChainFailureType | null;
  @Field(() => String, { nullable: true, description: 'Verdict: why an incomplete run could not finish' }) error!: string | null;
  @Field(() => String, { nullable: true, description: 'Verdict: the whole verdict line as JSON text' }) verdict!: string | null;
  @Field({ description: 'RFC 3339 UTC' }) at!: string;
}

function lineOf(line: RunLine): ChainLineType {
  if (line.type === 'progress') {
    return { type: 'progress', runId: line.runId, node: line.node, blocksVerified: line.blocksVerified, transactions: line.transactions, target: line.target, lastBlock: line.lastBlock, stateRows: line.stateRows, phase: line.phase, outcome: null, ok: null, firstFailure: null, error: null, verdict: null, at: line.at };
  }
  return {
    type: 'verdict',
    runId: line.runId,
    node: line.node,
    blocksVerified: line.blocksVerified,
    transactions: line.transactions,
    target: line.target,
    lastBlock: line.head?.blockNumber ?? null,
    stateRows: line.stateRows,
    phase: null,
    outcome: line.outcome,
    ok: line.ok,
    firstFailure: line.firstFailure,
    error: line.error ? `${line.error.code}: ${line.error.detail}` : null,
    verdict: JSON.stringify(line),
    at: line.finishedAt,
  };
}

@ObjectType('AuditVerificationRun', { description: 'A finished chain verification run' })
class RunType {
  @Field(() => Int) seq!: number;
  @Field() runId!: string;
  @Field() node!: string;
  @Field() nodeUrl!: string;
  @Field() startedAt!: string;
  @Field() finishedAt!: string;
  @Field(() => Int) blocksVerified!: number;
  @Field() outcome!: string;
  @Field() ok!: boolean;
  @Field(() => ChainFailureType, { nullable: true }) firstFailure!: ChainFailureType | null;
  @Field({ description: 'The verdict line as JSON text' }) verdict!: string;
}

@ObjectType('AuditVerificationRunPage')
class RunPageType {
  @Field(() => [RunType]) items!: RunType[];
  @Field(() => Int, { nullable: true, description: 'The seq to pass as `after` for the next page; null on the last' }) next!: number | null;
}

@ObjectType('AuditNodeCheckpoint')
class NodeCheckpointType {
  @Field(() => Int) blockNumber!: number;
  @Field(() => Int) treeSize!: number;
  @Field() rootHash!: string;
  @Field() verified!: boolean;
  @Field(() => [String]) verifiedBy!: string[];
}

@ObjectType('AuditNode', { description: 'A node the audit compares: the observer or a member' })
class NodeType {
  @Field() node!: string;
  @Field(() => String, { nullable: true }) organizationId!: string | null;
  @Field() url!: string;
  @Field(() => NodeCheckpointType, { nullable: true }) checkpoint!: NodeCheckpointType | null;
  @Field({ description: 'reference (the observer), in-sync, ahead, behind, fork, bad-checkpoint, no-checkpoint, unreachable, not-compared' }) status!: string;
  @Field(() => String, { nullable: true }) consistency!: string | null;
  @Field(() => String, { nullable: true }) since!: string | null;
  @Field(() => String, { nullable: true }) detail!: string | null;
  @Field() checkedAt!: string;
}

const runTypeOf = (r: Awaited<ReturnType<RunStore['get']>>): RunType => ({ ...r, firstFailure: r.verdict.firstFailure, verdict: JSON.stringify(r.verdict) });

@Resolver()
export class VerificationResolver {
  constructor(@Inject(VERIFICATION) private readonly v: Verification) {}

  @Subscription(() => ChainLineType, {
    name: 'auditChainVerification',
    description: 'Verifies the whole chain of a node (as GET /audit/v1/verifications/chain): progress lines, then the verdict; joins the run going for the node, if any',
    resolve: (line: RunLine) => lineOf(line),
  })
  @RequirePermission(AUDIT_READ)
  auditChainVerification(@Args('node') node: string): AsyncGenerator<RunLine> {
    return this.v.chainLines(this.v.nodes.byName(node, true));
  }

  @GqlQuery(() => RunPageType, { name: 'auditVerificationRuns', description: 'Finished verification runs in order; `after` a seq, `limit` 1-1000, `node` to filter' })
  @RequirePermission(AUDIT_READ)
  async auditVerificationRuns(
    @Args('after', { type: () => Int, nullable: true }) after?: number | null,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number | null,
    @Args('node', { type: () => String, nullable: true }) node?: string | null,
  ): Promise<RunPageType> {
    const page = await this.v.store.page(afterOf(after === null || after === undefined ? undefined : String(after)), limitOf(limit === null || limit === undefined ? undefined : String(limit)), node ? this.v.nodes.byName(node).name : undefined);
    return { items: page.items.map(runTypeOf), next: page.next };
  }

  @GqlQuery(() => RunType, { name: 'auditVerificationRun', description: 'One finished verification run' })
  @RequirePermission(AUDIT_READ)
  async auditVerificationRun(@Args('runId') runId: string): Promise<RunType> {
    return runTypeOf(await this.v.store.get(runId));
  }

  @GqlQuery(() => [NodeType], { name: 'auditNodes', description: 'Every node with its latest checkpoint and how it compares with the observer’s (as GET /audit/v1/nodes)' })
  @RequirePermission(AUDIT_READ)
  async auditNodes(): Promise<NodeType[]> {
    return (await this.v.nodeList()).items.map((n) => ({ ...n, checkpoint: n.checkpoint && { ...n.checkpoint, verifiedBy: [...n.checkpoint.verifiedBy] } }));
  }
}

/** The feature: routes, resolver, and the observer watch every AUDIT_WATCH_INTERVAL_MS (0 = off). */
export const verificationFeature: AuditFeature = {
  name: 'verification',
  controllers: [VerificationController, NodesController],
  resolvers: [VerificationResolver],
  providers: (context) => [{ provide: VERIFICATION, useValue: verificationOf(context) }],
  async start(context) {
    const v = verificationOf(context);
    let timer: NodeJS.Timeout | null = null;
    let stopped = false;
    const tick = async () => {
      if (stopped) return;
      try {
        if (v.nodes.all().length > 0) await v.watch.check();
      } catch (error) {
        context.runtime.logger.warn({ err: error }, 'audit observer watch: a check failed');
      }
      if (!stopped) timer = setTimeout(() => void tick(), v.watchIntervalMs);
    };
    if (v.watchIntervalMs > 0 && context.runtime.config.AUDIT_LEDGER_URL) timer = setTimeout(() => void tick(), Math.min(v.watchIntervalMs, 1_000));
    // Scheduled chain runs: a changed row in any node's database is found without anyone asking.
    const runEvery = context.runtime.config.AUDIT_CHAIN_RUN_INTERVAL_MS ?? DEFAULT_CHAIN_RUN_INTERVAL_MS;
    let runTimer: NodeJS.Timeout | null = null;
    const sweep = async () => {
      for (const node of v.nodes.all()) {
        if (stopped) return;
        try {
          for await (const _line of v.runs.lines(node)) if (stopped) break;
        } catch (error) {
          context.runtime.logger.warn({ err: error, node: node.name }, 'audit scheduled chain run failed to run');
        }
      }
      if (!stopped) runTimer = setTimeout(() => void sweep(), runEvery);
    };
    if (runEvery > 0 && context.runtime.config.AUDIT_LEDGER_URL) runTimer = setTimeout(() => void sweep(), runEvery);
    return {
      async stop() {
        stopped = true;
        if (timer) clearTimeout(timer);
        if (runTimer) clearTimeout(runTimer);
        await v.runs.stop();
      },
    };
  },
};
