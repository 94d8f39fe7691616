#!/usr/bin/env node
// `npm run stack -- up | down | status | logs [id] [-f] | start <id> | stop <id> | restart <id> | kill <id>`
// The distributed system on one machine without Docker: real Kafka (KRaft,
// deploy/kafka/kafka.sh), real PostgreSQL, and every service as a background
// process for a consortium of three members plus a regulator. `down` stops
// exactly what `up` started (recorded in .alliance/stack/state.json); each
// process's command and configuration are recorded there too, so one process
// can be stopped, killed and started again exactly as `up` started it.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { tcpAnswers } = require('./lib/net');

const root = path.resolve(__dirname, '..');
const dataDir = path.resolve(root, process.env.ALLIANCE_DATA_DIR || '.alliance');
const stackDir = path.join(dataDir, 'stack');
const stateFile = path.join(stackDir, 'state.json');
const logsDir = path.join(stackDir, 'logs');
const say = (m) => process.stdout.write(`stack: ${m}\n`);
const fail = (m, code = 1) => {
  process.stderr.write(`stack: ${m}\n`);
  process.exit(code);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readState() {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  } catch {
    return undefined;
  }
}
function writeState(state) {
  fs.mkdirSync(stackDir, { recursive: true });
  // Atomic: a concurrent reader (status, bench, another command) never sees half a file.
  const tmp = `${stateFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(tmp, stateFile);
}
// Read-modify-write of state.json under a lock file, so commands on different processes may run at once.
async function updateState(change) {
  const lock = `${stateFile}.lock`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const holder = Number(fs.readFileSync(lock, 'utf8').trim());
      if (holder > 0 && !alive(holder)) fs.rmSync(lock, { force: true }); // left by a command that died
      else if (Date.now() > deadline) fail(`${path.relative(root, lock)} is held by pid ${holder}`);
      else await sleep(50);
    }
  }
  try {
    const state = readState();
    if (!state) throw new Refusal('the stack is not up (no state.json); run `npm run stack -- up`');
    const result = change(state);
    writeState(state);
    return result;
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
function portOf(value, name, fallback) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${name} must be an integer between 1 and 65535 (got "${value}")`);
  return n;
}

// PostgreSQL: DATABASE_URL (an admin URL) when given; else the server on 127.0.0.1:5432; else one started from the local binaries.
async function resolvePostgres(state) {
  if (process.env.DATABASE_URL) return { adminUrl: process.env.DATABASE_URL, source: 'DATABASE_URL' };
  if (await tcpAnswers('127.0.0.1', 5432)) return { adminUrl: 'postgres://postgres@127.0.0.1:5432/postgres', source: 'local server on 127.0.0.1:5432' };
  const bin = findPgBin();
  if (!bin) fail('no PostgreSQL: set DATABASE_URL, start a server on 127.0.0.1:5432, or install PostgreSQL binaries (pg_ctl)');
  const port = 54330;
  const dir = path.join(stackDir, 'postgres');
  const asPostgres = process.getuid && process.getuid() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const run = (args) => {
    const [cmd, ...rest] = [...asPostgres, ...args];
    const r = spawnSync(cmd, rest, { encoding: 'utf8' });
    if (r.status !== 0) fail(`${args[0]} failed: ${r.stderr || r.stdout}`);
  };
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    fs.mkdirSync(dir, { recursive: true });
    if (asPostgres.length) spawnSync('chown', ['-R', 'postgres:postgres', dir]);
    run([path.join(bin, 'initdb'), '-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  }
  run([path.join(bin, 'pg_ctl'), '-D', dir, '-l', path.join(dir, 'server.log'), '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`, '-w', 'start']);
  state.startedPostgres = { bin, dir, asPostgres };
  return { adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, source: `PostgreSQL started from ${bin} on 127.0.0.1:${port}` };
}
function findPgBin() {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs.readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (fs.existsSync(path.join(base, v, 'bin', 'pg_ctl'))) return path.join(base, v, 'bin');
  return undefined;
}

// Kafka: KAFKA_BROKERS when given; else the project's own KRaft broker.
async function resolveKafka(state) {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS, source: 'KAFKA_BROKERS' };
  const port = portOf(process.env.KAFKA_PORT, 'KAFKA_PORT', 9092);
  const wasRunning = spawnSync('bash', [path.join(root, 'deploy/kafka/kafka.sh'), 'status'], { encoding: 'utf8' }).status === 0;
  if (!wasRunning && (await tcpAnswers('127.0.0.1', port))) return { brokers: `127.0.0.1:${port}`, source: `broker already on 127.0.0.1:${port}` };
  say(wasRunning ? 'Kafka already running (deploy/kafka/kafka.sh)' : 'starting Kafka 3.9.2 (KRaft, deploy/kafka/kafka.sh)…');
  const r = spawnSync('bash', [path.join(root, 'deploy/kafka/kafka.sh'), 'start'], { stdio: 'inherit' });
  if (r.status !== 0) fail('Kafka did not start; see deploy/kafka/.runtime/kafka.log');
  if (!wasRunning) state.startedKafka = true;
  return { brokers: `127.0.0.1:${port}`, source: wasRunning ? 'deploy/kafka (already running)' : 'deploy/kafka (started)' };
}

async function waitReady(url, timeoutMs, pid) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  // At least one probe, however short the timeout (status asks exactly once); none once the process is gone.
  for (let first = true; first || Date.now() < deadline; first = false) {
    if (pid !== undefined && !alive(pid)) return { ok: false, last: 'exited' };
    try {
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3000) });
      if (res.status === 200) return { ok: true };
      last = `HTTP ${res.status}: ${await res.text()}`;
    } catch (e) {
      last = e.cause?.code || e.message;
    }
    if (Date.now() + 500 >= deadline) break;
    await sleep(500);
  }
  return { ok: false, last };
}

async function up() {
  const existing = readState();
  if (existing && existing.processes.some(running)) {
    say('already up');
    return status();
  }
  const port = portOf(process.env.PORT, 'PORT', 3000);
  const state = { startedAt: new Date().toISOString(), port, processes: [] };
  writeState(state);
  const pgInfo = await resolvePostgres(state);
  say(`PostgreSQL: ${pgInfo.source}`);
  writeState(state);
  const kafka = await resolveKafka(state);
  say(`Kafka: ${kafka.brokers} (${kafka.source})`);
  writeState(state);

  const { build } = require('./build');
  build();
  const { ensureDatabase, withDatabase } = require(path.join(root, 'dist/libs/shared/data-access-postgres/src'));
  const { consortiumTopology, consortiumDatabases } = require('./lib/topology');
  const databasePrefix = process.env.STACK_DB_PREFIX || 'alliance';
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(databasePrefix)) fail(`STACK_DB_PREFIX must be lower-case letters, digits and underscores (got "${databasePrefix}")`);
  for (const db of consortiumDatabases(databasePrefix)) await ensureDatabase(pgInfo.adminUrl, db);

  const { seedDemoConsortium, ensureGenesis } = require('./lib/demo');
  const demo = seedDemoConsortium(dataDir);
  const chain = { chainId: 'alliance-demo', genesisFile: ensureGenesis(dataDir, root), keyFileFor: (org) => path.join(demo.keysDir, `${org}.key.json`) };
  const topology = consortiumTopology({ port, databaseUrlFor: (db) => withDatabase(pgInfo.adminUrl, db), kafkaBrokers: kafka.brokers, databasePrefix, chain });
  // STACK_KAFKA_BROKERS_<ORG> (e.g. STACK_KAFKA_BROKERS_ORG3): that organization's processes reach Kafka there
  // instead, e.g. through a proxy that can cut them off (the fault suite, docs/reliability.md).
  for (const p of topology) {
    const own = process.env[`STACK_KAFKA_BROKERS_${String(p.env.ORG_ID).toUpperCase()}`];
    if (own) p.env.KAFKA_BROKERS = own;
  }
  for (const p of topology) {
    const taken = await tcpAnswers('127.0.0.1', Number(p.env.PORT), 300);
    if (taken) fail(`port ${p.env.PORT} (for ${p.id}) is in use; run \`npm run stack -- down\` or set PORT (the stack uses PORT..PORT+15)`);
  }
  fs.mkdirSync(logsDir, { recursive: true });
  const ordered = [...topology.filter((p) => p.service !== 'gateway'), ...topology.filter((p) => p.service === 'gateway')];
  for (const p of ordered) {
    const log = path.relative(root, path.join(logsDir, `${p.id}.log`));
    const configuration = configurationOf(p.service, { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL || 'info', ...p.env });
    const command = { command: process.execPath, args: ['--enable-source-maps', path.join(root, `dist/apps/${p.service}/src/main.js`)], cwd: root };
    const pid = launch(p.service, command, configuration, log);
    state.processes.push({ id: p.id, service: p.service, pid, startTime: startTimeOf(pid), url: `http://127.0.0.1:${p.env.PORT}`, org: p.env.ORG_ID, log, spawn: { ...command, ...recordable(configuration) } });
    writeState(state);
  }
  say(`started ${state.processes.length} processes; waiting for readiness…`);
  const results = await Promise.all(state.processes.map(async (p) => ({ p, r: await waitReady(p.url, 120_000, p.pid) })));
  const bad = results.filter(({ p, r }) => !r.ok || !alive(p.pid));
  printTable(state, results);
  if (bad.length > 0) {
    for (const { p, r } of bad) process.stderr.write(`stack: ${p.id} not ready (${alive(p.pid) ? r.last : 'exited'}); log: ${p.log}\n`);
    fail('some services are not ready; `npm run stack -- logs <id>` shows why, `npm run stack -- down` stops everything');
  }
  const base = `http://127.0.0.1:${port}`;
  process.stdout.write(`\n  Alliance consortium is up\n  API base URL  ${base}\n  GraphQL       ${base}/graphql\n  API docs      ${base}/docs\n  Health        ${base}/health\n  Logs          npm run stack -- logs <id>\n  Stop          npm run stack -- down\n\n`);
}

function printTable(state, results) {
  const rows = state.processes.map((p) => {
    const r = results?.find((x) => x.p.id === p.id)?.r;
    return [p.id, p.org, String(p.pid), running(p) ? (r ? (r.ok ? 'ready' : 'not ready') : 'running') : 'stopped', p.url];
  });
  const header = ['process', 'org', 'pid', 'state', 'url'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [header, ...rows]) process.stdout.write(`  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
}

async function down() {
  const state = readState();
  if (!state) {
    say('nothing to stop (no stack state)');
    return;
  }
  const procs = [...state.processes].reverse();
  const live = procs.filter(running);
  for (const p of live) process.kill(p.pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (live.some(isOurs) && Date.now() < deadline) await sleep(200);
  for (const p of live) if (isOurs(p)) {
    say(`${p.id} did not stop in 20 s; killing`);
    process.kill(p.pid, 'SIGKILL');
  }
  say(`stopped ${procs.length} processes`);
  if (state.startedKafka) {
    spawnSync('bash', [path.join(root, 'deploy/kafka/kafka.sh'), 'stop'], { stdio: 'inherit' });
  }
  if (state.startedPostgres) {
    const { bin, dir, asPostgres } = state.startedPostgres;
    const [cmd, ...rest] = [...asPostgres, path.join(bin, 'pg_ctl'), '-D', dir, '-m', 'fast', '-w', 'stop'];
    spawnSync(cmd, rest, { stdio: 'inherit' });
  }
  fs.rmSync(stateFile, { force: true });
}

async function status() {
  const state = readState();
  if (!state) {
    say('down');
    process.exitCode = 3;
    return;
  }
  const results = await Promise.all(state.processes.map(async (p) => ({ p, r: running(p) ? await waitReady(p.url, 1) : { ok: false } })));
  printTable(state, results);
  if (results.some(({ r }) => !r.ok)) process.exitCode = 1;
}

function logs(args) {
  const state = readState();
  const follow = args.includes('-f') || args.includes('--follow');
  const ids = args.filter((a) => !a.startsWith('-'));
  const files = fs.existsSync(logsDir) ? fs.readdirSync(logsDir).filter((f) => f.endsWith('.log')) : [];
  const chosen = ids.length ? ids.map((id) => `${id}.log`) : files;
  for (const f of chosen) if (!files.includes(f)) fail(`no log for "${f.replace(/\.log$/, '')}"; known: ${files.map((x) => x.replace(/\.log$/, '')).join(', ') || 'none'}`);
  const r = spawnSync('tail', [...(follow ? ['-F'] : []), '-n', follow ? '20' : '50', ...chosen.map((f) => path.join(logsDir, f))], { stdio: 'inherit' });
  if (!state && !follow) say('(stack is down)');
  process.exitCode = r.status ?? 0;
}

// ------------------------------------------------------------ one process at a time

/** Thrown inside a state.json update so the lock is released before the command fails. */
class Refusal extends Error {}

/**
 * The configuration a service reads (the platform's variables and its own, by
 * their config shapes in dist/), taken from `given`. `up` records exactly this,
 * so `start` repeats it whatever the environment of the shell that runs `start`.
 */
function configurationOf(service, given) {
  const { baseConfigShape } = require(path.join(root, 'dist/libs/shared/feature-platform/src/base-config'));
  const own = require(path.join(root, `dist/apps/${service}/src/config`))[`${service}ConfigShape`] ?? {};
  const env = {};
  for (const name of new Set([...Object.keys(baseConfigShape), ...Object.keys(own)])) if (given[name] !== undefined) env[name] = given[name];
  return env;
}

// state.json keeps no credentials: a password in a URL is dropped and named, and `start` takes it from DATABASE_URL again.
function recordable(configuration) {
  const env = {};
  const credentials = [];
  for (const [name, value] of Object.entries(configuration)) {
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? new URL(value) : undefined;
    if (url?.password) {
      url.password = '';
      credentials.push(name);
      env[name] = url.toString();
    } else env[name] = value;
  }
  return { env, credentials };
}

function withCredentials(id, spawnSpec) {
  if (spawnSpec.credentials.length === 0) return spawnSpec.env;
  const source = process.env.DATABASE_URL ? new URL(process.env.DATABASE_URL) : undefined;
  if (!source?.password) throw new Refusal(`${id}: ${spawnSpec.credentials.join(', ')} had a password at \`up\`, which state.json does not keep; run this with the DATABASE_URL \`up\` was given`);
  const env = { ...spawnSpec.env };
  for (const name of spawnSpec.credentials) {
    const url = new URL(env[name]);
    url.password = source.password;
    env[name] = url.toString();
  }
  return env;
}

/** Spawns a service in the background, logging to `log` (relative to the repository); returns its pid. */
function launch(service, command, configuration, log) {
  const env = { ...process.env };
  // The recorded configuration is the whole configuration: nothing of the current shell's leaks in.
  for (const name of Object.keys(configurationOf(service, process.env))) delete env[name];
  Object.assign(env, configuration);
  const fd = fs.openSync(path.join(root, log), 'a');
  try {
    const child = spawn(command.command, command.args, { cwd: command.cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

// Linux: a pid's start time (clock ticks since boot, /proc/<pid>/stat field 22) tells the process we
// started from a later one that got its recycled pid (pids wrap quickly on a busy machine).
function startTimeOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
const isOurs = (p) => alive(p.pid) && (p.startTime === undefined || startTimeOf(p.pid) === p.startTime);
// A process stopped through these commands is marked as such until it is started again.
const running = (p) => !p.stoppedAt && isOurs(p);

const SIGNALS = ['TERM', 'KILL', 'INT', 'QUIT', 'HUP'];
function parseArgs(args, command) {
  const positional = [];
  let signal;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--signal') signal = args[++i];
    else if (args[i].startsWith('--signal=')) signal = args[i].slice('--signal='.length);
    else if (!args[i].startsWith('-')) positional.push(args[i]);
  }
  if (positional.length !== 1) throw new Refusal(`usage: npm run stack -- ${command} <id>${command === 'start' || command === 'restart' ? ' [--no-wait]' : ''}${command === 'start' ? '' : ' [--signal TERM|KILL|INT|QUIT|HUP]'}`);
  if (signal !== undefined) {
    signal = signal.toUpperCase().replace(/^SIG/, '');
    if (!SIGNALS.includes(signal)) throw new Refusal(`--signal must be one of ${SIGNALS.join(', ')} (got "${signal}")`);
  }
  return { id: positional[0], signal, wait: !args.includes('--no-wait') };
}

function processOf(state, id) {
  const p = state?.processes.find((x) => x.id === id);
  if (!state) throw new Refusal('the stack is not up (no state.json); run `npm run stack -- up`');
  if (!p) throw new Refusal(`no process "${id}"; known: ${state.processes.map((x) => x.id).join(', ')}`);
  return p;
}

/** Sends `signal` and waits for the process to exit; `escalate` turns a slow exit into SIGKILL (as `down` does). */
async function signalAndWait(id, signal, escalate) {
  const p = processOf(readState(), id);
  if (!running(p)) {
    say(`${id} is not running`);
    return;
  }
  process.kill(p.pid, `SIG${signal}`);
  const deadline = Date.now() + 20_000;
  while (isOurs(p) && Date.now() < deadline) await sleep(50);
  if (isOurs(p)) {
    if (!escalate) throw new Refusal(`${id} (pid ${p.pid}) is still running 20 s after SIG${signal}`);
    say(`${id} did not stop in 20 s; killing`);
    process.kill(p.pid, 'SIGKILL');
    while (isOurs(p)) await sleep(50);
  }
  await updateState((state) => {
    const current = processOf(state, id);
    if (current.pid === p.pid) current.stoppedAt = new Date().toISOString();
  });
  say(`${id} (pid ${p.pid}) stopped by SIG${signal}`);
}

async function startOne(args) {
  const { id, wait } = parseArgs(args, 'start');
  await startProcess(id, wait);
}

async function startProcess(id, wait) {
  const started = await updateState((state) => {
    const p = processOf(state, id);
    if (running(p)) return { ...p, already: true };
    if (!p.spawn) throw new Refusal(`${id} was started by an older stack.js that recorded no command; run \`down\` and \`up\``);
    p.pid = launch(p.service, p.spawn, withCredentials(id, p.spawn), p.log);
    p.startTime = startTimeOf(p.pid);
    p.startedAt = new Date().toISOString();
    p.starts = (p.starts ?? 1) + 1;
    delete p.stoppedAt;
    return { ...p };
  });
  say(started.already ? `${id} is already running (pid ${started.pid})` : `${id} started (pid ${started.pid}); log: ${started.log}`);
  if (!wait) return;
  const r = await waitReady(started.url, 120_000, started.pid);
  if (!r.ok || !isOurs(started)) throw new Refusal(`${id} not ready (${isOurs(started) ? r.last : 'exited'}); log: ${started.log}`);
  say(`${id} ready at ${started.url}`);
}

async function stopOne(args) {
  const { id, signal } = parseArgs(args, 'stop');
  await signalAndWait(id, signal ?? 'TERM', true);
}

async function killOne(args) {
  const { id, signal } = parseArgs(args, 'kill');
  await signalAndWait(id, signal ?? 'TERM', false);
}

async function restartOne(args) {
  const { id, signal, wait } = parseArgs(args, 'restart');
  await signalAndWait(id, signal ?? 'TERM', signal === undefined);
  await startProcess(id, wait);
}

const [command, ...rest] = process.argv.slice(2);
const commands = { up, down, status, logs: () => logs(rest), start: () => startOne(rest), stop: () => stopOne(rest), restart: () => restartOne(rest), kill: () => killOne(rest) };
if (!commands[command]) fail('usage: npm run stack -- up | down | status | logs [id] [-f] | start <id> [--no-wait] | stop <id> | restart <id> [--signal S] | kill <id> [--signal S]', 2);
Promise.resolve(commands[command]()).catch((e) => fail(e instanceof Refusal ? e.message : e.stack || String(e)));
