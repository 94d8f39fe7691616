-- Verification runs (docs/audit.md, Verification; apps/audit/src/verification-runs.ts): one row per
-- finished run of the SDK's chain verifier against a node, written once at its end. Append-only like the
-- access log: the trigger refuses UPDATE, DELETE and TRUNCATE to everyone, the owner included.
CREATE TABLE audit.verification_runs (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id uuid NOT NULL UNIQUE,
  -- 'observer' or the organization id of a member node (AUDIT_MEMBER_NODES), and the URL it had.
  node text NOT NULL,
  node_url text NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL CHECK (finished_at >= started_at),
  blocks_verified bigint NOT NULL CHECK (blocks_verified >= 0),
  -- passed: the chain verified; failed: a verdict naming what failed; incomplete: the run could not finish (node unreachable, stopped).
  outcome text NOT NULL CHECK (outcome IN ('passed', 'failed', 'incomplete')),
  -- The verdict line the run ended with (firstFailure, target, head, checkpoint, trust, notes ...).
  verdict jsonb NOT NULL
);
CREATE INDEX verification_runs_node ON audit.verification_runs (node, seq);
CREATE TRIGGER verification_runs_append_only BEFORE UPDATE OR DELETE ON audit.verification_runs FOR EACH ROW EXECUTE FUNCTION audit.append_only();
CREATE TRIGGER verification_runs_no_truncate BEFORE TRUNCATE ON audit.verification_runs FOR EACH STATEMENT EXECUTE FUNCTION audit.append_only();
GRANT SELECT, INSERT ON audit.verification_runs TO alliance_audit;
