/**
 * Well-formedness of the container deployment without a Docker engine:
 * docker-compose.yml against the Compose Specification schema and the
 * consortium topology, deploy/docker/Dockerfile through a small parser, and
 * the Dockerfile's health probe run for real against a local HTTP server.
 */
import type { AnySchemaObject } from 'ajv';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
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
  isRecord,
  listApps,
  parseComposeYaml,
  parseDockerfile,
  type ComposeExpectations,
  type ExpectedService,
  type JsonRecord,
} from './deploy-check';

const ROOT = resolve(__dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// The consortium on one host (docs: ARCHITECTURE brief, "Build").
const SERVICES = ['audit', 'finance', 'gateway', 'identity', 'ledger', 'provenance'];
const DATABASES = ['alliance_org1', 'alliance_org2', 'alliance_org3', 'alliance_regulator'];
const org1 = (app: string): ExpectedService => ({ app, orgId: 'org1', database: 'alliance_org1', kafka: true });
const TOPOLOGY: Record<string, ExpectedService> = {
  'ledger-org1': { ...org1('ledger'), ledgerRole: 'member' },
  'ledger-org2': { app: 'ledger', orgId: 'org2', database: 'alliance_org2', kafka: true, ledgerRole: 'member' },
  'ledger-org3': { app: 'ledger', orgId: 'org3', database: 'alliance_org3', kafka: true, ledgerRole: 'member' },
  'ledger-regulator': { app: 'ledger', orgId: 'regulator', database: 'alliance_regulator', kafka: true, ledgerRole: 'observer' },
  identity: org1('identity'),
  provenance: org1('provenance'),
  finance: org1('finance'),
  audit: org1('audit'),
  gateway: { ...org1('gateway'), upstreams: ['IDENTITY_URL', 'LEDGER_URL', 'PROVENANCE_URL', 'FINANCE_URL', 'AUDIT_URL'], publishesPorts: true },
  'audit-regulator': { app: 'audit', orgId: 'regulator', database: 'alliance_regulator', kafka: true },
};

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

const expectations = (overrides: Partial<ComposeExpectations> = {}): ComposeExpectations => ({
  appNames: SERVICES,
  initDatabases: databasesCreatedBy(read('deploy/docker/postgres-init.sql')),
  services: TOPOLOGY,
  ...overrides,
});

describe('docker-compose.yml', () => {
  const validate = createComposeValidator(loadSchema());
  const { raw, resolved, unset } = loadCompose();
  const services = servicesOf(resolved);

  it('parses (merge keys resolved) and needs no variable without a default', () => {
    expect(Object.keys(services).sort()).toEqual(['kafka', 'postgres', ...Object.keys(TOPOLOGY)].sort());
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
      consortiumTopology(o: { port: number; kafkaBrokers: string; databaseUrlFor(db: string): string }): Array<{ id: string; service: string; env: Record<string, string> }>;
    };
    const stack = consortiumTopology({ port: 3000, kafkaBrokers: 'k:9092', databaseUrlFor: (db) => `postgres://x@h/${db}` });
    const applications = Object.keys(services).filter((name) => services[name]?.['build'] !== undefined).sort();
    expect(applications).toEqual(stack.map((p) => p.id).sort());
    for (const p of stack) {
      const env = (services[p.id]?.['environment'] ?? {}) as Record<string, string>;
      expect(buildArgsOf(services[p.id] ?? {})['SERVICE'], p.id).toBe(p.service);
      expect(env['ORG_ID'], p.id).toBe(p.env['ORG_ID']);
      expect(String(env['DATABASE_URL']).split('/').pop(), p.id).toBe(p.env['DATABASE_URL'].split('/').pop());
      if (p.env['LEDGER_ROLE']) expect(env['LEDGER_ROLE'], p.id).toBe(p.env['LEDGER_ROLE']);
      expect(env['HOST'], p.id).toBe('0.0.0.0');
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
    const broken = structuredClone(resolved);
    const s = broken['services'];
    if (!isRecord(s)) throw new Error('no services');
    const at = (name: string): JsonRecord => {
      const service = s[name];
      if (!isRecord(service)) throw new Error(name);
      return service;
    };
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

  it('starts applications only after healthy infrastructure, with a restart policy', () => {
    for (const name of Object.keys(TOPOLOGY)) {
      const service = services[name] ?? {};
      const deps = dependsOnOf(service);
      expect(deps, name).toMatchObject({ postgres: 'service_healthy', kafka: 'service_healthy' });
      expect(Object.values(deps).every((c) => c === 'service_healthy'), name).toBe(true);
      expect(service['restart'], name).toBe('unless-stopped');
      expect(service['init'], name).toBe(true);
    }
    expect(dependsOnOf(services['gateway'] ?? {})).toMatchObject({ identity: 'service_healthy', 'ledger-org1': 'service_healthy', provenance: 'service_healthy', finance: 'service_healthy', audit: 'service_healthy' });
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
