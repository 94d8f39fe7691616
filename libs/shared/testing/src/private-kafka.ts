import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './infrastructure';

const REPO_ROOT = resolve(__dirname, '../../../..');
const KAFKA_SH = join(REPO_ROOT, 'deploy/kafka/kafka.sh');
const SHARED_JARS = join(REPO_ROOT, 'deploy/kafka/.runtime/libs');

/**
 * A Kafka broker of a test's own: the same deploy/kafka/kafka.sh on free ports
 * with its own data folder (the jars are shared). Tests that stop and restart
 * a broker use one, so the broker other suites use is never disturbed.
 */
export interface PrivateKafka {
  readonly brokers: string[];
  readonly port: number;
  /** The SASL_PLAINTEXT (SCRAM-SHA-512) listener, when `saslUsers` were given. */
  readonly saslBrokers: string[];
  /** Environment that points kafka.sh (and `npm run stack`) at this broker. */
  readonly env: Readonly<Record<string, string>>;
  kafkaSh(command: 'start' | 'stop' | 'status'): Promise<void>;
  /** Stops the broker if it runs and deletes its folder. */
  remove(): Promise<void>;
}

export interface PrivateKafkaOptions {
  /** SCRAM-SHA-512 users (name → password) of a SASL listener beside the PLAINTEXT one. */
  readonly saslUsers?: Readonly<Record<string, string>>;
}

export async function privateKafka(prefix = 'alliance-kafka', options: PrivateKafkaOptions = {}): Promise<PrivateKafka> {
  const home = mkdtempSync(join(tmpdir(), `${prefix}-`));
  // The jars of the shared runtime, if fetched already; otherwise kafka.sh fetches its own.
  if (existsSync(join(SHARED_JARS, '.fetched'))) symlinkSync(SHARED_JARS, join(home, 'libs'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const users = Object.entries(options.saslUsers ?? {});
  const saslPort = users.length > 0 ? await freePort() : undefined;
  const env: Record<string, string> = { KAFKA_HOME: home, KAFKA_HOST: '127.0.0.1', KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort) };
  if (saslPort !== undefined) Object.assign(env, { KAFKA_SASL_PORT: String(saslPort), KAFKA_SASL_USERS: users.map(([name, password]) => `${name}:${password}`).join(',') });
  const kafkaSh = (command: 'start' | 'stop' | 'status') =>
    new Promise<void>((done, fail) => {
      execFile('bash', [KAFKA_SH, command], { env: { ...process.env, ...env }, timeout: 180_000 }, (error, stdout, stderr) =>
        error ? fail(new Error(`kafka.sh ${command} failed: ${error.message}\n${stdout}\n${stderr}`)) : done(),
      );
    });
  return {
    brokers: [`127.0.0.1:${port}`],
    port,
    saslBrokers: saslPort === undefined ? [] : [`127.0.0.1:${saslPort}`],
    env,
    kafkaSh,
    remove: async () => {
      await kafkaSh('stop').catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
