import { Client } from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@alliance/shared/testing';
import { type Migration, runMigrations } from './migrations';
import { createPool } from './pool';

// Roles are cluster-wide, and the per-schema advisory lock of runMigrations is per database: two services
// migrating two databases of one fresh cluster at once (the stack's two audit services) can both see no
// role and both create it. The loser's migration runs again and finds it.
const role = `alliance_race_${process.pid}`;
const migration: Migration = {
  version: '20990101000000',
  name: 'role',
  checksum: 'test',
  sql: `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} NOLOGIN; END IF; END $$;
        CREATE TABLE t (id int);`,
};
let database: TestDatabase | undefined;
afterAll(async () => {
  const admin = new Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await admin.end();
  await database?.drop();
});

describe('runMigrations', () => {
  it('runs a migration again that lost the race for a cluster-wide role to another database', async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'migration_race');
    // The other database's migration: it has created the role and not committed yet.
    const other = new Client({ connectionString: inject('databaseUrl') });
    await other.connect();
    await other.query('BEGIN');
    await other.query(`CREATE ROLE ${role} NOLOGIN`);
    const pool = createPool(database.url, { applicationName: 'migration-race', schema: 'race' });
    try {
      // Sees no role, blocks on the catalog's unique index behind the other transaction, then fails once it commits.
      const running = runMigrations(pool, 'race', [migration]);
      await new Promise((r) => setTimeout(r, 500));
      await other.query('COMMIT');
      await expect(running).resolves.toEqual({ applied: ['20990101000000_role'], alreadyApplied: 0 });
      expect((await pool.query(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1`, [role])).rows[0].n).toBe(1);
    } finally {
      await other.end();
      await pool.end();
    }
  });
});
