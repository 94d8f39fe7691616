import { join } from 'node:path';
import { type Migration, readMigrations } from '@alliance/shared/data-access-postgres';

/** Schema of the solo ordering log; one per database, shared by every chain in it. */
export const ORDERING_SCHEMA = 'ledger_ordering';

// From source (vitest) this is libs/…/src; compiled, dist/libs/…/src with the
// migrations directory copied beside it: one expression serves both.
const MIGRATIONS_DIR = join(__dirname, '..', 'migrations');

/** Migrations of the solo ordering log; PostgresOrderingLog applies them to `ledger_ordering` itself. */
export function orderingMigrations(): Migration[] {
  return readMigrations(join(MIGRATIONS_DIR, ORDERING_SCHEMA));
}
