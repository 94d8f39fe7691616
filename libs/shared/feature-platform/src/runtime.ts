import type { Logger } from 'pino';
import type { Pool } from '@alliance/shared/data-access-postgres';
import type { ReadinessCheck } from './health';
import type { BaseConfig } from './base-config';

/** What the platform knows about one running service; shared by health, shutdown and features. */
export interface ServiceRuntime<C extends BaseConfig = BaseConfig> {
  readonly name: string;
  readonly version: string;
  readonly startedAt: Date;
  readonly config: C;
  readonly pool: Pool;
  readonly readinessChecks: ReadinessCheck[];
  draining: boolean;
  /** The service's own logger (JSON, with `service` and `org` on every line). */
  readonly logger: Logger;
}
