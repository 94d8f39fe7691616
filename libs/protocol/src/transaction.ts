import { JsonObject, canonicalBytes, canonicalize, isJsonObject, parseCanonical } from './canonical-json';
import { bytesEqual, fromBase64Url, isBytes, toBase64Url, toHex, utf8 } from './encoding';
import { ProtocolError, ProtocolErrorCode, fail } from './errors';
import { SignatureDomain, sha256 } from './hash';
import { SignatureAlgorithm, Verifier, isSignatureAlgorithm, keyId, publicKeyOf, sign, verify } from './keys';
import { leafHash } from './merkle';
import {
  NONCE_PATTERN,
  TRANSACTION_TYPE_PATTERN,
  exactObject,
  expectHex,
  expectIdentifier,
  expectSignatureValue,
  expectString,
  expectTimestamp,
} from './validate';

export interface TransactionCreator {
  readonly organizationId: string;
  /** `keyId(algorithm, publicKey)` of the key that signs the envelope. */
  readonly keyId: string;
}

export interface Transaction {
  readonly chainId: string;
  readonly type: string;
  readonly creator: TransactionCreator;
  /** 1–64 of [A-Za-z0-9_-], unique per creator. */
  readonly nonce: string;
  /** RFC 3339 UTC with milliseconds, e.g. `2026-11-25T20:00:00.000Z`. */
  readonly timestamp: string;
  readonly payload: JsonObject;
}

export interface EnvelopeSignature {
  readonly algorithm: SignatureAlgorithm;
  readonly keyId: string;
  /** base64url without padding of the 64 signature bytes (86 characters). */
  readonly value: string;
}

/** What is submitted, ordered, stored, and hashed into the log: always as `canonicalBytes(envelope)`. */
export interface Envelope {
  readonly transaction: Transaction;
  readonly signature: EnvelopeSignature;
}

/** Largest canonical envelope the protocol accepts; chain configuration may set a lower limit. */
export const MAX_ENVELOPE_BYTES = 1_048_576;
const TRANSACTION_TYPE_MAX = 128;
const TX = ProtocolErrorCode.MALFORMED_TRANSACTION;
const ENV = ProtocolErrorCode.MALFORMED_ENVELOPE;

/** Field rules only; callers establish separately that the payload is protocol JSON. */
function checkTransactionFields(value: unknown, path: string): Transaction {
  const tx = exactObject(value, ['chainId', 'type', 'creator', 'nonce', 'timestamp', 'payload'], TX, path);
  expectIdentifier(tx['chainId'], TX, `${path}/chainId`);
  expectString(tx['type'], TRANSACTION_TYPE_PATTERN, TX, `${path}/type`, 'a transaction type like "ledger.anchor"', TRANSACTION_TYPE_MAX);
  const creator = exactObject(tx['creator'], ['organizationId', 'keyId'], TX, `${path}/creator`);
  expectIdentifier(creator['organizationId'], TX, `${path}/creator/organizationId`);
  expectHex(creator['keyId'], 16, TX, `${path}/creator/keyId`);
  expectString(tx['nonce'], NONCE_PATTERN, ProtocolErrorCode.BAD_NONCE, `${path}/nonce`, '1-64 characters of [A-Za-z0-9_-]');
  expectTimestamp(tx['timestamp'], `${path}/timestamp`);
  if (!isJsonObject(tx['payload'])) fail(TX, 'must be a JSON object', `${path}/payload`);
  return value as Transaction;
}

function checkEnvelopeFields(value: unknown): Envelope {
  const env = exactObject(value, ['transaction', 'signature'], ENV, '');
  const tx = checkTransactionFields(env['transaction'], '/transaction');
  const sig = exactObject(env['signature'], ['algorithm', 'keyId', 'value'], ENV, '/signature');
  if (!isSignatureAlgorithm(sig['algorithm'])) fail(ProtocolErrorCode.UNSUPPORTED_ALGORITHM, 'unsupported algorithm', '/signature/algorithm');
  expectHex(sig['keyId'], 16, ENV, '/signature/keyId');
  if (sig['keyId'] !== tx.creator.keyId) fail(ProtocolErrorCode.KEY_ID_MISMATCH, 'differs from /transaction/creator/keyId', '/signature/keyId');
  expectSignatureValue(sig['value'], ENV, '/signature/value');
  return value as Envelope;
}

/** Checks a transaction against every protocol rule; returns it typed or throws ProtocolError. */
export function validateTransaction(value: unknown): Transaction {
  const tx = checkTransactionFields(value, '');
  canonicalize(tx); // value rules (integers only, depth, strings) for the payload
  return tx;
}

/** Checks an envelope against every protocol rule; returns it typed or throws ProtocolError. */
export function validateEnvelope(value: unknown): Envelope {
  const envelope = checkEnvelopeFields(value);
  if (canonicalBytes(envelope).length > MAX_ENVELOPE_BYTES) fail(ProtocolErrorCode.TOO_LARGE, `canonical envelope exceeds ${MAX_ENVELOPE_BYTES} bytes`);
  return envelope;
}

/** Lower-case hex SHA-256 of the canonical transaction bytes. */
export function transactionId(transaction: Transaction): string {
  return toHex(sha256(canonicalBytes(transaction)));
}

/** The bytes that are ordered, stored, and are the transaction's Merkle leaf data. */
export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return canonicalBytes(envelope);
}

/** leafHash(canonicalBytes(envelope)): the envelope's leaf in the global log and in its block's dataRoot. */
export function envelopeLeafHash(envelope: Envelope): Uint8Array {
  return leafHash(canonicalBytes(envelope));
}

export interface SigningKey {
  readonly algorithm: SignatureAlgorithm;
  readonly privateKey: Uint8Array;
}

/** Signs a transaction whose creator.keyId is the key's id; returns the envelope (with a private copy of the transaction). */
export function signTransaction(transaction: Transaction, key: SigningKey): Envelope {
  const text = canonicalize(checkTransactionFields(transaction, ''));
  const id = keyId(key.algorithm, publicKeyOf(key.algorithm, key.privateKey));
  if (transaction.creator.keyId !== id) fail(ProtocolErrorCode.KEY_ID_MISMATCH, `creator.keyId is not the id of this ${key.algorithm} key (${id})`, '/creator/keyId');
  const signature = sign(key.algorithm, key.privateKey, SignatureDomain.transaction, new TextEncoder().encode(text));
  // A copy, so later changes to the caller's object cannot make the envelope lie.
  const copy = JSON.parse(text) as Transaction;
  return validateEnvelope({ transaction: copy, signature: { algorithm: key.algorithm, keyId: id, value: toBase64Url(signature) } });
}

export interface VerifyOptions {
  /** `nodeVerify` on servers; defaults to the portable `verify`. */
  readonly verifier?: Verifier;
}

/**
 * True when the envelope is well-formed, `publicKey` is the key its keyId
 * names, and the signature verifies. Never throws. Whether that key belongs
 * to the creator's organization, and is not revoked, is the node's check
 * against its key registry.
 */
export function verifyEnvelope(envelope: Envelope, publicKey: Uint8Array, options: VerifyOptions = {}): boolean {
  try {
    const env = validateEnvelope(envelope);
    if (!isBytes(publicKey)) return false;
    const { algorithm } = env.signature;
    if (keyId(algorithm, publicKey) !== env.signature.keyId) return false;
    const signature = fromBase64Url(env.signature.value);
    return (options.verifier ?? verify)(algorithm, publicKey, SignatureDomain.transaction, canonicalBytes(env.transaction), signature);
  } catch {
    return false;
  }
}

export interface DecodeOptions {
  /** A lower limit than MAX_ENVELOPE_BYTES, e.g. from chain configuration. */
  readonly maxBytes?: number;
}

/**
 * Strictly decodes wire bytes into an envelope: size, UTF-8, JSON, protocol
 * values, canonical form, then fields — in that order, each with its stable
 * code. Does not verify the signature (that needs the key registry).
 */
export function decodeEnvelope(bytes: Uint8Array, options: DecodeOptions = {}): Envelope {
  if (!isBytes(bytes)) throw new ProtocolError(ENV, 'envelope must be bytes');
  const limit = Math.min(options.maxBytes ?? MAX_ENVELOPE_BYTES, MAX_ENVELOPE_BYTES);
  if (bytes.length > limit) fail(ProtocolErrorCode.TOO_LARGE, `envelope exceeds ${limit} bytes`);
  return checkEnvelopeFields(parseCanonical(bytes));
}

/** A strictly decoded envelope with the exact bytes its signature and its id cover. */
export interface DecodedEnvelope {
  readonly envelope: Envelope;
  /** `canonicalBytes(envelope.transaction)`: the signed message and the preimage of the id. */
  readonly transactionBytes: Uint8Array;
  /** `transactionId(envelope.transaction)`. */
  readonly transactionId: string;
}

const SIGNATURE_PREFIX = utf8('{"signature":');
const TRANSACTION_MEMBER = utf8(',"transaction":');

/**
 * `decodeEnvelope` plus the transaction's canonical bytes and id, without
 * serialising the transaction again: the input is proven canonical, so it is
 * `{"signature":<canonical signature>,"transaction":<canonical transaction>}`
 * ("signature" sorts first) and the transaction's bytes are the span before
 * the final `}`. Checked by construction (the prefix is re-derived from the
 * decoded signature), so a wrong slice throws instead of lying.
 */
export function decodeEnvelopeParts(bytes: Uint8Array, options: DecodeOptions = {}): DecodedEnvelope {
  return partsOf(bytes, decodeEnvelope(bytes, options));
}

function partsOf(bytes: Uint8Array, envelope: Envelope): DecodedEnvelope {
  const start = SIGNATURE_PREFIX.length + utf8(canonicalize(envelope.signature)).length + TRANSACTION_MEMBER.length;
  if (!bytesEqual(bytes.subarray(start - TRANSACTION_MEMBER.length, start), TRANSACTION_MEMBER) || bytes[bytes.length - 1] !== 0x7d) {
    throw new ProtocolError(ENV, 'envelope layout is not {"signature":…,"transaction":…}');
  }
  const transactionBytes = bytes.slice(start, bytes.length - 1);
  return { envelope, transactionBytes, transactionId: toHex(sha256(transactionBytes)) };
}

/** An envelope received as parsed JSON, with its canonical bytes. */
export interface EncodedEnvelope {
  readonly bytes: Uint8Array;
  readonly decoded: DecodedEnvelope;
}

/**
 * For an API that received the envelope as parsed JSON: its canonical bytes
 * and what `decodeEnvelopeParts(bytes)` would return, without parsing those
 * bytes again. Equivalent because `canonicalize` accepts exactly the protocol
 * values, whose canonical text parses back to a structurally equal value.
 * Takes ownership of `value` (the decoded envelope is that object).
 */
export function encodeEnvelopeValue(value: unknown, options: DecodeOptions = {}): EncodedEnvelope {
  const bytes = canonicalBytes(value);
  const limit = Math.min(options.maxBytes ?? MAX_ENVELOPE_BYTES, MAX_ENVELOPE_BYTES);
  if (bytes.length > limit) fail(ProtocolErrorCode.TOO_LARGE, `envelope exceeds ${limit} bytes`);
  return { bytes, decoded: partsOf(bytes, checkEnvelopeFields(value)) };
}
