import { describe, expect, it } from 'vitest';
import { AllianceError, CommonErrors, isAllianceError } from './alliance-error';

describe('AllianceError', () => {
  it('maps kinds to HTTP statuses and exposes the module', () => {
    const e = new AllianceError('LEDGER.BLOCK_NOT_FOUND', 'not-found', 'block 7 not found');
    expect(e.status).toBe(404);
    expect(e.module).toBe('LEDGER');
    expect(isAllianceError(e)).toBe(true);
    expect(CommonErrors.unavailable('kafka').status).toBe(503);
  });

  it('refuses codes that are not MODULE.REASON', () => {
    expect(() => new AllianceError('block not found', 'not-found', 'x')).toThrow(/MODULE\.REASON/);
    expect(() => new AllianceError('LEDGER', 'not-found', 'x')).toThrow();
  });
});
