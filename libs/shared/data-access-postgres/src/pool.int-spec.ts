import { Client } from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPool } from './pool';

// PostgreSQL ending a connection the service holds checked out (a restart, a crash of the postmaster,
// pg_terminate_backend) must fail that client's next query, not the process: pg-pool listens for errors
// only on idle clients, and an 'error' event without a listener is an uncaught exception (which vitest
// reports as an unhandled error, failing this run). Found by the fault suite's kill -9 of PostgreSQL.
const pool = createPool(inject('databaseUrl'), { applicationName: 'pool-int-spec', max: 2 });
afterAll(() => pool.end());

async function terminate(pid: number): Promise<void> {
  const admin = new Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    // Until the backend is gone, so its FATAL message has reached the held client.
    for (let i = 0; i < 100; i++) {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      if (rowCount === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.end();
  }
  await new Promise((r) => setTimeout(r, 200));
}

describe('createPool', () => {
  it('survives PostgreSQL terminating a checked-out client between queries: its next query fails, the pool goes on', async () => {
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await client.query('BEGIN'); // held mid-transaction, as a relay holds one while it publishes
    await terminate(rows[0].pid);
    await expect(client.query('SELECT 1')).rejects.toThrow();
    client.release();
    // The broken client is discarded, not pooled: the next queries get a new connection.
    const after = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(after.rows[0].pid).not.toBe(rows[0].pid);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
  });

  it('survives it for a LISTEN connection held without any query', async () => {
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await client.query('LISTEN pool_int_spec');
    await terminate(rows[0].pid);
    client.release(true);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
  });
});
