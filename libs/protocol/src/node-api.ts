/**
 * The rows a ledger node serves for whole-chain verification, as JSON
 * (docs/protocol.md §14.1): the columns it stores beside the hashed bytes,
 * which a verifier checks against those bytes (§14.2), and the world state it
 * compares with the replayed writes (§14.3). Served by the ledger API,
 * consumed by the SDK's chain verifier.
 */

/** One `header_signatures` row's columns beside the signature, in the order of the block's `signatures`. */
export interface StoredSignatureColumns {
  readonly organizationId: string;
  readonly algorithm: string;
  /** Hex of the stored header hash the row was saved for. */
  readonly headerHash: string;
  /** The signed-note signature body over the block's checkpoint: base64 of key hash ‖ signature. */
  readonly checkpointSignature: string;
}

/** `stored` of a block view: the `blocks` row's columns no hash covers, as stored. */
export interface StoredBlockColumns {
  /** base64 of the stored header bytes. */
  readonly header: string;
  readonly previousHash: string;
  readonly transactionCount: number;
  readonly logSize: number;
  readonly firstOffset: number | null;
  readonly lastOffset: number | null;
  /** UTC with exactly six fraction digits: `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
  readonly blockTime: string;
  readonly configSequence: number;
  readonly signatures: readonly StoredSignatureColumns[];
}

/** One row of GET /ledger/v1/blocks/{n}/transactions. */
export interface StoredTransactionRow {
  readonly leafIndex: number;
  readonly position: number;
  readonly transactionId: string;
  readonly code: string;
  /** Why the transaction is invalid; null when VALID. Not committed: only its presence is checked. */
  readonly detail: string | null;
  /** The envelope's type and creator organization, or null when the record does not decode. */
  readonly type: string | null;
  readonly organizationId: string | null;
  /** Hex of the stored leaf hash. */
  readonly leafHash: string;
  /** base64 of the stored record bytes (the log leaf data). */
  readonly envelope: string;
  /** base64 of the stored result entry bytes (the results-tree leaf data). */
  readonly result: string;
}

/** One row of GET /ledger/v1/state. */
export interface StateRow {
  readonly key: string;
  /** base64 of the stored canonical JSON of the value; null when the key is deleted. */
  readonly value: string | null;
  readonly version: number;
  /** The block and transaction of the key's last write. */
  readonly blockNumber: number;
  readonly transactionId: string;
}
