-- The embedded ("solo") transport: a durable, append-only log per topic in PostgreSQL,
-- standing in for Kafka when the stack runs without it (ARCHITECTURE §4).
-- Applied by PostgresTransport itself to schema alliance_bus.

-- One row per topic; next_offset is the offset the next appended record gets.
-- Publishers update it first, so its row lock orders appends per topic: offsets
-- are gap-free and become visible in order.
CREATE TABLE topics (
  topic       text PRIMARY KEY,
  next_offset bigint NOT NULL DEFAULT 0 CHECK (next_offset >= 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE log (
  topic       text NOT NULL REFERENCES topics (topic),
  "offset"    bigint NOT NULL CHECK ("offset" >= 0),
  key         text,
  envelope    jsonb NOT NULL,
  -- Set at append time under the topic lock (clock_timestamp), so it never goes
  -- backwards within a topic; readers use it like Kafka's LogAppendTime.
  appended_at timestamptz NOT NULL,
  PRIMARY KEY (topic, "offset")
);

-- History is never rewritten: consumers and the solo block cutter rely on it.
CREATE FUNCTION log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'alliance_bus.log is append-only (% refused)', TG_OP USING ERRCODE = '55000';
END
$$;

CREATE TRIGGER log_append_only_rows BEFORE UPDATE OR DELETE ON log FOR EACH ROW EXECUTE FUNCTION log_is_append_only();
CREATE TRIGGER log_append_only_truncate BEFORE TRUNCATE ON log FOR EACH STATEMENT EXECUTE FUNCTION log_is_append_only();

-- A consumer group's position per topic: the offset of the next record to deliver
-- (Kafka's convention), moved forward only after the group handled a record.
CREATE TABLE consumer_offsets (
  group_id    text NOT NULL,
  topic       text NOT NULL REFERENCES topics (topic),
  next_offset bigint NOT NULL CHECK (next_offset >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic)
);
