import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  /** Connection URL of the new database (same server, credentials and options as the base URL). */
  url: string;
  /** Drops the database, disconnecting anyone still using it. Safe to call twice. */
  drop(): Promise<void>;
}

/** Postgres identifiers are at most 63 bytes; longer names are silently truncated. */
const MAX_IDENTIFIER = 63;

function databaseName(prefix: string): string {
  const suffix = `_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  // Lower case, letters/digits/underscores only: no quoting surprises in psql or URLs.
  const safe = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z_]+/, '') || 'test';
  return safe.slice(0, MAX_IDENTIFIER - suffix.length) + suffix;
}

function withDatabase(baseUrl: string, name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onAdmin(baseUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates a fresh, uniquely named database on the server behind `baseUrl` (whose
 * user needs CREATEDB), so each test file gets its own schema and migrations
 * without cleaning up after others.
 */
export async function createTestDatabase(baseUrl: string, prefix: string): Promise<TestDatabase> {
  const name = databaseName(prefix);
  // The name is generated above from [a-z0-9_] only, so quoting it is enough.
  await onAdmin(baseUrl, `CREATE DATABASE "${name}"`);
  let dropped = false;
  return {
    url: withDatabase(baseUrl, name),
    async drop() {
      if (dropped) return;
      // FORCE (PostgreSQL 13+): a leaked pool in the test must not keep the database alive.
      await onAdmin(baseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      dropped = true;
    },
  };
}
