/**
 * Vitest globalSetup of the integration and e2e projects (see vitest.config.ts):
 * resolves PostgreSQL and Kafka once per run, hands them to tests through
 * `inject('databaseUrl')` / `inject('kafkaBrokers')`, and stops what it started.
 */
import type { TestProject } from 'vitest/node';
import { resolveKafka, resolvePostgres, type ResolvedKafka, type ResolvedPostgres } from './infrastructure';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // In parallel: a cold Kafka start and a private PostgreSQL start are both seconds long.
  const [postgres, kafka] = await Promise.allSettled([resolvePostgres(), resolveKafka()]);
  if (postgres.status === 'rejected' || kafka.status === 'rejected') {
    await Promise.allSettled([settledStop(postgres), settledStop(kafka)]);
    const errors = [postgres, kafka].flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    throw errors.length === 1 ? errors[0] : new AggregateError(errors, errors.map(String).join('\n'));
  }

  project.provide('databaseUrl', postgres.value.url);
  project.provide('kafkaBrokers', kafka.value.brokers);

  // Child processes (services started by e2e tests, workers) read the env vars; a
  // second project's global setup in the same run then reuses these via the env branch.
  const previous = { database: process.env['TEST_DATABASE_URL'], kafka: process.env['TEST_KAFKA_BROKERS'] };
  process.env['TEST_DATABASE_URL'] = postgres.value.url;
  process.env['TEST_KAFKA_BROKERS'] = kafka.value.brokers.join(',');

  return async () => {
    restoreEnv('TEST_DATABASE_URL', previous.database);
    restoreEnv('TEST_KAFKA_BROKERS', previous.kafka);
    const results = await Promise.allSettled([kafka.value.stop(), postgres.value.stop()]);
    const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (failed.length > 0) throw new AggregateError(failed, `stopping test infrastructure failed: ${failed.map(String).join('; ')}`);
  };
}

async function settledStop(result: PromiseSettledResult<ResolvedPostgres | ResolvedKafka>): Promise<void> {
  if (result.status === 'fulfilled') await result.value.stop();
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
