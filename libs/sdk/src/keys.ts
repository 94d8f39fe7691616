import type * as NodeCrypto from 'node:crypto';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import {
  IDENTIFIER_PATTERN,
  PUBLIC_KEY_LENGTH,
  SignatureAlgorithm,
  bytesEqual,
  canonicalBytes,
  fromHex,
  generateKeyPair,
  isHex,
  isJsonObject,
  isSignatureAlgorithm,
  isTimestamp,
  keyId,
  publicKeyOf,
  sha256,
  toHex,
  utf8,
} from '@alliance/protocol';
import { isBytes } from './bytes';
import { AllianceSdkError, SdkErrorCode } from './errors';

/**
 * Keys and key files.
 *
 * A key file holds one signing key of an organization. Encrypted files use
 * scrypt (RFC 7914) to turn a passphrase into a key and AES-256-GCM to seal
 * the private key, with every other field of the file as associated data, so
 * a changed public key, key id or organization is detected, not silently
 * used. The format is documented in libs/sdk/README.md ("Key files").
 *
 * Portable: scrypt runs on node:crypto when present (native, several times
 * faster) and on @noble/hashes otherwise (browsers); AES-GCM and randomness
 * come from WebCrypto (`globalThis.crypto`), which Node ≥ 20 and every
 * browser have. Both scrypt paths give identical bytes (tested).
 */

export interface AllianceKey {
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  /** 32 bytes: the Ed25519 seed or the ECDSA scalar. */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** keyId(algorithm, publicKey): what transactions name as `creator.keyId`. */
  readonly keyId: string;
}

function assertOrganization(organizationId: unknown): asserts organizationId is string {
  if (typeof organizationId !== 'string' || !IDENTIFIER_PATTERN.test(organizationId)) {
    throw new AllianceSdkError(SdkErrorCode.INVALID_ARGUMENT, 'organizationId must be 1-64 of [a-z0-9._-], starting with [a-z0-9]');
  }
}

/** A new random key of the organization (Ed25519 unless another algorithm is asked for). */
export function generateKey(options: { readonly organizationId: string; readonly algorithm?: SignatureAlgorithm }): AllianceKey {
  assertOrganization(options.organizationId);
  const algorithm = options.algorithm ?? 'ed25519';
  if (!isSignatureAlgorithm(algorithm)) throw new AllianceSdkError(SdkErrorCode.INVALID_ARGUMENT, `unsupported algorithm "${String(algorithm)}"`);
  const pair = generateKeyPair(algorithm);
  return { organizationId: options.organizationId, algorithm, privateKey: pair.privateKey, publicKey: pair.publicKey, keyId: keyId(algorithm, pair.publicKey) };
}

/** A key from its private key bytes (or lower-case hex). */
export function importKey(options: { readonly organizationId: string; readonly algorithm: SignatureAlgorithm; readonly privateKey: Uint8Array | string }): AllianceKey {
  assertOrganization(options.organizationId);
  if (!isSignatureAlgorithm(options.algorithm)) throw new AllianceSdkError(SdkErrorCode.INVALID_ARGUMENT, `unsupported algorithm "${String(options.algorithm)}"`);
  let privateKey: Uint8Array;
  try {
    privateKey = typeof options.privateKey === 'string' ? fromHex(options.privateKey, 32) : options.privateKey.slice();
    const publicKey = publicKeyOf(options.algorithm, privateKey);
    return { organizationId: options.organizationId, algorithm: options.algorithm, privateKey, publicKey, keyId: keyId(options.algorithm, publicKey) };
  } catch (error) {
    throw new AllianceSdkError(SdkErrorCode.INVALID_ARGUMENT, `not a valid ${options.algorithm} private key`, { cause: error });
  }
}

// ------------------------------------------------------------------ key files

export const KEY_FILE_FORMAT = 'alliance-key';
export const KEY_FILE_VERSION = 1;

export interface ScryptParams {
  /** CPU/memory cost, a power of two. Memory used is 128 · n · r bytes. */
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

/** 2^17, 8, 1: OWASP's current scrypt recommendation; 128 MiB and about half a second on node:crypto. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { n: 131_072, r: 8, p: 1 };
/** What a reader accepts: a key file must not be able to make us allocate gigabytes. */
const SCRYPT_LIMITS = { minN: 1024, maxN: 1_048_576, maxR: 32, maxP: 16, maxMemory: 512 * 1024 * 1024 } as const;

const SALT_BYTES = 32;
const NONCE_BYTES = 12;
const DERIVED_BYTES = 64;
const CHECK_BYTES = 16;
const TAG_BYTES = 16;

interface KeyFileFields {
  readonly format: typeof KEY_FILE_FORMAT;
  readonly version: typeof KEY_FILE_VERSION;
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  /** Lower-case hex. */
  readonly publicKey: string;
  readonly keyId: string;
  /** RFC 3339, when the file was written. */
  readonly createdAt: string;
}

export interface EncryptedKeyFile extends KeyFileFields {
  readonly crypto: {
    readonly kdf: 'scrypt';
    readonly kdfParams: ScryptParams & { readonly salt: string };
    readonly cipher: 'aes-256-gcm';
    /** 12 bytes, hex. */
    readonly nonce: string;
    /** hex of the AES-GCM output: 32 bytes of sealed private key, then the 16-byte tag. */
    readonly ciphertext: string;
    /** hex(SHA-256(derived[32..64])[0..16]): tells a wrong passphrase from a changed file. */
    readonly passphraseCheck: string;
  };
}

export interface PlainKeyFile extends KeyFileFields {
  readonly warning: string;
  /** Lower-case hex of the private key, unencrypted. */
  readonly privateKey: string;
}

export type KeyFile = EncryptedKeyFile | PlainKeyFile;

export const PLAIN_KEY_WARNING = 'UNENCRYPTED private key: anyone who can read this file can sign as this organization. Protect it or re-create it with a passphrase.';

const FIELDS = ['format', 'version', 'organizationId', 'algorithm', 'publicKey', 'keyId', 'createdAt'] as const;
const CRYPTO_FIELDS = ['kdf', 'kdfParams', 'cipher', 'nonce', 'ciphertext', 'passphraseCheck'] as const;
const KDF_FIELDS = ['n', 'r', 'p', 'salt'] as const;

function malformed(detail: string): never {
  throw new AllianceSdkError(SdkErrorCode.MALFORMED_KEY_FILE, `malformed key file: ${detail}`);
}

type Scrypt = (password: Uint8Array, salt: Uint8Array, params: ScryptParams, length: number) => Promise<Uint8Array>;

let nodeCryptoModule: typeof NodeCrypto | null | undefined;
function nodeCrypto(): typeof NodeCrypto | null {
  if (nodeCryptoModule === undefined) {
    // Found at run time, not imported: browsers load this module too (see @alliance/protocol node-verify).
    const processLike = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const load = processLike?.getBuiltinModule;
    nodeCryptoModule = typeof load === 'function' ? ((load.call(processLike, 'node:crypto') as typeof NodeCrypto | undefined) ?? null) : null;
  }
  return nodeCryptoModule;
}

const portableScrypt: Scrypt = (password, salt, params, length) =>
  scryptAsync(password, salt, { N: params.n, r: params.r, p: params.p, dkLen: length, maxmem: SCRYPT_LIMITS.maxMemory * 2 });

const nativeScrypt = (c: typeof NodeCrypto): Scrypt => (password, salt, params, length) =>
  new Promise((resolve, reject) => {
    c.scrypt(password, salt, length, { N: params.n, r: params.r, p: params.p, maxmem: SCRYPT_LIMITS.maxMemory * 2 }, (error, key) =>
      error ? reject(error) : resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength).slice()),
    );
  });

/**
 * scrypt over the NFKC-normalized UTF-8 passphrase. Exported for tests and
 * for other implementations' known-answer checks; `portable` forces the
 * JavaScript implementation.
 */
export async function deriveKeyFileSecret(passphrase: string, salt: Uint8Array, params: ScryptParams, options: { readonly portable?: boolean } = {}): Promise<Uint8Array> {
  const c = options.portable ? null : nodeCrypto();
  const run = c ? nativeScrypt(c) : portableScrypt;
  return run(utf8(passphrase.normalize('NFKC')), salt, params, DERIVED_BYTES);
}

function checkScryptParams(params: unknown): ScryptParams {
  if (!isJsonObject(params)) malformed('crypto.kdfParams must be an object');
  const { n, r, p } = params as Record<string, unknown>;
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
  if (!int(n) || !int(r) || !int(p)) malformed('scrypt n, r and p must be positive integers');
  const N = n as number;
  const R = r as number;
  const P = p as number;
  if ((N & (N - 1)) !== 0 || N < SCRYPT_LIMITS.minN || N > SCRYPT_LIMITS.maxN) malformed(`scrypt n must be a power of two in [${SCRYPT_LIMITS.minN}, ${SCRYPT_LIMITS.maxN}]`);
  if (R > SCRYPT_LIMITS.maxR || P > SCRYPT_LIMITS.maxP || 128 * N * R > SCRYPT_LIMITS.maxMemory) malformed('scrypt parameters exceed what a key file may ask for');
  return { n: N, r: R, p: P };
}

function webCrypto(): Crypto {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (!c?.subtle || typeof c.getRandomValues !== 'function') throw new AllianceSdkError(SdkErrorCode.CRYPTO_UNAVAILABLE, 'WebCrypto (globalThis.crypto.subtle) is not available');
  return c;
}

type Crypto = { readonly subtle: NodeCrypto.webcrypto.SubtleCrypto; getRandomValues<T extends Uint8Array>(array: T): T };

function randomBytes(length: number): Uint8Array {
  return webCrypto().getRandomValues(new Uint8Array(length));
}

/** The associated data: the file's canonical JSON without the two fields that depend on the secret. */
function associatedData(file: EncryptedKeyFile): Uint8Array {
  const { ciphertext: _c, passphraseCheck: _p, ...cryptoRest } = file.crypto;
  return canonicalBytes({ ...file, crypto: cryptoRest });
}

function passphraseCheck(derived: Uint8Array): string {
  return toHex(sha256(derived.subarray(32, 64)).subarray(0, CHECK_BYTES));
}

async function aesKey(derived: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<NodeCrypto.webcrypto.CryptoKey> {
  return webCrypto().subtle.importKey('raw', derived.slice(0, 32), { name: 'AES-GCM' }, false, [usage]);
}

function fieldsOf(key: AllianceKey, createdAt: string): KeyFileFields {
  return {
    format: KEY_FILE_FORMAT,
    version: KEY_FILE_VERSION,
    organizationId: key.organizationId,
    algorithm: key.algorithm,
    publicKey: toHex(key.publicKey),
    keyId: key.keyId,
    createdAt,
  };
}

export interface EncryptOptions {
  readonly scrypt?: ScryptParams;
  /** Defaults to now. */
  readonly createdAt?: Date;
}

/** Seals a key under a passphrase. The result is plain JSON; write it with JSON.stringify. */
export async function encryptKey(key: AllianceKey, passphrase: string, options: EncryptOptions = {}): Promise<EncryptedKeyFile> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new AllianceSdkError(SdkErrorCode.PASSPHRASE_REQUIRED, 'a non-empty passphrase is required');
  const checked = importKey(key); // the key must be what it says it is
  const params = checkScryptParams(options.scrypt ?? DEFAULT_SCRYPT_PARAMS);
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const derived = await deriveKeyFileSecret(passphrase, salt, params);
  const unsealed: EncryptedKeyFile = {
    ...fieldsOf(checked, (options.createdAt ?? new Date()).toISOString()),
    crypto: {
      kdf: 'scrypt',
      kdfParams: { ...params, salt: toHex(salt) },
      cipher: 'aes-256-gcm',
      nonce: toHex(nonce),
      ciphertext: '',
      passphraseCheck: passphraseCheck(derived),
    },
  };
  const sealed = await webCrypto().subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: associatedData(unsealed), tagLength: TAG_BYTES * 8 },
    await aesKey(derived, 'encrypt'),
    checked.privateKey,
  );
  return { ...unsealed, crypto: { ...unsealed.crypto, ciphertext: toHex(new Uint8Array(sealed)) } };
}

/** An unencrypted key file (demo and test keys; production keys belong in encrypted files or an HSM). */
export function plainKeyFile(key: AllianceKey, options: { readonly createdAt?: Date } = {}): PlainKeyFile {
  const checked = importKey(key);
  return { ...fieldsOf(checked, (options.createdAt ?? new Date()).toISOString()), warning: PLAIN_KEY_WARNING, privateKey: toHex(checked.privateKey) };
}

export interface KeyFileInfo {
  readonly organizationId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly publicKey: Uint8Array;
  readonly keyId: string;
  readonly encrypted: boolean;
}

function parseJson(value: unknown): unknown {
  if (typeof value === 'string' || isBytes(value)) {
    try {
      return JSON.parse(typeof value === 'string' ? value : new TextDecoder('utf-8', { fatal: true }).decode(value as Uint8Array));
    } catch {
      return malformed('not JSON');
    }
  }
  return value;
}

function exact(value: unknown, fields: readonly string[], what: string): Record<string, unknown> {
  if (!isJsonObject(value)) malformed(`${what} must be a JSON object`);
  const record = value as Record<string, unknown>;
  for (const f of fields) if (!Object.prototype.hasOwnProperty.call(record, f)) malformed(`${what}: missing field "${f}"`);
  for (const k of Object.keys(record)) if (!fields.includes(k)) malformed(`${what}: unknown field "${k}"`);
  return record;
}

interface ParsedKeyFile {
  readonly info: KeyFileInfo;
  readonly file: KeyFile | null;
  /** For the unencrypted formats. */
  readonly privateKey?: Uint8Array;
}

/**
 * Also reads the demo key files `npm start` writes
 * (`{ warning, organizationId, algorithm, publicKey, privateKey, createdAt? }`, see tools/lib/demo.js).
 */
function parseKeyFile(input: unknown): ParsedKeyFile {
  const value = parseJson(input);
  if (!isJsonObject(value)) malformed('must be a JSON object');
  const record = value as Record<string, unknown>;
  const legacy = record['format'] === undefined;
  const encrypted = !legacy && Object.prototype.hasOwnProperty.call(record, 'crypto');
  const r = legacy
    ? exact(value, ['warning', 'organizationId', 'algorithm', 'publicKey', 'privateKey', ...('createdAt' in record ? ['createdAt'] : [])], 'key file')
    : exact(value, [...FIELDS, ...(encrypted ? ['crypto'] : ['warning', 'privateKey'])], 'key file');
  if (!legacy && (r['format'] !== KEY_FILE_FORMAT || r['version'] !== KEY_FILE_VERSION)) malformed(`format must be "${KEY_FILE_FORMAT}" version ${KEY_FILE_VERSION}`);
  const organizationId = r['organizationId'];
  if (typeof organizationId !== 'string' || !IDENTIFIER_PATTERN.test(organizationId)) malformed('organizationId must be an identifier');
  const algorithm = r['algorithm'];
  if (!isSignatureAlgorithm(algorithm)) malformed('algorithm must be ed25519, ecdsa-p256 or ecdsa-secp256k1');
  if (!isHex(r['publicKey'], PUBLIC_KEY_LENGTH[algorithm])) malformed(`publicKey must be ${PUBLIC_KEY_LENGTH[algorithm] * 2} lower-case hex characters`);
  const publicKey = fromHex(r['publicKey'] as string);
  const id = keyId(algorithm, publicKey);
  if (!legacy && r['keyId'] !== id) malformed('keyId is not the id of publicKey');
  if ((!legacy || r['createdAt'] !== undefined) && !isValidDate(r['createdAt'])) malformed('createdAt must be an RFC 3339 timestamp');
  const info: KeyFileInfo = { organizationId, algorithm, publicKey, keyId: id, encrypted };
  if (!encrypted) {
    if (!isHex(r['privateKey'], 32)) malformed('privateKey must be 64 lower-case hex characters');
    if (typeof r['warning'] !== 'string') malformed('warning must be a string');
    return { info, file: legacy ? null : (value as unknown as PlainKeyFile), privateKey: fromHex(r['privateKey'] as string) };
  }
  const c = exact(r['crypto'], CRYPTO_FIELDS, 'crypto');
  if (c['kdf'] !== 'scrypt') malformed('crypto.kdf must be "scrypt"');
  if (c['cipher'] !== 'aes-256-gcm') malformed('crypto.cipher must be "aes-256-gcm"');
  const kdf = exact(c['kdfParams'], KDF_FIELDS, 'crypto.kdfParams');
  checkScryptParams(kdf);
  if (!isHex(kdf['salt'], SALT_BYTES)) malformed(`crypto.kdfParams.salt must be ${SALT_BYTES * 2} hex characters`);
  if (!isHex(c['nonce'], NONCE_BYTES)) malformed(`crypto.nonce must be ${NONCE_BYTES * 2} hex characters`);
  if (!isHex(c['ciphertext'], 32 + TAG_BYTES)) malformed(`crypto.ciphertext must be ${(32 + TAG_BYTES) * 2} hex characters`);
  if (!isHex(c['passphraseCheck'], CHECK_BYTES)) malformed(`crypto.passphraseCheck must be ${CHECK_BYTES * 2} hex characters`);
  return { info, file: value as unknown as EncryptedKeyFile };
}

function isValidDate(value: unknown): boolean {
  return typeof value === 'string' && (isTimestamp(value) || (/^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(Date.parse(value))));
}

/** What a key file says about its key, without the passphrase. Throws SDK.MALFORMED_KEY_FILE. */
export function keyFileInfo(input: unknown): KeyFileInfo {
  return parseKeyFile(input).info;
}

/**
 * Opens a key file (object, JSON text or bytes). Encrypted files need the
 * passphrase: a wrong one is `SDK.WRONG_PASSPHRASE`; a right one on a file
 * whose other fields were changed is `SDK.KEY_FILE_TAMPERED`.
 */
export async function readKeyFile(input: unknown, passphrase?: string): Promise<AllianceKey> {
  const parsed = parseKeyFile(input);
  const { info } = parsed;
  let privateKey: Uint8Array;
  if (parsed.privateKey) {
    privateKey = parsed.privateKey;
  } else {
    const file = parsed.file as EncryptedKeyFile;
    if (typeof passphrase !== 'string' || passphrase.length === 0) {
      throw new AllianceSdkError(SdkErrorCode.PASSPHRASE_REQUIRED, `the key file of ${info.organizationId} (key ${info.keyId}) is encrypted: a passphrase is required`);
    }
    const params = checkScryptParams(file.crypto.kdfParams);
    const derived = await deriveKeyFileSecret(passphrase, fromHex(file.crypto.kdfParams.salt), params);
    if (!bytesEqual(utf8(passphraseCheck(derived)), utf8(file.crypto.passphraseCheck))) {
      throw new AllianceSdkError(SdkErrorCode.WRONG_PASSPHRASE, `wrong passphrase for the key file of ${info.organizationId} (key ${info.keyId})`);
    }
    try {
      const plain = await webCrypto().subtle.decrypt(
        { name: 'AES-GCM', iv: fromHex(file.crypto.nonce), additionalData: associatedData(file), tagLength: TAG_BYTES * 8 },
        await aesKey(derived, 'decrypt'),
        fromHex(file.crypto.ciphertext),
      );
      privateKey = new Uint8Array(plain);
    } catch (error) {
      throw new AllianceSdkError(
        SdkErrorCode.KEY_FILE_TAMPERED,
        `the key file of ${info.organizationId} was modified after it was written (its authentication tag does not match); do not use it`,
        { cause: error },
      );
    }
  }
  let publicKey: Uint8Array;
  try {
    publicKey = publicKeyOf(info.algorithm, privateKey);
  } catch (error) {
    throw new AllianceSdkError(SdkErrorCode.MALFORMED_KEY_FILE, `malformed key file: privateKey is not a valid ${info.algorithm} key`, { cause: error });
  }
  if (!bytesEqual(publicKey, info.publicKey)) {
    throw new AllianceSdkError(
      parsed.privateKey ? SdkErrorCode.MALFORMED_KEY_FILE : SdkErrorCode.KEY_FILE_TAMPERED,
      'the private key in the file does not belong to its publicKey',
    );
  }
  return { organizationId: info.organizationId, algorithm: info.algorithm, privateKey, publicKey, keyId: info.keyId };
}

