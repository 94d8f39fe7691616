import { AllianceError, CommonErrors } from '@alliance/shared/util-errors';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classifyFailure, describeFailure, MessagingErrorCodes, publishFailed } from './errors';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyFailure', () => {
  it('treats AllianceErrors of kind invalid as poison', () => {
    expect(classifyFailure(new AllianceError('PROVENANCE.BAD_EVENT', 'invalid', 'no such product'))).toBe('poison');
    expect(classifyFailure(CommonErrors.validation('bad'))).toBe('poison');
  });

  it('treats a dependency outage as unavailable, not as the event’s fault', () => {
    expect(classifyFailure(CommonErrors.unavailable('ledger'))).toBe('unavailable');
    expect(classifyFailure(publishFailed('kafka', new Error('broker down')))).toBe('unavailable');
    expect(classifyFailure(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe('unavailable');
    expect(classifyFailure(withCode('terminating connection due to administrator command', '57P01'))).toBe('unavailable');
    expect(classifyFailure(withCode('connection failure', '08006'))).toBe('unavailable');
    expect(classifyFailure(new Error('Connection terminated unexpectedly'))).toBe('unavailable');
    expect(classifyFailure(new Error('timeout exceeded when trying to connect'))).toBe('unavailable');
  });

  it('treats rejections that will repeat identically as poison', () => {
    const zodError = z.object({ a: z.number() }).safeParse({ a: 'x' }).error;
    expect(classifyFailure(zodError)).toBe('poison');
    expect(classifyFailure(new SyntaxError('Unexpected token'))).toBe('poison');
  });

  it('retries everything else: bugs, conflicts, serialization failures, non-errors', () => {
    expect(classifyFailure(new Error('boom'))).toBe('transient');
    expect(classifyFailure(new TypeError('x is undefined'))).toBe('transient');
    expect(classifyFailure(withCode('could not serialize access', '40001'))).toBe('transient');
    expect(classifyFailure(withCode('duplicate key value', '23505'))).toBe('transient');
    expect(classifyFailure(new AllianceError('FINANCE.LOCKED', 'conflict', 'locked'))).toBe('transient');
    expect(classifyFailure(CommonErrors.internal())).toBe('transient');
    expect(classifyFailure('a string')).toBe('transient');
    expect(classifyFailure(undefined)).toBe('transient');
  });
});

describe('describeFailure', () => {
  it('keeps AllianceError codes and names other errors by class and code', () => {
    expect(describeFailure(new AllianceError('LEDGER.BLOCK_NOT_FOUND', 'not-found', 'block 7'))).toEqual({ code: 'LEDGER.BLOCK_NOT_FOUND', message: 'block 7' });
    expect(describeFailure(withCode('dup', '23505'))).toEqual({ code: 'Error:23505', message: 'dup' });
    expect(describeFailure(new TypeError('nope'))).toEqual({ code: 'TypeError', message: 'nope' });
    expect(describeFailure('weird')).toEqual({ code: 'string', message: 'weird' });
  });

  it('uses MESSAGING.* codes that AllianceError accepts', () => {
    for (const code of Object.values(MessagingErrorCodes)) expect(() => new AllianceError(code, 'invalid', 'x')).not.toThrow();
  });
});
