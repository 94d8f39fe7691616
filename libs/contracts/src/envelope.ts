import { z } from 'zod';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from '@alliance/protocol';

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
  /** The producing service's signature over the rest of the envelope (event-seal.ts), on topics whose consumers act on what they say. */
  readonly seal?: EventSeal;
}

/** A signature by an organization's key over an envelope without its `seal` (docs/protocol.md §3.1, Event seals). */
export interface EventSeal {
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  /** keyId(algorithm, public key): 32 hex digits. */
  readonly keyId: string;
  /** base64url of the 64-byte signature. */
  readonly value: string;
}

export const eventSealSchema = z
  .object({
    organizationId: z.string().min(1).max(100),
    algorithm: z.enum(SIGNATURE_ALGORITHMS),
    keyId: z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lower-case hex digits'),
    value: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'must be base64url of 64 bytes'),
  })
  .strict();

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
  seal: eventSealSchema.optional(),
});

export const contractSchemas = { uuid, utcTimestamp };
