#!/usr/bin/env node
// `npm run bench -- <suite> [options]`: benchmark scripts that print figures
// (docs/benchmarks.md records them with the machine they ran on).
//   ledger       a consortium of its own on real Kafka and PostgreSQL (tools/lib/bench-ledger.js)
//   provenance   EPCIS capture through a ledger node of its own, and traces on a generated
//                1,000,000-event supply network (tools/lib/bench-provenance.js)
//   store        PostgreSQL's cost of writing a block in the ledger schema, before and after
//                partitioning by block range (tools/lib/bench-store.js)
'use strict';
const suites = {
  ledger: () => require('./lib/bench-ledger').benchLedger,
  provenance: () => require('./lib/bench-provenance').benchProvenance,
  store: () => require('./lib/bench-store').benchStore,
};
const [suite, ...args] = process.argv.slice(2);
if (!suites[suite]) {
  process.stderr.write(`usage: npm run bench -- ${Object.keys(suites).join(' | ')} [options]   (--help for a suite's options)\n`);
  process.exit(2);
}
suites[suite]()(args).catch((e) => {
  process.stderr.write(`bench: ${e.stack || e.message}\n`);
  process.exit(1);
});
