import { join } from 'node:path';
import { type Migration, readMigrations } from '@alliance/shared/data-access-postgres';

// From source (vitest) this is libs/…/src; compiled, dist/libs/…/src with the
// migrations directory copied beside it: one expression serves both.
const MIGRATIONS_DIR = join(__dirname, '..', 'migrations');

/**
 * The outbox and processed_events tables. Each service merges these into its
 * own list (sorted by version) and applies them to its own schema.
 */
export function messagingMigrations(): Migration[] {
  return readMigrations(MIGRATIONS_DIR);
}

/** Schema of the embedded transport's log, shared by every service of one database. */
export const BUS_SCHEMA = 'alliance_bus';

/** Migrations of the embedded transport; PostgresTransport applies them to `alliance_bus` itself. */
export function busMigrations(): Migration[] {
  return readMigrations(join(MIGRATIONS_DIR, BUS_SCHEMA));
}
