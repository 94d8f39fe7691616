import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AllianceError } from '@alliance/shared/util-errors';
import { Public } from '@alliance/shared/feature-platform';
import { type LedgerNode, LedgerQueries, type Submission } from '@alliance/ledger/feature-node';
import { nulPath, ValidationCodes } from '@alliance/ledger/domain';

export const LEDGER_NODE = Symbol('alliance.ledger-node');
export const LEDGER_LIMITS = Symbol('alliance.ledger-limits');

export interface LedgerLimits {
  readonly commitWaitMs: number;
  readonly batchLimit: number;
}

const TX_ID = /^[0-9a-f]{64}$/;

// The body as parsed JSON; the node canonicalises and checks it (LEDGER.MALFORMED_TRANSACTION otherwise).
function submission(body: unknown, index?: number): Submission {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new AllianceError('LEDGER.MALFORMED_TRANSACTION', 'invalid', `${index === undefined ? 'the body' : `transactions[${index}]`} must be a signed transaction envelope (a JSON object)`);
  }
  const nul = nulPath(body);
  if (nul !== undefined) {
    throw new AllianceError(ValidationCodes.unstorableText, 'invalid', `${index === undefined ? 'the envelope' : `transactions[${index}]`} holds U+0000 (NUL) at ${nul}: PostgreSQL cannot store it`);
  }
  return { json: body };
}

function parseIntParam(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw new AllianceError('LEDGER.INVALID_PARAMETER', 'invalid', `${name} must be a non-negative integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new AllianceError('LEDGER.INVALID_PARAMETER', 'invalid', `${name} must be between ${min} and ${max}`);
  return n;
}

@ApiTags('transactions')
@Public('a transaction is authenticated by its own signature, checked by every node against the chain (docs/protocol.md §4)')
@Controller('transactions')
export class TransactionsController {
  private readonly queries: LedgerQueries;

  constructor(
    @Inject(LEDGER_NODE) private readonly node: LedgerNode,
    @Inject(LEDGER_LIMITS) private readonly limits: LedgerLimits,
  ) {
    this.queries = new LedgerQueries(node);
  }

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Submit one signed transaction envelope; `?wait=commit` waits for its certified block and returns the receipt' })
  @ApiQuery({ name: 'wait', required: false, enum: ['commit'] })
  @ApiAcceptedResponse({ description: '{ transactionId, status: "pending" } or, with wait=commit, { transactionId, status, receipt }' })
  async submit(@Body() body: unknown, @Query('wait') wait: string | undefined, @Res({ passthrough: true }) res: Response): Promise<Record<string, unknown>> {
    if (wait !== undefined && wait !== 'commit') throw new AllianceError('LEDGER.INVALID_PARAMETER', 'invalid', 'wait must be "commit"');
    const [transactionId] = await this.node.submit([submission(body)]);
    res.setHeader('Location', `/ledger/v1/transactions/${transactionId}`);
    if (wait !== 'commit') return { transactionId, status: 'pending' };
    await this.node.waitForCertified(transactionId, this.limits.commitWaitMs);
    res.status(200);
    const status = await this.queries.status(transactionId);
    return { ...status, receipt: await this.queries.receipt(transactionId) };
  }

  @Post('batch')
  @HttpCode(202)
  @ApiOperation({ summary: 'Submit up to LEDGER_BATCH_LIMIT envelopes at once (ERP bulk loads); all are checked before any is ordered' })
  async submitBatch(@Body() body: unknown): Promise<{ transactionIds: string[]; status: 'pending' }> {
    const list = (body as { transactions?: unknown } | null)?.transactions;
    if (!Array.isArray(list) || list.length === 0) throw new AllianceError('LEDGER.MALFORMED_BATCH', 'invalid', 'body must be { "transactions": [ envelope, ... ] } with at least one envelope');
    if (list.length > this.limits.batchLimit) throw new AllianceError('LEDGER.BATCH_TOO_LARGE', 'too-large', `at most ${this.limits.batchLimit} transactions per batch`);
    const transactionIds = await this.node.submit(list.map((item, i) => submission(item, i)));
    return { transactionIds, status: 'pending' };
  }

  @Get(':transactionId')
  @ApiOperation({ summary: 'Status of a transaction (pending | committed | invalid with its code) and, once certified, its receipt' })
  async find(@Param('transactionId') transactionId: string): Promise<Record<string, unknown>> {
    if (!TX_ID.test(transactionId)) throw new AllianceError('LEDGER.INVALID_PARAMETER', 'invalid', 'a transaction id is 64 lower-case hex digits');
    const status = await this.queries.status(transactionId);
    if (status.status === 'pending' || !status.certified) return status;
    return { ...status, receipt: await this.queries.receipt(transactionId) };
  }
}

@ApiTags('blocks')
@Public('replicated chain data every member and verifier reads: anyone entitled verifies it with open code alone (docs/ledger.md)')
@Controller('blocks')
export class BlocksController {
  private readonly queries: LedgerQueries;

  constructor(@Inject(LEDGER_NODE) node: LedgerNode) {
    this.queries = new LedgerQueries(node);
  }

  @Get()
  @ApiOperation({ summary: 'Blocks in order from `from` (default 0), at most `limit` (default 50, max 500); `next` continues' })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'limit', required: false })
  async list(@Query('from') from: string | undefined, @Query('limit') limit: string | undefined, @Req() req: Request): Promise<Record<string, unknown>> {
    const f = parseIntParam(from, 'from', 0, 0, Number.MAX_SAFE_INTEGER);
    const l = parseIntParam(limit, 'limit', 50, 1, 500);
    const page = await this.queries.blocks(f, l);
    return { items: page.items, next: page.nextFrom === null ? null : `${req.baseUrl ?? ''}/ledger/v1/blocks?from=${page.nextFrom}&limit=${l}` };
  }

  @Get(':blockNumber/transactions')
  @ApiOperation({ summary: 'A block’s transactions as stored: base64 of the exact envelope and result bytes, for offline re-verification' })
  async transactions(@Param('blockNumber') blockNumber: string) {
    return this.queries.blockTransactions(parseIntParam(blockNumber, 'blockNumber', 0, 0, Number.MAX_SAFE_INTEGER));
  }

  @Get(':blockNumber')
  @ApiOperation({ summary: 'One block: header, header hash, member signatures, certification and its transactions' })
  @ApiOkResponse({ description: 'the block' })
  async find(@Param('blockNumber') blockNumber: string) {
    return this.queries.block(parseIntParam(blockNumber, 'blockNumber', 0, 0, Number.MAX_SAFE_INTEGER));
  }
}

/** What a verifier reads besides blocks: checkpoints, consistency proofs, the world state. */
@ApiTags('checkpoints')
@Public('replicated chain data every member and verifier reads: anyone entitled verifies it with open code alone (docs/ledger.md)')
@Controller()
export class ProofsController {
  private readonly queries: LedgerQueries;

  constructor(@Inject(LEDGER_NODE) node: LedgerNode) {
    this.queries = new LedgerQueries(node);
  }

  @Get('checkpoints/latest')
  @ApiOperation({ summary: 'The newest certified checkpoint as a C2SP signed note (text/plain) or JSON (application/json)' })
  async latest(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    const checkpoint = await this.queries.latestCheckpoint();
    if ((req.headers.accept ?? '').includes('text/plain')) {
      res.type('text/plain; charset=utf-8');
      return checkpoint.note;
    }
    return checkpoint;
  }

  @Get('state')
  @ApiTags('state')
  @ApiOperation({ summary: 'World state rows as stored, in byte order of the keys after `after`, at most `limit` (default 100, max 500); `next` continues. value: base64 of the stored canonical JSON, null when deleted (docs/protocol.md §14.1)' })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false })
  async state(@Query('after') after: string | undefined, @Query('limit') limit: string | undefined, @Req() req: Request): Promise<Record<string, unknown>> {
    if (after !== undefined && (typeof after !== 'string' || after.length > 1024)) throw new AllianceError('LEDGER.INVALID_PARAMETER', 'invalid', 'after must be one key of at most 1024 characters');
    const l = parseIntParam(limit, 'limit', 100, 1, 500);
    const page = await this.queries.state(after === undefined || after === '' ? null : after, l);
    return { items: page.items, next: page.nextAfter === null ? null : `${req.baseUrl ?? ''}/ledger/v1/state?after=${encodeURIComponent(page.nextAfter)}&limit=${l}` };
  }

  @Get('proofs/consistency')
  @ApiOperation({ summary: 'RFC 9162 consistency proof between tree sizes `from` and `to` of the chain log' })
  consistency(@Query('from') from: string | undefined, @Query('to') to: string | undefined) {
    return this.queries.consistency(parseIntParam(from, 'from', 0, 1, Number.MAX_SAFE_INTEGER), parseIntParam(to, 'to', 0, 1, Number.MAX_SAFE_INTEGER));
  }
}
