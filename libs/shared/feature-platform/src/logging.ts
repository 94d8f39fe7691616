import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger as PinoInstance } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';

export const CORRELATION_HEADER = 'x-correlation-id';
const ACCEPTED_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Structured JSON logs. Every request gets a correlation id (the caller's
 * `X-Correlation-Id` or `X-Request-Id` when well-formed, else a new UUID),
 * echoed in the response and stamped on every log line of that request.
 */
export function createServiceLogger(service: string, orgId: string, level: string): PinoInstance {
  return pino({ level, base: { service, org: orgId }, messageKey: 'msg', timestamp: pino.stdTimeFunctions.isoTime });
}

/**
 * The request logger, mounted with `app.use` before everything else so every
 * path (REST, GraphQL, health, unknown routes) gets its correlation id.
 */
export function requestLogger(logger: PinoInstance): HttpLogger {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = correlationIdFor(req.headers);
      res.setHeader('X-Correlation-Id', id);
      return id;
    },
    customProps: (req: IncomingMessage) => ({ correlationId: (req as IncomingMessage & { id?: unknown }).id }),
    // Health probes every few seconds would drown the log.
    autoLogging: { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') },
    serializers: {
      // Only these fields: headers (authorization, cookies) never reach the log.
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/** The caller's `X-Correlation-Id` (or `X-Request-Id`) when well-formed, else a new UUID; HTTP and WebSocket alike. */
export function correlationIdFor(headers: IncomingHttpHeaders): string {
  const offered = headerValue(headers[CORRELATION_HEADER]) ?? headerValue(headers['x-request-id']);
  return offered && ACCEPTED_ID.test(offered) ? offered : randomUUID();
}

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
