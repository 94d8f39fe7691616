-- The tables that grow with the chain — blocks, transactions and
-- header_signatures — become declaratively RANGE-partitioned on block_number
-- (docs/ledger.md, Partitioning). Every column keeps its type and every hashed
-- byte is copied as it is: nothing here re-serialises anything.
--
-- A unique index of a partitioned table must contain the partition key, so the
-- partial unique index transactions_valid_once (one VALID copy per transaction
-- id) cannot stay. The guarantee moves to valid_transactions, a table that is
-- not partitioned, whose primary key is the transaction id alone: the node
-- writes it in the transaction of the block, so a second VALID copy of an id
-- makes the whole block fail to commit, whichever partitions the two copies are in.
--
-- Partitions are created by ensure_block_partitions below: here for the rows a
-- database already holds (100,000 blocks each, the default of
-- LEDGER_PARTITION_BLOCKS), afterwards by the node, in the transaction of the
-- block that gets within one partition of the last one's end.

-- Covers block numbers up to `through` (inclusive) with partitions of `size`
-- blocks, appended after the highest existing one (from 0 when there is none),
-- for the three tables at once. Returns how many ranges it created and the
-- exclusive upper bound then covered. A new partition is built outside the
-- tree and attached (ATTACH PARTITION locks the parent SHARE UPDATE EXCLUSIVE,
-- so readers of the chain and the API are never blocked by it).
CREATE FUNCTION ensure_block_partitions(through bigint, size bigint, OUT created integer, OUT covered_to bigint)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  parent text;
  part text;
BEGIN
  IF size IS NULL OR size < 1 THEN
    RAISE EXCEPTION 'partition size must be a positive number of blocks (got %)', size;
  END IF;
  -- One creator at a time per schema (the node is its only caller; operators may call it too).
  PERFORM pg_advisory_xact_lock(hashtext('alliance.ledger.partitions.' || current_schema()));
  SELECT coalesce(max(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''?(-?\d+)''?\)')::bigint), 0)
    INTO covered_to
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'blocks'::regclass;
  created := 0;
  WHILE covered_to <= through LOOP
    FOREACH parent IN ARRAY ARRAY['blocks', 'transactions', 'header_signatures'] LOOP
      part := parent || '_' || lpad(covered_to::text, 12, '0');
      -- Empty, so ATTACH proves the range without reading anything; it adds the parent's indexes and foreign keys.
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', part, parent);
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', parent, part, covered_to, covered_to + size);
    END LOOP;
    -- Each range's transactions reference the same range's blocks: a foreign key to a plain table, checked
    -- as cheaply as before partitioning (one to the partitioned parent costs a planned query per row).
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (block_number) REFERENCES %I (block_number)',
      'transactions_' || lpad(covered_to::text, 12, '0'), 'transactions_' || lpad(covered_to::text, 12, '0') || '_block_fkey', 'blocks_' || lpad(covered_to::text, 12, '0'));
    covered_to := covered_to + size;
    created := created + 1;
  END LOOP;
END
$$;
COMMENT ON FUNCTION ensure_block_partitions(bigint, bigint) IS
  'Creates the partitions of blocks, transactions and header_signatures that block numbers up to $1 need, $2 blocks each, after the last existing one (docs/ledger.md, Partitioning)';

-- 1. The unpartitioned tables step aside (their index-backed constraints are
--    relations of the schema, so they are renamed with them).
ALTER TABLE state DROP CONSTRAINT state_block_number_fkey;
ALTER TABLE transactions RENAME TO transactions_v1;
ALTER TABLE transactions_v1 RENAME CONSTRAINT transactions_pkey TO transactions_v1_pkey;
ALTER TABLE transactions_v1 RENAME CONSTRAINT transactions_block_number_position_key TO transactions_v1_block_number_position_key;
ALTER INDEX transactions_valid_once RENAME TO transactions_v1_valid_once;
ALTER INDEX transactions_by_id RENAME TO transactions_v1_by_id;
ALTER TABLE blocks RENAME TO blocks_v1;
ALTER TABLE blocks_v1 RENAME CONSTRAINT blocks_pkey TO blocks_v1_pkey;
ALTER TABLE blocks_v1 RENAME CONSTRAINT blocks_header_hash_key TO blocks_v1_header_hash_key;
ALTER TABLE header_signatures RENAME TO header_signatures_v1;
ALTER TABLE header_signatures_v1 RENAME CONSTRAINT header_signatures_pkey TO header_signatures_v1_pkey;

-- 2. The partitioned tables, column for column as before.
--    blocks.header_hash is no longer UNIQUE (a unique index would have to
--    include block_number): nothing looks blocks up by hash, and every hash
--    is chained into the next header, which verify chain recomputes.
CREATE TABLE blocks (
  block_number      bigint NOT NULL CONSTRAINT blocks_block_number_check CHECK (block_number >= 0),
  header_hash       bytea  NOT NULL CONSTRAINT blocks_header_hash_check CHECK (length(header_hash) = 32),
  header            bytea  NOT NULL,              -- canonical JSON of the header
  previous_hash     bytea  NOT NULL CONSTRAINT blocks_previous_hash_check CHECK (length(previous_hash) = 32),
  transaction_count integer NOT NULL CONSTRAINT blocks_transaction_count_check CHECK (transaction_count >= 0),
  log_size          bigint NOT NULL,
  first_offset      bigint,
  last_offset       bigint,
  block_time        timestamptz NOT NULL,
  config_sequence   bigint NOT NULL,
  committed_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT blocks_pkey PRIMARY KEY (block_number)
) PARTITION BY RANGE (block_number);

CREATE TABLE transactions (
  leaf_index     bigint NOT NULL CONSTRAINT transactions_leaf_index_check CHECK (leaf_index >= 0),    -- position in the chain's global log
  transaction_id text   NOT NULL,
  block_number   bigint NOT NULL,                              -- each partition references its blocks partition
  position       integer NOT NULL,                             -- index inside its block
  envelope       bytea  NOT NULL,                              -- the ordered record, exactly
  leaf_hash      bytea  NOT NULL CONSTRAINT transactions_leaf_hash_check CHECK (length(leaf_hash) = 32),
  type           text,
  organization_id text,
  code           text   NOT NULL,                              -- VALID or MODULE.REASON
  detail         text,
  result         bytea  NOT NULL,                              -- canonical JSON of the result entry
  CONSTRAINT transactions_pkey PRIMARY KEY (leaf_index, block_number),
  CONSTRAINT transactions_block_number_position_key UNIQUE (block_number, position)
) PARTITION BY RANGE (block_number);
-- Every copy of an id, duplicates included (one index per partition).
CREATE INDEX transactions_by_id ON transactions (transaction_id);

CREATE TABLE header_signatures (
  block_number    bigint NOT NULL,
  organization_id text   NOT NULL,
  key_id          text   NOT NULL,
  algorithm       text   NOT NULL,
  header_hash     bytea  NOT NULL CONSTRAINT header_signatures_header_hash_check CHECK (length(header_hash) = 32),
  signature       bytea  NOT NULL,
  checkpoint_signature text NOT NULL,           -- signed-note signature body over the checkpoint at this block
  received_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT header_signatures_pkey PRIMARY KEY (block_number, organization_id)
) PARTITION BY RANGE (block_number);

-- A transaction id is committed at most once as VALID, across all partitions
-- (later copies are recorded in transactions as duplicates, never here).
CREATE TABLE valid_transactions (
  transaction_id text   PRIMARY KEY,
  block_number   bigint NOT NULL,
  leaf_index     bigint NOT NULL
);
COMMENT ON TABLE valid_transactions IS 'One row per transaction id committed VALID, written with its block: the primary key keeps an id VALID at most once across every partition of transactions';

-- 3. Partitions for the rows there are, then the rows, byte for byte.
SELECT ensure_block_partitions(greatest((SELECT max(block_number) FROM blocks_v1), (SELECT max(block_number) FROM header_signatures_v1), -1), 100000);

INSERT INTO blocks (block_number, header_hash, header, previous_hash, transaction_count, log_size, first_offset, last_offset, block_time, config_sequence, committed_at)
SELECT block_number, header_hash, header, previous_hash, transaction_count, log_size, first_offset, last_offset, block_time, config_sequence, committed_at FROM blocks_v1;

INSERT INTO transactions (leaf_index, transaction_id, block_number, position, envelope, leaf_hash, type, organization_id, code, detail, result)
SELECT leaf_index, transaction_id, block_number, position, envelope, leaf_hash, type, organization_id, code, detail, result FROM transactions_v1;

INSERT INTO valid_transactions (transaction_id, block_number, leaf_index)
SELECT transaction_id, block_number, leaf_index FROM transactions_v1 WHERE code = 'VALID';

INSERT INTO header_signatures (block_number, organization_id, key_id, algorithm, header_hash, signature, checkpoint_signature, received_at)
SELECT block_number, organization_id, key_id, algorithm, header_hash, signature, checkpoint_signature, received_at FROM header_signatures_v1;

-- 4. The old tables go. The world state (one row per key, not growing with
--    blocks) stays as it is, without its foreign key to blocks, and
--    valid_transactions has none to transactions: a foreign key to a
--    partitioned table runs a planned query per row written, which measured
--    more than doubled the cost of writing a block (docs/benchmarks.md). Both
--    are written only by the block's own statements from the rows of that
--    block, and verify chain checks every state row's block number against
--    the writes it replays.
DROP TABLE transactions_v1;
DROP TABLE header_signatures_v1;
DROP TABLE blocks_v1;
