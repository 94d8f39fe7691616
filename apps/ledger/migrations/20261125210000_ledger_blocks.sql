-- One member's copy of the chain. Every row here is covered by a hash that
-- `alliance verify chain` recomputes: headers by the header hash and the
-- previous-hash chain, transactions by the data and log roots, results and
-- state writes by the results root. Bytes that are hashed are stored exactly
-- as hashed (canonical JSON), never re-serialised from jsonb.

CREATE TABLE blocks (
  block_number      bigint PRIMARY KEY CHECK (block_number >= 0),
  header_hash       bytea  NOT NULL UNIQUE CHECK (length(header_hash) = 32),
  header            bytea  NOT NULL,              -- canonical JSON of the header
  previous_hash     bytea  NOT NULL CHECK (length(previous_hash) = 32),
  transaction_count integer NOT NULL CHECK (transaction_count >= 0),
  log_size          bigint NOT NULL,
  first_offset      bigint,
  last_offset       bigint,
  block_time        timestamptz NOT NULL,
  config_sequence   bigint NOT NULL,
  committed_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE transactions (
  leaf_index     bigint PRIMARY KEY CHECK (leaf_index >= 0),  -- position in the chain's global log
  transaction_id text   NOT NULL,
  block_number   bigint NOT NULL REFERENCES blocks (block_number),
  position       integer NOT NULL,                             -- index inside its block
  envelope       bytea  NOT NULL,                              -- the ordered record, exactly
  leaf_hash      bytea  NOT NULL CHECK (length(leaf_hash) = 32),
  type           text,
  organization_id text,
  code           text   NOT NULL,                              -- VALID or MODULE.REASON
  detail         text,
  result         bytea  NOT NULL,                              -- canonical JSON of the result entry
  UNIQUE (block_number, position)
);
-- A transaction id is committed at most once as VALID; later copies are recorded as duplicates.
CREATE UNIQUE INDEX transactions_valid_once ON transactions (transaction_id) WHERE code = 'VALID';
CREATE INDEX transactions_by_id ON transactions (transaction_id);

-- World state: the latest version of every key; deleted keys keep a null value.
CREATE TABLE state (
  key            text PRIMARY KEY,
  value          bytea,                 -- canonical JSON, NULL when deleted
  version        bigint NOT NULL CHECK (version >= 1),
  block_number   bigint NOT NULL REFERENCES blocks (block_number),
  transaction_id text   NOT NULL
);

-- Every organization's signature over every header hash (its own and its peers').
CREATE TABLE header_signatures (
  block_number    bigint NOT NULL,
  organization_id text   NOT NULL,
  key_id          text   NOT NULL,
  algorithm       text   NOT NULL,
  header_hash     bytea  NOT NULL CHECK (length(header_hash) = 32),
  signature       bytea  NOT NULL,
  checkpoint_signature text NOT NULL,           -- signed-note signature body over the checkpoint at this block
  received_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (block_number, organization_id)
);

-- Where this node stands in the ordering log; written in the same transaction as each block.
CREATE TABLE node_position (
  chain_id        text PRIMARY KEY,
  last_offset     bigint NOT NULL,
  head_block      bigint NOT NULL,
  halted          boolean NOT NULL DEFAULT false,
  halt_reason     text,
  updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
