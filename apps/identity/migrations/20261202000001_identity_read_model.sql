-- The identity read model: a mirror of the identity world-state keys (config/chain and identity/*)
-- written by valid transactions of this organization's own ledger node, with every version kept.
-- Derived data only: `POST /identity/v1/read-model/rebuild` (or truncating these tables) rebuilds it from the ledger.

CREATE TABLE identity.projection (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  chain_id text,
  node_id text,
  -- The last block whose identity writes are applied; -1 before the genesis.
  last_block bigint NOT NULL DEFAULT -1,
  last_header_hash text,
  -- Identity events are published for blocks after this one only: a rebuild re-applies blocks without announcing them again.
  published_through bigint NOT NULL DEFAULT -1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO identity.projection DEFAULT VALUES;

-- The current value of each identity key (value null: deleted).
CREATE TABLE identity.state (
  key text PRIMARY KEY,
  value jsonb,
  version integer NOT NULL CHECK (version > 0),
  block_number bigint NOT NULL,
  transaction_id text NOT NULL
);

-- Every version of every identity key: the history and the state at any block.
CREATE TABLE identity.state_history (
  key text NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  value jsonb,
  block_number bigint NOT NULL,
  transaction_id text NOT NULL,
  transaction_type text,
  organization_id text,
  PRIMARY KEY (key, version)
);
CREATE INDEX state_history_block ON identity.state_history (block_number);
