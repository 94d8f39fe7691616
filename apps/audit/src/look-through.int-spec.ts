// Issue 7, item 4: look-through views — the entity register, the trace of a product with proofs, the tree of a
// receivable with receipts, exposure per debtor and per financier, payment-term compliance — over REST and
// GraphQL, read from the regulator's own identity, provenance and finance services and verified against its
// observer node. Real ledger node, PostgreSQL, identity, provenance and finance services (AuditTestChain).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateKeyPair, keyId, toHex, transactionId } from '@alliance/protocol';
import type { RunningService } from '@alliance/shared/feature-platform';
import { AuditTestChain, call, member, REGULATOR, until } from '../test/harness';
import { judgeReceipt, ObserverAnchor } from './look-through-anchor';
import { Upstreams } from './upstream';

const run = Date.now().toString(36);
const digits = String(Date.now()).slice(-9);
const id = (name: string) => `${name}-${run}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const utcDate = (daysFromNow: number) => new Date(Date.now() + daysFromNow * 86_400_000).toISOString().slice(0, 10);

const R1 = id('lt-root'); // split in two, one part financed; stays outstanding
const T1 = id('lt-t1');
const T2 = id('lt-t2');
const R2 = id('lt-paid'); // confirmed and repaid in full before its due date
const LINE = id('lt-line');
const FIN = id('lt-fin');
const DUE1 = utcDate(120);
const DUE2 = utcDate(90);
const CASE = `urn:epc:id:sscc:4012345.1${digits}`;
const PALLET = `urn:epc:id:sscc:4012345.2${digits}`;
const sgtin = (n: number) => `urn:epc:id:sgtin:4012345.011111.${run}${n}`;

describe('audit look-through views: register, trace with proofs, receivable tree with receipts, exposure, payment terms', () => {
  // org1 supplier, org2 core enterprise (debtor), org3 bank, org5 tier-2 supplier; reg the regulator (observer).
  const chain = new AuditTestChain('audit-look-through', [member('org1', 'supplier'), member('org2', 'manufacturer'), member('org3', 'financier'), member('org5', 'supplier')], [member(REGULATOR, 'regulator')]);
  const m = (org: string) => chain.members.find((x) => x.organizationId === org)!;
  let provenance: RunningService;
  let captured: string[] = [];
  let proposalId = '';
  const agentKey = generateKeyPair('ed25519');
  const rotatedTo = generateKeyPair('ed25519');

  async function step(org: string, method: string, path: string, body: unknown, expected = 200) {
    const r = await chain.service(org).send(method, path, body);
    expect(r.status, `${org} ${method} ${path}: ${JSON.stringify(r.body)}`).toBe(expected);
    expect(r.body['status']).toBe('committed');
    return r.body;
  }

  beforeAll(async () => {
    await chain.startAudit(inject('databaseUrl'), 'audit_look_through', ['org1', 'org2', 'org3', 'org5']);
    provenance = await chain.startProvenance('org1');
    const [org1, org2] = [m('org1'), m('org2')];
    // The register: an agent of org1 whose key is rotated; an expulsion of org5 proposed by org1, org2 voting no.
    await chain.submit(chain.signed(org1, 'identity.agent.register', { agentId: 'clerk', name: 'Clerk', roles: [], keys: [{ algorithm: 'ed25519', publicKey: toHex(agentKey.publicKey) }] }));
    await chain.submit(chain.signed(org1, 'identity.agent.key.rotate', { agentId: 'clerk', keyId: keyId('ed25519', agentKey.publicKey), newKey: { algorithm: 'ed25519', publicKey: toHex(rotatedTo.publicKey) } }));
    const proposal = chain.signed(org1, 'identity.membership.propose', { kind: 'expel', organizationId: 'org5' });
    await chain.submit(proposal);
    proposalId = transactionId(proposal.transaction);
    await chain.submit(chain.signed(org2, 'identity.membership.vote', { proposalId, approve: false }));

    // Provenance: two items packed into a case, the case onto a pallet (org1 captures).
    const token = (await chain.signIn('org1', org1.admin)).accessToken;
    const api = `${provenance.url}/provenance/v1/epcis`;
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const document = {
      '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: new Date().toISOString(),
      epcisBody: {
        eventList: [
          { type: 'AggregationEvent', eventTime: at(30), eventTimeZoneOffset: '+00:00', action: 'ADD', bizStep: 'packing', parentID: CASE, childEPCs: [sgtin(1), sgtin(2)], readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' } },
          { type: 'AggregationEvent', eventTime: at(20), eventTimeZoneOffset: '+00:00', action: 'ADD', bizStep: 'packing', parentID: PALLET, childEPCs: [CASE], readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' } },
        ],
      },
    };
    const r = await call(`${api}/capture`, { method: 'POST', body: JSON.stringify(document), token, headers: { 'content-type': 'application/ld+json' } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const job = await until('the capture job', async () => {
      const j = await call(`${api}/capture/${String(r.body['captureID'])}`, { token });
      return j.body['running'] === false ? j.body : undefined;
    });
    expect(job).toMatchObject({ success: true, errors: [] });
    captured = job['eventIDs'] as string[];

    // Finance: a line of 200 000 from the bank; R1 (100 000) confirmed, split 60 000 / 40 000, the tier-2 part
    // discounted by the bank; R2 (30 000) confirmed and repaid in full.
    await step('org3', 'POST', '/credit-lines', { creditLineId: LINE, debtor: 'org2', currency: 'EUR', limit: '200000' }, 201);
    await step('org1', 'POST', '/receivables', { receivableId: R1, debtor: 'org2', currency: 'EUR', faceValue: '100000', dueDate: DUE1, documents: [{ docType: 'purchase-order', hash: sha256(`PO-1 ${run}`), amount: '100000' }] }, 201);
    await step('org1', 'POST', '/receivables', { receivableId: R2, debtor: 'org2', currency: 'EUR', faceValue: '30000', dueDate: DUE2, documents: [{ docType: 'invoice', hash: sha256(`INV-2 ${run}`), amount: '30000' }] }, 201);
    await step('org2', 'POST', `/receivables/${R1}/confirm`, { creditLineId: LINE });
    await step('org2', 'POST', `/receivables/${R2}/confirm`, { creditLineId: LINE });
    await step('org1', 'POST', `/receivables/${R1}/split`, { parts: [{ receivableId: T1, faceValue: '60000', holder: 'org1' }, { receivableId: T2, faceValue: '40000', holder: 'org5' }] });
    await step('org5', 'POST', '/financings', { financingId: FIN, assetKind: 'receivable', assetId: T2, financier: 'org3', kind: 'discounting' }, 201);
    await step('org3', 'POST', `/financings/${FIN}/approve`, { rateBps: 600, dayCount: 'ACT/360', feeMinor: '100' });
    await step('org3', 'POST', `/financings/${FIN}/disburse`, { paymentReference: `SEPA-${run}` });
    await step('org2', 'POST', `/receivables/${R2}/repay`, { paymentId: id('lt-pay'), amount: '30000', paymentReference: `PAY-${run}` }, 201);
    // The regulator's read models have applied it all.
    await until('the regulator’s finance read model', async () => {
      const t = await chain.service(REGULATOR).send('GET', `/receivables/${R2}`);
      return t.status === 200 && t.body['status'] === 'settled' ? true : undefined;
    });
    await until('the regulator’s provenance read model', async () => {
      const t = await chain.auditCall('GET', `/traces?item=${encodeURIComponent(PALLET)}&direction=upstream`);
      return t.status === 200 && (t.body['events'] as unknown[]).length === 2 ? true : undefined;
    });
    await until('identity has the vote', async () => {
      const p = await call(`${chain.identityApi}/proposals/${proposalId}`, { token });
      return p.status === 200 && (p.body['votes'] as Record<string, boolean>)['org2'] === false ? true : undefined;
    });
  }, 300_000);
  afterAll(() => chain.stop());

  it('the entity register: organizations, one with its agents and key history, devices, the proposals and votes that concern it', async () => {
    const list = await chain.auditCall('GET', '/entities/organizations');
    expect(list.status, list.text).toBe(200);
    const orgs = list.body['items'] as Array<{ organizationId: string; status: string }>;
    expect(orgs.map((o) => [o.organizationId, o.status])).toEqual([['org1', 'member'], ['org2', 'member'], ['org3', 'member'], ['org5', 'member'], [REGULATOR, 'observer']]);
    expect(list.body['recordCount']).toBe(5);

    const org1 = await chain.auditCall('GET', '/entities/organizations/org1');
    expect(org1.status, org1.text).toBe(200);
    const agents = org1.body['agents'] as Array<{ agentId: string; keys: Array<{ keyId: string; status: string }>; history: Array<{ transactionType: string }> }>;
    expect(agents.map((a) => a.agentId)).toEqual(['clerk']);
    expect(agents[0].keys.map((k) => [k.keyId, k.status])).toEqual([
      [keyId('ed25519', agentKey.publicKey), 'rotated'],
      [keyId('ed25519', rotatedTo.publicKey), 'active'],
    ]);
    expect(agents[0].history.map((h) => h.transactionType)).toEqual(['identity.agent.register', 'identity.agent.key.rotate']);
    expect(org1.body['devices']).toEqual([]);
    expect((org1.body['proposals'] as Array<{ proposalId: string; relation: string[] }>).map((p) => [p.proposalId, p.relation])).toEqual([[proposalId, ['proposer']]]);
    expect(org1.body['recordCount']).toBe(3);

    const org5 = await chain.auditCall('GET', '/entities/organizations/org5');
    expect(org5.body['proposals']).toEqual([expect.objectContaining({ proposalId, kind: 'expel', organizationId: 'org5', proposedBy: 'org1', status: 'open', votes: { org2: false }, relation: ['subject'] })]);
    const org2 = await chain.auditCall('GET', '/entities/organizations/org2');
    expect((org2.body['proposals'] as Array<{ relation: string[] }>).map((p) => p.relation)).toEqual([['voter']]);

    const key = await chain.auditCall('GET', `/entities/keys/${keyId('ed25519', agentKey.publicKey)}`);
    expect(key.status, key.text).toBe(200);
    expect(key.body['key']).toMatchObject({ kind: 'agent', organizationId: 'org1', agentId: 'clerk', status: 'rotated' });
    expect((key.body['history'] as unknown[]).length).toBe(2);
    const devices = await chain.auditCall('GET', '/entities/devices?organizationId=org1&limit=10');
    expect(devices.body).toEqual({ items: [], nextAfter: null });

    const g = await chain.auditGraphql(
      'query($o: String!) { auditOrganizations { recordCount items { organizationId status } } auditOrganization(organizationId: $o) { recordCount organization { organizationId role } agents { agentId keys { status } history { transactionType json } } proposals { proposalId kind status relation votes { organizationId approve } } } }',
      { o: 'org5' },
    );
    expect(g.errors).toBeUndefined();
    expect((g.data!['auditOrganizations'] as { recordCount: number }).recordCount).toBe(5);
    expect(g.data!['auditOrganization']).toEqual({
      recordCount: 2,
      organization: { organizationId: 'org5', role: 'supplier' },
      agents: [],
      proposals: [{ proposalId, kind: 'expel', status: 'open', relation: ['subject'], votes: [{ organizationId: 'org2', approve: false }] }],
    });

    // Upstream codes come through with their status; bad parameters are the audit's own.
    const unknown = await chain.auditCall('GET', '/entities/organizations/org9');
    expect([unknown.status, unknown.body['code']]).toEqual([404, 'IDENTITY.ORGANIZATION_NOT_FOUND']);
    const bad = await chain.auditCall('GET', '/entities/organizations/Org_1');
    expect([bad.status, bad.body['code']]).toEqual([400, 'AUDIT.INVALID_QUERY']);
    const badLimit = await chain.auditCall('GET', '/entities/devices?limit=501');
    expect([badLimit.status, badLimit.body['code']]).toEqual([400, 'AUDIT.INVALID_QUERY']);
    const gBad = await chain.auditGraphql('{ auditOrganization(organizationId: "org9") { recordCount } }');
    expect(gBad.errors?.[0]?.extensions?.['code']).toBe('IDENTITY.ORGANIZATION_NOT_FOUND');
  });

  it('the trace of a pallet upstream: lineage and both packing events, each with its anchoring transaction and a proof verified against the observer', async () => {
    const r = await chain.auditCall('GET', `/traces?item=${encodeURIComponent(PALLET)}&direction=upstream`);
    expect(r.status, r.text).toBe(200);
    const nodes = r.body['nodes'] as Array<{ kind: string; depth: number }>;
    expect(nodes.map((n) => [n.kind, n.depth])).toEqual([['sscc', 0], ['sscc', -1], ['sgtin', -2], ['sgtin', -2]]);
    const events = r.body['events'] as Array<{ eventID: string; verified: boolean; reason: string | null; transactionId: string; blockNumber: number; origin: string; hashVerified: boolean; position: number }>;
    expect(events.map((e) => e.eventID)).toEqual(captured);
    for (const e of events) expect(e, JSON.stringify(e)).toMatchObject({ verified: true, reason: null, origin: 'capture', hashVerified: true, transactionId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(events.map((e) => e.position)).toEqual([0, 1]);
    expect(events[0].transactionId).toBe(events[1].transactionId); // one capture, one transaction
    expect(r.body).toMatchObject({ verifiedEvents: 2, recordCount: 2, checkpoint: { verified: true, reason: null, signedBy: ['org1'] } });

    const g = await chain.auditGraphql('query($i: String!) { auditTrace(item: $i, direction: "upstream") { recordCount verifiedEvents nodes { kind depth } events { eventID verified reason transactionId position } checkpoint { verified treeSize } } }', { i: PALLET });
    expect(g.errors).toBeUndefined();
    const t = g.data!['auditTrace'] as { recordCount: number; verifiedEvents: number; events: Array<{ eventID: string; verified: boolean; position: number }> };
    expect([t.recordCount, t.verifiedEvents]).toEqual([2, 2]);
    expect(t.events.map((e) => [e.eventID, e.verified, e.position])).toEqual([[captured[0], true, 0], [captured[1], true, 1]]);

    const bad = await chain.auditCall('GET', `/traces?item=${encodeURIComponent(PALLET)}&direction=sideways`);
    expect([bad.status, bad.body['code'], (bad.body['details'] as Record<string, unknown>)['parameter']]).toEqual([400, 'AUDIT.INVALID_QUERY', 'direction']);
    const missing = await chain.auditCall('GET', '/traces');
    expect([missing.status, missing.body['code']]).toEqual([400, 'AUDIT.INVALID_QUERY']);
    const typo = await chain.auditCall('GET', `/traces?epc=${encodeURIComponent(PALLET)}`);
    expect([typo.status, typo.body['code']]).toEqual([400, 'AUDIT.INVALID_QUERY']);
  });

  it('a proof that was changed does not verify, and says why', async () => {
    const token = await chain.tokenOf(chain.regulator);
    const upstreams = new Upstreams({ ledger: chain.ledger.url, provenance: chain.regulatorProvenance.url });
    const anchor = new ObserverAnchor(upstreams, `Bearer ${token}`, chain.chainId);
    const proof = await upstreams.get<{ receipt: { leafIndex: number; block: { header: { logSize: number } } } }>('provenance', `/provenance/v1/epcis/events/${encodeURIComponent(captured[0])}/proof`, `Bearer ${token}`);
    expect(await anchor.check(proof.receipt)).toMatchObject({ verified: true });
    const head = await anchor.head();
    const moved = JSON.parse(JSON.stringify(proof.receipt)) as { leafIndex: number };
    moved.leafIndex += 1;
    expect(judgeReceipt(moved, head, { consistency: null, observerHeaderHash: null })).toMatchObject({ verified: false, reason: expect.stringMatching(/^receipt: /) });
    // A genuine receipt whose block the observer holds differently.
    expect(judgeReceipt(proof.receipt, head, { consistency: [], observerHeaderHash: '00'.repeat(32) })).toMatchObject({ verified: false, reason: expect.stringMatching(/^observer: the observer node holds another block/) });
    // A checkpoint that does not extend the receipt's log.
    const fake = { ...head, treeSize: head.treeSize + 5 };
    const real = (await anchor.check(proof.receipt)).headerHash;
    expect(judgeReceipt(proof.receipt, fake, { consistency: [], observerHeaderHash: real })).toMatchObject({ verified: false, reason: expect.stringMatching(/^checkpoint: .*consistency proof fails/) });
  });

  it('the receivable tree: issuer, confirmation, holders, split, the financing with rate and fee; every record’s receipt verified', async () => {
    const r = await chain.auditCall('GET', `/receivables/${T2}/tree`);
    expect(r.status, r.text).toBe(200);
    const nodes = r.body['nodes'] as Array<{ receivableId: string; holder: string; issuer: string; status: string; faceValue: string; depth: number; creditLineId: string | null; proof: { verified: boolean; reason: string | null }; financings: Array<Record<string, unknown> & { proof: { verified: boolean } }> }>;
    expect(nodes.map((n) => [n.receivableId, n.depth, n.issuer, n.holder, n.status, n.faceValue, n.creditLineId])).toEqual([
      [R1, 0, 'org1', 'org1', 'split', '100000', LINE],
      [T1, 1, 'org1', 'org1', 'confirmed', '60000', LINE],
      [T2, 1, 'org1', 'org5', 'confirmed', '40000', LINE],
    ]);
    for (const n of nodes) expect(n.proof, JSON.stringify(n.proof)).toMatchObject({ verified: true, reason: null });
    expect(nodes[2].financings).toEqual([expect.objectContaining({ financingId: FIN, kind: 'discounting', financier: 'org3', applicant: 'org5', rateBps: 600, dayCount: 'ACT/360', feeMinor: '100', status: 'disbursed', principal: '40000', proof: expect.objectContaining({ verified: true }) })]);
    expect(r.body).toMatchObject({ rootId: R1, receivableId: T2, faceValue: '100000', paid: '0', outstanding: '100000', financed: '40000', edges: [{ from: R1, to: T1 }, { from: R1, to: T2 }], payments: [], checkedRecords: 4, verifiedRecords: 4, recordCount: 3 });
    // The figures are finance's own.
    const direct = await chain.service(REGULATOR).send('GET', `/receivables/${T2}/tree`);
    expect((direct.body['nodes'] as Array<{ outstanding: string }>).map((n) => n.outstanding)).toEqual(nodes.map((n) => (n as unknown as { outstanding: string }).outstanding));

    const g = await chain.auditGraphql('query($id: String!) { auditReceivableTree(receivableId: $id) { recordCount verifiedRecords outstanding financed nodes { receivableId holder status proof { verified } financings { financingId rateBps dayCount feeMinor discount proof { verified } } } } }', { id: R1 });
    expect(g.errors).toBeUndefined();
    const t = g.data!['auditReceivableTree'] as { recordCount: number; verifiedRecords: number; outstanding: string; financed: string; nodes: Array<{ holder: string; proof: { verified: boolean }; financings: Array<{ discount: string }> }> };
    expect([t.recordCount, t.verifiedRecords, t.outstanding, t.financed]).toEqual([3, 4, '100000', '40000']);
    expect(t.nodes.map((n) => [n.holder, n.proof.verified])).toEqual([['org1', true], ['org1', true], ['org5', true]]);
    expect(t.nodes[2].financings[0].discount).toBe(nodes[2].financings[0]['discount']);

    const unknown = await chain.auditCall('GET', `/receivables/${id('nothing')}/tree`);
    expect([unknown.status, unknown.body['code']]).toEqual([404, 'FINANCE.NOT_FOUND']);
    const bad = await chain.auditCall('GET', '/receivables/x/tree');
    expect([bad.status, bad.body['code']]).toEqual([400, 'AUDIT.INVALID_QUERY']);
  });

  it('exposure per debtor and per financier: finance’s figures, passed through', async () => {
    const r = await chain.auditCall('GET', '/exposure/debtors/org2');
    expect(r.status, r.text).toBe(200);
    const direct = await chain.service(REGULATOR).send('GET', '/exposure/debtors?debtor=org2');
    expect(r.body['items']).toEqual(direct.body['items']);
    expect(r.body['items']).toEqual([
      expect.objectContaining({ debtor: 'org2', currency: 'EUR', receivables: 2, outstanding: '100000', overdue: '0', defaulted: '0', frozen: '0', financed: '40000', creditLines: 1, creditLimit: '200000', creditUsed: '100000' }),
    ]);
    const f = await chain.auditCall('GET', '/exposure/financiers/org3');
    const fDirect = await chain.service(REGULATOR).send('GET', '/exposure/financiers?financier=org3');
    expect(f.body['items']).toEqual(fDirect.body['items']);
    expect(f.body['items']).toEqual([expect.objectContaining({ financier: 'org3', currency: 'EUR', financings: 1, principal: '40000', creditLines: 1, creditLimit: '200000', creditUsed: '100000' })]);

    const g = await chain.auditGraphql('{ auditDebtorExposure(organizationId: "org2") { debtor items { outstanding financed creditUsed financiers { financier financed } } } auditFinancierExposure(organizationId: "org3") { items { financings principal debtors { debtor financings } } } }');
    expect(g.errors).toBeUndefined();
    expect(g.data).toEqual({
      auditDebtorExposure: { debtor: 'org2', items: [{ outstanding: '100000', financed: '40000', creditUsed: '100000', financiers: [{ financier: 'org3', financed: '40000' }] }] },
      auditFinancierExposure: { items: [{ financings: 1, principal: '40000', debtors: [{ debtor: 'org2', financings: 1 }] }] },
    });
    const none = await chain.auditCall('GET', '/exposure/debtors/org9');
    expect([none.status, none.body['items']]).toEqual([200, []]);
    const bad = await chain.auditCall('GET', '/exposure/financiers/ORG3');
    expect([bad.status, bad.body['code']]).toEqual([400, 'AUDIT.INVALID_QUERY']);
  });

  it('payment-term compliance: due in the window, paid on time, not yet due; late ones none; bad windows refused', async () => {
    const window = `from=${utcDate(0)}&to=${utcDate(200)}`;
    const r = await chain.auditCall('GET', `/payment-terms?debtor=org2&${window}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({
      debtor: 'org2',
      from: utcDate(0),
      to: utcDate(200),
      asOf: new Date().toISOString().slice(0, 10),
      items: [
        {
          debtor: 'org2',
          currency: 'EUR',
          due: { count: 3, amount: '130000' },
          paidOnTime: { count: 1, amount: '30000' },
          paidLate: { count: 0, amount: '0', maxDaysLate: null, averageDaysLate: null },
          paidUndated: { count: 0, amount: '0' },
          overdue: { count: 0, outstanding: '0', maxDaysOverdue: null },
          defaulted: { count: 0, outstanding: '0' },
          notYetDue: { count: 2, outstanding: '100000' },
          late: [],
        },
      ],
    });
    // Only R1's parts are due in a window after R2's due date.
    const later = await chain.auditCall('GET', `/payment-terms?debtor=org2&from=${utcDate(100)}&to=${utcDate(200)}`);
    expect((later.body['items'] as Array<{ due: unknown; paidOnTime: unknown }>).map((i) => [i.due, i.paidOnTime])).toEqual([[{ count: 2, amount: '100000' }, { count: 0, amount: '0' }]]);

    const g = await chain.auditGraphql('query($f: String!, $t: String!) { auditPaymentTerms(debtor: "org2", from: $f, to: $t) { asOf items { debtor currency due { count amount } paidOnTime { count amount } paidLate { count maxDaysLate averageDaysLate } notYetDue { count outstanding } late { receivableId } } } }', { f: utcDate(0), t: utcDate(200) });
    expect(g.errors).toBeUndefined();
    expect((g.data!['auditPaymentTerms'] as { items: unknown[] }).items).toEqual([
      { debtor: 'org2', currency: 'EUR', due: { count: 3, amount: '130000' }, paidOnTime: { count: 1, amount: '30000' }, paidLate: { count: 0, maxDaysLate: null, averageDaysLate: null }, notYetDue: { count: 2, outstanding: '100000' }, late: [] },
    ]);

    for (const [query, parameter] of [
      [`debtor=org2&from=${utcDate(10)}&to=${utcDate(0)}`, 'to'],
      ['debtor=org2&from=2026-02-30&to=2027-01-01', 'from'],
      [`debtor=org2&to=${utcDate(0)}`, 'from'],
      [`${window}&status=settled`, 'status'],
    ]) {
      const bad = await chain.auditCall('GET', `/payment-terms?${query}`);
      expect([bad.status, bad.body['code'], (bad.body['details'] as Record<string, unknown> | undefined)?.['parameter']], query).toEqual([400, 'AUDIT.INVALID_QUERY', parameter]);
    }
    const gBad = await chain.auditGraphql('{ auditPaymentTerms(from: "2027-01-02", to: "2027-01-01") { asOf } }');
    expect(gBad.errors?.[0]?.extensions?.['code']).toBe('AUDIT.INVALID_QUERY');
  });

  it('refuses a member’s token (403) over REST and GraphQL, and records every view in the access log with its record count', async () => {
    for (const path of ['/entities/organizations', `/traces?item=${encodeURIComponent(PALLET)}`, `/receivables/${R1}/tree`, '/exposure/debtors/org2', '/exposure/financiers/org3', `/payment-terms?from=${utcDate(0)}&to=${utcDate(1)}`]) {
      const r = await chain.auditCall('GET', path, undefined, m('org2'));
      expect(r.status, path).toBe(403);
    }
    const g = await chain.auditGraphql('{ auditOrganizations { recordCount } }', {}, m('org2'));
    expect(g.errors?.[0]?.extensions?.['code']).toMatch(/^AUTH\./);

    const log = await chain.auditCall('GET', '/access-log?limit=1000');
    const entries = log.body['items'] as Array<{ operation: string; recordCount: number; outcome: string; organizationId: string }>;
    const find = (operation: string) => entries.filter((e) => e.operation === operation && e.outcome === 'ok' && e.organizationId === REGULATOR).map((e) => e.recordCount);
    expect(find('GET /audit/v1/entities/organizations')).toContain(5);
    expect(find('GET /audit/v1/traces')).toContain(2);
    expect(find('GET /audit/v1/receivables/:receivableId/tree')).toContain(3);
    expect(find('Query.auditTrace')).toContain(2);
    expect(entries.some((e) => e.operation === 'GET /audit/v1/receivables/:receivableId/tree' && e.outcome === 'FINANCE.NOT_FOUND')).toBe(true);
  });
});
