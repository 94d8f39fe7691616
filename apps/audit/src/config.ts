import { field } from '@alliance/shared/util-config';

/** Variables of the audit service beyond the platform's (see README, Configuration; docs/audit.md). */
export const auditConfigShape = {
  /** The chain the regulator audits (its observer node's CHAIN_ID). */
  CHAIN_ID: field.identifier('alliance-main'),
  /** The regulator's own ledger node (an observer): the chain as the regulator verified it. */
  AUDIT_LEDGER_URL: field.optionalHttpUrl(),
  /** The members' ledger nodes the observer compares with: `org1=http://…,org2=http://…`. */
  AUDIT_MEMBER_NODES: field.optionalString(),
  /** How often the observer watch compares every member node's signed checkpoint with the observer's (ms); 0 = off; unset: 10000. */
  AUDIT_WATCH_INTERVAL_MS: field.optionalNonNegativeInt(),
  /** How often every node's whole chain and world state is verified without being asked (ms), one node after the other; 0 = off. */
  AUDIT_CHAIN_RUN_INTERVAL_MS: field.optionalNonNegativeInt(),
  /** How long a member may be ahead of the observer (a block the observer lacks) or behind it before a `withheld-block` alert (ms). */
  AUDIT_WITHHELD_AFTER_MS: field.positiveInt(60_000),
  /** The regulator's own identity, provenance and finance services (read models following its observer node), read with the caller's token. */
  AUDIT_IDENTITY_URL: field.optionalHttpUrl(),
  AUDIT_PROVENANCE_URL: field.optionalHttpUrl(),
  AUDIT_FINANCE_URL: field.optionalHttpUrl(),
  /** The regulator's key file (`{ organizationId, algorithm, privateKey }`): signs the access log's head and evidence packages; unset: unsigned. */
  AUDIT_SIGNING_KEY_FILE: field.optionalString(),
};
