/**
 * @alliance/sdk — what ERP integrators, dashboards and regulators use to talk
 * to an Alliance chain: keys and encrypted key files, building and signing
 * transactions, a fetch-based API client, and offline verification of
 * receipts, blocks, checkpoints, proofs and whole chains. Runs in Node ≥ 20
 * and in browsers (no Node built-in is imported; the CLI lives in `cli.ts`).
 * Guide: libs/sdk/README.md. Bytes: docs/protocol.md.
 */
export { SDK_VERSION } from './version';
export { AllianceSdkError, AllianceApiError, SdkErrorCode, isAllianceApiError } from './errors';

// Proofs (RFC 9162): false, never an exception, on malformed input.
export { verifyInclusion, verifyConsistency } from './proofs';
export type { InclusionInput, ConsistencyInput } from './proofs';

// Keys and key files.
export {
  generateKey,
  importKey,
  encryptKey,
  plainKeyFile,
  readKeyFile,
  keyFileInfo,
  deriveKeyFileSecret,
  DEFAULT_SCRYPT_PARAMS,
  KEY_FILE_FORMAT,
  KEY_FILE_VERSION,
  PLAIN_KEY_WARNING,
} from './keys';
export type { AllianceKey, EncryptedKeyFile, PlainKeyFile, KeyFile, KeyFileInfo, ScryptParams, EncryptOptions } from './keys';

// Transactions.
export { buildTransaction, signTransaction, createEnvelope, randomNonce, envelopeTransactionId } from './transactions';
export type { TransactionInput } from './transactions';

// Device telemetry: a device signs its readings with its own key.
export { signTelemetry } from './telemetry';
export type { TelemetryInput } from './telemetry';

// Sign-in with a key (identity service /identity/v1/auth): access and refresh tokens.
export { signIn, signChallenge, AUTH_CHALLENGE_TYPE } from './auth';
export type { Session, SignInKey, SignInOptions, AuthChallenge, AuthChallengeResponse, AuthPrincipal, TokenResponse } from './auth';

// The API client.
export { AllianceClient, problemError } from './client';
export type {
  AllianceClientOptions,
  BatchSubmitResult,
  BlockPage,
  BlockTransactionsView,
  BlockView,
  CheckpointView,
  CommittedTransaction,
  ConsistencyProofView,
  FetchLike,
  ResponseLike,
  StatePage,
  SubmitResult,
  TransactionStatus,
  WaitOptions,
} from './client';

// Rows a node serves for whole-chain verification (docs/protocol.md §14.1).
export type { StateRow, StoredBlockColumns, StoredSignatureColumns, StoredTransactionRow } from '@alliance/protocol';

// Offline verification.
export { verifyReceipt, verifyBlock, verifyCheckpoint, verifyTreeExtension } from './verify';
export type { TrustOptions, BlockInput, BlockCheckOptions, BlockVerification, CheckpointVerification, ReceiptVerification, TreeHead, Verdict } from './verify';
export { parseTrust, trustFromGenesis, trustFromChainConfig, adoptConfiguration, CONFIG_STATE_KEY } from './trust';
export type { ChainTrust, ConfigChange } from './trust';
export { verifyChain, ChainFailureCode } from './chain-verifier';
export type { ChainVerification, ChainVerifyOptions, ChainProgress, ChainHead, ChainMode } from './chain-verifier';

// Evidence packages (docs/audit.md, Evidence packages): sealed by the regulator's audit service, verified offline.
export {
  verifyEvidence,
  sealEvidencePackage,
  encodeEvidencePackage,
  evidenceSignedBytes,
  renderEvidenceCsv,
  csvCell,
  issuerKeysOf,
  parseIssuerKeys,
  EVIDENCE_FORMAT,
  EvidenceFailureCode,
} from './evidence';
export type {
  EvidencePackage,
  EvidenceCase,
  EvidenceRecord,
  StateWriteRecord,
  EpcisEventRecord,
  EvidenceTransaction,
  EvidenceIssuer,
  EvidenceSigningKey,
  EvidenceVerification,
  EvidenceVerifyOptions,
  IssuerKey,
  TraceNodeRecord,
  TraceEdgeRecord,
  UnsignedEvidence,
} from './evidence';

// The protocol types and helpers an integrator needs alongside, so one import suffices.
export {
  SIGNATURE_ALGORITHMS,
  canonicalize,
  canonicalBytes,
  parseCanonical,
  transactionId,
  encodeEnvelope,
  envelopeLeafHash,
  encodeReceipt,
  leafHash,
  headerHashHex,
  toHex,
  fromHex,
  toBase64Url,
  fromBase64Url,
  ProtocolError,
  ProtocolErrorCode,
  verifyTelemetrySignature,
  validateSignedTelemetry,
} from '@alliance/protocol';
export type {
  SignatureAlgorithm,
  Transaction,
  Envelope,
  Receipt,
  BlockHeader,
  HeaderSignature,
  ResultEntry,
  ConsortiumMember,
  CertificationPolicy,
  JsonObject,
  JsonValue,
  TelemetryReading,
  TelemetryMeasurement,
  SignedTelemetry,
} from '@alliance/protocol';
