-- The regulator's alerts (docs/audit.md, Alerts; apps/audit/src/alerts-store.ts): one row per fact,
-- append-only like the access log.
CREATE TABLE audit.alerts (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id text NOT NULL UNIQUE,
  kind text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  subject text NOT NULL,
  organization_id text,
  block_number bigint,
  transaction_id text,
  summary text NOT NULL,
  detail jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  raised_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_kind ON audit.alerts (kind, seq);
CREATE INDEX alerts_subject ON audit.alerts (subject, seq);
CREATE TRIGGER alerts_append_only BEFORE UPDATE OR DELETE ON audit.alerts FOR EACH ROW EXECUTE FUNCTION audit.append_only();
CREATE TRIGGER alerts_no_truncate BEFORE TRUNCATE ON audit.alerts FOR EACH STATEMENT EXECUTE FUNCTION audit.append_only();
GRANT SELECT, INSERT ON audit.alerts TO alliance_audit;
