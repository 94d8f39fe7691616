import { type DecodedEnvelope, decodeEnvelopeParts, type Envelope, fromBase64Url, fromHex, isSignatureAlgorithm, isSignatureDomain, sha256, SignatureDomain, toHex, type Verifier } from '@alliance/protocol';
import { type KeyResolution, observerOf, resolveSigningKey } from './agent-keys';
import { CONFIG_KEY } from './config';
import { nulPath } from './storable-text';
import type { ContractRegistry } from './registry';
import { type ChainConfig, type JsonValue, type StateView, ValidationCodes, type VersionedValue } from './types';

/** Verifies one signature; the node passes node:crypto (`nodeVerify`), portable callers `verify` (@noble/curves). */
export type SignatureVerifier = Verifier;

export const TRANSACTION_DOMAIN = SignatureDomain.transaction;

export interface BlockExecutionInput {
  readonly chainId: string;
  readonly blockNumber: number;
  readonly blockTimestamp: string;
  /** Configuration in force before this block (undefined only for the genesis block). */
  readonly config: ChainConfig | undefined;
  /** Committed world state before this block. */
  readonly state: StateView;
  /** True when a transaction id was committed in an earlier block (valid or not). */
  isCommitted(transactionId: string): boolean;
  readonly verifier: SignatureVerifier;
  readonly registry: ContractRegistry;
  /**
   * What this node already established about record i's exact bytes (at the
   * door or while cutting): pure functions of those bytes, so reusing them
   * changes no verdict, only how often the work is done.
   */
  readonly prepared?: readonly (PreparedRecord | undefined)[];
}

export interface PreparedRecord {
  readonly decoded: DecodedEnvelope;
  /** `<algorithm>:<public key hex>` the signature already verified with (the door's check). */
  readonly verifiedWith?: string;
}

export interface StateWriteResult {
  readonly key: string;
  readonly value: JsonValue;
  readonly version: number;
}

/** One per transaction, in block order; its canonical form is a leaf of the block's results tree. */
export interface TransactionResult {
  readonly transactionId: string;
  readonly code: string;
  readonly writes: readonly StateWriteResult[];
}

export interface ExecutedTransaction {
  readonly result: TransactionResult;
  /** Why it is invalid (not hashed; for operators and API callers). */
  readonly detail?: string;
  readonly envelope?: Envelope;
}

export interface BlockExecution {
  readonly transactions: readonly ExecutedTransaction[];
  /** The net writes of the block, by key (last write wins), with versions. */
  readonly writes: ReadonlyMap<string, VersionedValue>;
  /** The configuration after this block (changed only by a configuration block). */
  readonly config: ChainConfig | undefined;
}

/**
 * Applies a block's transactions in order. Deterministic: depends only on the
 * inputs (time is the block's, from the ordering log). Every transaction gets
 * a result; invalid ones write nothing.
 */
export function executeBlock(input: BlockExecutionInput, records: readonly Uint8Array[]): BlockExecution {
  const overlay = new Map<string, VersionedValue>();
  // Deleted keys (value null) read as absent; their versions keep counting.
  const view: StateView = { get: (key) => nullToUndefined(overlay.has(key) ? overlay.get(key) : input.state.get(key)) };
  const seen = new Set<string>();
  let config = input.config;
  const transactions: ExecutedTransaction[] = [];
  const blockTime = Date.parse(input.blockTimestamp);

  for (let index = 0; index < records.length; index++) {
    const bytes = records[index];
    const prepared = input.prepared?.[index];
    const invalid = (id: string, code: string, detail: string, envelope?: Envelope): ExecutedTransaction => ({ result: { transactionId: id, code, writes: [] }, detail, envelope });
    let decoded: DecodedEnvelope;
    try {
      decoded = prepared?.decoded ?? decodeEnvelopeParts(bytes);
    } catch (error) {
      // Undecodable bytes still occupy their leaf; their id is the hash of the bytes.
      transactions.push(invalid(toHex(sha256(bytes)), ValidationCodes.malformed, (error as { code?: string }).code ?? (error as Error).message));
      continue;
    }
    const { envelope, transactionId: id } = decoded;
    const tx = envelope.transaction;
    if (tx.chainId !== input.chainId) {
      transactions.push(invalid(id, ValidationCodes.wrongChain, `transaction is for chain ${tx.chainId}`, envelope));
      continue;
    }
    const nul = nulPath(tx, '/transaction');
    if (nul !== undefined) {
      // Committed without its envelope's fields: its type, creator or payload would carry the NUL into text columns and events.
      transactions.push(invalid(id, ValidationCodes.unstorableText, `the transaction holds U+0000 (NUL) at ${nul}: PostgreSQL cannot store it`));
      continue;
    }
    if (seen.has(id) || input.isCommitted(id)) {
      transactions.push(invalid(id, ValidationCodes.duplicate, 'transaction id already ordered', envelope));
      continue;
    }
    seen.add(id);
    if (config && Math.abs(Date.parse(tx.timestamp) - blockTime) > config.timestampWindowMs) {
      transactions.push(invalid(id, ValidationCodes.timestampOutOfWindow, `timestamp ${tx.timestamp} is more than ${config.timestampWindowMs} ms from the block time ${input.blockTimestamp}`, envelope));
      continue;
    }
    const handler = input.registry.find(tx.type);
    // Keys as of this point of the block: a key ended by an earlier transaction of the block signs nothing valid after it.
    const resolved = config ? resolveSigningKey(config, view, tx.creator.organizationId, tx.creator.keyId) : genesisKey(tx);
    if (!resolved.found) {
      transactions.push(invalid(id, resolved.code, resolved.detail, envelope));
      continue;
    }
    const key = resolved;
    const verified = prepared?.verifiedWith === `${key.algorithm}:${key.publicKey}` || verifySafely(input.verifier, key.algorithm, key.publicKey, decoded.transactionBytes, envelope.signature.value);
    if (key.algorithm !== envelope.signature.algorithm || !verified) {
      transactions.push(invalid(id, ValidationCodes.badSignature, 'signature does not verify with the registered key', envelope));
      continue;
    }
    if (config && observerOf(config, tx.creator.organizationId) && !handler?.observers) {
      transactions.push(invalid(id, ValidationCodes.observerReadOnly, `${tx.creator.organizationId} is an observer: it signs no ${tx.type}`, envelope));
      continue;
    }
    if (!handler) {
      transactions.push(invalid(id, ValidationCodes.unknownType, `no contract handles type ${tx.type}`, envelope));
      continue;
    }
    let outcome;
    try {
      outcome = handler.execute({
        chainId: input.chainId,
        blockNumber: input.blockNumber,
        blockTimestamp: input.blockTimestamp,
        transactionId: id,
        transaction: tx,
        envelope,
        state: view,
        config: config as ChainConfig,
        verifySignature: (algorithm, publicKeyHex, domain, message, signature) => {
          try {
            return isSignatureAlgorithm(algorithm) && isSignatureDomain(domain) && input.verifier(algorithm, fromHex(publicKeyHex), domain, message, fromBase64Url(signature));
          } catch {
            return false;
          }
        },
      });
    } catch (error) {
      outcome = { ok: false as const, code: ValidationCodes.contractFailed, detail: (error as Error).message };
    }
    if (!outcome.ok) {
      transactions.push(invalid(id, outcome.code, outcome.detail, envelope));
      continue;
    }
    const writes: StateWriteResult[] = [];
    for (const w of [...outcome.writes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
      const version = (view.get(w.key)?.version ?? versionOfDeleted(overlay, input.state, w.key)) + 1;
      overlay.set(w.key, { value: w.value, version });
      writes.push({ key: w.key, value: w.value, version });
      if (w.key === CONFIG_KEY) config = w.value as unknown as ChainConfig;
    }
    transactions.push({ result: { transactionId: id, code: ValidationCodes.valid, writes }, envelope });
  }
  return { transactions, writes: overlay, config };
}

// A deleted key keeps counting versions, so a re-created key never repeats one.
function versionOfDeleted(overlay: Map<string, VersionedValue>, state: StateView, key: string): number {
  return overlay.get(key)?.version ?? state.get(key)?.version ?? 0;
}

function nullToUndefined(v: VersionedValue | undefined): VersionedValue | undefined {
  return v && v.value === null ? undefined : v;
}

// The genesis transaction is signed by a key of a member it itself declares.
function genesisKey(tx: Envelope['transaction']): KeyResolution {
  const config = (tx.payload as { config?: ChainConfig }).config;
  const key = config?.members?.find((m) => m.organizationId === tx.creator.organizationId)?.keys?.find((k) => k.keyId === tx.creator.keyId);
  return key ? { found: true, algorithm: key.algorithm, publicKey: key.publicKey } : { found: false, code: ValidationCodes.unknownKey, detail: `key ${tx.creator.keyId} of ${tx.creator.organizationId} is not declared by the genesis configuration` };
}

function verifySafely(verifier: SignatureVerifier, algorithm: string, publicKeyHex: string, message: Uint8Array, signature: string): boolean {
  try {
    return isSignatureAlgorithm(algorithm) && verifier(algorithm, fromHex(publicKeyHex), TRANSACTION_DOMAIN, message, fromBase64Url(signature));
  } catch {
    return false;
  }
}
