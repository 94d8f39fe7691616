/**
 * @alliance/protocol — the bytes every node, the SDK, the CLI and third-party
 * verifiers agree on. Specification: docs/protocol.md. No framework code; runs
 * in Node and browsers (node:crypto is used only by `nodeVerify`, and only
 * when present).
 */
export * from './errors';
export {
  toHex,
  fromHex,
  isHex,
  toBase64,
  fromBase64,
  toBase64Url,
  fromBase64Url,
  utf8,
  fromUtf8,
  concatBytes,
  bytesEqual,
} from './encoding';
export * from './canonical-json';
export * from './hash';
export {
  SIGNATURE_ALGORITHMS,
  PUBLIC_KEY_LENGTH,
  PRIVATE_KEY_LENGTH,
  SIGNATURE_LENGTH,
  isSignatureAlgorithm,
  generateKeyPair,
  publicKeyOf,
  keyId,
  sign,
  verify,
  isValidPublicKey,
  normalizeSignature,
} from './keys';
export type { SignatureAlgorithm, KeyPair, Verifier } from './keys';
export { nodeVerify, nodeCryptoAvailable } from './node-verify';
export * from './merkle';
export {
  IDENTIFIER_PATTERN,
  KEY_ID_PATTERN,
  TRANSACTION_TYPE_PATTERN,
  NONCE_PATTERN,
  TIMESTAMP_PATTERN,
  RESULT_CODE_PATTERN,
  STATE_KEY_PATTERN,
  isTimestamp,
  parseTimestamp,
  formatTimestamp,
} from './validate';
export * from './transaction';
export * from './block';
export * from './checkpoint';
export * from './receipt';
export * from './telemetry';
export type { StoredBlockColumns, StoredSignatureColumns, StoredTransactionRow, StateRow } from './node-api';
export * from './audit-log';
