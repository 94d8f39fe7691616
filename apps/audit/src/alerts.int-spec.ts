// Issue 7, item 5: "sensor breaches, refused double-financing attempts, frozen assets, recalls, membership
// changes, verification failures — live through a GraphQL subscription and as a filterable list". Real events
// on a real chain: a second receivable on the same invoice and a second bank approving a financed receivable
// (both refused by the contract), the regulator freezing and unfreezing a receivable through its finance
// service, a cold-chain breach and a recall captured in provenance, and the genesis members. The regulator's
// audit reads the blocks of its observer node (AUDIT_LEDGER_URL) and consumes its own database's transport
// (MESSAGING=postgres: the regulator's finance and provenance events; the sensor breach comes from there).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { formatTimestamp, generateKeyPair, keyId, signTelemetryReading, type TelemetryReading, toHex } from '@alliance/protocol';
import { LedgerBlockSource } from '@alliance/shared/data-access-messaging';
import type { RunningService } from '@alliance/shared/feature-platform';
import { alertsOfBlock } from './alerts-derive';
import { AlertStore } from './alerts-store';
import { AuditTestChain, call, member, REGULATOR, until } from '../test/harness';

const run = Date.now().toString(36).toUpperCase();
const id = (name: string) => `${name}-${run}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const utcDate = (daysFromNow: number) => new Date(Date.now() + daysFromNow * 86_400_000).toISOString().slice(0, 10);
const R1 = id('rcv-a');
const R2 = id('rcv-twice');
const LINE = id('line');
const F3 = id('fin-3');
const F4 = id('fin-4');
const INVOICE = sha256(`invoice ${run}`);
const GTIN = 'https://id.gs1.org/01/09506000134352';
const RECALLED = `${GTIN}/21/RC${run}`;
const DEVICE = `urn:epc:id:giai:0614141.AUDIT-${run}`;

interface Alert {
  seq: number;
  alertId: string;
  kind: string;
  severity: string;
  subject: string;
  organizationId: string | null;
  blockNumber: number | null;
  transactionId: string | null;
  summary: string;
  detail: Record<string, unknown>;
  occurredAt: string;
}

describe('alerts: raised from the chain and the services’ events, listed with filters, delivered live', () => {
  const chain = new AuditTestChain('audit-alerts', [member('org1', 'supplier'), member('org2', 'manufacturer'), member('org3', 'financier'), member('org4', 'financier')], [member(REGULATOR, 'regulator')]);
  const fin = (org: string) => chain.service(org);
  let provenance: RunningService;
  const prov = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    call(`${provenance.url}/provenance/v1${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), token: await chain.tokenOf(chain.members[0]), headers: { 'content-type': 'application/json', ...headers } });
  const alerts = async (query: string) => {
    const r = await chain.auditCall('GET', `/alerts${query}`);
    expect(r.status, r.text).toBe(200);
    return r.body as unknown as { items: Alert[]; next: number | null };
  };
  const refusedTx = async (org: string, method: string, path: string, body: unknown, code: string) => {
    const r = await fin(org).send(method, path, body);
    expect([r.status, r.body['code']], JSON.stringify(r.body)).toEqual([409, code]);
    return (r.body['details'] as { transactionId: string }).transactionId;
  };
  const ok = async (org: string, method: string, path: string, body: unknown, status = 200) => {
    const r = await fin(org).send(method, path, body);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    return r.body as { transactionId: string; blockNumber: number; record: Record<string, unknown> };
  };

  // The subscription, open before anything happens: replays from seq 0, then live.
  const live: Alert[] = [];
  const liveErrors: unknown[] = [];
  let closeLive: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    await chain.startAudit(inject('databaseUrl'), 'audit_alerts', ['org1', 'org2', 'org3', 'org4']);
    provenance = await chain.startProvenance('org1');
    const token = await chain.tokenOf(chain.regulator);
    const client = createClient({
      url: `${chain.audit.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: class extends WebSocket {
        constructor(address: string | URL, protocols?: string | string[]) {
          super(address, protocols, { headers: { authorization: `Bearer ${token}` } });
        }
      },
      retryAttempts: 0,
    });
    const unsubscribe = client.subscribe<{ auditAlertRaised: Alert & { detail: string } }>(
      {
        query: 'subscription($kinds: [String!], $after: Int) { auditAlertRaised(kinds: $kinds, after: $after) { seq alertId kind severity subject organizationId blockNumber transactionId summary detail occurredAt } }',
        variables: { kinds: ['double-financing-refused', 'asset-frozen', 'sensor-breach', 'recall'], after: 0 },
      },
      {
        next: (r) => (r.data ? live.push({ ...r.data.auditAlertRaised, detail: JSON.parse(r.data.auditAlertRaised.detail) as Record<string, unknown> }) : liveErrors.push(r.errors)),
        error: (e) => liveErrors.push(e instanceof Error ? e.message : String((e as { reason?: unknown }).reason ?? e)),
        complete: () => undefined,
      },
    );
    closeLive = async () => {
      unsubscribe();
      await client.dispose();
    };
  }, 240_000);
  afterAll(async () => {
    await closeLive?.();
    await chain.stop();
  });

  let overcommitted: string;
  let encumbered: string;
  let frozenTx: { transactionId: string; blockNumber: number };
  let unfrozenTx: string;

  it('a second receivable on the same invoice and a second bank’s approval are refused by the contract: two double-financing alerts', async () => {
    const documents = [{ docType: 'invoice', hash: INVOICE, amount: '100000' }];
    await ok('org1', 'POST', '/receivables', { receivableId: R1, debtor: 'org2', currency: 'EUR', faceValue: '100000', dueDate: utcDate(90), documents }, 201);
    overcommitted = await refusedTx('org1', 'POST', '/receivables', { receivableId: R2, debtor: 'org2', currency: 'EUR', faceValue: '1', dueDate: utcDate(90), documents }, 'FINANCE.DOCUMENT_OVERCOMMITTED');
    await ok('org3', 'POST', '/credit-lines', { creditLineId: LINE, debtor: 'org2', currency: 'EUR', limit: '150000' }, 201);
    await ok('org2', 'POST', `/receivables/${R1}/confirm`, { creditLineId: LINE });
    await ok('org1', 'POST', '/financings', { financingId: F3, assetKind: 'receivable', assetId: R1, financier: 'org3', kind: 'factoring' }, 201);
    await ok('org1', 'POST', '/financings', { financingId: F4, assetKind: 'receivable', assetId: R1, financier: 'org4', kind: 'factoring' }, 201);
    await ok('org3', 'POST', `/financings/${F3}/approve`, { rateBps: 400, dayCount: 'ACT/365F', feeMinor: '0' });
    encumbered = await refusedTx('org4', 'POST', `/financings/${F4}/approve`, { rateBps: 300, dayCount: 'ACT/365F', feeMinor: '0' }, 'FINANCE.ALREADY_ENCUMBERED');

    const page = await until('two double-financing alerts', async () => {
      const p = await alerts('?kind=double-financing-refused');
      return p.items.length >= 2 ? p : undefined;
    });
    expect(page.items.map((a) => [a.transactionId, a.subject, a.organizationId, a.severity, a.detail['code']])).toEqual([
      [overcommitted, `finance/receivable/${R2}`, 'org1', 'warning', 'FINANCE.DOCUMENT_OVERCOMMITTED'],
      [encumbered, `finance/financing/${F4}`, 'org4', 'warning', 'FINANCE.ALREADY_ENCUMBERED'],
    ]);
    // Filters combine: the second bank's attempt only.
    const org4 = await alerts('?kind=double-financing-refused&organizationId=org4');
    expect(org4.items.map((a) => a.transactionId)).toEqual([encumbered]);
  });

  it('the regulator freezes the financed receivable and lifts the freeze: asset-frozen, warning then info', async () => {
    frozenTx = await ok(REGULATOR, 'POST', `/assets/receivable/${R1}/freeze`, { reason: 'court order 4711', orderReference: 'C-4711' });
    unfrozenTx = (await ok(REGULATOR, 'POST', `/assets/receivable/${R1}/unfreeze`, { reason: 'order lifted' })).transactionId;
    const subject = encodeURIComponent(`finance/receivable/${R1}`);
    const page = await until('the freeze and its lifting', async () => {
      const p = await alerts(`?kind=asset-frozen&subject=${subject}`);
      return p.items.length >= 2 ? p : undefined;
    });
    expect(page.items.map((a) => [a.transactionId, a.severity, a.organizationId, a.detail['change'], a.detail['by'] ?? null])).toEqual([
      [frozenTx.transactionId, 'warning', 'org1', 'frozen', REGULATOR],
      [unfrozenTx, 'info', 'org1', 'unfrozen', null],
    ]);
    expect(page.items[0]).toMatchObject({ blockNumber: frozenTx.blockNumber, detail: { reason: 'court order 4711', orderReference: 'C-4711' } });
    const warnings = await alerts(`?kind=asset-frozen&subject=${subject}&severity=warning`);
    expect(warnings.items.map((a) => a.transactionId)).toEqual([frozenTx.transactionId]);
  });

  it('a cold-chain breach (from the regulator’s provenance read model, over its transport) and a recall (from the block)', async () => {
    const device = generateKeyPair('ed25519');
    await chain.submit(chain.signed(chain.members[0], 'identity.device.register', { deviceId: DEVICE, model: 'TH-100', key: { algorithm: 'ed25519', publicKey: toHex(device.publicKey) }, assets: [], locations: [] }));
    const rule = await prov('POST', '/sensors/rules', { ruleId: `cold-${run}`, subject: GTIN, measurementType: 'Temperature', uom: 'CEL', max: '8', durationSeconds: 0 });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const at = formatTimestamp(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const reading = signTelemetryReading({ deviceId: DEVICE, organizationId: 'org1', keyId: keyId('ed25519', device.publicKey), observedAt: at, readings: [{ type: 'Temperature', value: '12.5', uom: 'CEL' }] } as TelemetryReading, device);
    const batch = await prov('POST', '/sensors/readings', { batchId: `b-${run}`, subject: GTIN, readings: [reading] });
    expect(batch.status, JSON.stringify(batch.body)).toBe(201);
    const provenanceAlert = (batch.body['alerts'] as Array<{ alertId: string }>)[0];

    const [eventId] = (
      await chain.capture(provenance, chain.members[0], [
        { type: 'ObjectEvent', eventTime: new Date(Date.now() - 30_000).toISOString(), eventTimeZoneOffset: '+00:00', action: 'OBSERVE', bizStep: 'holding', disposition: 'recalled', epcList: [RECALLED], readPoint: { id: 'urn:epc:id:sgln:4012345.00002.0' } },
      ])
    ).eventIds;

    const breach = await until('the sensor breach', async () => (await alerts('?kind=sensor-breach')).items.find((a) => a.detail['provenanceAlertId'] === provenanceAlert.alertId), 45_000);
    expect(breach).toMatchObject({ severity: 'warning', subject: GTIN, organizationId: 'org1', detail: { ruleId: `cold-${run}`, worstValue: '12.5', max: '8' } });
    const recall = await until('the recall', async () => (await alerts(`?kind=recall&subject=${encodeURIComponent(RECALLED)}`)).items[0]);
    expect(recall).toMatchObject({ severity: 'critical', organizationId: 'org1', detail: { eventId, epcs: [RECALLED], bizStep: 'holding' } });
  });

  it('lists the genesis members as membership changes', async () => {
    const page = await alerts('?kind=membership-change');
    const joined = page.items.filter((a) => a.detail['change'] === 'organization.joined').map((a) => [a.subject, a.detail['role'], a.blockNumber]);
    expect(joined).toEqual(expect.arrayContaining([['org1', 'supplier', 0], ['org2', 'manufacturer', 0], ['org3', 'financier', 0], ['org4', 'financier', 0]]));
  });

  it('pages by seq, answers one alert by id, refuses bad filters with AUDIT.INVALID_QUERY; the times filter occurredAt', async () => {
    const all = await alerts('?limit=1000');
    const seqs = all.items.map((a) => a.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const seen: number[] = [];
    for (let after: number | null = 0; after !== null; ) {
      const page: { items: Alert[]; next: number | null } = await alerts(`?limit=3&after=${after}`);
      seen.push(...page.items.map((a) => a.seq));
      after = page.next;
    }
    expect(seen).toEqual(seqs);
    const frozen = all.items.find((a) => a.transactionId === frozenTx.transactionId)!;
    const one = await chain.auditCall('GET', `/alerts/${frozen.alertId}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ alertId: frozen.alertId, kind: 'asset-frozen', seq: frozen.seq });
    expect((await chain.auditCall('GET', `/alerts/${'0'.repeat(64)}`)).body['code']).toBe('AUDIT.NOT_FOUND');
    for (const bad of ['/alerts/nope', '/alerts?kind=fraud', '/alerts?severity=high', '/alerts?from=yesterday', '/alerts?limit=0', '/alerts?after=x']) {
      const r = await chain.auditCall('GET', bad);
      expect([bad, r.status, r.body['code']]).toEqual([bad, 400, 'AUDIT.INVALID_QUERY']);
    }
    const t = Date.parse(frozen.occurredAt);
    const window = await alerts(`?kind=asset-frozen&from=${new Date(t).toISOString()}&to=${new Date(t + 1).toISOString()}`);
    expect(window.items.map((a) => a.alertId)).toContain(frozen.alertId);
    expect((await alerts(`?from=${new Date(Date.now() + 3_600_000).toISOString()}`)).items).toEqual([]);
    // GraphQL: the same list and the same alert.
    const gql = await chain.auditGraphql('query($id: String!) { auditAlerts(kinds: ["asset-frozen", "recall"], limit: 100) { items { alertId kind detail } next } auditAlert(alertId: $id) { seq severity subject } }', { id: frozen.alertId });
    expect(gql.errors).toBeUndefined();
    const data = gql.data as { auditAlerts: { items: Array<{ alertId: string; kind: string; detail: string }> }; auditAlert: { seq: number; severity: string; subject: string } };
    expect(data.auditAlerts.items.map((a) => a.kind).every((k) => k === 'asset-frozen' || k === 'recall')).toBe(true);
    expect(data.auditAlerts.items.map((a) => a.alertId)).toContain(frozen.alertId);
    expect(JSON.parse(data.auditAlerts.items.find((a) => a.alertId === frozen.alertId)!.detail)).toMatchObject({ change: 'frozen', by: REGULATOR });
    expect(data.auditAlert).toEqual({ seq: frozen.seq, severity: 'warning', subject: `finance/receivable/${R1}` });
    expect((await chain.auditGraphql('{ auditAlerts(kinds: ["fraud"]) { next } }')).errors?.[0]?.extensions?.['code']).toBe('AUDIT.INVALID_QUERY');
    // Every query was recorded in the access log.
    const log = (await chain.auditCall('GET', '/access-log?limit=1000')).body['items'] as Array<{ operation: string; outcome: string }>;
    expect(log.map((e) => e.operation)).toEqual(expect.arrayContaining(['GET /audit/v1/alerts', 'GET /audit/v1/alerts/:alertId', 'Query.auditAlerts', 'Subscription.auditAlertRaised']));
  });

  it('delivered every alert of the subscribed kinds over the subscription, in order, once', async () => {
    const wanted = (await alerts('?kind=double-financing-refused,asset-frozen,sensor-breach,recall&limit=1000')).items;
    expect(wanted.length).toBeGreaterThanOrEqual(6);
    await until('every alert live', async () => (live.length >= wanted.length || liveErrors.length > 0 ? true : undefined), 20_000);
    expect(JSON.stringify(liveErrors)).toBe('[]');
    expect(live.map((a) => a.alertId)).toEqual(wanted.map((a) => a.alertId));
    expect(live.find((a) => a.transactionId === encumbered)).toMatchObject({ kind: 'double-financing-refused', detail: { code: 'FINANCE.ALREADY_ENCUMBERED' } });
  });

  it('raises nothing twice: reading a block again, or another instance raising the same facts, adds no alert', async () => {
    const before = (await alerts('?limit=1000')).items.length;
    const block = await new LedgerBlockSource(chain.ledger.url, 'AUDIT').block(frozenTx.blockNumber);
    const again = alertsOfBlock(block!);
    expect(again.map((a) => a.transactionId)).toContain(frozenTx.transactionId);
    // A second store on the same database — another audit instance — raises them again: none is new.
    const other = new AlertStore(chain.service(REGULATOR).service.runtime.pool);
    for (const alert of again) expect(await other.raise(alert)).toBeNull();
    expect((await alerts('?limit=1000')).items.length).toBe(before);
    // The watcher's position: every block it read, once, in order.
    const { rows } = await chain.service(REGULATOR).service.runtime.pool.query<{ n: string; max: string; distinct: string }>('SELECT count(*) AS n, max(block_number) AS max, count(DISTINCT block_number) AS distinct FROM audit.alert_blocks');
    expect(Number(rows[0].n)).toBe(Number(rows[0].max) + 1);
    expect(rows[0].distinct).toBe(rows[0].n);
  });
});
