import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fromHex } from '@alliance/protocol';
import { signIn as sdkSignIn } from '@alliance/sdk';
import { dashboardStack, WatchedPage } from './browser';
import { waitFor } from './support';

// The Trace page in a real browser (Debian's Chromium, headless, driven by playwright-core) against `npm start`:
// org1 captures a small story through the gateway as a member's connector would, then traces its SSCC.
const stack = dashboardStack('dashboard-trace', 3710, 54398);
const { base, keyFile } = stack;
const keyOf = (org: string) => JSON.parse(readFileSync(keyFile(org), 'utf8')) as { organizationId: string; privateKey: string };

async function visible(locator: Locator, timeout = 30_000): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

async function loaded(page: Page, timeout = 30_000): Promise<void> {
  await page.getByRole('status').filter({ hasText: 'Loading…' }).first().waitFor({ state: 'hidden', timeout });
}

const stamp = Date.now() % 1_000_000;
const sgtin = (n: number) => `urn:epc:id:sgtin:0614141.107346.T${stamp}-${n}`;
const sscc = `urn:epc:id:sscc:0614141.${String(1_000_000_000 + stamp).slice(0, 10)}`;
// The trace names items in their canonical GS1 Digital Link form.
const sgtinLink = (n: number) => new RegExp(`^https://id\\.gs1\\.org/01/\\d{14}/21/T${stamp}-${n}$`);
const ssccLink = /^https:\/\/id\.gs1\.org\/00\/\d{18}$/;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

/** Captures EPCIS events through the gateway as org1 (REST, signed in with its demo key) and waits for the capture job. */
async function capture(events: unknown[]): Promise<string[]> {
  const key = keyOf('org1');
  const session = await sdkSignIn(base, { organizationId: 'org1', algorithm: 'ed25519', privateKey: fromHex(key.privateKey) });
  const document = { '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList: events } };
  const res = await fetch(`${base}/provenance/v1/epcis/capture`, {
    method: 'POST',
    headers: { 'content-type': 'application/ld+json', authorization: await session.authorizationHeader() },
    body: JSON.stringify(document),
  });
  const accepted = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(accepted)).toBe(202);
  const job = await waitFor(
    'the capture job',
    async () => {
      const r = await fetch(`${base}/provenance/v1/epcis/capture/${String(accepted['captureID'])}`, { headers: { authorization: await session.authorizationHeader() } });
      const body = (await r.json()) as Record<string, unknown>;
      return body['running'] === false ? body : undefined;
    },
    60_000,
    250,
  );
  expect(job).toMatchObject({ success: true, errors: [] });
  return job['eventIDs'] as string[];
}

describe('Trace page in Chromium (npm start)', () => {
  it('a member traces the SSCC it captured: the lineage graph, its Lineage list, a node’s details, the events and the sensor readings', async () => {
    const eventIDs = await capture([
      { type: 'ObjectEvent', eventTime: minutesAgo(60), eventTimeZoneOffset: '+00:00', action: 'ADD', epcList: [sgtin(1), sgtin(2)], bizStep: 'commissioning', disposition: 'active', readPoint: { id: 'urn:epc:id:sgln:0614141.00001.0' } },
      { type: 'AggregationEvent', eventTime: minutesAgo(50), eventTimeZoneOffset: '+00:00', action: 'ADD', parentID: sscc, childEPCs: [sgtin(1), sgtin(2)], bizStep: 'packing', disposition: 'in_progress' },
      {
        type: 'ObjectEvent',
        eventTime: minutesAgo(40),
        eventTimeZoneOffset: '+00:00',
        action: 'OBSERVE',
        epcList: [sscc],
        bizStep: 'shipping',
        disposition: 'in_transit',
        bizLocation: { id: 'urn:epc:id:sgln:0614141.00002.0' },
        sensorElementList: [
          {
            sensorMetadata: { time: minutesAgo(40) },
            sensorReport: [
              { type: 'gs1:MT-Temperature', value: 4.5, uom: 'CEL', time: minutesAgo(45) },
              { type: 'gs1:MT-Temperature', value: 5.25, uom: 'CEL', time: minutesAgo(43) },
              { type: 'gs1:MT-Temperature', value: 6, uom: 'CEL', time: minutesAgo(41) },
            ],
          },
        ],
      },
    ]);
    expect(eventIDs).toHaveLength(3);

    const w = await WatchedPage.open(stack.browser, base, 'member-trace');
    try {
      const { page } = w;
      await w.step('signed in as org1', async () => {
        await page.goto('/');
        await visible(page.getByRole('heading', { name: 'Sign in' }));
        await page.getByLabel('Key file').setInputFiles(keyFile('org1'));
        await visible(page.locator('form').getByText('org1', { exact: true }));
        await page.getByRole('button', { name: 'Sign in' }).click();
        await visible(page.getByRole('navigation', { name: 'Main' }), 60_000);
      });
      await w.step('trace page', async () => {
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trace', exact: true }).click();
        await page.waitForURL('**/trace');
        await visible(page.getByRole('heading', { name: 'Trace', exact: true }));
        await visible(page.getByLabel('Item'));
      });
      await w.step('empty search refused', async () => {
        await page.getByRole('button', { name: 'Trace', exact: true }).click();
        await visible(page.getByRole('alert').filter({ hasText: 'Enter an EPC' }));
      });
      const lineage = await w.step('sscc traced', async () => {
        await page.getByLabel('Item').fill(sscc);
        await page.getByRole('button', { name: 'Trace', exact: true }).click();
        await loaded(page);
        expect(await page.getByRole('alert').count()).toBe(0);
        const graph = await visible(page.getByRole('application', { name: /Lineage graph/ }));
        // Cytoscape drew on its canvases inside the container.
        await visible(graph.locator('canvas').first());
        expect(await graph.locator('canvas').count()).toBeGreaterThan(0);
        const list = await visible(page.getByRole('list', { name: 'Lineage', exact: true }));
        for (const id of [ssccLink, sgtinLink(1), sgtinLink(2)]) await visible(list.getByRole('button', { name: id }));
        expect(await list.getByRole('button').count()).toBeGreaterThanOrEqual(2);
        const events = await visible(page.getByRole('table', { name: 'Events', exact: true }));
        for (const step of ['packing', 'shipping']) await visible(events.getByRole('row').filter({ hasText: step }).first());
        await visible(page.getByRole('img', { name: /MT-Temperature \(CEL\): 3 readings/ }));
        return list;
      });
      await w.step('node opened', async () => {
        const button = lineage.getByRole('button', { name: sgtinLink(1) });
        const id = (await button.textContent()) ?? '';
        await button.click();
        expect(await button.getAttribute('aria-pressed')).toBe('true');
        await visible(page.getByRole('heading', { name: id, exact: true }));
        const own = await visible(page.getByRole('table', { name: `Events of ${id}` }));
        await loaded(page);
        for (const step of ['commissioning', 'packing']) await visible(own.getByRole('row').filter({ hasText: step }).first());
      });
      await w.step('graph keyboard selection', async () => {
        // The graph is one focusable region: End selects the last item by depth (the searched SSCC), Home the first.
        await page.getByRole('application', { name: /Lineage graph/ }).focus();
        await page.keyboard.press('End');
        const sscc = lineage.getByRole('button', { name: ssccLink });
        await visible(lineage.locator('button[aria-pressed="true"]').filter({ hasText: ssccLink }));
        await visible(page.getByRole('heading', { name: (await sscc.textContent()) ?? '', exact: true }));
        expect(await page.getByRole('application', { name: /selected https:\/\/id\.gs1\.org\/00\// }).count()).toBe(1);
        await page.keyboard.press('Home');
        await visible(lineage.locator('button[aria-pressed="true"]').filter({ hasText: /\/01\// }));
      });
      expect(w.problems, 'console errors, page errors and failed requests').toEqual([]);
      const privateKey = keyOf('org1').privateKey.toLowerCase();
      expect(w.sent.filter((s) => s.toLowerCase().includes(privateKey)), 'requests carrying the private key').toEqual([]);
    } finally {
      await w.close();
    }
  });
});
