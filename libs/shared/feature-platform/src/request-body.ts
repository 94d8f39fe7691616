import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { AllianceError } from '@alliance/shared/util-errors';
import { correlationIdOf, NOT_UTF8, PROBLEM_CONTENT_TYPE, toProblem } from './problem';

/** The media types every service reads request bodies as: JSON, JSON-LD (EPCIS) and other `+json` types. */
export const JSON_BODY_TYPES: readonly string[] = ['application/json', 'application/ld+json', 'application/*+json'];

/** body-parser `json` options: the size limit, the types above, and UTF-8 only, really UTF-8. */
export function jsonBodyParserOptions(limitBytes: number) {
  return {
    limit: limitBytes,
    type: [...JSON_BODY_TYPES],
    // Without this, bytes that are not UTF-8 (0xFF, overlong forms) become U+FFFD and the request goes on with text
    // its sender never wrote; refused instead (RFC 8259 §8.1), 400 COMMON.MALFORMED_JSON (problem.ts).
    // body-parser also decodes UTF-16 and UTF-32; JSON between systems is UTF-8 alone (RFC 8259 §8.1), so they are 415.
    verify: (_req: IncomingMessage, _res: unknown, body: Buffer, encoding: string) => {
      if (!/^utf-?8$/i.test(encoding)) throw Object.assign(new Error(`unsupported charset "${encoding.toUpperCase()}"`), { status: 415, type: 'charset.unsupported', charset: encoding });
      if (!isUtf8(body)) throw Object.assign(new Error('request body is not valid UTF-8'), { status: 400, type: NOT_UTF8 });
    },
  };
}

/** The one refusal of a body's media type, 415 COMMON.UNSUPPORTED_MEDIA_TYPE; `expected` says what to send instead. */
export function unsupportedMediaType(type: string, expected: string): AllianceError {
  return new AllianceError('COMMON.UNSUPPORTED_MEDIA_TYPE', 'unsupported-media-type', `${expected}; got ${type || 'no Content-Type'}`);
}

/** The media type of a request's body, lower case and without parameters ('' when none is given). */
export function mediaTypeOf(request: IncomingMessage): string {
  return (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** A body is sent (type-is's own `hasBody` counts `Content-Length: 0`, which clients send on a bodiless POST). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * After body parsing: a body in a media type no service reads (XML, forms,
 * multipart, text, none given) is refused with 415 COMMON.UNSUPPORTED_MEDIA_TYPE
 * before any route, so a route that takes no body never runs on one it
 * cannot read, and no route sees an empty body in place of the one sent.
 */
export function unsupportedBodyHandler(request: Request, response: Response, next: () => void): void {
  // The same matcher (type-is) and types body-parser reads bodies with.
  if (!hasBody(request) || request.is([...JSON_BODY_TYPES])) return next();
  const error = unsupportedMediaType(mediaTypeOf(request), 'request bodies are JSON: send Content-Type application/json (application/ld+json for EPCIS documents)');
  response.status(error.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(toProblem(error, request.originalUrl, correlationIdOf(request))));
}
