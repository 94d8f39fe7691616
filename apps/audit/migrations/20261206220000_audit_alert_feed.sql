-- The alert feed (docs/audit.md, Alerts; apps/audit/src/alerts-watch.ts).
--
-- alert_blocks: the blocks of the regulator's observer node the alert watcher has read, one row per
-- block in order — its position (the highest block_number), kept append-only like every audit table:
-- a block is read once, and a second instance reading it too conflicts on the key and inserts nothing.
CREATE TABLE audit.alert_blocks (
  block_number bigint PRIMARY KEY CHECK (block_number >= 0),
  header_hash text NOT NULL CHECK (header_hash ~ '^[0-9a-f]{64}$'),
  alerts integer NOT NULL CHECK (alerts >= 0),
  read_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER alert_blocks_append_only BEFORE UPDATE OR DELETE ON audit.alert_blocks FOR EACH ROW EXECUTE FUNCTION audit.append_only();
CREATE TRIGGER alert_blocks_no_truncate BEFORE TRUNCATE ON audit.alert_blocks FOR EACH STATEMENT EXECUTE FUNCTION audit.append_only();
GRANT SELECT, INSERT ON audit.alert_blocks TO alliance_audit;

-- Every new alert is announced on channel `audit_alerts` (payload: its seq) when its transaction
-- commits, so each instance's GraphQL subscriptions deliver alerts raised by any instance at once.
CREATE FUNCTION audit.alerts_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('audit_alerts', NEW.seq::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER alerts_notify AFTER INSERT ON audit.alerts FOR EACH ROW EXECUTE FUNCTION audit.alerts_notify();

-- The filters of GET /audit/v1/alerts.
CREATE INDEX alerts_organization ON audit.alerts (organization_id, seq);
CREATE INDEX alerts_occurred ON audit.alerts (occurred_at, seq);
