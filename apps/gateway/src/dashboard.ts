import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import express from 'express';

/**
 * The web dashboard (apps/dashboard, built by tools/build.js with Vite into
 * dist/apps/dashboard) served by the gateway at `/`: its files, and its
 * index.html for the client routes (`/network`, `/audit` …). Everything the
 * gateway serves itself — /graphql, /docs, /health, /openapi.json,
 * /<service>/v1/* — is never answered with the page, and `/` still answers
 * the JSON links to a client that asks for JSON only (docs/dashboard.md).
 */

/** First path segments that belong to the gateway itself, never to the dashboard's routes. */
const GATEWAY_PATHS = new Set(['graphql', 'docs', 'docs-json', 'docs-yaml', 'health', 'openapi.json']);
/** `/<service>/v1` (and `/gateway/v1`): the REST prefixes. */
const REST_PREFIX = /^\/(identity|ledger|provenance|finance|audit|gateway)\/v1(\/|$)/;
/** Vite names every built asset by its content hash: such a file never changes under its name. */
const HASHED_ASSET = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/** Where the built dashboard is: beside the gateway in dist/, or dist/ of the repository when the gateway runs from source (tests). */
export function defaultDashboardDir(): string | undefined {
  const candidates = [resolve(__dirname, '../../dashboard'), resolve(__dirname, '../../../dist/apps/dashboard')];
  return candidates.find((dir) => existsSync(join(dir, '.vite', 'manifest.json')) && existsSync(join(dir, 'index.html')));
}

/** Whether a path is the gateway's own (API, docs, health), so never the dashboard's. */
export function isGatewayPath(path: string): boolean {
  if (REST_PREFIX.test(path)) return true;
  const first = path.split('/')[1] ?? '';
  return GATEWAY_PATHS.has(first);
}

/** A client that asks for JSON and not for HTML (curl -H 'accept: application/json', the SDK) gets the links at `/`. */
export function wantsJsonOnly(accept: string | undefined): boolean {
  const types = (accept ?? '').split(',').map((t) => t.split(';')[0].trim().toLowerCase());
  return types.includes('application/json') && !types.includes('text/html');
}

/**
 * The dashboard's Content-Security-Policy: its own scripts and styles only,
 * no inline script, no frames; it talks to this origin alone — fetch and the
 * graphql-ws WebSocket of `/graphql` (ws: or wss: of the same host; 'self'
 * covers it in CSP 3, the explicit source covers older engines).
 */
export function dashboardCsp(host: string | undefined): string {
  const sameHost = host && /^[A-Za-z0-9.\-[\]:]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${sameHost}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', dashboardCsp(req.headers.host));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
}

type Middleware = (req: IncomingMessage & { path?: string }, res: ServerResponse, next: (error?: unknown) => void) => void;

/** Express middleware: the dashboard's files, then its index.html for client routes. */
export function dashboardMiddleware(dir: string): Middleware {
  const files = express.static(dir, {
    index: false,
    redirect: false,
    dotfiles: 'ignore',
    setHeaders: (res, _file) => {
      const path = (res.req as IncomingMessage & { path?: string }).path ?? '';
      securityHeaders(res.req, res);
      res.setHeader('Cache-Control', HASHED_ASSET.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  }) as unknown as Middleware;
  const index = join(dir, 'index.html');
  return (req, res, next) => {
    const method = req.method ?? 'GET';
    const path = req.path ?? new URL(req.url ?? '/', 'http://gateway').pathname;
    if ((method !== 'GET' && method !== 'HEAD') || isGatewayPath(path)) return next();
    if (path === '/' && wantsJsonOnly(req.headers.accept)) return next();
    if (path === '/index.html' || path === '/') return sendIndex(req, res, index, next);
    files(req, res, (error?: unknown) => {
      if (error) return next(error);
      // Client routes (no file extension) get the page; a missing asset stays a 404.
      if (/\.[A-Za-z0-9]+$/.test(path)) return next();
      sendIndex(req, res, index, next);
    });
  };
}

function sendIndex(req: IncomingMessage, res: ServerResponse, index: string, next: (error?: unknown) => void): void {
  securityHeaders(req, res);
  // The page names the hashed assets of this build: always revalidated, so a new build is picked up at once.
  res.setHeader('Cache-Control', 'no-cache');
  (res as ServerResponse & { sendFile(path: string, callback: (error?: Error) => void): void }).sendFile(index, (error?: Error) => {
    if (error && !res.headersSent) next(error);
  });
}
