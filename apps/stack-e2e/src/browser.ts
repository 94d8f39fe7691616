import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { npmStart } from './npm-start';
import { root } from './support';

/** Debian's Chromium (`.ci/run` installs the package); playwright-core downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where the dashboard tests save their screenshots (git-ignored with test-results/). */
export const artifactsRoot = join(root, 'test-results', 'dashboard');

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'], timeout: 60_000 });
}

/** An `npm start` of its own (port, embedded PostgreSQL port, temporary data dir) and a Chromium, for one browser-test file. */
export interface DashboardStack {
  readonly base: string;
  readonly dataDir: string;
  /** The demo key file of an organization, as a user picks it. */
  keyFile(org: string): string;
  demoKey(org: string): { organizationId: string; publicKey: string; privateKey: string };
  /** The browser, once beforeAll ran. */
  readonly browser: Browser;
}

/** Registers the file's beforeAll/afterAll: `npm start` (npm-start.ts) and Chromium, both stopped after the file. */
export function dashboardStack(name: string, port: number, pgPort: number): DashboardStack {
  const app = npmStart(name, port, pgPort);
  let browser: Browser | undefined;
  const keyFile = (org: string) => join(app.dataDir, 'demo-keys', `${org}.key.json`);
  // Registered after npmStart's: Chromium starts once the stack is ready and closes before it stops.
  beforeAll(async () => {
    browser = await launchChromium();
    process.stdout.write(`${name} e2e: screenshots in ${artifactsRoot}\n`);
  });
  afterAll(async () => {
    await browser?.close();
    process.stdout.write(`${name} e2e: screenshots in ${artifactsRoot}\n`);
  });
  return {
    base: app.base,
    dataDir: app.dataDir,
    keyFile,
    demoKey: app.demoKey,
    get browser() {
      if (!browser) throw new Error('the browser is not started yet (beforeAll)');
      return browser;
    },
  };
}

export interface ExpectedFailure {
  readonly method: string;
  /** Matched against the request URL's pathname. */
  readonly path: RegExp;
  /** The HTTP status the step expects (a network failure never counts as expected). */
  readonly status: number;
}

/**
 * One browser page under watch: every console error, page error, failed request and error response from the
 * dashboard's own origin is recorded, as is every byte the page sends (requests and WebSocket frames), so a
 * test can assert that a secret never left the browser. Each step saves a screenshot, also when it fails.
 */
export class WatchedPage {
  readonly problems: string[] = [];
  readonly sent: string[] = [];
  private readonly expected: ExpectedFailure[] = [];
  private readonly seen = new Set<ExpectedFailure>();
  private shot = 0;

  private constructor(
    readonly page: Page,
    readonly origin: string,
    readonly artifacts: string,
  ) {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      // Chromium logs every error response as "Failed to load resource"; an expected one is part of its step.
      const status = /^Failed to load resource: the server responded with a status of (\d+)/.exec(msg.text());
      if (status && this.isExpected(Number(status[1]), msg.location().url)) return;
      this.problems.push(`console error: ${msg.text()} (${msg.location().url || 'no url'})`);
    });
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.stack ?? error.message}`));
    page.on('request', (req) => this.sent.push(`${req.method()} ${req.url()}\n${headerText(req)}\n${req.postData() ?? ''}`));
    page.on('websocket', (ws) => ws.on('framesent', (frame) => this.sent.push(`ws ${ws.url()}\n${String(frame.payload)}`)));
    page.on('requestfailed', (req) => {
      // net::ERR_ABORTED is the page cancelling a request itself (an AbortController, a stream read to its end
      // and released, navigating away); a server failing one is another error (reset, incomplete body, refused).
      const abortedByPage = req.failure()?.errorText === 'net::ERR_ABORTED';
      if (this.sameOrigin(req) && !abortedByPage) this.problems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText ?? 'unknown'}`);
    });
    page.on('response', (res) => {
      const req = res.request();
      if (!this.sameOrigin(req) || res.status() < 400) return;
      const pathname = new URL(req.url()).pathname;
      const expected = this.expected.find((e) => e.status === res.status() && e.method === req.method() && e.path.test(pathname));
      if (expected) this.seen.add(expected);
      else this.problems.push(`HTTP ${res.status()} for ${req.method()} ${req.url()}`);
    });
  }

  static async open(browser: Browser, origin: string, name: string): Promise<WatchedPage> {
    const artifacts = join(artifactsRoot, name);
    rmSync(artifacts, { recursive: true, force: true });
    mkdirSync(artifacts, { recursive: true });
    // A laptop screen.
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, baseURL: origin });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.setDefaultNavigationTimeout(60_000);
    return new WatchedPage(page, origin, artifacts);
  }

  /**
   * Error responses matching `method`, `path` and `status` are part of the coming step, not problems, until
   * the function it returns is called; that throws unless one came.
   */
  expectFailure(failure: ExpectedFailure): () => void {
    this.expected.push(failure);
    return () => {
      this.expected.splice(this.expected.indexOf(failure), 1);
      if (!this.seen.has(failure)) throw new Error(`expected HTTP ${failure.status} for ${failure.method} ${failure.path} but none came`);
    };
  }

  /** Runs one step of the walk and saves a screenshot after it (`NN-name.png`, `NN-name-FAILED.png` if it threw). */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const file = `${String(++this.shot).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
    try {
      const value = await fn();
      await this.page.screenshot({ path: join(this.artifacts, `${file}.png`), fullPage: true });
      return value;
    } catch (error) {
      await this.page.screenshot({ path: join(this.artifacts, `${file}-FAILED.png`), fullPage: true }).catch(() => undefined);
      const problems = this.problems.length ? `\nproblems seen in the page so far:\n  ${this.problems.join('\n  ')}` : '';
      throw new Error(`step "${name}" failed (screenshot: ${join(this.artifacts, `${file}-FAILED.png`)}): ${(error as Error).message}${problems}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }

  private isExpected(status: number, url: string): boolean {
    try {
      const { origin, pathname } = new URL(url);
      // The console names the URL, not the method.
      return origin === this.origin && this.expected.some((e) => e.status === status && e.path.test(pathname));
    } catch {
      return false;
    }
  }

  private sameOrigin(req: Request): boolean {
    try {
      return new URL(req.url()).origin === this.origin;
    } catch {
      return false;
    }
  }
}

function headerText(req: Request): string {
  return Object.entries(req.headers())
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}
