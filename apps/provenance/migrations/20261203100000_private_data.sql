-- Private data of EPCIS events (docs/provenance.md, Private data): what this
-- organization's store holds beside the chain. A row is the payload and salt
-- of one commitment an anchored event states: written with the capture job of
-- the event this service captured, emptied (payload and salt NULL) when a
-- committed `provenance.private.purge` names its commitment. It is not part of
-- the read model: a rebuild from the ledger keeps it (the chain has no copy).
CREATE TABLE provenance.private_payloads (
  commitment text PRIMARY KEY CHECK (commitment ~ '^[0-9a-f]{64}$'),
  event_id text NOT NULL,
  capture_id text NOT NULL,
  organization_id text NOT NULL,
  readers text[] NOT NULL,
  fields text[] NOT NULL,
  payload text,
  salt text CHECK (salt ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  purged_at timestamptz,
  purge_transaction_id text,
  purge_block_number bigint,
  CHECK ((payload IS NULL) = (salt IS NULL)),
  CHECK (purged_at IS NULL OR payload IS NULL)
);
CREATE INDEX private_payloads_event ON provenance.private_payloads (event_id);
CREATE INDEX private_payloads_capture ON provenance.private_payloads (capture_id);
