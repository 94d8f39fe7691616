// A chain for finance tests: the identity test chain (a real ledger node of org1 in this process on real
// PostgreSQL, the identity service for sign-in) with one finance service per member that takes part, each
// in a database of its own and signing with its organization's admin key, all following org1's node.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '@alliance/protocol';
import { startService, type RunningService } from '@alliance/shared/feature-platform';
import { createTestDatabase, freePort, type TestDatabase } from '@alliance/shared/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { call, IdentityTestChain, type Member, type Reply, until } from '../../identity/test/harness';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { provenanceService } from '../../provenance/src/main';
import { financeService } from '../src/main';

// eslint-disable-next-line @nx/enforce-module-boundaries
export { call, member, until } from '../../identity/test/harness';
// eslint-disable-next-line @nx/enforce-module-boundaries
export type { Member } from '../../identity/test/harness';

export interface FinanceNode {
  readonly member: Member;
  readonly service: RunningService;
  /** Sends a request to this organization's finance API as its admin (`/finance/v1` + path). */
  send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply & { headers: Headers }>;
}

export class FinanceTestChain extends IdentityTestChain {
  readonly finance = new Map<string, FinanceNode>();
  private readonly databases: TestDatabase[] = [];
  private readonly tokens = new Map<string, { token: string; at: number }>();

  /**
   * Starts the ledger, identity and a finance service for each organization in
   * `organizations`; `env(organizationId)` adds to or overrides its variables
   * (e.g. `MESSAGING: 'kafka'` for the one whose events a test reads).
   */
  async startAll(databaseUrl: string, prefix: string, organizations: readonly string[], env: (organizationId: string) => Record<string, string> = () => ({})): Promise<void> {
    await this.start(databaseUrl, prefix);
    const identity = await this.startIdentity();
    const dir = mkdtempSync(join(tmpdir(), 'alliance-finance-'));
    for (const organizationId of organizations) {
      const m = this.members.find((x) => x.organizationId === organizationId) ?? this.observers.find((x) => x.organizationId === organizationId);
      if (!m) throw new Error(`no member ${organizationId}`);
      const keyFile = join(dir, `${organizationId}.key.json`);
      writeFileSync(keyFile, JSON.stringify({ warning: 'TEST KEY', organizationId, algorithm: 'ed25519', privateKey: toHex(m.admin.privateKey), publicKey: toHex(m.admin.publicKey) }));
      // org1 shares the chain's database (its schema `finance` is free there); the others get one each.
      let url = identity.runtime.config.DATABASE_URL;
      if (organizationId !== 'org1') {
        const db = await createTestDatabase(databaseUrl, `${prefix}_${organizationId}`);
        this.databases.push(db);
        url = db.url;
      }
      const service = await startService(financeService, {
        DATABASE_URL: url,
        MESSAGING: 'postgres',
        ORG_ID: organizationId,
        CHAIN_ID: this.chainId,
        LOG_LEVEL: process.env['FINANCE_TEST_LOG'] ?? 'silent',
        PORT: String(await freePort()),
        LEDGER_URL: this.ledger.url,
        FINANCE_LEDGER_NODE_ID: 'org1-node',
        AUTH_JWKS_URL: `${identity.url}/identity/v1/.well-known/jwks.json`,
        FINANCE_SIGNING_KEY_FILE: keyFile,
        FINANCE_POLL_INTERVAL_MS: '100',
        ...env(organizationId),
      });
      const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
        const token = await this.tokenOf(m);
        const res = await fetch(`${service.url}/finance/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
      };
      this.finance.set(organizationId, { member: m, service, send });
    }
  }

  /** A valid access token of the organization's admin (tokens live 60 s: signed in again after 45). */
  async tokenOf(m: Member): Promise<string> {
    const held = this.tokens.get(m.organizationId);
    if (held && Date.now() - held.at < 45_000) return held.token;
    const token = (await this.signIn(m.organizationId, m.admin)).accessToken;
    this.tokens.set(m.organizationId, { token, at: Date.now() });
    return token;
  }

  service(organizationId: string): FinanceNode {
    const node = this.finance.get(organizationId);
    if (!node) throw new Error(`no finance service of ${organizationId}`);
    return node;
  }

  private readonly provenance: RunningService[] = [];

  /**
   * The organization's provenance service beside its finance service, on the same database (one member,
   * one PostgreSQL, the embedded transport between them), signing with the organization's admin key.
   */
  async startProvenance(organizationId: string): Promise<RunningService> {
    const m = this.members.find((x) => x.organizationId === organizationId) ?? this.observers.find((x) => x.organizationId === organizationId);
    if (!m) throw new Error(`no member ${organizationId}`);
    const keyFile = join(mkdtempSync(join(tmpdir(), 'alliance-provenance-')), `${organizationId}.key.json`);
    writeFileSync(keyFile, JSON.stringify({ warning: 'TEST KEY', organizationId, algorithm: 'ed25519', privateKey: toHex(m.admin.privateKey), publicKey: toHex(m.admin.publicKey) }));
    const readOnly = this.observers.some((x) => x.organizationId === organizationId);
    const service = await startService(provenanceService, {
      DATABASE_URL: this.service(organizationId).service.runtime.config.DATABASE_URL,
      MESSAGING: 'postgres',
      ORG_ID: organizationId,
      CHAIN_ID: this.chainId,
      LOG_LEVEL: process.env['PROVENANCE_TEST_LOG'] ?? 'silent',
      PORT: String(await freePort()),
      LEDGER_URL: this.ledger.url,
      AUTH_JWKS_URL: `${this.identity!.url}/identity/v1/.well-known/jwks.json`,
      // An observer signs nothing: its provenance service only reads.
      ...(readOnly ? {} : { PROVENANCE_SIGNING_KEY_FILE: keyFile }),
      PROVENANCE_POLL_INTERVAL_MS: '100',
    });
    this.provenance.push(service);
    return service;
  }

  /**
   * Captures `events` as one EPCIS 2.0 document through `provenance` (`POST /provenance/v1/epcis/capture`) as
   * `as`'s admin and waits for the job to succeed; the events' ids, in order. The job's record when it did not.
   */
  async capture(provenance: RunningService, as: Member, events: readonly unknown[]): Promise<{ eventIds: string[]; job: Record<string, unknown> }> {
    const token = await this.tokenOf(as);
    const api = `${provenance.url}/provenance/v1/epcis/capture`;
    const document = { '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList: events } };
    const r = await call(api, { method: 'POST', body: JSON.stringify(document), token, headers: { 'content-type': 'application/ld+json' } });
    if (r.status !== 202) throw new Error(`capture answered ${r.status}: ${JSON.stringify(r.body)}`);
    const job = await until('the capture job', async () => {
      const j = await call(`${api}/${String(r.body['captureID'])}`, { token });
      return j.body['running'] === false ? j.body : undefined;
    });
    if (job['success'] !== true) throw new Error(`the capture job failed: ${JSON.stringify(job)}`);
    return { eventIds: job['eventIDs'] as string[], job };
  }

  override async stop(): Promise<void> {
    for (const service of this.provenance) await service.close();
    for (const node of this.finance.values()) await node.service.close();
    await super.stop();
    for (const db of this.databases) await db.drop();
  }
}
