#!/usr/bin/env node
// `npm test`: lint (module boundaries are errors) + typecheck + unit +
// integration + end-to-end + fuzz. Starts what the tests need (Kafka via
// deploy/kafka/kafka.sh when no broker is given) and stops what it started.
// `npm test -- unit` (or lint, typecheck, integration, e2e, fuzz) runs one stage.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { tcpAnswers } = require('./lib/net');

const root = path.resolve(__dirname, '..');
const resultsDir = path.join(root, 'test-results');
const env = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  // Nx's cache lives outside the work tree so fresh clones on this machine reuse it.
  NX_CACHE_DIRECTORY: process.env.NX_CACHE_DIRECTORY || path.join(os.homedir(), '.cache', 'alliance', 'nx'),
};
const say = (m) => process.stdout.write(`\n=== test: ${m}\n`);
const totals = { passed: 0, failed: 0, skipped: 0 };
const stageTimes = [];

function run(name, cmd, args, extraEnv = {}) {
  say(name);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...env, ...extraEnv } });
  stageTimes.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return r.status === 0;
}

function vitest(project, extraEnv) {
  fs.mkdirSync(resultsDir, { recursive: true });
  const out = path.join(resultsDir, `vitest-${project}.json`);
  fs.rmSync(out, { force: true });
  const ok = run(`${project} tests`, process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`], extraEnv);
  try {
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    totals.passed += report.numPassedTests;
    totals.failed += report.numFailedTests;
    totals.skipped += report.numPendingTests + report.numTodoTests;
    if (report.numTotalTests === 0) {
      process.stderr.write(`test: the ${project} project ran no test\n`);
      return false;
    }
  } catch {
    totals.failed += 1; // the runner crashed before reporting
  }
  return ok;
}

async function withInfrastructure(fn) {
  const extra = {};
  let startedKafka = false;
  if (!process.env.TEST_KAFKA_BROKERS) {
    if (!(await tcpAnswers('127.0.0.1', 9092))) {
      say('starting Kafka for the tests (deploy/kafka/kafka.sh start)');
      const r = spawnSync('bash', [path.join(root, 'deploy/kafka/kafka.sh'), 'start'], { stdio: 'inherit', env });
      if (r.status !== 0) throw new Error('Kafka did not start; see deploy/kafka/.runtime/kafka.log');
      startedKafka = true;
    }
    extra.TEST_KAFKA_BROKERS = '127.0.0.1:9092';
  }
  try {
    return await fn(extra);
  } finally {
    if (startedKafka) {
      say('stopping the Kafka the tests started');
      spawnSync('bash', [path.join(root, 'deploy/kafka/kafka.sh'), 'stop'], { stdio: 'inherit', env });
    }
  }
}

async function main() {
  const only = process.argv[2];
  const stages = ['lint', 'typecheck', 'unit', 'integration', 'e2e', 'fuzz'];
  if (only && !stages.includes(only)) {
    process.stderr.write(`usage: npm test [-- ${stages.join('|')}]\n`);
    process.exit(2);
  }
  const wants = (s) => !only || only === s;
  const started = Date.now();
  let ok = true;
  if (wants('lint')) ok = run('lint (nx run-many -t lint; boundaries are errors)', process.execPath, [path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'lint', '--outputStyle=static']) && ok;
  if (wants('typecheck')) {
    ok = run('typecheck (tsc --noEmit, strict)', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']) && ok;
    // The dashboard is browser code (DOM, JSX, bundler resolution): its own tsconfig.
    ok = run('typecheck of the dashboard (apps/dashboard/tsconfig.json)', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'apps/dashboard/tsconfig.json']) && ok;
  }
  if (wants('unit')) ok = vitest('unit') && ok;
  if (wants('integration') || wants('e2e') || wants('fuzz')) {
    ok = run('build (tools/build.js)', process.execPath, [path.join(root, 'tools/build.js')]) && ok;
    ok = (await withInfrastructure(async (extra) => {
      let good = true;
      if (wants('integration')) good = vitest('integration', extra) && good;
      if (wants('e2e')) good = vitest('e2e', extra) && good;
      // Property-based fuzzing of every REST operation and GraphQL field (docs/security.md, Fuzz suite), ~2.5 min.
      if (wants('fuzz')) good = vitest('fuzz', extra) && good;
      return good;
    })) && ok;
  }
  process.stdout.write(`\n=== test: stages: ${stageTimes.join(', ')}; total ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'}: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}\n`);
  process.exit(ok && totals.failed === 0 ? 0 : 1);
}

main().catch((error) => {
  process.stderr.write(`test: ${error.message}\n`);
  process.stdout.write(`FAIL: ${totals.passed} passed, ${totals.failed + 1} failed\n`);
  process.exit(1);
});
