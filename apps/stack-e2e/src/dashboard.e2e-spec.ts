import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { verifyReceipt, type Receipt } from '@alliance/protocol';
import { dashboardStack, WatchedPage } from './browser';
import { anchorEnvelopes } from './ledger-client';

// The dashboard in a real browser (Debian's Chromium, headless, driven by playwright-core) against `npm start`,
// written against the shared UI contract (roles, labels, texts), not the dashboard's internals.
const stack = dashboardStack('dashboard', 3700, 54397);
const { base, dataDir, keyFile } = stack;
/** Exactly "Block <n>", not "Block <n>0". */
const blockName = (n: number) => new RegExp(`\\bBlock ${n}(?!\\d)`);

async function visible(locator: Locator, timeout = 30_000): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

/** Waits until no "Loading…" status is left on the page. */
async function loaded(page: Page, timeout = 30_000): Promise<void> {
  await page.getByRole('status').filter({ hasText: 'Loading…' }).first().waitFor({ state: 'hidden', timeout });
}

/**
 * Picks a key file as a person would, who sees the page name the file's organization before pressing "Sign in"
 * (the page reads the file asynchronously after the pick).
 */
async function chooseKeyFile(page: Page, file: string, org: string): Promise<void> {
  await page.getByLabel('Key file').setInputFiles(file);
  await visible(page.locator('form').getByText(org, { exact: true }));
}

async function signIn(w: WatchedPage, org: string): Promise<void> {
  const { page } = w;
  await w.step('sign-in page', async () => {
    await page.goto('/');
    await visible(page.getByRole('heading', { name: 'Sign in' }));
  });
  await w.step(`signed in as ${org}`, async () => {
    await chooseKeyFile(page, keyFile(org), org);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const nav = await visible(page.getByRole('navigation', { name: 'Main' }), 60_000);
    for (const link of ['Network', 'Trace', 'Finance', 'Audit']) await visible(nav.getByRole('link', { name: link, exact: true }));
    await visible(page.getByRole('banner').getByText(org, { exact: true }));
    await visible(page.getByRole('button', { name: 'Sign out' }));
  });
}

async function signOut(w: WatchedPage): Promise<void> {
  await w.step('signed out', async () => {
    await w.page.getByRole('button', { name: 'Sign out' }).click();
    await visible(w.page.getByRole('heading', { name: 'Sign in' }));
    await w.page.getByRole('navigation', { name: 'Main' }).waitFor({ state: 'detached' });
  });
}

/** No console error, page error or failed same-origin request, and the page never sent the private key. */
function assertClean(w: WatchedPage, ...privateKeys: string[]): void {
  expect(w.problems, 'console errors, page errors and failed requests').toEqual([]);
  expect(w.sent.length).toBeGreaterThan(0);
  for (const key of privateKeys) expect(w.sent.filter((s) => s.toLowerCase().includes(key.toLowerCase())), 'requests carrying the private key').toEqual([]);
}

const privateKeyOf = (org: string) => (JSON.parse(readFileSync(keyFile(org), 'utf8')) as { privateKey: string }).privateKey;

describe('dashboard in Chromium (npm start)', () => {
  it('a member signs in with its key file, sees its transaction’s block arrive live, opens it to a verified receipt and signs out', async () => {
    const w = await WatchedPage.open(stack.browser, base, 'member-network');
    try {
      await signIn(w, 'org1');
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
      const [envelope] = anchorEnvelopes(dataDir, 'org1', 1);
      const res = await fetch(`${base}/ledger/v1/transactions?wait=commit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope), signal: AbortSignal.timeout(60_000) });
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
      assertClean(w, privateKeyOf('org1'));
    } finally {
      await w.close();
    }
  });

  it('the regulator signs in, runs a whole-chain verification on the Audit page and watches it to its verdict', async () => {
    const w = await WatchedPage.open(stack.browser, base, 'regulator-audit');
    try {
      await signIn(w, 'regulator');
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
      assertClean(w, privateKeyOf('regulator'));
    } finally {
      await w.close();
    }
  });

  it('a key file whose key the consortium does not know is refused with an alert, and nothing leaks', async () => {
    const w = await WatchedPage.open(stack.browser, base, 'wrong-key');
    try {
      const { page } = w;
      // org1's name with org2's private key (and no public key to give it away in the browser): the signature
      // cannot verify against org1's registered key, so the identity service refuses it.
      const forged = join(dataDir, 'forged.key.json');
      writeFileSync(forged, JSON.stringify({ organizationId: 'org1', algorithm: 'ed25519', privateKey: privateKeyOf('org2') }));
      await w.step('sign-in page', async () => {
        await page.goto('/');
        await visible(page.getByRole('heading', { name: 'Sign in' }));
      });
      const refused = w.expectFailure({ method: 'POST', path: /^\/identity\/v1\/auth\/(challenges|tokens)$/, status: 401 });
      await w.step('refused', async () => {
        await chooseKeyFile(page, forged, 'org1');
        await page.getByRole('button', { name: 'Sign in' }).click();
        const alert = await visible(page.getByRole('alert').filter({ hasText: /\S/ }), 60_000);
        expect((await alert.textContent())?.trim().length).toBeGreaterThan(0);
        expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
      });
      refused();
      assertClean(w, privateKeyOf('org2'));
    } finally {
      await w.close();
    }
  });
});
