import { z } from 'zod';

/**
 * Every event between services travels in this envelope (ARCHITECTURE §5).
 * `occurredAt` is UTC with an explicit offset (`Z`); ids are UUIDs.
 */
export interface EventEnvelope<T = unknown> {
  readonly eventId: string;
  readonly topic: string;
  readonly occurredAt: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  /** The service that produced it, e.g. `ledger`. */
  readonly producer: string;
  /** Partitioning key; events with one key keep their order. */
  readonly key: string;
  readonly payload: T;
}

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i, 'must be a UUID');
const utcTimestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, 'must be an RFC 3339 timestamp with offset');

export const envelopeSchema = z.object({
  eventId: uuid,
  topic: z.string().min(1),
  occurredAt: utcTimestamp,
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200).nullable(),
  producer: z.string().min(1).max(100),
  key: z.string().max(1000),
  payload: z.unknown(),
});

export const contractSchemas = { uuid, utcTimestamp };
