import { describe, expect, it } from 'vitest';
import { mergeOpenApi, type OpenApiDocument } from './openapi-merge';

const doc = (paths: Record<string, unknown>, schemas: Record<string, unknown> = {}): OpenApiDocument => ({
  openapi: '3.0.0',
  info: { title: 't', version: '1' },
  paths,
  components: { schemas },
});

describe('mergeOpenApi', () => {
  it('takes each service’s prefixed paths only and keeps the gateway’s own', () => {
    const merged = mergeOpenApi(doc({ '/health': {} }), [
      { name: 'ledger', document: doc({ '/ledger/v1/blocks': { get: {} }, '/health/ready': {} }) },
      { name: 'identity', document: doc({ '/identity/v1/organizations': { get: {} } }) },
    ]);
    expect(Object.keys(merged.paths).sort()).toEqual(['/health', '/identity/v1/organizations', '/ledger/v1/blocks']);
    expect(merged.servers).toEqual([{ url: '/', description: 'this gateway' }]);
  });

  it('renames clashing schemas and rewrites their references', () => {
    const merged = mergeOpenApi(doc({}), [
      { name: 'ledger', document: doc({ '/ledger/v1/a': { get: { $ref: '#/components/schemas/Page' } } }, { Page: { type: 'object', title: 'ledger' } }) },
      { name: 'finance', document: doc({ '/finance/v1/b': { get: { $ref: '#/components/schemas/Page' } } }, { Page: { type: 'object', title: 'finance' } }) },
    ]);
    expect(merged.components?.schemas?.Page).toEqual({ type: 'object', title: 'ledger' });
    expect(merged.components?.schemas?.FinancePage).toEqual({ type: 'object', title: 'finance' });
    expect(merged.paths['/finance/v1/b']).toEqual({ get: { $ref: '#/components/schemas/FinancePage' } });
    expect(merged.paths['/ledger/v1/a']).toEqual({ get: { $ref: '#/components/schemas/Page' } });
  });

  it('lists services whose document could not be fetched', () => {
    const merged = mergeOpenApi(doc({}), [{ name: 'audit', document: undefined }]);
    expect(merged['x-alliance-unavailable']).toEqual(['audit']);
  });
});
