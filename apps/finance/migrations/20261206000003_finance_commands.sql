-- Commands this finance service signed for its organization (docs/finance.md, Commands and receipts):
-- the signed envelope is stored before it is sent, so after a crash the same bytes are submitted
-- again (the ledger refuses the copy as a duplicate) and a command commits once. Not derived from
-- the chain: a read-model rebuild leaves this table alone.
CREATE TABLE finance.commands (
  command_id uuid PRIMARY KEY,
  -- The client's Idempotency-Key: the same key with the same request answers the same receipt.
  idempotency_key text UNIQUE,
  -- SHA-256 of the canonical JSON of { operation, params, body }.
  request_hash text NOT NULL,
  operation text NOT NULL,
  transaction_type text NOT NULL,
  -- The world-state key of the record the receipt carries.
  record_key text NOT NULL,
  requested_by text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'submitted', 'committed', 'invalid')),
  envelope bytea,
  transaction_id text NOT NULL UNIQUE,
  -- Ids of envelopes signed before this one whose timestamp left the ledger's window unordered.
  earlier_transaction_ids text[] NOT NULL DEFAULT '{}',
  block_number bigint,
  code text,
  detail text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX commands_open ON finance.commands (created_at) WHERE status IN ('pending', 'submitted');
CREATE INDEX commands_earlier ON finance.commands USING gin (earlier_transaction_ids);
