import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Headers on every answer of every service (docs/security.md), set before any
 * route runs, so errors, 404s, the gateway's proxied answers and its own
 * refusals carry them too. The gateway's dashboard replaces the CSP with its
 * page's own (apps/gateway/src/dashboard.ts).
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Browsers only heed it over HTTPS (a TLS-terminating proxy in front); over plain HTTP it is ignored.
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Frame-Options': 'DENY',
  // An API answer is never framed; the interactive docs (/docs) load their own scripts, so no default-src here.
  'Content-Security-Policy': "frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Express middleware: the headers above, and `Cache-Control: no-store` — API
 * answers (signed-in ones above all) are never stored by a browser or a
 * shared cache; the dashboard's files set their own caching.
 */
export function securityHeadersMiddleware(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) res.setHeader(name, value);
  res.setHeader('Cache-Control', 'no-store');
  next();
}
