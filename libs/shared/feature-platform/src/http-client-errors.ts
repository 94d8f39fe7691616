import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { AllianceError } from '@alliance/shared/util-errors';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem';
import { API_SECURITY_HEADERS } from './security-headers';

/**
 * What Node's HTTP parser refuses before any route sees the request, answered
 * as problem+json like every other refusal instead of Node's bare status line:
 * headers over the limit (431, e.g. a URL of 200 000 characters), headers that
 * took too long (408), bytes that are not HTTP/1.1 (400, e.g. a body sent
 * without Content-Length or chunked framing, read as the next request).
 */
export function clientErrorOf(error: NodeJS.ErrnoException): AllianceError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AllianceError('COMMON.HEADERS_TOO_LARGE', 'headers-too-large', 'the request line and headers are larger than the server accepts (16 KiB); send long values in the body');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AllianceError('COMMON.REQUEST_TIMEOUT', 'timeout', 'the request did not arrive in time');
    default:
      return new AllianceError('COMMON.MALFORMED_HTTP', 'invalid', `the request is not valid HTTP/1.1 (${error.code ?? 'parse error'}); frame a body with Content-Length or chunked transfer encoding`);
  }
}

/** Answers the HTTP parser's errors on `server` with problem+json, then closes the connection (Node's recommended `clientError` handling). */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset connection has nobody to answer; a response already under way cannot be replaced.
    const response = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
      socket.destroy();
      return;
    }
    const problem = toProblem(clientErrorOf(error));
    const body = JSON.stringify(problem);
    const headers = { ...API_SECURITY_HEADERS, 'Cache-Control': 'no-store', 'Content-Type': PROBLEM_CONTENT_TYPE, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' };
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.end(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n${head}\r\n${body}`);
  });
}
