import { field } from '@alliance/shared/util-config';

/** Variables of a ledger node beyond the platform's (see README, Configuration). */
export const ledgerConfigShape = {
  /** The chain this node keeps; every member of one consortium uses the same id. */
  CHAIN_ID: field.identifier('alliance-main'),
  /** This node's id, unique in the consortium (defaults to `<ORG_ID>-node`). */
  LEDGER_NODE_ID: field.optionalString(),
  /** `member` nodes certify blocks; an `observer` (the regulator's) only verifies. */
  LEDGER_ROLE: field.oneOf(['member', 'observer'] as const, 'member'),
  /** The genesis transaction envelope (JSON), identical on every node of the chain. */
  LEDGER_GENESIS_FILE: field.optionalString(),
  /** This organization's node key (JSON with hex `publicKey` and `privateKey`); required for members. */
  LEDGER_NODE_KEY_FILE: field.optionalString(),
  /** Where the solo ordering log lives when MESSAGING=postgres (default DATABASE_URL); every node of the chain must use the same one. */
  ORDERING_DATABASE_URL: field.optionalString(),
  /** Longest `?wait=commit` wait before answering 503 LEDGER.COMMIT_TIMEOUT. */
  LEDGER_COMMIT_WAIT_MS: field.positiveInt(30_000),
  /** Signature verification threads (0: on the event loop); default: cores − 1, at least 1, at most 4. Shared by the nodes of one process. */
  LEDGER_VERIFY_THREADS: field.optionalNonNegativeInt(),
  /** Most transactions in one batch submission. */
  LEDGER_BATCH_LIMIT: field.positiveInt(1_000),
  /**
   * Peers' ledger node URLs (comma-separated) a new or lagging node copies certified blocks from before it
   * follows the ordering log (docs/ledger.md, Bootstrapping); every block is re-executed and must match.
   */
  LEDGER_BOOTSTRAP_PEERS: field.optionalHttpUrlList(),
  /** Blocks per partition of blocks, transactions and header_signatures created from now on (docs/ledger.md, Partitioning). */
  LEDGER_PARTITION_BLOCKS: field.positiveInt(100_000),
  /** Most certified blocks a `ledgerBlockCertified(from:)` subscription replays before live ones. */
  LEDGER_SUBSCRIPTION_REPLAY_LIMIT: field.positiveInt(1_000),
};
