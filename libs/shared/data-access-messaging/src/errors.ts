import { AllianceError, isAllianceError } from '@alliance/shared/util-errors';
import { ZodError } from 'zod';

/** Stable codes of this module; they appear in dead-letter records and logs. */
export const MessagingErrorCodes = {
  malformedJson: 'MESSAGING.MALFORMED_JSON',
  invalidEnvelope: 'MESSAGING.INVALID_ENVELOPE',
  invalidPayload: 'MESSAGING.INVALID_PAYLOAD',
  eventTooLarge: 'MESSAGING.EVENT_TOO_LARGE',
  topicMismatch: 'MESSAGING.TOPIC_MISMATCH',
  unknownTopic: 'MESSAGING.UNKNOWN_TOPIC',
  retriesExhausted: 'MESSAGING.RETRIES_EXHAUSTED',
  publishFailed: 'MESSAGING.PUBLISH_FAILED',
  transportClosed: 'MESSAGING.TRANSPORT_CLOSED',
} as const;

export type MessagingErrorCode = (typeof MessagingErrorCodes)[keyof typeof MessagingErrorCodes];

/**
 * What a failed delivery attempt means for the record:
 * - `poison`: the record itself is wrong; retrying cannot help, dead-letter it now;
 * - `transient`: may succeed later; retry with backoff, dead-letter after maxAttempts;
 * - `unavailable`: a dependency (our PostgreSQL, the broker, another service) is
 *   down; the record is not at fault, so the attempt does not count and it is
 *   retried until the dependency is back (dead-lettering a whole outage would
 *   empty the topic into its DLQ).
 */
export type FailureClass = 'poison' | 'transient' | 'unavailable';

// SQLSTATEs that mean "the database went away", not "the statement was wrong".
const PG_UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '58000', '58030']);
const NODE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
// node-postgres reports a lost or refused connection with plain Errors and no code.
const PG_CONNECTION_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /cannot use a pool after calling end/i, /client has encountered a connection error/i, /connection ended/i];

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyFailure(error: unknown): FailureClass {
  if (isAllianceError(error)) {
    if (error.kind === 'invalid') return 'poison';
    if (error.kind === 'unavailable') return 'unavailable';
    return 'transient';
  }
  // A handler that re-validates the event and rejects it will reject it every time.
  if (error instanceof ZodError) return 'poison';
  if (error instanceof SyntaxError) return 'poison';
  const code = codeOf(error);
  if (code !== undefined) {
    if (code.startsWith('08') || PG_UNAVAILABLE_CODES.has(code) || NODE_NETWORK_CODES.has(code)) return 'unavailable';
    return 'transient';
  }
  const message = error instanceof Error ? error.message : String(error);
  if (PG_CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) return 'unavailable';
  return 'transient';
}

/** Code and message of a failure as they go into a dead-letter record. */
export interface FailureDescription {
  readonly code: string;
  readonly message: string;
}

export function describeFailure(error: unknown): FailureDescription {
  if (isAllianceError(error)) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  const code = codeOf(error);
  const name = error instanceof Error ? error.name : typeof error;
  return { code: code ? `${name}:${code}` : name, message };
}

export function publishFailed(transport: string, cause: unknown): AllianceError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new AllianceError(MessagingErrorCodes.publishFailed, 'unavailable', `publishing to ${transport} failed: ${reason}`, { cause });
}

export function transportClosed(transport: string): AllianceError {
  return new AllianceError(MessagingErrorCodes.transportClosed, 'unavailable', `the ${transport} transport is closed`);
}
