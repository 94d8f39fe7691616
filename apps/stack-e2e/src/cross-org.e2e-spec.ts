// Issue 9, cross-organization attacks (docs/security.md): org2, signed in with
// its own demo key, tries through REST, GraphQL and signed ledger transactions
// to change org1's data — its agents and devices in identity, its receivables
// in finance, its EPCIS events and capture jobs in provenance, its services'
// read models — and to read what it is not entitled to; then a forged
// ledger.block.committed.v1 event, written straight onto the bus topic the
// read models consume (`npm start`'s solo transport: the PostgreSQL log),
// claims org1's node committed a block that hands org1's receivable to org2.
// org1's data must be unchanged (before/after snapshots) and the forgery
// dead-lettered with its reason.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Topics, deadLetterTopicOf, sealEvent } from '@alliance/contracts';
import { canonicalBytes, formatTimestamp, fromHex, generateKeyPair, type JsonObject, type JsonValue, keyId, sha256, signTransaction, toHex, transactionId, utf8 } from '@alliance/protocol';
import type { Session } from '@alliance/sdk';
import { Client } from 'pg';
import { changedKeys, ledgerSnapshot, npmStart } from './npm-start';
import { waitFor } from './support';

const stack = npmStart('cross-org', 3810, 54401);
const run = Date.now().toString(36);
const RECEIVABLE = `rcv-${run}`;
const AGENT = `erp-${run}`;
const DEVICE = `urn:epc:id:giai:0614141.sensor${run}`;
const DUE = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);

async function submit(org: string, type: string, payload: JsonObject): Promise<{ status: number; code?: string; body: Record<string, unknown> }> {
  const key = stack.demoKey(org);
  const envelope = signTransaction(
    { chainId: 'alliance-demo', type, creator: { organizationId: org, keyId: keyId('ed25519', fromHex(key.publicKey)) }, nonce: `xorg-${run}-${randomUUID()}`, timestamp: formatTimestamp(Date.now()), payload },
    { algorithm: 'ed25519', privateKey: fromHex(key.privateKey) },
  );
  const res = await fetch(`${stack.base}/ledger/v1/transactions?wait=commit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope), signal: AbortSignal.timeout(60_000) });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, code: typeof body['code'] === 'string' ? body['code'] : undefined, body };
}

function busClient(): Promise<Client> {
  const db = new Client({ connectionString: `postgres://alliance:alliance@127.0.0.1:${stack.pgPort}/alliance` });
  return db.connect().then(() => db);
}

/** Straight into the topics, as anyone with access to the bus could: the solo transport's append (docs/messaging.md). */
async function publishOnBus(db: Client, envelopes: ReadonlyArray<{ topic: string; key: string }>): Promise<void> {
  await db.query('BEGIN');
  for (const envelope of envelopes) {
    const { rows } = await db.query<{ next_offset: string }>('UPDATE alliance_bus.topics SET next_offset = next_offset + 1 WHERE topic = $1 RETURNING next_offset', [envelope.topic]);
    await db.query(`INSERT INTO alliance_bus.log (topic, "offset", key, envelope, appended_at) VALUES ($1, $2, $3, $4::jsonb, clock_timestamp())`, [envelope.topic, String(BigInt(rows[0].next_offset) - 1n), envelope.key, JSON.stringify(envelope)]);
  }
  for (const topic of new Set(envelopes.map((e) => e.topic))) await db.query("SELECT pg_notify('alliance_bus', $1)", [topic]);
  await db.query('COMMIT');
}

/** The dead letters of `topic` that carry one of `eventIds`, once there are as many. */
function deadLettersOf(db: Client, topic: string, eventIds: readonly string[]): Promise<unknown[]> {
  return waitFor(
    `the forged events in ${deadLetterTopicOf(topic)}`,
    async () => {
      const { rows } = await db.query<{ envelope: unknown }>('SELECT envelope FROM alliance_bus.log WHERE topic = $1', [deadLetterTopicOf(topic)]);
      const mine = rows.filter((r) => eventIds.some((id) => JSON.stringify(r.envelope).includes(id)));
      return mine.length >= eventIds.length ? mine : undefined;
    },
    60_000,
    500,
  );
}

async function call(session: Session | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.base}${path}`, {
    method,
    headers: { ...(session ? { authorization: await session.authorizationHeader() } : {}), ...(body !== undefined ? { 'content-type': path.includes('/epcis/') ? 'application/ld+json' : 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed };
}

async function gql(session: Session, query: string, variables: Record<string, unknown> = {}): Promise<{ data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> }> {
  const res = await fetch(`${stack.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await session.authorizationHeader() }, body: JSON.stringify({ query, variables }) });
  expect(res.status).toBeLessThan(500);
  return (await res.json()) as never;
}

/** What org1 sees of its own data through the APIs. */
async function org1View(org1: Session, eventId: string, captureId: string): Promise<Record<string, unknown>> {
  const get = async (path: string) => {
    const r = await call(org1, 'GET', path);
    // Every answer has its own correlation id; the rest is the data compared.
    const { correlationId: _, ...body } = r.body;
    return { status: r.status, body };
  };
  return {
    receivable: await get(`/finance/v1/receivables/${RECEIVABLE}`),
    agent: await get(`/identity/v1/organizations/org1/agents/${AGENT}`),
    device: await get(`/identity/v1/devices/${encodeURIComponent(DEVICE)}`),
    event: await get(`/provenance/v1/epcis/events/${encodeURIComponent(eventId)}`),
    privateData: await get(`/provenance/v1/epcis/events/${encodeURIComponent(eventId)}/private`),
    capture: await get(`/provenance/v1/epcis/capture/${encodeURIComponent(captureId)}`),
  };
}

const publicKeyHex = () => toHex(generateKeyPair('ed25519').publicKey);

describe('cross-organization attacks (npm start)', () => {
  it('org2 changes none of org1’s data through REST, GraphQL or signed transactions, and reads only what it may', async () => {
    const org1 = await stack.signIn('org1');
    const org2 = await stack.signIn('org2');

    // org1's data: an agent and a device (signed transactions), a receivable on org3 (finance REST), an EPCIS event with private data.
    const agent = await submit('org1', 'identity.agent.register', { agentId: AGENT, name: 'ERP connector', keys: [{ algorithm: 'ed25519', publicKey: publicKeyHex() }] });
    expect(agent.code, JSON.stringify(agent.body)).toBe('VALID');
    const device = await submit('org1', 'identity.device.register', { deviceId: DEVICE, model: 'T-1000', key: { algorithm: 'ed25519', publicKey: publicKeyHex() } });
    expect(device.code, JSON.stringify(device.body)).toBe('VALID');
    const issued = await call(org1, 'POST', '/finance/v1/receivables', { receivableId: RECEIVABLE, debtor: 'org3', currency: 'EUR', faceValue: '100000', dueDate: DUE, documents: [{ docType: 'invoice', hash: toHex(sha256(utf8(`invoice ${RECEIVABLE}`))), amount: '100000' }] });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    const document = {
      '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: new Date().toISOString(),
      epcisBody: { eventList: [{ type: 'ObjectEvent', eventTime: new Date(Date.now() - 60_000).toISOString(), eventTimeZoneOffset: '+00:00', action: 'ADD', epcList: [`urn:epc:id:sgtin:0614141.107346.${run}`], bizStep: 'commissioning', disposition: 'active', readPoint: { id: 'urn:epc:id:sgln:0614141.00001.0' } }] },
    };
    const captured = await call(org1, 'POST', '/provenance/v1/epcis/capture', document);
    expect(captured.status, JSON.stringify(captured.body)).toBe(202);
    const captureId = String(captured.body['captureID']);
    const job = await waitFor(
      'the capture job',
      async () => {
        const r = await call(org1, 'GET', `/provenance/v1/epcis/capture/${captureId}`);
        return r.body['running'] === false ? r.body : undefined;
      },
      60_000,
      250,
    );
    expect(job['success'], JSON.stringify(job)).toBe(true);
    const eventId = ((job['eventIDs'] ?? job['eventIds']) as string[] | undefined)?.[0] ?? '';
    expect(eventId).not.toBe('');
    await waitFor('org1’s read models to show its data', async () => ((await call(org1, 'GET', `/finance/v1/receivables/${RECEIVABLE}`)).status === 200 && (await call(org1, 'GET', `/identity/v1/devices/${encodeURIComponent(DEVICE)}`)).status === 200 ? true : undefined), 60_000, 250);

    const before = await org1View(org1, eventId, captureId);
    const ledgerBefore = await ledgerSnapshot(stack.base);

    // REST, through the gateway, as org2: every write on org1's data is refused with a code.
    const writes: Array<[string, string, unknown]> = [
      ['POST', `/finance/v1/receivables/${RECEIVABLE}/cancel`, { reason: 'mine now' }],
      ['POST', `/finance/v1/receivables/${RECEIVABLE}/transfer`, { to: 'org2' }],
      ['POST', `/finance/v1/receivables/${RECEIVABLE}/split`, { parts: [{ receivableId: `${RECEIVABLE}-x`, faceValue: '100000', holder: 'org2' }] }],
      ['POST', `/finance/v1/receivables/${RECEIVABLE}/confirm`, {}],
      ['POST', `/finance/v1/receivables/${RECEIVABLE}/reject`, { reason: 'no' }],
      ['POST', `/finance/v1/receivables/${RECEIVABLE}/mark-overdue`, {}],
      ['POST', `/finance/v1/receivables/${RECEIVABLE}/declare-default`, {}],
      ['POST', `/finance/v1/receivables/${RECEIVABLE}/repay`, { amount: '100000' }],
      ['POST', `/finance/v1/assets/receivable/${RECEIVABLE}/freeze`, { reason: 'x' }],
      ['POST', '/finance/v1/receivables', { receivableId: `${RECEIVABLE}-org2`, debtor: 'org1', currency: 'EUR', faceValue: '1', dueDate: DUE, documents: [{ docType: 'invoice', hash: 'a'.repeat(64), amount: '1' }] }],
      ['POST', '/finance/v1/financings', { financingId: `fin-${run}`, assetKind: 'receivable', assetId: RECEIVABLE, financier: 'org2', kind: 'discounting' }],
      ['POST', `/provenance/v1/epcis/events/${encodeURIComponent(eventId)}/private/purge`, {}],
      ['POST', '/provenance/v1/epcis/capture', document],
      ['PUT', `/provenance/v1/masterdata/urn:epcglobal:epcis:vtype:BusinessLocation/urn:epc:id:sgln:0614141.00001.0`, { attributes: { name: 'org2 was here' } }],
      ['DELETE', `/provenance/v1/masterdata/urn:epcglobal:epcis:vtype:BusinessLocation/urn:epc:id:sgln:0614141.00001.0`, undefined],
      ['POST', '/provenance/v1/read-model/rebuild', {}],
      ['POST', '/finance/v1/read-model/rebuild', {}],
      ['POST', '/identity/v1/read-model/rebuild', {}],
    ];
    for (const [method, path, body] of writes) {
      const r = await call(org2, method, path, body);
      expect([401, 403, 404, 409, 422], `${method} ${path} as org2: ${r.status} ${JSON.stringify(r.body)}`).toContain(r.status);
      expect(typeof r.body['code'], `${method} ${path}: a code`).toBe('string');
    }

    // Reads org2 is not entitled to: org1's private EPCIS data and capture jobs, the regulator's access log. (Finance
    // state is readable by every member: it is world state every node holds — docs/finance.md, Who sees what.)
    for (const path of [`/provenance/v1/epcis/events/${encodeURIComponent(eventId)}/private`, `/provenance/v1/epcis/capture/${captureId}`, '/audit/v1/access-log']) {
      const r = await call(org2, 'GET', path);
      expect([403, 404], `GET ${path} as org2: ${r.status} ${JSON.stringify(r.body)}`).toContain(r.status);
      expect(typeof r.body['code']).toBe('string');
    }

    // GraphQL as org2 (the schema has no mutations: writes are REST and signed transactions): the regulator's log is refused with a code.
    const log = await gql(org2, '{ auditAccessLog { __typename } }');
    expect(log.errors?.[0]?.extensions?.code, JSON.stringify(log)).toMatch(/^AUTH\./);

    // Signed transactions of org2 aimed at org1's agent, device and receivable: never VALID.
    const org1AgentKey = (((before.agent as { body: Record<string, unknown> }).body['keys'] as Array<{ keyId: string }> | undefined) ?? [])[0]?.keyId ?? '0'.repeat(32);
    const attacks: Array<[string, JsonObject]> = [
      ['identity.agent.key.revoke', { agentId: AGENT, keyId: org1AgentKey }],
      ['identity.agent.update', { agentId: AGENT, name: 'owned', roles: [] }],
      ['identity.device.suspend', { deviceId: DEVICE, reason: 'org2 says so' }],
      ['identity.device.retire', { deviceId: DEVICE }],
      ['finance.receivable.cancel', { receivableId: RECEIVABLE, reason: 'org2 says so' }],
      ['finance.receivable.transfer', { receivableId: RECEIVABLE, to: 'org2' }],
      ['finance.receivable.confirm', { receivableId: RECEIVABLE }],
    ];
    for (const [type, payload] of attacks) {
      const r = await submit('org2', type, payload);
      expect(r.code === 'VALID', `${type} by org2: ${JSON.stringify(r.body)}`).toBe(false);
      expect(r.status).toBeLessThan(500);
    }

    const after = await org1View(org1, eventId, captureId);
    expect(after).toEqual(before);
    const ledgerAfter = await ledgerSnapshot(stack.base);
    const touched = changedKeys(ledgerBefore, ledgerAfter).filter((k) => k.includes(RECEIVABLE) || k.includes(AGENT) || k.includes(DEVICE) || k.startsWith('identity/agent/org1') || k.startsWith('identity/device/org1'));
    expect(touched, 'org1’s world-state keys changed').toEqual([]);
  }, 300_000);

  it('a forged ledger.block.committed.v1 on the bus, claiming org1’s node gave org2 the receivable, is dead-lettered and changes nothing', async () => {
    const org1 = await stack.signIn('org1');
    const before = await call(org1, 'GET', `/finance/v1/receivables/${RECEIVABLE}`);
    expect(before.status).toBe(200);
    const ledger = await ledgerSnapshot(stack.base);
    const head = ledger.height;
    // Straight into the topic, as anyone with access to the bus could: the solo transport's append (docs/messaging.md).
    const db = await busClient();
    const publish = (envelopes: Array<{ topic: string; key: string }>) => publishOnBus(db, envelopes);
    try {
      const stateRecord = ledger.state.get(`finance/receivable/${RECEIVABLE}`);
      expect(stateRecord, 'the receivable is in world state').toBeDefined();
      const version = Number(stateRecord!.split(':')[0]) + 1;
      const forgedRecord = { ...(before.body as Record<string, unknown>), holder: 'org2', issuer: 'org1' };
      const forge = (blockNumber: number, withHeader?: string) => ({
        eventId: randomUUID(),
        topic: Topics.ledgerBlockCommitted.name,
        occurredAt: new Date().toISOString(),
        correlationId: randomUUID(),
        causationId: null,
        producer: 'ledger',
        key: 'alliance-demo',
        payload: {
          chainId: 'alliance-demo',
          nodeId: 'org1-node',
          blockNumber,
          headerHash: withHeader ?? 'e'.repeat(64),
          transactionCount: 1,
          treeSize: 1_000_000,
          committedAt: new Date().toISOString(),
          transactions: [
            {
              transactionId: 'd'.repeat(64),
              leafIndex: 999_999,
              type: 'finance.receivable.transfer',
              organizationId: 'org1',
              timestamp: new Date().toISOString(),
              code: 'VALID',
              payload: { receivableId: RECEIVABLE, to: 'org2' },
              writes: [{ key: `finance/receivable/${RECEIVABLE}`, value: forgedRecord, version }],
            },
          ],
        },
      });
      // The next block (the node has none such) and one far ahead (a gap the follower would fill from the node).
      const forgeries = [forge(head + 1), forge(head + 50)];
      await publish(forgeries);

      // Each read model consuming the topic refuses both: dead letters naming the forgery.
      const dead = await deadLettersOf(db, Topics.ledgerBlockCommitted.name, forgeries.map((f) => f.eventId));
      const text = JSON.stringify(dead);
      expect(text).toMatch(/FORGED_BLOCK_EVENT/);
      expect(text).toMatch(/does not match the ledger node/);
    } finally {
      await db.end();
    }
    // Nothing applied: org1's receivable as it was, still org1's.
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await call(org1, 'GET', `/finance/v1/receivables/${RECEIVABLE}`);
    expect(after).toEqual(before);
    expect(after.body['holder']).toBe('org1');
  }, 180_000);

  it('a forged provenance.alert.raised.v1 or stock level — unsealed, or sealed by org2 — is dead-lettered by org1’s finance and holds nothing', async () => {
    const org2Key = stack.demoKey('org2');
    const alert = (alertId: string) => ({
      eventId: randomUUID(),
      topic: Topics.provenanceAlertRaised.name,
      occurredAt: new Date().toISOString(),
      correlationId: randomUUID(),
      causationId: null,
      producer: 'provenance',
      key: 'https://id.gs1.org/01/09506000134352',
      payload: {
        chainId: 'alliance-demo',
        blockNumber: 1,
        transactionId: 'c'.repeat(64),
        batchId: `batch-${run}`,
        alertId,
        organizationId: 'org1',
        ruleId: `rule-${run}`,
        ruleVersion: 1,
        subject: 'https://id.gs1.org/01/09506000134352',
        measurementType: 'gs1:MT-Temperature',
        uom: 'CEL',
        min: null,
        max: '8',
        from: new Date(Date.now() - 600_000).toISOString(),
        to: new Date().toISOString(),
        durationSeconds: 600,
        worstValue: '25',
        disposition: 'https://ref.gs1.org/cbv/Disp-damaged',
        eventId: `ni:///sha-256;${'d'.repeat(64)}?ver=CBV2.0`,
      },
    });
    const unsealed = alert('1'.repeat(64));
    const byOrg2 = alert('2'.repeat(64));
    const stockLevel = {
      ...alert('3'.repeat(64)),
      topic: Topics.provenanceStockChanged.name,
      payload: { chainId: 'alliance-demo', blockNumber: 1, item: 'https://id.gs1.org/01/09506000134352', organizationId: 'org1', uom: 'KGM', onHand: '0', previousOnHand: '1000', eventId: `ni:///sha-256;${'e'.repeat(64)}?ver=CBV2.0` },
    };
    const forgeries = [unsealed, { ...byOrg2, seal: sealEvent(byOrg2, { organizationId: 'org2', algorithm: 'ed25519', privateKey: fromHex(org2Key.privateKey) }) }, stockLevel];
    const db = await busClient();
    try {
      await publishOnBus(db, forgeries);
      const alerts = await deadLettersOf(db, Topics.provenanceAlertRaised.name, [unsealed.eventId, byOrg2.eventId]);
      const stock = await deadLettersOf(db, Topics.provenanceStockChanged.name, [stockLevel.eventId]);
      const text = JSON.stringify([...alerts, ...stock]);
      expect(text.match(/FINANCE\.UNSEALED_SIGNAL/g)?.length).toBe(3);
      expect(text).toMatch(/the event carries no seal/);
      expect(text).toMatch(/of org2, which this service does not trust/);
      // Nothing kept as a signal for the hold watcher's sweep or the on-hand check.
      const { rows } = await db.query<{ n: string }>("SELECT count(*)::text AS n FROM finance.goods_signals WHERE reference = ANY($1::text[]) OR detail->>'eventId' = $2", [[unsealed.payload.alertId, byOrg2.payload.alertId], stockLevel.payload.eventId]);
      expect(rows[0].n).toBe('0');
    } finally {
      await db.end();
    }
  }, 120_000);

  it('a validly signed envelope holding U+0000, written straight onto the ordering log past the door, commits as LEDGER.UNSTORABLE_TEXT on every node and the chain goes on', async () => {
    const key = stack.demoKey('org1');
    const envelope = signTransaction(
      { chainId: 'alliance-demo', type: 'ledger.anchor', creator: { organizationId: 'org1', keyId: keyId('ed25519', fromHex(key.publicKey)) }, nonce: `nul-${run}`, timestamp: formatTimestamp(Date.now()), payload: { hash: toHex(sha256(utf8(`nul-${run}`))), note: 'a\u0000b' } },
      { algorithm: 'ed25519', privateKey: fromHex(key.privateKey) },
    );
    const id = transactionId(envelope.transaction);
    // The door refuses it…
    const door = await fetch(`${stack.base}/ledger/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
    expect([door.status, ((await door.json()) as { code: string }).code]).toEqual([400, 'LEDGER.UNSTORABLE_TEXT']);
    // …so it goes straight onto the solo ordering log, as anyone who can write to it could (the Kafka topic in a consortium).
    const db = new Client({ connectionString: `postgres://alliance:alliance@127.0.0.1:${stack.pgPort}/alliance` });
    await db.connect();
    try {
      await db.query('BEGIN');
      const { rows } = await db.query<{ first: string; at: Date }>(
        "UPDATE ledger_ordering.chains SET next_offset = next_offset + 1, last_appended_at = GREATEST(last_appended_at, date_trunc('milliseconds', clock_timestamp())) WHERE chain_id = 'alliance-demo' RETURNING next_offset - 1 AS first, last_appended_at AS at",
      );
      await db.query("INSERT INTO ledger_ordering.log (chain_id, \"offset\", kind, bytes, appended_at) VALUES ('alliance-demo', $1, 'transaction', $2, $3)", [rows[0].first, Buffer.from(canonicalBytes(envelope as unknown as JsonValue)), rows[0].at]);
      await db.query("SELECT pg_notify('ledger_ordering', 'alliance-demo')");
      await db.query('COMMIT');
    } finally {
      await db.end();
    }
    // Committed with its code and certified: every member's node committed that block and signed it.
    const status = await waitFor(
      'the NUL envelope committed and certified',
      async () => {
        const res = await fetch(`${stack.base}/ledger/v1/transactions/${id}`);
        const body = (await res.json()) as { status?: string; code?: string; certified?: boolean; detail?: string };
        return res.status === 200 && body.certified === true ? body : undefined;
      },
      60_000,
      250,
    );
    expect(status).toMatchObject({ status: 'invalid', code: 'LEDGER.UNSTORABLE_TEXT', detail: expect.stringContaining('/transaction/payload/note') });
    // The chain goes on: the next transaction commits.
    const next = await submit('org1', 'ledger.anchor', { hash: toHex(sha256(utf8(`after-nul-${run}`))) });
    expect(next.status).toBeLessThan(300);
  }, 120_000);
});
