// Throughput of the ordering logs: a script that prints figures, not a timed test.
//
//   SWC_NODE_PROJECT=tsconfig.json node -r @swc-node/register libs/ledger/data-access/test/ordering-bench.ts \
//     [--kafka 127.0.0.1:9092] [--postgres postgres://postgres@127.0.0.1:5432/postgres] [--records 200000] [--size 256]
//
// Kafka: appends in batches (one caller, and several coalesced), single-record
// appends from many concurrent callers, then a fresh reader from offset 0, with
// and without the block cutter behind it. Solo (PostgreSQL): the same.
import { randomBytes } from 'node:crypto';
import { BlockCutter, INITIAL_CUTTER_STATE, type OrderingLog, type RecordToAppend } from '@alliance/ledger/domain';
import { createPool } from '@alliance/shared/data-access-postgres';
import { createTestDatabase } from '@alliance/shared/testing';
import { KafkaOrderingLog } from '../src/kafka-ordering-log';
import { PostgresOrderingLog } from '../src/postgres-ordering-log';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const RECORDS = Number(arg('records', '200000'));
const SIZE = Number(arg('size', '256'));
const kafkaBrokers = arg('kafka', process.env['TEST_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const postgresUrl = arg('postgres', process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');

const payload = randomBytes(SIZE);
const records = (n: number): RecordToAppend[] => Array.from({ length: n }, () => ({ kind: 'transaction' as const, bytes: payload }));

function rate(label: string, count: number, ms: number): void {
  const perSecond = Math.round((count / ms) * 1_000);
  const mb = ((count * SIZE) / ms / 1_000).toFixed(1);
  console.log(`${label.padEnd(58)} ${String(perSecond).padStart(9)} records/s  ${mb.padStart(6)} MB/s  (${count} in ${ms} ms)`);
}

/** `total` records as appends of `batch`, from `concurrency` callers at once. */
async function appendRate(log: OrderingLog, label: string, total: number, batch: number, concurrency: number): Promise<number> {
  let remaining = Math.floor(total / batch);
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (remaining > 0) {
        remaining -= 1;
        await log.append(records(batch));
      }
    }),
  );
  const appended = Math.floor(total / batch) * batch;
  rate(label, appended, Date.now() - started);
  return appended;
}

/** Reads `count` records from offset 0; with `cut`, feeds them through a block cutter too. */
async function readRate(log: OrderingLog, label: string, count: number, cut: boolean): Promise<void> {
  const cutter = new BlockCutter({ maxTransactions: 500, maxBytes: 4_000_000, isConfigTransaction: () => false }, INITIAL_CUTTER_STATE);
  let seen = 0;
  let blocks = 0;
  const started = Date.now();
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const reader = await log.read({
    fromOffset: 0,
    handle: async (batch) => {
      if (cut) for (const record of batch) blocks += cutter.feed(record).length;
      seen += batch.length;
      if (seen >= count) done();
    },
  });
  await finished;
  const ms = Date.now() - started;
  await reader.close();
  rate(`${label}${cut ? ` (+ cutter: ${blocks} blocks)` : ''}`, seen, ms);
}

async function bench(name: string, open: (org: string) => OrderingLog): Promise<void> {
  console.log(`\n${name}: ${RECORDS} records of ${SIZE} bytes`);
  const writer = open('bench-writer');
  let total = 0;
  total += await appendRate(writer, '  append, 1 caller, 1000 records per append', RECORDS / 2, 1_000, 1);
  total += await appendRate(writer, '  append, 4 callers, 100 records per append', RECORDS / 4, 100, 4);
  total += await appendRate(writer, '  append, 64 callers, 1 record per append', Math.min(RECORDS / 4, 20_000), 1, 64);
  total += await appendRate(writer, '  append, 1 caller, 1 record per append (latency-bound)', 2_000, 1, 1);
  await readRate(open('bench-reader-1'), '  read from offset 0', total, false);
  await readRate(open('bench-reader-2'), '  read from offset 0', total, true);
  await writer.close();
}

async function main(): Promise<void> {
  const chainId = `bench${Date.now().toString(36)}`;
  const opened: OrderingLog[] = [];
  const track = <T extends OrderingLog>(log: T): T => (opened.push(log), log);
  try {
    await bench(`Kafka (${kafkaBrokers.join(',')})`, (org) => track(new KafkaOrderingLog({ brokers: kafkaBrokers, chainId, organizationId: org })));
  } finally {
    await Promise.allSettled(opened.map((log) => log.close()));
  }
  const database = await createTestDatabase(postgresUrl, 'ledger_ordering_bench');
  const pool = createPool(database.url, { applicationName: 'ledger-ordering-bench', max: 70 });
  opened.length = 0;
  try {
    await bench('Solo (PostgreSQL)', () => track(new PostgresOrderingLog({ pool, chainId })));
  } finally {
    await Promise.allSettled(opened.map((log) => log.close()));
    await pool.end();
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
