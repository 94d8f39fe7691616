// Issue 6, warehouse receipts: "a sensor alarm or a stock shortfall freezes the receipt and notifies the
// lender". The warehouse (org1) runs provenance and finance on one database; the depositor (org2) pledged
// the receipt to its bank (org3). A shipment the warehouse captures drops its stock of the lot below what
// the receipt covers: org1's finance service holds the receipt (stock-shortfall); the bank releases it.
// Then a cold-chain breach on the lot's GTIN: held again (sensor-alarm). Real ledger, PostgreSQL, provenance.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatTimestamp, generateKeyPair, keyId, signTelemetryReading, type TelemetryReading, toHex } from '@alliance/protocol';
import type { RunningService } from '@alliance/shared/feature-platform';
import { call, FinanceTestChain, member, until } from '../test/harness';

const run = Date.now().toString(36).toUpperCase();
const GTIN = 'https://id.gs1.org/01/09506000134352';
const LOT = `${GTIN}/10/L${run}`;
const RECEIPT = `wr-${run}`;
const PLEDGE = `fin-wr-${run}`;
const DEVICE = `urn:epc:id:giai:0614141.COLD-${run}`;

interface ReceiptRecord {
  status: string;
  hold: { cause: string; reference: string; by: string } | null;
  encumbrance: { financier: string } | null;
}

describe('warehouse receipt holds from provenance: a stock shortfall and a sensor alarm hold the pledged receipt; the lender releases it', () => {
  const chain = new FinanceTestChain('finance-holds', [member('org1', 'warehouse'), member('org2', 'supplier'), member('org3', 'financier')]);
  let provenance: RunningService;
  let token: string;
  const fin = (org: string) => chain.service(org);
  const prov = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    call(`${provenance.url}/provenance/v1${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), token, headers: { 'content-type': 'application/json', ...headers } });
  const receipt = async () => {
    const r = await fin('org3').send('GET', `/warehouse-receipts/${RECEIPT}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as unknown as ReceiptRecord;
  };
  const heldBy = (cause: string) =>
    until(`the receipt held (${cause})`, async () => {
      const r = await receipt();
      return r.status === 'held' && r.hold?.cause === cause ? r : undefined;
    }, 30_000);

  const capture = async (events: unknown[]) => (await chain.capture(provenance, chain.members[0], events)).eventIds;
  const quantityEvent = (bizStep: string, quantity: number, minutesAgo: number) => ({
    type: 'ObjectEvent',
    eventTime: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    eventTimeZoneOffset: '+00:00',
    action: 'OBSERVE',
    bizStep,
    quantityList: [{ epcClass: LOT, quantity, uom: 'KGM' }],
    readPoint: { id: 'urn:epc:id:sgln:4012345.00002.0' },
  });
  const stock = async () => {
    const r = await prov('GET', `/stock?item=${encodeURIComponent(LOT)}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return (r.body['levels'] as Array<{ organizationId: string; uom: string | null; onHand: string }>).map(({ organizationId, uom, onHand }) => ({ organizationId, uom, onHand }));
  };

  beforeAll(async () => {
    await chain.startAll(inject('databaseUrl'), 'finance_holds', ['org1', 'org2', 'org3']);
    // The warehouse's provenance service, on the database of its finance service (one member, one PostgreSQL).
    provenance = await chain.startProvenance('org1');
    token = (await chain.signIn('org1', chain.members[0].admin)).accessToken;
  }, 180_000);
  afterAll(() => chain.stop());

  let receiving: string;

  it('the depositor hands its lot to the warehouse, which receives 1000 KGM: provenance derives the stock on hand', async () => {
    const [org1, org2] = chain.members;
    await chain.submit(chain.signed(org2, 'provenance.item.register', { item: LOT }));
    await chain.submit(chain.signed(org2, 'provenance.transfer.propose', { transferId: `tr-${run}`, item: LOT, kind: 'custody', to: 'org1' }));
    await chain.submit(chain.signed(org1, 'provenance.transfer.answer', { transferId: `tr-${run}`, decision: 'accept' }));
    [receiving] = await capture([quantityEvent('receiving', 1000, 30)]);
    const levels = await until('the stock at the warehouse', async () => {
      const l = await stock();
      return l.some((x) => x.organizationId === 'org1' && x.onHand === '1000') ? l : undefined;
    });
    // The transfer's events state no quantity (they add nothing); the warehouse holds what it counted in.
    expect(levels).toEqual([{ organizationId: 'org1', uom: 'KGM', onHand: '1000' }]);
    const bad = await prov('GET', '/stock?item=not-a-key');
    expect(bad.status).toBe(400);
    expect(bad.body['code']).toMatch(/^PROVENANCE\./);
    expect((await prov('GET', '/stock')).body['code']).toBe('PROVENANCE.INVALID_QUERY');
  });

  it('the warehouse issues a receipt for 800 KGM (not for more than provenance shows on hand); the depositor pledges it to its bank', async () => {
    const issue = (receiptId: string, quantity: string, onHand: string) =>
      fin('org1').send('POST', '/warehouse-receipts', {
        receiptId,
        holder: 'org2',
        goods: { item: LOT, quantity, uom: 'KGM' },
        evidence: [receiving],
        currency: 'EUR',
        value: '4000000',
        onHand,
        expiresOn: new Date(Date.now() + 200 * 86_400_000).toISOString().slice(0, 10),
      });
    // The level reaches the finance service as provenance.stock.changed.v1.
    await until('the stock signal in the warehouse’s finance service', async () => {
      const { rowCount } = await fin('org1').service.runtime.pool.query(`SELECT 1 FROM finance.goods_signals WHERE kind = 'stock' AND item = $1 AND organization_id = 'org1' AND on_hand = 1000`, [LOT]);
      return rowCount ? true : undefined;
    });
    for (const [quantity, onHand] of [
      ['1200', '1200'],
      ['800', '1500'],
    ]) {
      const over = await issue(`${RECEIPT}-x`, quantity, onHand);
      expect(over.status, JSON.stringify(over.body)).toBe(409);
      expect(over.body).toMatchObject({ code: 'FINANCE.ON_HAND_NOT_CONFIRMED', details: { onHand: '1000', uom: 'KGM' } });
    }
    const { rowCount: signed } = await fin('org1').service.runtime.pool.query(`SELECT 1 FROM finance.commands WHERE record_key = $1`, [`finance/warehouse-receipt/${RECEIPT}-x`]);
    expect(signed).toBe(0);
    const issued = await issue(RECEIPT, '800', '1000');
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    const applied = await fin('org2').send('POST', '/financings', { financingId: PLEDGE, assetKind: 'warehouse-receipt', assetId: RECEIPT, financier: 'org3', kind: 'pledge', principal: '2000000' });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    const approved = await fin('org3').send('POST', `/financings/${PLEDGE}/approve`, { rateBps: 500, dayCount: 'ACT/365F', feeMinor: '0' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(await receipt()).toMatchObject({ status: 'active', hold: null, encumbrance: { financier: 'org3' } });
  });

  it('a shipment of 300 KGM leaves 700 on hand, less than the 800 receipted: the warehouse’s finance service holds the receipt and the lender hears of it', async () => {
    await capture([quantityEvent('shipping', 300, 10)]);
    const held = await heldBy('stock-shortfall');
    expect(held.hold).toMatchObject({ by: 'org1', reference: expect.stringMatching(/^stock:700 KGM < 800@ni:\/\/\/sha-256;/) });
    expect(await stock()).toContainEqual({ organizationId: 'org1', uom: 'KGM', onHand: '700' });
    // The notification: the receipt's change event, from the warehouse's finance read model.
    const { rows } = await fin('org1').service.runtime.pool.query<{ status: string }>(
      `SELECT envelope->'payload'->>'status' AS status FROM finance.outbox WHERE topic = 'finance.warehouse-receipt.changed.v1' AND envelope->'payload'->>'id' = $1 ORDER BY id`,
      [RECEIPT],
    );
    expect(rows.map((r) => r.status)).toEqual(['active', 'active', 'held']);
    // Held goods are not delivered, split or financed again.
    const split = await fin('org2').send('POST', `/warehouse-receipts/${RECEIPT}/split`, { parts: [{ receiptId: `${RECEIPT}-a`, quantity: '400', value: '2000000' }, { receiptId: `${RECEIPT}-b`, quantity: '400', value: '2000000' }] });
    expect(split.status).toBe(409);
    expect(split.body['code']).toBe('FINANCE.RECEIPT_HELD');
  });

  it('only the lender releases the hold of a pledged receipt; the same count does not hold it again', async () => {
    const byWarehouse = await fin('org1').send('POST', `/warehouse-receipts/${RECEIPT}/release-hold`, {});
    expect(byWarehouse.status).toBe(409);
    expect(byWarehouse.body['code']).toBe('FINANCE.NOT_LENDER');
    const released = await fin('org3').send('POST', `/warehouse-receipts/${RECEIPT}/release-hold`, {});
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    // Several sweeps later (2 s each) it is still active: a signal holds a receipt once.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await receipt()).toMatchObject({ status: 'active', hold: null });
  });

  it('a cold-chain breach on the lot’s GTIN holds the receipt again (sensor-alarm, the alert as reference)', async () => {
    const device = generateKeyPair('ed25519');
    await chain.submit(chain.signed(chain.members[0], 'identity.device.register', { deviceId: DEVICE, model: 'TH-100', key: { algorithm: 'ed25519', publicKey: toHex(device.publicKey) }, assets: [], locations: [] }));
    const rule = await prov('POST', '/sensors/rules', { ruleId: `cold-${run}`, subject: GTIN, measurementType: 'Temperature', uom: 'CEL', max: '8', durationSeconds: 0 });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const at = formatTimestamp(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const reading = signTelemetryReading({ deviceId: DEVICE, organizationId: 'org1', keyId: keyId('ed25519', device.publicKey), observedAt: at, readings: [{ type: 'Temperature', value: '12.5', uom: 'CEL' }] } as TelemetryReading, device);
    const batch = await prov('POST', '/sensors/readings', { batchId: `b-${run}`, subject: GTIN, readings: [reading] });
    expect(batch.status, JSON.stringify(batch.body)).toBe(201);
    const alerts = batch.body['alerts'] as Array<{ alertId: string }>;
    expect(alerts).toHaveLength(1);
    const held = await heldBy('sensor-alarm');
    expect(held.hold).toMatchObject({ by: 'org1', reference: `alert:${alerts[0].alertId}` });
  });
});
