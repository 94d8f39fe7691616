// A chain for identity tests: a real ledger service (org1's node, in this process) on real PostgreSQL with
// embedded messaging, identity services started beside it, and the whole sign-in by key as a client does it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { canonicalBytes, formatTimestamp, generateKeyPair, keyId, sign, SignatureDomain, signTransaction, toBase64Url, toHex, type Envelope, type KeyPair } from '@alliance/protocol';
import type { ChainConfig, JsonValue } from '@alliance/ledger/domain';
import { startService, type RunningService } from '@alliance/shared/feature-platform';
import { createTestDatabase, freePort, type TestDatabase } from '@alliance/shared/testing';
// The real ledger service: the read model is tested against the node it follows in production.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ledgerService } from '../../ledger/src/main';
import { identityService } from '../src/main';

export interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface CallOptions extends RequestInit {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
}

export async function call(url: string, init: CallOptions = {}): Promise<Reply> {
  const { token, ...rest } = init;
  const headers = { ...(rest.body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...(rest.headers as Record<string, string> | undefined) };
  const res = await fetch(url, { ...rest, headers });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

export const post = (url: string, body: unknown, token?: string) => call(url, { method: 'POST', body: JSON.stringify(body), token });

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Member {
  readonly organizationId: string;
  readonly role: string;
  readonly admin: KeyPair;
}

export const member = (organizationId: string, role = 'manufacturer'): Member => ({ organizationId, role, admin: generateKeyPair('ed25519') });
export const keyIdOf = (k: KeyPair) => keyId('ed25519', k.publicKey);

export interface TokenReply {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
  readonly principal: Record<string, unknown>;
}

/** org1 runs the only ledger node; the other members are in the configuration (certification threshold 1). */
export class IdentityTestChain {
  private nonce = 0;
  ledger!: RunningService;
  identity: RunningService | undefined;
  private database!: TestDatabase;
  readonly node = generateKeyPair('ed25519');

  constructor(
    readonly chainId: string,
    readonly members: readonly Member[],
    /** Observer organizations (regulators): on the chain with their keys, certifying and voting nothing. */
    readonly observers: readonly Member[] = [],
  ) {}

  get config(): ChainConfig {
    return {
      chainId: this.chainId,
      sequence: 0,
      members: this.members.map((m, i) => ({
        organizationId: m.organizationId,
        role: m.role,
        nodeKey: { algorithm: 'ed25519', publicKey: toHex(i === 0 ? this.node.publicKey : generateKeyPair('ed25519').publicKey) },
        keys: [{ keyId: keyIdOf(m.admin), algorithm: 'ed25519', publicKey: toHex(m.admin.publicKey) }],
      })),
      ...(this.observers.length ? { observers: this.observers.map((o) => ({ organizationId: o.organizationId, role: o.role, keys: [{ keyId: keyIdOf(o.admin), algorithm: 'ed25519', publicKey: toHex(o.admin.publicKey) }] })) } : {}),
      policies: { certification: { type: 'threshold', threshold: 1 }, configuration: { type: 'threshold', threshold: 1 } },
      cutting: { maxTransactions: 10, maxBytes: 1_048_576, batchTimeoutMs: 20 },
      timestampWindowMs: 300_000,
    };
  }

  private env() {
    return { DATABASE_URL: this.database.url, MESSAGING: 'postgres', ORG_ID: 'org1', CHAIN_ID: this.chainId, LOG_LEVEL: 'silent' };
  }

  async start(databaseUrl: string, prefix: string): Promise<void> {
    this.database = await createTestDatabase(databaseUrl, prefix);
    const dir = mkdtempSync(join(tmpdir(), 'alliance-identity-'));
    writeFileSync(join(dir, 'genesis.json'), JSON.stringify(this.signed(this.members[0], 'config.genesis', { config: this.config })));
    writeFileSync(join(dir, 'node.key.json'), JSON.stringify({ publicKey: toHex(this.node.publicKey), privateKey: toHex(this.node.privateKey) }));
    this.ledger = await startService(ledgerService, { ...this.env(), PORT: String(await freePort()), LEDGER_GENESIS_FILE: join(dir, 'genesis.json'), LEDGER_NODE_KEY_FILE: join(dir, 'node.key.json') });
  }

  async startIdentity(extraEnv: Record<string, string> = {}): Promise<RunningService> {
    this.identity = await startService(identityService, { ...this.env(), PORT: String(await freePort()), LEDGER_URL: this.ledger.url, IDENTITY_POLL_INTERVAL_MS: '200', ...extraEnv });
    return this.identity;
  }

  async stop(): Promise<void> {
    await this.identity?.close();
    await this.ledger?.close();
    await this.database?.drop();
  }

  signed(by: Member, type: string, payload: Record<string, unknown>, key: KeyPair = by.admin): Envelope {
    return signTransaction(
      { chainId: this.chainId, type, creator: { organizationId: by.organizationId, keyId: keyIdOf(key) }, nonce: `n${this.nonce++}`, timestamp: formatTimestamp(Date.now()), payload: payload as never },
      { algorithm: 'ed25519', privateKey: key.privateKey },
    );
  }

  /** Submits and waits for the certified block; the transaction must be VALID. */
  async submit(envelope: Envelope): Promise<number> {
    const r = await post(`${this.ledger.url}/ledger/v1/transactions?wait=commit`, envelope);
    expect(r.body['code'], JSON.stringify(r.body)).toBe('VALID');
    return r.body['blockNumber'] as number;
  }

  async lastBlock(): Promise<number> {
    return Number((await this.identity!.runtime.pool.query('SELECT last_block FROM identity.projection')).rows[0].last_block);
  }

  caughtUp(n: number): Promise<true> {
    return until(`read model at block ${n}`, async () => ((await this.lastBlock()) >= n ? true : undefined));
  }

  get identityApi(): string {
    return `${this.identity!.url}/identity/v1`;
  }

  challengeFor(organizationId: string, key: KeyPair): Promise<Reply> {
    return post(`${this.identityApi}/auth/challenges`, { organizationId, keyId: keyIdOf(key) });
  }

  /** The client's side of the challenge: its canonical bytes signed in the auth-challenge domain (docs/identity.md, Sign-in). */
  static signChallenge(challenge: unknown, key: KeyPair): string {
    return toBase64Url(sign('ed25519', key.privateKey, SignatureDomain.authChallenge, canonicalBytes(challenge as JsonValue)));
  }

  async signIn(organizationId: string, key: KeyPair): Promise<TokenReply> {
    const c = await this.challengeFor(organizationId, key);
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const t = await post(`${this.identityApi}/auth/tokens`, { challengeId: c.body['challengeId'], signature: IdentityTestChain.signChallenge(c.body['challenge'], key) });
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    return t.body as unknown as TokenReply;
  }
}
