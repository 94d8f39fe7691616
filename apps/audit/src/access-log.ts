import { readFileSync } from 'node:fs';
import { type CallHandler, Controller, type ExecutionContext, Get, Inject, Injectable, type NestInterceptor, Query } from '@nestjs/common';
import { Args, Field, GqlExecutionContext, Int, ObjectType, Query as GqlQuery, Resolver } from '@nestjs/graphql';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { catchError, concatMap, type Observable } from 'rxjs';
import type { Principal } from '@alliance/contracts';
import { ACCESS_LOG_GENESIS_HASH, type AccessLogEntry, accessLogEntryHash, accessLogHeadText, canonicalize, keyId, publicKeyOf, type SignatureAlgorithm, sign, SignatureDomain, toBase64, fromHex, verifyAccessLog } from '@alliance/protocol';
import type { Pool } from '@alliance/shared/data-access-postgres';
import { principalOfRequest, RequirePermission } from '@alliance/shared/feature-platform';
import { AllianceError } from '@alliance/shared/util-errors';

/** The DI tokens of the audit service's read-only pool and its access log. */
export const AUDIT_POOL = Symbol('alliance.audit-pool');
export const ACCESS_LOG = Symbol('alliance.audit-access-log');
/** What every audit read needs, in the regulator's organization (its admin key holds it). */
export const AUDIT_READ = 'audit.read';

export interface StoredEntry extends AccessLogEntry {
  readonly entryHash: string;
}

interface Row {
  seq: string;
  at: Date;
  organization_id: string;
  actor: string;
  transport: 'rest' | 'graphql';
  operation: string;
  parameters: string;
  record_count: number;
  outcome: string;
  previous_hash: string;
  entry_hash: string;
}

const entryOf = (r: Row): StoredEntry => ({
  seq: Number(r.seq),
  at: r.at.toISOString(),
  organizationId: r.organization_id,
  actor: r.actor,
  transport: r.transport,
  operation: r.operation,
  parameters: r.parameters,
  recordCount: r.record_count,
  outcome: r.outcome,
  previousHash: r.previous_hash,
  entryHash: r.entry_hash,
});

export interface SigningKey {
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly privateKey: Uint8Array;
}

/** Reads a plain key file `{ organizationId, algorithm, privateKey: hex }` (AUDIT_SIGNING_KEY_FILE). */
export function readAuditKey(path: string, organizationId: string): SigningKey {
  const file = JSON.parse(readFileSync(path, 'utf8')) as { organizationId?: unknown; algorithm?: unknown; privateKey?: unknown };
  if (file.organizationId !== organizationId) throw new Error(`AUDIT_SIGNING_KEY_FILE ${path} is a key of ${String(file.organizationId)}, not of ORG_ID ${organizationId}`);
  if (typeof file.privateKey !== 'string' || typeof file.algorithm !== 'string') throw new Error(`AUDIT_SIGNING_KEY_FILE ${path} has no algorithm and privateKey`);
  return { organizationId, algorithm: file.algorithm as SignatureAlgorithm, privateKey: fromHex(file.privateKey) };
}

const LOCK = 7_204_301; // pg_advisory_xact_lock key of the access log's append (one writer at a time)

/**
 * The access log (docs/audit.md, Access log): one hash-chained entry per
 * audit query — who, what, when, how many records — appended in its own
 * transaction under an advisory lock, so seq has no gaps and each entry names
 * the hash of the one before.
 */
export class AccessLog {
  constructor(
    private readonly pool: Pool,
    private readonly chainId: string,
    private readonly key?: SigningKey,
  ) {}

  async append(entry: Omit<AccessLogEntry, 'seq' | 'previousHash'>): Promise<StoredEntry> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK]);
      const { rows } = await client.query<{ seq: string; entry_hash: string }>('SELECT seq, entry_hash FROM audit.access_log ORDER BY seq DESC LIMIT 1');
      const full: AccessLogEntry = { ...entry, seq: rows[0] ? Number(rows[0].seq) + 1 : 1, previousHash: rows[0]?.entry_hash ?? ACCESS_LOG_GENESIS_HASH };
      const entryHash = accessLogEntryHash(full);
      await client.query(
        `INSERT INTO audit.access_log (seq, at, organization_id, actor, transport, operation, parameters, record_count, outcome, previous_hash, entry_hash)
         VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [full.seq, full.at, full.organizationId, full.actor, full.transport, full.operation, full.parameters, full.recordCount, full.outcome, full.previousHash, entryHash],
      );
      await client.query('COMMIT');
      return { ...full, entryHash };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Entries after `after` (seq), at most `limit`, in order. */
  async page(after = 0, limit = 100): Promise<{ items: StoredEntry[]; next: number | null }> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM audit.access_log WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit + 1]);
    const items = rows.slice(0, limit).map(entryOf);
    return { items, next: rows.length > limit ? items[items.length - 1].seq : null };
  }

  /** The last entry's seq and hash, signed by the regulator's key when the service has one. */
  async head(): Promise<{ chainId: string; seq: number; entryHash: string; signature: { organizationId: string; keyId: string; algorithm: string; signature: string } | null }> {
    const { rows } = await this.pool.query<{ seq: string; entry_hash: string }>('SELECT seq, entry_hash FROM audit.access_log ORDER BY seq DESC LIMIT 1');
    const seq = rows[0] ? Number(rows[0].seq) : 0;
    const entryHash = rows[0]?.entry_hash ?? ACCESS_LOG_GENESIS_HASH;
    if (!this.key) return { chainId: this.chainId, seq, entryHash, signature: null };
    return {
      chainId: this.chainId,
      seq,
      entryHash,
      signature: {
        organizationId: this.key.organizationId,
        keyId: keyId(this.key.algorithm, publicKeyOf(this.key.algorithm, this.key.privateKey)),
        algorithm: this.key.algorithm,
        signature: toBase64(sign(this.key.algorithm, this.key.privateKey, SignatureDomain.auditLogHead, accessLogHeadText(this.chainId, seq, entryHash))),
      },
    };
  }

  /** Re-verifies the whole log from the first entry, page by page. */
  async verify(): Promise<{ ok: boolean; entries: number; headHash: string; firstBad: { seq: number; reason: string } | null }> {
    let previousHash = ACCESS_LOG_GENESIS_HASH;
    let firstSeq = 1;
    let entries = 0;
    for (let after = 0; ; ) {
      const { items, next } = await this.page(after, 1000);
      const verdict = verifyAccessLog(items, { previousHash, firstSeq });
      if (!verdict.ok) return { ok: false, entries: entries + verdict.seq - firstSeq, headHash: previousHash, firstBad: { seq: verdict.seq, reason: verdict.reason } };
      entries += verdict.entries;
      previousHash = verdict.headHash;
      firstSeq += verdict.entries;
      if (next === null) return { ok: true, entries, headHash: previousHash, firstBad: null };
      after = next;
    }
  }
}

/** How many records an answer holds: the length of a list, of `items`, or 1 for one record. */
export function recordCountOf(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v['recordCount'] === 'number') return v['recordCount'];
    if (Array.isArray(v['items'])) return v['items'].length;
  }
  return 1;
}

const actorOf = (p: Principal | undefined) => (p ? (p.agentId ?? 'admin') : 'anonymous');

/**
 * Records every audit query in the access log once it is answered (REST
 * routes and GraphQL root fields; subscriptions when they start): an answer
 * is not sent before its entry is durable, so no query goes unrecorded.
 */
@Injectable()
export class AccessLogInterceptor implements NestInterceptor {
  constructor(@Inject(ACCESS_LOG) private readonly log: AccessLog) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    let transport: 'rest' | 'graphql';
    let operation: string;
    let parameters: unknown;
    let principal: Principal | undefined;
    if (context.getType<string>() === 'graphql') {
      const gql = GqlExecutionContext.create(context);
      const info = gql.getInfo<{ parentType: { name: string }; fieldName: string; path: { prev?: unknown } }>();
      // Nested fields are parts of the root field's answer, recorded with it.
      if (info.path.prev !== undefined) return next.handle();
      transport = 'graphql';
      operation = `${info.parentType.name}.${info.fieldName}`;
      parameters = gql.getArgs();
      principal = principalOfRequest((gql.getContext() as { req?: unknown }).req);
    } else {
      const req = context.switchToHttp().getRequest<{ method: string; baseUrl?: string; route?: { path?: string }; params?: unknown; query?: unknown }>();
      transport = 'rest';
      operation = `${req.method} ${req.baseUrl ?? ''}${req.route?.path ?? ''}`;
      parameters = { params: req.params ?? {}, query: req.query ?? {} };
      principal = principalOfRequest(req);
    }
    // Health and status are the platform's, not audit queries.
    if (transport === 'rest' && / \/(health|status)/.test(operation)) return next.handle();
    const record = (recordCount: number, outcome: string) =>
      this.log.append({
        at: new Date().toISOString(),
        organizationId: principal?.organizationId ?? 'anonymous',
        actor: actorOf(principal),
        transport,
        operation,
        parameters: canonicalize(JSON.parse(JSON.stringify(parameters ?? {}))),
        recordCount,
        outcome,
      });
    let recorded = false;
    return next.handle().pipe(
      // The first value is the answer (a subscription's first event waits for its entry too).
      concatMap(async (value: unknown) => {
        if (recorded) return value;
        recorded = true;
        const isStream = value !== null && typeof value === 'object' && Symbol.asyncIterator in (value as object);
        await record(isStream ? 0 : recordCountOf(value), isStream ? 'subscribed' : 'ok');
        return value;
      }),
      catchError(async (error: unknown) => {
        if (!recorded) {
          recorded = true;
          await record(0, error instanceof AllianceError ? error.code : 'INTERNAL').catch(() => undefined);
        }
        throw error;
      }),
    );
  }
}

const LIMIT_MAX = 1000;
function limitOf(value: string | undefined): number {
  if (value === undefined || value === '') return 100;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > LIMIT_MAX) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', `limit must be an integer from 1 to ${LIMIT_MAX}`);
  return Number(value);
}
function afterOf(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d{1,15}$/.test(value)) throw new AllianceError('AUDIT.INVALID_QUERY', 'invalid', 'after must be the seq of the last entry of the previous page');
  return Number(value);
}

@ApiTags('access-log')
@Controller('access-log')
export class AccessLogController {
  constructor(@Inject(ACCESS_LOG) private readonly log: AccessLog) {}

  @Get()
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'The access log in order: every audit query (who, what, when, how many records, outcome), hash-chained; `after` (seq), `limit` (1-1000, default 100)' })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false })
  page(@Query('after') after?: string, @Query('limit') limit?: string) {
    return this.log.page(afterOf(after), limitOf(limit));
  }

  @Get('head')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'The last entry’s seq and hash, signed by the regulator’s key (domain alliance/audit-log-head/v1) when the service has one' })
  head() {
    return this.log.head();
  }

  @Get('verification')
  @RequirePermission(AUDIT_READ)
  @ApiOperation({ summary: 'Re-verifies the whole hash chain of the log: entries, head hash, the first entry that fails and why' })
  verify() {
    return this.log.verify();
  }
}

@ObjectType('AuditAccessLogEntry', { description: 'One audit query, hash-chained to the one before (docs/audit.md, Access log)' })
class AccessLogEntryType {
  @Field(() => Int) seq!: number;
  @Field({ description: 'RFC 3339 UTC' }) at!: string;
  @Field() organizationId!: string;
  @Field() actor!: string;
  @Field() transport!: string;
  @Field() operation!: string;
  @Field({ description: 'Canonical JSON of the parameters or arguments' }) parameters!: string;
  @Field(() => Int) recordCount!: number;
  @Field() outcome!: string;
  @Field() previousHash!: string;
  @Field() entryHash!: string;
}

@ObjectType('AuditAccessLogPage')
class AccessLogPageType {
  @Field(() => [AccessLogEntryType]) items!: AccessLogEntryType[];
  @Field(() => Int, { nullable: true, description: 'The seq to pass as `after` for the next page; null on the last' }) next!: number | null;
}

@Resolver()
export class AccessLogResolver {
  constructor(@Inject(ACCESS_LOG) private readonly log: AccessLog) {}

  @GqlQuery(() => AccessLogPageType, { name: 'auditAccessLog', description: 'The access log in order (hash-chained); `after` a seq, `limit` 1-1000' })
  @RequirePermission(AUDIT_READ)
  auditAccessLog(@Args('after', { type: () => Int, nullable: true }) after?: number | null, @Args('limit', { type: () => Int, nullable: true }) limit?: number | null) {
    return this.log.page(afterOf(after === null || after === undefined ? undefined : String(after)), limitOf(limit === null || limit === undefined ? undefined : String(limit)));
  }
}

