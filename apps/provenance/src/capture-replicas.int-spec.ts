import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChainWriter } from '@alliance/shared/data-access-messaging';
import { createPool, type Pool, readMigrations, runMigrations } from '@alliance/shared/data-access-postgres';
import { createTestDatabase, type TestDatabase } from '@alliance/shared/testing';
import { CaptureService } from './capture';

// Two replicas of the provenance service share one jobs table (deploy/k8s scales the service horizontally). Real
// PostgreSQL; the ledger is a scripted ChainWriter, because what is tested is how replicas change a job's row.
let db: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'), 'provenance_capture_replicas');
  pool = createPool(db.url, { applicationName: 'capture-replicas-test' });
  await runMigrations(pool, 'provenance', readMigrations(join(__dirname, '..', 'migrations')));
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** A ledger that finds every stored envelope expired, slowly enough that both replicas read the job before either re-signs. */
function expiringLedger(signed: string[], submitted: string[]): ChainWriter {
  return {
    organizationId: 'org1',
    async submit(bytes: Uint8Array) {
      const envelope = JSON.parse(Buffer.from(bytes).toString('utf8')) as { id: string };
      submitted.push(envelope.id);
      await new Promise((r) => setTimeout(r, 100));
      return 'expired';
    },
    sign(_type: string, payload: Record<string, unknown>) {
      const transactionId = randomUUID();
      signed.push(transactionId);
      return { envelope: {} as never, bytes: Buffer.from(JSON.stringify({ id: transactionId, transaction: { payload } })), transactionId };
    },
    status: async () => ({ status: 'unknown' }),
  } as unknown as ChainWriter;
}

describe('capture jobs shared by replicas', () => {
  it('an expired envelope found by two replicas at once is re-signed by one of them only: one new transaction, not two', async () => {
    const captureId = `cap-${randomUUID()}`;
    await pool.query(
      `INSERT INTO provenance.capture_jobs (capture_id, organization_id, requested_by, status, event_count, event_ids, document_hash, envelope, transaction_id)
       VALUES ($1, 'org1', 'admin', 'pending', 1, ARRAY['e1'], 'h', $2, 'old')`,
      [captureId, Buffer.from(JSON.stringify({ id: 'old', transaction: { payload: { document: {} } } }))],
    );
    const signed: string[] = [];
    const submitted: string[] = [];
    const logs: string[] = [];
    const replica = () => new CaptureService({ pool, writer: expiringLedger(signed, submitted), logger: (_level, message) => logs.push(message) });
    const [a, b] = [replica(), replica()];
    // One pass of each at the same moment: both read the job with the old envelope and both find it expired.
    await Promise.all([(a as unknown as { drive(): Promise<boolean> }).drive(), (b as unknown as { drive(): Promise<boolean> }).drive()]);

    expect(submitted.filter((id) => id === 'old')).toHaveLength(2);
    expect(signed).toHaveLength(2); // each signed, but only one may store its transaction
    const { rows } = await pool.query<{ transaction_id: string; status: string; envelope: Buffer }>('SELECT transaction_id, status, envelope FROM provenance.capture_jobs WHERE capture_id = $1', [captureId]);
    expect(rows[0].status).toBe('pending');
    expect(signed).toContain(rows[0].transaction_id);
    expect((JSON.parse(rows[0].envelope.toString('utf8')) as { id: string }).id).toBe(rows[0].transaction_id);
    expect(logs.filter((m) => m.startsWith('capture re-signed'))).toHaveLength(1);

    // The loser's view is stale: its "submitted" and "failed" marks do not apply to the stored transaction.
    await pool.query(`UPDATE provenance.capture_jobs SET status = 'submitted' WHERE capture_id = $1`, [captureId]);
    const stale = { capture_id: captureId, status: 'submitted', transaction_id: signed.find((t) => t !== rows[0].transaction_id) };
    await (a as unknown as { fail(job: unknown, errors: unknown[]): Promise<void> }).fail(stale, [{ code: 'LEDGER.X', detail: 'refused' }]);
    const after = await pool.query<{ status: string }>('SELECT status FROM provenance.capture_jobs WHERE capture_id = $1', [captureId]);
    expect(after.rows[0].status).toBe('submitted');
  });
});
