import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { GqlArgumentsHost, type GqlContextType } from '@nestjs/graphql';
import type { Request, Response } from 'express';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ApolloServerErrorCode, ApolloServerValidationErrorCode } from '@apollo/server/errors';
import { AllianceError, isAllianceError } from '@alliance/shared/util-errors';

/**
 * RFC 9457 problem details. `code` is the stable machine-readable identity of
 * the error; the same code appears as `extensions.code` in GraphQL.
 */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly instance?: string;
  readonly correlationId?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const HTTP_CODES: Record<number, [string, AllianceError['kind']]> = {
  400: ['COMMON.BAD_REQUEST', 'invalid'],
  401: ['COMMON.UNAUTHENTICATED', 'unauthenticated'],
  403: ['COMMON.FORBIDDEN', 'forbidden'],
  404: ['COMMON.ROUTE_NOT_FOUND', 'not-found'],
  405: ['COMMON.METHOD_NOT_ALLOWED', 'invalid'],
  409: ['COMMON.CONFLICT', 'conflict'],
  413: ['COMMON.PAYLOAD_TOO_LARGE', 'too-large'],
  415: ['COMMON.UNSUPPORTED_MEDIA_TYPE', 'unsupported-media-type'],
  429: ['COMMON.RATE_LIMITED', 'rate-limited'],
  503: ['COMMON.UNAVAILABLE', 'unavailable'],
};

/** Converts anything thrown into an AllianceError; unknown errors become COMMON.INTERNAL. */
export function toAllianceError(error: unknown): AllianceError {
  if (isAllianceError(error)) return error;
  if (error instanceof HttpException) {
    const status = error.getStatus();
    // Nest wraps body-parser failures; they keep their own stable codes.
    const bodyStatus = statusFromBodyParser(error.cause);
    if (bodyStatus) return bodyParserError(bodyStatus, error);
    const [code, kind] = HTTP_CODES[status] ?? (status >= 500 ? ['COMMON.INTERNAL', 'internal'] : ['COMMON.BAD_REQUEST', 'invalid']);
    return new AllianceError(code, kind, httpExceptionMessage(error), { cause: error });
  }
  const status = statusFromBodyParser(error);
  if (status) return bodyParserError(status, error);
  if (isUnstorableText(error)) return new AllianceError('COMMON.INVALID_TEXT', 'invalid', 'the request holds text that cannot be stored (the NUL character U+0000, or bytes that are not UTF-8)', { cause: error });
  return new AllianceError('COMMON.INTERNAL', 'internal', 'internal error', { cause: error });
}

/**
 * PostgreSQL refusing a caller's text: 22021 (a NUL byte or invalid UTF-8 in
 * a text parameter) or 22P05 (`\u0000` in jsonb). Found by the fuzz suite: a
 * NUL in any id reached the database and answered 500.
 */
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);
function isUnstorableText(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const e = error as { code?: unknown; severity?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && UNSTORABLE_TEXT.has(e.code) && typeof e.severity === 'string') return true;
  return isUnstorableText(e.cause, depth + 1);
}

/** body-parser error type of a JSON body that is not valid UTF-8 (request-body.ts refuses it). */
export const NOT_UTF8 = 'entity.not.utf8';

function bodyParserError(status: 400 | 413 | 415, cause: unknown): AllianceError {
  if (status === 413) return new AllianceError('COMMON.PAYLOAD_TOO_LARGE', 'too-large', 'request body is too large', { cause });
  if (status === 415) return new AllianceError('COMMON.UNSUPPORTED_MEDIA_TYPE', 'unsupported-media-type', 'request body charset or Content-Encoding is not supported: JSON is UTF-8 (RFC 8259 §8.1); gzip, deflate and br are read', { cause });
  const notUtf8 = (cause as { type?: unknown; cause?: { type?: unknown } }).type === NOT_UTF8 || (cause as { cause?: { type?: unknown } }).cause?.type === NOT_UTF8;
  return new AllianceError('COMMON.MALFORMED_JSON', 'invalid', notUtf8 ? 'request body is not valid UTF-8 (JSON must be UTF-8, RFC 8259 §8.1)' : 'request body is not valid JSON', { cause });
}

function httpExceptionMessage(error: HttpException): string {
  const body = error.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : error.message;
}

// body-parser errors arrive as plain errors with `status` and `type`; a body it could not
// read (a corrupt gzip/deflate/br stream) arrives as the zlib error, given status 400.
function statusFromBodyParser(error: unknown): 400 | 413 | 415 | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { status?: unknown; type?: unknown; errno?: unknown; expose?: unknown };
  if (e.type === 'entity.too.large') return 413;
  if (e.type === 'entity.parse.failed' || e.type === NOT_UTF8) return 400;
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') return 415;
  if (e.type === undefined && e.status === 400 && e.expose === true && typeof e.errno === 'number') return 400;
  return undefined;
}

export function toProblem(error: AllianceError, instance?: string, correlationId?: string): ProblemDocument {
  return {
    type: `urn:alliance:problem:${error.code}`,
    title: error.code,
    status: error.status,
    // Internal errors never leak their cause to the caller; the log has it.
    detail: error.kind === 'internal' ? 'internal error' : error.message,
    code: error.code,
    ...(instance ? { instance } : {}),
    ...(correlationId ? { correlationId } : {}),
    ...(Object.keys(error.details).length > 0 && error.kind !== 'internal' ? { details: error.details } : {}),
  };
}

export function toGraphQLError(error: AllianceError, correlationId?: string): GraphQLError {
  return new GraphQLError(error.kind === 'internal' ? 'internal error' : error.message, {
    extensions: {
      code: error.code,
      status: error.status,
      ...(correlationId ? { correlationId } : {}),
      // The same details as problem+json's, never for internal errors.
      ...(Object.keys(error.details).length > 0 && error.kind !== 'internal' ? { details: error.details } : {}),
    },
  });
}

/**
 * An error that refuses the whole GraphQL request before execution (a plugin's
 * `didResolveOperation`): it carries its HTTP status, which Apollo otherwise
 * answers as 500. Resolver errors keep HTTP 200 and use `toGraphQLError`.
 */
export function toGraphQLRequestError(error: AllianceError): GraphQLError {
  const graphql = toGraphQLError(error);
  return new GraphQLError(graphql.message, { extensions: { ...graphql.extensions, http: { status: error.status } } });
}

/** Apollo's codes for requests the caller got wrong; every other error without an Alliance code is ours. */
const CALLER_GRAPHQL_CODES: ReadonlySet<string> = new Set<string>([
  ...Object.values(ApolloServerErrorCode).filter((code) => code !== ApolloServerErrorCode.INTERNAL_SERVER_ERROR),
  ...Object.values(ApolloServerValidationErrorCode),
]);

/**
 * The one formatting of GraphQL errors, over HTTP and WebSocket alike: errors
 * that already carry an Alliance code (`MODULE.REASON`) or one of Apollo's
 * codes for the caller's own mistakes (syntax, validation, variables) stay as
 * they are; anything else thrown becomes its Alliance error (internal errors
 * never reveal their cause).
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown, correlationId?: string): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && (code.includes('.') || CALLER_GRAPHQL_CODES.has(code))) return formatted;
  const original = (error as { originalError?: unknown } | undefined)?.originalError;
  if (original) return toGraphQLError(toAllianceError(original), correlationId).toJSON();
  return formatted;
}

/** The one mapping from thrown errors to each transport of a Nest service. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): unknown {
    const error = toAllianceError(exception);
    if (host.getType<GqlContextType>() === 'graphql') {
      const ctx = GqlArgumentsHost.create(host).getContext<{ req?: Request }>();
      return toGraphQLError(error, correlationIdOf(ctx.req));
    }
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    if (error.kind === 'internal') {
      (request as Request & { log?: { error(o: object, m: string): void } }).log?.error({ err: exception }, 'unhandled error');
    }
    if (response.headersSent) return undefined;
    const problem = toProblem(error, request.originalUrl, correlationIdOf(request));
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
    return undefined;
  }
}

/**
 * Express error middleware placed right after body parsing: malformed, too
 * large or badly encoded bodies get their own stable codes before Nest would
 * fold them into a generic 400.
 */
export function bodyErrorHandler(error: unknown, request: Request, response: Response, next: (e?: unknown) => void): void {
  const status = statusFromBodyParser(error);
  if (!status || response.headersSent) return next(error);
  const problem = toProblem(bodyParserError(status, error), request.originalUrl, correlationIdOf(request));
  response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

export function correlationIdOf(request: Request | undefined): string | undefined {
  const id = (request as (Request & { id?: unknown }) | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}

export const HTTP_STATUS_OK = HttpStatus.OK;
