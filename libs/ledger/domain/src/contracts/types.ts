import type { CertificationPolicy, Envelope, Transaction } from '@alliance/protocol';

export type { CertificationPolicy };

/**
 * Contracts are deterministic transaction handlers run by every ledger node:
 * the same state and the same block give the same writes on every member.
 * They read state only through a `StateView`, never the clock, the network or
 * randomness; the block's timestamp comes from the ordering log.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface VersionedValue {
  readonly value: JsonValue;
  /** 1 for the first write of a key, +1 for every later write (a delete too). */
  readonly version: number;
}

export interface StateView {
  get(key: string): VersionedValue | undefined;
}

/** `value: null` deletes the key. */
export interface StateWrite {
  readonly key: string;
  readonly value: JsonValue;
}

export interface ContractContext {
  readonly chainId: string;
  readonly blockNumber: number;
  /** The block's timestamp (RFC 3339 ms, UTC), from the ordering log. */
  readonly blockTimestamp: string;
  readonly transactionId: string;
  readonly transaction: Transaction;
  readonly envelope: Envelope;
  readonly state: StateView;
  /** The chain configuration in force for this transaction. */
  readonly config: ChainConfig;
  /** Signature check with the node's verifier, for handlers that carry extra signatures (approvals). */
  verifySignature(algorithm: string, publicKeyHex: string, domain: string, message: Uint8Array, signatureBase64Url: string): boolean;
}

export type ContractOutcome =
  | { readonly ok: true; readonly writes: readonly StateWrite[] }
  | { readonly ok: false; readonly code: string; readonly detail: string };

export interface ContractHandler {
  /** The transaction type it handles, e.g. `ledger.anchor`. */
  readonly type: string;
  /** Configuration transactions get a block of their own and change `configSequence`. */
  readonly configuration: boolean;
  /** Whether an observer organization (a regulator) may sign it; default no (`LEDGER.OBSERVER_READ_ONLY`). */
  readonly observers?: boolean;
  execute(ctx: ContractContext): ContractOutcome;
}

export interface MemberConfig {
  readonly organizationId: string;
  readonly role: string;
  /** The node key that signs block headers and checkpoints (Ed25519). */
  readonly nodeKey: { readonly algorithm: 'ed25519'; readonly publicKey: string };
  /** Keys that may sign transactions for the organization until identity (issue 4) manages agents. */
  readonly keys: ReadonlyArray<{ readonly keyId: string; readonly algorithm: string; readonly publicKey: string }>;
}

/**
 * An organization on the chain that neither certifies blocks nor votes: a
 * regulator or auditor. Its keys sign it in (docs/identity.md, Observers), and
 * sign no transaction a contract does not open to observers.
 */
export interface ObserverConfig {
  readonly organizationId: string;
  readonly role: string;
  readonly keys: ReadonlyArray<{ readonly keyId: string; readonly algorithm: string; readonly publicKey: string }>;
}

export interface ChainConfig {
  readonly chainId: string;
  /** Increases by one with every configuration block. */
  readonly sequence: number;
  readonly members: readonly MemberConfig[];
  /** Observer organizations (absent: none). */
  readonly observers?: readonly ObserverConfig[];
  readonly policies: { readonly certification: CertificationPolicy; readonly configuration: CertificationPolicy };
  readonly cutting: { readonly maxTransactions: number; readonly maxBytes: number; readonly batchTimeoutMs: number };
  /** A transaction's timestamp may differ from its block's by at most this much. */
  readonly timestampWindowMs: number;
}

export const ValidationCodes = {
  valid: 'VALID',
  malformed: 'LEDGER.MALFORMED_TRANSACTION',
  wrongChain: 'LEDGER.WRONG_CHAIN',
  duplicate: 'LEDGER.DUPLICATE_TRANSACTION',
  timestampOutOfWindow: 'LEDGER.TIMESTAMP_OUT_OF_WINDOW',
  unknownKey: 'LEDGER.UNKNOWN_KEY',
  keyRevoked: 'LEDGER.KEY_REVOKED',
  badSignature: 'LEDGER.BAD_SIGNATURE',
  unknownType: 'LEDGER.UNKNOWN_TRANSACTION_TYPE',
  contractFailed: 'LEDGER.CONTRACT_FAILED',
  observerReadOnly: 'LEDGER.OBSERVER_READ_ONLY',
  unstorableText: 'LEDGER.UNSTORABLE_TEXT',
} as const;
