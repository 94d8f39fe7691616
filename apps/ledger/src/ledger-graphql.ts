import { Inject } from '@nestjs/common';
import { Args, Directive, Field, Int, ObjectType, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { canonicalize } from '@alliance/protocol';
import { AllianceError } from '@alliance/shared/util-errors';
import { Public, SERVICE_CONFIG } from '@alliance/shared/feature-platform';
import { certifiedBlocks, type LedgerNode, LedgerQueries, type BlockView } from '@alliance/ledger/feature-node';
import { LEDGER_NODE } from './ledger-api';
import type { LedgerConfig } from './ledger.module';

@ObjectType({ description: 'A block of this member’s copy of the chain' })
@Directive('@shareable')
export class LedgerBlock {
  @Field(() => Int) blockNumber!: number;
  @Field({ description: 'Hex of the domain-separated header hash' }) headerHash!: string;
  @Field({ description: 'Hex of the previous header hash' }) previousHash!: string;
  @Field({ description: 'From the ordering log (UTC, RFC 3339)' }) timestamp!: string;
  @Field(() => Int) transactionCount!: number;
  @Field(() => Int, { description: 'Size of the chain’s global log after this block' }) logSize!: number;
  @Field() logRoot!: string;
  @Field({ description: 'True once the consortium policy’s signatures are in' }) certified!: boolean;
  @Field(() => [String], { description: 'Organizations whose node signed the header' }) signedBy!: string[];
  @Field(() => [LedgerTransaction]) transactions!: LedgerTransaction[];
}

// @shareable: with every service in one process (`npm start`), @nestjs/graphql's
// global type registry lets types referenced from fields leak into the other
// subgraphs' schemas; shareable keeps the supergraph composable (identical shapes).
@ObjectType({ description: 'A transaction’s status on this node' })
@Directive('@shareable')
export class LedgerTransaction {
  @Field() transactionId!: string;
  @Field({ description: 'pending, committed or invalid' }) status!: string;
  @Field({ nullable: true, description: 'VALID or the stable code that refused it' }) code?: string;
  @Field(() => Int, { nullable: true }) blockNumber?: number;
  @Field(() => Int, { nullable: true }) leafIndex?: number;
  @Field({ nullable: true }) certified?: boolean;
  @Field(() => String, {
    nullable: true,
    description: 'Once its block is certified, the receipt (docs/protocol.md, Receipts) as its canonical JSON text — what GET /ledger/v1/transactions/{id} returns as `receipt`, verified offline with the SDK’s verifyReceipt; null before',
  })
  receipt?: string | null;
}

@ObjectType({ description: 'A certified checkpoint of the chain’s log (docs/protocol.md, Checkpoints), as GET /ledger/v1/checkpoints/latest' })
@Directive('@shareable')
export class LedgerCheckpoint {
  @Field(() => Int) blockNumber!: number;
  @Field(() => Int, { description: 'Size of the global log at the block' }) treeSize!: number;
  @Field({ description: 'Hex of the log’s Merkle root' }) rootHash!: string;
  @Field({ description: 'The C2SP signed note: the checkpoint body and one signature line per member that signed it' }) note!: string;
  @Field(() => [String]) signedBy!: string[];
}

function toBlock(b: BlockView): LedgerBlock {
  return {
    blockNumber: b.blockNumber,
    headerHash: b.headerHash,
    previousHash: b.header.previousHash,
    timestamp: b.header.timestamp,
    transactionCount: b.header.transactionCount,
    logSize: b.header.logSize,
    logRoot: b.header.logRoot,
    certified: b.certified,
    signedBy: b.signatures.map((s) => s.organizationId),
    transactions: b.transactions.map((t) => ({ transactionId: t.transactionId, status: t.code === 'VALID' ? 'committed' : 'invalid', code: t.code, blockNumber: b.blockNumber, leafIndex: t.leafIndex, certified: b.certified })),
  };
}

@Resolver(() => LedgerBlock)
@Public('replicated chain data every member and verifier reads: anyone entitled verifies it with open code alone (docs/ledger.md)')
export class LedgerResolver {
  private readonly queries: LedgerQueries;

  constructor(
    @Inject(LEDGER_NODE) private readonly node: LedgerNode,
    @Inject(SERVICE_CONFIG) private readonly config: LedgerConfig,
  ) {
    this.queries = new LedgerQueries(node);
  }

  @Query(() => LedgerBlock, { description: 'One block by number' })
  async ledgerBlock(@Args('blockNumber', { type: () => Int }) blockNumber: number): Promise<LedgerBlock> {
    if (blockNumber < 0) throw new AllianceError('LEDGER.INVALID_PARAMETER', 'invalid', 'blockNumber must be >= 0');
    return toBlock(await this.queries.block(blockNumber));
  }

  @Query(() => [LedgerBlock], { description: 'Blocks in order from `from`, at most `limit` (max 100)' })
  async ledgerBlocks(@Args('from', { type: () => Int, defaultValue: 0 }) from: number, @Args('limit', { type: () => Int, defaultValue: 20 }) limit: number): Promise<LedgerBlock[]> {
    if (from < 0 || limit < 1 || limit > 100) throw new AllianceError('LEDGER.INVALID_PARAMETER', 'invalid', 'need from >= 0 and 1 <= limit <= 100');
    return (await this.queries.blocks(from, limit)).items.map(toBlock);
  }

  @Query(() => LedgerTransaction, { description: 'A transaction’s status by id' })
  async ledgerTransaction(@Args('transactionId') transactionId: string): Promise<LedgerTransaction> {
    if (!/^[0-9a-f]{64}$/.test(transactionId)) throw new AllianceError('LEDGER.INVALID_PARAMETER', 'invalid', 'a transaction id is 64 lower-case hex digits');
    const s = await this.queries.status(transactionId);
    return s.status === 'pending' ? { transactionId, status: 'pending' } : { transactionId, status: s.status, code: s.code, blockNumber: s.blockNumber, leafIndex: s.leafIndex, certified: s.certified };
  }

  @Query(() => LedgerCheckpoint, { description: 'The checkpoint of block `blockNumber`, or of the newest certified block without it (LEDGER.NO_CHECKPOINT before the first)' })
  async ledgerCheckpoint(@Args('blockNumber', { type: () => Int, nullable: true }) blockNumber?: number | null): Promise<LedgerCheckpoint> {
    if (blockNumber !== undefined && blockNumber !== null && (blockNumber < 0 || blockNumber > this.node.certifiedBlock)) {
      throw new AllianceError('LEDGER.INVALID_PARAMETER', 'invalid', `blockNumber must be a certified block, 0..${this.node.certifiedBlock}`);
    }
    const c = blockNumber === undefined || blockNumber === null ? await this.queries.latestCheckpoint() : await this.queries.checkpointAt(blockNumber);
    return { ...c, signedBy: [...c.signedBy] };
  }

  // Not async: `from` is checked when the client subscribes, so a bad one is the subscription's error, not a broken stream.
  @Subscription(() => LedgerBlock, {
    description:
      'Each block of this chain once it is certified, in order. With `from`, first the certified blocks from that number (at most LEDGER_SUBSCRIPTION_REPLAY_LIMIT behind the head, else LEDGER.REPLAY_LIMIT_EXCEEDED), then live ones: a client that reconnects passes its last block number + 1 and misses nothing.',
    resolve: (block: BlockView) => toBlock(block),
  })
  ledgerBlockCertified(@Args('from', { type: () => Int, nullable: true, description: 'First block number to deliver (replayed from the store when already certified)' }) from?: number | null): AsyncIterableIterator<BlockView> {
    return certifiedBlocks(this.node, { from: from ?? undefined, replayLimit: this.config.LEDGER_SUBSCRIPTION_REPLAY_LIMIT });
  }
}

@Resolver(() => LedgerTransaction)
@Public('replicated chain data every member and verifier reads: anyone entitled verifies it with open code alone (docs/ledger.md)')
export class LedgerTransactionResolver {
  private readonly queries: LedgerQueries;

  constructor(@Inject(LEDGER_NODE) private readonly node: LedgerNode) {
    this.queries = new LedgerQueries(node);
  }

  /** Read only when a client asks for it: one store read per transaction of the answer. */
  @ResolveField(() => String, { nullable: true })
  async receipt(@Parent() t: LedgerTransaction): Promise<string | null> {
    if (t.status === 'pending' || t.blockNumber === undefined || t.blockNumber > this.node.certifiedBlock) return null;
    return canonicalize(await this.queries.receipt(t.transactionId));
  }
}
