'use strict';
// `npm run bench -- ledger`: a consortium of its own (1..5 member ledger nodes
// as separate processes on real Kafka and real PostgreSQL), loaded through
// REST (batch and single submissions) and straight onto the ordering topic,
// then an open-loop phase at a fixed rate for latency. Prints, per phase:
// committed-and-certified tx/s, submit→certified latency per transaction
// (p50/p95/p99), and CPU per transaction of the ledger nodes and of the whole
// machine (Kafka, PostgreSQL and this load generator included).
//
// Transactions are signed before a phase starts (client signing is not the
// node's cost) with node:crypto; each is a `ledger.anchor` of a fresh hash.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { optionsOrExit } = require('./bench-args');
const { spawn, spawnSync } = require('node:child_process');
const { tcpAnswers } = require('./net');

const root = path.resolve(__dirname, '../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (m) => process.stdout.write(`${m}\n`);

const USAGE = `usage: npm run bench -- ledger [options]
  --nodes N            member ledger nodes (1..5, default 1), each its own process and database
  --phases LIST        comma-separated: batch,single,kafka,rate (default all four)
  --tx N               transactions per throughput phase (default 20000; single uses a quarter)
  --batch N            envelopes per REST batch request (default 500)
  --concurrency N      concurrent REST clients (default 4 for batch, 16x that for single)
  --rate N             open-loop rate of the rate phase, tx/s (default 1000)
  --duration S         seconds of the rate phase (default 20)
  --rate-batch N       envelopes per request in the rate phase (default 20)
  --block-size N       cutting.maxTransactions of the bench chain (default 500, as the demo chain)
  --batch-timeout MS   cutting.batchTimeoutMs (default 250, as the demo chain)
  --verify             afterwards, verify the whole chain and world state of the first node with the SDK's
                       verifyChain (what the audit's chain runs and \`alliance verify chain\` do), timed
  --profile            start the nodes with --cpu-prof (profiles in the bench folder)
  --keep               leave the nodes and databases running after the run
env: DATABASE_URL (admin URL; default postgres://postgres@127.0.0.1:5432/postgres),
     KAFKA_BROKERS (default: 127.0.0.1:9092 if a broker answers there, else deploy/kafka/kafka.sh start)`;

function parseArgs(args) {
  const opts = { verify: false, nodes: 1, phases: 'batch,single,kafka,rate', tx: 20000, batch: 500, concurrency: 4, rate: 1000, duration: 20, rateBatch: 20, blockSize: 500, batchTimeout: 250, profile: false, keep: false };
  const names = { nodes: 'nodes', phases: 'phases', tx: 'tx', batch: 'batch', concurrency: 'concurrency', rate: 'rate', duration: 'duration', 'rate-batch': 'rateBatch', 'block-size': 'blockSize', 'batch-timeout': 'batchTimeout' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--profile') opts.profile = true;
    else if (a === '--verify') opts.verify = true;
    else if (a === '--keep') opts.keep = true;
    else if (a.startsWith('--') && names[a.slice(2)]) {
      const key = names[a.slice(2)];
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      if (key === 'phases') opts.phases = v;
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`${a} must be a positive integer (got "${v}")`);
        opts[key] = n;
      }
    } else throw new Error(`unknown option ${a}`);
  }
  if (opts.nodes > 5) throw new Error('--nodes must be between 1 and 5');
  opts.phases = opts.phases.split(',').map((p) => p.trim());
  for (const p of opts.phases) if (!['batch', 'single', 'kafka', 'rate'].includes(p)) throw new Error(`unknown phase "${p}"`);
  return opts;
}

// ---- CPU accounting from /proc ------------------------------------------------

const TICK = 100; // USER_HZ on Linux

function processTicks(pids) {
  let sum = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      sum += Number(f[11]) + Number(f[12]); // utime + stime
    } catch {
      // gone
    }
  }
  return sum;
}

function machineTicks() {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return user + nice + system + irq + softirq + (steal || 0);
}

function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN;
}

// ---- the bench consortium -------------------------------------------------------

function ed25519Key() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  return {
    publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('hex'),
    privateKey: Buffer.from(privateKey.export({ format: 'jwk' }).d, 'base64url').toString('hex'),
    keyObject: privateKey,
  };
}

function createChain(p, dir, opts) {
  const chainId = `bench-${Date.now().toString(36)}`;
  const orgs = Array.from({ length: opts.nodes }, (_, i) => `org${i + 1}`);
  const keys = Object.fromEntries(orgs.map((o) => [o, ed25519Key()]));
  for (const o of orgs) {
    const k = keys[o];
    fs.writeFileSync(path.join(dir, `${o}.key.json`), `${JSON.stringify({ warning: 'BENCH KEY - generated by npm run bench for a throw-away chain', organizationId: o, algorithm: 'ed25519', publicKey: k.publicKey, privateKey: k.privateKey })}\n`, { mode: 0o600 });
  }
  const members = orgs.map((o) => ({
    organizationId: o,
    role: 'manufacturer',
    nodeKey: { algorithm: 'ed25519', publicKey: keys[o].publicKey },
    keys: [{ keyId: p.keyId('ed25519', p.fromHex(keys[o].publicKey)), algorithm: 'ed25519', publicKey: keys[o].publicKey }],
  }));
  const config = {
    chainId,
    sequence: 0,
    members,
    policies: { certification: { type: 'majority' }, configuration: { type: 'majority' } },
    cutting: { maxTransactions: opts.blockSize, maxBytes: 1048576, batchTimeoutMs: opts.batchTimeout },
    timestampWindowMs: 300000,
  };
  const genesis = p.signTransaction(
    { chainId, type: 'config.genesis', creator: { organizationId: 'org1', keyId: members[0].keys[0].keyId }, nonce: 'genesis', timestamp: p.formatTimestamp(Date.now()), payload: { config } },
    { algorithm: 'ed25519', privateKey: p.fromHex(keys.org1.privateKey) },
  );
  const genesisFile = path.join(dir, 'genesis.json');
  fs.writeFileSync(genesisFile, `${p.canonicalize(genesis)}\n`);
  return { chainId, orgs, keys, members, genesisFile };
}

/** Signs `count` ledger.anchor envelopes with node:crypto (same bytes the SDK produces). */
function signEnvelopes(p, chain, org, count, tag) {
  const key = chain.keys[org];
  const keyId = chain.members.find((m) => m.organizationId === org).keys[0].keyId;
  const out = new Array(count);
  const now = p.formatTimestamp(Date.now());
  for (let i = 0; i < count; i++) {
    const transaction = { chainId: chain.chainId, type: 'ledger.anchor', creator: { organizationId: org, keyId }, nonce: `${tag}-${i}`, timestamp: now, payload: { hash: crypto.createHash('sha256').update(`${chain.chainId} ${tag} ${i}`).digest('hex') } };
    const message = p.utf8(p.canonicalize(transaction));
    const signature = crypto.sign(null, p.signingInput(p.SignatureDomain.transaction, message), key.keyObject);
    out[i] = { transaction, signature: { algorithm: 'ed25519', keyId, value: Buffer.from(signature).toString('base64url') } };
  }
  return out;
}

async function startInfrastructure(state) {
  const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    if (await tcpAnswers('127.0.0.1', 9092)) brokers = '127.0.0.1:9092';
    else {
      say('bench: starting Kafka 3.9.2 (deploy/kafka/kafka.sh start)…');
      const r = spawnSync('bash', [path.join(root, 'deploy/kafka/kafka.sh'), 'start'], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error('Kafka did not start; see deploy/kafka/.runtime/kafka.log');
      state.startedKafka = true;
      brokers = '127.0.0.1:9092';
    }
  }
  return { adminUrl, brokers };
}

/** Every PostgreSQL server process (backends come and go; the sum of their ticks is what the database spent). */
function postgresPids() {
  const r = spawnSync('pgrep', ['-u', 'postgres'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split('\n').map(Number) : [];
}

function kafkaPid() {
  try {
    const pid = Number(fs.readFileSync(path.join(root, 'deploy/kafka/.runtime/kafka.pid'), 'utf8').trim());
    return Number.isInteger(pid) ? [pid] : [];
  } catch {
    return [];
  }
}

async function waitReady(url, child, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the node exited (${child.exitCode})`);
    try {
      const r = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
    } catch {
      // not yet
    }
    await sleep(300);
  }
  throw new Error(`${url} not ready in ${timeoutMs} ms`);
}

// ---- watching certification -------------------------------------------------------

/**
 * Polls node 1 for its newest certified block and records, for each
 * transaction id, when its block was first seen certified.
 */
class CertificationWatch {
  constructor(url) {
    this.url = url;
    this.certifiedAt = new Map();
    this.nextBlock = 1;
    this.certifiedCount = 0;
    this.stopped = false;
  }

  async poll() {
    const r = await fetch(`${this.url}/ledger/v1/checkpoints/latest`, { headers: { accept: 'application/json' } });
    if (r.status !== 200) return;
    const { blockNumber } = await r.json();
    while (this.nextBlock <= blockNumber) {
      const now = performance.now();
      const block = await (await fetch(`${this.url}/ledger/v1/blocks/${this.nextBlock}`)).json();
      for (const t of block.transactions) {
        if (!this.certifiedAt.has(t.transactionId)) {
          this.certifiedAt.set(t.transactionId, now);
          if (t.code === 'VALID') this.certifiedCount++;
        }
      }
      this.nextBlock++;
    }
  }

  start(intervalMs = 20) {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          await this.poll();
        } catch (e) {
          this.lastError = e;
        }
        await sleep(intervalMs);
      }
    })();
  }

  async until(ids, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (ids.every((id) => this.certifiedAt.has(id))) return;
      await sleep(10);
    }
    const missing = ids.filter((id) => !this.certifiedAt.has(id)).length;
    throw new Error(`${missing} of ${ids.length} transactions not certified within ${timeoutMs} ms${this.lastError ? ` (last poll error: ${this.lastError.message})` : ''}`);
  }

  async stop() {
    this.stopped = true;
    await this.loop;
  }
}

// ---- load generators ------------------------------------------------------------------

async function postJson(url, body) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await r.text();
  if (r.status !== 202) throw new Error(`${url}: ${r.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** `concurrency` clients take requests off one queue; each request's ids are stamped with the time it left. */
async function runClients(urls, requests, concurrency, send, sentAt) {
  let next = 0;
  const ids = [];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (next < requests.length) {
        const request = requests[next++];
        const t = performance.now();
        for (const id of await send(urls[w % urls.length], request)) {
          sentAt.set(id, t);
          ids.push(id);
        }
      }
    }),
  );
  return ids;
}

function runBatches(urls, envelopes, batchSize, concurrency, sentAt) {
  const bodies = [];
  for (let i = 0; i < envelopes.length; i += batchSize) bodies.push(envelopes.slice(i, i + batchSize));
  const send = async (url, envs) => (await postJson(`${url}/ledger/v1/transactions/batch`, JSON.stringify({ transactions: envs }))).transactionIds;
  return runClients(urls, bodies, concurrency, send, sentAt);
}

function runSingles(urls, envelopes, concurrency, sentAt) {
  const send = async (url, env) => [(await postJson(`${url}/ledger/v1/transactions`, JSON.stringify(env))).transactionId];
  return runClients(urls, envelopes, concurrency, send, sentAt);
}

async function runKafka(p, brokers, topic, envelopes, sentAt) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({ clientId: 'alliance-bench', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const ids = [];
  try {
    for (let i = 0; i < envelopes.length; i += 500) {
      const chunk = envelopes.slice(i, i + 500);
      const t = performance.now();
      const messages = chunk.map((e) => ({ partition: 0, value: Buffer.from(p.canonicalBytes(e)), headers: { 'alliance-kind': 'transaction' } }));
      await producer.send({ topic, messages, acks: -1 });
      for (const e of chunk) {
        const id = p.transactionId(e.transaction);
        sentAt.set(id, t);
        ids.push(id);
      }
    }
  } finally {
    await producer.disconnect();
  }
  return ids;
}

async function runRate(urls, envelopes, rate, batchSize, sentAt) {
  const intervalMs = (1000 * batchSize) / rate;
  const ids = [];
  const inflight = [];
  const start = performance.now();
  for (let i = 0, k = 0; i < envelopes.length; i += batchSize, k++) {
    const due = start + k * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const envs = envelopes.slice(i, i + batchSize);
    const t = performance.now();
    inflight.push(
      postJson(`${urls[k % urls.length]}/ledger/v1/transactions/batch`, JSON.stringify({ transactions: envs })).then(({ transactionIds }) => {
        for (const id of transactionIds) {
          sentAt.set(id, t);
          ids.push(id);
        }
      }),
    );
  }
  await Promise.all(inflight);
  return { ids, offeredSeconds: (performance.now() - start) / 1000 };
}

// ---- main ---------------------------------------------------------------------------------

async function benchLedger(args) {
  if (args.includes('--help')) {
    say(USAGE);
    return;
  }
  const opts = optionsOrExit(parseArgs, args, USAGE);
  const { build } = require('../build');
  build();
  const p = require(path.join(root, 'dist/libs/protocol/src'));
  const { ensureDatabase, withDatabase } = require(path.join(root, 'dist/libs/shared/data-access-postgres/src'));
  const state = { children: [] };
  const benchDir = path.join(root, '.alliance', 'bench', new Date().toISOString().replace(/[:.]/g, '-'));
  fs.mkdirSync(benchDir, { recursive: true });
  const infra = await startInfrastructure(state);
  const chain = createChain(p, benchDir, opts);
  const topic = `ledger.${chain.chainId}.ordering.v1`;
  const cpus = os.cpus();
  say(`bench ledger: ${opts.nodes} member node(s), chain ${chain.chainId}, Kafka ${infra.brokers}, cutting ${opts.blockSize} tx / ${opts.batchTimeout} ms`);
  say(`machine: ${cpus.length} × ${cpus[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);

  const nodes = [];
  const cleanup = async () => {
    if (opts.keep) {
      say(`bench: --keep: nodes left running (pids ${state.children.map((c) => c.pid).join(' ')}), data in ${benchDir}`);
      return;
    }
    for (const c of state.children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(state.children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    const { Pool } = require('pg');
    const admin = new Pool({ connectionString: infra.adminUrl, max: 1 });
    for (const o of chain.orgs) await admin.query(`DROP DATABASE IF EXISTS "bench_${o}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    if (state.startedKafka) spawnSync('bash', [path.join(root, 'deploy/kafka/kafka.sh'), 'stop'], { stdio: 'inherit' });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    const { Pool } = require('pg');
    const admin = new Pool({ connectionString: infra.adminUrl, max: 1 });
    for (const o of chain.orgs) await admin.query(`DROP DATABASE IF EXISTS "bench_${o}" WITH (FORCE)`);
    await admin.end();
    for (const [i, org] of chain.orgs.entries()) {
      await ensureDatabase(infra.adminUrl, `bench_${org}`);
      const port = 3800 + i;
      const url = `http://127.0.0.1:${port}`;
      const log = fs.openSync(path.join(benchDir, `ledger-${org}.log`), 'a');
      const nodeArgs = [...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${benchDir}`] : []), path.join(root, 'dist/apps/ledger/src/main.js')];
      const child = spawn(process.execPath, nodeArgs, {
        cwd: root,
        stdio: ['ignore', log, log],
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          PORT: String(port),
          DATABASE_URL: withDatabase(infra.adminUrl, `bench_${org}`),
          MESSAGING: 'kafka',
          KAFKA_BROKERS: infra.brokers,
          ORG_ID: org,
          LOG_LEVEL: 'warn',
          CHAIN_ID: chain.chainId,
          LEDGER_GENESIS_FILE: chain.genesisFile,
          LEDGER_NODE_KEY_FILE: path.join(benchDir, `${org}.key.json`),
          LEDGER_ROLE: 'member',
        },
      });
      state.children.push(child);
      nodes.push({ org, url, child });
    }
    await Promise.all(nodes.map((n) => waitReady(n.url, n.child)));
    say(`nodes ready: ${nodes.map((n) => `${n.org} ${n.url}`).join(', ')}`);
    const urls = nodes.map((n) => n.url);
    const nodePids = nodes.map((n) => n.child.pid);
    const results = [];
    const watch = new CertificationWatch(urls[0]);
    watch.start();

    for (const phase of opts.phases) {
      const count = phase === 'single' ? Math.max(1, Math.floor(opts.tx / 4)) : phase === 'rate' ? opts.rate * opts.duration : opts.tx;
      // Every member organization submits its share, interleaved like concurrent ERPs.
      const perOrg = chain.orgs.map((org) => signEnvelopes(p, chain, org, Math.ceil(count / chain.orgs.length), `${phase}-${org}`));
      const envelopes = [];
      for (let i = 0; envelopes.length < count; i++) for (const list of perOrg) if (envelopes.length < count) envelopes.push(list[i]);
      const sentAt = new Map();
      const node0 = processTicks(nodePids);
      const kafka0 = processTicks(kafkaPid());
      const machine0 = machineTicks();
      const pgPids = postgresPids();
      const pg0 = processTicks(pgPids);
      const client0 = process.cpuUsage();
      const t0 = performance.now();
      let ids;
      let offered;
      if (phase === 'batch') ids = await runBatches(urls, envelopes, opts.batch, opts.concurrency, sentAt);
      else if (phase === 'single') ids = await runSingles(urls, envelopes, opts.concurrency * 16, sentAt);
      else if (phase === 'kafka') ids = await runKafka(p, infra.brokers, topic, envelopes, sentAt);
      else ({ ids, offeredSeconds: offered } = await runRate(urls, envelopes, opts.rate, opts.rateBatch, sentAt));
      const submitted = performance.now();
      await watch.until(ids, 300_000);
      const done = performance.now();
      const nodeCpu = (processTicks(nodePids) - node0) / TICK;
      const kafkaCpu = (processTicks(kafkaPid()) - kafka0) / TICK;
      const machineCpu = (machineTicks() - machine0) / TICK;
      const pgCpu = (processTicks(pgPids) - pg0) / TICK; // backends started during the phase are not counted
      const clientUsage = process.cpuUsage(client0);
      const clientCpu = (clientUsage.user + clientUsage.system) / 1e6;
      const latencies = ids.map((id) => watch.certifiedAt.get(id) - sentAt.get(id)).sort((a, b) => a - b);
      const seconds = (done - t0) / 1000;
      const r = {
        phase,
        count: ids.length,
        seconds,
        tps: ids.length / seconds,
        submitSeconds: (submitted - t0) / 1000,
        offered,
        p50: percentile(latencies, 0.5),
        p95: percentile(latencies, 0.95),
        p99: percentile(latencies, 0.99),
        max: latencies[latencies.length - 1],
        nodeMsPerTx: (nodeCpu * 1000) / ids.length,
        kafkaMsPerTx: (kafkaCpu * 1000) / ids.length,
        machineMsPerTx: (machineCpu * 1000) / ids.length,
        postgresMsPerTx: (pgCpu * 1000) / ids.length,
        clientMsPerTx: (clientCpu * 1000) / ids.length,
      };
      results.push(r);
      say(
        `\n[${phase}] ${r.count} tx certified in ${r.seconds.toFixed(2)} s = ${r.tps.toFixed(0)} tx/s` +
          (phase === 'rate' ? ` (offered ${opts.rate} tx/s over ${offered.toFixed(1)} s)` : ` (submitted in ${r.submitSeconds.toFixed(2)} s)`) +
          `\n  submit→certified per tx: p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, max ${r.max.toFixed(0)} ms` +
          `\n  CPU per tx: ledger node(s) ${r.nodeMsPerTx.toFixed(3)} ms, PostgreSQL ${r.postgresMsPerTx.toFixed(3)} ms, Kafka ${r.kafkaMsPerTx.toFixed(3)} ms, this load generator ${r.clientMsPerTx.toFixed(3)} ms; whole machine ${r.machineMsPerTx.toFixed(3)} ms (of ${cpus.length} cores)`,
      );
    }
    await watch.stop();
    // Every node agrees at the end: same certified head, same header hash.
    const checkpoint = async (u) => (await fetch(`${u}/ledger/v1/checkpoints/latest`, { headers: { accept: 'application/json' } })).json();
    let heads = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
      heads = await Promise.all(urls.map(checkpoint));
      if (heads.every((h) => h.blockNumber === heads[0].blockNumber && h.rootHash === heads[0].rootHash)) break;
    }
    say(`\nheads: ${heads.map((h, i) => `${chain.orgs[i]} block ${h.blockNumber} size ${h.treeSize} root ${h.rootHash.slice(0, 12)}`).join('; ')}`);
    // The node keeps world state, committed ids and leaf hashes in memory (docs/ledger.md, Decisions).
    const rss = nodes.map((n) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${n.child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
    say(`node memory: ${rss.map((m, i) => `${chain.orgs[i]} RSS ${m.toFixed(0)} MiB`).join(', ')} holding ${heads[0].treeSize} transactions`);
    say('\n| phase | nodes | tx | tx/s | p50 ms | p95 ms | p99 ms | CPU ms/tx: nodes | PostgreSQL | Kafka | load generator | machine |');
    say('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      say(`| ${r.phase} | ${opts.nodes} | ${r.count} | ${r.tps.toFixed(0)} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.nodeMsPerTx.toFixed(3)} | ${r.postgresMsPerTx.toFixed(3)} | ${r.kafkaMsPerTx.toFixed(3)} | ${r.clientMsPerTx.toFixed(3)} | ${r.machineMsPerTx.toFixed(3)} |`);
    }
    // What an auditor pays to check it all: the SDK's verifyChain (the audit's chain runs, `alliance verify chain`)
    // over the first node, full mode, pinned to the genesis file — headers, signatures, roots, stored columns, world state.
    let verification = null;
    if (opts.verify) {
      const sdk = require(path.join(root, 'dist/libs/sdk/src'));
      const trust = sdk.trustFromGenesis(JSON.parse(fs.readFileSync(chain.genesisFile, 'utf8')));
      const machine0 = machineTicks();
      const client0 = process.cpuUsage();
      const t0 = performance.now();
      let last = 0;
      const v = await sdk.verifyChain(new sdk.AllianceClient({ baseUrl: urls[0] }), {
        trust,
        blockData: 'required',
        onProgress: (pr) => {
          if (performance.now() - last > 5_000) {
            last = performance.now();
            say(`  … verified ${pr.blocks} blocks, ${pr.transactions} transactions`);
          }
        },
      });
      const seconds = (performance.now() - t0) / 1000;
      const usage = process.cpuUsage(client0);
      verification = { ok: v.ok, blocks: v.blocks, transactions: heads[0].treeSize, seconds, verifierCpuSeconds: (usage.user + usage.system) / 1e6, machineCpuSeconds: (machineTicks() - machine0) / TICK };
      say(
        `\n[verify] ${v.ok ? 'ok' : `FAILED ${v.code} at block ${v.blockNumber}`}: ${v.blocks} blocks, ${heads[0].treeSize} transactions and the world state in ${seconds.toFixed(2)} s = ${(heads[0].treeSize / seconds).toFixed(0)} tx/s` +
          `\n  CPU: verifier ${verification.verifierCpuSeconds.toFixed(2)} s (${((verification.verifierCpuSeconds * 1000) / heads[0].treeSize).toFixed(3)} ms/tx), whole machine ${verification.machineCpuSeconds.toFixed(2)} s`,
      );
    }
    fs.writeFileSync(path.join(benchDir, 'results.json'), `${JSON.stringify({ opts, chainId: chain.chainId, machine: { cpus: cpus.length, model: cpus[0].model }, results, verification }, null, 2)}\n`);
  } finally {
    await cleanup();
  }
}

// The consortium and CPU helpers are shared with the other benches (tools/lib/bench-provenance.js).
module.exports = { benchLedger, createChain, startInfrastructure, waitReady, processTicks, machineTicks, postgresPids, kafkaPid, percentile, TICK };
