import { field } from '@alliance/shared/util-config';

/** Variables of the finance service beyond the platform's (see README, Configuration). */
export const financeConfigShape = {
  /** The chain whose finance records this service serves (the ledger node's CHAIN_ID). */
  CHAIN_ID: field.identifier('alliance-main'),
  /** This organization's ledger node: commands are submitted to it; gaps and rebuilds are read from it. */
  LEDGER_URL: field.optionalHttpUrl(),
  /** The ledger node whose `ledger.block.committed.v1` events the read model applies (default `<ORG_ID>-node`). */
  FINANCE_LEDGER_NODE_ID: field.optionalString(),
  /** How often the read model asks its ledger node for blocks the events have not brought yet. */
  FINANCE_POLL_INTERVAL_MS: field.positiveInt(1_000),
  /** A plain key file (`{ organizationId, algorithm, privateKey }`) of an agent of ORG_ID holding the finance permissions (or an admin key); unset: this service only reads. */
  FINANCE_SIGNING_KEY_FILE: field.optionalString(),
  /** Whether this service checks warehouse receipts against its provenance read model: the on-hand check before an issue, and holds from sensor alarms and stock levels (docs/finance.md, Holds from provenance); needs the signing key. */
  FINANCE_PROVENANCE_CHECKS: field.oneOf(['true', 'false'], 'true'),
  /**
   * The keys whose seals the hold watcher accepts on provenance.alert.raised.v1 and provenance.stock.changed.v1
   * (docs/finance.md, Holds from provenance): comma-separated `<algorithm>:<public key hex>` of ORG_ID's provenance
   * service (its PROVENANCE_SIGNING_KEY_FILE). Unset: the key of FINANCE_SIGNING_KEY_FILE (the demo's services sign
   * with their organization's one key).
   */
  FINANCE_SIGNAL_KEYS: field.optionalString(),
  /** How often the hold watcher compares signals and receipts besides after each signal. */
  FINANCE_HOLD_SWEEP_MS: field.positiveInt(2_000),
};
