-- The solo ordering log (ARCHITECTURE §4, embedded mode): one totally ordered,
-- append-only log per chain, standing in for the chain's Kafka topic. Applied
-- by PostgresOrderingLog itself to schema ledger_ordering on first use.

-- One row per chain. Appends update it first, so its row lock serializes the
-- appends of a chain until they commit: offsets are gap-free and become visible
-- in offset order. last_appended_at keeps the log's clock from going backwards.
CREATE TABLE chains (
  chain_id         text PRIMARY KEY,
  next_offset      bigint NOT NULL DEFAULT 0 CHECK (next_offset >= 0),
  last_appended_at timestamptz NOT NULL DEFAULT '-infinity',
  created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE log (
  chain_id    text NOT NULL REFERENCES chains (chain_id),
  "offset"    bigint NOT NULL CHECK ("offset" >= 0),
  kind        text NOT NULL CHECK (kind IN ('transaction', 'time-to-cut', 'header-signature')),
  bytes       bytea NOT NULL,
  -- The log's clock, like Kafka's LogAppendTime: clock_timestamp() under the chain's
  -- lock, truncated to milliseconds (what readers see), one value per append.
  appended_at timestamptz NOT NULL,
  PRIMARY KEY (chain_id, "offset")
);

-- History is never rewritten: every member's blocks are cut from it.
CREATE FUNCTION log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_ordering.log is append-only (% refused)', TG_OP USING ERRCODE = '55000';
END
$$;

CREATE TRIGGER log_append_only_rows BEFORE UPDATE OR DELETE ON log FOR EACH ROW EXECUTE FUNCTION log_is_append_only();
CREATE TRIGGER log_append_only_truncate BEFORE TRUNCATE ON log FOR EACH STATEMENT EXECUTE FUNCTION log_is_append_only();
