#!/usr/bin/env node
// `npm run bench -- ledger [--url http://127.0.0.1:3000] [--tx 5000] [--batch 500] [--concurrency 4] [--data-dir .alliance]`
// Submits signed `ledger.anchor` transactions in batches through REST against a
// running node (npm start or the stack) and prints committed tx/s, the
// submit→certified latency per batch (p50/p95/p99), and the CPU the node
// processes used per transaction (from /proc, for processes in the stack state).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const suite = args[0];
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
if (suite !== 'ledger') {
  process.stderr.write('usage: npm run bench -- ledger [--url URL] [--tx N] [--batch N] [--concurrency N] [--org org1] [--data-dir DIR]\n');
  process.exit(2);
}
const base = opt('url', 'http://127.0.0.1:3000');
const total = Number(opt('tx', '5000'));
const batchSize = Number(opt('batch', '500'));
const concurrency = Number(opt('concurrency', '4'));
const org = opt('org', 'org1');
const dataDir = path.resolve(root, opt('data-dir', process.env.ALLIANCE_DATA_DIR || '.alliance'));
const p = require(path.join(root, 'dist/libs/protocol/src'));

function cpuTicks(pids) {
  let sum = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      sum += Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
    } catch {
      // process gone
    }
  }
  return sum;
}

function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

async function main() {
  const key = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-keys', `${org}.key.json`), 'utf8'));
  const genesis = JSON.parse(fs.readFileSync(path.join(dataDir, 'genesis.json'), 'utf8'));
  const chainId = genesis.transaction.chainId;
  const publicKey = p.fromHex(key.publicKey);
  const privateKey = p.fromHex(key.privateKey);
  const kid = p.keyId('ed25519', publicKey);
  process.stdout.write(`bench ledger: ${total} tx in batches of ${batchSize}, ${concurrency} concurrent, against ${base} (chain ${chainId})\n`);
  const t0 = Date.now();
  const batches = [];
  for (let i = 0; i < total; i += batchSize) {
    const envs = [];
    for (let j = i; j < Math.min(total, i + batchSize); j++) {
      envs.push(p.signTransaction({ chainId, type: 'ledger.anchor', creator: { organizationId: org, keyId: kid }, nonce: `b${t0}-${j}`, timestamp: p.formatTimestamp(Date.now()), payload: { hash: p.toHex(p.sha256(p.utf8(`bench ${t0} ${j}`))) } }, { algorithm: 'ed25519', privateKey }));
    }
    batches.push(envs);
  }
  process.stdout.write(`signed ${total} in ${Date.now() - t0} ms (client side)\n`);
  const state = (() => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dataDir, 'stack', 'state.json'), 'utf8'));
    } catch {
      return undefined;
    }
  })();
  const pids = state ? state.processes.map((x) => x.pid) : [];
  const cpu0 = cpuTicks(pids);
  const latencies = [];
  const started = Date.now();
  let next = 0;
  let done = 0;
  async function worker() {
    while (next < batches.length) {
      const envs = batches[next++];
      const sent = Date.now();
      const r = await fetch(`${base}/ledger/v1/transactions/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transactions: envs }) });
      if (r.status !== 202) throw new Error(`batch refused: ${r.status} ${await r.text()}`);
      const { transactionIds } = await r.json();
      const last = transactionIds[transactionIds.length - 1];
      for (;;) {
        const s = await (await fetch(`${base}/ledger/v1/transactions/${last}`)).json();
        if (s.status !== 'pending' && s.certified) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      latencies.push(Date.now() - sent);
      done += envs.length;
      process.stdout.write(`\r  certified ${done}/${total}`);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (Date.now() - started) / 1000;
  const ticks = cpuTicks(pids) - cpu0;
  latencies.sort((a, b) => a - b);
  process.stdout.write(`\n\nresult: ${total} tx certified in ${elapsed.toFixed(2)} s = ${(total / elapsed).toFixed(0)} tx/s\n`);
  process.stdout.write(`submit→certified per batch of ${batchSize}: p50 ${percentile(latencies, 0.5)} ms, p95 ${percentile(latencies, 0.95)} ms, p99 ${percentile(latencies, 0.99)} ms\n`);
  if (pids.length) process.stdout.write(`node CPU (all stack processes): ${((ticks / 100) * 1000 / total).toFixed(3)} ms per transaction (${(ticks / 100).toFixed(1)} CPU s)\n`);
  process.stdout.write(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exit(1);
});
