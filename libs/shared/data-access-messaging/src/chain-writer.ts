import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { canonicalBytes, type Envelope, fromHex, isProtocolError, isSignatureAlgorithm, type JsonValue, keyId, publicKeyOf, type SignatureAlgorithm, signTransaction, type Transaction, transactionId } from '@alliance/protocol';
import { AllianceError } from '@alliance/shared/util-errors';

/** The key a service signs its organization's transactions with (`<SERVICE>_SIGNING_KEY_FILE`). */
export interface SigningIdentity {
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly privateKey: Uint8Array;
  readonly keyId: string;
}

/**
 * Reads a plain key file — `{ organizationId, algorithm, privateKey: hex }`,
 * the format of `alliance keys generate --plain` and of the demo keys — of an
 * agent of this organization holding the service's permissions (or an admin
 * key). Its organization must be ORG_ID. The private key is never logged.
 * `variable` names the setting in messages (`PROVENANCE_SIGNING_KEY_FILE`, `FINANCE_SIGNING_KEY_FILE`).
 */
export function readSigningKey(path: string, organizationId: string, variable: string): SigningIdentity {
  let file: { organizationId?: unknown; algorithm?: unknown; privateKey?: unknown };
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as typeof file;
  } catch (error) {
    throw new Error(`cannot read ${variable} ${path}: ${(error as Error).message}`);
  }
  if (file.organizationId !== organizationId) throw new Error(`${variable} ${path} is a key of ${String(file.organizationId)}, not of ORG_ID ${organizationId}`);
  if (typeof file.algorithm !== 'string' || !isSignatureAlgorithm(file.algorithm)) throw new Error(`${variable} ${path}: algorithm must be ed25519, p256 or secp256k1`);
  if (typeof file.privateKey !== 'string' || !/^[0-9a-f]{64}$/.test(file.privateKey)) throw new Error(`${variable} ${path}: privateKey must be 64 hex digits (an encrypted key file is not supported here)`);
  const privateKey = fromHex(file.privateKey);
  return { organizationId, algorithm: file.algorithm, privateKey, keyId: keyId(file.algorithm, publicKeyOf(file.algorithm, privateKey)) };
}

export type ChainStatus =
  | { readonly status: 'pending' | 'unknown' }
  | { readonly status: 'committed'; readonly blockNumber: number; readonly leafIndex: number; readonly certified: boolean }
  | { readonly status: 'invalid'; readonly blockNumber: number; readonly code: string; readonly detail: string | null };

/** Errors of a chain writer, under its service's prefix (`PROVENANCE.LEDGER_UNAVAILABLE`, `FINANCE.LEDGER_UNAVAILABLE` …). */
export const chainWriterErrors = (service: string) => ({
  notConfigured: (what: string) => new AllianceError(`${service}.NOT_CONFIGURED`, 'unavailable', `${what} is not set: this ${service.toLowerCase()} service cannot write to the ledger`),
  refused: (code: string, detail: string) => new AllianceError(`${service}.LEDGER_REFUSED`, 'conflict', `the ledger node refused the transaction: ${code}: ${detail}`, { details: { ledgerCode: code } }),
  unavailable: (detail: string, cause?: unknown) => new AllianceError(`${service}.LEDGER_UNAVAILABLE`, 'unavailable', detail, { cause }),
  invalidPayload: (detail: string, cause: unknown) =>
    new AllianceError(`${service}.INVALID_PAYLOAD`, 'invalid', `the request cannot be a transaction payload: ${detail}`, { cause }),
  commitTimeout: (id: string, timeoutMs: number) =>
    new AllianceError(`${service}.COMMIT_TIMEOUT`, 'unavailable', `transaction ${id} is not committed after ${timeoutMs} ms; it may still commit — look it up at /ledger/v1/transactions/${id}`, { details: { transactionId: id } }),
});

export interface ChainWriterOptions {
  /** Prefix of the error codes (`PROVENANCE`, `FINANCE`). */
  readonly service: string;
  /** The setting that names the key file, for messages (`PROVENANCE_SIGNING_KEY_FILE`). */
  readonly keyFileVariable: string;
  readonly chainId: string;
  readonly ledgerUrl?: string;
  readonly key?: SigningIdentity;
  readonly timeoutMs?: number;
}

/**
 * Signs transactions for this organization and submits them to its ledger
 * node (`LEDGER_URL`). Signing and submitting are apart so a caller can store
 * the signed envelope first and submit it again, byte for byte, after a crash:
 * the ledger refuses the copy as a duplicate, so a transaction commits once.
 * Every service that writes to the chain for its organization (provenance,
 * finance) uses one of these.
 */
export class ChainWriter {
  private readonly errors: ReturnType<typeof chainWriterErrors>;

  constructor(private readonly options: ChainWriterOptions) {
    this.errors = chainWriterErrors(options.service);
  }

  get organizationId(): string | undefined {
    return this.options.key?.organizationId;
  }

  get canWrite(): boolean {
    return this.options.key !== undefined && this.options.ledgerUrl !== undefined;
  }

  sign(type: string, payload: Record<string, unknown>, now = new Date()): { envelope: Envelope; bytes: Uint8Array; transactionId: string } {
    const key = this.options.key;
    if (!key) throw this.errors.notConfigured(this.options.keyFileVariable);
    const transaction = {
      chainId: this.options.chainId,
      type,
      creator: { organizationId: key.organizationId, keyId: key.keyId },
      nonce: randomUUID(),
      timestamp: now.toISOString(),
      payload,
    } as unknown as Transaction;
    let envelope: Envelope;
    try {
      envelope = signTransaction(transaction, key);
    } catch (error) {
      // The payload is the caller's (a service passes its request on): numbers that are not safe integers, lone
      // surrogates and the like are the caller's to fix, not an internal error (found by the fuzz suite).
      if (isProtocolError(error) && (error.field ?? '').startsWith('/payload')) throw this.errors.invalidPayload(error.message, error);
      throw error;
    }
    return { envelope, bytes: canonicalBytes(envelope as unknown as JsonValue), transactionId: transactionId(envelope.transaction) };
  }

  /**
   * Submits an envelope. Resolves to 'submitted', 'duplicate' (the node has it
   * already: pending or committed) or 'expired' (its timestamp left the window:
   * it was never ordered by this call and must be signed again). Other
   * refusals throw `<SERVICE>.LEDGER_REFUSED` with the ledger's code.
   */
  async submit(envelopeBytes: Uint8Array): Promise<'submitted' | 'duplicate' | 'expired'> {
    const response = await this.request('/ledger/v1/transactions', { method: 'POST', body: Buffer.from(envelopeBytes), headers: { 'content-type': 'application/json' } });
    if (response.ok) return 'submitted';
    const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
    if (problem.code === 'LEDGER.DUPLICATE_TRANSACTION') return 'duplicate';
    if (problem.code === 'LEDGER.TIMESTAMP_OUT_OF_WINDOW') return 'expired';
    if (response.status >= 500 || response.status === 503) throw this.errors.unavailable(`the ledger node answered ${response.status}: ${problem.detail ?? ''}`);
    throw this.errors.refused(problem.code ?? `HTTP ${response.status}`, problem.detail ?? '');
  }

  async status(id: string): Promise<ChainStatus> {
    const response = await this.request(`/ledger/v1/transactions/${id}`, { method: 'GET' });
    if (response.status === 404) return { status: 'unknown' };
    if (!response.ok) throw this.errors.unavailable(`the ledger node answered ${response.status} for transaction ${id}`);
    const body = (await response.json()) as { status: string; blockNumber?: number; leafIndex?: number; code?: string; detail?: string | null; certified?: boolean };
    if (body.status === 'committed') return { status: 'committed', blockNumber: body.blockNumber ?? -1, leafIndex: body.leafIndex ?? -1, certified: body.certified === true };
    if (body.status === 'invalid') return { status: 'invalid', blockNumber: body.blockNumber ?? -1, code: body.code ?? 'UNKNOWN', detail: body.detail ?? null };
    return { status: 'pending' };
  }

  /**
   * Signs, submits and waits (up to `timeoutMs`) for the verdict: the block
   * that committed it, or the contract's refusal as an error with the
   * contract's own code (IDENTITY.NOT_ALLOWED → 403, others → 409).
   */
  async submitAndWait(type: string, payload: Record<string, unknown>, timeoutMs = 15_000): Promise<{ transactionId: string; blockNumber: number }> {
    const signed = this.sign(type, payload);
    const outcome = await this.submit(signed.bytes);
    if (outcome === 'expired') throw this.errors.unavailable('the ledger node refused a fresh timestamp: check this machine\'s clock');
    const deadline = Date.now() + timeoutMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 250)) {
      const status = await this.status(signed.transactionId);
      if (status.status === 'committed') return { transactionId: signed.transactionId, blockNumber: status.blockNumber };
      if (status.status === 'invalid') {
        throw new AllianceError(status.code, status.code === 'IDENTITY.NOT_ALLOWED' ? 'forbidden' : 'conflict', status.detail ?? status.code, { details: { transactionId: signed.transactionId, blockNumber: status.blockNumber } });
      }
      if (Date.now() > deadline) throw this.errors.commitTimeout(signed.transactionId, timeoutMs);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** GET on the ledger node's REST API (proofs, receipts, checkpoints); null for 404. */
  async get<T>(path: string): Promise<T | null> {
    const response = await this.request(path, { method: 'GET' });
    if (response.status === 404) return null;
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
      const notCertified = problem.code === 'LEDGER.NOT_CERTIFIED';
      throw new AllianceError(`${this.options.service}.${notCertified ? 'NOT_CERTIFIED' : 'LEDGER_UNAVAILABLE'}`, notCertified ? 'conflict' : 'unavailable', problem.detail ?? `the ledger node answered ${response.status} for ${path}`);
    }
    return (await response.json()) as T;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const base = this.options.ledgerUrl;
    if (!base) throw this.errors.notConfigured('LEDGER_URL');
    try {
      return await fetch(new URL(path, base), { ...init, signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000), headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) } });
    } catch (error) {
      throw this.errors.unavailable(`the ledger node at ${base} does not answer: ${(error as Error).message}`, error);
    }
  }
}
