import { CertificationPolicy, ConsortiumMember, requiredSignatures } from './block';
import { bytesEqual, concatBytes, fromBase64, fromHex, fromUtf8, isBytes, toBase64, utf8 } from './encoding';
import { ProtocolError, ProtocolErrorCode, fail } from './errors';
import { sha256 } from './hash';
import { publicKeyOf, signRaw, verifyRaw } from './keys';
import { HASH_LENGTH } from './merkle';
import { IDENTIFIER_PATTERN } from './validate';

/**
 * Checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519
 * signature type 0x01, one signature per organization whose key name is the
 * organization id. A note's signed bytes are its text, not a domain-tagged
 * input: that is the format every C2SP tool verifies, and the text's first
 * line `alliance/<chainId>` can never begin a transaction or header signing
 * input (docs/protocol.md §4).
 */

/** Bounds what a parser accepts; our checkpoints are a few hundred bytes. */
export const MAX_NOTE_BYTES = 65_536;
/** Go's sumdb/note limit; the spec asks for at least 16. */
export const MAX_NOTE_SIGNATURES = 100;
const ED25519_SIGNATURE_TYPE = 0x01;
const EM_DASH_SPACE = '\u2014 ';
const MAL = ProtocolErrorCode.MALFORMED_NOTE;
const CKP = ProtocolErrorCode.MALFORMED_CHECKPOINT;
// ASCII control characters other than newline are forbidden anywhere in a note.
function hasForbiddenControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return true;
  }
  return false;
}
const LONE_SURROGATE = /\p{Cs}/u;
// Key names: non-empty, no Unicode space, no '+'.
const BAD_NAME_CHAR = /[\s+]/u;
const ORIGIN_PATTERN = new RegExp(`^alliance/${IDENTIFIER_PATTERN.source.slice(1, -1)}$`);
const TREE_SIZE_PATTERN = /^(?:0|[1-9][0-9]{0,15})$/;

export interface NoteSignature {
  readonly name: string;
  /** The 4-byte key ID (big-endian uint32 in the spec). */
  readonly keyHash: Uint8Array;
  /** The signature bytes after the key ID. */
  readonly signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, including its final newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface NoteKey {
  /** Key name; for Alliance checkpoints, the organization id. */
  readonly name: string;
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

export interface CheckpointBody {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  /** Optional extension lines, without newlines. */
  readonly extensions?: readonly string[];
}

export function isKeyName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !BAD_NAME_CHAR.test(name) && !hasForbiddenControl(name) && !LONE_SURROGATE.test(name) && !name.includes('\n');
}

/** The checkpoint origin of a chain. */
export function checkpointOrigin(chainId: string): string {
  if (typeof chainId !== 'string' || !IDENTIFIER_PATTERN.test(chainId)) fail(CKP, 'chainId is not an identifier');
  return `alliance/${chainId}`;
}

/** SHA-256(name ‖ 0x0A ‖ 0x01 ‖ publicKey)[:4] (signed-note, Ed25519). */
export function noteKeyHash(name: string, publicKey: Uint8Array): Uint8Array {
  if (!isKeyName(name)) fail(MAL, 'invalid key name');
  if (!isBytes(publicKey) || publicKey.length !== 32) fail(ProtocolErrorCode.BAD_KEY, 'Ed25519 public key must be 32 bytes');
  return sha256(concatBytes(utf8(name), new Uint8Array([0x0a, ED25519_SIGNATURE_TYPE]), publicKey)).slice(0, 4);
}

/** The note text of a checkpoint: origin, tree size, base64 root, extension lines, each ending in a newline. */
export function formatCheckpoint(body: CheckpointBody): string {
  if (typeof body.origin !== 'string' || !ORIGIN_PATTERN.test(body.origin)) fail(CKP, 'origin must be alliance/<chainId>');
  if (!Number.isSafeInteger(body.treeSize) || body.treeSize < 0) fail(CKP, 'treeSize must be a non-negative safe integer');
  if (!isBytes(body.rootHash) || body.rootHash.length !== HASH_LENGTH) fail(CKP, 'rootHash must be 32 bytes');
  const extensions = body.extensions ?? [];
  for (const line of extensions) {
    if (typeof line !== 'string' || line.length === 0 || line.includes('\n') || hasForbiddenControl(line) || LONE_SURROGATE.test(line)) {
      fail(CKP, 'extension lines must be non-empty single lines');
    }
  }
  return [body.origin, String(body.treeSize), toBase64(body.rootHash), ...extensions].map((l) => `${l}\n`).join('');
}

/** Parses a checkpoint note text (C2SP tlog-checkpoint rules; any non-empty origin). */
export function parseCheckpoint(text: string): CheckpointBody {
  if (typeof text !== 'string' || !text.endsWith('\n')) fail(CKP, 'checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) fail(CKP, 'a checkpoint has at least three lines');
  const [origin, size, root, ...extensions] = lines;
  if (origin.length === 0) fail(CKP, 'empty origin');
  if (!TREE_SIZE_PATTERN.test(size) || !Number.isSafeInteger(Number(size))) fail(CKP, 'tree size must be decimal without leading zeros, at most 2^53 - 1');
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(root);
  } catch {
    return fail(CKP, 'root hash must be standard padded base64');
  }
  if (rootHash.length !== HASH_LENGTH) fail(CKP, 'root hash must be 32 bytes');
  if (extensions.some((l) => l.length === 0)) fail(CKP, 'extension lines must be non-empty');
  return { origin, treeSize: Number(size), rootHash, extensions };
}

/** Strict C2SP signed-note parsing. */
export function parseSignedNote(note: string | Uint8Array): SignedNote {
  const text = isBytes(note) ? decodeNote(note) : note;
  if (typeof text !== 'string') fail(MAL, 'note must be text');
  if (utf8(text).length > MAX_NOTE_BYTES) fail(ProtocolErrorCode.TOO_LARGE, `note exceeds ${MAX_NOTE_BYTES} bytes`);
  if (LONE_SURROGATE.test(text)) fail(MAL, 'note is not valid Unicode');
  if (hasForbiddenControl(text)) fail(MAL, 'note contains an ASCII control character other than newline');
  // The text ends at the last blank line; it keeps its final newline.
  const split = text.lastIndexOf('\n\n');
  if (split < 0) fail(MAL, 'no blank line before the signatures');
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) fail(MAL, 'signature lines must each end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) fail(MAL, `more than ${MAX_NOTE_SIGNATURES} signatures`);
  const seen = new Set<string>();
  const signatures = lines.map((line) => {
    if (!line.startsWith(EM_DASH_SPACE)) fail(MAL, 'signature line must start with an em dash (U+2014) and a space');
    const rest = line.slice(EM_DASH_SPACE.length);
    const space = rest.indexOf(' ');
    if (space < 0 || rest.indexOf(' ', space + 1) >= 0) fail(MAL, 'signature line must be "— <name> <base64>"');
    const name = rest.slice(0, space);
    if (!isKeyName(name)) fail(MAL, 'key name must be non-empty, without spaces or "+"');
    let raw: Uint8Array;
    try {
      raw = fromBase64(rest.slice(space + 1));
    } catch {
      return fail(MAL, 'signature must be standard padded base64');
    }
    if (raw.length < 5) fail(MAL, 'signature must hold a 4-byte key ID and a signature');
    const keyHash = raw.slice(0, 4);
    const id = `${name} ${toBase64(keyHash)}`;
    // Go's note.Open skips repeats; two lines for one key are malformed here.
    if (seen.has(id)) fail(MAL, `two signatures by one key (${name})`);
    seen.add(id);
    return { name, keyHash, signature: raw.slice(4) };
  });
  return { text: body, signatures };
}

function decodeNote(bytes: Uint8Array): string {
  try {
    return fromUtf8(bytes);
  } catch {
    return fail(MAL, 'note is not valid UTF-8');
  }
}

/** The signature line (ending in a newline) of a key over the note text. */
export function signCheckpoint(noteText: string, key: { readonly name: string; readonly privateKey: Uint8Array }): string {
  if (typeof noteText !== 'string' || noteText.length === 0 || !noteText.endsWith('\n') || noteText.includes('\n\n')) {
    fail(MAL, 'note text must be non-empty lines, each ending in a newline');
  }
  if (hasForbiddenControl(noteText) || LONE_SURROGATE.test(noteText)) fail(MAL, 'note text contains forbidden characters');
  const publicKey = publicKeyOf('ed25519', key.privateKey);
  const signature = signRaw('ed25519', key.privateKey, utf8(noteText));
  return `${EM_DASH_SPACE}${key.name} ${toBase64(concatBytes(noteKeyHash(key.name, publicKey), signature))}\n`;
}

/** Text, blank line, signature lines. */
export function formatSignedNote(noteText: string, signatureLines: readonly string[]): string {
  return `${noteText}\n${signatureLines.join('')}`;
}

export interface NoteVerification {
  readonly text: string;
  /** Names of trusted keys whose signatures verified, sorted, each once. */
  readonly verifiedBy: string[];
}

/**
 * C2SP signed-note verification: lines from unknown keys (name or key ID not
 * both matching a trusted key) are ignored; a trusted key's line that fails
 * rejects the whole note; at least one must verify. Throws ProtocolError.
 */
export function verifyNote(note: string | Uint8Array, trustedKeys: readonly NoteKey[]): NoteVerification {
  const parsed = parseSignedNote(note);
  if (!Array.isArray(trustedKeys)) fail(ProtocolErrorCode.BAD_KEY, 'trustedKeys must be an array');
  const data = utf8(parsed.text);
  const verified = new Set<string>();
  for (const key of trustedKeys) {
    const hash = noteKeyHash(key.name, key.publicKey);
    for (const s of parsed.signatures) {
      if (s.name !== key.name || !bytesEqual(s.keyHash, hash)) continue;
      if (!verifyRaw('ed25519', key.publicKey, data, s.signature)) {
        fail(ProtocolErrorCode.BAD_NOTE_SIGNATURE, `signature by ${key.name} does not verify`);
      }
      verified.add(key.name);
    }
  }
  if (verified.size === 0) fail(ProtocolErrorCode.UNVERIFIED_NOTE, 'no signature by a trusted key');
  return { text: parsed.text, verifiedBy: [...verified].sort() };
}

export interface CheckpointVerification extends CheckpointBody {
  readonly extensions: readonly string[];
  readonly verifiedBy: string[];
}

export interface CheckpointVerifyOptions {
  /** The origin the verifier expects, e.g. checkpointOrigin('alliance-main'). Pin it when keys may serve several chains. */
  readonly origin?: string;
  /** When given, the trusted keys' distinct names are the members and the signers must satisfy it. */
  readonly policy?: CertificationPolicy;
}

/** Verifies a signed checkpoint against trusted organization keys. Throws ProtocolError. */
export function verifyCheckpoint(note: string | Uint8Array, trustedKeys: readonly NoteKey[], options: CheckpointVerifyOptions = {}): CheckpointVerification {
  const { text, verifiedBy } = verifyNote(note, trustedKeys);
  const body = parseCheckpoint(text);
  if (options.origin !== undefined && body.origin !== options.origin) {
    fail(ProtocolErrorCode.ORIGIN_MISMATCH, `checkpoint is for ${body.origin}, expected ${options.origin}`);
  }
  if (options.policy !== undefined) {
    const names = new Set(trustedKeys.map((k) => k.name));
    const needed = requiredSignatures(options.policy, names.size);
    if (verifiedBy.length < needed) throw new ProtocolError(ProtocolErrorCode.NOT_CERTIFIED, `${verifiedBy.length} of ${needed} required signatures`);
  }
  return { origin: body.origin, treeSize: body.treeSize, rootHash: body.rootHash, extensions: body.extensions ?? [], verifiedBy };
}

/** Members' node keys as note keys (key name = organization id). */
export function memberNoteKeys(members: readonly ConsortiumMember[]): NoteKey[] {
  return members.map((m) => ({ name: m.organizationId, publicKey: fromHex(m.publicKey, 32) }));
}

/** Go sumdb/note verifier key text: `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`. */
export function parseVerifierKey(vkey: string): NoteKey {
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first <= 0 || second < 0) fail(ProtocolErrorCode.BAD_KEY, 'verifier key must be name+hash+key');
  const name = vkey.slice(0, first);
  const hashHex = vkey.slice(first + 1, second);
  let typed: Uint8Array;
  try {
    typed = fromBase64(vkey.slice(second + 1));
  } catch {
    return fail(ProtocolErrorCode.BAD_KEY, 'verifier key material must be base64');
  }
  if (typed.length !== 33 || typed[0] !== ED25519_SIGNATURE_TYPE) fail(ProtocolErrorCode.BAD_KEY, 'only Ed25519 (type 0x01) verifier keys are supported');
  const publicKey = typed.slice(1);
  if (!/^[0-9a-f]{8}$/.test(hashHex) || !bytesEqual(fromHex(hashHex, 4), noteKeyHash(name, publicKey))) {
    fail(ProtocolErrorCode.BAD_KEY, 'key hash does not match the key');
  }
  return { name, publicKey };
}
