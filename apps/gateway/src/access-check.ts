import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { type AccessEntry, authenticate, authorize, PROBLEM_CONTENT_TYPE, toProblem, type TokenVerifier } from '@alliance/shared/feature-platform';
import { isAllianceError } from '@alliance/shared/util-errors';
import { fetchJson, type Upstream } from './upstreams';

interface CompiledEntry {
  readonly entry: AccessEntry;
  readonly pattern: RegExp;
  readonly params: readonly string[];
}

interface UpstreamTable {
  readonly organizationId: string;
  readonly entries: readonly CompiledEntry[];
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function compileEntry(entry: AccessEntry): CompiledEntry {
  const params: string[] = [];
  const source = entry.path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return escape(segment);
      params.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { entry, pattern: new RegExp(`^${source}/?$`), params };
}

const WRITE = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method);

/**
 * The gateway's own check of REST requests, before it proxies them
 * (docs/authorization.md): each upstream publishes its rules at
 * `/<service>/v1/access.json`; a request to a route that is not public needs a
 * valid token, a regulator never writes, and a permission scoped to the
 * organization running the service must be held. Routes it does not know
 * (yet) pass through: the service behind it applies the same rules itself.
 */
export class GatewayAccess {
  private readonly tables = new Map<string, UpstreamTable>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly upstreams: readonly Upstream[],
    private readonly verifier: TokenVerifier,
  ) {}

  async refresh(): Promise<void> {
    await Promise.all(
      this.upstreams.map(async (u) => {
        try {
          const { status, body } = await fetchJson(`${u.url}/${u.name}/v1/access.json`, 3_000);
          const table = body as { organizationId?: string; entries?: AccessEntry[] };
          if (status === 200 && Array.isArray(table.entries) && typeof table.organizationId === 'string') {
            this.tables.set(u.name, { organizationId: table.organizationId, entries: table.entries.filter((e) => e.kind === 'rest').map(compileEntry) });
          }
        } catch {
          // The upstream is down or older; its own guard still applies.
        }
      }),
    );
  }

  start(intervalMs = 30_000): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The rule for a request, or undefined when the gateway does not know the route. */
  match(service: string, method: string, path: string): { entry: AccessEntry; params: Record<string, string>; organizationId: string } | undefined {
    const table = this.tables.get(service);
    if (!table) return undefined;
    const pathname = path.split('?')[0];
    for (const compiled of table.entries) {
      if (compiled.entry.method !== method && !(method === 'HEAD' && compiled.entry.method === 'GET')) continue;
      const m = compiled.pattern.exec(pathname);
      if (!m) continue;
      const params = Object.fromEntries(compiled.params.map((name, i) => [name, decodeURIComponent(m[i + 1])]));
      return { entry: compiled.entry, params, organizationId: table.organizationId };
    }
    return undefined;
  }

  async check(service: string, request: { method: string; url: string; authorization: string | undefined }): Promise<void> {
    const method = request.method.toUpperCase();
    const found = this.match(service, method, request.url);
    if (!found || found.entry.rule.kind === 'public') return;
    const principal = await authenticate(request.authorization, this.verifier);
    const query = new URL(request.url, 'http://gateway').searchParams;
    authorize(found.entry.rule, principal, WRITE(method), (source) => {
      if (source.from === 'service') return found.organizationId;
      if (source.from === 'param') return found.params[source.name] ?? found.organizationId;
      if (source.from === 'query') return query.get(source.name) ?? found.organizationId;
      // A body is streamed to the service unread: it checks body-scoped rules itself.
      return found.organizationId;
    });
  }

  /** Express middleware in front of the REST proxy. */
  install(app: NestExpressApplication): void {
    for (const upstream of this.upstreams) {
      const prefix = `/${upstream.name}/v1`;
      app.use(prefix, (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void) => {
        this.check(upstream.name, { method: req.method ?? 'GET', url: req.originalUrl ?? req.url ?? '/', authorization: req.headers.authorization }).then(next, (error: unknown) => {
          if (!isAllianceError(error)) return next();
          const problem = toProblem(error, req.originalUrl ?? req.url, (req as IncomingMessage & { id?: unknown }).id as string | undefined);
          res.statusCode = error.status;
          if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="alliance"');
          res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
          res.end(JSON.stringify(problem));
        });
      });
    }
  }
}
