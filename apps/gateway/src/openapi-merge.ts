/**
 * Merges the services' OpenAPI documents into the one the gateway serves at
 * `/docs-json`. Each service contributes only the paths under its own prefix
 * (its health routes are per process, not part of the public API). Component
 * schemas that two services name alike but define differently are renamed
 * `<Service><Name>` in the later service, and its `$ref`s rewritten.
 */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown>; [k: string]: unknown };
  tags?: Array<{ name: string; description?: string }>;
  servers?: Array<{ url: string; description?: string }>;
  [k: string]: unknown;
}

export interface ServiceDocument {
  readonly name: string;
  readonly document: OpenApiDocument | undefined;
}

export function mergeOpenApi(gateway: OpenApiDocument, services: readonly ServiceDocument[]): OpenApiDocument {
  const schemas: Record<string, unknown> = { ...(gateway.components?.schemas ?? {}) };
  const tags = [...(gateway.tags ?? [])];
  const merged: OpenApiDocument = {
    ...gateway,
    paths: { ...gateway.paths },
    components: { ...(gateway.components ?? {}), schemas },
    tags,
    servers: [{ url: '/', description: 'this gateway' }],
  };
  const unavailable: string[] = [];
  for (const { name, document } of services) {
    if (!document || typeof document.paths !== 'object') {
      unavailable.push(name);
      continue;
    }
    const renames = new Map<string, string>();
    for (const [schemaName, schema] of Object.entries(document.components?.schemas ?? {})) {
      if (schemaName in schemas && JSON.stringify(schemas[schemaName]) !== JSON.stringify(schema)) {
        renames.set(schemaName, `${capitalize(name)}${schemaName}`);
      }
    }
    const rewrite = <T>(value: T): T => (renames.size === 0 ? value : (rewriteRefs(value, renames) as T));
    for (const [schemaName, schema] of Object.entries(document.components?.schemas ?? {})) {
      schemas[renames.get(schemaName) ?? schemaName] = rewrite(schema);
    }
    const prefix = `/${name}/`;
    for (const [path, item] of Object.entries(document.paths)) {
      if (path.startsWith(prefix)) merged.paths[path] = rewrite(item);
    }
    for (const tag of document.tags ?? []) {
      if (!tags.some((t) => t.name === tag.name)) tags.push(tag);
    }
  }
  if (unavailable.length > 0) merged['x-alliance-unavailable'] = unavailable;
  return merged;
}

function rewriteRefs(value: unknown, renames: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, renames));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') {
        const m = /^#\/components\/schemas\/(.+)$/.exec(v);
        out[k] = m && renames.has(m[1]) ? `#/components/schemas/${renames.get(m[1])}` : v;
      } else {
        out[k] = rewriteRefs(v, renames);
      }
    }
    return out;
  }
  return value;
}

function capitalize(s: string): string {
  return s.length === 0 ? s : s[0].toUpperCase() + s.slice(1);
}
