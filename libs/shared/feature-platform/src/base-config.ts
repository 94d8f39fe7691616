import { field } from '@alliance/shared/util-config';

/**
 * Variables every service reads. Services add their own to this shape.
 * MESSAGING=kafka is the distributed mode; MESSAGING=postgres is the embedded
 * ("solo") mode where the PostgreSQL log stands in for Kafka.
 */
export const baseConfigShape = {
  HOST: field.optionalString(),
  PORT: field.port(),
  DATABASE_URL: field.postgresUrl(),
  MESSAGING: field.oneOf(['kafka', 'postgres'] as const, 'kafka'),
  KAFKA_BROKERS: field.optionalString(),
  ORG_ID: field.identifier('org1'),
  LOG_LEVEL: field.logLevel(),
  SHUTDOWN_TIMEOUT_MS: field.positiveInt(10_000),
  DB_POOL_SIZE: field.positiveInt(10),
  BODY_LIMIT_BYTES: field.positiveInt(1_048_576),
  /** The identity service's JWK Set (`…/identity/v1/.well-known/jwks.json`): the keys this service verifies access tokens with. */
  AUTH_JWKS_URL: field.optionalHttpUrl(),
};

export interface BaseConfig {
  readonly HOST?: string;
  readonly PORT: number;
  readonly DATABASE_URL: string;
  readonly MESSAGING: 'kafka' | 'postgres';
  readonly KAFKA_BROKERS?: string;
  readonly ORG_ID: string;
  readonly LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly SHUTDOWN_TIMEOUT_MS: number;
  readonly DB_POOL_SIZE: number;
  readonly BODY_LIMIT_BYTES: number;
  readonly AUTH_JWKS_URL?: string;
}

/** Cross-field rules zod's per-variable parsers can't express. */
export function crossCheckBaseConfig(config: BaseConfig): string[] {
  const problems: string[] = [];
  if (config.MESSAGING === 'kafka') {
    const brokers = (config.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);
    if (brokers.length === 0) problems.push('KAFKA_BROKERS is required when MESSAGING=kafka (not set)');
    else if (!brokers.every((b) => /^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(b))) problems.push(`KAFKA_BROKERS must be host:port entries separated by commas (got "${config.KAFKA_BROKERS}")`);
  }
  return problems;
}

export function kafkaBrokersOf(config: BaseConfig): string[] {
  return (config.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);
}
