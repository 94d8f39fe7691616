import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaOrderingLog } from '@alliance/ledger/data-access';
import { KafkaTransport } from '@alliance/shared/data-access-messaging';
import { crossCheckBaseConfig, kafkaSecurityOf, type BaseConfig } from '@alliance/shared/feature-platform';
import { privateKafka, type PrivateKafka } from '@alliance/shared/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { readRecords } from '../../../libs/ledger/data-access/test/ordering-scenarios';

// A broker with a SASL_PLAINTEXT listener and SCRAM-SHA-512 users, as Strimzi's KafkaUsers are: the two kinds of
// Kafka client a service makes (its event transport, a ledger node's ordering log) authenticate with the
// credentials KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* configure, and a wrong password gets nowhere.
const USER = 'alliance-org1';
const PASSWORD = 'correct horse battery staple';
let kafka: PrivateKafka;
let dir: string;
const clients: Array<{ close(): Promise<void> }> = [];

function security(password: string) {
  const file = join(dir, `password-${clients.length}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${password}\n`); // as a mounted Secret: the trailing newline is not part of it
  const config = { KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD_FILE: file } as const;
  return kafkaSecurityOf(config);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alliance-kafka-security-'));
  kafka = await privateKafka('alliance-kafka-security', { saslUsers: { [USER]: PASSWORD } });
  await kafka.kafkaSh('start');
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await kafka?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('Kafka clients over SASL (SCRAM-SHA-512)', () => {
  it('the ordering log appends and reads back through the authenticated listener', async () => {
    const log = new KafkaOrderingLog({ brokers: kafka.saslBrokers, security: security(PASSWORD), chainId: `sec-${Date.now().toString(36)}`, organizationId: 'org1', sessionTimeoutMs: 6_000 });
    clients.push(log);
    expect(await log.ping()).toBe(true);
    const [offset] = await log.append([{ kind: 'transaction', bytes: new TextEncoder().encode('t0:0:over-sasl') }]);
    const [record] = await readRecords(log, offset, 1);
    expect(new TextDecoder().decode(record.bytes)).toBe('t0:0:over-sasl');
  });

  it('the event transport authenticates; with a wrong password it is not ready and creates nothing', async () => {
    const good = new KafkaTransport({ brokers: kafka.saslBrokers, clientId: 'security-test', security: security(PASSWORD) });
    clients.push(good);
    expect(await good.ping()).toBe(true);
    await good.ensureTopics(['alliance.security-test.v1']);

    const bad = new KafkaTransport({ brokers: kafka.saslBrokers, clientId: 'security-test-bad', security: security('wrong'), connectionTimeoutMs: 2_000 });
    clients.push(bad);
    expect(await bad.ping()).toBe(false);
    await expect(bad.ensureTopics(['alliance.security-test-bad.v1'])).rejects.toThrow(/SASL|auth/i);
  });

  it('configuration: SASL needs a user and a password file, a CA file needs TLS', () => {
    const base = { MESSAGING: 'postgres', RATE_LIMIT_EXEMPT: undefined } as unknown as BaseConfig;
    expect(crossCheckBaseConfig({ ...base, KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_MECHANISM: 'scram-sha-512' })).toContain('KAFKA_SECURITY_PROTOCOL=sasl_ssl needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD_FILE');
    expect(crossCheckBaseConfig({ ...base, KAFKA_SECURITY_PROTOCOL: 'plaintext', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SSL_CA_FILE: '/ca.pem' })).toContain('KAFKA_SSL_CA_FILE is set but KAFKA_SECURITY_PROTOCOL=plaintext uses no TLS');
    expect(kafkaSecurityOf({ KAFKA_SECURITY_PROTOCOL: 'plaintext', KAFKA_SASL_MECHANISM: 'scram-sha-512' })).toEqual({});
    expect(kafkaSecurityOf({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SASL_MECHANISM: 'scram-sha-512' })).toEqual({ ssl: true });
    const sasl = security(PASSWORD);
    expect(sasl).toEqual({ sasl: { mechanism: 'scram-sha-512', username: USER, password: PASSWORD } });
  });
});
