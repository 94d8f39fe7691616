import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { AllianceError } from '@alliance/shared/util-errors';
import type { TokenVerifier } from './access';
import { PROBLEM_CONTENT_TYPE, toGraphQLError, toProblem } from './problem';

/** What one `take` decided, with what the RateLimit-* headers say. */
export interface RateDecision {
  readonly allowed: boolean;
  /** Tokens left after this request (whole tokens). */
  readonly remaining: number;
  /** Milliseconds until one token is back (0 when allowed). */
  readonly retryAfterMs: number;
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key: `burst` tokens, refilled at `ratePerSecond`; each
 * request takes one. Idle full buckets are dropped, and the number of keys is
 * bounded (the oldest are forgotten first: a forgotten key starts full again).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => Date.now(),
    private readonly maxKeys = 100_000,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new Error('a token bucket needs a rate > 0 and a burst >= 1');
  }

  take(key: string): RateDecision {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
      bucket.at = now;
      // Most recently used last: the Map's order is the eviction order.
      this.buckets.delete(key);
    } else {
      bucket = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
    }
    this.buckets.set(key, bucket);
    const msPerToken = 1000 / this.ratePerSecond;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterMs: 0, resetMs: Math.ceil((this.burst - bucket.tokens) * msPerToken) };
    }
    return { allowed: false, remaining: 0, retryAfterMs: Math.ceil((1 - bucket.tokens) * msPerToken), resetMs: Math.ceil((this.burst - bucket.tokens) * msPerToken) };
  }

  /** Keys currently remembered (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
    // Still full of busy keys: forget the least recently used tenth.
    if (this.buckets.size >= this.maxKeys) {
      let drop = Math.ceil(this.maxKeys / 10);
      for (const key of this.buckets.keys()) {
        if (drop-- <= 0) break;
        this.buckets.delete(key);
      }
    }
  }
}

export const RateLimitErrors = {
  limited: (retryAfterSeconds: number) =>
    new AllianceError('PLATFORM.RATE_LIMITED', 'rate-limited', `too many requests from this client; retry after ${retryAfterSeconds} s`, { details: { retryAfterSeconds } }),
};

/** Paths never limited: the orchestrator's probes. */
const EXEMPT_PATHS = new Set(['/health', '/health/live', '/health/ready']);

export interface RateLimitOptions {
  readonly ratePerSecond: number;
  readonly burst: number;
  /**
   * Client addresses whose requests without a valid token are not limited: the
   * deployment's own machines (peer ledger nodes, read models following their
   * node, the gateway's proxy). Signed-in principals are limited wherever they
   * come from.
   */
  readonly exempt: readonly string[];
  /** The verifier of bearer tokens (resolved per request: it exists once Nest initialised). */
  readonly verifier: () => TokenVerifier | undefined;
  readonly now?: () => number;
}

interface CachedPrincipal {
  readonly key: string;
  readonly until: number;
}

type Req = IncomingMessage & { ip?: string; path?: string; originalUrl?: string; id?: unknown };

/**
 * Express middleware: a token bucket per client — the verified principal
 * (`organization/agent` of a valid bearer token), else the client address
 * (`req.ip`, which honours X-Forwarded-For from the trusted proxies only).
 * A limited request gets 429 problem+json PLATFORM.RATE_LIMITED (a GraphQL
 * error with that `extensions.code` at `/graphql`) with Retry-After; every
 * counted answer carries RateLimit-Limit/Remaining/Reset and RateLimit-Policy.
 */
export function rateLimitMiddleware(options: RateLimitOptions): (req: Req, res: ServerResponse, next: () => void) => void {
  const buckets = new TokenBuckets(options.ratePerSecond, options.burst, options.now);
  const exempt = blockListOf(options.exempt);
  const principals = new Map<string, CachedPrincipal>();
  const now = options.now ?? (() => Date.now());
  const policy = `${options.burst};w=${Math.max(1, Math.round(options.burst / options.ratePerSecond))}`;

  const principalKey = async (header: string | string[] | undefined): Promise<string | undefined> => {
    const value = Array.isArray(header) ? header[0] : header;
    const token = /^Bearer ([A-Za-z0-9_.-]{1,8192})$/.exec(value ?? '')?.[1];
    const verifier = token ? options.verifier() : undefined;
    if (!token || !verifier) return undefined;
    const cached = principals.get(token);
    if (cached && cached.until > now()) return cached.key;
    try {
      const principal = await verifier.verify(token);
      const key = `principal:${principal.organizationId}/${principal.agentId ?? `admin-key:${principal.keyId}`}`;
      if (principals.size >= 10_000) principals.clear();
      // Re-verified at least once a minute (and never past the token's expiry, which verify checks).
      principals.set(token, { key, until: Math.min(now() + 60_000, expiryOf(token) ?? now() + 60_000) });
      return key;
    } catch {
      // An invalid token is no principal: the request counts against its address (the guard refuses it).
      return undefined;
    }
  };

  return (req, res, next) => {
    const path = req.path ?? (req.url ?? '/').split('?')[0];
    if (EXEMPT_PATHS.has(path)) return next();
    void principalKey(req.headers.authorization).then((principal) => {
      const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
      if (!principal && isExempt(exempt, address)) return next();
      const decision = buckets.take(principal ?? `address:${address}`);
      res.setHeader('RateLimit-Policy', policy);
      res.setHeader('RateLimit-Limit', String(options.burst));
      res.setHeader('RateLimit-Remaining', String(decision.remaining));
      res.setHeader('RateLimit-Reset', String(Math.ceil(decision.resetMs / 1000)));
      if (decision.allowed) return next();
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      const error = RateLimitErrors.limited(seconds);
      res.statusCode = 429;
      res.setHeader('Retry-After', String(seconds));
      if (path === '/graphql') {
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ errors: [toGraphQLError(error).toJSON()] }));
        return;
      }
      res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
      res.end(JSON.stringify(toProblem(error, req.originalUrl ?? req.url, typeof req.id === 'string' ? req.id : undefined)));
    }, next);
  };
}

function expiryOf(token: string): number | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Addresses and CIDR ranges (`127.0.0.1`, `::1`, `10.0.0.0/8`). */
export function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0) throw new Error(`not an IP address or CIDR range: "${entry}"`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

function isExempt(list: BlockList, address: string): boolean {
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(plain);
  if (family === 0) return false;
  return list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
}
