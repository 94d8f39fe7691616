import { field } from '@alliance/shared/util-config';

/** Variables of the identity service beyond the platform's (see README, Configuration). */
export const identityConfigShape = {
  /** The chain whose identity state this service mirrors (the ledger node's CHAIN_ID). */
  CHAIN_ID: field.identifier('alliance-main'),
  /** This organization's ledger node: gaps and rebuilds of the read model are read from its REST API. */
  LEDGER_URL: field.optionalHttpUrl(),
  /** The ledger node whose `ledger.block.committed.v1` events the read model applies (default `<ORG_ID>-node`). */
  IDENTITY_LEDGER_NODE_ID: field.optionalString(),
  /** How often the read model asks its ledger node for blocks the events have not brought yet. */
  IDENTITY_POLL_INTERVAL_MS: field.positiveInt(5_000),
  /** How long a sign-in challenge may be signed in with. */
  IDENTITY_CHALLENGE_TTL_SECONDS: field.positiveInt(60),
  /** Lifetime of an access token; at most 60 so a revoked key's tokens stop working within a minute. */
  IDENTITY_ACCESS_TOKEN_TTL_SECONDS: field.positiveInt(60),
  /** Lifetime of a refresh token (a session without activity ends after it). */
  IDENTITY_REFRESH_TOKEN_TTL_SECONDS: field.positiveInt(28_800),
  /** A file holding the 256-bit master key (64 hex digits) that unlocks managed keys; unset: managed signing is off. */
  IDENTITY_MANAGED_SIGNING_KEY_FILE: field.optionalString(),
};
