import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  InternalServerErrorException,
  MethodNotAllowedException,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { AllianceError } from '@alliance/shared/util-errors';
import { formatGraphQLError, toAllianceError, toGraphQLError, toProblem } from './problem';

/** What body-parser (via http-errors) hands to the next error middleware. */
function bodyParserError(type: string, status: number): Error {
  return Object.assign(new Error(`body-parser: ${type}`), { type, status, statusCode: status, expose: true });
}

/** A corrupt gzip/deflate/br body: the zlib error, which body-parser gives status 400. */
function zlibError(): Error {
  return Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR', errno: -3, status: 400, statusCode: 400, expose: true });
}

describe('toAllianceError', () => {
  it('returns an AllianceError unchanged', () => {
    const error = new AllianceError('LEDGER.BLOCK_NOT_FOUND', 'not-found', 'block 7 not found');
    expect(toAllianceError(error)).toBe(error);
  });

  it.each([
    [new NotFoundException('Cannot GET /x'), 'COMMON.ROUTE_NOT_FOUND', 404],
    [new BadRequestException('bad thing'), 'COMMON.BAD_REQUEST', 400],
    [new UnauthorizedException(), 'COMMON.UNAUTHENTICATED', 401],
    [new ForbiddenException(), 'COMMON.FORBIDDEN', 403],
    [new ConflictException('taken'), 'COMMON.CONFLICT', 409],
    [new PayloadTooLargeException(), 'COMMON.PAYLOAD_TOO_LARGE', 413],
    [new HttpException('slow down', 429), 'COMMON.RATE_LIMITED', 429],
    [new ServiceUnavailableException(), 'COMMON.UNAVAILABLE', 503],
    [new HttpException("I'm a teapot", 418), 'COMMON.BAD_REQUEST', 400],
    [new BadGatewayException('upstream said: password=hunter2'), 'COMMON.INTERNAL', 500],
    [new InternalServerErrorException('pool exhausted at db-7'), 'COMMON.INTERNAL', 500],
  ] as const)('maps %s to %s (%i)', (exception, code, status) => {
    const error = toAllianceError(exception);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.cause).toBe(exception);
  });

  it('keeps stable codes for statuses, 405 (no kind of its own) answered as 400', () => {
    expect(toAllianceError(new MethodNotAllowedException()).code).toBe('COMMON.METHOD_NOT_ALLOWED');
    expect(toAllianceError(new UnsupportedMediaTypeException()).code).toBe('COMMON.UNSUPPORTED_MEDIA_TYPE');
    expect(toAllianceError(new UnsupportedMediaTypeException())).toMatchObject({ kind: 'unsupported-media-type', status: 415 });
  });

  it('takes the message of an HttpException, joining validation messages', () => {
    expect(toAllianceError(new BadRequestException('name is required')).message).toBe('name is required');
    expect(toAllianceError(new BadRequestException(['name is required', 'age must be a number'])).message).toBe('name is required; age must be a number');
    expect(toAllianceError(new HttpException({ reason: 'no message field' }, 400)).message).toBe('Http Exception');
  });

  it.each([
    ['entity.too.large', 413, 'COMMON.PAYLOAD_TOO_LARGE', 413],
    ['entity.parse.failed', 400, 'COMMON.MALFORMED_JSON', 400],
    ['charset.unsupported', 415, 'COMMON.UNSUPPORTED_MEDIA_TYPE', 415],
    ['encoding.unsupported', 415, 'COMMON.UNSUPPORTED_MEDIA_TYPE', 415],
    ['entity.not.utf8', 400, 'COMMON.MALFORMED_JSON', 400],
  ] as const)('maps the body-parser error %s to its own code', (type, parserStatus, code, status) => {
    const raw = bodyParserError(type, parserStatus);
    expect(toAllianceError(raw)).toMatchObject({ code, status });
    // The same error wrapped by Nest keeps its code instead of a generic one.
    const wrapped = new BadRequestException('Bad Request', { cause: raw });
    expect(toAllianceError(wrapped)).toMatchObject({ code, status });
  });

  it('recognises body-parser shapes by type alone', () => {
    expect(toAllianceError({ type: 'entity.too.large' }).code).toBe('COMMON.PAYLOAD_TOO_LARGE');
    expect(toAllianceError({ type: 'entity.parse.failed' }).code).toBe('COMMON.MALFORMED_JSON');
  });

  it('treats a body that could not be decompressed as the caller’s error', () => {
    expect(toAllianceError(zlibError())).toMatchObject({ code: 'COMMON.MALFORMED_JSON', status: 400 });
  });

  it('does not guess from a bare status: other thrown things are internal', () => {
    expect(toAllianceError(Object.assign(new Error('x'), { status: 400 })).code).toBe('COMMON.INTERNAL');
    expect(toAllianceError(Object.assign(new Error('connect ECONNREFUSED'), { errno: -111, code: 'ECONNREFUSED' })).code).toBe('COMMON.INTERNAL');
    for (const thrown of [new Error('secret internals'), new TypeError('x is undefined'), 'a string', undefined, null, 42]) {
      const error = toAllianceError(thrown);
      expect(error).toMatchObject({ code: 'COMMON.INTERNAL', kind: 'internal', status: 500, message: 'internal error' });
      expect(error.cause).toBe(thrown);
    }
  });

  it('answers text PostgreSQL cannot store (NUL, invalid UTF-8; also wrapped) as the caller’s error, other database errors as internal', () => {
    const pg = (code: string) => Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code, severity: 'ERROR' });
    expect(toAllianceError(pg('22021'))).toMatchObject({ code: 'COMMON.INVALID_TEXT', kind: 'invalid', status: 400 });
    expect(toAllianceError(pg('22P05')).code).toBe('COMMON.INVALID_TEXT');
    expect(toAllianceError(new Error('query failed', { cause: pg('22021') })).code).toBe('COMMON.INVALID_TEXT');
    expect(toAllianceError(pg('23505')).code).toBe('COMMON.INTERNAL');
    // Only PostgreSQL's own errors (they carry a severity) are recognised.
    expect(toAllianceError(Object.assign(new Error('x'), { code: '22021' })).code).toBe('COMMON.INTERNAL');
  });
});

describe('toProblem', () => {
  it('builds an RFC 9457 document from the error', () => {
    const error = new AllianceError('TEST.THING_NOT_FOUND', 'not-found', 'thing 7 not found', { details: { id: 7 } });
    expect(toProblem(error, '/identity/v1/things/7', 'corr-1')).toEqual({
      type: 'urn:alliance:problem:TEST.THING_NOT_FOUND',
      title: 'TEST.THING_NOT_FOUND',
      status: 404,
      detail: 'thing 7 not found',
      code: 'TEST.THING_NOT_FOUND',
      instance: '/identity/v1/things/7',
      correlationId: 'corr-1',
      details: { id: 7 },
    });
  });

  it('leaves out absent instance, correlation id and empty details', () => {
    const problem = toProblem(new AllianceError('TEST.CONFLICT', 'conflict', 'taken'));
    expect(Object.keys(problem).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
  });

  it('never shows an internal error’s message or details', () => {
    const fromThrown = toProblem(toAllianceError(new Error('secret internals')));
    expect(fromThrown).toMatchObject({ code: 'COMMON.INTERNAL', status: 500, detail: 'internal error' });
    const fromHttp = toProblem(toAllianceError(new InternalServerErrorException('secret internals')));
    expect(fromHttp.detail).toBe('internal error');
    const explicit = toProblem(new AllianceError('TEST.BROKEN', 'internal', 'secret internals', { details: { dsn: 'postgres://u:pw@db' } }));
    expect(explicit.detail).toBe('internal error');
    expect(explicit.details).toBeUndefined();
    for (const problem of [fromThrown, fromHttp, explicit]) expect(JSON.stringify(problem)).not.toMatch(/secret internals|pw@db/);
  });
});

describe('toGraphQLError', () => {
  it('carries the code, status and correlation id in extensions', () => {
    const error = toGraphQLError(new AllianceError('TEST.THING_NOT_FOUND', 'not-found', 'thing 7 not found'), 'corr-2');
    expect(error.message).toBe('thing 7 not found');
    expect(error.extensions).toEqual({ code: 'TEST.THING_NOT_FOUND', status: 404, correlationId: 'corr-2' });
  });

  it('hides an internal error’s message', () => {
    const error = toGraphQLError(toAllianceError(new Error('secret internals')));
    expect(error.message).toBe('internal error');
    expect(error.extensions).toEqual({ code: 'COMMON.INTERNAL', status: 500 });
  });

  it('carries the details problem+json shows, never an internal error’s', () => {
    expect(toGraphQLError(new AllianceError('TEST.TOO_FAR', 'invalid', 'too far', { details: { from: 0 } })).extensions).toEqual({ code: 'TEST.TOO_FAR', status: 400, details: { from: 0 } });
    expect(toGraphQLError(new AllianceError('TEST.BROKEN', 'internal', 'secret', { details: { dsn: 'postgres://u:pw@db' } })).extensions).toEqual({ code: 'TEST.BROKEN', status: 500 });
  });
});

describe('formatGraphQLError', () => {
  it('keeps Alliance codes and the caller’s own mistakes, maps anything else thrown to its Alliance error', () => {
    const coded = { message: 'block 9 not found', extensions: { code: 'LEDGER.BLOCK_NOT_FOUND' } };
    expect(formatGraphQLError(coded, undefined)).toBe(coded);
    const validation = { message: 'Cannot query field "x"', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
    expect(formatGraphQLError(validation, undefined)).toBe(validation);
    const thrown = formatGraphQLError({ message: 'secret internals', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, { originalError: new Error('secret internals') }, 'corr-3');
    expect(thrown).toEqual({ message: 'internal error', extensions: { code: 'COMMON.INTERNAL', status: 500, correlationId: 'corr-3' } });
  });
});
