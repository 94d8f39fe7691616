/**
 * Well-formedness of the container deployment without a Docker engine:
 * docker-compose.yml against the Compose Specification schema and the
 * consortium topology, deploy/docker/Dockerfile through a small parser, and
 * the Dockerfile's health probe run for real against a local HTTP server.
 */
import type { AnySchemaObject } from 'ajv';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildArgsOf,
  checkComposeSemantics,
  checkDockerfile,
  createComposeValidator,
  databasesCreatedBy,
  dependsOnOf,
  dockerfileStages,
  effectiveInstructions,
  environmentOf,
  execForm,
  interpolate,
  isInsideDirectory,
  isOneShotJob,
  isRecord,
  listApps,
  mountOfVolume,
  parseComposeYaml,
  parseDockerfile,
  splitFlags,
  volumeMountsOf,
  type ComposeExpectations,
  type ExpectedJob,
  type ExpectedService,
  type ExpectedVolumeInput,
  type JsonRecord,
} from './deploy-check';

const ROOT = resolve(__dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// The consortium on one host (docs: ARCHITECTURE brief, "Build").
const SERVICES = ['audit', 'finance', 'gateway', 'identity', 'ledger', 'provenance'];
const DATABASES = ['alliance_org1', 'alliance_org2', 'alliance_org3', 'alliance_regulator'];
// The demo chain: `chain-init` writes the keys and the genesis transaction into
// the `chain` volume once; every ledger node reads them from there.
const CHAIN_JOB = 'chain-init';
const CHAIN_VOLUME = 'chain';
const memberChain: ExpectedVolumeInput = { job: CHAIN_JOB, volume: CHAIN_VOLUME, files: ['LEDGER_GENESIS_FILE', 'LEDGER_NODE_KEY_FILE'] };
const observerChain: ExpectedVolumeInput = { job: CHAIN_JOB, volume: CHAIN_VOLUME, files: ['LEDGER_GENESIS_FILE'], absent: ['LEDGER_NODE_KEY_FILE'] };
const org1 = (app: string): ExpectedService => ({ app, orgId: 'org1', database: 'alliance_org1', kafka: true });
const TOPOLOGY: Record<string, ExpectedService> = {
  'ledger-org1': { ...org1('ledger'), ledgerRole: 'member', inputs: [memberChain] },
  'ledger-org2': { app: 'ledger', orgId: 'org2', database: 'alliance_org2', kafka: true, ledgerRole: 'member', inputs: [memberChain] },
  'ledger-org3': { app: 'ledger', orgId: 'org3', database: 'alliance_org3', kafka: true, ledgerRole: 'member', inputs: [memberChain] },
  'ledger-regulator': { app: 'ledger', orgId: 'regulator', database: 'alliance_regulator', kafka: true, ledgerRole: 'observer', inputs: [observerChain] },
  identity: org1('identity'),
  provenance: { ...org1('provenance'), inputs: [{ job: CHAIN_JOB, volume: CHAIN_VOLUME, files: ['PROVENANCE_SIGNING_KEY_FILE'] }] },
  finance: { ...org1('finance'), inputs: [{ job: CHAIN_JOB, volume: CHAIN_VOLUME, files: ['FINANCE_SIGNING_KEY_FILE'] }] },
  audit: { ...org1('audit'), inputs: [{ job: CHAIN_JOB, volume: CHAIN_VOLUME, files: ['AUDIT_SIGNING_KEY_FILE'] }] },
  gateway: { ...org1('gateway'), upstreams: ['IDENTITY_URL', 'LEDGER_URL', 'PROVENANCE_URL', 'FINANCE_URL', 'AUDIT_URL'], publishesPorts: true },
  'audit-regulator': { app: 'audit', orgId: 'regulator', database: 'alliance_regulator', kafka: true, inputs: [{ job: CHAIN_JOB, volume: CHAIN_VOLUME, files: ['AUDIT_SIGNING_KEY_FILE'] }] },
};
/** One-shot jobs: not application processes, so they have no counterpart in tools/lib/topology.js. */
const JOBS: Record<string, ExpectedJob> = {
  [CHAIN_JOB]: { app: 'ledger', writes: [CHAIN_VOLUME] },
};
const LEDGERS = Object.keys(TOPOLOGY).filter((name) => TOPOLOGY[name]?.ledgerRole !== undefined);

function loadSchema(): AnySchemaObject {
  const value: unknown = JSON.parse(read('deploy/docker/compose-spec.schema.json'));
  if (!isRecord(value)) throw new Error('compose-spec.schema.json is not a JSON object');
  return value;
}

/** The compose file as Compose sees it with an empty environment (defaults applied). */
function loadCompose(): { raw: unknown; resolved: JsonRecord; unset: readonly string[] } {
  const raw = parseComposeYaml(read('docker-compose.yml'));
  const { value, unset } = interpolate(raw, {});
  if (!isRecord(value)) throw new Error('docker-compose.yml is not a mapping');
  return { raw, resolved: value, unset };
}

function servicesOf(document: JsonRecord): Record<string, JsonRecord> {
  const services = document['services'];
  if (!isRecord(services)) throw new Error('no services');
  const out: Record<string, JsonRecord> = {};
  for (const [name, value] of Object.entries(services)) if (isRecord(value)) out[name] = value;
  return out;
}

/** A mutable copy of the resolved compose file and an accessor for its services. */
function brokenCopy(document: JsonRecord): { broken: JsonRecord; s: JsonRecord; at(name: string): JsonRecord } {
  const broken = structuredClone(document);
  const s = broken['services'];
  if (!isRecord(s)) throw new Error('no services');
  const at = (name: string): JsonRecord => {
    const service = s[name];
    if (!isRecord(service)) throw new Error(name);
    return service;
  };
  return { broken, s, at };
}

/** depends_on in long form, with one entry replaced (condition) or removed (undefined). */
function dependsOnWith(service: JsonRecord, target: string, condition: string | undefined): Record<string, { condition: string }> {
  const deps: Record<string, string> = { ...dependsOnOf(service) };
  if (condition === undefined) delete deps[target];
  else deps[target] = condition;
  return Object.fromEntries(Object.entries(deps).map(([name, c]) => [name, { condition: c }]));
}

const expectations = (overrides: Partial<ComposeExpectations> = {}): ComposeExpectations => ({
  appNames: SERVICES,
  initDatabases: databasesCreatedBy(read('deploy/docker/postgres-init.sql')),
  services: TOPOLOGY,
  jobs: JOBS,
  ...overrides,
});

describe('docker-compose.yml', () => {
  const validate = createComposeValidator(loadSchema());
  const { raw, resolved, unset } = loadCompose();
  const services = servicesOf(resolved);

  it('parses (merge keys resolved) and needs no variable without a default', () => {
    expect(Object.keys(services).sort()).toEqual(['kafka', 'postgres', ...Object.keys(TOPOLOGY), ...Object.keys(JOBS)].sort());
    expect(unset).toEqual([]);
    // Anchors keep the eleven service definitions from repeating themselves.
    const text = read('docker-compose.yml');
    expect(text).toMatch(/^x-service: &service$/m);
    expect(text.match(/<<: \*service$/gm)?.length).toBe(Object.keys(TOPOLOGY).length);
  });

  it('is valid against the Compose Specification schema, before and after interpolation', () => {
    expect(validate(raw)).toEqual([]);
    expect(validate(resolved)).toEqual([]);
  });

  it('the schema validator rejects broken documents', () => {
    const broken: [unknown, RegExp][] = [
      [{ services: { api: { image: 'x', restart_policy: 'always' } } }, /\/services\/api must NOT have additional properties \(restart_policy\)/],
      [{ services: { api: { image: 'x', depends_on: { db: { condition: 'service_ready' } } } } }, /\/services\/api\/depends_on\/db\/condition must be equal to one of the allowed values/],
      [{ services: { api: { image: 'x', ports: 3000 } } }, /\/services\/api\/ports must be array/],
      [{ services: { api: { build: { context: '.', args: { SERVICE: { nested: true } } } } } }, /\/services\/api\/build/],
      [{ servics: {} }, /\(root\) must NOT have additional properties \(servics\)/],
      [parseComposeYaml('services:\n  api:\n    image: x\n    healthcheck: { test: [CMD, true], interval: 5 }\n'), /\/services\/api\/healthcheck\/interval must be string/],
    ];
    for (const [document, expected] of broken) {
      const errors = validate(document);
      expect(errors.length, JSON.stringify(document)).toBeGreaterThan(0);
      expect(errors.join('\n')).toMatch(expected);
    }
    expect(() => parseComposeYaml('services:\n  a: {image: x}\n  a: {image: y}\n')).toThrow(/invalid YAML/);
  });

  it('matches the consortium topology', () => {
    expect(checkComposeSemantics(resolved, expectations())).toEqual([]);
  });

  it('runs the same processes, with the same roles and databases, as `npm run stack` (tools/lib/topology.js)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { consortiumTopology } = require('./lib/topology') as {
      consortiumTopology(o: { port: number; kafkaBrokers: string; databaseUrlFor(db: string): string; chain: { chainId: string; genesisFile: string; keyFileFor(org: string): string } }): Array<{ id: string; service: string; env: Record<string, string> }>;
    };
    const stack = consortiumTopology({ port: 3000, kafkaBrokers: 'k:9092', databaseUrlFor: (db) => `postgres://x@h/${db}`, chain: { chainId: 'c', genesisFile: '/g', keyFileFor: (org) => `/k/${org}` } });
    // Application processes are the built services that keep running; one-shot jobs (chain-init) only prepare them.
    const built = Object.keys(services).filter((name) => services[name]?.['build'] !== undefined);
    const jobs = built.filter((name) => isOneShotJob(services[name] ?? {})).sort();
    expect(jobs).toEqual(Object.keys(JOBS).sort());
    const applications = built.filter((name) => !jobs.includes(name)).sort();
    expect(applications).toEqual(stack.map((p) => p.id).sort());
    for (const p of stack) {
      const env = environmentOf(services[p.id] ?? {});
      expect(buildArgsOf(services[p.id] ?? {})['SERVICE'], p.id).toBe(p.service);
      expect(env['ORG_ID'], p.id).toBe(p.env['ORG_ID']);
      expect(String(env['DATABASE_URL']).split('/').pop(), p.id).toBe(p.env['DATABASE_URL'].split('/').pop());
      if (p.env['LEDGER_ROLE']) expect(env['LEDGER_ROLE'], p.id).toBe(p.env['LEDGER_ROLE']);
      expect(env['HOST'], p.id).toBe('0.0.0.0');
      // The same chain variables, present for the same nodes (values differ: files in the volume vs. the data folder).
      for (const variable of ['CHAIN_ID', 'LEDGER_GENESIS_FILE', 'LEDGER_NODE_KEY_FILE']) {
        expect(env[variable] !== undefined, `${p.id} ${variable}`).toBe(p.env[variable] !== undefined);
      }
    }
  });

  it('builds each of the six services and nothing else', () => {
    const built = Object.values(services).flatMap((s) => (s['build'] === undefined ? [] : [buildArgsOf(s)['SERVICE'] ?? '?']));
    expect([...new Set(built)].sort()).toEqual(SERVICES);
    for (const service of Object.values(services).filter((s) => s['build'] !== undefined)) {
      expect(service['build']).toMatchObject({ context: '.', dockerfile: 'deploy/docker/Dockerfile' });
    }
  });

  it('every build.args.SERVICE names a directory under apps/', () => {
    const apps = listApps(ROOT);
    expect(apps).toEqual(expect.arrayContaining(SERVICES));
    expect(checkComposeSemantics(resolved, expectations({ appNames: apps }))).toEqual([]);
  });

  it('the semantic checks catch broken topologies', () => {
    const { broken, s, at } = brokenCopy(resolved);
    at('ledger-org2')['ports'] = ['9999:3000'];
    at('finance')['depends_on'] = { 'ledger-org9': { condition: 'service_healthy' } };
    at('provenance')['build'] = { context: '.', args: { SERVICE: 'billing' } };
    at('audit-regulator')['environment'] = { ...environmentOf(at('audit-regulator')), DATABASE_URL: 'postgres://a@postgres:5432/alliance_org9', ORG_ID: 'org1' };
    at('ledger-regulator')['environment'] = { ...environmentOf(at('ledger-regulator')), LEDGER_ROLE: 'member' };
    const identityEnv = environmentOf(at('identity'));
    delete identityEnv['KAFKA_BROKERS'];
    at('identity')['environment'] = Object.entries(identityEnv).map(([k, v]) => `${k}=${v}`);
    at('gateway')['environment'] = { ...environmentOf(at('gateway')), AUDIT_URL: 'http://auditor:3000' };
    delete s['ledger-org3'];
    s['kafka-ui'] = { image: 'x:1', depends_on: ['kafka', 'zookeeper'] };

    const problems = checkComposeSemantics(broken, expectations()).join('\n');
    expect(problems).toContain('ledger-org2: publishes ports, but only gateway may');
    expect(problems).toContain('finance: depends_on names unknown service "ledger-org9"');
    expect(problems).toContain('kafka-ui: depends_on names unknown service "zookeeper"');
    expect(problems).toContain('provenance: build.args.SERVICE "billing" is not a directory under apps/');
    expect(problems).toContain('audit-regulator: DATABASE_URL uses database "alliance_org9", which postgres-init.sql does not create');
    expect(problems).toContain('audit-regulator: ORG_ID is "org1", expected "regulator"');
    expect(problems).toContain('ledger-regulator: LEDGER_ROLE is "member", expected "observer"');
    expect(problems).toContain('identity: environment lacks KAFKA_BROKERS');
    expect(problems).toContain('gateway: AUDIT_URL points at "auditor", which is not a compose service');
    expect(problems).toContain('ledger-org3: missing');
    expect(problems).toContain('postgres-init.sql creates "alliance_org3", which no service uses');
    expect(checkComposeSemantics({ version: '3' }, expectations())).toEqual(['the document has no services mapping']);
  });

  it('reads volume mounts in short and long syntax', () => {
    const service = {
      volumes: [
        'chain:/chain:ro',
        'chain:/rw',
        './deploy/x.sql:/init/x.sql:ro,z',
        '/data',
        { type: 'volume', source: 'chain', target: '/long', read_only: true },
        { type: 'bind', source: '/host', target: '/bound' },
      ],
    };
    expect(volumeMountsOf(service)).toEqual([
      { type: 'volume', source: 'chain', target: '/chain', readOnly: true },
      { type: 'volume', source: 'chain', target: '/rw', readOnly: false },
      { type: 'bind', source: './deploy/x.sql', target: '/init/x.sql', readOnly: true },
      { type: 'volume', target: '/data', readOnly: false },
      { type: 'volume', source: 'chain', target: '/long', readOnly: true },
      { type: 'bind', source: '/host', target: '/bound', readOnly: false },
    ]);
    expect(mountOfVolume(service, 'chain')?.target).toBe('/chain');
    expect(mountOfVolume({}, 'chain')).toBeUndefined();
    expect([isInsideDirectory('/chain/genesis.json', '/chain'), isInsideDirectory('/chain/a/../b', '/chain/'), isInsideDirectory('/chain', '/chain')]).toEqual([true, true, false]);
    expect([isInsideDirectory('/chainx/genesis.json', '/chain'), isInsideDirectory('/chain/../etc/passwd', '/chain'), isInsideDirectory('chain/genesis.json', '/chain')]).toEqual([false, false, false]);
    expect([isOneShotJob({ restart: 'no', command: ['x'] }), isOneShotJob({ restart: 'no' }), isOneShotJob({ restart: 'unless-stopped', command: 'x' }), isOneShotJob({ command: 'x' })]).toEqual([true, false, false, false]);
  });

  it('the semantic checks catch ledger nodes that do not read the demo chain properly', () => {
    const { broken, at } = brokenCopy(resolved);
    // Starts without waiting for the chain (the genesis file may not exist yet).
    at('ledger-org2')['depends_on'] = dependsOnWith(at('ledger-org2'), CHAIN_JOB, undefined);
    // Waits only until the job started: races with it.
    at('ledger-org3')['depends_on'] = dependsOnWith(at('ledger-org3'), CHAIN_JOB, 'service_started');
    // Mounts the chain writable, and looks for the genesis outside it.
    at('ledger-org1')['volumes'] = ['chain:/chain'];
    at('ledger-org1')['environment'] = { ...environmentOf(at('ledger-org1')), LEDGER_GENESIS_FILE: '/app/genesis.json' };
    // The observer holds a node key and names another chain.
    at('ledger-regulator')['environment'] = { ...environmentOf(at('ledger-regulator')), LEDGER_NODE_KEY_FILE: '/chain/demo-keys/regulator.key.json', CHAIN_ID: 'alliance-main' };
    // Long syntax is understood; org3 signs with org2's key; no mount of the chain on org2.
    at('ledger-org3')['volumes'] = [{ type: 'volume', source: CHAIN_VOLUME, target: '/chain', read_only: true }];
    at('ledger-org3')['environment'] = { ...environmentOf(at('ledger-org3')), LEDGER_NODE_KEY_FILE: '/chain/demo-keys/org2.key.json' };
    delete at('ledger-org2')['volumes'];
    // Other services: waiting on a job for health, on a server for completion, and an undeclared volume.
    at('identity')['depends_on'] = dependsOnWith(at('identity'), CHAIN_JOB, 'service_healthy');
    at('gateway')['depends_on'] = dependsOnWith(at('gateway'), 'postgres', 'service_completed_successfully');
    at('audit')['volumes'] = ['auditlogs:/var/log/audit'];

    const problems = checkComposeSemantics(broken, expectations()).join('\n');
    expect(problems).toContain('ledger-org2: must wait for "chain-init" with condition service_completed_successfully (it has no depends_on entry for it)');
    expect(problems).toContain('ledger-org3: waits for one-shot job "chain-init" with service_started; only service_completed_successfully waits until it has finished');
    expect(problems).toContain('ledger-org3: must wait for "chain-init" with condition service_completed_successfully (got service_started)');
    expect(problems).toContain('ledger-org1: mounts volume "chain" read-write; it only reads it, so mount it with :ro');
    expect(problems).toContain('ledger-org1: LEDGER_GENESIS_FILE "/app/genesis.json" is not inside the "chain" volume (mounted at /chain)');
    expect(problems).toContain('ledger-regulator: sets LEDGER_NODE_KEY_FILE, which it must not have');
    expect(problems).toContain('the ledger nodes disagree on CHAIN_ID: "alliance-demo" (ledger-org1, ledger-org2, ledger-org3), "alliance-main" (ledger-regulator)');
    expect(problems).toContain('ledger-org2, ledger-org3: share the node key file /chain/demo-keys/org2.key.json');
    expect(problems).toContain('ledger-org2: does not mount volume "chain" (written by "chain-init")');
    expect(problems).toContain('identity: waits for one-shot job "chain-init" with service_healthy');
    expect(problems).toContain('gateway: waits for "postgres" to complete, but "postgres" is a long-running service, not a one-shot job');
    expect(problems).toContain('audit: mounts volume "auditlogs", which the top-level volumes do not declare');
    // Long syntax read-only mount is accepted, the untouched ledger is not blamed.
    expect(problems).not.toMatch(/ledger-org3: mounts volume|ledger-org3: does not mount/);
    expect(problems).not.toMatch(/ledger-org1: must wait/);

    const withoutChainEnv = brokenCopy(resolved);
    const org2Env = environmentOf(withoutChainEnv.at('ledger-org2'));
    delete org2Env['LEDGER_NODE_KEY_FILE'];
    delete org2Env['CHAIN_ID'];
    withoutChainEnv.at('ledger-org2')['environment'] = org2Env;
    const missing = checkComposeSemantics(withoutChainEnv.broken, expectations()).join('\n');
    expect(missing).toContain('ledger-org2: environment lacks LEDGER_NODE_KEY_FILE');
    expect(missing).toContain('ledger-org2: environment lacks CHAIN_ID');
  });

  it('the semantic checks catch a broken or missing chain-init job', () => {
    const { broken, s, at } = brokenCopy(resolved);
    at(CHAIN_JOB)['restart'] = 'on-failure';
    at(CHAIN_JOB)['volumes'] = ['chain:/chain:ro'];
    at(CHAIN_JOB)['build'] = { context: '.', dockerfile: 'deploy/docker/Dockerfile', args: { SERVICE: 'gateway' } };
    at('finance')['restart'] = 'no';
    at('finance')['command'] = ['node', 'dist/apps/finance/src/main.js'];
    s['seed-db'] = { build: { context: '.', args: { SERVICE: 'identity' } }, command: ['node', 'seed.js'], restart: 'no' };

    const problems = checkComposeSemantics(broken, expectations()).join('\n');
    expect(problems).toContain('chain-init: should be a one-shot job with restart: "no" and a command (has restart: "on-failure" and a command)');
    expect(problems).toContain('chain-init: mounts volume "chain" read-only, but it should fill it');
    expect(problems).toContain('chain-init: should run the image of app "ledger" (build.args.SERVICE is "gateway")');
    expect(problems).toContain('ledger-org1: reads volume "chain", but "chain-init" does not write it');
    expect(problems).toContain('ledger-org1: waits for "chain-init" to complete, but "chain-init" is a long-running service');
    expect(problems).toContain('finance: is an application process, but is set up as a one-shot job');
    expect(problems).toContain('seed-db: is a one-shot job built from the project but is not one of the expected jobs');

    const withoutJob = brokenCopy(resolved);
    delete withoutJob.s[CHAIN_JOB];
    const missing = checkComposeSemantics(withoutJob.broken, expectations()).join('\n');
    expect(missing).toContain('chain-init: missing (expected one-shot job running the ledger image)');
    expect(missing).toContain('ledger-regulator: depends_on names unknown service "chain-init"');
    // The job is never counted as an application: without expected jobs it is reported, not silently accepted.
    expect(checkComposeSemantics(resolved, expectations({ jobs: {} })).join('\n')).toContain('chain-init: is a one-shot job built from the project but is not one of the expected jobs');
  });

  it('starts applications only after healthy infrastructure (and finished jobs), with a restart policy', () => {
    for (const name of Object.keys(TOPOLOGY)) {
      const service = services[name] ?? {};
      const deps = dependsOnOf(service);
      expect(deps, name).toMatchObject({ postgres: 'service_healthy', kafka: 'service_healthy' });
      for (const [target, condition] of Object.entries(deps)) {
        expect(condition, `${name} -> ${target}`).toBe(target in JOBS ? 'service_completed_successfully' : 'service_healthy');
      }
      expect(service['restart'], name).toBe('unless-stopped');
      expect(service['init'], name).toBe(true);
    }
    for (const name of LEDGERS) expect(dependsOnOf(services[name] ?? {}), name).toMatchObject({ [CHAIN_JOB]: 'service_completed_successfully' });
    // Jobs run once: never restarted, and only what reads the chain's files (the ledger nodes, the services' signing keys) waits for it.
    for (const name of Object.keys(JOBS)) {
      expect(services[name]?.['restart'], name).toBe('no');
      expect(services[name]?.['command'], name).toEqual(expect.any(Array));
      const dependents = Object.keys(services).filter((other) => name in dependsOnOf(services[other] ?? {}));
      const readers = Object.keys(TOPOLOGY).filter((other) => TOPOLOGY[other]?.inputs?.some((input) => input.job === name));
      expect(dependents.sort(), name).toEqual(readers.sort());
    }
    expect(dependsOnOf(services['gateway'] ?? {})).toMatchObject({ identity: 'service_healthy', 'ledger-org1': 'service_healthy', provenance: 'service_healthy', finance: 'service_healthy', 'audit-regulator': 'service_healthy' });
    expect(services['gateway']?.['ports']).toEqual(['3000:3000']);
    for (const name of ['postgres', 'kafka']) expect(services[name]?.['healthcheck'], name).toMatchObject({ test: expect.any(Array) });
  });

  it('runs PostgreSQL 16 with the init script, and Kafka 3.9.2 as one KRaft node that keeps history', () => {
    const postgres = services['postgres'] ?? {};
    expect(postgres['image']).toBe('postgres:16-alpine');
    expect(postgres['volumes']).toContain('./deploy/docker/postgres-init.sql:/docker-entrypoint-initdb.d/10-alliance.sql:ro');
    const kafka = services['kafka'] ?? {};
    expect(kafka['image']).toBe('apache/kafka:3.9.2');
    const env = environmentOf(kafka);
    expect(env).toMatchObject({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:9092',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: 'false',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_LOG_RETENTION_MS: '-1',
    });
    // Every listener named in the listeners is mapped to a protocol, and the controller listener exists.
    const protocolMap = Object.fromEntries((env['KAFKA_LISTENER_SECURITY_PROTOCOL_MAP'] ?? '').split(',').map((p) => p.split(':')));
    for (const listener of (env['KAFKA_LISTENERS'] ?? '').split(',')) expect(protocolMap[listener.split(':')[0] ?? '']).toBe('PLAINTEXT');
    expect(env['KAFKA_LISTENERS']).toContain(`${env['KAFKA_CONTROLLER_LISTENER_NAMES']}://:9093`);
    // KRaft cluster ids are 16 bytes in URL-safe base64.
    expect(Buffer.from(env['CLUSTER_ID'] ?? '', 'base64url')).toHaveLength(16);
  });

  it('postgres-init.sql creates exactly the four consortium databases', () => {
    expect(databasesCreatedBy(read('deploy/docker/postgres-init.sql')).sort()).toEqual(DATABASES);
    expect(databasesCreatedBy('-- CREATE DATABASE ghost;\nCREATE DATABASE "Quoted";\ncreate database lower_case;')).toEqual(['Quoted', 'lower_case']);
  });

  it('interpolates like Compose', () => {
    const env = { SET: 'v', EMPTY: '' };
    const { value, unset: missing } = interpolate(['$$HOME', '${SET}', '${EMPTY:-d}', '${EMPTY-d}', '${NOPE:-d}', '${SET:+alt}', '$SET/x', '${NOPE}'], env);
    expect(value).toEqual(['$HOME', 'v', 'd', '', 'd', 'alt', 'v/x', '']);
    expect(missing).toEqual(['NOPE']);
  });

  it('records where the vendored schema came from, with its digest', () => {
    const readme = read('deploy/docker/README.md');
    const digest = createHash('sha256').update(readFileSync(join(ROOT, 'deploy/docker/compose-spec.schema.json'))).digest('hex');
    expect(readme).toContain(digest);
    expect(readme).toMatch(/Apache-2\.0/);
    const schema = loadSchema();
    expect(schema.$id).toBe('compose_spec.json');
  });
});

/** `["sh", "-c", "node <script> <dir> && ..."]` of the chain-init job, taken apart. */
function chainCommand(job: JsonRecord): { shell: string; script: string; dir: string } {
  const command = job['command'];
  if (!Array.isArray(command) || command[0] !== 'sh' || command[1] !== '-c' || typeof command[2] !== 'string') {
    throw new Error(`${CHAIN_JOB}: expected command ["sh", "-c", "node <script> <dir> && ..."], got ${JSON.stringify(command)}`);
  }
  const shell = command[2];
  const m = /^node (\S+) (\S+)(?: |$)/.exec(shell);
  if (m?.[1] === undefined || m[2] === undefined) throw new Error(`${CHAIN_JOB}: the command does not start with "node <script> <dir>": ${shell}`);
  return { shell, script: m[1], dir: m[2] };
}

/** Reads a nested property of parsed JSON (undefined where the path does not exist). */
function jsonAt(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) current = isRecord(current) ? current[key] : undefined;
  return current;
}

/**
 * Lays out the runtime image's /app under `target` from the final stage's
 * COPY instructions (sources from the build stage's /app, i.e. the repository).
 * Directories built or installed in the image (dist, node_modules) are not
 * copied; returns every copied source path relative to /app.
 */
function runtimeImageLayout(target: string): string[] {
  const stages = dockerfileStages(parseDockerfile(read('deploy/docker/Dockerfile')));
  const final = stages.at(-1);
  if (final === undefined) throw new Error('no stages');
  const workdirOf = (stage: (typeof stages)[number]) => effectiveInstructions(stages, stage).filter((i) => i.keyword === 'WORKDIR').at(-1)?.args ?? '/';
  const workdir = workdirOf(final);
  const sources: string[] = [];
  for (const instruction of final.instructions.filter((i) => i.keyword === 'COPY')) {
    const { flags, rest } = splitFlags(instruction.args);
    const from = stages.find((stage) => stage.name === flags['from']);
    if (from === undefined) throw new Error(`line ${instruction.line}: COPY not from a named stage`);
    const parts = rest.split(/\s+/);
    const destination = parts.pop() ?? '';
    for (const source of parts) {
      const relativeSource = posix.relative(workdirOf(from), source);
      if (relativeSource.startsWith('..')) throw new Error(`line ${instruction.line}: ${source} is outside the build stage's workdir`);
      sources.push(relativeSource);
      if (relativeSource === 'dist' || relativeSource === 'node_modules') continue;
      const into = join(target, posix.relative(workdir, posix.resolve(workdir, destination)));
      mkdirSync(dirname(into), { recursive: true });
      copyFileSync(join(ROOT, relativeSource), into);
    }
  }
  return sources;
}

// Stands in for the built @alliance/protocol (dist/libs/protocol/src) that
// tools/lib/demo.js requires: the envelope has the real shape, the signature is fake.
const PROTOCOL_STUB = `'use strict';
exports.fromHex = (hex) => Buffer.from(hex, 'hex');
exports.keyId = (algorithm, publicKey) => algorithm + ':' + Buffer.from(publicKey).toString('hex').slice(0, 16);
exports.signTransaction = (transaction, key) => ({ transaction, signature: { algorithm: key.algorithm, keyId: transaction.creator.keyId, value: 'stub' } });
exports.canonicalize = (value) => JSON.stringify(value);
`;

describe('chain-init: the demo chain the ledger nodes read from the `chain` volume', () => {
  const services = servicesOf(loadCompose().resolved);
  const job = services[CHAIN_JOB] ?? {};
  const jobMount = mountOfVolume(job, CHAIN_VOLUME);

  it('runs the ledger image as root, fills the volume, then hands it to the image user', () => {
    expect(job['build']).toEqual(services['ledger-org1']?.['build']);
    expect(job['image']).toBe(services['ledger-org1']?.['image']);
    expect(job['user']).toBe('0');
    expect(jobMount).toEqual({ type: 'volume', source: CHAIN_VOLUME, target: '/chain', readOnly: false });
    const { shell, script, dir } = chainCommand(job);
    expect(script).toBe('tools/demo-chain.js');
    expect(dir).toBe(jobMount?.target);
    // The ledger nodes run as the image's `node` user (uid 1000 in the official Node images).
    expect(shell).toBe(`node ${script} ${dir} && chown -R 1000:1000 ${dir}`);
    for (const name of LEDGERS) {
      expect(mountOfVolume(services[name] ?? {}, CHAIN_VOLUME), name).toEqual({ type: 'volume', source: CHAIN_VOLUME, target: '/chain', readOnly: true });
    }
  });

  it('writes, in the runtime image layout, the genesis and key files the ledger nodes name', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'alliance-chain-'));
    try {
      const app = join(tmp, 'app');
      const volume = join(tmp, 'volume');
      mkdirSync(volume);
      const copied = runtimeImageLayout(app);
      expect(copied).toEqual(expect.arrayContaining(['package.json', 'dist', 'node_modules', 'tools/demo-chain.js', 'tools/lib/demo.js']));
      mkdirSync(join(app, 'dist/libs/protocol/src'), { recursive: true });
      writeFileSync(join(app, 'dist/libs/protocol/src/index.js'), PROTOCOL_STUB);

      // The job's command, with its mount point mapped to the temporary volume.
      const { script, dir } = chainCommand(job);
      if (jobMount === undefined) throw new Error(`${CHAIN_JOB} does not mount ${CHAIN_VOLUME}`);
      execFileSync(process.execPath, [script, join(volume, posix.relative(jobMount.target, dir))], { cwd: app, stdio: 'pipe' });

      const inVolume = (name: string, file: string): string => {
        const mount = mountOfVolume(services[name] ?? {}, CHAIN_VOLUME);
        if (mount === undefined) throw new Error(`${name} does not mount ${CHAIN_VOLUME}`);
        const path = join(volume, posix.relative(mount.target, file));
        expect(relative(volume, path).startsWith('..'), `${name}: ${file}`).toBe(false);
        return path;
      };
      const genesisFiles = new Set<string>();
      for (const name of LEDGERS) {
        const env = environmentOf(services[name] ?? {});
        const genesisFile = inVolume(name, env['LEDGER_GENESIS_FILE'] ?? '');
        expect(existsSync(genesisFile), `${name}: ${env['LEDGER_GENESIS_FILE']}`).toBe(true);
        genesisFiles.add(genesisFile);
        const genesis: unknown = JSON.parse(readFileSync(genesisFile, 'utf8'));
        expect(jsonAt(genesis, 'transaction', 'type')).toBe('config.genesis');
        expect(jsonAt(genesis, 'transaction', 'chainId'), `${name}: CHAIN_ID`).toBe(env['CHAIN_ID']);
        const members = jsonAt(genesis, 'transaction', 'payload', 'config', 'members');
        const member = Array.isArray(members) ? members.find((m) => jsonAt(m, 'organizationId') === env['ORG_ID']) : undefined;
        if (env['LEDGER_ROLE'] === 'member') {
          const keyFile = inVolume(name, env['LEDGER_NODE_KEY_FILE'] ?? '');
          expect(existsSync(keyFile), `${name}: ${env['LEDGER_NODE_KEY_FILE']}`).toBe(true);
          const key: unknown = JSON.parse(readFileSync(keyFile, 'utf8'));
          // The node signs with the key the genesis names for its own organization.
          expect(jsonAt(key, 'organizationId'), name).toBe(env['ORG_ID']);
          expect(jsonAt(member, 'nodeKey', 'publicKey'), name).toBe(jsonAt(key, 'publicKey'));
        } else {
          expect(env['LEDGER_NODE_KEY_FILE'], name).toBeUndefined();
          expect(member, `${name} is an observer, not a member of the genesis`).toBeUndefined();
        }
      }
      expect(genesisFiles.size).toBe(1);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile parser', () => {
  it('joins continuations, drops comments (also inside a continuation) and reads directives', () => {
    const parsed = parseDockerfile(['# syntax=docker/dockerfile:1', '# a comment', 'from node:1 as base', 'RUN a \\', '  # inside', '', '  && b', '  # trailing comment', 'USER node'].join('\n'));
    expect(parsed.directives).toEqual({ syntax: 'docker/dockerfile:1' });
    expect(parsed.instructions.map((i) => [i.keyword, i.args, i.line])).toEqual([
      ['FROM', 'node:1 as base', 3],
      ['RUN', 'a   && b', 4],
      ['USER', 'node', 9],
    ]);
  });

  it('honours the escape directive and here-documents', () => {
    const parsed = parseDockerfile(['# escape=`', 'FROM mcr.example/windows:1', 'RUN dir `', '  c:\\', 'RUN <<EOF', 'echo hi', 'EOF', 'COPY <<-EOT /x', '\tbody', '\tEOT', 'CMD ["x"]'].join('\n'));
    expect(parsed.instructions.map((i) => i.keyword)).toEqual(['FROM', 'RUN', 'RUN', 'COPY', 'CMD']);
    expect(parsed.instructions[1]?.args).toBe('dir   c:\\');
    expect(parsed.instructions[2]?.heredocs).toEqual(['echo hi']);
    expect(parsed.instructions[3]?.heredocs).toEqual(['\tbody']);
  });

  it('reports every structural problem of a broken Dockerfile', () => {
    const broken = [
      'ARG BASE=node:latest',
      'FROM ${BASE} AS build',
      'RUN npm install',
      'FROOM x',
      'FROM node',
      'COPY --from=later /a /b',
      'COPY --from=nowhere /a /b',
      'USER root',
      'HEALTHCHECK CMD ["node", "-e", broken]',
      'FROM debian:12 AS later',
    ].join('\n');
    const problems = checkDockerfile(broken).join('\n');
    expect(problems).toContain('line 4: unknown instruction FROOM');
    expect(problems).toContain('line 2: base image "node:latest" is not pinned');
    expect(problems).toContain('line 5: base image "node" is not pinned');
    expect(problems).toContain('line 6: COPY --from=later does not name an earlier stage');
    expect(problems).toContain('line 7: COPY --from=nowhere does not name an earlier stage');
    expect(problems).toContain('line 9: HEALTHCHECK looks like exec form but is not a JSON array of strings');
    expect(problems).toContain('the final stage runs as root: no USER instruction');
    expect(problems).toContain('the final stage has no HEALTHCHECK');
    expect(problems).toContain('the final stage has no CMD or ENTRYPOINT');
    expect(problems).toContain('no RUN step installs dependencies with `npm ci`');
    expect(problems).toContain('line 3: use `npm ci`');
    expect(checkDockerfile('FROM a:1\nRUN npm ci\nUSER 0:0\nHEALTHCHECK NONE\nCMD ["a"]').join('\n')).toMatch(/USER is root[\s\S]*no HEALTHCHECK/);
    expect(checkDockerfile('FROM a@sha256:' + 'ab'.repeat(32) + ' AS x\nRUN npm ci\nFROM x\nUSER app\nHEALTHCHECK CMD true\nCMD ["a"]')).toEqual([]);
  });
});

describe('deploy/docker/Dockerfile', () => {
  const text = read('deploy/docker/Dockerfile');
  const parsed = parseDockerfile(text);
  const stages = dockerfileStages(parsed);
  const final = stages.at(-1);
  if (final === undefined) throw new Error('no stages');
  const effective = effectiveInstructions(stages, final);
  const last = (keyword: string) => effective.filter((i) => i.keyword === keyword).at(-1);

  it('passes the structural checks', () => {
    expect(checkDockerfile(text)).toEqual([]);
  });

  it('builds on one pinned Node LTS slim image', () => {
    const images = stages.filter((s) => !stages.some((t) => t.index < s.index && t.name === s.base));
    expect(images.map((s) => s.base)).toHaveLength(1);
    expect(images[0]?.base).toMatch(/^node:(22|24)\.\d+\.\d+-bookworm-slim$/);
  });

  it('installs from the lockfile before copying sources, builds, then prunes', () => {
    const at = (pattern: RegExp) => parsed.instructions.findIndex((i) => pattern.test(`${i.keyword} ${i.args}`));
    const manifests = at(/^COPY package\.json package-lock\.json \.\/$/);
    const install = at(/^RUN .*\bnpm ci\b/);
    const sources = at(/^COPY \. \.$/);
    const build = at(/^RUN .*node tools\/build\.js/);
    const prune = at(/^RUN .*npm prune --omit=dev/);
    expect(manifests).toBeGreaterThanOrEqual(0);
    expect([manifests < install, install < sources, sources <= build, build <= prune]).toEqual([true, true, true, true]);
  });

  it('runs dist/apps/$SERVICE/src/main.js as the node user', () => {
    expect(final.instructions.some((i) => i.keyword === 'ARG' && /^SERVICE$/.test(i.args))).toBe(true);
    expect(last('USER')?.args).toBe('node');
    expect(last('EXPOSE')?.args).toBe('3000');
    const cmd = execForm(last('CMD')?.args ?? '');
    expect(cmd?.slice(0, 2)).toEqual(['sh', '-c']);
    const script = (cmd?.[2] ?? '').replace(/\$\{?SERVICE\}?/g, 'ledger').replace(/"/g, '');
    expect(script).toBe('exec node dist/apps/ledger/src/main.js');
    expect(final.instructions.some((i) => i.keyword === 'ENV' && /\bSERVICE=\$\{?SERVICE\}?/.test(i.args))).toBe(true);
    expect(final.instructions.filter((i) => i.keyword === 'COPY').every((i) => /--from=build\b/.test(i.args))).toBe(true);
  });

  it('.dockerignore keeps local installs and outputs out of the build context', () => {
    const entries = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(entries).toEqual(expect.arrayContaining(['node_modules', 'dist', '.alliance', '.git', 'deploy/kafka/.runtime', 'tmp', 'coverage']));
  });

  describe('HEALTHCHECK probe, run with this Node against a local server', () => {
    let server: Server;
    let port = 0;
    let status = 200;
    beforeAll(async () => {
      server = createServer((req, res) => {
        res.statusCode = req.url === '/health/live' ? status : 404;
        res.end();
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((done) => server.close(() => done()));
    });

    const probe = (probePort: number) =>
      new Promise<number>((done) => {
        const argv = execForm(last('HEALTHCHECK')?.args ?? '') ?? [];
        expect(argv[0]).toBe('node');
        execFile(process.execPath, argv.slice(1), { env: { ...process.env, PORT: String(probePort) }, timeout: 10_000 }, (error) => {
          done(error === null ? 0 : typeof error.code === 'number' ? error.code : -1);
        });
      });

    it('exits 0 when /health/live answers 200 and 1 otherwise', async () => {
      expect(last('HEALTHCHECK')?.args).toMatch(/^--interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+\s+CMD /);
      status = 200;
      expect(await probe(port)).toBe(0);
      status = 503;
      expect(await probe(port)).toBe(1);
      await new Promise<void>((done) => server.close(() => done()));
      expect(await probe(port)).toBe(1);
      server.listen(0, '127.0.0.1');
      await new Promise<void>((done) => server.once('listening', () => done()));
    });
  });
});
