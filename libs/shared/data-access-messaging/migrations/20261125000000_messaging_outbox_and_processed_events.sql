-- Messaging tables every service with events has in its own schema (ARCHITECTURE §5).
-- Names are unqualified: runMigrations sets search_path to the service's schema.

-- Transactional outbox: a row is written in the same transaction as the change it
-- announces; the relay publishes unpublished rows in id order and stamps published_at.
CREATE TABLE outbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id     uuid NOT NULL UNIQUE,
  topic        text NOT NULL,
  key          text NOT NULL,
  envelope     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  -- Failed relay attempts and the last reason, for operators; the row stays pending.
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text
);

-- The relay only ever scans the unpublished head, whatever the table's size.
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- Wakes the relay on commit instead of waiting for its next poll; the payload names
-- the schema because several services may share one database and one channel.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('alliance_outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Idempotent consumers: one row per (consumer group, event) that was handled or
-- dead-lettered, written in the handler's transaction, so a redelivered event is skipped.
-- event_id is text: a record that is not even JSON is keyed by its position instead.
CREATE TABLE processed_events (
  group_id         text NOT NULL,
  event_id         text NOT NULL,
  topic            text NOT NULL,
  source_partition integer NOT NULL,
  source_offset    bigint NOT NULL,
  outcome          text NOT NULL CHECK (outcome IN ('processed', 'dead-lettered')),
  processed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, event_id)
);
