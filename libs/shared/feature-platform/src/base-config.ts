import { readFileSync } from 'node:fs';
import type { KafkaConfig } from 'kafkajs';
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
  /** How clients talk to the brokers, as Kafka's `security.protocol` (docs/messaging.md, Broker security). */
  KAFKA_SECURITY_PROTOCOL: field.oneOf(['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const, 'plaintext'),
  /** PEM file of the CA the brokers' certificates chain to (ssl, sasl_ssl); unset: the system's CAs. */
  KAFKA_SSL_CA_FILE: field.optionalString(),
  KAFKA_SASL_MECHANISM: field.oneOf(['scram-sha-512', 'scram-sha-256', 'plain'] as const, 'scram-sha-512'),
  KAFKA_SASL_USERNAME: field.optionalString(),
  /** A file holding the SASL password (e.g. the `password` key of a Strimzi KafkaUser's Secret, mounted): never an environment value. */
  KAFKA_SASL_PASSWORD_FILE: field.optionalString(),
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
  readonly KAFKA_SECURITY_PROTOCOL: 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';
  readonly KAFKA_SSL_CA_FILE?: string;
  readonly KAFKA_SASL_MECHANISM: 'scram-sha-512' | 'scram-sha-256' | 'plain';
  readonly KAFKA_SASL_USERNAME?: string;
  readonly KAFKA_SASL_PASSWORD_FILE?: string;
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
  if (config.KAFKA_SECURITY_PROTOCOL.startsWith('sasl_') && (!config.KAFKA_SASL_USERNAME || !config.KAFKA_SASL_PASSWORD_FILE)) {
    problems.push(`KAFKA_SECURITY_PROTOCOL=${config.KAFKA_SECURITY_PROTOCOL} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD_FILE`);
  }
  if (config.KAFKA_SSL_CA_FILE && !config.KAFKA_SECURITY_PROTOCOL.endsWith('ssl')) problems.push(`KAFKA_SSL_CA_FILE is set but KAFKA_SECURITY_PROTOCOL=${config.KAFKA_SECURITY_PROTOCOL} uses no TLS`);
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

type KafkaSecurityConfig = Pick<BaseConfig, 'KAFKA_SECURITY_PROTOCOL' | 'KAFKA_SSL_CA_FILE' | 'KAFKA_SASL_MECHANISM' | 'KAFKA_SASL_USERNAME' | 'KAFKA_SASL_PASSWORD_FILE'>;

/**
 * The kafkajs `ssl` and `sasl` options of every Kafka client a service makes (its transport, a ledger node's ordering
 * log), from KAFKA_SECURITY_PROTOCOL and its companions; the files are read here, once, at start.
 */
export function kafkaSecurityOf(config: KafkaSecurityConfig): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const protocol = config.KAFKA_SECURITY_PROTOCOL;
  const security: { ssl?: KafkaConfig['ssl']; sasl?: KafkaConfig['sasl'] } = {};
  if (protocol === 'ssl' || protocol === 'sasl_ssl') security.ssl = config.KAFKA_SSL_CA_FILE ? { ca: [readFileSync(config.KAFKA_SSL_CA_FILE, 'utf8')] } : true;
  if (protocol === 'sasl_plaintext' || protocol === 'sasl_ssl') {
    if (!config.KAFKA_SASL_USERNAME || !config.KAFKA_SASL_PASSWORD_FILE) throw new Error(`KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD_FILE`);
    const password = readFileSync(config.KAFKA_SASL_PASSWORD_FILE, 'utf8').replace(/\r?\n$/, '');
    security.sasl = { mechanism: config.KAFKA_SASL_MECHANISM, username: config.KAFKA_SASL_USERNAME, password } as KafkaConfig['sasl'];
  }
  return security;
}
