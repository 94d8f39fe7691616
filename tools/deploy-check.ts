/**
 * Checks for the container deployment (deploy/docker/Dockerfile and
 * docker-compose.yml) that need no Docker engine: the Compose Specification
 * schema, the consortium topology, and a small Dockerfile parser. Every check
 * returns a list of problems (empty = fine) so tests can feed it broken input.
 */
import Ajv, { type AnySchemaObject, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseDocument } from 'yaml';

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------
// Compose: parsing and interpolation
// ---------------------------------------------------------------------------

/**
 * Parses a compose file the way Compose reads it: YAML with `<<` merge keys
 * resolved and duplicate keys rejected. Throws with every YAML error in one message.
 */
export function parseComposeYaml(text: string): unknown {
  const document = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) throw new Error(`invalid YAML: ${document.errors.map((e) => e.message).join('; ')}`);
  return document.toJS({ maxAliasCount: 1000 });
}

export interface Interpolated {
  readonly value: unknown;
  /** Variables used without a default that the environment does not set (Compose warns and uses ""). */
  readonly unset: readonly string[];
}

const VARIABLE = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Compose variable interpolation (`$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR:?err}`). */
export function interpolate(value: unknown, env: Readonly<Record<string, string | undefined>>): Interpolated {
  const unset = new Set<string>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(VARIABLE, (_match, dollar: string | undefined, braced: string | undefined, op: string | undefined, operand: string | undefined, bare: string | undefined) => {
        if (dollar !== undefined) return '$';
        const name = braced ?? bare ?? '';
        const current = env[name];
        const isSet = current !== undefined;
        const isNonEmpty = isSet && current !== '';
        switch (op) {
          case ':-':
            return isNonEmpty ? current : (operand ?? '');
          case '-':
            return isSet ? current : (operand ?? '');
          case ':+':
            return isNonEmpty ? (operand ?? '') : '';
          case '+':
            return isSet ? (operand ?? '') : '';
          case ':?':
          case '?':
            if (op === ':?' ? !isNonEmpty : !isSet) unset.add(name);
            return current ?? '';
          default:
            if (!isSet) unset.add(name);
            return current ?? '';
        }
      });
    }
    if (Array.isArray(v)) return v.map(walk);
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item)]));
    return v;
  };
  const result = walk(value);
  return { value: result, unset: [...unset].sort() };
}

// ---------------------------------------------------------------------------
// Compose: JSON Schema validation
// ---------------------------------------------------------------------------

export type Validator = (document: unknown) => string[];

/**
 * Compiles the Compose Specification schema. The file declares
 * `https://json-schema.org/draft-07/schema` (no trailing `#`), an id Ajv does
 * not know, so it is compiled against Ajv's own draft-07 meta-schema.
 */
export function createComposeValidator(schema: AnySchemaObject): Validator {
  if (typeof schema.$schema === 'string' && !/draft-07\/schema#?$/.test(schema.$schema)) {
    throw new Error(`expected a draft-07 schema, got ${schema.$schema}`);
  }
  // allowUnionTypes/strictTypes: the spec uses `type: [string, number]` unions and
  // keywords without an explicit type; unknown keywords still fail (strictSchema).
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
  addFormats(ajv);
  const validate = ajv.compile({ ...schema, $schema: 'http://json-schema.org/draft-07/schema#' });
  return (document) => (validate(document) ? [] : (validate.errors ?? []).map(formatAjvError));
}

function formatAjvError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const extra = error.keyword === 'additionalProperties' && isRecord(error.params) ? ` (${String(error.params['additionalProperty'])})` : '';
  return `${where} ${error.message ?? error.keyword}${extra}`;
}

// ---------------------------------------------------------------------------
// Compose: semantics the schema cannot express
// ---------------------------------------------------------------------------

/** What one compose service must look like, from the consortium topology. */
export interface ExpectedService {
  /** Directory under apps/ that the image runs (build.args.SERVICE). */
  readonly app: string;
  readonly orgId: string;
  /** Database named in DATABASE_URL. */
  readonly database: string;
  readonly kafka: boolean;
  readonly ledgerRole?: 'member' | 'observer';
  /** Environment variables whose value must be an http URL naming another compose service. */
  readonly upstreams?: readonly string[];
  readonly publishesPorts?: boolean;
  /** Named volumes the service reads, filled beforehand by a one-shot job. */
  readonly inputs?: readonly ExpectedVolumeInput[];
}

/** Files a service reads from a named volume that a one-shot job fills before the service starts. */
export interface ExpectedVolumeInput {
  /** The one-shot job that writes the volume; the service waits for it with `service_completed_successfully`. */
  readonly job: string;
  /** Named volume, mounted read-only by the service and read-write by the job. */
  readonly volume: string;
  /** Environment variables that must name a path inside the volume's mount point. */
  readonly files: readonly string[];
  /** Environment variables the service must not set (an observer has no node key). */
  readonly absent?: readonly string[];
}

/**
 * A one-shot job: a service with `restart: "no"` and its own `command`, run to
 * completion once. It is not an application process of the stack (tools/lib/topology.js
 * has no counterpart), needs no database or port, and others wait for it with
 * `service_completed_successfully`.
 */
export interface ExpectedJob {
  /** Directory under apps/ whose image the job runs (build.args.SERVICE). */
  readonly app: string;
  /** Named volumes the job fills (mounted read-write). */
  readonly writes: readonly string[];
}

export interface ComposeExpectations {
  /** Names of the directories under apps/ that an image may run. */
  readonly appNames: readonly string[];
  /** Databases that the PostgreSQL init script creates. */
  readonly initDatabases: readonly string[];
  /** Every application service (long-running process) of the stack, by compose service name. */
  readonly services: Readonly<Record<string, ExpectedService>>;
  /** Every one-shot job of the stack, by compose service name. */
  readonly jobs: Readonly<Record<string, ExpectedJob>>;
}

/** True for a one-shot job: `restart: "no"` and a `command` of its own (see {@link ExpectedJob}). */
export function isOneShotJob(service: JsonRecord): boolean {
  return service['restart'] === 'no' && service['command'] !== undefined && service['command'] !== null;
}

/** One entry of a service's `volumes` (short `source:target[:mode]` or long syntax). */
export interface VolumeMount {
  /** `volume` (named or anonymous), `bind`, `tmpfs`, ... */
  readonly type: string;
  /** Volume name or host path; undefined for an anonymous volume. */
  readonly source?: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/** The volumes a service mounts, short and long syntax alike. */
export function volumeMountsOf(service: JsonRecord): VolumeMount[] {
  const value = service['volumes'];
  if (!Array.isArray(value)) return [];
  const mounts: VolumeMount[] = [];
  for (const entry of value) {
    if (typeof entry === 'string') {
      const parts = entry.split(':');
      if (parts.length === 1) {
        mounts.push({ type: 'volume', target: parts[0] ?? '', readOnly: false });
        continue;
      }
      const source = parts[0] ?? '';
      const mode = parts.slice(2).join(':');
      // Compose reads a source that looks like a path as a bind mount, anything else as a volume name.
      const type = /^[./~]/.test(source) ? 'bind' : 'volume';
      mounts.push({ type, source, target: parts[1] ?? '', readOnly: mode.split(',').includes('ro') });
    } else if (isRecord(entry)) {
      const type = typeof entry['type'] === 'string' ? entry['type'] : 'volume';
      const source = typeof entry['source'] === 'string' ? entry['source'] : undefined;
      const target = typeof entry['target'] === 'string' ? entry['target'] : '';
      const readOnly = entry['read_only'] === true || entry['read_only'] === 'true';
      mounts.push({ type, ...(source === undefined ? {} : { source }), target, readOnly });
    }
  }
  return mounts;
}

/** The mount of a named volume, if the service has one. */
export function mountOfVolume(service: JsonRecord, volume: string): VolumeMount | undefined {
  return volumeMountsOf(service).find((m) => m.type === 'volume' && m.source === volume);
}

/** True when `file` is an absolute path strictly below the directory `dir` (both POSIX, normalized). */
export function isInsideDirectory(file: string, dir: string): boolean {
  if (!posix.isAbsolute(file) || !posix.isAbsolute(dir)) return false;
  const base = posix.normalize(dir).replace(/\/+$/, '');
  return posix.normalize(file).startsWith(`${base}/`);
}

/** Environment of a compose service as a map (compose allows a map or a KEY=VALUE list). */
export function environmentOf(service: JsonRecord): Record<string, string> {
  return toStringMap(service['environment']);
}

/** Build args of a compose service as a map. */
export function buildArgsOf(service: JsonRecord): Record<string, string> {
  const build = service['build'];
  return isRecord(build) ? toStringMap(build['args']) : {};
}

function toStringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (typeof entry !== 'string') continue;
      const eq = entry.indexOf('=');
      if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = String(v);
  }
  return out;
}

/** Names of the services a service waits for (short list form or long map form). */
export function dependsOnOf(service: JsonRecord): Record<string, string> {
  const value = service['depends_on'];
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const name of value) if (typeof name === 'string') out[name] = 'service_started';
  } else if (isRecord(value)) {
    for (const [name, spec] of Object.entries(value)) out[name] = isRecord(spec) && typeof spec['condition'] === 'string' ? spec['condition'] : 'service_started';
  }
  return out;
}

function databaseOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (!/^postgres(ql)?:$/.test(parsed.protocol)) return undefined;
    const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    return name === '' ? undefined : name;
  } catch {
    return undefined;
  }
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Topology checks on an interpolated compose document: dependencies exist and
 * can be waited on, images run real apps, every service has the environment
 * its role needs, only the allowed services publish ports, the databases the
 * services use are exactly those the init script creates, named volumes are
 * declared, one-shot jobs are exactly the expected ones and fill the volumes
 * that the services depending on them read (read-only, after the job succeeded).
 */
export function checkComposeSemantics(document: unknown, expected: ComposeExpectations): string[] {
  const problems: string[] = [];
  if (!isRecord(document) || !isRecord(document['services'])) return ['the document has no services mapping'];
  const services: Record<string, JsonRecord> = {};
  for (const [name, value] of Object.entries(document['services'])) {
    if (isRecord(value)) services[name] = value;
    else problems.push(`${name}: service definition is not a mapping`);
  }
  const usedDatabases = new Set<string>();
  const declaredVolumes = isRecord(document['volumes']) ? Object.keys(document['volumes']) : [];
  const chainIds = new Map<string, string[]>();
  const nodeKeyFiles = new Map<string, string[]>();

  for (const [name, service] of Object.entries(services)) {
    for (const [target, condition] of Object.entries(dependsOnOf(service))) {
      const dependency = services[target];
      if (dependency === undefined) {
        problems.push(`${name}: depends_on names unknown service "${target}"`);
        continue;
      }
      if (target === name) problems.push(`${name}: depends on itself`);
      if (isOneShotJob(dependency)) {
        // A job exits: "healthy" never comes, "started" races with its work.
        if (condition !== 'service_completed_successfully') problems.push(`${name}: waits for one-shot job "${target}" with ${condition}; only service_completed_successfully waits until it has finished`);
        continue;
      }
      if (condition === 'service_completed_successfully') problems.push(`${name}: waits for "${target}" to complete, but "${target}" is a long-running service, not a one-shot job`);
      // Our Dockerfile carries a HEALTHCHECK, so a built service is health-checked too.
      if (condition === 'service_healthy' && dependency['healthcheck'] === undefined && dependency['build'] === undefined) {
        problems.push(`${name}: waits for "${target}" to be healthy, but "${target}" has no healthcheck`);
      }
    }

    for (const mount of volumeMountsOf(service)) {
      if (mount.type === 'volume' && mount.source !== undefined && !declaredVolumes.includes(mount.source)) {
        problems.push(`${name}: mounts volume "${mount.source}", which the top-level volumes do not declare`);
      }
    }

    if (service['build'] !== undefined) {
      const app = buildArgsOf(service)['SERVICE'];
      if (app === undefined) problems.push(`${name}: build has no SERVICE argument`);
      else if (!expected.appNames.includes(app)) problems.push(`${name}: build.args.SERVICE "${app}" is not a directory under apps/`);
    }

    const env = environmentOf(service);
    const databaseUrl = env['DATABASE_URL'];
    if (databaseUrl !== undefined) {
      const database = databaseOf(databaseUrl);
      if (database === undefined) problems.push(`${name}: DATABASE_URL is not a postgres:// URL with a database`);
      else {
        usedDatabases.add(database);
        if (!expected.initDatabases.includes(database)) problems.push(`${name}: DATABASE_URL uses database "${database}", which postgres-init.sql does not create`);
        const host = hostOf(databaseUrl);
        if (host !== undefined && services[host] === undefined) problems.push(`${name}: DATABASE_URL host "${host}" is not a compose service`);
      }
    }
    const brokers = env['KAFKA_BROKERS'];
    if (brokers !== undefined) {
      for (const broker of brokers.split(',').map((b) => b.trim())) {
        const host = broker.replace(/:\d+$/, '');
        if (services[host] === undefined) problems.push(`${name}: KAFKA_BROKERS names "${broker}", which is not a compose service`);
      }
    }

    const role = expected.services[name];
    const job = expected.jobs[name];
    if (service['ports'] !== undefined && role?.publishesPorts !== true) problems.push(`${name}: publishes ports, but only ${publishers(expected)} may`);
    if (job !== undefined) {
      problems.push(...checkJob(name, service, job));
      continue;
    }
    if (isOneShotJob(service)) {
      if (role !== undefined) problems.push(`${name}: is an application process, but is set up as a one-shot job (restart: "no" with a command)`);
      else if (service['build'] !== undefined) problems.push(`${name}: is a one-shot job built from the project but is not one of the expected jobs`);
    }
    if (role === undefined) {
      if (service['build'] !== undefined && !isOneShotJob(service)) problems.push(`${name}: is built from the project but is not part of the expected topology`);
      continue;
    }
    const app = buildArgsOf(service)['SERVICE'];
    if (app !== role.app) problems.push(`${name}: should run app "${role.app}" (build.args.SERVICE is ${app === undefined ? 'missing' : `"${app}"`})`);
    for (const variable of ['PORT', 'ORG_ID', 'LOG_LEVEL', 'DATABASE_URL', ...(role.kafka ? ['KAFKA_BROKERS'] : [])]) {
      if (env[variable] === undefined || env[variable] === '') problems.push(`${name}: environment lacks ${variable}`);
    }
    if (env['ORG_ID'] !== undefined && env['ORG_ID'] !== role.orgId) problems.push(`${name}: ORG_ID is "${env['ORG_ID']}", expected "${role.orgId}"`);
    if (databaseUrl !== undefined) {
      const database = databaseOf(databaseUrl);
      if (database !== undefined && database !== role.database) problems.push(`${name}: uses database "${database}", expected "${role.database}"`);
    }
    if (role.ledgerRole !== undefined) {
      if (env['LEDGER_ROLE'] !== role.ledgerRole) problems.push(`${name}: LEDGER_ROLE is ${env['LEDGER_ROLE'] === undefined ? 'missing' : `"${env['LEDGER_ROLE']}"`}, expected "${role.ledgerRole}"`);
      // CHAIN_ID has a default in the ledger's config; a node of this stack must name the chain its genesis file starts.
      for (const variable of ['LEDGER_NODE_ID', 'CHAIN_ID']) {
        if (env[variable] === undefined || env[variable] === '') problems.push(`${name}: environment lacks ${variable}`);
      }
      const chainId = env['CHAIN_ID'];
      if (chainId !== undefined && chainId !== '') chainIds.set(chainId, [...(chainIds.get(chainId) ?? []), name]);
      const keyFile = env['LEDGER_NODE_KEY_FILE'];
      if (keyFile !== undefined && keyFile !== '') nodeKeyFiles.set(keyFile, [...(nodeKeyFiles.get(keyFile) ?? []), name]);
    }
    for (const input of role.inputs ?? []) problems.push(...checkVolumeInput(name, service, env, input, services));
    for (const variable of role.upstreams ?? []) {
      const url = env[variable];
      const host = url === undefined || !/^https?:\/\//.test(url) ? undefined : hostOf(url);
      if (host === undefined) problems.push(`${name}: ${variable} must be an http URL`);
      else if (services[host] === undefined) problems.push(`${name}: ${variable} points at "${host}", which is not a compose service`);
    }
    if (role.publishesPorts === true && service['ports'] === undefined) problems.push(`${name}: should publish its port`);
  }

  for (const [name, role] of Object.entries(expected.services)) {
    if (services[name] === undefined) problems.push(`${name}: missing (expected ${role.app} of ${role.orgId})`);
  }
  for (const [name, job] of Object.entries(expected.jobs)) {
    if (services[name] === undefined) problems.push(`${name}: missing (expected one-shot job running the ${job.app} image)`);
  }
  if (chainIds.size > 1) {
    problems.push(`the ledger nodes disagree on CHAIN_ID: ${[...chainIds].map(([id, names]) => `"${id}" (${names.join(', ')})`).join(', ')}`);
  }
  for (const [file, names] of nodeKeyFiles) {
    if (names.length > 1) problems.push(`${names.join(', ')}: share the node key file ${file}; every member signs with its own key`);
  }
  for (const database of expected.initDatabases) {
    if (!usedDatabases.has(database)) problems.push(`postgres-init.sql creates "${database}", which no service uses`);
  }
  return problems;
}

/** A one-shot job: really one-shot, runs the expected image, mounts the volumes it fills writable. */
function checkJob(name: string, service: JsonRecord, job: ExpectedJob): string[] {
  const problems: string[] = [];
  if (!isOneShotJob(service)) {
    const restart = service['restart'] === undefined ? 'no restart' : `restart: ${JSON.stringify(service['restart'])}`;
    const command = service['command'] === undefined ? 'no command' : 'a command';
    problems.push(`${name}: should be a one-shot job with restart: "no" and a command (has ${restart} and ${command})`);
  }
  const app = buildArgsOf(service)['SERVICE'];
  if (app !== job.app) problems.push(`${name}: should run the image of app "${job.app}" (build.args.SERVICE is ${app === undefined ? 'missing' : `"${app}"`})`);
  for (const volume of job.writes) {
    const mount = mountOfVolume(service, volume);
    if (mount === undefined) problems.push(`${name}: does not mount volume "${volume}", which it should fill`);
    else if (mount.readOnly) problems.push(`${name}: mounts volume "${volume}" read-only, but it should fill it`);
  }
  return problems;
}

/** A service that reads a volume filled by a job: waits for the job, mounts the volume read-only, finds its files there. */
function checkVolumeInput(name: string, service: JsonRecord, env: Readonly<Record<string, string>>, input: ExpectedVolumeInput, services: Readonly<Record<string, JsonRecord>>): string[] {
  const problems: string[] = [];
  const condition = dependsOnOf(service)[input.job];
  if (condition !== 'service_completed_successfully') {
    problems.push(`${name}: must wait for "${input.job}" with condition service_completed_successfully (${condition === undefined ? 'it has no depends_on entry for it' : `got ${condition}`})`);
  }
  const writer = services[input.job];
  const written = writer === undefined ? undefined : mountOfVolume(writer, input.volume);
  if (writer !== undefined && (written === undefined || written.readOnly)) problems.push(`${name}: reads volume "${input.volume}", but "${input.job}" does not write it`);
  const mount = mountOfVolume(service, input.volume);
  if (mount === undefined) problems.push(`${name}: does not mount volume "${input.volume}" (written by "${input.job}")`);
  else if (!mount.readOnly) problems.push(`${name}: mounts volume "${input.volume}" read-write; it only reads it, so mount it with :ro`);
  for (const variable of input.files) {
    const file = env[variable];
    if (file === undefined || file === '') problems.push(`${name}: environment lacks ${variable}`);
    else if (mount !== undefined && !isInsideDirectory(file, mount.target)) problems.push(`${name}: ${variable} "${file}" is not inside the "${input.volume}" volume (mounted at ${mount.target})`);
  }
  for (const variable of input.absent ?? []) {
    if (env[variable] !== undefined) problems.push(`${name}: sets ${variable}, which it must not have`);
  }
  return problems;
}

function publishers(expected: ComposeExpectations): string {
  const names = Object.entries(expected.services)
    .filter(([, role]) => role.publishesPorts === true)
    .map(([name]) => name);
  return names.length === 0 ? 'no service' : names.join(', ');
}

/** Databases created by `CREATE DATABASE` statements (comments ignored). */
export function databasesCreatedBy(sql: string): string[] {
  const withoutComments = sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  return [...withoutComments.matchAll(/\bCREATE\s+DATABASE\s+(?:"([^"]+)"|([A-Za-z_][A-Za-z0-9_$]*))/gi)].map((m) => m[1] ?? (m[2] ?? '').toLowerCase());
}

/** Apps of the workspace an image may run: directories under apps/, end-to-end suites excluded. */
export function listApps(root: string): string[] {
  const apps = join(root, 'apps');
  if (!existsSync(apps)) return [];
  return readdirSync(apps)
    .filter((name) => !name.endsWith('-e2e') && statSync(join(apps, name)).isDirectory())
    .sort();
}

// ---------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------

export const DOCKERFILE_INSTRUCTIONS = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
] as const;

export interface DockerInstruction {
  /** Upper-cased keyword as written (not necessarily a known one). */
  readonly keyword: string;
  /** Arguments with line continuations joined and embedded comment lines removed. */
  readonly args: string;
  /** 1-based line where the instruction starts. */
  readonly line: number;
  /** Bodies of here-documents (`<<EOF`) that follow the instruction. */
  readonly heredocs: readonly string[];
}

export interface ParsedDockerfile {
  readonly directives: Readonly<Record<string, string>>;
  readonly instructions: readonly DockerInstruction[];
}

/**
 * Reads a Dockerfile like BuildKit's parser: parser directives at the top
 * (`# escape=` changes the continuation character), full-line comments
 * dropped (also inside a continued instruction), continuation lines joined,
 * and here-documents collected.
 */
export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const directives: Record<string, string> = {};
  let index = 0;
  for (; index < lines.length; index++) {
    const m = /^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(lines[index] ?? '');
    if (m === null) break;
    const key = (m[1] ?? '').toLowerCase();
    if (key in directives) break;
    directives[key] = m[2] ?? '';
  }
  const escape = directives['escape'] ?? '\\';
  const isComment = (line: string) => /^\s*#/.test(line);
  const instructions: DockerInstruction[] = [];

  while (index < lines.length) {
    const first = lines[index] ?? '';
    if (first.trim() === '' || isComment(first)) {
      index++;
      continue;
    }
    const start = index + 1;
    let joined = '';
    let current = first;
    for (;;) {
      const trimmed = current.replace(/\s+$/, '');
      if (trimmed.endsWith(escape) && index + 1 < lines.length) {
        joined += trimmed.slice(0, -escape.length);
        index++;
        // Comment and blank lines inside a continuation are removed, not joined.
        while (index < lines.length && ((lines[index] ?? '').trim() === '' || isComment(lines[index] ?? ''))) index++;
        current = lines[index] ?? '';
        continue;
      }
      joined += trimmed.endsWith(escape) ? trimmed.slice(0, -escape.length) : current;
      index++;
      break;
    }
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(joined);
    const keyword = (m?.[1] ?? '').toUpperCase();
    const args = (m?.[2] ?? '').trim();
    const heredocs: string[] = [];
    if (keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') {
      for (const h of args.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
        const strip = h[1] === '-';
        const terminator = h[3] ?? '';
        const body: string[] = [];
        while (index < lines.length) {
          const line = lines[index] ?? '';
          index++;
          if ((strip ? line.replace(/^\t+/, '') : line) === terminator) break;
          body.push(line);
        }
        heredocs.push(body.join('\n'));
      }
    }
    instructions.push({ keyword, args, line: start, heredocs });
  }
  return { directives, instructions };
}

export interface DockerStage {
  readonly index: number;
  readonly name?: string;
  /** Base image or earlier stage, with global ARG defaults substituted. */
  readonly base: string;
  readonly line: number;
  readonly instructions: readonly DockerInstruction[];
}

/** Splits `--flag=value` options off the front of instruction arguments. */
export function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const m = /^--([A-Za-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (m === null) return { flags, rest };
    flags[m[1] ?? ''] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
}

function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    return values[name] ?? fallback ?? '';
  });
}

/** Groups instructions into build stages; ARGs before the first FROM feed FROM lines. */
export function dockerfileStages(parsed: ParsedDockerfile): DockerStage[] {
  const globalArgs: Record<string, string> = {};
  const stages: { index: number; name?: string; base: string; line: number; instructions: DockerInstruction[] }[] = [];
  for (const instruction of parsed.instructions) {
    if (instruction.keyword === 'FROM') {
      const { rest } = splitFlags(instruction.args);
      const m = /^(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(rest);
      const base = substitute(m?.[1] ?? rest, globalArgs);
      const name = m?.[2]?.toLowerCase();
      stages.push({ index: stages.length, ...(name === undefined ? {} : { name }), base, line: instruction.line, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) {
      if (instruction.keyword === 'ARG') {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(instruction.args);
        if (m?.[1] !== undefined) globalArgs[m[1]] = (m[2] ?? '').replace(/^(["'])(.*)\1$/, '$2');
      }
      continue;
    }
    stage.instructions.push(instruction);
  }
  return stages;
}

/** Instructions in effect for a stage: those of the stage it is built FROM, then its own. */
export function effectiveInstructions(stages: readonly DockerStage[], stage: DockerStage): DockerInstruction[] {
  const parent = stages.find((s) => s.index < stage.index && s.name !== undefined && s.name === stage.base.toLowerCase());
  return [...(parent === undefined ? [] : effectiveInstructions(stages, parent)), ...stage.instructions];
}

/** True when an image reference names a fixed tag (not `latest`) or a digest. */
export function isPinnedImage(reference: string): boolean {
  if (reference === 'scratch') return true;
  if (/@sha256:[0-9a-f]{64}$/.test(reference)) return true;
  const lastSegment = reference.split('/').at(-1) ?? '';
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return false;
  const tag = lastSegment.slice(colon + 1);
  return tag !== '' && tag !== 'latest' && !tag.includes('$');
}

function isRootUser(user: string): boolean {
  const name = user.split(':')[0]?.trim() ?? '';
  return name === '' || name === 'root' || name === '0';
}

/**
 * Structural checks of a Dockerfile: known instructions, pinned base images,
 * stage references, a non-root USER, a HEALTHCHECK and a start command in the
 * final image, valid JSON for exec-form commands, and `npm ci` for installs.
 */
export function checkDockerfile(text: string): string[] {
  const problems: string[] = [];
  const parsed = parseDockerfile(text);
  const known: readonly string[] = DOCKERFILE_INSTRUCTIONS;
  for (const instruction of parsed.instructions) {
    if (!known.includes(instruction.keyword)) problems.push(`line ${instruction.line}: unknown instruction ${instruction.keyword}`);
    if (['CMD', 'ENTRYPOINT', 'RUN', 'SHELL', 'HEALTHCHECK'].includes(instruction.keyword)) {
      const { rest } = instruction.keyword === 'RUN' || instruction.keyword === 'HEALTHCHECK' ? splitFlags(instruction.args) : { rest: instruction.args };
      const command = instruction.keyword === 'HEALTHCHECK' ? rest.replace(/^CMD\s+/i, '') : rest;
      // Docker silently falls back to shell form when the JSON is invalid.
      if (command.startsWith('[') && !isJsonStringArray(command)) problems.push(`line ${instruction.line}: ${instruction.keyword} looks like exec form but is not a JSON array of strings`);
    }
  }
  const firstNonArg = parsed.instructions.find((i) => i.keyword !== 'ARG');
  if (firstNonArg?.keyword !== 'FROM') problems.push('the first instruction (after global ARGs) must be FROM');

  const stages = dockerfileStages(parsed);
  const seenNames = new Set<string>();
  for (const stage of stages) {
    if (stage.name !== undefined) {
      if (seenNames.has(stage.name)) problems.push(`line ${stage.line}: stage name "${stage.name}" is used twice`);
    }
    const fromStage = seenNames.has(stage.base.toLowerCase());
    if (!fromStage && !isPinnedImage(stage.base)) problems.push(`line ${stage.line}: base image "${stage.base}" is not pinned to a tag or digest (and "latest" does not count)`);
    for (const instruction of stage.instructions) {
      if (instruction.keyword !== 'COPY' && instruction.keyword !== 'ADD') continue;
      const from = splitFlags(instruction.args).flags['from'];
      if (from === undefined) continue;
      const earlierIndex = /^\d+$/.test(from) && Number(from) < stage.index;
      if (!earlierIndex && !seenNames.has(from.toLowerCase())) problems.push(`line ${instruction.line}: COPY --from=${from} does not name an earlier stage`);
    }
    if (stage.name !== undefined) seenNames.add(stage.name);
  }

  const final = stages.at(-1);
  if (final === undefined) {
    problems.push('no FROM: the Dockerfile has no build stage');
  } else {
    const effective = effectiveInstructions(stages, final);
    const user = effective.filter((i) => i.keyword === 'USER').at(-1);
    if (user === undefined) problems.push('the final stage runs as root: no USER instruction');
    else if (isRootUser(user.args)) problems.push(`line ${user.line}: the final stage's USER is root`);
    const healthcheck = effective.filter((i) => i.keyword === 'HEALTHCHECK').at(-1);
    if (healthcheck === undefined || /^NONE$/i.test(healthcheck.args)) problems.push('the final stage has no HEALTHCHECK');
    if (!effective.some((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT')) problems.push('the final stage has no CMD or ENTRYPOINT');
  }

  const runs = parsed.instructions.filter((i) => i.keyword === 'RUN');
  if (!runs.some((i) => /\bnpm\s+ci\b/.test(i.args))) problems.push('no RUN step installs dependencies with `npm ci`');
  for (const run of runs) {
    if (/\bnpm\s+(install|i)\b(?!\S)/.test(run.args)) problems.push(`line ${run.line}: use \`npm ci\` (lockfile-exact) instead of \`npm install\``);
  }
  return problems;
}

function isJsonStringArray(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string');
  } catch {
    return false;
  }
}

/** Parses the exec form of CMD/ENTRYPOINT/HEALTHCHECK CMD into its argv, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  const command = args.replace(/^(--[A-Za-z-]+=\S+\s+)*/, '').replace(/^CMD\s+/i, '');
  if (!isJsonStringArray(command)) return undefined;
  const value: unknown = JSON.parse(command);
  return Array.isArray(value) ? value.map(String) : undefined;
}
