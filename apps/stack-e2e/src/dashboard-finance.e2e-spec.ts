import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { type Envelope, formatTimestamp, type JsonObject, fromHex, keyId, signTransaction, verifyReceipt, type Receipt } from '@alliance/protocol';
import { issuerKeysOf, signIn as sdkSignIn, trustFromGenesis, verifyEvidence } from '@alliance/sdk';
import { dashboardStack, WatchedPage } from './browser';
import { waitFor } from './support';

// The Finance page in a real browser against `npm start`: org1 issues a receivable to org2 through the gateway's
// REST, org3 grants org2 a credit line and org2 confirms on it (each signing with its own demo key), org1 splits
// it in two, and the page opens the receivable's certificate tree as an ARIA tree the keyboard walks.
const stack = dashboardStack('dashboard-finance', 3720, 54399);
const { base, dataDir, keyFile } = stack;
const demoKey = (org: string) => JSON.parse(readFileSync(keyFile(org), 'utf8')) as { publicKey: string; privateKey: string };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const run = Date.now().toString(36);
const ROOT = `rcv-${run}`;
const PART_A = `${ROOT}-a`;
const PART_B = `${ROOT}-b`;
const LINE = `line-${run}`;
const FINANCING = `fin-${run}`;
const DUE = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);

async function visible(locator: Locator, timeout = 30_000): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

async function loaded(page: Page, timeout = 30_000): Promise<void> {
  await page.getByRole('status').filter({ hasText: 'Loading…' }).first().waitFor({ state: 'hidden', timeout });
}

/** Whether `item` is the element that has the keyboard focus (compared by the label it points at). */
async function isFocused(page: Page, item: Locator): Promise<boolean> {
  const focused = page.locator('[role="treeitem"]:focus');
  if ((await focused.count()) !== 1) return false;
  return (await focused.getAttribute('aria-labelledby')) === (await item.getAttribute('aria-labelledby'));
}

/** A finance command of `org` through the gateway's REST, signed by the finance service (org1's in `npm start`). */
async function rest(token: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/finance/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * A finance transaction signed with `org`'s own demo key and submitted to the ledger through the gateway, as that
 * organization's ERP connector would: `npm start` runs one finance service, which signs for org1 only.
 */
async function signedBy(org: string, type: string, payload: JsonObject): Promise<void> {
  const key = demoKey(org);
  const envelope: Envelope = signTransaction(
    { chainId: 'alliance-demo', type, creator: { organizationId: org, keyId: keyId('ed25519', fromHex(key.publicKey)) }, nonce: `finance-e2e-${run}-${type.replace(/[^A-Za-z0-9]/g, "-")}`, timestamp: formatTimestamp(Date.now()), payload },
    { algorithm: 'ed25519', privateKey: fromHex(key.privateKey) },
  );
  const res = await fetch(`${base}/ledger/v1/transactions?wait=commit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope), signal: AbortSignal.timeout(60_000) });
  const body = (await res.json()) as { code: string; receipt: Receipt };
  expect(res.status, `${org} ${type}: ${JSON.stringify(body)}`).toBe(200);
  expect(body.code, `${org} ${type}: ${JSON.stringify(body)}`).toBe('VALID');
  expect(verifyReceipt(body.receipt).ok).toBe(true);
}

async function receivable(token: string, id: string): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(`${base}/finance/v1/receivables/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${token}` } });
  return res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
}

describe('dashboard Finance page in Chromium (npm start)', () => {
  it('org1 issues, org2 confirms, org1 splits; the Finance page opens the certificate tree as an ARIA tree the keyboard walks', async () => {
    const org1 = await sdkSignIn(base, { organizationId: 'org1', algorithm: 'ed25519', privateKey: fromHex(demoKey('org1').privateKey) });
    const token = await org1.accessToken();
    const issued = await rest(token, '/receivables', { receivableId: ROOT, debtor: 'org2', currency: 'EUR', faceValue: '100000', dueDate: DUE, documents: [{ docType: 'invoice', hash: sha256(`invoice ${ROOT}`), amount: '100000' }] });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    expect(issued.body['status']).toBe('committed');
    await signedBy('org3', 'finance.credit-line.grant', { creditLineId: LINE, debtor: 'org2', currency: 'EUR', limit: '150000' });
    await signedBy('org2', 'finance.receivable.confirm', { receivableId: ROOT, creditLineId: LINE });
    await waitFor('org1’s finance read model to see the confirmation', async () => ((await receivable(token, ROOT))?.['status'] === 'confirmed' ? true : undefined), 60_000, 250);
    const split = await rest(token, `/receivables/${ROOT}/split`, { parts: [{ receivableId: PART_A, faceValue: '60050', holder: 'org1' }, { receivableId: PART_B, faceValue: '39950', holder: 'org3' }] });
    expect(split.status, JSON.stringify(split.body)).toBe(200);
    await waitFor('the split in the read model', async () => ((await receivable(token, PART_B))?.['holder'] === 'org3' ? true : undefined), 60_000, 250);
    const applied = await rest(token, '/financings', { financingId: FINANCING, assetKind: 'receivable', assetId: PART_A, financier: 'org3', kind: 'discounting' });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);

    const w = await WatchedPage.open(stack.browser, base, 'finance-tree');
    try {
      const { page } = w;
      await w.step('sign-in page', async () => {
        await page.goto('/');
        await visible(page.getByRole('heading', { name: 'Sign in' }));
      });
      await w.step('signed in as org1', async () => {
        await page.getByLabel('Key file').setInputFiles(keyFile('org1'));
        await visible(page.locator('form').getByText('org1', { exact: true }));
        await page.getByRole('button', { name: 'Sign in' }).click();
        await visible(page.getByRole('navigation', { name: 'Main' }), 60_000);
      });
      await w.step('finance page', async () => {
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Finance', exact: true }).click();
        await page.waitForURL('**/finance');
        await visible(page.getByRole('heading', { name: 'Finance', exact: true }));
        await loaded(page);
        // org1 holds the 600.50 part; the split root left its live positions.
        const held = await visible(page.getByRole('table', { name: 'Receivables held' }));
        await visible(held.getByRole('row').filter({ hasText: 'EUR' }).getByText('600.50', { exact: true }));
        await visible(page.getByRole('list', { name: 'Receivables' }).getByRole('listitem').filter({ hasText: ROOT }).first());
        await visible(page.getByRole('img', { name: /Outstanding per debtor: org2 \(\d+\) EUR / }));
        const pipeline = await visible(page.getByRole('list', { name: 'Financings by status' }));
        await visible(pipeline.getByRole('heading', { name: 'applied (1)' }));
        await visible(pipeline.getByText(new RegExp(`${FINANCING}: discounting of receivable ${PART_A}, EUR 600.50`)));
        expect(await page.getByRole('alert').count()).toBe(0);
      });
      const tree = await w.step('certificate tree opened', async () => {
        const button = page.getByRole('button', { name: `Certificate tree of ${ROOT}`, exact: true });
        await button.click();
        expect(await button.getAttribute('aria-expanded')).toBe('true');
        const t = await visible(page.getByRole('tree', { name: `Certificate tree of ${ROOT}` }));
        await loaded(page);
        const rootItem = t.getByRole('treeitem', { name: new RegExp(`^${ROOT} — holder org1, EUR 1,000.00, split, unlocked, not frozen$`) });
        await visible(rootItem);
        expect(await rootItem.getAttribute('aria-level')).toBe('1');
        expect(await rootItem.getAttribute('aria-expanded')).toBe('true');
        const a = t.getByRole('treeitem', { name: new RegExp(`^${PART_A} — holder org1, EUR 600.50, confirmed, unlocked, not frozen$`) });
        const b = t.getByRole('treeitem', { name: new RegExp(`^${PART_B} — holder org3, EUR 399.50, confirmed, unlocked, not frozen$`) });
        for (const child of [a, b]) {
          await visible(child);
          expect(await child.getAttribute('aria-level')).toBe('2');
          expect(await child.getAttribute('aria-expanded')).toBeNull();
        }
        expect(await t.getByRole('treeitem').count()).toBe(3);
        return { t, rootItem, a, b };
      });
      await w.step('tree walked with the keyboard', async () => {
        const { t, rootItem, a, b } = tree;
        await rootItem.focus();
        await page.keyboard.press('ArrowDown');
        expect(await isFocused(page, a)).toBe(true);
        await page.keyboard.press('End');
        expect(await isFocused(page, b)).toBe(true);
        expect(await b.getAttribute('tabindex')).toBe('0');
        expect(await a.getAttribute('tabindex')).toBe('-1');
        await page.keyboard.press('ArrowLeft');
        expect(await isFocused(page, rootItem)).toBe(true);
        await page.keyboard.press('ArrowLeft');
        expect(await rootItem.getAttribute('aria-expanded')).toBe('false');
        expect(await t.getByRole('treeitem').count()).toBe(1);
        await page.keyboard.press('ArrowRight');
        expect(await rootItem.getAttribute('aria-expanded')).toBe('true');
        expect(await t.getByRole('treeitem').count()).toBe(3);
      });
      await w.step('signed out', async () => {
        await page.getByRole('button', { name: 'Sign out' }).click();
        await visible(page.getByRole('heading', { name: 'Sign in' }));
      });
      expect(w.problems, 'console errors, page errors and failed requests').toEqual([]);
      const privateKey = demoKey('org1').privateKey.toLowerCase();
      expect(w.sent.filter((s) => s.toLowerCase().includes(privateKey)), 'requests carrying the private key').toEqual([]);
    } finally {
      await w.close();
    }
  });

  it('the regulator sees the alerts (a new one live) and the access log on the Audit page, and exports a receivable’s evidence that verifies offline', async () => {
    const w = await WatchedPage.open(stack.browser, base, 'regulator-audit-tables');
    try {
      const { page } = w;
      await w.step('signed in as regulator', async () => {
        await page.goto('/');
        await page.getByLabel('Key file').setInputFiles(keyFile('regulator'));
        await visible(page.locator('form').getByText('regulator', { exact: true }));
        await page.getByRole('button', { name: 'Sign in' }).click();
        await visible(page.getByRole('navigation', { name: 'Main' }), 60_000);
      });
      await w.step('audit page with alerts and access log', async () => {
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit', exact: true }).click();
        await page.waitForURL('**/audit');
        await visible(page.getByRole('button', { name: 'Verify chain' }));
        await visible(page.getByRole('heading', { name: 'Alerts', exact: true }));
        await visible(page.getByRole('heading', { name: 'Access log', exact: true }));
        await loaded(page);
        // Whatever else is in the log, the page's own auditAlerts query is in it, by the regulator: open the page again.
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Network', exact: true }).click();
        await visible(page.getByRole('heading', { name: 'Network', exact: true }));
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit', exact: true }).click();
        await visible(page.getByRole('heading', { name: 'Access log', exact: true }));
        await loaded(page);
        const log = await visible(page.getByRole('table', { name: 'Access log' }));
        await visible(log.getByRole('row').filter({ hasText: 'regulator' }).filter({ hasText: /auditAlerts|alerts/ }).first());
        expect(await page.getByRole('alert').count()).toBe(0);
      });
      await w.step('a freeze raises an alert that arrives live', async () => {
        await visible(page.getByText('Live: alerts appear here as they are raised.'));
        // The regulator (an observer) freezes the part org3 holds, signed with its own key: the audit derives an
        // asset-frozen alert from the block, and the open page receives it over the subscription, without a reload.
        await signedBy('regulator', 'finance.asset.freeze', { assetKind: 'receivable', assetId: PART_B, reason: `court order ${run}` });
        const alerts = await visible(page.getByRole('table', { name: 'Alerts' }), 60_000);
        const row = await visible(alerts.getByRole('row').filter({ hasText: 'asset-frozen' }).filter({ hasText: `finance/receivable/${PART_B}` }), 60_000);
        await visible(row.getByText(`court order ${run}`, { exact: false }));
      });
      await w.step('evidence of a receivable exported and saved', async () => {
        const form = page.getByRole('region', { name: 'Evidence export' });
        await form.getByRole('radio', { name: 'Receivable tree' }).check();
        await form.getByLabel('Receivable id').fill(PART_A);
        const download = page.waitForEvent('download', { timeout: 60_000 });
        await form.getByRole('button', { name: 'Export evidence' }).click();
        const file = await download;
        expect(file.suggestedFilename()).toBe(`evidence-receivable-${PART_A}.json`);
        const saved = await visible(page.getByRole('status', { name: 'Evidence saved' }), 60_000);
        const bytes = readFileSync(await file.path());
        // The saved file verifies offline against the consortium's genesis and the regulator's key, as `alliance verify evidence` does.
        const genesis = JSON.parse(readFileSync(join(dataDir, 'genesis.json'), 'utf8')) as unknown;
        const verdict = verifyEvidence(new Uint8Array(bytes), { trust: trustFromGenesis(genesis), issuerKeys: issuerKeysOf(genesis) });
        expect(verdict).toMatchObject({ ok: true, issuerPinned: true, membersPinned: true, case: { kind: 'receivable', subject: PART_A } });
        expect(await saved.textContent()).toContain(`${verdict.ok ? verdict.records : -1} records`);
      });
      await w.step('a receivable that does not exist is refused with its code', async () => {
        const form = page.getByRole('region', { name: 'Evidence export' });
        await form.getByLabel('Receivable id').fill(`no-such-${run}`);
        await form.getByRole('button', { name: 'Export evidence' }).click();
        await visible(form.getByRole('alert').filter({ hasText: /AUDIT\.|FINANCE\./ }), 60_000);
      });
      expect(w.problems, 'console errors, page errors and failed requests').toEqual([]);
    } finally {
      await w.close();
    }
  });
});
