import { contractSchemas, type EventEnvelope, envelopeSchema, type TopicDefinition } from '@alliance/contracts';
import { z } from 'zod';
import { type FailureDescription, MessagingErrorCodes } from './errors';
import type { TransportRecord } from './ports';

/** The wire form of an envelope: UTF-8 JSON, the same on Kafka and in the PostgreSQL log. */
export function encodeEnvelope(envelope: EventEnvelope): Buffer {
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

export type DecodeResult<T> =
  | { readonly ok: true; readonly event: EventEnvelope<T> }
  | {
      readonly ok: false;
      readonly failure: FailureDescription;
      /** The parsed JSON when the bytes were JSON at all (kept for the dead-letter record). */
      readonly json: unknown;
      /** The event id, when the envelope got far enough to have a usable one. */
      readonly eventId: string | null;
      readonly correlationId: string | null;
    };

function issuesOf(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

function stringField(value: unknown, field: string): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = (value as Record<string, unknown>)[field];
  return typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : null;
}

/**
 * Bytes → trusted event, or the reason it is poison. Order of checks: JSON,
 * envelope shape, envelope topic equals the record's topic (a record must not
 * smuggle one topic's event into another), payload against the topic schema.
 */
export function decodeRecord<T>(record: Pick<TransportRecord, 'topic' | 'value'>, definition: TopicDefinition<T>): DecodeResult<T> {
  const text = record.value === null ? '' : record.value.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      failure: { code: MessagingErrorCodes.malformedJson, message: `record value is not JSON: ${(error as Error).message}` },
      json: undefined,
      eventId: null,
      correlationId: null,
    };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    const eventId = contractSchemas.uuid.safeParse(stringField(json, 'eventId'));
    return {
      ok: false,
      failure: { code: MessagingErrorCodes.invalidEnvelope, message: `invalid event envelope: ${issuesOf(envelope.error)}` },
      json,
      eventId: eventId.success ? eventId.data : null,
      correlationId: stringField(json, 'correlationId'),
    };
  }
  const { eventId, correlationId } = envelope.data;
  if (envelope.data.topic !== record.topic) {
    return {
      ok: false,
      failure: { code: MessagingErrorCodes.topicMismatch, message: `envelope names topic "${envelope.data.topic}" but arrived on "${record.topic}"` },
      json,
      eventId,
      correlationId,
    };
  }
  const payload = definition.payload.safeParse(envelope.data.payload);
  if (!payload.success) {
    return {
      ok: false,
      failure: { code: MessagingErrorCodes.invalidPayload, message: `invalid ${record.topic} payload: ${issuesOf(payload.error)}` },
      json,
      eventId,
      correlationId,
    };
  }
  return { ok: true, event: { ...envelope.data, payload: payload.data } };
}

/** What a dead-letter topic carries, as the payload of an ordinary envelope. */
export const deadLetterPayloadSchema = z.object({
  group: z.string(),
  originalTopic: z.string(),
  originalPartition: z.number().int().nonnegative(),
  originalOffset: z.string().regex(/^\d+$/),
  originalKey: z.string().nullable(),
  originalTimestamp: z.string(),
  originalEventId: z.string().nullable(),
  /** The exact bytes as received, base64, so nothing is lost even when they are not JSON. */
  originalValue: z.string().nullable(),
  /** The parsed JSON (usually the original envelope) when the bytes were JSON. */
  originalEnvelope: z.unknown(),
  error: z.object({ code: z.string(), message: z.string() }),
  /** Handler attempts made; 0 when the record was rejected before the handler ran. */
  attempts: z.number().int().nonnegative(),
  deadLetteredAt: z.string(),
});

export type DeadLetterPayload = z.infer<typeof deadLetterPayloadSchema>;
