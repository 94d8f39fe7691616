import { field } from '@alliance/shared/util-config';
import { blockListOf } from './rate-limit';

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
  /** Requests per second each client (signed-in principal, else address) may make on average; 0 turns the limit off (docs/security.md). */
  RATE_LIMIT_PER_SECOND: field.nonNegativeInt(100),
  /** Requests a client may make at once before the rate applies (the bucket's size). */
  RATE_LIMIT_BURST: field.positiveInt(200),
  /** Addresses and CIDR ranges whose requests without a valid token are not limited (the deployment's own machines; default loopback, `none` for none). */
  RATE_LIMIT_EXEMPT: field.optionalString(),
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
  readonly RATE_LIMIT_PER_SECOND: number;
  readonly RATE_LIMIT_BURST: number;
  readonly RATE_LIMIT_EXEMPT?: string;
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
  try {
    blockListOf(rateLimitExemptOf(config));
  } catch (error) {
    problems.push(`RATE_LIMIT_EXEMPT must be IP addresses or CIDR ranges separated by commas (${(error as Error).message})`);
  }
  return problems;
}

/** Exempt from the rate limit when unauthenticated: loopback by default (peer nodes, followers and the gateway on one host). */
export function rateLimitExemptOf(config: Pick<BaseConfig, 'RATE_LIMIT_EXEMPT'>): string[] {
  if (config.RATE_LIMIT_EXEMPT?.trim() === 'none') return [];
  return (config.RATE_LIMIT_EXEMPT ?? '127.0.0.1,::1').split(',').map((e) => e.trim()).filter(Boolean);
}

export function kafkaBrokersOf(config: BaseConfig): string[] {
  return (config.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);
}
