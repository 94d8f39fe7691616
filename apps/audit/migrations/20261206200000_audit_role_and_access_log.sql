-- The audit service's queries run as `alliance_audit` (docs/audit.md, Read-only by construction):
-- it may SELECT, and INSERT into the audit schema's append-only tables, and nothing else — no
-- UPDATE, DELETE or TRUNCATE anywhere, no privilege at all on another service's schema. The
-- service's login user (DATABASE_URL, which owns the schema and runs these migrations) takes the
-- role for every query connection (SET ROLE), so it must be a member of it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'alliance_audit') THEN
    CREATE ROLE alliance_audit NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
END
$$;
GRANT alliance_audit TO CURRENT_USER;
GRANT USAGE ON SCHEMA audit TO alliance_audit;

-- Every audit query, hash-chained (libs/protocol/src/audit-log.ts): entry_hash covers the entry and
-- the previous entry's hash. Append-only: the trigger below refuses UPDATE and DELETE to everyone,
-- the owner included, and the role has neither privilege.
CREATE TABLE audit.access_log (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  at timestamptz NOT NULL,
  organization_id text NOT NULL,
  actor text NOT NULL,
  transport text NOT NULL CHECK (transport IN ('rest', 'graphql')),
  operation text NOT NULL,
  -- Canonical JSON text, hashed as is.
  parameters text NOT NULL,
  record_count integer NOT NULL CHECK (record_count >= 0),
  outcome text NOT NULL,
  previous_hash text NOT NULL,
  entry_hash text NOT NULL UNIQUE
);

CREATE FUNCTION audit.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit.%: append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON audit.access_log FOR EACH ROW EXECUTE FUNCTION audit.append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON audit.access_log FOR EACH STATEMENT EXECUTE FUNCTION audit.append_only();

GRANT SELECT, INSERT ON audit.access_log TO alliance_audit;
