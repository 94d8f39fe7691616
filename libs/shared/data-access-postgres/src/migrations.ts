import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';

/**
 * Forward-only, timestamped SQL migrations, one schema per service.
 * Files are named `YYYYMMDDHHMMSS_description.sql`; each runs once, in its own
 * transaction, in file-name order. An applied file whose content changed is a
 * refusal to start, never a silent re-run: migrations are history.
 */
export interface Migration {
  readonly version: string;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: number;
}

const FILE_PATTERN = /^(\d{14})_([a-z0-9_]+)\.sql$/;

export function readMigrations(directory: string): Migration[] {
  const files = readdirSync(directory).filter((f) => f.endsWith('.sql')).sort();
  return files.map((file) => {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`migration file "${file}" must be named YYYYMMDDHHMMSS_description.sql`);
    const sql = readFileSync(join(directory, file), 'utf8');
    return { version: match[1], name: match[2], sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

export async function runMigrations(pool: Pool, schema: string, migrations: readonly Migration[]): Promise<MigrationResult> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  const versions = new Set<string>();
  for (const m of migrations) {
    if (versions.has(m.version)) throw new Error(`two migrations share version ${m.version}`);
    versions.add(m.version);
  }
  const client = await pool.connect();
  try {
    // Several processes of one service may start together: one migrates, the others wait.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`alliance.migrations.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS "${schema}".schema_migrations (
         version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: string; name: string; checksum: string }>(`SELECT version, name, checksum FROM "${schema}".schema_migrations`);
    const done = new Map(rows.map((r) => [r.version, r]));
    const latestFile = migrations.at(-1)?.version ?? '';
    for (const row of rows) {
      if (!versions.has(row.version) && row.version > latestFile) {
        throw new Error(`schema "${schema}" has migration ${row.version}_${row.name} that this build does not know: the database is newer than the code`);
      }
    }
    const applied: string[] = [];
    for (const m of migrations) {
      const previous = done.get(m.version);
      if (previous) {
        if (previous.checksum !== m.checksum) throw new Error(`migration ${m.version}_${m.name} of schema "${schema}" was changed after it was applied; add a new migration instead`);
        continue;
      }
      for (let attempt = 1; ; attempt++) {
        await client.query('BEGIN');
        try {
          await client.query(`SET LOCAL search_path TO "${schema}", public`);
          await client.query(m.sql);
          await client.query(`INSERT INTO "${schema}".schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, m.checksum]);
          await client.query('COMMIT');
          break;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          if (attempt < 3 && isCatalogRace(error)) continue;
          throw new Error(`migration ${m.version}_${m.name} of schema "${schema}" failed: ${(error as Error).message}`, { cause: error });
        }
      }
      applied.push(`${m.version}_${m.name}`);
    }
    return { applied, alreadyApplied: migrations.length - applied.length };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`alliance.migrations.${schema}`]).catch(() => undefined);
    client.release();
  }
}

/**
 * A migration that lost a race for a cluster-wide object (a role) to another database's migration in the
 * same cluster: `IF NOT EXISTS` saw nothing, the other transaction committed first, and the catalog's
 * unique index refused the second. The per-schema advisory lock cannot prevent it (advisory locks are
 * per database). Run again, the migration sees the object. (Two audit services migrating one fresh
 * cluster at once: the fault suite, docs/reliability.md.)
 */
function isCatalogRace(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string };
  return (e.code === '23505' && /^pg_/.test(e.constraint ?? '')) || e.code === '42710';
}
