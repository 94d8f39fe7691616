import { AllianceError } from '@alliance/shared/util-errors';

/** Stable codes of the ordering part of the ledger (ARCHITECTURE §9: one code per failure). */
export const OrderingErrorCodes = {
  invalidChainId: 'LEDGER.INVALID_CHAIN_ID',
  invalidRecord: 'LEDGER.ORDERING_INVALID_RECORD',
  logClosed: 'LEDGER.ORDERING_LOG_CLOSED',
  logUnavailable: 'LEDGER.ORDERING_LOG_UNAVAILABLE',
  offsetOutOfRange: 'LEDGER.ORDERING_OFFSET_OUT_OF_RANGE',
  topicMisconfigured: 'LEDGER.ORDERING_TOPIC_MISCONFIGURED',
  logCorrupt: 'LEDGER.ORDERING_LOG_CORRUPT',
} as const;

export function orderingLogClosed(kind: string): AllianceError {
  return new AllianceError(OrderingErrorCodes.logClosed, 'unavailable', `the ${kind} ordering log is closed`);
}

export function orderingLogUnavailable(kind: string, cause: unknown): AllianceError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new AllianceError(OrderingErrorCodes.logUnavailable, 'unavailable', `the ${kind} ordering log did not accept the records: ${reason}`, { cause });
}

export function invalidRecord(message: string): AllianceError {
  return new AllianceError(OrderingErrorCodes.invalidRecord, 'invalid', message);
}

/**
 * The reader's stored position does not exist in the log: the log was
 * recreated, truncated, or the node points at the wrong one. Never papered over
 * by starting elsewhere, because that would skip or repeat history.
 */
export function offsetOutOfRange(fromOffset: number, low: number, high: number, where: string): AllianceError {
  return new AllianceError(
    OrderingErrorCodes.offsetOutOfRange,
    'conflict',
    `cannot read ${where} from offset ${fromOffset}: the log holds offsets ${low}..${high - 1} (next ${high})`,
    { details: { fromOffset, low, high } },
  );
}
