#!/usr/bin/env node
// `npm run bench -- <suite> [options]`: benchmark scripts that print figures
// (docs/benchmarks.md records them with the machine they ran on).
//   ledger   a consortium of its own on real Kafka and PostgreSQL (tools/lib/bench-ledger.js)
'use strict';
const suites = { ledger: () => require('./lib/bench-ledger').benchLedger };
const [suite, ...args] = process.argv.slice(2);
if (!suites[suite]) {
  process.stderr.write(`usage: npm run bench -- ${Object.keys(suites).join(' | ')} [options]   (--help for a suite's options)\n`);
  process.exit(2);
}
suites[suite]()(args).catch((e) => {
  process.stderr.write(`bench: ${e.stack || e.message}\n`);
  process.exit(1);
});
