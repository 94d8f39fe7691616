import { field } from '@alliance/shared/util-config';

/** Variables of a ledger node beyond the platform's (see README, Configuration). */
export const ledgerConfigShape = {
  /** The chain this node keeps; every member of one consortium uses the same id. */
  CHAIN_ID: field.identifier('alliance-main'),
  /** This node's id, unique in the consortium (defaults to `<ORG_ID>-node`). */
  LEDGER_NODE_ID: field.optionalString(),
  /** `member` nodes certify blocks; an `observer` (the regulator's) only verifies. */
  LEDGER_ROLE: field.oneOf(['member', 'observer'] as const, 'member'),
};
