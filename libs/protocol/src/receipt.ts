import {
  BlockHeader,
  CertificationPolicy,
  ConsortiumMember,
  HeaderSignature,
  MAX_MEMBERS,
  ResultEntry,
  Verdict,
  checkCertification,
  headerHash,
  resultLeafHash,
  validateBlockHeader,
  validateHeaderSignature,
  validateMembers,
  validatePolicy,
  validateResultEntry,
} from './block';
import { canonicalBytes, canonicalize, parseCanonical } from './canonical-json';
import { fromBase64Url, fromHex, isBytes, toHex, utf8 } from './encoding';
import { ProtocolError, ProtocolErrorCode } from './errors';
import { SignatureDomain } from './hash';
import { PUBLIC_KEY_LENGTH, SignatureAlgorithm, Verifier, isSignatureAlgorithm, keyId, verify } from './keys';
import { verifyInclusion } from './merkle';
import { Envelope, envelopeLeafHash, transactionId, validateEnvelope } from './transaction';
import { exactObject, expectArray, expectHex, expectInteger } from './validate';

/**
 * A receipt proves, offline, that a signed transaction was ordered into a
 * block of the chain, what its result was, and that the block was certified
 * by the consortium. It does not prove that the envelope's key belonged to
 * the creator's organization at the time: the key registry is the node's
 * check (a transaction signed by an unknown or revoked key commits with an
 * invalid result code, which the receipt then shows).
 */

export interface ReceiptInclusion {
  /** Position of the transaction in its block. */
  readonly index: number;
  /** RFC 9162 inclusion path, lower-case hex hashes. */
  readonly proof: readonly string[];
}

export interface CreatorKey {
  readonly algorithm: SignatureAlgorithm;
  /** Lower-case hex; its keyId is the envelope's signature.keyId. */
  readonly publicKey: string;
}

export interface Receipt {
  readonly version: 1;
  readonly envelope: Envelope;
  readonly creatorKey: CreatorKey;
  readonly transactionId: string;
  readonly result: ResultEntry;
  readonly block: { readonly header: BlockHeader; readonly signatures: readonly HeaderSignature[] };
  /** Position of the envelope's leaf in the chain's global log. */
  readonly leafIndex: number;
  /** Against header.logRoot at treeSize header.logSize. */
  readonly inclusionProof: readonly string[];
  /** Against header.dataRoot at treeSize header.transactionCount. */
  readonly dataInclusion?: ReceiptInclusion;
  /** Against header.resultsRoot at treeSize header.transactionCount. */
  readonly resultInclusion: ReceiptInclusion;
  /** Node keys in force at the block (chain configuration at header.configSequence). */
  readonly members: readonly ConsortiumMember[];
  readonly policy: CertificationPolicy;
}

export interface ReceiptParts {
  readonly envelope: Envelope;
  readonly creatorPublicKey: Uint8Array;
  readonly result: ResultEntry;
  readonly header: BlockHeader;
  readonly signatures: readonly HeaderSignature[];
  readonly leafIndex: number;
  readonly inclusionProof: readonly Uint8Array[];
  readonly resultProof: readonly Uint8Array[];
  readonly dataProof?: readonly Uint8Array[];
  readonly members: readonly ConsortiumMember[];
  readonly policy: CertificationPolicy;
}

/** Assembles a receipt from what a node has stored; the result is plain JSON data. */
export function buildReceipt(parts: ReceiptParts): Receipt {
  const index = parts.leafIndex - (parts.header.logSize - parts.header.transactionCount);
  const hex = (proof: readonly Uint8Array[]) => proof.map(toHex);
  const receipt: Receipt = {
    version: 1,
    envelope: parts.envelope,
    creatorKey: { algorithm: parts.envelope.signature.algorithm, publicKey: toHex(parts.creatorPublicKey) },
    transactionId: transactionId(parts.envelope.transaction),
    result: parts.result,
    block: { header: parts.header, signatures: [...parts.signatures] },
    leafIndex: parts.leafIndex,
    inclusionProof: hex(parts.inclusionProof),
    ...(parts.dataProof ? { dataInclusion: { index, proof: hex(parts.dataProof) } } : {}),
    resultInclusion: { index, proof: hex(parts.resultProof) },
    members: [...parts.members],
    policy: parts.policy,
  };
  // A deep copy through canonical JSON: plain data, nothing shared with the caller.
  return JSON.parse(canonicalize(receipt)) as Receipt;
}

/** The canonical bytes of a receipt: the form receipts are stored and exchanged in. */
export function encodeReceipt(receipt: Receipt): Uint8Array {
  return canonicalBytes(receipt);
}

export interface ReceiptVerifyOptions {
  /**
   * The node keys the verifier trusts for this block (from the genesis it
   * pinned and the configuration history it followed). A receipt's own member
   * list is a claim; pass this to turn it into a check. The receipt's list
   * must then equal it.
   */
  readonly trustedMembers?: readonly ConsortiumMember[];
  /** Likewise for the certification policy. */
  readonly trustedPolicy?: CertificationPolicy;
  /** The chain the verifier expects. */
  readonly chainId?: string;
  readonly verifier?: Verifier;
}

export type ReceiptVerification = Verdict<{
  readonly transactionId: string;
  readonly code: string;
  readonly blockNumber: number;
  readonly headerHash: string;
  readonly leafIndex: number;
  readonly certifiedBy: string[];
}>;

const REC = ProtocolErrorCode.MALFORMED_RECEIPT;
const RECEIPT_FIELDS = [
  'version',
  'envelope',
  'creatorKey',
  'transactionId',
  'result',
  'block',
  'leafIndex',
  'inclusionProof',
  'resultInclusion',
  'members',
  'policy',
] as const;

function hashes(value: unknown, path: string): Uint8Array[] {
  // Paths are at most 64 hashes (trees of at most 2^53 leaves).
  return expectArray(value, REC, path, 64).map((h, i) => fromHex(expectHex(h, 32, REC, `${path}/${i}`)));
}

function inclusion(value: unknown, path: string): { index: number; proof: Uint8Array[] } {
  const o = exactObject(value, ['index', 'proof'], REC, path);
  return { index: expectInteger(o['index'], 0, REC, `${path}/index`), proof: hashes(o['proof'], `${path}/proof`) };
}

/** Sorted canonical text of a member list, for set comparison. */
function memberSet(members: readonly ConsortiumMember[]): string {
  return canonicalize([...members].sort((a, b) => (a.organizationId < b.organizationId ? -1 : 1)));
}

/**
 * Checks everything a receipt claims, in this order: structure and canonical
 * form, transaction id, creator key, result, chain, leaf position, log
 * inclusion, result (and data) inclusion, members and policy (against the
 * pinned ones when given), header certification, envelope signature.
 * Accepts the receipt object or its canonical bytes/text. Never throws.
 */
export function verifyReceipt(receipt: unknown, options: ReceiptVerifyOptions = {}): ReceiptVerification {
  const no = (reason: ProtocolErrorCode, detail: string) => ({ ok: false as const, reason, detail });
  try {
    const value = typeof receipt === 'string' ? parseCanonical(utf8(receipt)) : isBytes(receipt) ? parseCanonical(receipt) : receipt;
    const r = exactObject(value, RECEIPT_FIELDS, REC, '', ['dataInclusion']);
    if (r['version'] !== 1) return no(REC, '/version: must be 1');
    canonicalize(r); // the whole receipt must be protocol JSON (integers only, no lone surrogates …)

    const envelope = validateEnvelope(r['envelope']);
    const ck = exactObject(r['creatorKey'], ['algorithm', 'publicKey'], REC, '/creatorKey');
    const algorithm = ck['algorithm'];
    if (!isSignatureAlgorithm(algorithm) || algorithm !== envelope.signature.algorithm) {
      return no(REC, '/creatorKey/algorithm: must be the envelope signature algorithm');
    }
    const creatorKey = fromHex(expectHex(ck['publicKey'], PUBLIC_KEY_LENGTH[algorithm], REC, '/creatorKey/publicKey'));
    if (keyId(algorithm, creatorKey) !== envelope.signature.keyId) {
      return no(ProtocolErrorCode.KEY_ID_MISMATCH, '/creatorKey/publicKey: is not the key the envelope names');
    }

    const id = transactionId(envelope.transaction);
    if (expectHex(r['transactionId'], 32, REC, '/transactionId') !== id) {
      return no(ProtocolErrorCode.TRANSACTION_ID_MISMATCH, '/transactionId: is not the id of the envelope transaction');
    }
    const result = validateResultEntry(r['result'], '/result');
    if (result.transactionId !== id) return no(ProtocolErrorCode.TRANSACTION_ID_MISMATCH, '/result/transactionId: result is for another transaction');

    const block = exactObject(r['block'], ['header', 'signatures'], REC, '/block');
    const header = validateBlockHeader(block['header'], '/block/header');
    if (header.chainId !== envelope.transaction.chainId) return no(ProtocolErrorCode.CHAIN_MISMATCH, 'header and transaction name different chains');
    if (options.chainId !== undefined && header.chainId !== options.chainId) {
      return no(ProtocolErrorCode.CHAIN_MISMATCH, `receipt is for chain ${header.chainId}, expected ${options.chainId}`);
    }

    // The block's leaves are the last transactionCount leaves of the log at logSize.
    const leafIndex = expectInteger(r['leafIndex'], 0, REC, '/leafIndex');
    const firstLeaf = header.logSize - header.transactionCount;
    if (leafIndex < firstLeaf || leafIndex >= header.logSize) {
      return no(ProtocolErrorCode.LEAF_OUTSIDE_BLOCK, `leaf ${leafIndex} is not in this block's range [${firstLeaf}, ${header.logSize})`);
    }
    const position = leafIndex - firstLeaf;
    const leaf = envelopeLeafHash(envelope);
    const logProof = hashes(r['inclusionProof'], '/inclusionProof');
    if (!verifyInclusion({ leafHash: leaf, leafIndex, treeSize: header.logSize, proof: logProof, root: fromHex(header.logRoot) })) {
      return no(ProtocolErrorCode.BAD_INCLUSION_PROOF, 'envelope is not included in header.logRoot');
    }
    const resultInclusion = inclusion(r['resultInclusion'], '/resultInclusion');
    if (resultInclusion.index !== position) return no(ProtocolErrorCode.BAD_RESULT_PROOF, `/resultInclusion/index: must be ${position}`);
    const resultOk = verifyInclusion({
      leafHash: resultLeafHash(result),
      leafIndex: position,
      treeSize: header.transactionCount,
      proof: resultInclusion.proof,
      root: fromHex(header.resultsRoot),
    });
    if (!resultOk) return no(ProtocolErrorCode.BAD_RESULT_PROOF, 'result is not included in header.resultsRoot');
    if (r['dataInclusion'] !== undefined) {
      const data = inclusion(r['dataInclusion'], '/dataInclusion');
      if (data.index !== position) return no(ProtocolErrorCode.BAD_DATA_PROOF, `/dataInclusion/index: must be ${position}`);
      if (!verifyInclusion({ leafHash: leaf, leafIndex: position, treeSize: header.transactionCount, proof: data.proof, root: fromHex(header.dataRoot) })) {
        return no(ProtocolErrorCode.BAD_DATA_PROOF, 'envelope is not included in header.dataRoot');
      }
    }

    const members = validateMembers(r['members'], '/members');
    const policy = validatePolicy(r['policy'], members.length, '/policy');
    if (options.trustedMembers !== undefined && memberSet(validateMembers(options.trustedMembers)) !== memberSet(members)) {
      return no(ProtocolErrorCode.MEMBERS_MISMATCH, 'receipt members differ from the trusted members');
    }
    if (options.trustedPolicy !== undefined && canonicalize(validatePolicy(options.trustedPolicy, members.length)) !== canonicalize(policy)) {
      return no(ProtocolErrorCode.POLICY_MISMATCH, 'receipt policy differs from the trusted policy');
    }
    const signatures = expectArray(block['signatures'], REC, '/block/signatures', MAX_MEMBERS).map((s, i) =>
      validateHeaderSignature(s, `/block/signatures/${i}`),
    );
    const verifier = options.verifier ?? verify;
    const hash = headerHash(header);
    const certification = checkCertification(hash, signatures, policy, members, verifier);
    if (!certification.ok) return certification;

    const signature = fromBase64Url(envelope.signature.value);
    if (!verifier(algorithm, creatorKey, SignatureDomain.transaction, canonicalBytes(envelope.transaction), signature)) {
      return no(ProtocolErrorCode.BAD_ENVELOPE_SIGNATURE, 'envelope signature does not verify');
    }
    return {
      ok: true,
      transactionId: id,
      code: result.code,
      blockNumber: header.blockNumber,
      headerHash: toHex(hash),
      leafIndex,
      certifiedBy: certification.certifiedBy,
    };
  } catch (error) {
    if (error instanceof ProtocolError) return no(error.code, error.message);
    return no(REC, 'unreadable receipt');
  }
}
