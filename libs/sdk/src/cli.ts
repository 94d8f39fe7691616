import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  BlockHeader,
  Envelope,
  JsonObject,
  SIGNATURE_ALGORITHMS,
  canonicalize,
  encodeReceipt,
  headerHashHex,
  isJsonObject,
  isSignatureAlgorithm,
  validateBlockHeader,
} from '@alliance/protocol';
import { ChainVerification, verifyChain } from './chain-verifier';
import { ChainProgressReporter } from './cli/progress';
import { ParsedArgs, UsageError, integerOption, parseArgs, positionals, required } from './cli/args';
import { signIn } from './auth';
import { AllianceClient, CommittedTransaction } from './client';
import { AllianceApiError, AllianceSdkError, SdkErrorCode } from './errors';
import { type AllianceKey, DEFAULT_SCRYPT_PARAMS, encryptKey, generateKey, keyFileInfo, plainKeyFile, readKeyFile } from './keys';
import { signTelemetry } from './telemetry';
import { createEnvelope } from './transactions';
import { ChainTrust, parseTrust } from './trust';
import { type IssuerKey, issuerKeysOf, parseIssuerKeys, verifyEvidence } from './evidence';
import { verifyBlock, verifyCheckpoint, verifyReceipt } from './verify';
import { SDK_VERSION } from './version';

/**
 * The `alliance` command line: keys, signing, submitting and offline
 * verification. No framework; `main` takes argv and an IO object and returns
 * the exit code, so tests can run it in-process or as a child process.
 *
 * Exit codes: 0 ok · 1 verification failed, or the node refused the request ·
 * 2 usage error (arguments, unreadable input, wrong passphrase) · 3 could not
 * complete (node unreachable, timeout, server error, I/O).
 */

export const EXIT = { ok: 0, failed: 1, usage: 2, incomplete: 3 } as const;

export interface CliIo {
  readonly stdout: { write(text: string | Uint8Array): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  readonly env: Readonly<Record<string, string | undefined>>;
  readStdin(): Promise<Uint8Array>;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return new Uint8Array(Buffer.concat(chunks));
    },
  };
}

// ------------------------------------------------------------------ help

const MAIN_HELP = `alliance ${SDK_VERSION} — keys, signing, submitting and offline verification for an Alliance chain

usage: alliance <command> [options]

commands:
  keygen               create a signing key (encrypted key file when a passphrase is given)
  sign                 sign a transaction; prints the envelope JSON
  device sign          sign a device telemetry reading with the device's key
  sign-in              sign in to the identity service with a key; prints the tokens
  submit               submit an envelope (or a batch) to a node
  receipt              fetch a transaction's receipt
  verify receipt       verify a receipt offline
  verify block         verify a block offline
  verify checkpoint    verify a signed checkpoint offline
  verify chain         stream every block of a node and verify the whole chain
  verify evidence      verify an evidence package (a trace or a receivable's tree) offline

  alliance <command> --help   shows the options of a command

exit codes: 0 ok · 1 verification failed, or the node refused the request · 2 usage error · 3 could not complete (network, server error)
`;

const HELP: Record<string, string> = {
  keygen: `usage: alliance keygen --org <organizationId> --out <file> [--algorithm ed25519|ecdsa-p256|ecdsa-secp256k1] [--passphrase-env VAR] [--force]

Creates a key and writes it to <file> (mode 0600). With --passphrase-env, the
file is encrypted (scrypt N=${DEFAULT_SCRYPT_PARAMS.n}, r=${DEFAULT_SCRYPT_PARAMS.r}, p=${DEFAULT_SCRYPT_PARAMS.p} + AES-256-GCM) under the passphrase held in the
environment variable VAR; without it the private key is written unencrypted
(with a warning). Prints the algorithm, public key and keyId: register the
public key with your consortium before signing with it.

options:
  --org <id>             organization the key signs for (required)
  --out <file>           where to write the key file (required; not overwritten unless --force)
  --algorithm <name>     ed25519 (default), ecdsa-p256 or ecdsa-secp256k1
  --passphrase-env VAR   encrypt with the passphrase in environment variable VAR
  --force                overwrite <file>
  --json                 print the result as JSON
`,
  sign: `usage: alliance sign --key <file> --chain <chainId> --type <type> --payload <json|@file|-> [--org <id>] [--nonce <n>] [--timestamp <t>] [--passphrase-env VAR] [--out <file>]

Builds a transaction, signs it with the key and prints the envelope (canonical
JSON, one line) — what \`alliance submit\` and POST /ledger/v1/transactions take.

options:
  --key <file>           key file (alliance keygen, or a demo key of npm start)
  --chain <chainId>      the chain, e.g. alliance-demo
  --type <type>          transaction type, e.g. ledger.anchor
  --payload <payload>    the payload object: JSON text, @file to read a file, - for stdin
  --org <id>             creator organization (default: the key file's)
  --nonce <nonce>        1-64 of [A-Za-z0-9_-] (default: random); reuse one to make a retry idempotent
  --timestamp <time>     RFC 3339 UTC with milliseconds (default: now)
  --passphrase-env VAR   environment variable holding the key file's passphrase
  --out <file>           write the envelope to <file> instead of stdout
`,
  'device sign': `usage: alliance device sign --key <file> --device <deviceId> --readings <json|@file|-> [--sequence <n>] [--observed-at <t>] [--org <id>] [--passphrase-env VAR] [--out <file>]

Signs one telemetry reading with the device's own key (domain
alliance/device-telemetry/v1, docs/protocol.md §3.5) and prints the signed
reading (canonical JSON, one line). It counts while the device is registered
with this key and active (docs/identity.md, "Devices").

options:
  --key <file>           the device's key file (alliance keygen on the device)
  --device <deviceId>    the device id as registered (urn:epc:id:giai:… or did:…)
  --readings <json>      [{ "type": "Temperature", "value": "-18.25", "uom": "CEL" }, …]: JSON text, @file, or - for stdin
  --sequence <n>         the device's counter (integer >= 0)
  --observed-at <time>   RFC 3339 UTC with milliseconds (default: now)
  --org <id>             the owner organization (default: the key file's)
  --passphrase-env VAR   environment variable holding the key file's passphrase
  --out <file>           write the signed reading to <file> instead of stdout
`,
  'sign-in': `usage: alliance sign-in --url <base URL> --key-file <file> [--org <id>] [--key-id <id>] [--passphrase-env VAR]

Signs in to the identity service with the key (POST /identity/v1/auth/challenges,
the challenge signed in domain alliance/auth-challenge/v1, POST /auth/tokens)
and prints the token answer as JSON: accessToken, tokenType, expiresIn,
refreshToken, refreshExpiresIn, principal. The private key is never printed;
the tokens are credentials: keep them out of logs.

options:
  --url <base>           the gateway or the identity service, e.g. http://localhost:3000
  --key-file <file>      key file (alliance keygen, or a demo key of npm start)
  --org <id>             organization to sign in for (default: the key file's)
  --key-id <id>          the key's id as registered (default: the key file's)
  --passphrase-env VAR   environment variable holding the key file's passphrase
`,
  submit: `usage: alliance submit --url <base URL> [--wait] [--timeout <ms>] [--out <file>] <envelope.json|->

Submits one envelope, or a batch (a JSON array of envelopes, or
{ "transactions": [...] }), to POST /ledger/v1/transactions[/batch]. Prints
the node's answer (transaction id and status). With --wait (single envelope),
waits until the transaction's block is certified and prints its status; --out
then writes its receipt (canonical JSON) to <file>.

options:
  --url <base>           the gateway or a ledger node, e.g. http://localhost:3000
  --wait                 wait for the certified block (POST ?wait=commit)
  --timeout <ms>         request timeout (default 30000; with --wait 90000)
  --out <file>           with --wait: write the receipt to <file>
`,
  receipt: `usage: alliance receipt --url <base URL> [--wait <ms>] [--out <file>] <transactionId>

Fetches the receipt of a transaction in a certified block (GET
/ledger/v1/transactions/{id}) and writes its canonical bytes to <file>, or to
stdout. Verify it later, offline, with \`alliance verify receipt\`.

options:
  --url <base>           the gateway or a ledger node
  --wait <ms>            wait up to <ms> for the block to be certified (default: do not wait)
  --out <file>           write the receipt to <file>
`,
  verify: `usage: alliance verify receipt|block|checkpoint|chain …

  verify receipt <file> [--members <file>] [--chain <id>]
  verify block <file> [--members <file>] [--previous <file>]
  verify checkpoint <file> --members <file> [--chain <id>]
  verify chain --url <base URL> [--members <file>] [--page-size <n>] [--concurrency <n>] [--no-consistency] [--block-data auto|required|off]
  verify evidence <file> [--members <file>] [--issuer-key <file>] [--chain <id>]

--members takes the consortium you trust: the chain's genesis file (a signed
config.genesis envelope, LEDGER_GENESIS_FILE), a chain configuration, or
{ "members": [{ organizationId, algorithm, publicKey }], "policy": … }.
Every verify command takes --json for a machine-readable verdict.
Exit code 1 means verification failed.
`,
  'verify receipt': `usage: alliance verify receipt <file|-> [--members <file>] [--chain <id>] [--json]

Verifies a receipt offline (docs/protocol.md §9): canonical bytes, transaction
id, creator key, log inclusion, result and data inclusion, certification by the
members, envelope signature. Without --members the receipt's own member list is
used, which proves only that the receipt is internally consistent.
`,
  'verify block': `usage: alliance verify block <file|-> [--members <file>] [--previous <file>] [--json]

Verifies a block offline: a GET /ledger/v1/blocks/{n} answer, or
{ header, signatures, envelopes?, results? }. Checks the header hash the file
states, certification by the members (every signature valid, policy met), the
roots against envelopes/results when given, and with --previous the link to
the block before. Members come from --members, or from "members"/"policy" in
the file.
`,
  'verify checkpoint': `usage: alliance verify checkpoint <file|-> --members <file> [--chain <id>] [--json]

Verifies a checkpoint: a C2SP signed note (GET /ledger/v1/checkpoints/latest
with Accept: text/plain) or its JSON form with a "note" field. Every member's
signature line must verify and the policy must be met.
`,
  'verify chain': `usage: alliance verify chain --url <base URL> [--members <file>] [--page-size <n>] [--concurrency <n>] [--no-consistency] [--block-data auto|required|off] [--json]

Streams every block from the node (GET /ledger/v1/blocks) and verifies it:
header hash, previousHash chain, logSize continuity and ordering offsets,
certification by the members in force (configuration changes followed and
their approvals checked), block 0 against the pinned genesis, the node's
transaction list, and — when the node serves GET /ledger/v1/blocks/{n}/transactions —
every transaction and result against dataRoot, resultsRoot and the log;
otherwise an RFC 9162 consistency proof between successive blocks. Finally the
latest checkpoint. Prints a verdict naming the first bad block.

options:
  --url <base>           the gateway or a ledger node
  --members <file>       pinned trust (recommended: the genesis file); default: the node's own genesis
  --page-size <n>        blocks per request, 1-500 (default 100)
  --concurrency <n>      requests in flight, 1-64 (default 8)
  --no-consistency       skip the consistency proofs (headers mode)
  --block-data <mode>    auto (default), required, off
  --quiet                no progress on stderr
`,
};

HELP['verify evidence'] = `usage: alliance verify evidence <file|-> [--members <file>] [--issuer-key <file>] [--chain <id>] [--json]

Verifies an evidence package offline (docs/audit.md, Evidence packages): the
file must be exactly canonical JSON; the regulator's signature (domain
alliance/evidence-package/v1) must verify over every other byte; every
receipt must verify (docs/protocol.md §9); the checkpoint must be signed by the
members and every receipt's block log proven consistent with it; every record
must be what its transaction's receipt wrote or carried; each key's history
complete from version 1, the receivable tree or the trace complete; and the CSV
files must be exactly what the records render to. Exit 1 names the first
check that failed.

options:
  --members <file>      the consortium you trust (the genesis file, a chain configuration, or { members }):
                        receipts and checkpoint are checked against it, and the regulator's key against its
                        observers. Without it the receipts' own member lists are used, which proves only that
                        the package is internally consistent.
  --issuer-key <file>   the regulator's public key { organizationId, algorithm, publicKey } (or a list), when
                        the members file names no observers. Without either, the signature proves only that
                        nothing changed since someone signed it.
  --chain <id>          the chain you expect
`;

function helpOf(command: string): string {
  return HELP[command] ?? MAIN_HELP;
}

// ------------------------------------------------------------------ helpers

async function readInput(io: CliIo, path: string): Promise<Uint8Array> {
  if (path === '-') return io.readStdin();
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function decodeText(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${what} is not UTF-8 text`);
  }
}

async function readJson(io: CliIo, path: string, what: string): Promise<unknown> {
  const text = decodeText(await readInput(io, path), what);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${what} (${path}) is not JSON`);
  }
}

async function readTrust(io: CliIo, args: ParsedArgs): Promise<ChainTrust | undefined> {
  const file = args.options.get('members');
  if (file === undefined) return undefined;
  const value = await readJson(io, file, 'the members file');
  try {
    return parseTrust(value);
  } catch (error) {
    throw new UsageError(`--members ${file}: ${(error as Error).message}`);
  }
}

function passphrase(io: CliIo, args: ParsedArgs): string | undefined {
  const name = args.options.get('passphrase-env');
  if (name === undefined) return undefined;
  const value = io.env[name];
  if (value === undefined || value === '') throw new UsageError(`environment variable ${name} (--passphrase-env) is not set or empty`);
  return value;
}

function writeOut(path: string, data: string | Uint8Array, mode?: number): void {
  try {
    writeFileSync(path, data, mode === undefined ? undefined : { mode });
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function clientOf(args: ParsedArgs, timeoutMs?: number): AllianceClient {
  const url = required(args, 'url');
  try {
    return new AllianceClient({ baseUrl: url, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  } catch (error) {
    throw new UsageError(`--url: ${(error as Error).message}`);
  }
}

function short(hash: string): string {
  return `${hash.slice(0, 16)}…`;
}

// ------------------------------------------------------------------ commands

async function keygen(io: CliIo, args: ParsedArgs): Promise<number> {
  positionals(args, 0, '');
  const organizationId = required(args, 'org');
  const out = required(args, 'out');
  const algorithm = args.options.get('algorithm') ?? 'ed25519';
  if (!isSignatureAlgorithm(algorithm)) throw new UsageError(`--algorithm must be one of ${SIGNATURE_ALGORITHMS.join(', ')}`);
  if (existsSync(out) && !args.flags.has('force')) throw new UsageError(`${out} exists; pass --force to overwrite it`);
  const secret = passphrase(io, args);
  let key;
  try {
    key = generateKey({ organizationId, algorithm });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const file = secret === undefined ? plainKeyFile(key) : await encryptKey(key, secret);
  writeOut(out, `${JSON.stringify(file, null, 2)}\n`, 0o600);
  const info = { organizationId, algorithm, publicKey: file.publicKey, keyId: key.keyId, file: out, encrypted: secret !== undefined };
  if (args.flags.has('json')) {
    io.stdout.write(`${JSON.stringify(info)}\n`);
  } else {
    io.stdout.write(`organization ${organizationId}\nalgorithm    ${algorithm}\npublicKey    ${file.publicKey}\nkeyId        ${key.keyId}\n`);
    io.stderr.write(secret === undefined ? `wrote ${out} UNENCRYPTED (pass --passphrase-env VAR to encrypt it)\n` : `wrote ${out}, encrypted (scrypt + AES-256-GCM)\n`);
  }
  return EXIT.ok;
}

async function loadKey(io: CliIo, args: ParsedArgs, keyPath: string): Promise<AllianceKey> {
  const keyText = decodeText(await readInput(io, keyPath), 'the key file');
  try {
    const info = keyFileInfo(keyText);
    const secret = passphrase(io, args);
    if (info.encrypted && secret === undefined) throw new UsageError(`${keyPath} is encrypted: pass --passphrase-env VAR naming the environment variable that holds its passphrase`);
    return await readKeyFile(keyText, secret);
  } catch (error) {
    if (error instanceof AllianceSdkError) throw new UsageError(`${keyPath}: ${error.message}`);
    throw error;
  }
}

/** A JSON option: the text itself, @file, or - for stdin. */
async function jsonArgument(io: CliIo, value: string, name: string): Promise<unknown> {
  const text = value === '-' ? decodeText(await io.readStdin(), `the ${name}`) : value.startsWith('@') ? decodeText(await readInput(io, value.slice(1)), `the ${name}`) : value;
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`--${name} is not JSON`);
  }
}

async function sign(io: CliIo, args: ParsedArgs): Promise<number> {
  positionals(args, 0, '');
  const keyPath = required(args, 'key');
  const chainId = required(args, 'chain');
  const type = required(args, 'type');
  const payload = await jsonArgument(io, required(args, 'payload'), 'payload');
  if (!isJsonObject(payload)) throw new UsageError('--payload must be a JSON object');
  const key = await loadKey(io, args, keyPath);
  let envelope: Envelope;
  try {
    envelope = createEnvelope(key, {
      chainId,
      type,
      payload: payload as JsonObject,
      ...(args.options.has('org') ? { organizationId: args.options.get('org') } : {}),
      ...(args.options.has('nonce') ? { nonce: args.options.get('nonce') } : {}),
      ...(args.options.has('timestamp') ? { timestamp: args.options.get('timestamp') } : {}),
    });
  } catch (error) {
    throw new UsageError(`cannot sign: ${(error as Error).message}`);
  }
  const text = `${canonicalize(envelope)}\n`;
  emit(io, args, text);
  return EXIT.ok;
}

/** Writes a command's document to `--out` when given, else to stdout. */
function emit(io: CliIo, args: ParsedArgs, text: string): void {
  const out = args.options.get('out');
  if (out !== undefined) writeOut(out, text);
  else io.stdout.write(text);
}

async function deviceSign(io: CliIo, args: ParsedArgs): Promise<number> {
  positionals(args, 0, '');
  const keyPath = required(args, 'key');
  const deviceId = required(args, 'device');
  const readings = await jsonArgument(io, required(args, 'readings'), 'readings');
  if (!Array.isArray(readings)) throw new UsageError('--readings must be a JSON array of { type, value, uom }');
  const key = await loadKey(io, args, keyPath);
  let signed;
  try {
    signed = signTelemetry(key, {
      deviceId,
      readings,
      ...(args.options.has('sequence') ? { sequence: integerOption(args, 'sequence', 0, 0, Number.MAX_SAFE_INTEGER) } : {}),
      ...(args.options.has('observed-at') ? { observedAt: args.options.get('observed-at') } : {}),
      ...(args.options.has('org') ? { organizationId: args.options.get('org') } : {}),
    });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot sign: ${(error as Error).message}`);
  }
  const text = `${canonicalize(signed)}\n`;
  emit(io, args, text);
  return EXIT.ok;
}

async function signInCommand(io: CliIo, args: ParsedArgs): Promise<number> {
  positionals(args, 0, '');
  const url = required(args, 'url');
  const key = await loadKey(io, args, required(args, 'key-file'));
  const session = await signIn(url, {
    algorithm: key.algorithm,
    privateKey: key.privateKey,
    organizationId: args.options.get('org') ?? key.organizationId,
    keyId: args.options.get('key-id') ?? key.keyId,
  });
  io.stdout.write(`${JSON.stringify(session.tokens, null, 2)}\n`);
  return EXIT.ok;
}

async function submit(io: CliIo, args: ParsedArgs): Promise<number> {
  const [file] = positionals(args, 1, 'the envelope file (or - for stdin)');
  const wait = args.flags.has('wait');
  const timeout = integerOption(args, 'timeout', wait ? 90_000 : 30_000, 1, 86_400_000);
  const value = await readJson(io, file, 'the envelope');
  const client = clientOf(args, timeout);
  const batch = Array.isArray(value) ? value : isJsonObject(value) && Array.isArray((value as Record<string, unknown>)['transactions']) ? ((value as Record<string, unknown>)['transactions'] as unknown[]) : null;
  if (batch !== null) {
    if (wait) throw new UsageError('--wait takes a single envelope, not a batch');
    const result = await client.submitBatch(batch as Envelope[]);
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT.ok;
  }
  if (!isJsonObject(value)) throw new UsageError('the envelope must be a JSON object (or an array for a batch)');
  if (!wait) {
    const result = await client.submit(value as unknown as Envelope);
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT.ok;
  }
  const result = await client.submit(value as unknown as Envelope, { wait: true, timeoutMs: timeout });
  const { receipt, ...status } = result;
  io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  const out = args.options.get('out');
  if (out !== undefined && receipt) {
    writeOut(out, encodeReceipt(receipt));
    io.stderr.write(`receipt written to ${out}\n`);
  }
  return result.code === 'VALID' ? EXIT.ok : EXIT.failed;
}

async function receipt(io: CliIo, args: ParsedArgs): Promise<number> {
  const [id] = positionals(args, 1, 'the transaction id');
  if (!/^[0-9a-f]{64}$/.test(id)) throw new UsageError('a transaction id is 64 lower-case hex digits');
  const waitMs = integerOption(args, 'wait', 0, 0, 86_400_000);
  const client = clientOf(args);
  let committed: CommittedTransaction;
  if (waitMs > 0) {
    committed = await client.waitForCommit(id, waitMs);
  } else {
    const status = await client.transaction(id);
    if (status.status === 'pending' || !status.receipt) {
      const state = status.status === 'pending' ? 'pending (not in a block yet)' : `in block ${status.blockNumber}, not certified yet`;
      io.stderr.write(`transaction ${id} is ${state}; retry, or pass --wait <ms>\n`);
      return EXIT.incomplete;
    }
    committed = status as CommittedTransaction;
  }
  const bytes = encodeReceipt(committed.receipt);
  const out = args.options.get('out');
  if (out !== undefined) {
    writeOut(out, bytes);
    io.stderr.write(`receipt of ${id} (${committed.status}, ${committed.code}, block ${committed.blockNumber}) written to ${out}\n`);
  } else {
    io.stdout.write(bytes);
    if (io.stdout.isTTY) io.stdout.write('\n');
  }
  return EXIT.ok;
}

function verdictOut(io: CliIo, args: ParsedArgs, json: Record<string, unknown>, text: string, ok: boolean): number {
  if (args.flags.has('json')) io.stdout.write(`${JSON.stringify(json)}\n`);
  else io.stdout.write(`${text}\n`);
  return ok ? EXIT.ok : EXIT.failed;
}

async function verifyReceiptCommand(io: CliIo, args: ParsedArgs): Promise<number> {
  const [file] = positionals(args, 1, 'the receipt file');
  const bytes = await readInput(io, file);
  const trust = await readTrust(io, args);
  const chainId = args.options.get('chain');
  // Receipts are exchanged as canonical bytes: verify exactly the bytes in the file.
  const verdict = verifyReceipt(bytes, { ...(trust ? { trust } : {}), ...(chainId ? { chainId } : {}) });
  if (!verdict.ok) return verdictOut(io, args, { ok: false, reason: verdict.reason, detail: verdict.detail }, `receipt INVALID: ${verdict.reason}: ${verdict.detail}`, false);
  const warning = trust ? '' : '\nnote: members not pinned — the receipt is internally consistent, but anyone can make such a receipt with keys of their own; pass --members <genesis file>';
  return verdictOut(
    io,
    args,
    { ...verdict, membersPinned: trust !== undefined },
    `receipt OK: transaction ${verdict.transactionId} ${verdict.code} in block ${verdict.blockNumber} (header ${short(verdict.headerHash)}), leaf ${verdict.leafIndex}, certified by ${verdict.certifiedBy.join(', ')}${warning}`,
    true,
  );
}

async function verifyBlockCommand(io: CliIo, args: ParsedArgs): Promise<number> {
  const [file] = positionals(args, 1, 'the block file');
  const value = await readJson(io, file, 'the block');
  if (!isJsonObject(value)) throw new UsageError('the block must be a JSON object');
  const block = value as Record<string, unknown>;
  let trust = await readTrust(io, args);
  if (trust === undefined && Array.isArray(block['members'])) {
    try {
      trust = parseTrust({ members: block['members'], ...(block['policy'] !== undefined ? { policy: block['policy'] } : {}) });
    } catch (error) {
      throw new UsageError(`the block file's members: ${(error as Error).message}`);
    }
  }
  if (trust === undefined) throw new UsageError('verify block needs the members: pass --members <genesis or members file>');
  let previous: BlockHeader | undefined;
  const previousFile = args.options.get('previous');
  if (previousFile !== undefined) {
    const p = await readJson(io, previousFile, 'the previous block');
    previous = (isJsonObject(p) && isJsonObject((p as Record<string, unknown>)['header']) ? (p as Record<string, unknown>)['header'] : p) as BlockHeader;
  }
  const header = block['header'] as BlockHeader;
  const stated = block['headerHash'];
  if (typeof stated === 'string') {
    let computed = '';
    try {
      computed = headerHashHex(validateBlockHeader(header));
    } catch {
      computed = '';
    }
    if (computed !== stated) {
      return verdictOut(io, args, { ok: false, reason: 'SDK.HEADER_HASH_MISMATCH', detail: 'headerHash is not the hash of header' }, `block INVALID: SDK.HEADER_HASH_MISMATCH: the file says headerHash ${short(stated)}, the header hashes to ${computed ? short(computed) : '(invalid header)'}`, false);
    }
  }
  const verdict = verifyBlock(
    {
      header,
      signatures: block['signatures'] as never,
      ...(block['envelopes'] !== undefined ? { envelopes: block['envelopes'] as never } : {}),
      ...(block['results'] !== undefined ? { results: block['results'] as never } : {}),
    },
    { trust, ...(previous ? { previous } : {}) },
  );
  if (!verdict.ok) return verdictOut(io, args, { ok: false, reason: verdict.reason, detail: verdict.detail }, `block INVALID: ${verdict.reason}: ${verdict.detail}`, false);
  const contents = block['envelopes'] !== undefined ? (block['results'] !== undefined ? ', data and results roots' : ', data root') : '';
  return verdictOut(
    io,
    args,
    { ok: true, blockNumber: header.blockNumber, headerHash: verdict.headerHash, certifiedBy: verdict.certifiedBy },
    `block OK: block ${header.blockNumber} of ${header.chainId} (header ${short(verdict.headerHash)}) certified by ${verdict.certifiedBy.join(', ')}${contents}${previous ? `, extends block ${previous.blockNumber}` : ''}`,
    true,
  );
}

async function verifyCheckpointCommand(io: CliIo, args: ParsedArgs): Promise<number> {
  const [file] = positionals(args, 1, 'the checkpoint file');
  const text = decodeText(await readInput(io, file), 'the checkpoint');
  let note = text;
  if (text.trimStart().startsWith('{')) {
    try {
      const value = JSON.parse(text) as Record<string, unknown>;
      if (typeof value['note'] !== 'string') throw new UsageError('the checkpoint JSON has no "note"');
      note = value['note'];
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError('the checkpoint file is neither a signed note nor JSON');
    }
  }
  const trust = await readTrust(io, args);
  if (trust === undefined) throw new UsageError('verify checkpoint needs --members <genesis or members file>');
  const chainId = args.options.get('chain');
  const verdict = verifyCheckpoint(note, { trust, ...(chainId ? { chainId } : {}) });
  if (!verdict.ok) return verdictOut(io, args, { ok: false, reason: verdict.reason, detail: verdict.detail }, `checkpoint INVALID: ${verdict.reason}: ${verdict.detail}`, false);
  return verdictOut(io, args, { ...verdict }, `checkpoint OK: ${verdict.origin} tree size ${verdict.treeSize}, root ${verdict.rootHash}, signed by ${verdict.verifiedBy.join(', ')}`, true);
}

async function verifyChainCommand(io: CliIo, args: ParsedArgs): Promise<number> {
  positionals(args, 0, '');
  const trust = await readTrust(io, args);
  const blockData = args.options.get('block-data') ?? 'auto';
  if (blockData !== 'auto' && blockData !== 'required' && blockData !== 'off') throw new UsageError('--block-data must be auto, required or off');
  const pageSize = integerOption(args, 'page-size', 100, 1, 500);
  const concurrency = integerOption(args, 'concurrency', 8, 1, 64);
  const client = clientOf(args);
  const reporter = args.flags.has('quiet') ? null : new ChainProgressReporter(io.stderr);
  if (reporter && !args.flags.has('json')) io.stderr.write(`verifying the chain at ${client.baseUrl}${trust ? ` against the pinned ${trust.source}` : ''}\n`);
  let result: ChainVerification;
  try {
    result = await verifyChain(client, {
      ...(trust ? { trust } : {}),
      pageSize,
      concurrency,
      blockData,
      consistency: !args.flags.has('no-consistency'),
      ...(reporter ? { onProgress: (p) => reporter.update(p) } : {}),
    });
  } finally {
    reporter?.finish();
  }
  if (args.flags.has('json')) {
    io.stdout.write(`${JSON.stringify(result)}\n`);
    return result.ok ? EXIT.ok : EXIT.failed;
  }
  const notes = result.notes.map((n) => `note: ${n}\n`).join('');
  if (!result.ok) {
    const where = result.blockNumber === null ? 'chain INVALID' : `chain INVALID at block ${result.blockNumber}`;
    // A world-state difference is found after every block verified; a block failure stops at its block.
    const verified = result.blocks > 0 ? `blocks 0–${result.blocks - 1} verified${result.blocks === result.blockNumber ? ' before it' : ''}` : '';
    const before = verified ? `${verified} (${result.mode} mode)\n` : `(${result.mode} mode)\n`;
    io.stdout.write(`${where}: ${result.code}: ${result.detail}\n${before}${notes}`);
    return EXIT.failed;
  }
  const cp = result.checkpoint ? `; checkpoint at block ${result.checkpoint.blockNumber} (tree size ${result.checkpoint.treeSize}) signed by ${result.checkpoint.verifiedBy.join(', ')}` : '';
  io.stdout.write(
    `chain OK: ${result.chainId}, blocks 0–${result.head.blockNumber} (${result.blocks} blocks, ${result.transactions} transactions), head ${short(result.head.headerHash)}, log size ${result.head.logSize}${cp}${result.stateRows === null ? '' : `; ${result.stateRows} state rows match the replayed writes`}; ${result.mode} mode\n${notes}`,
  );
  return EXIT.ok;
}

async function verifyEvidenceCommand(io: CliIo, args: ParsedArgs): Promise<number> {
  const [file] = positionals(args, 1, 'the evidence package file');
  const bytes = await readInput(io, file);
  const trust = await readTrust(io, args);
  let issuerKeys: IssuerKey[] | undefined;
  const membersFile = args.options.get('members');
  if (membersFile !== undefined) {
    const observers = issuerKeysOf(await readJson(io, membersFile, 'the members file'));
    if (observers.length > 0) issuerKeys = observers;
  }
  const issuerFile = args.options.get('issuer-key');
  if (issuerFile !== undefined) {
    try {
      issuerKeys = [...(issuerKeys ?? []), ...parseIssuerKeys(await readJson(io, issuerFile, 'the issuer key file'))];
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`--issuer-key ${issuerFile}: ${(error as Error).message}`);
    }
  }
  const chainId = args.options.get('chain');
  // Packages are exchanged as canonical bytes: verify exactly the bytes in the file.
  const verdict = verifyEvidence(bytes, { ...(trust ? { trust } : {}), ...(issuerKeys ? { issuerKeys } : {}), ...(chainId ? { chainId } : {}) });
  if (!verdict.ok) return verdictOut(io, args, { ok: false, reason: verdict.reason, detail: verdict.detail }, `evidence INVALID: ${verdict.reason}: ${verdict.detail}`, false);
  const notes = [
    verdict.membersPinned ? '' : "\nnote: members not pinned — receipts and checkpoint were checked against the receipts' own member lists; pass --members <genesis file>",
    verdict.issuerPinned ? '' : "\nnote: the regulator's key is not pinned — the signature proves the package unchanged since it was signed, not who signed it; pass --members with the chain's observers, or --issuer-key",
  ].join('');
  return verdictOut(
    io,
    args,
    { ...verdict },
    `evidence OK: ${verdict.case.kind} ${verdict.case.subject} of ${verdict.chainId}, signed by ${verdict.issuer.organizationId} (key ${verdict.issuer.keyId}${verdict.issuerPinned ? ', pinned' : ''}); ${verdict.records} records in ${verdict.transactions} transactions, each receipt consistent with the checkpoint at tree size ${verdict.checkpoint.treeSize} signed by ${verdict.checkpoint.verifiedBy.join(', ')}; ${verdict.csv.join(', ')} match the records${notes}`,
    true,
  );
}

// ------------------------------------------------------------------ dispatch

interface Command {
  readonly spec: { readonly options?: readonly string[]; readonly flags?: readonly string[] };
  run(io: CliIo, args: ParsedArgs): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  keygen: { spec: { options: ['org', 'out', 'algorithm', 'passphrase-env'], flags: ['force', 'json'] }, run: keygen },
  sign: { spec: { options: ['key', 'chain', 'type', 'payload', 'org', 'nonce', 'timestamp', 'passphrase-env', 'out'] }, run: sign },
  'device sign': { spec: { options: ['key', 'device', 'readings', 'sequence', 'observed-at', 'org', 'passphrase-env', 'out'] }, run: deviceSign },
  'sign-in': { spec: { options: ['url', 'key-file', 'org', 'key-id', 'passphrase-env'] }, run: signInCommand },
  submit: { spec: { options: ['url', 'timeout', 'out'], flags: ['wait'] }, run: submit },
  receipt: { spec: { options: ['url', 'wait', 'out'] }, run: receipt },
  'verify receipt': { spec: { options: ['members', 'chain'], flags: ['json'] }, run: verifyReceiptCommand },
  'verify block': { spec: { options: ['members', 'previous'], flags: ['json'] }, run: verifyBlockCommand },
  'verify checkpoint': { spec: { options: ['members', 'chain'], flags: ['json'] }, run: verifyCheckpointCommand },
  'verify evidence': { spec: { options: ['members', 'issuer-key', 'chain'], flags: ['json'] }, run: verifyEvidenceCommand },
  'verify chain': { spec: { options: ['url', 'members', 'page-size', 'concurrency', 'block-data'], flags: ['json', 'quiet', 'no-consistency'] }, run: verifyChainCommand },
};

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? argv.slice(1).join(' ') : '';
    io.stdout.write(topic ? helpOf(topic) : MAIN_HELP);
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === '--version' || first === 'version') {
    io.stdout.write(`${SDK_VERSION}\n`);
    return EXIT.ok;
  }
  let name = first;
  let rest = argv.slice(1);
  if (first === 'verify') {
    if (second === undefined || second === '--help' || second === '-h') {
      io.stdout.write(HELP['verify']);
      return second === undefined ? EXIT.usage : EXIT.ok;
    }
    name = `verify ${second}`;
    rest = argv.slice(2);
  } else if (first === 'device' && second !== undefined && !second.startsWith('-')) {
    name = `device ${second}`;
    rest = argv.slice(2);
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`alliance: unknown command "${name}"\n\n${first === 'verify' ? HELP['verify'] : MAIN_HELP}`);
    return EXIT.usage;
  }
  try {
    const args = parseArgs(rest, command.spec);
    if (args.flags.has('help')) {
      io.stdout.write(helpOf(name));
      return EXIT.ok;
    }
    return await command.run(io, args);
  } catch (error) {
    return report(io, name, error);
  }
}

function report(io: CliIo, name: string, error: unknown): number {
  if (error instanceof UsageError) {
    io.stderr.write(`alliance ${name}: ${error.message}\n(see alliance ${name} --help)\n`);
    return EXIT.usage;
  }
  if (error instanceof AllianceApiError) {
    const refused = error.status >= 400 && error.status < 500 && error.code !== SdkErrorCode.INVALID_ARGUMENT;
    const correlation = error.correlationId ? ` [correlation id ${error.correlationId}]` : '';
    io.stderr.write(`alliance ${name}: ${refused ? 'refused' : 'failed'}: ${error.code}${error.status ? ` (HTTP ${error.status})` : ''}: ${error.detail}${correlation}\n`);
    if (error.code === SdkErrorCode.INVALID_ARGUMENT) return EXIT.usage;
    return refused ? EXIT.failed : EXIT.incomplete;
  }
  if (error instanceof AllianceSdkError) {
    io.stderr.write(`alliance ${name}: ${error.code}: ${error.message}\n`);
    return EXIT.incomplete;
  }
  io.stderr.write(`alliance ${name}: ${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.incomplete;
}

