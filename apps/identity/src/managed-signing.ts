import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { findAgentKey, type JsonValue, resolveSigningKey, CONFIG_KEY, type ChainConfig } from '@alliance/ledger/domain';
import { formatTimestamp, generateKeyPair, IDENTIFIER_PATTERN, KEY_ID_PATTERN, keyId as keyIdOf, signTransaction, toHex, TRANSACTION_TYPE_PATTERN, transactionId, type Envelope } from '@alliance/protocol';
import type { Pool } from '@alliance/shared/data-access-postgres';
import type { Principal } from '@alliance/shared/util-auth';
import { AllianceError } from '@alliance/shared/util-errors';
import type { IdentityReadModel } from './read-model';

export const ManagedSigningErrors = {
  disabled: () => new AllianceError('IDENTITY.MANAGED_SIGNING_DISABLED', 'conflict', 'managed signing is off: set IDENTITY_MANAGED_SIGNING_KEY_FILE to the master key that unlocks the managed keys'),
  invalid: (message: string) => new AllianceError('IDENTITY.INVALID_PARAMETER', 'invalid', message),
  agentNotFound: (org: string, agent: string) => new AllianceError('IDENTITY.AGENT_NOT_FOUND', 'not-found', `organization ${org} has no agent ${agent}`),
  keyNotFound: (keyId: string) => new AllianceError('IDENTITY.MANAGED_KEY_NOT_FOUND', 'not-found', `no managed key ${keyId} in this organization`),
  notInForce: (keyId: string, detail: string) =>
    new AllianceError('IDENTITY.MANAGED_KEY_NOT_IN_FORCE', 'conflict', `managed key ${keyId} may not sign now: ${detail} (register it with identity.agent.key.add first; an ended key signs nothing)`),
  unlock: () => new AllianceError('IDENTITY.MANAGED_KEY_UNREADABLE', 'internal', 'a managed key does not decrypt with the configured master key'),
};

/** The master key: 32 bytes, hex, in a file only the identity service reads (never in the environment, never logged). */
export function readMasterKey(file: string): Buffer {
  const text = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(text)) throw new Error(`IDENTITY_MANAGED_SIGNING_KEY_FILE ${file} must hold 64 hex digits (a 256-bit key)`);
  return Buffer.from(text, 'hex');
}

interface ManagedKeyRow {
  key_id: string;
  organization_id: string;
  agent_id: string;
  algorithm: string;
  public_key: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  created_by: string;
  created_at: Date;
}

export interface ManagedKeyView {
  readonly keyId: string;
  readonly organizationId: string;
  readonly agentId: string;
  readonly algorithm: string;
  readonly publicKey: string;
  readonly createdBy: string;
  readonly createdAt: string;
  /** Whether the chain holds it as a key in force of its agent now. */
  readonly inForce: boolean;
}

const subjectOf = (p: Principal) => (p.agentId ? `${p.organizationId}/${p.agentId}` : `${p.organizationId}/admin:${p.keyId}`);

/**
 * Managed signing (docs/identity.md): for ERP systems that cannot hold a key,
 * the identity service keeps an agent key for them, encrypted at rest with
 * AES-256-GCM under a master key from configuration, and signs transactions
 * with it on request. Every signature is recorded with the principal that
 * asked, and the chain still decides: the key must be registered and in force
 * for its agent, and the contract judges the transaction like any other.
 */
export class ManagedSigning {
  constructor(
    private readonly options: { readonly pool: Pool; readonly readModel: IdentityReadModel; readonly chainId: string; readonly organizationId: string; readonly masterKey?: Buffer; readonly now?: () => Date },
  ) {}

  private master(): Buffer {
    if (!this.options.masterKey) throw ManagedSigningErrors.disabled();
    return this.options.masterKey;
  }

  /** AAD binds the ciphertext to its key id and owner: a row moved to another agent does not decrypt. */
  private aad(row: { key_id: string; organization_id: string; agent_id: string }): Buffer {
    return Buffer.from(`alliance/managed-key/v1\0${row.organization_id}\0${row.agent_id}\0${row.key_id}`, 'utf8');
  }

  /** Creates a key for an agent of this organization; the organization then registers it on the chain. */
  async create(body: unknown, by: Principal): Promise<ManagedKeyView> {
    const master = this.master();
    const agentId = (body as { agentId?: unknown } | null)?.agentId;
    if (typeof agentId !== 'string' || !IDENTIFIER_PATTERN.test(agentId)) throw ManagedSigningErrors.invalid('agentId must be the id of an agent of this organization');
    const org = this.options.organizationId;
    const snapshot = await this.options.readModel.snapshot();
    if (!snapshot.state.get(`identity/agent/${org}/${agentId}`)) throw ManagedSigningErrors.agentNotFound(org, agentId);
    const pair = generateKeyPair('ed25519');
    const keyId = keyIdOf('ed25519', pair.publicKey);
    const row = { key_id: keyId, organization_id: org, agent_id: agentId };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', master, iv);
    cipher.setAAD(this.aad(row));
    const ciphertext = Buffer.concat([cipher.update(Buffer.from(pair.privateKey)), cipher.final()]);
    const tag = cipher.getAuthTag();
    pair.privateKey.fill(0);
    const created = await this.options.pool.query<ManagedKeyRow>(
      `INSERT INTO identity.managed_keys (key_id, organization_id, agent_id, algorithm, public_key, iv, ciphertext, tag, created_by) VALUES ($1, $2, $3, 'ed25519', $4, $5, $6, $7, $8) RETURNING *`,
      [keyId, org, agentId, toHex(pair.publicKey), iv, ciphertext, tag, subjectOf(by)],
    );
    return this.view(created.rows[0], snapshot.state);
  }

  async list(): Promise<ManagedKeyView[]> {
    const { rows } = await this.options.pool.query<ManagedKeyRow>('SELECT * FROM identity.managed_keys WHERE organization_id = $1 ORDER BY created_at, key_id', [this.options.organizationId]);
    const state = (await this.options.readModel.snapshot()).state;
    return rows.map((r) => this.view(r, state));
  }

  private view(r: ManagedKeyRow, state: Parameters<typeof findAgentKey>[0]): ManagedKeyView {
    const config = state.get(CONFIG_KEY)?.value as ChainConfig | undefined;
    const inForce = config !== undefined && resolveSigningKey(config, state, r.organization_id, r.key_id).found && findAgentKey(state, r.organization_id, r.key_id)?.agent.agentId === r.agent_id;
    return { keyId: r.key_id, organizationId: r.organization_id, agentId: r.agent_id, algorithm: r.algorithm, publicKey: r.public_key, createdBy: r.created_by, createdAt: r.created_at.toISOString(), inForce };
  }

  /**
   * Signs `{ type, payload, nonce? }` as the key's agent and records who asked,
   * in one transaction: no signature leaves without its record.
   */
  async sign(keyId: string, body: unknown, by: Principal): Promise<{ transactionId: string; envelope: Envelope; signatureRecord: number }> {
    const master = this.master();
    if (!KEY_ID_PATTERN.test(keyId)) throw ManagedSigningErrors.invalid('a key id is 32 lower-case hex digits');
    const { type, payload, nonce } = (body ?? {}) as { type?: unknown; payload?: unknown; nonce?: unknown };
    if (typeof type !== 'string' || !TRANSACTION_TYPE_PATTERN.test(type)) throw ManagedSigningErrors.invalid('type must be a transaction type, e.g. provenance.event.anchor');
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw ManagedSigningErrors.invalid('payload must be a JSON object');
    if (nonce !== undefined && (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(nonce))) throw ManagedSigningErrors.invalid('nonce must be 1-64 of [A-Za-z0-9_-] (default: a random one)');
    const { rows } = await this.options.pool.query<ManagedKeyRow>('SELECT * FROM identity.managed_keys WHERE key_id = $1 AND organization_id = $2', [keyId, this.options.organizationId]);
    const row = rows[0];
    if (!row) throw ManagedSigningErrors.keyNotFound(keyId);
    const state = (await this.options.readModel.snapshot()).state;
    const config = state.get(CONFIG_KEY)?.value as ChainConfig | undefined;
    const resolved = config ? resolveSigningKey(config, state, row.organization_id, keyId) : { found: false as const, detail: 'no chain configuration yet' };
    if (!resolved.found) throw ManagedSigningErrors.notInForce(keyId, resolved.detail);
    let privateKey: Uint8Array;
    try {
      const decipher = createDecipheriv('aes-256-gcm', master, row.iv);
      decipher.setAAD(this.aad(row));
      decipher.setAuthTag(row.tag);
      privateKey = new Uint8Array(Buffer.concat([decipher.update(row.ciphertext), decipher.final()]));
    } catch {
      throw ManagedSigningErrors.unlock();
    }
    const now = this.options.now?.() ?? new Date();
    let envelope: Envelope;
    try {
      envelope = signTransaction(
        { chainId: this.options.chainId, type, creator: { organizationId: row.organization_id, keyId }, nonce: (nonce as string | undefined) ?? randomUUID().replace(/-/g, ''), timestamp: formatTimestamp(now.getTime()), payload: payload as Record<string, JsonValue> as never },
        { algorithm: 'ed25519', privateKey },
      );
    } catch (error) {
      throw ManagedSigningErrors.invalid(`the transaction cannot be signed: ${(error as Error).message}`);
    } finally {
      privateKey.fill(0);
    }
    const id = transactionId(envelope.transaction);
    const record = await this.options.pool.query<{ id: string }>(
      `INSERT INTO identity.managed_signatures (key_id, organization_id, agent_id, transaction_id, transaction_type, requested_by, requested_by_key) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [keyId, row.organization_id, row.agent_id, id, type, subjectOf(by), by.keyId],
    );
    return { transactionId: id, envelope, signatureRecord: Number(record.rows[0].id) };
  }

  /** The record of managed signatures of this organization, newest first, `limit` per page before `before`. */
  async signatures(before: number | undefined, limit: number) {
    const { rows } = await this.options.pool.query<{ id: string; key_id: string; agent_id: string; transaction_id: string; transaction_type: string; requested_by: string; requested_by_key: string; signed_at: Date }>(
      `SELECT * FROM identity.managed_signatures WHERE organization_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [this.options.organizationId, before ?? null, limit + 1],
    );
    const items = rows.slice(0, limit).map((r) => ({ id: Number(r.id), keyId: r.key_id, agentId: r.agent_id, transactionId: r.transaction_id, transactionType: r.transaction_type, requestedBy: r.requested_by, requestedByKey: r.requested_by_key, signedAt: r.signed_at.toISOString() }));
    return { items, nextBefore: rows.length > limit ? items[items.length - 1].id : null };
  }
}
