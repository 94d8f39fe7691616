import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardCsp, dashboardMiddleware, isGatewayPath, wantsJsonOnly } from './dashboard';

// A built dashboard in a temporary folder, served by the middleware in a real Express app on loopback;
// what the middleware passes on answers "gateway:<path>", as the gateway's own routes would.
const dir = mkdtempSync(join(tmpdir(), 'dashboard-spec-'));
const INDEX = '<!doctype html><title>Alliance dashboard</title><script type="module" src="/assets/index-AbCd1234.js"></script>';
let server: Server;
let base = '';

beforeAll(async () => {
  mkdirSync(join(dir, 'assets'));
  mkdirSync(join(dir, '.vite'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets/index-AbCd1234.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets/index-Zz9_8-yX.css'), 'body{}');
  writeFileSync(join(dir, '.vite/manifest.json'), '{}');
  writeFileSync(join(dir, 'robots.txt'), 'User-agent: *');
  const app = express();
  app.use(dashboardMiddleware(dir));
  app.use((req, res) => res.status(req.path === '/' ? 200 : 404).type('text/plain').send(`gateway:${req.method} ${req.path}`));
  await new Promise<void>((resolve) => (server = app.listen(0, '127.0.0.1', () => resolve())));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('the dashboard at the gateway', () => {
  it('answers / and client routes with index.html, revalidated, under the SPA security headers', async () => {
    for (const path of ['/', '/network', '/audit', '/finance', '/trace', '/network/blocks/3', '/index.html']) {
      const res = await fetch(`${base}${path}`, { headers: html });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(await res.text(), path).toBe(INDEX);
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
      expect(res.headers.get('content-security-policy'), path).toBe(dashboardCsp(base.slice('http://'.length)));
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const head = await fetch(`${base}/network`, { method: 'HEAD', headers: html });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('serves hashed assets with their content type for a year, other files revalidated', async () => {
    const js = await fetch(`${base}/assets/index-AbCd1234.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const css = await fetch(`${base}/assets/index-Zz9_8-yX.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const robots = await fetch(`${base}/robots.txt`);
    expect(robots.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(robots.headers.get('cache-control')).toBe('no-cache');
  });

  it('leaves the gateway its own paths, JSON clients of /, other methods, missing files and hidden ones', async () => {
    const passed = async (path: string, init: RequestInit = { headers: html }) => {
      const res = await fetch(`${base}${path}`, init);
      return (await res.text()).startsWith('gateway:');
    };
    for (const path of ['/graphql', '/docs', '/docs/', '/docs-json', '/health', '/health/ready', '/openapi.json', '/ledger/v1/blocks', '/audit/v1/nodes', '/audit/v1', '/identity/v1/auth/challenges', '/gateway/v1/openapi.json']) {
      expect(await passed(path), path).toBe(true);
    }
    expect(await passed('/', { headers: { accept: 'application/json' } })).toBe(true);
    expect(await passed('/network', { method: 'POST', headers: html })).toBe(true);
    expect(await passed('/assets/missing-AbCd1234.js')).toBe(true);
    expect(await passed('/.vite/manifest.json')).toBe(true);
    const traversal = await fetch(`${base}/assets/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd`, { headers: html });
    expect(await traversal.text()).not.toContain('root:');
  });
});

describe('what belongs to whom', () => {
  it('knows the gateway paths: the REST prefixes with their version, not the client routes of the same name', () => {
    expect(isGatewayPath('/audit/v1/verifications/chain')).toBe(true);
    expect(isGatewayPath('/audit')).toBe(false);
    expect(isGatewayPath('/finance/positions')).toBe(false);
    expect(isGatewayPath('/graphql')).toBe(true);
    expect(isGatewayPath('/network')).toBe(false);
  });

  it('gives / the JSON links only to a client that asks for JSON and not HTML', () => {
    expect(wantsJsonOnly('application/json')).toBe(true);
    expect(wantsJsonOnly('application/json, application/problem+json')).toBe(true);
    expect(wantsJsonOnly('text/html,application/json;q=0.9')).toBe(false);
    expect(wantsJsonOnly('*/*')).toBe(false);
    expect(wantsJsonOnly(undefined)).toBe(false);
  });

  it('lets the page connect to its own origin only, WebSocket included; a strange Host adds nothing', () => {
    expect(dashboardCsp('alliance.example:8443')).toContain("connect-src 'self' ws://alliance.example:8443 wss://alliance.example:8443;");
    expect(dashboardCsp('evil.example; script-src *')).toContain("connect-src 'self';");
    expect(dashboardCsp(undefined)).toMatch(/script-src 'self'; .*frame-ancestors 'none'/);
  });
});
