import { createHash } from 'node:crypto';
import { type ArgumentsHost, Catch, Controller, type ExceptionFilter, Get, HttpCode, Inject, Param, Patch, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { canonicalize } from '@alliance/protocol';
import type { ChainFollower } from '@alliance/shared/data-access-messaging';
import { Authenticated, correlationIdOf, PROBLEM_CONTENT_TYPE, principalOfRequest, ProblemFilter, RequirePermission, toAllianceError, toProblem, mediaTypeOf, unsupportedMediaType } from '@alliance/shared/feature-platform';
import type { Principal } from '@alliance/shared/util-auth';
import { AllianceError } from '@alliance/shared/util-errors';
import { type CommandRoute, COMMAND_ROUTES, operationOf, paramsOf } from './command-routes';
import { CommandErrors, type CommandService, type Receipt, refusalOf } from './commands';
import { financeKeyOf, type FinanceReadModel, type FinanceRecordKind } from './read-model';

export const COMMAND_SERVICE = Symbol('alliance.finance-commands');
export const FINANCE_READ_MODEL = Symbol('alliance.finance-read-model');
export const FINANCE_FOLLOWER = Symbol('alliance.finance-follower');

/** How long a command waits for its verdict before it answers 202 with its status URL. */
export const MAX_COMMAND_WAIT_MS = 10_000;

export const FinanceErrors = {
  invalid: (detail: string, problems: ReadonlyArray<{ path: string; message: string }>) => new AllianceError('FINANCE.INVALID', 'invalid', detail, { details: { problems } }),
};

/**
 * FINANCE.INVALID — a body of the wrong shape, or a payload the contract
 * found invalid — answers 422 (the JSON was read; what it says is not a
 * command); every other error as the platform maps it.
 */
@Catch()
export class FinanceProblemFilter implements ExceptionFilter {
  private readonly platform = new ProblemFilter();

  catch(exception: unknown, host: ArgumentsHost): unknown {
    const error = toAllianceError(exception);
    if (error.code !== 'FINANCE.INVALID' || host.getType() !== 'http') return this.platform.catch(exception, host);
    const request = host.switchToHttp().getRequest<Request>();
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return undefined;
    const problem = { ...toProblem(error, request.originalUrl, correlationIdOf(request)), status: 422 };
    response.status(422).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
    return undefined;
  }
}

const requestedBy = (p: Principal) => (p.agentId ? `${p.organizationId}/${p.agentId}` : `${p.organizationId}/admin:${p.keyId}`);

function idempotencyKeyOf(value: string | string[] | undefined): string | undefined {
  const key = Array.isArray(value) ? value[0] : value;
  if (key === undefined || key === '') return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(key)) throw CommandErrors.invalidIdempotencyKey();
  return key;
}

/** `Prefer: wait=<seconds>` (RFC 7240) shortens the wait for a verdict; never beyond MAX_COMMAND_WAIT_MS. */
function waitOf(prefer: string | string[] | undefined): number {
  const match = /(?:^|[,;\s])wait=(\d{1,6})\b/.exec(Array.isArray(prefer) ? prefer.join(',') : (prefer ?? ''));
  return match ? Math.min(Number(match[1]) * 1000, MAX_COMMAND_WAIT_MS) : MAX_COMMAND_WAIT_MS;
}

const statusUrl = (req: Request, transactionId: string) => `${req.baseUrl ?? ''}/finance/v1/transactions/${transactionId}`;

/** Where a created record is read (`GET /finance/v1/<resource>/{id}`). */
const RESOURCE_OF_KIND: Partial<Record<FinanceRecordKind, string>> = {
  receivable: 'receivables',
  financing: 'financings',
  'credit-line': 'credit-lines',
  payment: 'payments',
  'warehouse-receipt': 'warehouse-receipts',
  lease: 'leases',
};

/**
 * What the client sent, checked for shape and turned into the transaction's
 * payload: the body's fields and the path parameters under their own names
 * (a body field that repeats a path parameter must agree with it).
 */
export function payloadOf(route: CommandRoute, params: Record<string, string>, body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) body = {};
  if (typeof body !== 'object' || Array.isArray(body)) throw FinanceErrors.invalid('the body must be a JSON object', [{ path: '', message: 'must be an object' }]);
  const fields: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  const problems: Array<{ path: string; message: string }> = [];
  const fromPath: Record<string, string> = {};
  for (const name of paramsOf(route)) {
    fromPath[name] = params[name] ?? '';
    if (name in fields && fields[name] !== fromPath[name]) problems.push({ path: `/${name}`, message: `must be ${JSON.stringify(fromPath[name])} as in the path, or absent` });
    delete fields[name];
  }
  const parsed = route.body.safeParse(fields);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => `/${k}`) : [''];
      for (const extra of keys) problems.push({ path: `/${issue.path.map(String).join('/')}${extra}`.replace(/^\/\//, '/'), message: issue.message });
    }
  }
  if (problems.length > 0) throw FinanceErrors.invalid(`the body of ${operationOf(route)} is not of its shape: ${problems[0].path || '/'} ${problems[0].message}`, problems);
  return { ...(parsed.data as Record<string, unknown>), ...fromPath };
}

/** Runs one command route: checks, signs for this organization, waits for the verdict and answers the receipt. */
async function runCommand(commands: CommandService, route: CommandRoute, req: Request, res: Response): Promise<Receipt> {
  const type = mediaTypeOf(req);
  if (type !== '' && type !== 'application/json') throw unsupportedMediaType(type, 'send the command as application/json');
  const params = req.params as Record<string, string>;
  const payload = payloadOf(route, params, req.body);
  const principal = principalOfRequest(req) as Principal;
  const operation = operationOf(route);
  const receipt = await commands.execute(
    {
      operation,
      type: route.type,
      payload,
      recordKey: route.record(payload),
      requestHash: createHash('sha256').update(canonicalize({ operation, params: Object.fromEntries(paramsOf(route).map((p) => [p, params[p]])), body: req.body ?? {} })).digest('hex'),
      idempotencyKey: idempotencyKeyOf(req.headers['idempotency-key']),
      requestedBy: requestedBy(principal),
    },
    waitOf(req.headers['prefer']),
  );
  if (receipt.status === 'invalid') throw refusalOf(receipt);
  if (receipt.status === 'pending') {
    res.status(202);
    res.setHeader('Location', statusUrl(req, receipt.transactionId));
  } else if (route.creates) {
    res.status(201);
    const target = financeKeyOf(route.record(payload));
    const resource = target && RESOURCE_OF_KIND[target.kind];
    if (target && resource) res.setHeader('Location', `${req.baseUrl ?? ''}/finance/v1/${resource}/${encodeURIComponent(target.id)}`);
  } else res.status(200);
  return receipt;
}

/**
 * The finance commands (COMMAND_ROUTES): one route each, all served by
 * `runCommand`. The methods are made from the table so every route keeps its
 * own path, permission and summary (OpenAPI, docs/authorization.md).
 */
@ApiTags('finance commands')
@UseFilters(FinanceProblemFilter)
@Controller()
export class FinanceCommandsController {
  constructor(@Inject(COMMAND_SERVICE) readonly commands: CommandService) {}
}

for (const route of COMMAND_ROUTES) {
  const proto = FinanceCommandsController.prototype as unknown as Record<string, unknown>;
  if (route.name in proto) throw new Error(`two finance command routes named ${route.name}`);
  Object.defineProperty(proto, route.name, {
    value: function (this: FinanceCommandsController, req: Request, res: Response) {
      return runCommand(this.commands, route, req, res);
    },
    writable: true,
    configurable: true,
  });
  const descriptor = Object.getOwnPropertyDescriptor(proto, route.name) as PropertyDescriptor;
  for (const decorate of [
    (route.method === 'POST' ? Post : Patch)(route.path),
    RequirePermission(route.permission, { from: 'service' }, route.observerMay ? { observerMay: true } : {}),
    ApiOperation({ summary: `${route.summary} → \`${route.type}\`; answers the receipt { transactionId, status, blockNumber, record } (201/200), 202 with its status URL after 10 s, or the contract's refusal` }),
  ]) {
    decorate(proto, route.name, descriptor);
  }
  Req()(proto, route.name, 0);
  Res({ passthrough: true })(proto, route.name, 1);
}

@ApiTags('finance commands')
@Controller('transactions')
export class FinanceTransactionsController {
  constructor(@Inject(COMMAND_SERVICE) private readonly commands: CommandService) {}

  @Get(':transactionId')
  @Authenticated()
  @ApiOperation({ summary: 'The receipt of a transaction: pending, committed (with the record as the read model holds it) or invalid (with the contract’s code and detail)' })
  receipt(@Param('transactionId') transactionId: string) {
    if (!/^[0-9a-f]{64}$/.test(transactionId)) throw CommandErrors.unknownTransaction(transactionId);
    return this.commands.receipt(transactionId);
  }
}

@ApiTags('read-model')
@Controller('read-model')
export class FinanceReadModelController {
  constructor(
    @Inject(FINANCE_READ_MODEL) private readonly readModel: FinanceReadModel,
    @Inject(FINANCE_FOLLOWER) private readonly follower: ChainFollower,
  ) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'Where the finance read model stands: chain, ledger node, last applied block' })
  async position() {
    return { ...(await this.readModel.position()), problem: this.follower.problem ?? null };
  }

  @Post('rebuild')
  @HttpCode(200)
  @RequirePermission('finance.read-model.rebuild')
  @ApiOperation({ summary: 'Empties the read model (mirror and typed tables) and rebuilds it from this organization’s ledger node, announcing nothing again; answers once it is back at the node’s head' })
  async rebuild() {
    if (!this.follower.canRebuild) throw new AllianceError('FINANCE.LEDGER_NOT_CONFIGURED', 'conflict', 'LEDGER_URL is not set: the read model has no ledger node to rebuild from');
    const lastBlock = await this.follower.rebuild(() => this.readModel.reset());
    return { rebuilt: true, lastBlock };
  }
}
