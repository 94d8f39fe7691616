import type { Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ACCESS_RULE, type AccessRule } from './access';

/** One REST route or GraphQL root field and who may call it, read from the decorators the guard reads. */
export interface AccessEntry {
  readonly kind: 'rest' | 'graphql';
  /** `GET /identity/v1/organizations/:organizationId`, or `Query.identityAgent`. */
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly rule: AccessRule;
}

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD', 'SEARCH'];

const joinPath = (...parts: string[]) => `/${parts.flatMap((p) => p.split('/')).filter(Boolean).join('/')}`;

/**
 * Every route and root field the classes serve, with its effective rule
 * (method over class; none means signed in). `prefix` is the service's REST
 * prefix; `unprefixed` paths (health) are served without it.
 */
export function describeAccess(classes: readonly Type<unknown>[], prefix: string, unprefixed: readonly string[] = ['health']): AccessEntry[] {
  const out: AccessEntry[] = [];
  for (const cls of classes) {
    const classRule = Reflect.getMetadata(ACCESS_RULE, cls) as AccessRule | undefined;
    const base = Reflect.getMetadata(PATH_METADATA, cls) as string | undefined;
    for (const name of Object.getOwnPropertyNames(cls.prototype)) {
      if (name === 'constructor') continue;
      const handler = (cls.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function') continue;
      const rule = (Reflect.getMetadata(ACCESS_RULE, handler) as AccessRule | undefined) ?? classRule ?? { kind: 'authenticated' };
      const gqlType = Reflect.getMetadata('graphql:resolver_type', handler) as string | undefined;
      if (gqlType) {
        const field = (Reflect.getMetadata('graphql:resolver_name', handler) as string | undefined) ?? name;
        out.push({ kind: 'graphql', operation: `${gqlType}.${field}`, method: gqlType, path: field, rule });
        continue;
      }
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as number | undefined;
      if (path === undefined || method === undefined || base === undefined) continue;
      const full = unprefixed.includes(base.split('/')[0]) ? joinPath(base, path) : joinPath(prefix, base, path);
      out.push({ kind: 'rest', operation: `${HTTP_METHODS[method]} ${full}`, method: HTTP_METHODS[method], path: full, rule });
    }
  }
  return out.sort((a, b) => (a.kind !== b.kind ? (a.kind === 'rest' ? -1 : 1) : a.path < b.path ? -1 : a.path > b.path ? 1 : a.method < b.method ? -1 : 1));
}
