// Managed signing on a real ledger node: a key the identity service keeps encrypted for an ERP agent signs
// a transaction the chain accepts, only once the chain holds the key, only for a principal with the
// permission, and every signature is on the record with who asked.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fromHex, generateKeyPair, toHex, transactionId, verifyEnvelope, type Envelope } from '@alliance/protocol';
import { call, IdentityTestChain, member, post, type TokenReply } from '../test/harness';

const org1 = member('org1');
const chain = new IdentityTestChain('managed-signing-test', [org1]);
const clerkKey = generateKeyPair('ed25519');
const masterKey = randomBytes(32).toString('hex');

describe('managed signing', () => {
  let admin: TokenReply;
  let clerk: TokenReply;
  let keyId: string;
  let publicKey: string;

  beforeAll(async () => {
    await chain.start(inject('databaseUrl'), 'identity_managed');
    await chain.submit(chain.signed(org1, 'identity.role.define', { roleId: 'erp-operator', permissions: ['identity.managed-key.sign'] }));
    await chain.submit(chain.signed(org1, 'identity.agent.register', { agentId: 'erp', name: 'ERP connector (managed key)', roles: [], keys: [{ algorithm: 'ed25519', publicKey: toHex(generateKeyPair('ed25519').publicKey) }] }));
    const last = await chain.submit(chain.signed(org1, 'identity.agent.register', { agentId: 'clerk', name: 'ERP operator', roles: ['erp-operator'], keys: [{ algorithm: 'ed25519', publicKey: toHex(clerkKey.publicKey) }] }));
    const dir = mkdtempSync(join(tmpdir(), 'alliance-managed-'));
    writeFileSync(join(dir, 'master.key'), `${masterKey}\n`, { mode: 0o600 });
    await chain.startIdentity({ IDENTITY_MANAGED_SIGNING_KEY_FILE: join(dir, 'master.key') });
    await chain.caughtUp(last);
    admin = await chain.signIn('org1', org1.admin);
    clerk = await chain.signIn('org1', clerkKey);
  });

  afterAll(() => chain.stop());

  it('creates a key for an agent, encrypted at rest, that signs nothing until the chain holds it', async () => {
    const created = await post(`${chain.identityApi}/managed-keys`, { agentId: 'erp' }, admin.accessToken);
    expect(created).toMatchObject({ status: 201, body: { organizationId: 'org1', agentId: 'erp', algorithm: 'ed25519', inForce: false, createdBy: expect.stringMatching(/^org1\/admin:/) } });
    keyId = created.body['keyId'] as string;
    publicKey = created.body['publicKey'] as string;
    expect(await post(`${chain.identityApi}/managed-keys`, { agentId: 'nobody' }, admin.accessToken)).toMatchObject({ status: 404, body: { code: 'IDENTITY.AGENT_NOT_FOUND' } });
    expect(await post(`${chain.identityApi}/managed-keys`, { agentId: 'erp' }, clerk.accessToken)).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });

    const stored = (await chain.identity!.runtime.pool.query(`SELECT ciphertext, iv, tag FROM identity.managed_keys WHERE key_id = $1`, [keyId])).rows[0] as { ciphertext: Buffer; iv: Buffer; tag: Buffer };
    expect([stored.ciphertext.length, stored.iv.length, stored.tag.length]).toEqual([32, 12, 16]);

    const early = await post(`${chain.identityApi}/managed-keys/${keyId}/signatures`, { type: 'ledger.anchor', payload: { hash: 'a'.repeat(64) } }, clerk.accessToken);
    expect(early).toMatchObject({ status: 409, body: { code: 'IDENTITY.MANAGED_KEY_NOT_IN_FORCE' } });
  });

  it('once registered on the chain, signs for the principal that holds the permission; the chain accepts the transaction', async () => {
    const block = await chain.submit(chain.signed(org1, 'identity.agent.key.add', { agentId: 'erp', key: { algorithm: 'ed25519', publicKey } }));
    await chain.caughtUp(block);
    expect(((await call(`${chain.identityApi}/managed-keys`, { token: admin.accessToken })).body['items'] as Array<Record<string, unknown>>)[0]).toMatchObject({ keyId, inForce: true });

    const signed = await post(`${chain.identityApi}/managed-keys/${keyId}/signatures`, { type: 'ledger.anchor', payload: { hash: 'b'.repeat(64), metadata: { invoice: 'INV-1' } } }, clerk.accessToken);
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);
    const envelope = signed.body['envelope'] as Envelope;
    expect(envelope.transaction.creator).toEqual({ organizationId: 'org1', keyId });
    expect(verifyEnvelope(envelope, fromHex(publicKey))).toBe(true);
    expect(transactionId(envelope.transaction)).toBe(signed.body['transactionId']);
    await chain.submit(envelope);

    // A principal without the permission, an unknown key, a bad request.
    const other = generateKeyPair('ed25519');
    const noPerm = await chain.submit(chain.signed(org1, 'identity.agent.register', { agentId: 'viewer', name: 'Viewer', roles: [], keys: [{ algorithm: 'ed25519', publicKey: toHex(other.publicKey) }] }));
    await chain.caughtUp(noPerm);
    const viewer = await chain.signIn('org1', other);
    expect(await post(`${chain.identityApi}/managed-keys/${keyId}/signatures`, { type: 'ledger.anchor', payload: { hash: 'c'.repeat(64) } }, viewer.accessToken)).toMatchObject({ status: 403, body: { code: 'AUTH.FORBIDDEN' } });
    expect(await post(`${chain.identityApi}/managed-keys/${'0'.repeat(32)}/signatures`, { type: 'ledger.anchor', payload: {} }, clerk.accessToken)).toMatchObject({ status: 404, body: { code: 'IDENTITY.MANAGED_KEY_NOT_FOUND' } });
    expect(await post(`${chain.identityApi}/managed-keys/${keyId}/signatures`, { type: 'Not A Type', payload: {} }, clerk.accessToken)).toMatchObject({ status: 400, body: { code: 'IDENTITY.INVALID_PARAMETER' } });
  });

  it('records every managed signature with who asked, append-only', async () => {
    const record = await call(`${chain.identityApi}/managed-keys/signatures`, { token: admin.accessToken });
    expect(record.status).toBe(200);
    expect(record.body['items']).toEqual([expect.objectContaining({ keyId, agentId: 'erp', transactionType: 'ledger.anchor', requestedBy: 'org1/clerk', requestedByKey: expect.any(String) })]);
    const pool = chain.identity!.runtime.pool;
    await expect(pool.query(`UPDATE identity.managed_signatures SET requested_by = 'org1/someone-else'`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`DELETE FROM identity.managed_signatures`)).rejects.toThrow(/append-only/);
  });

  it('a key row moved to another agent no longer decrypts: the ciphertext is bound to its owner', async () => {
    const pool = chain.identity!.runtime.pool;
    await pool.query(`UPDATE identity.managed_keys SET agent_id = 'clerk' WHERE key_id = $1`, [keyId]);
    const moved = await post(`${chain.identityApi}/managed-keys/${keyId}/signatures`, { type: 'ledger.anchor', payload: { hash: 'd'.repeat(64) } }, clerk.accessToken);
    expect(moved.status).toBe(500);
    await pool.query(`UPDATE identity.managed_keys SET agent_id = 'erp' WHERE key_id = $1`, [keyId]);
  });
});
