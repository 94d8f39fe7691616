import type { Provider } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Pool } from '@alliance/shared/data-access-postgres';
import { createTransport, type MessagingLogger, Outbox, OutboxRelay, type Transport } from '@alliance/shared/data-access-messaging';
import { deadLetterTopicOf, Topics } from '@alliance/contracts';
import { type BaseConfig, kafkaBrokersOf, kafkaSecurityOf } from './base-config';
import type { ReadinessCheck } from './health';

export const TRANSPORT = Symbol('alliance.transport');
export const OUTBOX = Symbol('alliance.outbox');

export interface MessagingHandle {
  readonly transport: Transport;
  readonly outbox: Outbox;
  readonly relay: OutboxRelay;
  readonly readinessCheck: ReadinessCheck;
  readonly providers: Provider[];
  close(): Promise<void>;
}

/**
 * Each service publishes only through its outbox; the relay moves rows to the
 * transport (Kafka, or the PostgreSQL log in embedded mode). Readiness fails
 * while the transport does not answer; rows wait in the outbox meanwhile.
 */
export async function startMessaging(service: string, schema: string, config: BaseConfig, pool: Pool, serviceLogger: Logger): Promise<MessagingHandle> {
  const log = serviceLogger.child({ component: 'messaging' });
  const logger: MessagingLogger = ({ level, message, context }) => log[level](context ?? {}, message);
  const transport =
    config.MESSAGING === 'kafka'
      ? createTransport({ kind: 'kafka', brokers: kafkaBrokersOf(config), clientId: `alliance-${service}-${config.ORG_ID}`, security: kafkaSecurityOf(config), logger })
      : createTransport({ kind: 'postgres', pool, logger });
  const outbox = new Outbox({ schema, producer: service });
  const relay = new OutboxRelay({ pool, schema, transport, logger });
  relay.start();
  const topicsReady = ensureContractTopics(transport, log);
  const readinessCheck: ReadinessCheck = {
    name: config.MESSAGING === 'kafka' ? 'kafka' : 'messaging',
    check: async () => {
      const ok = await transport.ping();
      const pending = await relay.pending().catch(() => undefined);
      return { ok, detail: pending === undefined ? undefined : `outbox pending ${pending}` };
    },
  };
  return {
    transport,
    outbox,
    relay,
    readinessCheck,
    providers: [
      { provide: TRANSPORT, useValue: transport },
      { provide: OUTBOX, useValue: outbox },
    ],
    close: async () => {
      topicsReady.cancel();
      await relay.stop();
      await transport.close();
    },
  };
}

/**
 * Topics are never auto-created (the broker refuses), so every service makes
 * sure the contract topics and their dead-letter topics exist. It retries in
 * the background: a service starts while Kafka is down and catches up; until
 * then its outbox rows simply wait.
 */
function ensureContractTopics(transport: Transport, log: Logger): { cancel(): void } {
  const names = Object.values(Topics).flatMap((t) => [t.name, deadLetterTopicOf(t.name)]);
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = (delayMs: number) => {
    transport.ensureTopics(names).then(
      () => log.debug({ topics: names.length }, 'contract topics present'),
      (error: Error) => {
        if (cancelled) return;
        log.warn({ err: error.message, retryInMs: delayMs }, 'cannot ensure contract topics yet; retrying');
        timer = setTimeout(() => attempt(Math.min(delayMs * 2, 30_000)), delayMs);
        timer.unref();
      },
    );
  };
  attempt(1_000);
  return {
    cancel: () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    },
  };
}
