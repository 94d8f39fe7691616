import { Pool, type PoolClient, type PoolConfig } from 'pg';

export type { Pool, PoolClient } from 'pg';

export interface PoolOptions {
  readonly applicationName: string;
  readonly max?: number;
  /** `search_path` for every connection, so unqualified names resolve into the service's schema. */
  readonly schema?: string;
  /** A role every connection takes (`SET ROLE` at start-up): the login user must be a member of it. */
  readonly role?: string;
}

export function createPool(url: string, options: PoolOptions): Pool {
  const config: PoolConfig = {
    connectionString: url,
    application_name: options.applicationName,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // Every member hashes data; timestamps stay UTC on the wire.
    options: [options.schema ? `-c search_path=${options.schema},public` : '', '-c timezone=UTC', options.role ? `-c role=${options.role}` : ''].filter(Boolean).join(' '),
  };
  const pool = new Pool(config);
  // An idle client losing its connection (PostgreSQL restarted) must not crash the process.
  pool.on('error', () => undefined);
  // Nor may a checked-out one: pg-pool listens for errors only while a client is idle, and a client held
  // between queries (a transaction awaiting Kafka, a LISTEN connection) that PostgreSQL terminates emits
  // 'error' with no listener, which kills the process (found by the fault suite, docs/reliability.md).
  // The error is not lost: the client's next query rejects, and the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** True when the database answers a trivial query within `timeoutMs`. */
export async function pingPostgres(pool: Pool, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      pool.query('SELECT 1').then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Creates database `name` through an admin connection unless it exists (used by the stack and tests). */
export async function ensureDatabase(adminUrl: string, name: string): Promise<boolean> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name "${name}"`);
  const pool = new Pool({ connectionString: adminUrl, max: 1 });
  try {
    const exists = await pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return false;
    await pool.query(`CREATE DATABASE "${name}"`).catch((e: { code?: string }) => {
      if (e.code !== '42P04') throw e; // created concurrently
    });
    return true;
  } finally {
    await pool.end();
  }
}

/** Replaces the database name of a connection URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
