// A chain for provenance tests: the identity test chain (a real ledger node of org1 in this process on real
// PostgreSQL, the identity service for sign-in) with org1's provenance service beside it, signing with org1's admin key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '@alliance/protocol';
import { startService, type RunningService } from '@alliance/shared/feature-platform';
import { freePort } from '@alliance/shared/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { IdentityTestChain, type Member } from '../../identity/test/harness';
import { provenanceService } from '../src/main';

// eslint-disable-next-line @nx/enforce-module-boundaries
export { call, member, post, until } from '../../identity/test/harness';

export class ProvenanceTestChain extends IdentityTestChain {
  provenance!: RunningService;
  token!: string;

  /** `env` adds to or overrides the provenance service's variables (e.g. `MESSAGING: 'kafka'` with `KAFKA_BROKERS`). */
  async startAll(databaseUrl: string, prefix: string, env: Record<string, string> = {}): Promise<void> {
    await this.start(databaseUrl, prefix);
    const identity = await this.startIdentity();
    const dir = mkdtempSync(join(tmpdir(), 'alliance-provenance-'));
    const keyFile = join(dir, 'org1.key.json');
    const org1: Member = this.members[0];
    writeFileSync(keyFile, JSON.stringify({ warning: 'TEST KEY', organizationId: org1.organizationId, algorithm: 'ed25519', privateKey: toHex(org1.admin.privateKey), publicKey: toHex(org1.admin.publicKey) }));
    this.provenance = await startService(provenanceService, {
      DATABASE_URL: identity.runtime.config.DATABASE_URL,
      MESSAGING: 'postgres',
      ORG_ID: 'org1',
      CHAIN_ID: this.chainId,
      LOG_LEVEL: process.env['PROVENANCE_TEST_LOG'] ?? 'silent',
      PORT: String(await freePort()),
      LEDGER_URL: this.ledger.url,
      AUTH_JWKS_URL: `${identity.url}/identity/v1/.well-known/jwks.json`,
      PROVENANCE_SIGNING_KEY_FILE: keyFile,
      PROVENANCE_POLL_INTERVAL_MS: '100',
      ...env,
    });
    await this.auth();
  }

  private tokenAt = 0;

  /** A valid access token of org1's admin (tokens live 60 s: signed in again after 45). */
  async auth(): Promise<string> {
    if (Date.now() - this.tokenAt > 45_000) {
      this.token = (await this.signIn(this.members[0].organizationId, this.members[0].admin)).accessToken;
      this.tokenAt = Date.now();
    }
    return this.token;
  }

  get api(): string {
    return `${this.provenance.url}/provenance/v1`;
  }

  override async stop(): Promise<void> {
    await this.provenance?.close();
    await super.stop();
  }
}
