import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { verifyReceipt, type Receipt } from '@alliance/protocol';
import { WatchedPage } from './browser';
import { anchorEnvelopes } from './ledger-client';

// The dashboard's walks, written against the shared UI contract (roles, labels, texts), not the dashboard's
// internals, and run against both `npm start` (dashboard.e2e-spec.ts) and `npm run stack -- up` (stack.e2e-spec.ts).

/** Where a walk runs: the gateway's origin, the data dir holding the demo keys, a browser, a screenshot-folder prefix. */
export interface DashboardTarget {
  readonly browser: Browser;
  readonly base: string;
  readonly dataDir: string;
  readonly name: string;
}

/** The demo key file of an organization, as a user picks it. */
export const keyFileOf = (dataDir: string, org: string) => join(dataDir, 'demo-keys', `${org}.key.json`);

/** Exactly "Block <n>", not "Block <n>0". */
export const blockName = (n: number) => new RegExp(`\\bBlock ${n}(?!\\d)`);

export async function visible(locator: Locator, timeout = 30_000): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

/** Waits until no "Loading…" status is left on the page. */
export async function loaded(page: Page, timeout = 30_000): Promise<void> {
  await page.getByRole('status').filter({ hasText: 'Loading…' }).first().waitFor({ state: 'hidden', timeout });
}

/**
 * Picks a key file as a person would, who sees the page name the file's organization before pressing "Sign in"
 * (the page reads the file asynchronously after the pick).
 */
export async function chooseKeyFile(page: Page, file: string, org: string): Promise<void> {
  await page.getByLabel('Key file').setInputFiles(file);
  await visible(page.locator('form').getByText(org, { exact: true }));
}

export async function signIn(w: WatchedPage, dataDir: string, org: string): Promise<void> {
  const { page } = w;
  await w.step('sign-in page', async () => {
    await page.goto('/');
    await visible(page.getByRole('heading', { name: 'Sign in' }));
  });
  await w.step(`signed in as ${org}`, async () => {
    await chooseKeyFile(page, keyFileOf(dataDir, org), org);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const nav = await visible(page.getByRole('navigation', { name: 'Main' }), 60_000);
    for (const link of ['Network', 'Trace', 'Finance', 'Audit']) await visible(nav.getByRole('link', { name: link, exact: true }));
    await visible(page.getByRole('banner').getByText(org, { exact: true }));
    await visible(page.getByRole('button', { name: 'Sign out' }));
  });
}

export async function signOut(w: WatchedPage): Promise<void> {
  await w.step('signed out', async () => {
    await w.page.getByRole('button', { name: 'Sign out' }).click();
    await visible(w.page.getByRole('heading', { name: 'Sign in' }));
    await w.page.getByRole('navigation', { name: 'Main' }).waitFor({ state: 'detached' });
  });
}

/**
 * No console error, page error or failed same-origin request; the page never sent the private key; and it read
 * nothing but GraphQL: of the REST API only the session's (/identity/v1/auth/: challenge, token, refresh, logout).
 */
export function assertClean(w: WatchedPage, ...privateKeys: string[]): void {
  expect(w.problems, 'console errors, page errors and failed requests').toEqual([]);
  expect(w.sent.length).toBeGreaterThan(0);
  const rest = w.sent.map((s) => s.split('\n')[0]).filter((line) => /^\w+ https?:\/\/[^/]+\/(identity|ledger|provenance|finance|audit)\//.test(line) && !/ https?:\/\/[^/]+\/identity\/v1\/auth\/[a-z-]+$/.test(line));
  expect(rest, 'REST requests besides the session’s').toEqual([]);
  for (const key of privateKeys) expect(w.sent.filter((s) => s.toLowerCase().includes(key.toLowerCase())), 'requests carrying the private key').toEqual([]);
}

export const privateKeyOf = (dataDir: string, org: string) => (JSON.parse(readFileSync(keyFileOf(dataDir, org), 'utf8')) as { privateKey: string }).privateKey;

/** A member signs in with its key file, sees its transaction's block arrive live, opens it to a verified receipt and signs out. */
export async function memberSeesItsBlockLive(target: DashboardTarget): Promise<void> {
  const w = await WatchedPage.open(target.browser, target.base, `${target.name}member-network`);
  try {
    await signIn(w, target.dataDir, 'org1');
    const { page } = w;
    const blocks = await w.step('network page', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Network', exact: true }).click();
      await page.waitForURL('**/network');
      await visible(page.getByRole('heading', { name: 'Network', exact: true }));
      await loaded(page);
      const members = await visible(page.getByRole('table', { name: 'Members' }));
      for (const org of ['org1', 'org2', 'org3']) await visible(members.getByRole('row').filter({ hasText: org }).first());
      const list = await visible(page.getByRole('list', { name: 'Certified blocks' }));
      expect(await list.getAttribute('aria-live')).toBe('polite');
      return list;
    });

    // A transaction signed with org1's demo key, submitted as an ERP connector would; its block must reach the open page.
    const [envelope] = anchorEnvelopes(target.dataDir, 'org1', 1);
    const res = await fetch(`${target.base}/ledger/v1/transactions?wait=commit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope), signal: AbortSignal.timeout(60_000) });
    const body = (await res.json()) as { code: string; receipt: Receipt };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(verifyReceipt(body.receipt).ok).toBe(true);
    const blockNumber = body.receipt.block.header.blockNumber;

    await w.step(`block ${blockNumber} arrives live`, async () => {
      await visible(blocks.getByRole('listitem').filter({ hasText: blockName(blockNumber) }), 60_000);
    });
    await w.step(`block ${blockNumber} opened, receipt verified`, async () => {
      await blocks.getByRole('listitem').filter({ hasText: blockName(blockNumber) }).getByText(blockName(blockNumber)).first().click();
      await visible(page.getByRole('heading', { name: blockName(blockNumber) }));
      // The receipt of every transaction of the block is fetched and verified in the browser with the SDK.
      const ours = await visible(page.getByRole('row').filter({ hasText: body.receipt.transactionId }));
      await visible(ours.getByText('Receipt verified'), 60_000);
      await visible(ours.getByLabel('Receipt verified'));
      expect(await page.getByText('Proof failed').count()).toBe(0);
    });
    await signOut(w);
    assertClean(w, privateKeyOf(target.dataDir, 'org1'));
  } finally {
    await w.close();
  }
}

/** The regulator signs in, runs a whole-chain verification on the Audit page and watches it to its verdict. */
export async function regulatorVerifiesTheChain(target: DashboardTarget): Promise<void> {
  const w = await WatchedPage.open(target.browser, target.base, `${target.name}regulator-audit`);
  try {
    await signIn(w, target.dataDir, 'regulator');
    const { page } = w;
    await w.step('audit page', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit', exact: true }).click();
      await page.waitForURL('**/audit');
      await visible(page.getByRole('heading', { name: 'Audit', exact: true }));
      await visible(page.getByRole('button', { name: 'Verify chain' }));
    });
    await w.step('chain verification running', async () => {
      await page.getByRole('button', { name: 'Verify chain' }).click();
      await visible(page.getByRole('progressbar'));
    });
    await w.step('chain verified', async () => {
      const verdict = await visible(page.getByRole('status', { name: 'Chain verified' }), 120_000);
      const blocks = /Chain verified: (\d+) blocks/.exec((await verdict.textContent()) ?? '');
      expect(blocks, 'the verdict names the blocks it verified').not.toBeNull();
      expect(Number(blocks![1])).toBeGreaterThanOrEqual(1);
      expect(await page.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
      expect(await page.getByRole('alert').count()).toBe(0);
    });
    await signOut(w);
    assertClean(w, privateKeyOf(target.dataDir, 'regulator'));
  } finally {
    await w.close();
  }
}
