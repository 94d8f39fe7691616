#!/usr/bin/env node
// `npm run stack -- up | down | status | logs [id] [-f]`
// The distributed system on one machine without Docker: real Kafka (KRaft,
// deploy/kafka/kafka.sh), real PostgreSQL, and every service as a background
// process for a consortium of three members plus a regulator. `down` stops
// exactly what `up` started (recorded in .alliance/stack/state.json).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');

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
  fs.writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
}
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
function tcpAnswers(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
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

async function waitReady(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  // At least one probe, however short the timeout (status asks exactly once).
  for (let first = true; first || Date.now() < deadline; first = false) {
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
  if (existing && existing.processes.some((p) => alive(p.pid))) {
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
  for (const p of topology) {
    const taken = await tcpAnswers('127.0.0.1', Number(p.env.PORT), 300);
    if (taken) fail(`port ${p.env.PORT} (for ${p.id}) is in use; run \`npm run stack -- down\` or set PORT (the stack uses PORT..PORT+15)`);
  }
  fs.mkdirSync(logsDir, { recursive: true });
  const ordered = [...topology.filter((p) => p.service !== 'gateway'), ...topology.filter((p) => p.service === 'gateway')];
  for (const p of ordered) {
    const log = fs.openSync(path.join(logsDir, `${p.id}.log`), 'a');
    const child = spawn(process.execPath, ['--enable-source-maps', path.join(root, `dist/apps/${p.service}/src/main.js`)], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL || 'info', ...p.env },
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    state.processes.push({ id: p.id, service: p.service, pid: child.pid, url: `http://127.0.0.1:${p.env.PORT}`, org: p.env.ORG_ID, log: path.relative(root, path.join(logsDir, `${p.id}.log`)) });
    writeState(state);
    if (p.service === 'gateway') continue;
  }
  say(`started ${state.processes.length} processes; waiting for readiness…`);
  const results = await Promise.all(state.processes.map(async (p) => ({ p, r: await waitReady(p.url, 120_000) })));
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
    return [p.id, p.org, String(p.pid), alive(p.pid) ? (r ? (r.ok ? 'ready' : 'not ready') : 'running') : 'stopped', p.url];
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
  for (const p of procs) if (alive(p.pid)) process.kill(p.pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (procs.some((p) => alive(p.pid)) && Date.now() < deadline) await sleep(200);
  for (const p of procs) if (alive(p.pid)) {
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
  const results = await Promise.all(state.processes.map(async (p) => ({ p, r: alive(p.pid) ? await waitReady(p.url, 1) : { ok: false } })));
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

const [command, ...rest] = process.argv.slice(2);
const commands = { up, down, status, logs: () => logs(rest) };
if (!commands[command]) fail('usage: npm run stack -- up | down | status | logs [id] [-f]', 2);
Promise.resolve(commands[command]()).catch((e) => fail(e.stack || String(e)));
