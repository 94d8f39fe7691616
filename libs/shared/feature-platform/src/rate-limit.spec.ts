import { buildSchema, getIntrospectionQuery, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { blockListOf, TokenBuckets } from './rate-limit';
import { GRAPHQL_LIMITS, maxAliasesRule, maxDepthRule, maxQueryLengthRule } from './graphql-limits';

describe('TokenBuckets', () => {
  it('grants the burst at once, then one request per 1/rate seconds', () => {
    let now = 1_000_000;
    const buckets = new TokenBuckets(2, 3, () => now);
    expect([1, 2, 3, 4].map(() => buckets.take('a').allowed)).toEqual([true, true, true, false]);
    const refused = buckets.take('a');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 500, resetMs: 1500 });
    now += 499;
    expect(buckets.take('a').allowed).toBe(false);
    now += 2;
    expect(buckets.take('a')).toMatchObject({ allowed: true, remaining: 0 });
    // A long pause refills to the burst, never beyond it.
    now += 60_000;
    expect(buckets.take('a')).toMatchObject({ allowed: true, remaining: 2, resetMs: 500 });
  });

  it('keeps one bucket per key', () => {
    const buckets = new TokenBuckets(1, 1, () => 0);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a').allowed).toBe(false);
    expect(buckets.take('b').allowed).toBe(true);
  });

  it('bounds the keys it remembers: full idle buckets go first, then the least recently used', () => {
    let now = 0;
    const buckets = new TokenBuckets(1, 1, () => now, 10);
    for (let i = 0; i < 10; i++) buckets.take(`k${i}`);
    now += 5_000; // all refilled: swept on the next new key
    buckets.take('new');
    expect(buckets.size).toBe(1);
    for (let i = 0; i < 20; i++) buckets.take(`busy${i}`);
    expect(buckets.size).toBeLessThanOrEqual(10);
  });

  it('refuses a rate of 0 or a burst below 1 (0 means "no limiter" to the middleware)', () => {
    expect(() => new TokenBuckets(0, 1)).toThrow();
    expect(() => new TokenBuckets(1, 0)).toThrow();
  });
});

describe('blockListOf', () => {
  it('takes addresses and CIDR ranges of both families and refuses anything else', () => {
    const list = blockListOf(['127.0.0.1', '10.0.0.0/8', '::1']);
    expect(list.check('127.0.0.1', 'ipv4')).toBe(true);
    expect(list.check('10.2.3.4', 'ipv4')).toBe(true);
    expect(list.check('11.0.0.1', 'ipv4')).toBe(false);
    expect(list.check('::1', 'ipv6')).toBe(true);
    expect(() => blockListOf(['localhost'])).toThrow(/not an IP address/);
  });
});

describe('GraphQL limit rules', () => {
  const schema = buildSchema('type Node { id: ID, child: Node } type Query { node: Node }');
  const codes = (query: string, rules: Parameters<typeof validate>[2]) => validate(schema, parse(query), rules).map((e) => e.extensions.code);
  const nest = (n: number) => `{ node { ${'child { '.repeat(n)}id${' }'.repeat(n)} } }`;

  it('lets the standard introspection query through', () => {
    expect(codes(getIntrospectionQuery(), [maxDepthRule(), maxAliasesRule(), maxQueryLengthRule()])).toEqual([]);
  });

  it('counts depth through fragments and inline fragments', () => {
    expect(codes(nest(GRAPHQL_LIMITS.maxDepth - 1), [maxDepthRule()])).toEqual([]);
    expect(codes(nest(GRAPHQL_LIMITS.maxDepth), [maxDepthRule()])).toEqual(['GRAPHQL.DEPTH_LIMIT']);
    const viaFragments = `query { node { ...A } } fragment A on Node { child { ... on Node { child { ...B } } } } fragment B on Node { child { id } }`;
    expect(codes(viaFragments, [maxDepthRule(3)])).toEqual(['GRAPHQL.DEPTH_LIMIT']);
    expect(codes(viaFragments, [maxDepthRule(4)])).toEqual([]);
  });

  it('survives a fragment cycle (graphql-js reports the cycle itself)', () => {
    expect(() => validate(schema, parse('{ node { ...A } } fragment A on Node { child { ...A } }'), [maxDepthRule()])).not.toThrow();
  });

  it('bounds aliases and the query text', () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: node { id }`).join(' ')} }`;
    expect(codes(aliases(GRAPHQL_LIMITS.maxAliases), [maxAliasesRule()])).toEqual([]);
    expect(codes(aliases(GRAPHQL_LIMITS.maxAliases + 5), [maxAliasesRule()])).toEqual(['GRAPHQL.ALIAS_LIMIT']);
    expect(codes(`{ node { id } } #${'x'.repeat(GRAPHQL_LIMITS.maxQueryLength)}`, [maxQueryLengthRule()])).toEqual(['GRAPHQL.QUERY_TOO_LARGE']);
  });
});
