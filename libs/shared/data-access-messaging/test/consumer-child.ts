// A consumer process for the crash test: it handles records like a service
// would, and SIGKILLs itself (kill -9, no cleanup, no offset commit, no group
// leave) right after the transaction of record CHILD_CRASH_AT committed and
// before that record's offset commit reaches the transport.
//
// Run: node -r @swc-node/register libs/shared/data-access-messaging/test/consumer-child.ts
import { createPool } from '@alliance/shared/data-access-postgres';
import { KafkaTransport, PostgresTransport, type RecordBatch, startConsumer, type Transport } from '../src';
import { applyEffect, itemPayload, SCHEMA } from './support';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** Passes everything through, but dies on the CHILD_CRASH_AT-th offset commit. */
function crashingOnCommit(inner: Transport, crashAt: number): Transport {
  let commits = 0;
  return {
    kind: inner.kind,
    publish: (records) => inner.publish(records),
    ensureTopics: (names) => inner.ensureTopics(names),
    ping: () => inner.ping(),
    close: () => inner.close(),
    subscribe: (options) =>
      inner.subscribe({
        ...options,
        handle: (batch) => {
          process.stdout.write(`${JSON.stringify({ batch: batch.records.length, first: batch.records[0]?.offset })}\n`);
          const wrapped: RecordBatch = {
            topic: batch.topic,
            partition: batch.partition,
            records: batch.records,
            heartbeat: () => batch.heartbeat(),
            isActive: () => batch.isActive(),
            commit: async (record) => {
              commits += 1;
              if (commits === crashAt) {
                process.stdout.write(`${JSON.stringify({ crashingAt: record.offset })}\n`);
                process.kill(process.pid, 'SIGKILL');
                await new Promise(() => undefined); // never resumes
              }
              await batch.commit(record);
            },
          };
          return options.handle(wrapped);
        },
      }),
  };
}

async function main(): Promise<void> {
  const pool = createPool(env('CHILD_DATABASE_URL'), { applicationName: 'messaging-test-child', schema: SCHEMA });
  const inner: Transport =
    env('CHILD_TRANSPORT') === 'kafka'
      ? new KafkaTransport({ brokers: env('CHILD_BROKERS').split(','), clientId: 'messaging-test-child', sessionTimeoutMs: 6_000 })
      : new PostgresTransport({ pool, pollIntervalMs: 200 });
  const transport = crashingOnCommit(inner, Number(env('CHILD_CRASH_AT')));
  await startConsumer({
    transport,
    pool,
    schema: SCHEMA,
    group: env('CHILD_GROUP'),
    topics: [{ name: env('CHILD_TOPIC'), payload: itemPayload, description: 'test items' }],
    handler: async (event, client) => {
      await applyEffect(client, event, 'child');
      // Slow enough that the kill lands while the batch is still being worked on.
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  });
  process.stdout.write(`${JSON.stringify({ started: true })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`consumer-child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
