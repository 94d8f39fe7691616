import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@alliance/protocol';
import { type EventEnvelope, envelopeSchema } from './envelope';
import { sealEvent, sealProblem, type TrustedSealKey } from './event-seal';

const provenance = generateKeyPair('ed25519');
const stranger = generateKeyPair('ecdsa-p256');
const trusted: TrustedSealKey[] = [{ organizationId: 'org1', algorithm: 'ed25519', publicKey: provenance.publicKey }];
const envelope: EventEnvelope = {
  eventId: '6f1c2b1e-8d6a-4c1e-9a3b-2f4d5e6a7b8c',
  topic: 'provenance.alert.raised.v1',
  occurredAt: '2026-12-08T00:00:00.000Z',
  correlationId: 'block-12',
  causationId: null,
  producer: 'provenance',
  key: 'https://id.gs1.org/01/09506000134352',
  payload: { organizationId: 'org1', blockNumber: 12, worstValue: '9.5', min: null },
};

describe('event seals', () => {
  const sealed = { ...envelope, seal: sealEvent(envelope, { organizationId: 'org1', algorithm: 'ed25519', privateKey: provenance.privateKey }) };

  it('verifies an envelope sealed by a trusted key, as the envelope schema reads it back', () => {
    expect(sealProblem(sealed, trusted)).toBeUndefined();
    const read = envelopeSchema.parse(JSON.parse(JSON.stringify(sealed))) as EventEnvelope;
    expect(read.seal).toEqual(sealed.seal);
    expect(sealProblem(read, trusted)).toBeUndefined();
  });

  it('names why an envelope is not trusted: no seal, a key it does not trust, a change after sealing', () => {
    expect(sealProblem(envelope, trusted)).toBe('the event carries no seal');
    const foreign = { ...envelope, seal: sealEvent(envelope, { organizationId: 'org1', algorithm: 'ecdsa-p256', privateKey: stranger.privateKey }) };
    expect(sealProblem(foreign, trusted)).toMatch(/which this service does not trust/);
    // The right key id claimed for another organization is not the trusted key either.
    expect(sealProblem({ ...sealed, seal: { ...sealed.seal, organizationId: 'org2' } }, trusted)).toMatch(/of org2, which this service does not trust/);
    for (const changed of [{ ...sealed, payload: { ...(sealed.payload as object), worstValue: '1' } }, { ...sealed, topic: 'provenance.stock.changed.v1' }, { ...sealed, eventId: '7f1c2b1e-8d6a-4c1e-9a3b-2f4d5e6a7b8c' }]) {
      expect(sealProblem(changed, trusted)).toMatch(/changed after it was sealed/);
    }
  });

  it('the envelope schema refuses a malformed seal', () => {
    expect(envelopeSchema.safeParse({ ...sealed, seal: { ...sealed.seal, value: 'short' } }).success).toBe(false);
    expect(envelopeSchema.safeParse({ ...sealed, seal: { ...sealed.seal, extra: 1 } }).success).toBe(false);
  });
});
