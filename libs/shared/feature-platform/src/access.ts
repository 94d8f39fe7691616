import { type CanActivate, type ExecutionContext, Inject, Injectable, Optional, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { KeyObject } from 'node:crypto';
import { isReadOnly, keyObjectFromJwk, mayAct, type Principal, principalFromClaims, verifyJwt } from '@alliance/shared/util-auth';
import { AllianceError } from '@alliance/shared/util-errors';
import { SERVICE_RUNTIME } from './tokens';
import type { ServiceRuntime } from './runtime';

/**
 * Who may call a route or a GraphQL field (docs/authorization.md): declared
 * on every controller or resolver method (or its class); a route without a
 * rule needs a signed-in principal.
 */
export type AccessRule = { readonly kind: 'public'; readonly reason: string } | { readonly kind: 'authenticated' } | PermissionRule;

/** A principal holding a permission in the scope organization. */
export interface PermissionRule {
  readonly kind: 'permission';
  /** The permission needed (the first, when any of several will do). */
  readonly permission: string;
  /** Further permissions any one of which does as well as `permission` (absent: `permission` alone). */
  readonly alternatives?: readonly string[];
  readonly scope: ScopeSource;
  /**
   * The one exemption from "regulators never write": a read-only (observer)
   * principal may call this write too — it still needs the permission. Only
   * the finance freeze and unfreeze carry it (docs/authorization.md).
   */
  readonly observerMay?: true;
}

/** What a permission rule may add: `observerMay` opens the write to observers (regulators). */
export interface PermissionRuleOptions {
  readonly observerMay?: true;
}

/** Which organization a permission is needed in: the service's own, or one named by the request. */
export type ScopeSource = { readonly from: 'service' } | { readonly from: 'param' | 'query' | 'body'; readonly name: string };

export const ACCESS_RULE = 'alliance:access-rule';

/** Anyone, signed in or not; `reason` says why (it is printed in docs/authorization.md). */
export const Public = (reason: string) => SetMetadata(ACCESS_RULE, { kind: 'public', reason } satisfies AccessRule);
/** Any signed-in principal (a regulator reads; it never writes). */
export const Authenticated = () => SetMetadata(ACCESS_RULE, { kind: 'authenticated' } satisfies AccessRule);
/**
 * A principal holding `permission` — or, given several, any one of them — in
 * the scope organization (an admin key holds every permission of its own
 * organization); `options.observerMay` lets a regulator call the write too.
 */
export const RequirePermission = (permission: string | readonly [string, ...string[]], scope: ScopeSource = { from: 'service' }, options: PermissionRuleOptions = {}) =>
  SetMetadata(ACCESS_RULE, permissionRule(permission, scope, options) satisfies AccessRule);

/** The rule `RequirePermission` declares. */
export function permissionRule(permission: string | readonly [string, ...string[]], scope: ScopeSource = { from: 'service' }, options: PermissionRuleOptions = {}): PermissionRule {
  const [first, ...alternatives] = typeof permission === 'string' ? [permission] : permission;
  if (first === undefined) throw new Error('a permission rule names at least one permission');
  return { kind: 'permission', permission: first, ...(alternatives.length > 0 ? { alternatives } : {}), scope, ...(options.observerMay === true ? { observerMay: true } : {}) };
}

/** Every permission a rule accepts, any one of which will do. */
export const permissionsOf = (rule: PermissionRule): readonly string[] => [rule.permission, ...(rule.alternatives ?? [])];

export const AccessErrors = {
  missing: () => new AllianceError('AUTH.TOKEN_MISSING', 'unauthenticated', 'sign in first: send Authorization: Bearer <access token> (POST /identity/v1/auth/challenges, then /auth/tokens)'),
  claims: () => new AllianceError('AUTH.TOKEN_CLAIMS', 'unauthenticated', 'the access token does not carry an Alliance principal'),
  readOnly: () => new AllianceError('AUTH.READ_ONLY', 'forbidden', 'a regulator’s access is read-only'),
  forbidden: (permission: string, scope: string, anyOf: readonly string[] = [permission]) =>
    anyOf.length > 1
      ? new AllianceError('AUTH.FORBIDDEN', 'forbidden', `this needs one of the permissions ${anyOf.join(', ')} in ${scope}`, { details: { permission, permissions: [...anyOf], scope } })
      : new AllianceError('AUTH.FORBIDDEN', 'forbidden', `this needs permission ${permission} in ${scope}`, { details: { permission, scope } }),
  notConfigured: () => new AllianceError('AUTH.NOT_CONFIGURED', 'unavailable', 'this service cannot verify access tokens: AUTH_JWKS_URL is not set'),
  jwksUnavailable: (cause: unknown) => new AllianceError('AUTH.JWKS_UNAVAILABLE', 'unavailable', 'the identity service’s keys (AUTH_JWKS_URL) cannot be read now', { cause }),
};

/** Turns a bearer token into a principal, or throws an AUTH.* error. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}
export const TOKEN_VERIFIER = Symbol('alliance.token-verifier');

export const TOKEN_AUDIENCE = 'alliance';

/** Verifies access tokens with the public keys the identity service publishes (its JWKS), cached and re-read for a new key id. */
export class JwksTokenVerifier implements TokenVerifier {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly options: { readonly maxAgeMs?: number; readonly minRefetchMs?: number; readonly now?: () => Date } = {},
  ) {}

  private async refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const res = await fetch(this.url, { signal: AbortSignal.timeout(5_000), headers: { accept: 'application/json' } });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { keys?: unknown[] };
        const next = new Map<string, KeyObject>();
        for (const jwk of body.keys ?? []) {
          const kid = (jwk as { kid?: unknown }).kid;
          if (typeof kid === 'string') next.set(kid, keyObjectFromJwk(jwk));
        }
        this.keys = next;
        this.fetchedAt = Date.now();
      } catch (error) {
        throw AccessErrors.jwksUnavailable(error);
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  async verify(token: string): Promise<Principal> {
    const age = Date.now() - this.fetchedAt;
    if (age > (this.options.maxAgeMs ?? 300_000)) await this.refresh();
    const kid = kidOf(token);
    if (kid !== undefined && !this.keys.has(kid) && age > (this.options.minRefetchMs ?? 10_000)) await this.refresh();
    const { claims } = verifyJwt(token, { keys: (k) => this.keys.get(k), now: this.options.now?.() ?? new Date(), audience: TOKEN_AUDIENCE });
    const principal = principalFromClaims(claims);
    if (!principal) throw AccessErrors.claims();
    return principal;
  }
}

function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

interface RequestLike {
  readonly method?: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly params?: Record<string, string>;
  readonly query?: Record<string, unknown>;
  readonly body?: unknown;
  principal?: Principal;
}

/** The principal of the request (set by the guard on every route that is not public). */
export function principalOfRequest(req: unknown): Principal | undefined {
  return (req as RequestLike | undefined)?.principal;
}

/** The one guard of every service: REST routes and GraphQL fields alike. */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    @Optional() @Inject(TOKEN_VERIFIER) private readonly verifier?: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [context.getHandler(), context.getClass()]) ?? { kind: 'authenticated' };
    if (rule.kind === 'public') return true;
    let req: RequestLike | undefined;
    let mutation = false;
    if (context.getType<string>() === 'graphql') {
      const gql = GqlExecutionContext.create(context);
      req = (gql.getContext() as { req?: RequestLike }).req;
      mutation = gql.getInfo<{ operation?: { operation?: string } }>()?.operation?.operation === 'mutation';
    } else {
      req = context.switchToHttp().getRequest<RequestLike>();
      mutation = !['GET', 'HEAD', 'OPTIONS'].includes((req.method ?? 'GET').toUpperCase());
    }
    if (!req) throw AccessErrors.missing();
    req.principal = await authenticate(req.headers['authorization'], this.verifier);
    authorize(rule, req.principal, mutation, (source) => scopeOf(source, req, this.runtime.config.ORG_ID));
    return true;
  }
}

/** The bearer token of an Authorization header turned into a principal (the guard's and the gateway's first step). */
export async function authenticate(header: string | string[] | undefined, verifier: TokenVerifier | undefined): Promise<Principal> {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(value ?? '');
  if (!match) throw AccessErrors.missing();
  if (!verifier) throw AccessErrors.notConfigured();
  return verifier.verify(match[1]);
}

/**
 * The rule applied to a signed-in principal: regulators never write, but on a
 * permission rule that says `observerMay`; a permission (any one of the
 * rule's) must be held in the scope.
 */
export function authorize(rule: AccessRule, principal: Principal, write: boolean, scopeOf: (source: ScopeSource) => string): void {
  if (rule.kind === 'public') return;
  const observerMay = rule.kind === 'permission' && rule.observerMay === true;
  if (write && isReadOnly(principal) && !observerMay) throw AccessErrors.readOnly();
  if (rule.kind === 'permission') {
    const scope = scopeOf(rule.scope);
    const anyOf = permissionsOf(rule);
    if (!anyOf.some((permission) => mayAct(principal, permission, scope))) throw AccessErrors.forbidden(rule.permission, scope, anyOf);
  }
}

function scopeOf(source: ScopeSource, req: RequestLike, serviceOrganization: string): string {
  if (source.from === 'service') return serviceOrganization;
  const bag = source.from === 'param' ? req.params : source.from === 'query' ? req.query : (req.body as Record<string, unknown> | undefined);
  const value = bag?.[source.name];
  return typeof value === 'string' ? value : serviceOrganization;
}
