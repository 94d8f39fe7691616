import { type logCreator, logLevel } from 'kafkajs';
import type { LogLevel, MessagingLogger } from './ports';

const LEVELS: Record<number, LogLevel> = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug' };

/** kafkajs's own log lines, routed to our logger (nothing goes to the console). */
export function kafkaLogCreator(log: MessagingLogger): logCreator {
  return () =>
    ({ namespace, level, log: entry }) => {
      const { message, timestamp: _timestamp, ...context } = entry;
      log({ level: LEVELS[level] ?? 'debug', message: `kafkajs ${namespace}: ${String(message)}`, context });
    };
}

/** `promise`, or a rejection after `ms` (the promise itself is left to settle). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
