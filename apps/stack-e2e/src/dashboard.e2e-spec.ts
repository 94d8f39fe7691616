import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardStack, WatchedPage } from './browser';
import { assertClean, chooseKeyFile, memberSeesItsBlockLive, privateKeyOf, regulatorVerifiesTheChain, visible } from './dashboard-walks';

// The dashboard in a real browser (Debian's Chromium, headless, driven by playwright-core) against `npm start`;
// the same walks run against `npm run stack -- up` in stack.e2e-spec.ts.
const stack = dashboardStack('dashboard', 3700, 54397);
const { base, dataDir } = stack;
const target = () => ({ browser: stack.browser, base, dataDir, name: '' });

describe('dashboard in Chromium (npm start)', () => {
  it('a member signs in with its key file, sees its transaction’s block arrive live, opens it to a verified receipt and signs out', () => memberSeesItsBlockLive(target()));

  it('the regulator signs in, runs a whole-chain verification on the Audit page and watches it to its verdict', () => regulatorVerifiesTheChain(target()));

  it('a key file whose key the consortium does not know is refused with an alert, and nothing leaks', async () => {
    const w = await WatchedPage.open(stack.browser, base, 'wrong-key');
    try {
      const { page } = w;
      // org1's name with org2's private key (and no public key to give it away in the browser): the signature
      // cannot verify against org1's registered key, so the identity service refuses it.
      const forged = join(dataDir, 'forged.key.json');
      writeFileSync(forged, JSON.stringify({ organizationId: 'org1', algorithm: 'ed25519', privateKey: privateKeyOf(dataDir, 'org2') }));
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
      assertClean(w, privateKeyOf(dataDir, 'org2'));
    } finally {
      await w.close();
    }
  });
});
