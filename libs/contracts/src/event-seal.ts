import { canonicalBytes, fromBase64Url, type JsonValue, keyId as keyIdOf, publicKeyOf, sign, SignatureDomain, type SignatureAlgorithm, toBase64Url, verify } from '@alliance/protocol';
import type { EventEnvelope, EventSeal } from './envelope';

/** The key a service seals with: its organization's signing key. */
export interface SealingKey {
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly privateKey: Uint8Array;
}

/** A key a consumer accepts seals of. */
export interface TrustedSealKey {
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly publicKey: Uint8Array;
}

/** The signed bytes: the canonical JSON of the envelope without `seal` (payloads are protocol JSON: no fractions, no floats). */
export function sealInput(envelope: EventEnvelope): Uint8Array {
  const { seal: _seal, ...sealed } = envelope;
  return canonicalBytes(sealed as unknown as JsonValue);
}

export function sealEvent(envelope: EventEnvelope, key: SealingKey): EventSeal {
  const publicKey = publicKeyOf(key.algorithm, key.privateKey);
  return {
    organizationId: key.organizationId,
    algorithm: key.algorithm,
    keyId: keyIdOf(key.algorithm, publicKey),
    value: toBase64Url(sign(key.algorithm, key.privateKey, SignatureDomain.eventSeal, sealInput(envelope))),
  };
}

/** Why `envelope` is not sealed by one of `trusted`, or undefined when it is. Never throws. */
export function sealProblem(envelope: EventEnvelope, trusted: readonly TrustedSealKey[]): string | undefined {
  const seal = envelope.seal;
  if (!seal) return 'the event carries no seal';
  const key = trusted.find((k) => k.organizationId === seal.organizationId && k.algorithm === seal.algorithm && keyIdOf(k.algorithm, k.publicKey) === seal.keyId);
  if (!key) return `the event is sealed by key ${seal.keyId} of ${seal.organizationId}, which this service does not trust`;
  try {
    return verify(key.algorithm, key.publicKey, SignatureDomain.eventSeal, sealInput(envelope), fromBase64Url(seal.value)) ? undefined : 'the seal does not verify: the event was changed after it was sealed';
  } catch (error) {
    return `the event cannot be checked: ${(error as Error).message}`;
  }
}
