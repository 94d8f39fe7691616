import { JsonValue, canonicalBytes, canonicalize } from './canonical-json';
import { ascii, concatBytes, fromBase64Url, fromHex, toBase64Url, toHex } from './encoding';
import { ProtocolError, ProtocolErrorCode, fail } from './errors';
import { SignatureDomain, sha256 } from './hash';
import { Verifier, keyId, publicKeyOf, sign, verify } from './keys';
import { MerkleAccumulator, MerkleAccumulatorState, leafHash, merkleRoot } from './merkle';
import { Envelope, envelopeLeafHash, transactionId, validateEnvelope } from './transaction';
import {
  RESULT_CODE_PATTERN,
  STATE_KEY_PATTERN,
  exactObject,
  expectArray,
  expectHex,
  expectIdentifier,
  expectInteger,
  expectSignatureValue,
  expectString,
  expectTimestamp,
} from './validate';

/** previousHash of block 0. */
export const GENESIS_PREVIOUS_HASH = '0'.repeat(64);

export interface OrderingPosition {
  /** Where the block's records were read, e.g. `kafka:ledger.alliance-main.ordered.v1/0` or `solo`. */
  readonly source: string;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

export interface BlockHeader {
  readonly chainId: string;
  readonly blockNumber: number;
  readonly previousHash: string;
  /** MTH over leafHash(canonicalBytes(envelope)) of the block's transactions, in block order. */
  readonly dataRoot: string;
  /** MTH over leafHash(canonicalBytes(result)) of the block's result entries, in block order. */
  readonly resultsRoot: string;
  readonly transactionCount: number;
  /** Size of the chain's global transaction log after this block. */
  readonly logSize: number;
  /** Root of the global transaction log after this block. */
  readonly logRoot: string;
  readonly ordering: OrderingPosition;
  /** From the ordering log (Kafka LogAppendTime), never a local clock. */
  readonly timestamp: string;
  readonly configSequence: number;
}

export interface StateWrite {
  /** 1–256 printable ASCII characters, no space. */
  readonly key: string;
  /** The new value; null deletes the key. */
  readonly value: JsonValue;
  readonly version: number;
}

export interface ResultEntry {
  readonly transactionId: string;
  /** `VALID` or `<MODULE>.<REASON>`. */
  readonly code: string;
  /** Sorted by key, keys unique; empty unless code is VALID. */
  readonly writes: readonly StateWrite[];
}

/** Organization node keys (headers and checkpoints) are Ed25519. */
export type NodeKeyAlgorithm = 'ed25519';

export interface HeaderSignature {
  readonly organizationId: string;
  readonly keyId: string;
  readonly algorithm: NodeKeyAlgorithm;
  /** base64url without padding of the 64 signature bytes. */
  readonly value: string;
}

export interface ConsortiumMember {
  readonly organizationId: string;
  readonly algorithm: NodeKeyAlgorithm;
  /** Lower-case hex of the 32-byte Ed25519 node key in force. */
  readonly publicKey: string;
}

export type CertificationPolicy =
  | { readonly type: 'majority' }
  | { readonly type: 'all' }
  | { readonly type: 'threshold'; readonly threshold: number };

const HDR = ProtocolErrorCode.MALFORMED_HEADER;
const RES = ProtocolErrorCode.MALFORMED_RESULT;
const SIG = ProtocolErrorCode.MALFORMED_SIGNATURE;
const MEM = ProtocolErrorCode.MALFORMED_MEMBERS;
const POL = ProtocolErrorCode.MALFORMED_POLICY;
const ORDERING_SOURCE_PATTERN = /^[\x21-\x7e]{1,256}$/;
const RESULT_CODE_MAX = 128;
/** More members than any consortium will have; bounds the work a receipt can demand. */
export const MAX_MEMBERS = 256;

export function validateBlockHeader(value: unknown, path = ''): BlockHeader {
  const h = exactObject(
    value,
    ['chainId', 'blockNumber', 'previousHash', 'dataRoot', 'resultsRoot', 'transactionCount', 'logSize', 'logRoot', 'ordering', 'timestamp', 'configSequence'],
    HDR,
    path,
  );
  expectIdentifier(h['chainId'], HDR, `${path}/chainId`);
  const blockNumber = expectInteger(h['blockNumber'], 0, HDR, `${path}/blockNumber`);
  const previousHash = expectHex(h['previousHash'], 32, HDR, `${path}/previousHash`);
  if ((blockNumber === 0) !== (previousHash === GENESIS_PREVIOUS_HASH)) {
    fail(HDR, 'is 64 zeros exactly for block 0', `${path}/previousHash`);
  }
  expectHex(h['dataRoot'], 32, HDR, `${path}/dataRoot`);
  expectHex(h['resultsRoot'], 32, HDR, `${path}/resultsRoot`);
  const count = expectInteger(h['transactionCount'], 1, HDR, `${path}/transactionCount`);
  const logSize = expectInteger(h['logSize'], count, HDR, `${path}/logSize`);
  if (blockNumber === 0 && logSize !== count) fail(HDR, 'of block 0 must equal its transactionCount', `${path}/logSize`);
  expectHex(h['logRoot'], 32, HDR, `${path}/logRoot`);
  const o = exactObject(h['ordering'], ['source', 'firstOffset', 'lastOffset'], HDR, `${path}/ordering`);
  expectString(o['source'], ORDERING_SOURCE_PATTERN, HDR, `${path}/ordering/source`, '1-256 printable ASCII characters');
  const first = expectInteger(o['firstOffset'], 0, HDR, `${path}/ordering/firstOffset`);
  expectInteger(o['lastOffset'], first, HDR, `${path}/ordering/lastOffset`);
  expectTimestamp(h['timestamp'], `${path}/timestamp`, HDR);
  expectInteger(h['configSequence'], 0, HDR, `${path}/configSequence`);
  return value as BlockHeader;
}

export function validateResultEntry(value: unknown, path = ''): ResultEntry {
  const r = exactObject(value, ['transactionId', 'code', 'writes'], RES, path);
  expectHex(r['transactionId'], 32, RES, `${path}/transactionId`);
  const code = expectString(r['code'], RESULT_CODE_PATTERN, RES, `${path}/code`, 'VALID or MODULE.REASON', RESULT_CODE_MAX);
  const writes = expectArray(r['writes'], RES, `${path}/writes`);
  if (code !== 'VALID' && writes.length > 0) fail(RES, 'must be empty unless code is VALID', `${path}/writes`);
  let previousKey: string | null = null;
  writes.forEach((w, i) => {
    const write = exactObject(w, ['key', 'value', 'version'], RES, `${path}/writes/${i}`);
    const key = expectString(write['key'], STATE_KEY_PATTERN, RES, `${path}/writes/${i}/key`, '1-256 printable ASCII characters without space');
    // ASCII only, so JavaScript's < is byte order.
    if (previousKey !== null && !(previousKey < key)) fail(RES, 'writes must be sorted by key, keys unique', `${path}/writes/${i}/key`);
    previousKey = key;
    expectInteger(write['version'], 0, RES, `${path}/writes/${i}/version`);
  });
  canonicalize(value); // values: protocol JSON only
  return value as ResultEntry;
}

export function validateHeaderSignature(value: unknown, path = ''): HeaderSignature {
  const s = exactObject(value, ['organizationId', 'keyId', 'algorithm', 'value'], SIG, path);
  expectIdentifier(s['organizationId'], SIG, `${path}/organizationId`);
  expectHex(s['keyId'], 16, SIG, `${path}/keyId`);
  if (s['algorithm'] !== 'ed25519') fail(SIG, 'node keys are ed25519', `${path}/algorithm`);
  expectSignatureValue(s['value'], SIG, `${path}/value`);
  return value as HeaderSignature;
}

export function validateMembers(value: unknown, path = ''): ConsortiumMember[] {
  const list = expectArray(value, MEM, path, MAX_MEMBERS);
  if (list.length === 0) fail(MEM, 'must name at least one member', path);
  const seen = new Set<string>();
  list.forEach((m, i) => {
    const member = exactObject(m, ['organizationId', 'algorithm', 'publicKey'], MEM, `${path}/${i}`);
    const id = expectIdentifier(member['organizationId'], MEM, `${path}/${i}/organizationId`);
    if (seen.has(id)) fail(MEM, 'organization listed twice', `${path}/${i}/organizationId`);
    seen.add(id);
    if (member['algorithm'] !== 'ed25519') fail(MEM, 'node keys are ed25519', `${path}/${i}/algorithm`);
    // Key validity proper (isValidPublicKey) is the registry's check when a key is
    // registered; here a bad key simply never verifies a signature.
    expectHex(member['publicKey'], 32, MEM, `${path}/${i}/publicKey`);
  });
  return value as ConsortiumMember[];
}

/** `memberCount`, when known, bounds the threshold. */
export function validatePolicy(value: unknown, memberCount?: number, path = ''): CertificationPolicy {
  const type = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['type'] : undefined;
  if (type === 'threshold') {
    const p = exactObject(value, ['type', 'threshold'], POL, path);
    const t = expectInteger(p['threshold'], 1, POL, `${path}/threshold`);
    if (memberCount !== undefined && t > memberCount) fail(POL, `exceeds the ${memberCount} members`, `${path}/threshold`);
  } else if (type === 'majority' || type === 'all') {
    exactObject(value, ['type'], POL, path);
  } else {
    fail(POL, 'type must be majority, all or threshold', `${path}/type`);
  }
  return value as CertificationPolicy;
}

/** How many distinct members must sign. */
export function requiredSignatures(policy: CertificationPolicy, memberCount: number): number {
  switch (policy.type) {
    case 'majority':
      return Math.floor(memberCount / 2) + 1;
    case 'all':
      return memberCount;
    case 'threshold':
      return policy.threshold;
  }
}

const HEADER_TAG = concatBytes(ascii(SignatureDomain.blockHeader), new Uint8Array([0]));

/** SHA-256(ASCII("alliance/block-header/v1") ‖ 0x00 ‖ canonicalBytes(header)). */
export function headerHash(header: BlockHeader): Uint8Array {
  return sha256(concatBytes(HEADER_TAG, canonicalBytes(header)));
}

export function headerHashHex(header: BlockHeader): string {
  return toHex(headerHash(header));
}

/** leafHash(canonicalBytes(result)): the entry's leaf under resultsRoot. */
export function resultLeafHash(result: ResultEntry): Uint8Array {
  return leafHash(canonicalBytes(result));
}

export function dataRootOf(envelopes: readonly Envelope[]): string {
  return toHex(merkleRoot(envelopes.map(envelopeLeafHash)));
}

export function resultsRootOf(results: readonly ResultEntry[]): string {
  return toHex(merkleRoot(results.map(resultLeafHash)));
}

export interface NodeKey {
  readonly organizationId: string;
  /** 32-byte Ed25519 seed. */
  readonly privateKey: Uint8Array;
}

/** Signature over signingInput("alliance/block-header/v1", headerHash(header)). */
export function signHeader(header: BlockHeader, key: NodeKey): HeaderSignature {
  validateBlockHeader(header);
  const publicKey = publicKeyOf('ed25519', key.privateKey);
  const value = sign('ed25519', key.privateKey, SignatureDomain.blockHeader, headerHash(header));
  return validateHeaderSignature({ organizationId: key.organizationId, keyId: keyId('ed25519', publicKey), algorithm: 'ed25519', value: toBase64Url(value) });
}

export interface SignatureCheckOptions {
  readonly verifier?: Verifier;
}

function signatureValid(hash: Uint8Array, signature: HeaderSignature, member: ConsortiumMember, verifier: Verifier): boolean {
  try {
    if (signature.organizationId !== member.organizationId || signature.algorithm !== 'ed25519') return false;
    const publicKey = fromHex(member.publicKey, 32);
    if (keyId('ed25519', publicKey) !== signature.keyId) return false;
    return verifier('ed25519', publicKey, SignatureDomain.blockHeader, hash, fromBase64Url(signature.value));
  } catch {
    return false;
  }
}

/** True when the signature is the member's, by its current node key, over this header. Never throws. */
export function verifyHeaderSignature(header: BlockHeader, signature: HeaderSignature, member: ConsortiumMember, options: SignatureCheckOptions = {}): boolean {
  try {
    return signatureValid(headerHash(header), signature, member, options.verifier ?? verify);
  } catch {
    return false;
  }
}

/**
 * Members with at least one valid signature on the header, sorted. Invalid,
 * unknown and duplicate signatures are ignored here (a node collecting
 * signatures counts what it can use); receipts and verifyBlock are stricter.
 */
export function certifyingMembers(
  header: BlockHeader,
  signatures: readonly HeaderSignature[],
  members: readonly ConsortiumMember[],
  options: SignatureCheckOptions = {},
): string[] {
  const hash = headerHash(header);
  const verifier = options.verifier ?? verify;
  const byId = new Map(members.map((m) => [m.organizationId, m]));
  const signed = new Set<string>();
  for (const s of signatures) {
    const member = byId.get(s?.organizationId);
    if (member === undefined || signed.has(member.organizationId)) continue;
    if (signatureValid(hash, s, member, verifier)) signed.add(member.organizationId);
  }
  return [...signed].sort();
}

/** Whether valid member signatures satisfy the policy; each member counts once. Never throws. */
export function isCertified(
  header: BlockHeader,
  signatures: readonly HeaderSignature[],
  policy: CertificationPolicy,
  members: readonly ConsortiumMember[],
  options: SignatureCheckOptions = {},
): boolean {
  try {
    validateMembers(members);
    validatePolicy(policy, members.length);
    return certifyingMembers(header, signatures, members, options).length >= requiredSignatures(policy, members.length);
  } catch {
    return false;
  }
}

export type Verdict<T extends object> = ({ readonly ok: true } & T) | { readonly ok: false; readonly reason: ProtocolErrorCode; readonly detail: string };

/** Shared by receipts and blocks: every listed signature must be valid and by a distinct member. */
export function checkCertification(
  hash: Uint8Array,
  signatures: readonly HeaderSignature[],
  policy: CertificationPolicy,
  members: readonly ConsortiumMember[],
  verifier: Verifier,
): Verdict<{ certifiedBy: string[] }> {
  const byId = new Map(members.map((m) => [m.organizationId, m]));
  const signed = new Set<string>();
  for (const s of signatures) {
    const member = byId.get(s.organizationId);
    if (member === undefined) return { ok: false, reason: ProtocolErrorCode.BAD_HEADER_SIGNATURE, detail: `signature by ${s.organizationId}, not a member` };
    if (signed.has(member.organizationId)) return { ok: false, reason: ProtocolErrorCode.BAD_HEADER_SIGNATURE, detail: `two signatures by ${s.organizationId}` };
    if (!signatureValid(hash, s, member, verifier)) return { ok: false, reason: ProtocolErrorCode.BAD_HEADER_SIGNATURE, detail: `signature by ${s.organizationId} does not verify` };
    signed.add(member.organizationId);
  }
  const needed = requiredSignatures(policy, members.length);
  if (signed.size < needed) return { ok: false, reason: ProtocolErrorCode.NOT_CERTIFIED, detail: `${signed.size} of ${needed} required signatures` };
  return { ok: true, certifiedBy: [...signed].sort() };
}

export interface BlockToVerify {
  readonly header: BlockHeader;
  readonly signatures: readonly HeaderSignature[];
  /** The block's envelopes in order; when given, dataRoot and the count are checked. */
  readonly envelopes?: readonly Envelope[];
  /** The block's result entries in order; when given (with envelopes), resultsRoot and ids are checked. */
  readonly results?: readonly ResultEntry[];
  /** The header of the block before; when given, the link is checked. */
  readonly previous?: BlockHeader;
  /** The global log before this block; with envelopes, logSize and logRoot are recomputed. */
  readonly logBefore?: MerkleAccumulatorState;
}

export interface BlockVerifyOptions {
  readonly members: readonly ConsortiumMember[];
  readonly policy: CertificationPolicy;
  readonly verifier?: Verifier;
}

/**
 * Everything one block and its neighbour can prove: structure, certification
 * (every signature valid, policy met), contents against the roots, and the
 * link to the previous header. Envelope signatures are not checked here: that
 * needs the key registry in force at the block. Never throws.
 */
export function verifyBlock(
  block: BlockToVerify,
  options: BlockVerifyOptions,
): Verdict<{ headerHash: string; certifiedBy: string[]; logAfter?: MerkleAccumulatorState }> {
  try {
    const header = validateBlockHeader(block.header, '/header');
    const signatures = expectArray(block.signatures, SIG, '/signatures', MAX_MEMBERS).map((s, i) => validateHeaderSignature(s, `/signatures/${i}`));
    const members = validateMembers(options.members, '/members');
    const policy = validatePolicy(options.policy, members.length, '/policy');
    const hash = headerHash(header);
    const certification = checkCertification(hash, signatures, policy, members, options.verifier ?? verify);
    if (!certification.ok) return certification;
    const mismatch = (detail: string) => ({ ok: false as const, reason: ProtocolErrorCode.BLOCK_CONTENT_MISMATCH, detail });
    let logAfter: MerkleAccumulatorState | undefined;
    if (block.envelopes !== undefined) {
      const envelopes = expectArray(block.envelopes, ProtocolErrorCode.MALFORMED_ENVELOPE, '/envelopes').map((e) => validateEnvelope(e));
      if (envelopes.length !== header.transactionCount) return mismatch(`${envelopes.length} envelopes, header says ${header.transactionCount}`);
      const other = envelopes.find((e) => e.transaction.chainId !== header.chainId);
      if (other !== undefined) return { ok: false, reason: ProtocolErrorCode.CHAIN_MISMATCH, detail: `transaction of chain ${other.transaction.chainId}` };
      const leaves = envelopes.map(envelopeLeafHash);
      if (toHex(merkleRoot(leaves)) !== header.dataRoot) return mismatch('dataRoot differs from the envelopes');
      if (block.logBefore !== undefined) {
        const log = new MerkleAccumulator(block.logBefore);
        for (const leaf of leaves) log.append(leaf);
        if (log.size !== header.logSize) return mismatch(`log size ${log.size}, header says ${header.logSize}`);
        if (toHex(log.root()) !== header.logRoot) return mismatch('logRoot differs from the log extended by the envelopes');
        logAfter = log.state();
      }
      if (block.results !== undefined) {
        const results = expectArray(block.results, RES, '/results').map((r, i) => validateResultEntry(r, `/results/${i}`));
        if (results.length !== envelopes.length) return mismatch(`${results.length} results for ${envelopes.length} envelopes`);
        for (let i = 0; i < results.length; i++) {
          if (results[i].transactionId !== transactionId(envelopes[i].transaction)) return mismatch(`result ${i} is not for transaction ${i}`);
        }
        if (resultsRootOf(results) !== header.resultsRoot) return mismatch('resultsRoot differs from the results');
      }
    } else if (block.results !== undefined) {
      return mismatch('results can only be checked together with envelopes');
    }
    if (block.previous !== undefined) {
      const prev = validateBlockHeader(block.previous, '/previous');
      const link = (detail: string) => ({ ok: false as const, reason: ProtocolErrorCode.BAD_CHAIN_LINK, detail });
      if (prev.chainId !== header.chainId) return link('previous block is of another chain');
      if (header.blockNumber !== prev.blockNumber + 1) return link(`block ${header.blockNumber} does not follow ${prev.blockNumber}`);
      if (header.previousHash !== headerHashHex(prev)) return link('previousHash is not the hash of the previous header');
      if (header.logSize !== prev.logSize + header.transactionCount) return link('logSize is not the previous logSize plus transactionCount');
      if (header.ordering.source === prev.ordering.source && header.ordering.firstOffset <= prev.ordering.lastOffset) {
        return link('ordering offsets overlap the previous block');
      }
      if (header.configSequence < prev.configSequence) return link('configSequence went backwards');
    }
    return { ok: true, headerHash: toHex(hash), certifiedBy: certification.certifiedBy, ...(logAfter ? { logAfter } : {}) };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, reason: error.code, detail: error.message };
    return { ok: false, reason: ProtocolErrorCode.MALFORMED_HEADER, detail: 'unreadable block' };
  }
}
