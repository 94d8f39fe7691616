import { type AllianceKey, importKey, isAllianceApiError, keyFileInfo, readKeyFile, toHex } from '@alliance/sdk';

/**
 * The key file a user picks on the sign-in page, read in the browser: the
 * demo keys `npm start` writes (`{ warning, organizationId, algorithm,
 * publicKey, privateKey, createdAt }`), the SDK's plain and encrypted key
 * files, or the bare `{ organizationId, algorithm, privateKey }`. The private
 * key stays in this page's memory; only a signature of the challenge is sent.
 */
export type ParsedKeyFile =
  | { readonly kind: 'key'; readonly key: AllianceKey }
  | { readonly kind: 'encrypted'; readonly organizationId: string; readonly keyId: string; readonly text: string };

/** What is wrong with the file, in words for the person who chose it. */
export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

/** A key file is a few hundred bytes; anything much larger is not one. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

const sdkMessage = (error: unknown): string => (error instanceof Error ? error.message.replace(/^malformed key file: /, '') : String(error));

export function parseKeyFileText(text: string): ParsedKeyFile {
  if (text.length > MAX_KEY_FILE_BYTES) throw new KeyFileError('This file is too large to be a key file.');
  if (text.trim() === '') throw new KeyFileError('The key file is empty.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeyFileError('The key file is not JSON. Choose an Alliance key file such as org1.key.json.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new KeyFileError('The key file must hold one JSON object.');
  const record = value as Record<string, unknown>;
  if ('crypto' in record) {
    try {
      const info = keyFileInfo(record);
      return { kind: 'encrypted', organizationId: info.organizationId, keyId: info.keyId, text };
    } catch (error) {
      throw new KeyFileError(`The encrypted key file is malformed: ${sdkMessage(error)}.`);
    }
  }
  const { organizationId, algorithm, privateKey, publicKey } = record;
  if (typeof organizationId !== 'string' || organizationId === '') throw new KeyFileError('The key file names no organizationId.');
  if (typeof algorithm !== 'string' || algorithm === '') throw new KeyFileError('The key file names no algorithm.');
  if (typeof privateKey !== 'string') throw new KeyFileError('The key file holds no privateKey (a public key or a node key file cannot sign in).');
  if (!/^[0-9a-f]{64}$/.test(privateKey)) throw new KeyFileError('The privateKey must be 64 lower-case hex characters.');
  let key: AllianceKey;
  try {
    key = importKey({ organizationId, algorithm: algorithm as AllianceKey['algorithm'], privateKey });
  } catch (error) {
    throw new KeyFileError(`The key file cannot be used: ${sdkMessage(error)}.`);
  }
  if (publicKey !== undefined && publicKey !== toHex(key.publicKey)) throw new KeyFileError('The privateKey does not belong to the publicKey in the same file.');
  return { kind: 'key', key };
}

/** Opens an encrypted key file with its passphrase (scrypt and AES-GCM in the browser, by the SDK). */
export async function openEncryptedKeyFile(text: string, passphrase: string): Promise<AllianceKey> {
  try {
    return await readKeyFile(text, passphrase);
  } catch (error) {
    if (error instanceof Error && 'code' in error && (error as { code: string }).code === 'SDK.WRONG_PASSPHRASE') throw new KeyFileError('Wrong passphrase for this key file.');
    if (isAllianceApiError(error)) throw error;
    throw new KeyFileError(`The key file cannot be opened: ${sdkMessage(error)}.`);
  }
}
