import { Controller, Get, Headers, Inject, Param, Query, StreamableFile } from '@nestjs/common';
import { Args, Context, Field, Int, ObjectType, Query as GqlQuery, Resolver } from '@nestjs/graphql';
import { ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
// The evidence format and its verifier are the SDK's (the brief: audit reads and verifies through @alliance/sdk).
import {
  AllianceApiError,
  AllianceClient,
  type CheckpointView,
  encodeEvidencePackage,
  type EpcisEventRecord,
  type EvidencePackage,
  type EvidenceRecord,
  type EvidenceTransaction,
  type JsonValue,
  type Receipt,
  sealEvidencePackage,
  type StateWriteRecord,
} from '@alliance/sdk';
import { AllianceError } from '@alliance/shared/util-errors';
import { AUDIT_READ } from './access-log';
import type { AuditContext, AuditFeature } from './features';
import { authorizationOf, type GraphqlRequestContext } from './upstream';
import { RequirePermission } from '@alliance/shared/feature-platform';

/**
 * Evidence packages (docs/audit.md, Evidence packages): a case — a
 * receivable's certificate tree, an item's trace — exported as one canonical
 * JSON file with the ledger facts, the receipts of the transactions that wrote
 * or carried them (from the regulator's own observer node), the node's latest
 * checkpoint with a consistency proof from each receipt's block to it, CSV
 * renderings, and the regulator's signature. The format and its verification
 * are the SDK's (libs/sdk/src/evidence.ts): `alliance verify evidence <file>`.
 */

export const EVIDENCE_BUILDER = Symbol('alliance.audit-evidence');
/** Most blocks one receivable package scans for the writes of its tree (from the root's creation to the read model's block). */
export const EVIDENCE_MAX_BLOCKS = 20_000;
const SCAN_CONCURRENCY = 8;
const RECEIVABLE_ID = /^[A-Za-z0-9_-]{8,64}$/;

interface TreeAnswer {
  readonly rootId: string;
  readonly asOfBlock: number;
  readonly nodes: ReadonlyArray<{ readonly receivableId: string; readonly createdAtBlock: number | null; readonly financings: ReadonlyArray<{ readonly financingId: string }> }>;
  readonly payments: ReadonlyArray<{ readonly paymentId: string }>;
}

interface TraceAnswer {
  readonly root: string;
  readonly direction: string;
  readonly depth: number;
  readonly truncated: boolean;
  readonly nodes: ReadonlyArray<{ id: string; kind: string; depth: number }>;
  readonly edges: ReadonlyArray<{ from: string; to: string; kind: string; eventID: string; eventTime: string }>;
  readonly events: ReadonlyArray<{ eventID: string; type: string; eventTime: string }>;
}

interface ProofAnswer {
  readonly eventID: string;
  readonly eventHash: string;
  readonly origin: string;
  readonly transactionId: string;
  readonly position: number;
}

const ledgerUnavailable = (error: unknown): never => {
  if (error instanceof AllianceApiError) throw new AllianceError('AUDIT.UPSTREAM_UNAVAILABLE', 'unavailable', `the observer ledger node answered ${error.code}: ${error.detail}`, { cause: error });
  throw error;
};

/** Assembles and signs packages from the regulator's own services, asked with the caller's token. */
export class EvidenceBuilder {
  constructor(private readonly context: AuditContext) {}

  private get ledger(): AllianceClient {
    return new AllianceClient({ baseUrl: this.context.upstreams.url('ledger'), timeoutMs: 30_000 });
  }

  private key() {
    const key = this.context.key;
    if (!key) throw new AllianceError('AUDIT.NOT_CONFIGURED', 'unavailable', 'the audit service has no signing key (AUDIT_SIGNING_KEY_FILE): it cannot issue evidence packages');
    return key;
  }

  /** A receivable's whole tree: every write to its nodes, their financings and the tree's payments, from the root's creation on. */
  async receivable(receivableId: string, authorization: string | undefined): Promise<EvidencePackage> {
    if (!RECEIVABLE_ID.test(receivableId)) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'receivableId must be 8-64 characters of A-Z a-z 0-9 _ -');
    const key = this.key();
    const tree = await this.context.upstreams.get<TreeAnswer>('finance', `/finance/v1/receivables/${encodeURIComponent(receivableId)}/tree`, authorization);
    const keys = new Set<string>();
    for (const node of tree.nodes) {
      keys.add(`finance/receivable/${node.receivableId}`);
      for (const f of node.financings) keys.add(`finance/financing/${f.financingId}`);
    }
    for (const p of tree.payments) keys.add(`finance/payment/${p.paymentId}`);
    const checkpoint = await this.checkpointAtLeast(tree.asOfBlock);
    const from = Math.min(...tree.nodes.map((n) => n.createdAtBlock ?? 0));
    const to = tree.asOfBlock;
    if (to - from + 1 > EVIDENCE_MAX_BLOCKS) throw new AllianceError('AUDIT.TOO_LARGE', 'too-large', `the tree's history spans blocks ${from}-${to}, more than ${EVIDENCE_MAX_BLOCKS}`);
    const records = await this.writesTo(keys, from, to);
    return this.seal({ kind: 'receivable', subject: receivableId, rootId: tree.rootId }, records, checkpoint, key);
  }

  /** An item's trace (both directions unless asked): every event on its paths, with its transaction. */
  async trace(item: string, direction: string | undefined, depth: string | undefined, authorization: string | undefined): Promise<EvidencePackage> {
    if (!item || item.length > 1000) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'item must be an EPC, lot or product class (URN or GS1 Digital Link) of at most 1000 characters');
    if (direction !== undefined && !['upstream', 'downstream', 'both'].includes(direction)) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'direction must be upstream, downstream or both');
    if (depth !== undefined && !/^\d{1,2}$/.test(depth)) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'depth must be an integer from 1 to 50');
    const key = this.key();
    const query = new URLSearchParams({ epc: item, direction: direction ?? 'both', ...(depth ? { depth } : {}) });
    const trace = await this.context.upstreams.get<TraceAnswer>('provenance', `/provenance/v1/trace?${query.toString()}`, authorization);
    if (trace.events.length === 0) throw new AllianceError('AUDIT.NOT_FOUND', 'not-found', `no event names ${item}: there is no trace to export`);
    const proofs: ProofAnswer[] = [];
    for (const e of trace.events) proofs.push(await this.context.upstreams.get<ProofAnswer>('provenance', `/provenance/v1/epcis/events/${encodeURIComponent(e.eventID)}/proof`, authorization));
    const highest = Math.max(...(await Promise.all([...new Set(proofs.map((p) => p.transactionId))].map(async (id) => (await this.receipt(id)).block.header.blockNumber))));
    const checkpoint = await this.checkpointAtLeast(highest);
    const records: EvidenceRecord[] = [];
    for (const [i, p] of proofs.entries()) {
      const listed = trace.events[i];
      let eventType = listed.type;
      let eventTime = listed.eventTime;
      if (p.origin === 'capture') {
        // A captured event as its capture transaction states it (what the verifier compares with).
        const entry = ((await this.receipt(p.transactionId)).envelope.transaction.payload as { events?: Array<{ type?: string; eventTime?: string }> }).events?.[p.position];
        eventType = entry?.type ?? eventType;
        eventTime = entry?.eventTime ?? eventTime;
      }
      const record: EpcisEventRecord = { type: 'epcis-event', transactionId: p.transactionId, eventId: p.eventID, eventHash: p.eventHash, eventType, eventTime, origin: p.origin, position: p.position };
      records.push(record);
    }
    return this.seal(
      { kind: 'trace', subject: trace.root, direction: trace.direction, depth: trace.depth, truncated: trace.truncated, nodes: trace.nodes.map((n) => ({ id: n.id, kind: n.kind, depth: n.depth })), edges: trace.edges.map((e) => ({ from: e.from, to: e.to, kind: e.kind, eventID: e.eventID, eventTime: e.eventTime })) },
      records,
      checkpoint,
      key,
    );
  }

  private readonly receipts = new Map<string, Promise<Receipt>>();

  /** The receipt from the observer node, waiting a little for a block not yet certified. */
  private receipt(transactionId: string): Promise<Receipt> {
    let held = this.receipts.get(transactionId);
    if (!held) {
      held = this.ledger
        .waitForCommit(transactionId, 10_000)
        .then((c) => c.receipt)
        .catch(ledgerUnavailable);
      held.catch(() => this.receipts.delete(transactionId));
      this.receipts.set(transactionId, held);
      // A small cache within one export; bounded so a long-running service does not grow.
      if (this.receipts.size > 10_000) this.receipts.delete(this.receipts.keys().next().value as string);
    }
    return held;
  }

  /** The node's latest checkpoint once it covers `blockNumber` (waits up to 10 s for certification). */
  private async checkpointAtLeast(blockNumber: number): Promise<CheckpointView> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const checkpoint = await this.ledger.latestCheckpoint().catch(ledgerUnavailable);
      if (checkpoint.blockNumber >= blockNumber) return checkpoint;
      if (Date.now() > deadline) throw new AllianceError('AUDIT.NOT_CERTIFIED', 'conflict', `the observer node's latest checkpoint is at block ${checkpoint.blockNumber}, before block ${blockNumber}; retry shortly`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Every write to `keys` in blocks from..to, read from the observer node's stored transactions and results. */
  private async writesTo(keys: ReadonlySet<string>, from: number, to: number): Promise<StateWriteRecord[]> {
    const found: StateWriteRecord[][] = [];
    let next = from;
    const worker = async () => {
      while (next <= to) {
        const n = next++;
        const view = await this.ledger.blockTransactions(n).catch(ledgerUnavailable);
        const writes: StateWriteRecord[] = [];
        for (const row of view.transactions) {
          if (row.code !== 'VALID') continue;
          const result = (typeof row.result === 'string' ? JSON.parse(Buffer.from(row.result, 'base64').toString('utf8')) : row.result) as { writes: Array<{ key: string; version: number; value: JsonValue }> };
          for (const w of result.writes) if (keys.has(w.key)) writes.push({ type: 'state-write', transactionId: row.transactionId, key: w.key, version: w.version, value: w.value });
        }
        found[n - from] = writes;
      }
    };
    await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, to - from + 1) }, worker));
    return found.flat();
  }

  private async seal(kase: EvidencePackage['case'], records: EvidenceRecord[], checkpoint: CheckpointView, key: NonNullable<AuditContext['key']>): Promise<EvidencePackage> {
    const ids = [...new Set(records.map((r) => r.transactionId))];
    const transactions: EvidenceTransaction[] = [];
    for (const transactionId of ids) {
      const receipt = await this.receipt(transactionId);
      const size = receipt.block.header.logSize;
      const logProof = size === checkpoint.treeSize ? [] : (await this.ledger.consistencyProof(size, checkpoint.treeSize).catch(ledgerUnavailable)).proof;
      transactions.push({ transactionId, receipt, logProof: [...logProof] });
    }
    return sealEvidencePackage({ chainId: this.context.runtime.config.CHAIN_ID, case: kase, createdAt: new Date().toISOString(), records, transactions, checkpoint: checkpoint.note }, key);
  }
}

/** The file name of a package's download: the case, in characters safe in any file system. */
const fileNameOf = (name: string) => `${name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120)}.json`;

/** The package as a download: its canonical bytes, application/json, attachment; the access log counts its records. */
function download(pkg: EvidencePackage, name: string): StreamableFile {
  const file = new StreamableFile(Buffer.from(encodeEvidencePackage(pkg)), { type: 'application/json', disposition: `attachment; filename="${fileNameOf(name)}"` });
  return Object.assign(file, { recordCount: pkg.records.length });
}

@ApiTags('evidence')
@Controller('evidence')
export class EvidenceController {
  constructor(@Inject(EVIDENCE_BUILDER) private readonly builder: EvidenceBuilder) {}

  @Get('traces')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'An evidence package of an item’s trace: every event on its paths with its transaction’s receipt, a checkpoint, CSV, signed by the regulator; verify with `alliance verify evidence <file>`' })
  @ApiQuery({ name: 'item', required: true, description: 'An EPC, lot or product class, URN or GS1 Digital Link' })
  @ApiQuery({ name: 'direction', required: false })
  @ApiQuery({ name: 'depth', required: false })
  @ApiProduces('application/json')
  async trace(@Query('item') item: string | undefined, @Query('direction') direction: string | undefined, @Query('depth') depth: string | undefined, @Headers('authorization') authorization: string | undefined) {
    if (typeof item !== 'string') throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'item is required (an EPC, lot or product class)');
    const pkg = await this.builder.trace(item, direction, depth, authorization);
    return download(pkg, `evidence-trace-${item}`);
  }

  @Get('receivables/:receivableId')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'An evidence package of a receivable’s whole tree: every write to its nodes, financings and payments with the receipts, a checkpoint, CSV, signed by the regulator; verify with `alliance verify evidence <file>`' })
  @ApiProduces('application/json')
  async receivable(@Param('receivableId') receivableId: string, @Headers('authorization') authorization: string | undefined) {
    const pkg = await this.builder.receivable(receivableId, authorization);
    return download(pkg, `evidence-receivable-${receivableId}`);
  }
}

@ObjectType('AuditEvidenceFile', { description: 'An evidence package as the file GET /audit/v1/evidence/… downloads: save `content` (UTF-8) as `fileName` and verify it with `alliance verify evidence <file>`' })
class EvidenceFileType {
  @Field() fileName!: string;
  @Field({ description: 'application/json' }) mediaType!: string;
  @Field({ description: 'The package’s canonical JSON text, byte for byte the REST download once encoded as UTF-8' }) content!: string;
  @Field(() => Int, { description: 'The records it holds (state writes or EPCIS events)' }) recordCount!: number;
  @Field(() => Int, { description: 'The transactions whose receipts it carries' }) transactionCount!: number;
}

const fileOf = (pkg: EvidencePackage, name: string): EvidenceFileType => ({
  fileName: fileNameOf(name),
  mediaType: 'application/json',
  content: new TextDecoder().decode(encodeEvidencePackage(pkg)),
  recordCount: pkg.records.length,
  transactionCount: pkg.transactions.length,
});

@Resolver()
export class EvidenceResolver {
  constructor(@Inject(EVIDENCE_BUILDER) private readonly builder: EvidenceBuilder) {}

  @GqlQuery(() => EvidenceFileType, { name: 'auditEvidenceTrace', description: 'The evidence package of an item’s trace, as GET /audit/v1/evidence/traces' })
  @RequirePermission(AUDIT_READ)
  async auditEvidenceTrace(
    @Context() ctx: GraphqlRequestContext,
    @Args('item') item: string,
    @Args('direction', { type: () => String, nullable: true }) direction?: string | null,
    @Args('depth', { type: () => Int, nullable: true }) depth?: number | null,
  ): Promise<EvidenceFileType> {
    const pkg = await this.builder.trace(item, direction ?? undefined, depth === null || depth === undefined ? undefined : String(depth), authorizationOf(ctx));
    return fileOf(pkg, `evidence-trace-${item}`);
  }

  @GqlQuery(() => EvidenceFileType, { name: 'auditEvidenceReceivable', description: 'The evidence package of a receivable’s whole tree, as GET /audit/v1/evidence/receivables/{receivableId}' })
  @RequirePermission(AUDIT_READ)
  async auditEvidenceReceivable(@Context() ctx: GraphqlRequestContext, @Args('receivableId') receivableId: string): Promise<EvidenceFileType> {
    return fileOf(await this.builder.receivable(receivableId, authorizationOf(ctx)), `evidence-receivable-${receivableId}`);
  }
}

export const evidenceFeature: AuditFeature = {
  name: 'evidence',
  controllers: [EvidenceController],
  resolvers: [EvidenceResolver],
  providers: (context) => [{ provide: EVIDENCE_BUILDER, useValue: new EvidenceBuilder(context) }],
};
