// A chain for audit tests: the finance test chain (a real ledger node of org1 in this process on real
// PostgreSQL, identity for sign-in, finance services per organization) with the regulator `reg` as an
// observer of the chain, running its own finance and provenance read models and the audit service on one
// database, signing (evidence, the access log's head) with its admin key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '@alliance/protocol';
import { startService, type RunningService } from '@alliance/shared/feature-platform';
import { freePort } from '@alliance/shared/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { FinanceTestChain, type Member } from '../../finance/test/harness';
import { auditService } from '../src/main';

// eslint-disable-next-line @nx/enforce-module-boundaries
export { call, member, until } from '../../finance/test/harness';

export const REGULATOR = 'reg';

export class AuditTestChain extends FinanceTestChain {
  audit!: RunningService;
  regulatorProvenance!: RunningService;

  /**
   * Starts the chain with a finance service for `organizations` and for the regulator, the regulator's
   * provenance read model and its audit service. `env` adds to the audit service's variables.
   */
  async startAudit(databaseUrl: string, prefix: string, organizations: readonly string[], env: Record<string, string> = {}): Promise<void> {
    await this.startAll(databaseUrl, prefix, [...organizations, REGULATOR]);
    this.regulatorProvenance = await this.startProvenance(REGULATOR);
    const reg = this.regulator;
    const keyFile = join(mkdtempSync(join(tmpdir(), 'alliance-audit-')), 'reg.key.json');
    writeFileSync(keyFile, JSON.stringify({ warning: 'TEST KEY', organizationId: REGULATOR, algorithm: 'ed25519', privateKey: toHex(reg.admin.privateKey), publicKey: toHex(reg.admin.publicKey) }));
    this.audit = await startService(auditService, {
      DATABASE_URL: this.service(REGULATOR).service.runtime.config.DATABASE_URL,
      MESSAGING: 'postgres',
      ORG_ID: REGULATOR,
      CHAIN_ID: this.chainId,
      LOG_LEVEL: process.env['AUDIT_TEST_LOG'] ?? 'silent',
      PORT: String(await freePort()),
      AUTH_JWKS_URL: `${this.identity!.url}/identity/v1/.well-known/jwks.json`,
      AUDIT_LEDGER_URL: this.ledger.url,
      AUDIT_MEMBER_NODES: `org1=${this.ledger.url}`,
      AUDIT_IDENTITY_URL: this.identity!.url,
      AUDIT_PROVENANCE_URL: this.regulatorProvenance.url,
      AUDIT_FINANCE_URL: this.service(REGULATOR).service.url,
      AUDIT_SIGNING_KEY_FILE: keyFile,
      ...env,
    });
  }

  get regulator(): Member {
    const reg = this.observers.find((o) => o.organizationId === REGULATOR);
    if (!reg) throw new Error('the chain has no observer reg: pass [member(REGULATOR, "regulator")] as observers');
    return reg;
  }

  /** A request to the audit API (`/audit/v1` + path) as `as` (default the regulator's admin). */
  async auditCall(method: string, path: string, body?: unknown, as: Member = this.regulator): Promise<{ status: number; headers: Headers; body: Record<string, unknown>; text: string }> {
    const token = await this.tokenOf(as);
    const res = await fetch(`${this.audit.url}/audit/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = {};
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  /** A GraphQL request to the audit subgraph as `as` (default the regulator). */
  async auditGraphql(query: string, variables: Record<string, unknown> = {}, as: Member = this.regulator): Promise<{ data?: Record<string, unknown>; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }> {
    const token = await this.tokenOf(as);
    const res = await fetch(`${this.audit.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as never;
  }

  override async stop(): Promise<void> {
    await this.audit?.close();
    await super.stop();
  }
}
