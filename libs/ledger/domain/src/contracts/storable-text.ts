/**
 * Where a string or an object key in `value` holds U+0000 (NUL), as a path
 * like `/payload/note` (a NUL inside a key is shown as `\u0000`), or undefined.
 *
 * The protocol's canonical JSON carries U+0000, PostgreSQL's text and jsonb
 * cannot: a transaction holding it could not be stored, and one such validly
 * signed envelope in a block made every node retry that block's commit for
 * ever (found by the fuzz suite, docs/security.md). The ledger's door refuses
 * it and the executor commits it as `LEDGER.UNSTORABLE_TEXT`, writing nothing.
 */
export function nulPath(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '/' : undefined;
  if (value === null || typeof value !== 'object' || depth > 256) return undefined;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (key.includes('\u0000')) return `${path}/${key.split('\u0000').join('\\u0000')}`;
    const found = nulPath(item, `${path}/${key}`, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
