-- The finance read model's mirror of the chain (ChainStateMirror, libs/shared/data-access-messaging):
-- the current value of every `finance/` world-state key and every version it had, written in the
-- transaction applying each block. Derived data only: a rebuild empties and refills it.
CREATE TABLE finance.chain_state (
  key text PRIMARY KEY,
  value jsonb,
  version integer NOT NULL CHECK (version > 0),
  block_number bigint NOT NULL,
  transaction_id text NOT NULL
);
CREATE TABLE finance.chain_state_history (
  key text NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  value jsonb,
  block_number bigint NOT NULL,
  transaction_id text NOT NULL,
  PRIMARY KEY (key, version)
);
