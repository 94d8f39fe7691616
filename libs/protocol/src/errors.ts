/**
 * Stable error codes of the protocol library. The protocol may depend on no
 * other library (it is `type:protocol`, and shared by browsers and other
 * languages' verifiers), so it has its own error class; services map
 * `ProtocolError.code` onto their transport exactly like `AllianceError.code`.
 */
export const ProtocolErrorCode = {
  /** Bytes are not UTF-8, or text is not JSON. */
  MALFORMED_JSON: 'PROTOCOL.MALFORMED_JSON',
  /** Valid JSON, but not byte-identical to its RFC 8785 canonical form. */
  NON_CANONICAL: 'PROTOCOL.NON_CANONICAL',
  /** A value JSON cannot carry (undefined, function, Date, lone surrogate, NaN …). */
  UNSUPPORTED_VALUE: 'PROTOCOL.UNSUPPORTED_VALUE',
  /** A number that is not an integer in the safe range (|n| ≤ 2^53 − 1). */
  NUMBER_NOT_ALLOWED: 'PROTOCOL.NUMBER_NOT_ALLOWED',
  /** Arrays/objects nested deeper than MAX_JSON_DEPTH. */
  TOO_DEEP: 'PROTOCOL.TOO_DEEP',
  /** Input longer than the protocol allows. */
  TOO_LARGE: 'PROTOCOL.TOO_LARGE',
  /** Hex or base64 text that is not the one canonical encoding of its bytes. */
  BAD_ENCODING: 'PROTOCOL.BAD_ENCODING',
  UNSUPPORTED_ALGORITHM: 'PROTOCOL.UNSUPPORTED_ALGORITHM',
  UNSUPPORTED_DOMAIN: 'PROTOCOL.UNSUPPORTED_DOMAIN',
  /** A private or public key that is not valid for its algorithm. */
  BAD_KEY: 'PROTOCOL.BAD_KEY',
  MALFORMED_TRANSACTION: 'PROTOCOL.MALFORMED_TRANSACTION',
  MALFORMED_ENVELOPE: 'PROTOCOL.MALFORMED_ENVELOPE',
  BAD_TIMESTAMP: 'PROTOCOL.BAD_TIMESTAMP',
  BAD_NONCE: 'PROTOCOL.BAD_NONCE',
  /** signature.keyId differs from transaction.creator.keyId, or a key does not hash to the key id. */
  KEY_ID_MISMATCH: 'PROTOCOL.KEY_ID_MISMATCH',
  MALFORMED_HEADER: 'PROTOCOL.MALFORMED_HEADER',
  MALFORMED_RESULT: 'PROTOCOL.MALFORMED_RESULT',
  MALFORMED_SIGNATURE: 'PROTOCOL.MALFORMED_SIGNATURE',
  MALFORMED_MEMBERS: 'PROTOCOL.MALFORMED_MEMBERS',
  MALFORMED_POLICY: 'PROTOCOL.MALFORMED_POLICY',
  MALFORMED_NOTE: 'PROTOCOL.MALFORMED_NOTE',
  MALFORMED_CHECKPOINT: 'PROTOCOL.MALFORMED_CHECKPOINT',
  /** A device telemetry reading or its signature object breaks the format (docs/protocol.md §3.5). */
  MALFORMED_TELEMETRY: 'PROTOCOL.MALFORMED_TELEMETRY',
  /** A signature from a trusted key did not verify (the whole note is rejected). */
  BAD_NOTE_SIGNATURE: 'PROTOCOL.BAD_NOTE_SIGNATURE',
  /** No signature from a trusted key verified. */
  UNVERIFIED_NOTE: 'PROTOCOL.UNVERIFIED_NOTE',
  ORIGIN_MISMATCH: 'PROTOCOL.ORIGIN_MISMATCH',
  NOT_CERTIFIED: 'PROTOCOL.NOT_CERTIFIED',
  MALFORMED_RECEIPT: 'PROTOCOL.MALFORMED_RECEIPT',
  TRANSACTION_ID_MISMATCH: 'PROTOCOL.TRANSACTION_ID_MISMATCH',
  BAD_ENVELOPE_SIGNATURE: 'PROTOCOL.BAD_ENVELOPE_SIGNATURE',
  CHAIN_MISMATCH: 'PROTOCOL.CHAIN_MISMATCH',
  LEAF_OUTSIDE_BLOCK: 'PROTOCOL.LEAF_OUTSIDE_BLOCK',
  BAD_INCLUSION_PROOF: 'PROTOCOL.BAD_INCLUSION_PROOF',
  BAD_RESULT_PROOF: 'PROTOCOL.BAD_RESULT_PROOF',
  BAD_DATA_PROOF: 'PROTOCOL.BAD_DATA_PROOF',
  BAD_HEADER_SIGNATURE: 'PROTOCOL.BAD_HEADER_SIGNATURE',
  MEMBERS_MISMATCH: 'PROTOCOL.MEMBERS_MISMATCH',
  POLICY_MISMATCH: 'PROTOCOL.POLICY_MISMATCH',
  /** Block contents disagree with the header (count, roots, result ids). */
  BLOCK_CONTENT_MISMATCH: 'PROTOCOL.BLOCK_CONTENT_MISMATCH',
  /** A header does not extend the previous one (number, hash, log size, offsets). */
  BAD_CHAIN_LINK: 'PROTOCOL.BAD_CHAIN_LINK',
} as const;

export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  /**
   * @param code stable `PROTOCOL.X` code, the contract with callers
   * @param message human-readable detail; may change between versions
   * @param field JSON-pointer-like path of the offending field, when there is one
   */
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(field === undefined ? message : `${field}: ${message}`);
  }
}

export function isProtocolError(error: unknown): error is ProtocolError {
  return error instanceof ProtocolError;
}

/** Throws the error; an expression, so validators read as one line per rule. */
export function fail(code: ProtocolErrorCode, message: string, field?: string): never {
  throw new ProtocolError(code, message, field);
}
