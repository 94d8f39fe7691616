import { canonicalBytes, parseCanonical } from '@alliance/protocol';

/**
 * What a member node appends to the ordering log after committing a block:
 * its signature over the header hash (domain `alliance/block-header/v1`) and
 * its note signature over the checkpoint at that block, so every node can
 * assemble certified headers and multi-signed checkpoints from the log alone.
 * Encoded as canonical JSON.
 */
export interface HeaderSignatureRecord {
  readonly chainId: string;
  readonly blockNumber: number;
  /** Hex of the 32-byte header hash the signer computed. */
  readonly headerHash: string;
  readonly organizationId: string;
  readonly keyId: string;
  readonly algorithm: 'ed25519';
  /** base64url of the Ed25519 signature over the header hash. */
  readonly signature: string;
  /** The signed-note signature line's base64 body (4-byte key hash ‖ signature) over the checkpoint at this block. */
  readonly checkpointSignature: string;
}

const FIELDS = ['algorithm', 'blockNumber', 'chainId', 'checkpointSignature', 'headerHash', 'keyId', 'organizationId', 'signature'];

export function encodeHeaderSignature(record: HeaderSignatureRecord): Uint8Array {
  return canonicalBytes({ ...record });
}

/** Strict decoding; throws on anything that is not exactly a HeaderSignatureRecord. */
export function decodeHeaderSignature(bytes: Uint8Array): HeaderSignatureRecord {
  const value = parseCanonical(bytes) as Record<string, unknown>;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('header signature record must be an object');
  const keys = Object.keys(value).sort();
  if (keys.join(',') !== FIELDS.join(',')) throw new Error(`header signature record fields must be exactly ${FIELDS.join(', ')}`);
  const r = value as unknown as HeaderSignatureRecord;
  if (!Number.isSafeInteger(r.blockNumber) || r.blockNumber < 0) throw new Error('blockNumber must be a non-negative integer');
  if (!/^[0-9a-f]{64}$/.test(r.headerHash)) throw new Error('headerHash must be 64 hex digits');
  if (r.algorithm !== 'ed25519') throw new Error('algorithm must be ed25519');
  for (const f of ['chainId', 'organizationId', 'keyId', 'signature', 'checkpointSignature'] as const) {
    if (typeof r[f] !== 'string' || r[f].length === 0 || r[f].length > 256) throw new Error(`${f} must be a non-empty string`);
  }
  return r;
}
