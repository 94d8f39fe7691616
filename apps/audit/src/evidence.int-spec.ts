// Issue 7, item 7 and "done means": an evidence package — a receivable's tree, an item's trace — exported by the
// regulator's audit service verifies offline (the SDK's verifyEvidence and `alliance verify evidence <file>`
// against the chain's genesis file), and flipping a byte of it makes verification fail.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
// The evidence format and its verifier are the SDK's (the brief: audit reads and verifies through @alliance/sdk).
import { type EvidencePackage, issuerKeysOf, trustFromGenesis, verifyEvidence } from '@alliance/sdk';
import type { RunningService } from '@alliance/shared/feature-platform';
import { AllianceError } from '@alliance/shared/util-errors';
import { EvidenceBuilder } from './evidence';
import { AuditTestChain, member, REGULATOR, until } from '../test/harness';

const BIN = resolve(__dirname, '../../../libs/sdk/bin/alliance.js');
const run = Date.now().toString(36);
const id = (name: string) => `${name}-${run}`;
const ROOT = id('ev-root');
const T1 = id('ev-t1');
const T2 = id('ev-t2');
const LINE = id('ev-line');
const FIN = id('ev-fin');
const DUE = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
const SGTIN = `urn:epc:id:sgtin:4012345.011111.${run}1`;
const SSCC1 = 'urn:epc:id:sscc:4012345.0000000017';
const SSCC2 = 'urn:epc:id:sscc:4012345.0000000024';

function alliance(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

describe('evidence packages: exported by the audit service, verified offline', () => {
  const chain = new AuditTestChain('audit-evidence', [member('org1', 'supplier'), member('org2', 'manufacturer'), member('org3', 'financier')], [member(REGULATOR, 'regulator')]);
  const dir = mkdtempSync(join(tmpdir(), 'alliance-evidence-int-'));
  let provenance: RunningService;
  let genesis: unknown;

  beforeAll(async () => {
    await chain.startAudit(inject('databaseUrl'), 'audit_evidence', ['org1', 'org2', 'org3']);
    provenance = await chain.startProvenance('org1');
    // The members file a verifier pins: the chain's genesis envelope (with the regulator among its observers).
    const block0 = (await (await fetch(`${chain.ledger.url}/ledger/v1/blocks/0/transactions`)).json()) as { transactions: Array<{ envelope: string }> };
    genesis = JSON.parse(Buffer.from(block0.transactions[0].envelope, 'base64').toString('utf8'));
    writeFileSync(join(dir, 'genesis.json'), JSON.stringify(genesis));
    // A verifier that pins other members.
    writeFileSync(join(dir, 'others.json'), JSON.stringify({ members: [{ organizationId: 'org1', algorithm: 'ed25519', publicKey: 'ab'.repeat(32) }] }));
    await alliance(['--version']); // the first run may build dist/
  }, 240_000);
  afterAll(async () => {
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function step(org: string, method: string, path: string, body: unknown, expected = 200) {
    const r = await chain.service(org).send(method, path, body);
    expect(r.status, `${org} ${method} ${path}: ${JSON.stringify(r.body)}`).toBe(expected);
    return r.body;
  }

  const pinned = () => ({ trust: trustFromGenesis(genesis), issuerKeys: issuerKeysOf(genesis) });

  async function cliChecks(text: string, name: string) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, text);
    const ok = await alliance(['verify', 'evidence', file, '--members', join(dir, 'genesis.json')]);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^evidence OK: .* signed by ${REGULATOR} \\(key [0-9a-f]{32}, pinned\\)`));
    const bytes = Buffer.from(text, 'utf8');
    bytes[Math.floor(bytes.length / 2)] ^= 0x04;
    writeFileSync(join(dir, `${name}-flipped.json`), bytes);
    const flipped = await alliance(['verify', 'evidence', join(dir, `${name}-flipped.json`), '--members', join(dir, 'genesis.json')]);
    expect(flipped.code).toBe(1);
    expect(flipped.stdout).toMatch(/^evidence INVALID: EVIDENCE\.[A-Z_]+: /);
    const others = await alliance(['verify', 'evidence', file, '--members', join(dir, 'others.json')]);
    expect(others.code).toBe(1);
    expect(others.stdout).toMatch(/EVIDENCE\.BAD_RECEIPT: .*PROTOCOL\.MEMBERS_MISMATCH/);
  }

  it('a receivable issued, confirmed, split and financed: its tree exports as a package that verifies offline, a flipped byte does not', async () => {
    const documents = [{ docType: 'purchase-order', hash: createHash('sha256').update(`PO ${run}`).digest('hex'), amount: '100000' }];
    await step('org1', 'POST', '/receivables', { receivableId: ROOT, debtor: 'org2', currency: 'EUR', faceValue: '100000', dueDate: DUE, documents }, 201);
    await step('org3', 'POST', '/credit-lines', { creditLineId: LINE, debtor: 'org2', currency: 'EUR', limit: '150000' }, 201);
    await step('org2', 'POST', `/receivables/${ROOT}/confirm`, { creditLineId: LINE });
    await step('org1', 'POST', `/receivables/${ROOT}/split`, { parts: [{ receivableId: T1, faceValue: '60000', holder: 'org1' }, { receivableId: T2, faceValue: '40000', holder: 'org1' }] });
    await step('org1', 'POST', '/financings', { financingId: FIN, assetKind: 'receivable', assetId: T1, financier: 'org3', kind: 'discounting' }, 201);
    await step('org3', 'POST', `/financings/${FIN}/approve`, { rateBps: 600, dayCount: 'ACT/360', feeMinor: '100' });

    // The regulator's finance read model follows its observer node: wait until it shows the financing.
    const answer = await until('the regulator sees the financed tree', async () => {
      const r = await chain.auditCall('GET', `/evidence/receivables/${T1}`);
      expect(r.status, r.text).toBe(200);
      const pkg = JSON.parse(r.text) as EvidencePackage;
      return pkg.records.some((x) => x.type === 'state-write' && x.key === `finance/financing/${FIN}` && (x.value as { status?: string }).status === 'approved') ? r : undefined;
    });
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('content-disposition')).toBe(`attachment; filename="evidence-receivable-${T1}.json"`);
    const pkg = JSON.parse(answer.text) as EvidencePackage;
    expect(pkg.case).toEqual({ kind: 'receivable', subject: T1, rootId: ROOT });
    // Every write of the tree, in log order: issue, confirm, split (three nodes), apply, approve (financing and node).
    const history = pkg.records.map((r) => (r.type === 'state-write' ? `${r.key.replace(`-${run}`, '')}@${r.version}` : ''));
    expect(history).toEqual([
      'finance/receivable/ev-root@1',
      'finance/receivable/ev-root@2',
      'finance/receivable/ev-root@3',
      'finance/receivable/ev-t1@1',
      'finance/receivable/ev-t2@1',
      'finance/financing/ev-fin@1',
      'finance/financing/ev-fin@2',
      'finance/receivable/ev-t1@2',
    ]);
    expect(pkg.transactions.map((t) => t.receipt.envelope.transaction.type)).toEqual(['finance.receivable.issue', 'finance.receivable.confirm', 'finance.receivable.split', 'finance.financing.apply', 'finance.financing.approve']);
    expect(pkg.csv['receivables.csv'].split('\r\n')).toHaveLength(5); // header, three nodes, final empty
    expect(pkg.csv['financings.csv']).toContain(`${FIN},receivable,${T1},org1,org3,discounting`);

    const verdict = verifyEvidence(new TextEncoder().encode(answer.text), pinned());
    expect(verdict).toMatchObject({ ok: true, issuerPinned: true, membersPinned: true, records: 8, transactions: 5, case: { kind: 'receivable', subject: T1 } });
    const flipped = Buffer.from(answer.text, 'utf8');
    flipped[200] ^= 0x01;
    expect(verifyEvidence(flipped, pinned()).ok).toBe(false);
    await cliChecks(answer.text, 'receivable');

    // The same package through GraphQL (what the dashboard saves): a file of the same records that verifies on its own.
    const gql = await chain.auditGraphql('query ($id: String!) { auditEvidenceReceivable(receivableId: $id) { fileName mediaType content recordCount transactionCount } }', { id: T1 });
    expect(gql.errors).toBeUndefined();
    const file = gql.data?.['auditEvidenceReceivable'] as { fileName: string; mediaType: string; content: string; recordCount: number; transactionCount: number };
    expect(file).toMatchObject({ fileName: `evidence-receivable-${T1}.json`, mediaType: 'application/json', recordCount: 8, transactionCount: 5 });
    expect((JSON.parse(file.content) as EvidencePackage).records).toEqual(pkg.records);
    expect(verifyEvidence(new TextEncoder().encode(file.content), pinned())).toMatchObject({ ok: true, issuerPinned: true, records: 8, transactions: 5 });
    const gqlBad = await chain.auditGraphql('{ auditEvidenceReceivable(receivableId: "x") { fileName } }');
    expect(gqlBad.errors?.[0].extensions?.['code']).toBe('AUDIT.INVALID_QUERY');

    // The export is an audit query like any other: recorded, with how many records it held.
    const log = await chain.auditCall('GET', '/access-log?limit=1000');
    const entry = (log.body['items'] as Array<{ operation: string; outcome: string; recordCount: number; parameters: string }>).reverse().find((e) => e.operation === 'GET /audit/v1/evidence/receivables/:receivableId' && e.outcome === 'ok');
    expect(entry).toMatchObject({ recordCount: 8 });
    const bad = await chain.auditCall('GET', '/evidence/receivables/x');
    expect(bad.status).toBe(400);
    expect(bad.body['code']).toBe('AUDIT.INVALID_QUERY');
    const unknown = await chain.auditCall('GET', `/evidence/receivables/${id('no-such')}`);
    expect(unknown.status).toBe(404);
    // Without the regulator's key there is nothing to sign with.
    const unsigned = new EvidenceBuilder({ runtime: chain.audit.runtime, upstreams: { url: () => chain.ledger.url, get: () => Promise.reject(new Error('not asked')) } } as never);
    await expect(unsigned.receivable(T1, undefined)).rejects.toSatisfy((e: unknown) => e instanceof AllianceError && e.code === 'AUDIT.NOT_CONFIGURED');
  }, 180_000);

  it('a captured trace exports as a package that verifies offline: each event is the one its capture transaction carries', async () => {
    const time = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const { eventIds, job } = await chain.capture(provenance, chain.members[0], [
      { type: 'ObjectEvent', eventTime: time(30), eventTimeZoneOffset: '+00:00', action: 'ADD', bizStep: 'commissioning', epcList: [SGTIN], readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' } },
      { type: 'AggregationEvent', eventTime: time(20), eventTimeZoneOffset: '+00:00', action: 'ADD', bizStep: 'packing', parentID: SSCC1, childEPCs: [SGTIN], readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' } },
      { type: 'AggregationEvent', eventTime: time(10), eventTimeZoneOffset: '+00:00', action: 'ADD', bizStep: 'packing', parentID: SSCC2, childEPCs: [SSCC1], readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' } },
    ]);
    expect(job).toMatchObject({ success: true, errors: [] });

    const answer = await until('the regulator’s provenance has the trace', async () => {
      const a = await chain.auditCall('GET', `/evidence/traces?item=${encodeURIComponent(SGTIN)}`);
      if (a.status === 404) return undefined;
      expect(a.status, a.text).toBe(200);
      return (JSON.parse(a.text) as EvidencePackage).records.length >= 2 ? a : undefined;
    });
    expect(answer.headers.get('content-disposition')).toMatch(/^attachment; filename="evidence-trace-/);
    const pkg = JSON.parse(answer.text) as EvidencePackage;
    if (pkg.case.kind !== 'trace') throw new Error('not a trace package');
    expect(pkg.case.nodes.map((n) => n.depth).sort()).toEqual([0, 1, 2]);
    expect(pkg.case.edges).toHaveLength(2);
    expect(pkg.records.map((x) => (x.type === 'epcis-event' ? x.eventId : '')).sort()).toEqual([eventIds[1], eventIds[2]].sort());
    expect(pkg.records.every((x) => x.type === 'epcis-event' && x.origin === 'capture')).toBe(true);
    expect(pkg.transactions).toHaveLength(1);
    expect(pkg.transactions[0].receipt.envelope.transaction.type).toBe('provenance.epcis.capture');
    expect(pkg.csv['edges.csv'].split('\r\n')).toHaveLength(4);

    expect(verifyEvidence(new TextEncoder().encode(answer.text), pinned())).toMatchObject({ ok: true, issuerPinned: true, membersPinned: true, records: 2, transactions: 1 });
    await cliChecks(answer.text, 'trace');
    const gql = await chain.auditGraphql('query ($item: String!) { auditEvidenceTrace(item: $item) { fileName content recordCount transactionCount } }', { item: SGTIN });
    expect(gql.errors).toBeUndefined();
    const file = gql.data?.['auditEvidenceTrace'] as { fileName: string; content: string; recordCount: number; transactionCount: number };
    expect(file).toMatchObject({ recordCount: 2, transactionCount: 1 });
    expect(file.fileName).toBe(`evidence-trace-${SGTIN.replace(/:/g, '_')}.json`);
    expect(verifyEvidence(new TextEncoder().encode(file.content), pinned())).toMatchObject({ ok: true, records: 2, transactions: 1 });

    const missing = await chain.auditCall('GET', '/evidence/traces');
    expect(missing.status).toBe(400);
    expect(missing.body['code']).toBe('AUDIT.INVALID_QUERY');
  }, 180_000);
});
