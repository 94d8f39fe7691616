import {
  Envelope,
  JsonObject,
  ProtocolError,
  Transaction,
  formatTimestamp,
  signTransaction as protocolSignTransaction,
  toBase64Url,
  transactionId,
  validateTransaction,
} from '@alliance/protocol';
import { AllianceSdkError } from './errors';
import type { AllianceKey } from './keys';

/** What a caller decides about a transaction; the SDK fills in the rest. */
export interface TransactionInput {
  readonly chainId: string;
  /** e.g. `ledger.anchor`. */
  readonly type: string;
  readonly payload: JsonObject;
  /** Defaults to the key's organization. */
  readonly organizationId?: string;
  /** 1–64 of [A-Za-z0-9_-], unique per creator; defaults to 128 random bits. Reuse one to make a retry idempotent. */
  readonly nonce?: string;
  /** Defaults to now; must fall inside the chain's accepted window when submitted. */
  readonly timestamp?: Date | string;
}

/** 22 characters of base64url: 128 random bits. */
export function randomNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return toBase64Url(bytes);
}

function invalid(error: unknown): never {
  if (error instanceof ProtocolError) throw new AllianceSdkError(error.code, error.message, { cause: error });
  throw error;
}

/** A complete, validated transaction created by `key`. Throws AllianceSdkError with the protocol's code. */
export function buildTransaction(key: Pick<AllianceKey, 'organizationId' | 'keyId'>, input: TransactionInput): Transaction {
  try {
    const timestamp = input.timestamp === undefined ? formatTimestamp(Date.now()) : typeof input.timestamp === 'string' ? input.timestamp : formatTimestamp(input.timestamp);
    return validateTransaction({
      chainId: input.chainId,
      type: input.type,
      creator: { organizationId: input.organizationId ?? key.organizationId, keyId: key.keyId },
      nonce: input.nonce ?? randomNonce(),
      timestamp,
      payload: input.payload,
    });
  } catch (error) {
    return invalid(error);
  }
}

/** Signs a transaction: the envelope to submit. The key must be the one `creator.keyId` names. */
export function signTransaction(transaction: Transaction, key: Pick<AllianceKey, 'algorithm' | 'privateKey'>): Envelope {
  try {
    return protocolSignTransaction(transaction, { algorithm: key.algorithm, privateKey: key.privateKey });
  } catch (error) {
    return invalid(error);
  }
}

/** buildTransaction + signTransaction. */
export function createEnvelope(key: AllianceKey, input: TransactionInput): Envelope {
  return signTransaction(buildTransaction(key, input), key);
}

/** The id the node will report for an envelope: hex SHA-256 of its canonical transaction. */
export function envelopeTransactionId(envelope: Envelope): string {
  return transactionId(envelope.transaction);
}
