import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyReceipt } from '@alliance/protocol';
import { eventHashId } from '@alliance/provenance/domain';
import { call, member, until } from '../test/harness';
import { ProvenanceTestChain } from '../test/harness';

const enc = encodeURIComponent;
const SECRET_PO = 'urn:epcglobal:cbv:bt:0614141073467:PO-SECRET-4711';
const SECRET_PRICE = '1234.56';

/** A shipping event whose purchase order and unit price org1 shares with org2 only. */
const document = (serial: string) => ({
  '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld', { example: 'https://ns.example.com/epcis/' }],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2026-12-03T08:00:00.000Z',
  epcisBody: {
    eventList: [
      {
        type: 'ObjectEvent',
        eventTime: '2026-12-03T08:00:00.000+08:00',
        eventTimeZoneOffset: '+08:00',
        action: 'OBSERVE',
        epcList: [`urn:epc:id:sgtin:0614141.107346.${serial}`],
        bizStep: 'shipping',
        bizTransactionList: [{ type: 'po', bizTransaction: SECRET_PO }],
        'example:unitPrice': SECRET_PRICE,
        'alliance:private': [{ fields: ['bizTransactionList', 'example:unitPrice'], readers: ['org2'] }],
      },
    ],
  },
});

describe('private data: salted commitments on the ledger, payloads for entitled organizations, purge with a record', () => {
  const chain = new ProvenanceTestChain('provenance-private', [member('org1'), member('org2', 'supplier'), member('org3', 'financier')]);
  const tokens = new Map<string, { token: string; at: number }>();
  const tokenOf = async (org: 'org1' | 'org2' | 'org3') => {
    if (org === 'org1') return chain.auth();
    const held = tokens.get(org);
    if (held && Date.now() - held.at < 45_000) return held.token;
    const m = chain.members.find((x) => x.organizationId === org)!;
    const token = (await chain.signIn(org, m.admin)).accessToken;
    tokens.set(org, { token, at: Date.now() });
    return token;
  };
  const get = async (path: string, org: 'org1' | 'org2' | 'org3' = 'org1') => call(`${chain.api}${path}`, { token: await tokenOf(org) });
  const post = async (path: string, body: unknown, org: 'org1' | 'org2' | 'org3' = 'org1', headers: Record<string, string> = {}) =>
    call(`${chain.api}${path}`, { method: 'POST', body: JSON.stringify(body), token: await tokenOf(org), headers: { 'content-type': 'application/ld+json', ...headers } });
  const captureOne = async (serial: string): Promise<{ eventId: string; transactionId: string; blockNumber: number }> => {
    const r = await post('/epcis/capture', document(serial));
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const job = await until('capture', async () => {
      const j = await get(`/epcis/capture/${r.body['captureID'] as string}`);
      return j.body['running'] === false ? j.body : undefined;
    });
    expect(job, JSON.stringify(job)).toMatchObject({ success: true });
    return { eventId: (job['eventIDs'] as string[])[0], transactionId: job['transactionId'] as string, blockNumber: job['blockNumber'] as number };
  };

  beforeAll(async () => {
    await chain.startAll(inject('databaseUrl'), 'provenance_private');
  }, 60_000);
  afterAll(() => chain.stop());

  let first: { eventId: string; transactionId: string; blockNumber: number };
  let second: { eventId: string; transactionId: string; blockNumber: number };

  it('anchors only a salted commitment: the ledger block and every non-entitled view hold neither value', async () => {
    first = await captureOne('9001');
    second = await captureOne('9002');
    // The block as the ledger node stores it, bytes and all.
    const block = await call(`${chain.ledger.url}/ledger/v1/blocks/${first.blockNumber}/transactions`);
    expect(block.status).toBe(200);
    const raw = JSON.stringify(block.body);
    const decoded = Buffer.from(raw).toString() + (block.body['transactions'] as Array<Record<string, string>>).map((t) => Object.values(t).map((v) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '')).join('')).join('');
    expect(decoded).toContain('alliance:privateData');
    expect(decoded).not.toContain('PO-SECRET-4711');
    expect(decoded).not.toContain(SECRET_PRICE);

    const seen = await get(`/epcis/events/${enc(first.eventId)}`, 'org3');
    expect(seen.status).toBe(200);
    expect(JSON.stringify(seen.body)).not.toContain('PO-SECRET-4711');
    expect(seen.body['bizTransactionList']).toBeUndefined();
    const refs = seen.body['alliance:privateData'] as Array<{ commitment: string; fields: string[]; readers: string[] }>;
    expect(refs).toEqual([{ commitment: expect.stringMatching(/^[0-9a-f]{64}$/), fields: ['bizTransactionList', 'example:unitPrice'], readers: ['org2'] }]);
    // The event's id is the CBV 2.0 hash of the event as anchored, under the document's context with the alliance prefix.
    const { '@context': context, recordTime: _r, eventID, ...anchored } = seen.body;
    expect(eventID).toBe(first.eventId);
    expect(eventHashId(anchored, { context })).toBe(first.eventId);
    const groups = await get(`/epcis/events/${enc(first.eventId)}/private`, 'org3');
    expect(groups.body['groups']).toEqual([{ commitment: refs[0].commitment, fields: refs[0].fields, readers: ['org2'], status: 'not-entitled' }]);
    // A query by the private purchase order finds nothing: the shared index holds only what is public.
    const q = await get(`/epcis/events?EQ_bizTransaction_po=${enc(SECRET_PO)}`, 'org1');
    expect((q.body['epcisBody'] as { queryResults: { resultsBody: { eventList: unknown[] } } }).queryResults.resultsBody.eventList).toEqual([]);
  });

  it('gives the capturing and the named organization the payload back in place, with the salt that opens the commitment', async () => {
    for (const org of ['org1', 'org2'] as const) {
      const r = await get(`/epcis/events/${enc(first.eventId)}`, org);
      expect(r.body['bizTransactionList'], org).toEqual([{ type: 'po', bizTransaction: SECRET_PO }]);
      expect(r.body['example:unitPrice'], org).toBe(SECRET_PRICE);
      const page = await get(`/epcis/events?MATCH_epc=${enc('urn:epc:id:sgtin:0614141.107346.9001')}`, org);
      const [listed] = (page.body['epcisBody'] as { queryResults: { resultsBody: { eventList: Array<Record<string, unknown>> } } }).queryResults.resultsBody.eventList;
      expect(listed['example:unitPrice'], org).toBe(SECRET_PRICE);
    }
    const groups = await get(`/epcis/events/${enc(first.eventId)}/private`, 'org2');
    const [g] = groups.body['groups'] as Array<{ commitment: string; status: string; payloadText: string; salt: string; payload: Record<string, unknown> }>;
    expect(g.status).toBe('disclosed');
    expect(g.payload).toEqual({ bizTransactionList: [{ type: 'po', bizTransaction: SECRET_PO }], 'example:unitPrice': SECRET_PRICE });
    // Anyone holding payload and salt checks the commitment with SHA-256 alone (docs/protocol.md).
    expect(createHash('sha256').update(Buffer.concat([Buffer.from(g.salt, 'hex'), Buffer.from(g.payloadText, 'utf8')])).digest('hex')).toBe(g.commitment);
  });

  it('refuses a malformed mark and a purge by anyone but the capturing organization', async () => {
    const bad = document('9003');
    (bad.epcisBody.eventList[0] as Record<string, unknown>)['alliance:private'] = [{ fields: ['epcList'], readers: ['org2'] }];
    const r = await post('/epcis/capture', bad);
    expect(r.status).toBe(400);
    expect(r.body['code']).toBe('PROVENANCE.INVALID_PRIVATE_DATA');
    const denied = await post(`/epcis/events/${enc(first.eventId)}/private/purge`, { reason: 'not mine' }, 'org2', { 'content-type': 'application/json' });
    expect(denied.status).toBe(403);
    const noReason = await post(`/epcis/events/${enc(first.eventId)}/private/purge`, {}, 'org1', { 'content-type': 'application/json' });
    expect(noReason.status).toBe(400);
    expect(noReason.body['code']).toBe('PROVENANCE.INVALID_PURGE');
  });

  it('purges payload and salt and leaves a record on the chain that verifies with its receipt; a rebuild keeps both', async () => {
    const purged = await post(`/epcis/events/${enc(first.eventId)}/private/purge`, { reason: 'supply contract ended; retention period over' }, 'org1', { 'content-type': 'application/json' });
    expect(purged.status, JSON.stringify(purged.body)).toBe(200);
    const [record] = purged.body['purged'] as Array<Record<string, unknown>>;
    expect(record).toMatchObject({ eventId: first.eventId, organizationId: 'org1', reason: 'supply contract ended; retention period over', transactionId: purged.body['transactionId'] });
    expect(Date.parse(record['purgedAt'] as string)).not.toBeNaN();

    const afterOrg2 = await get(`/epcis/events/${enc(first.eventId)}`, 'org2');
    expect(JSON.stringify(afterOrg2.body)).not.toContain('PO-SECRET-4711');
    const groups = await get(`/epcis/events/${enc(first.eventId)}/private`, 'org1');
    expect(groups.body['groups']).toEqual([expect.objectContaining({ status: 'purged', purge: expect.objectContaining({ commitment: record['commitment'], transactionId: record['transactionId'] }) })]);
    const again = await post(`/epcis/events/${enc(first.eventId)}/private/purge`, { reason: 'again' }, 'org1', { 'content-type': 'application/json' });
    expect(again.status).toBe(409);
    expect(again.body['code']).toBe('PROVENANCE.ALREADY_PURGED');

    // The purge is a ledger transaction: its receipt verifies against the members' keys.
    const tx = await until('purge receipt', async () => {
      const t = await call(`${chain.ledger.url}/ledger/v1/transactions/${record['transactionId'] as string}`);
      return t.body['receipt'] ? t.body : undefined;
    });
    const receipt = tx['receipt'] as { envelope: { transaction: { type: string; payload: Record<string, unknown> } } };
    expect(verifyReceipt(receipt, { chainId: chain.chainId })).toMatchObject({ ok: true });
    expect(receipt.envelope.transaction.type).toBe('provenance.private.purge');
    expect(receipt.envelope.transaction.payload).toEqual({ eventId: first.eventId, commitments: [record['commitment']], reason: 'supply contract ended; retention period over' });

    const rebuilt = await call(`${chain.api}/read-model/rebuild`, { method: 'POST', token: await chain.auth() });
    expect(rebuilt.status, JSON.stringify(rebuilt.body)).toBe(200);
    const stillPurged = await get(`/epcis/events/${enc(first.eventId)}/private`, 'org2');
    expect((stillPurged.body['groups'] as Array<{ status: string }>)[0].status).toBe('purged');
    const kept = await get(`/epcis/events/${enc(second.eventId)}`, 'org2');
    expect(kept.body['example:unitPrice']).toBe(SECRET_PRICE);
  });
});
