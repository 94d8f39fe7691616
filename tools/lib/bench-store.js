'use strict';
// `npm run bench -- store`: what writing a block costs PostgreSQL in the ledger
// node's schema, without the node, Kafka or HTTP around it. Each variant gets a
// database of its own; blocks of --tx transactions (each with a world-state
// write, like ledger.anchor) are written to all of them in turn, one database
// transaction per block, so a busy machine slows every variant alike.
//   unpartitioned   the schema before migration 20261207090000 and the
//                   statements BlockStore ran then (the partial unique index
//                   transactions_valid_once, foreign keys to plain tables)
//   partitioned     every migration and BlockStore.insertBlock as built
//   partitioned + parent FKs   the same with the foreign keys to partitioned
//                   parents the first design had (transactions → blocks,
//                   state → blocks, valid_transactions → transactions)
const crypto = require('node:crypto');
const path = require('node:path');
const { optionsOrExit } = require('./bench-args');

const root = path.resolve(__dirname, '../..');
const say = (m) => process.stdout.write(`${m}\n`);
const PARTITIONING = '20261207090000';

const USAGE = `usage: npm run bench -- store [options]
  --blocks N   blocks written to each variant (default 60; the first 5 are not counted)
  --tx N       transactions per block (default 500, as the demo chain's cutting)
env: DATABASE_URL (admin URL; default postgres://postgres@127.0.0.1:5432/postgres)`;

function parseArgs(args) {
  const opts = { blocks: 60, tx: 500 };
  for (let i = 0; i < args.length; i++) {
    const key = args[i].replace(/^--/, '');
    if (!(key in opts) || !args[i].startsWith('--')) throw new Error(`unknown option ${args[i]}`);
    const n = Number(args[++i]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${key} must be a positive integer`);
    opts[key] = n;
  }
  if (opts.blocks <= 5) throw new Error('--blocks must be more than 5');
  return opts;
}

// The statements BlockStore.insertBlock ran before partitioning (git show 27dab1b^:libs/ledger/data-access/src/block-store.ts).
const UNPARTITIONED_TX = `INSERT INTO transactions (leaf_index, transaction_id, block_number, position, envelope, leaf_hash, type, organization_id, code, detail, result)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::int[], $5::bytea[], $6::bytea[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[])`;

async function unpartitionedInsert(client, b) {
  await client.query(
    `INSERT INTO blocks (block_number, header_hash, header, previous_hash, transaction_count, log_size, first_offset, last_offset, block_time, config_sequence) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [b.blockNumber, b.headerHash, b.header, b.previousHash, b.transactionCount, b.logSize, b.firstOffset, b.lastOffset, b.blockTime, b.configSequence],
  );
  const t = b.transactions;
  await client.query(UNPARTITIONED_TX, [t.map((x) => x.leafIndex), t.map((x) => x.transactionId), t.map(() => b.blockNumber), t.map((x) => x.position), t.map((x) => x.envelope), t.map((x) => x.leafHash), t.map((x) => x.type), t.map((x) => x.organizationId), t.map((x) => x.code), t.map((x) => x.detail), t.map((x) => x.result)]);
  const w = b.writes;
  await client.query(
    `INSERT INTO state (key, value, version, block_number, transaction_id) SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bigint[], $5::text[])
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, block_number = EXCLUDED.block_number, transaction_id = EXCLUDED.transaction_id`,
    [w.map((x) => x.key), w.map((x) => x.value), w.map((x) => x.version), w.map(() => b.blockNumber), w.map((x) => x.transactionId)],
  );
  await client.query(
    `INSERT INTO node_position (chain_id, last_offset, head_block) VALUES ($1, $2, $3)
     ON CONFLICT (chain_id) DO UPDATE SET last_offset = EXCLUDED.last_offset, head_block = EXCLUDED.head_block, updated_at = clock_timestamp()`,
    [b.chainId, b.lastOffset, b.blockNumber],
  );
}

function makeBlock(n, tx) {
  const rand = (k) => crypto.randomBytes(k);
  const ids = Array.from({ length: tx }, () => rand(32).toString('hex'));
  return {
    chainId: 'bench-store',
    blockNumber: n,
    header: rand(420),
    headerHash: rand(32),
    previousHash: rand(32),
    transactionCount: tx,
    logSize: (n + 1) * tx,
    firstOffset: n * tx,
    lastOffset: (n + 1) * tx - 1,
    blockTime: new Date().toISOString(),
    configSequence: 0,
    transactions: ids.map((id, i) => ({ leafIndex: n * tx + i, transactionId: id, position: i, envelope: rand(450), leafHash: rand(32), type: 'ledger.anchor', organizationId: 'org1', code: 'VALID', detail: null, result: rand(200) })),
    writes: ids.map((id) => ({ key: `anchor/${id}`, value: Buffer.from(`{"by":"${id}"}`), version: 1, transactionId: id })),
  };
}

async function benchStore(args) {
  const opts = optionsOrExit(parseArgs, args, USAGE);
  const { build } = require('../build');
  build();
  const pg = require(path.join(root, 'dist/libs/shared/data-access-postgres/src'));
  const { BlockStore } = require(path.join(root, 'dist/libs/ledger/data-access/src'));
  const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const all = pg.readMigrations(path.join(root, 'apps/ledger/migrations'));
  const stamp = Date.now().toString(36);
  const variants = [
    { name: 'unpartitioned', migrations: all.filter((m) => m.version < PARTITIONING), extra: [], insert: unpartitionedInsert },
    { name: 'partitioned', migrations: all, extra: [] },
    {
      name: 'partitioned + parent FKs',
      migrations: all,
      extra: [
        'ALTER TABLE transactions ADD FOREIGN KEY (block_number) REFERENCES blocks (block_number)',
        'ALTER TABLE state ADD FOREIGN KEY (block_number) REFERENCES blocks (block_number)',
        'ALTER TABLE valid_transactions ADD FOREIGN KEY (leaf_index, block_number) REFERENCES transactions (leaf_index, block_number)',
      ],
    },
  ];
  const admin = pg.createPool(adminUrl, { applicationName: 'bench-store', max: 1 });
  try {
    for (const [i, v] of variants.entries()) {
      v.database = `bench_store_${stamp}_${i}`;
      await admin.query(`CREATE DATABASE ${v.database}`);
      v.pool = pg.createPool(pg.withDatabase(adminUrl, v.database), { applicationName: 'bench-store', schema: 'ledger', max: 1 });
      await pg.runMigrations(v.pool, 'ledger', v.migrations);
      for (const sql of v.extra) await v.pool.query(sql);
      const store = new BlockStore(v.pool);
      v.insert = v.insert ?? ((client, b) => store.insertBlock(client, b));
      v.ms = [];
    }
    say(`bench store: ${opts.blocks} blocks of ${opts.tx} transactions (and as many state writes) into each of ${variants.length} databases, in turn`);
    for (let n = 0; n < opts.blocks; n++) {
      const block = makeBlock(n, opts.tx);
      for (const v of variants) {
        const t0 = process.hrtime.bigint();
        await pg.withTransaction(v.pool, (client) => v.insert(client, block));
        v.ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    say('');
    say(`| schema | ms per block: median | mean | µs per transaction (median) |`);
    say('|---|---|---|---|');
    for (const v of variants) {
      const xs = v.ms.slice(5).sort((a, b) => a - b);
      const median = xs[xs.length >> 1];
      say(`| ${v.name} | ${median.toFixed(1)} | ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)} | ${((median * 1000) / opts.tx).toFixed(0)} |`);
    }
  } finally {
    for (const v of variants) await v.pool?.end().catch(() => undefined);
    for (const v of variants) if (v.database) await admin.query(`DROP DATABASE IF EXISTS ${v.database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

module.exports = { benchStore };
