import { randomUUID } from 'node:crypto';
import type { EventEnvelope, TopicDefinition } from '@alliance/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeRecord, encodeEnvelope } from './codec';
import { MessagingErrorCodes } from './errors';

const topic: TopicDefinition<{ n: number }> = { name: 'test.thing.happened.v1', payload: z.object({ n: z.number().int() }), description: 'test' };

function envelope(overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    eventId: randomUUID(),
    topic: topic.name,
    occurredAt: new Date().toISOString(),
    correlationId: 'corr-1',
    causationId: null,
    producer: 'test',
    key: 'k',
    payload: { n: 1 },
    ...overrides,
  };
}

const record = (value: Buffer | null, name = topic.name) => ({ topic: name, value });

describe('decodeRecord', () => {
  it('round-trips an envelope through its wire form', () => {
    const original = envelope();
    const decoded = decodeRecord(record(encodeEnvelope(original)), topic);
    expect(decoded).toEqual({ ok: true, event: original });
  });

  it('returns the payload as the topic schema parsed it (unknown keys stripped)', () => {
    const decoded = decodeRecord(record(encodeEnvelope(envelope({ payload: { n: 2, extra: true } }))), topic);
    expect(decoded.ok && decoded.event.payload).toEqual({ n: 2 });
  });

  it('rejects bytes that are not JSON, and an empty record', () => {
    for (const value of [Buffer.from('not json {'), Buffer.from([0xff, 0xfe, 0x00]), null]) {
      const decoded = decodeRecord(record(value), topic);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) {
        expect(decoded.failure.code).toBe(MessagingErrorCodes.malformedJson);
        expect(decoded.eventId).toBeNull();
      }
    }
  });

  it('rejects JSON that is not an envelope, keeping a usable event id and correlation id', () => {
    const eventId = randomUUID();
    const bad = { ...envelope({ eventId }), occurredAt: '2026-01-01 10:00' };
    const decoded = decodeRecord(record(Buffer.from(JSON.stringify(bad))), topic);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.failure.code).toBe(MessagingErrorCodes.invalidEnvelope);
      expect(decoded.failure.message).toContain('occurredAt');
      expect(decoded.eventId).toBe(eventId);
      expect(decoded.correlationId).toBe('corr-1');
      expect(decoded.json).toEqual(bad);
    }
    const scalar = decodeRecord(record(Buffer.from('"just a string"')), topic);
    expect(!scalar.ok && scalar.failure.code).toBe(MessagingErrorCodes.invalidEnvelope);
    const badId = decodeRecord(record(Buffer.from(JSON.stringify({ ...envelope(), eventId: 'not-a-uuid' }))), topic);
    expect(!badId.ok && badId.eventId).toBeNull();
  });

  it('rejects an envelope that names another topic than the one it arrived on', () => {
    const decoded = decodeRecord(record(encodeEnvelope(envelope({ topic: 'other.thing.happened.v1' }))), topic);
    expect(!decoded.ok && decoded.failure.code).toBe(MessagingErrorCodes.topicMismatch);
  });

  it('rejects a payload that fails the topic schema, naming the field', () => {
    const decoded = decodeRecord(record(encodeEnvelope(envelope({ payload: { n: 1.5 } }))), topic);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.failure.code).toBe(MessagingErrorCodes.invalidPayload);
      expect(decoded.failure.message).toMatch(/^invalid test\.thing\.happened\.v1 payload: n: /);
      expect(decoded.eventId).not.toBeNull();
    }
  });

  it('rejects local times without an offset and non-UUID ids (contract of the envelope)', () => {
    for (const bad of [{ occurredAt: '2026-01-01T10:00:00' }, { eventId: '123' }, { correlationId: '' }, { causationId: '' }, { producer: '' }]) {
      const decoded = decodeRecord(record(encodeEnvelope(envelope(bad as Partial<EventEnvelope>))), topic);
      expect(!decoded.ok && decoded.failure.code).toBe(MessagingErrorCodes.invalidEnvelope);
    }
  });
});
