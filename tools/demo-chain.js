#!/usr/bin/env node
// `node tools/demo-chain.js <folder>`: writes the demo consortium's keys
// (DEMO KEYS) and the genesis transaction into <folder>, once. Used by
// docker-compose's `chain-init` service; `npm start` and the stack call the
// same functions (tools/lib/demo.js) themselves.
'use strict';
const path = require('node:path');
const { seedDemoConsortium, ensureGenesis } = require('./lib/demo');

const folder = path.resolve(process.argv[2] || '.alliance');
const root = path.resolve(__dirname, '..');
const demo = seedDemoConsortium(folder);
const genesis = ensureGenesis(folder, root);
process.stdout.write(`demo chain: keys in ${demo.keysDir}, genesis ${genesis}\n`);
