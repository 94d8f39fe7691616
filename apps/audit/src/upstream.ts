import { AllianceError } from '@alliance/shared/util-errors';

export type UpstreamName = 'identity' | 'provenance' | 'finance' | 'ledger';

/**
 * The regulator's own services the audit service reads through (docs/audit.md,
 * Look-through): its identity, provenance and finance read models and its
 * observer ledger node, each asked with the caller's own bearer token, so
 * every answer is what that regulator may read, and the audit service holds
 * no data of its own beyond its append-only tables.
 */
export class Upstreams {
  constructor(private readonly urls: Readonly<Partial<Record<UpstreamName, string>>>, private readonly timeoutMs = 30_000) {}

  has(name: UpstreamName): boolean {
    return this.urls[name] !== undefined;
  }

  url(name: UpstreamName): string {
    const url = this.urls[name];
    if (!url) throw new AllianceError('AUDIT.NOT_CONFIGURED', 'unavailable', `the audit service has no ${name} to read from (AUDIT_${name === 'ledger' ? 'LEDGER' : name.toUpperCase()}_URL)`);
    return url.replace(/\/+$/, '');
  }

  /**
   * GET `path` (below the service's base URL, e.g. `/finance/v1/receivables/x/tree`) as the caller:
   * the JSON answer, or the upstream's problem as an AllianceError with its code and status kind.
   */
  async get<T>(name: UpstreamName, path: string, authorization: string | undefined): Promise<T> {
    const base = this.url(name);
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (cause) {
      throw new AllianceError('AUDIT.UPSTREAM_UNAVAILABLE', 'unavailable', `the ${name} service cannot be reached (${(cause as Error).message})`, { cause });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      throw new AllianceError('AUDIT.UPSTREAM_UNAVAILABLE', 'unavailable', `the ${name} service answered ${res.status} without JSON`);
    }
    if (res.ok) return body as T;
    const problem = (body ?? {}) as { code?: unknown; detail?: unknown; details?: unknown };
    const kind = res.status === 400 ? 'invalid' : res.status === 401 ? 'unauthenticated' : res.status === 403 ? 'forbidden' : res.status === 404 ? 'not-found' : res.status === 409 ? 'conflict' : 'unavailable';
    throw new AllianceError(typeof problem.code === 'string' ? problem.code : 'AUDIT.UPSTREAM_FAILED', kind, typeof problem.detail === 'string' ? problem.detail : `the ${name} service answered ${res.status}`, {
      details: typeof problem.details === 'object' && problem.details !== null ? (problem.details as Record<string, unknown>) : undefined,
    });
  }
}

/** The GraphQL context of an audit resolver: the caller's request, whose bearer token the upstream reads carry. */
export type GraphqlRequestContext = { req?: { headers?: { authorization?: string } } };
export const authorizationOf = (ctx: GraphqlRequestContext): string | undefined => ctx.req?.headers?.authorization;
