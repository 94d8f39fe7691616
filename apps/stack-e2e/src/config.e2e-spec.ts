import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, root, runNode } from './support';

// Every service refuses bad configuration at start-up with one clear line
// (no stack trace) and exit code 78 (EX_CONFIG), before touching anything.
const good = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  KAFKA_BROKERS: '127.0.0.1:9092',
  PORT: '39999',
};
const gatewayUpstreams = {
  IDENTITY_URL: 'http://127.0.0.1:1',
  LEDGER_URL: 'http://127.0.0.1:2',
  PROVENANCE_URL: 'http://127.0.0.1:3',
  FINANCE_URL: 'http://127.0.0.1:4',
  AUDIT_URL: 'http://127.0.0.1:5',
};

const cases: Array<{ service: string; env: Record<string, string>; expected: RegExp }> = [
  { service: 'identity', env: { ...good, PORT: 'eighty' }, expected: /^alliance-identity: invalid configuration: PORT must be an integer port number \(got "eighty"\)$/ },
  { service: 'ledger', env: { ...good, PORT: '70000' }, expected: /PORT must be between 1 and 65535 \(got "70000"\)/ },
  { service: 'provenance', env: { ...good, DATABASE_URL: 'mysql://root@localhost/x' }, expected: /DATABASE_URL must be a postgres:\/\/ URL/ },
  { service: 'finance', env: { PORT: '39999', KAFKA_BROKERS: '127.0.0.1:9092' }, expected: /DATABASE_URL is required .*\(not set\)/ },
  { service: 'audit', env: { ...good, KAFKA_BROKERS: 'localhost' }, expected: /KAFKA_BROKERS must be host:port entries/ },
  { service: 'audit', env: { ...good, KAFKA_BROKERS: '' }, expected: /KAFKA_BROKERS is required when MESSAGING=kafka/ },
  { service: 'ledger', env: { ...good, MESSAGING: 'rabbitmq' }, expected: /MESSAGING must be one of kafka, postgres \(got "rabbitmq"\)/ },
  { service: 'ledger', env: { ...good, LEDGER_ROLE: 'king' }, expected: /LEDGER_ROLE must be one of member, observer/ },
  { service: 'ledger', env: { ...good, LEDGER_NODE_ID: 'Node 1' }, expected: /LEDGER_NODE_ID must be lower-case/ },
  { service: 'identity', env: { ...good, LOG_LEVEL: 'loud' }, expected: /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/ },
  { service: 'finance', env: { ...good, SHUTDOWN_TIMEOUT_MS: '-5' }, expected: /SHUTDOWN_TIMEOUT_MS must be a positive integer/ },
  { service: 'provenance', env: { ...good, ORG_ID: 'Org One' }, expected: /ORG_ID must be lower-case letters/ },
  { service: 'gateway', env: { ...good, ...gatewayUpstreams, LEDGER_URL: 'ftp://x' }, expected: /LEDGER_URL must be an http:\/\/ or https:\/\/ URL/ },
  { service: 'gateway', env: { ...good }, expected: /IDENTITY_URL is required.*LEDGER_URL is required/ },
];

describe('bad configuration is refused at start-up', () => {
  it.each(cases)('$service with %#', ({ service, env, expected }) => {
    const r = runNode([join(root, `dist/apps/${service}/src/main.js`)], cleanEnv(env), 30_000);
    expect(r.status).toBe(78);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('names several bad values in the same line', () => {
    const r = runNode([join(root, 'dist/apps/ledger/src/main.js')], cleanEnv({ PORT: 'x', DATABASE_URL: 'nope', KAFKA_BROKERS: '127.0.0.1:9092' }), 30_000);
    expect(r.status).toBe(78);
    expect(r.stderr.trim()).toMatch(/PORT must be .*; DATABASE_URL must be/);
  });
});
