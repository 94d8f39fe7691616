-- Managed signing (docs/identity.md): agent keys the identity service holds for ERP systems that cannot sign,
-- encrypted at rest (AES-256-GCM under the master key of IDENTITY_MANAGED_SIGNING_KEY_FILE, AAD = owner and key id).
CREATE TABLE identity.managed_keys (
  key_id text PRIMARY KEY,
  organization_id text NOT NULL,
  agent_id text NOT NULL,
  algorithm text NOT NULL,
  public_key text NOT NULL,
  iv bytea NOT NULL,
  ciphertext bytea NOT NULL,
  tag bytea NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Every signature made with a managed key and who asked for it; append-only.
CREATE TABLE identity.managed_signatures (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key_id text NOT NULL REFERENCES identity.managed_keys (key_id),
  organization_id text NOT NULL,
  agent_id text NOT NULL,
  transaction_id text NOT NULL,
  transaction_type text NOT NULL,
  requested_by text NOT NULL,
  requested_by_key text NOT NULL,
  signed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX managed_signatures_org ON identity.managed_signatures (organization_id, id);

CREATE FUNCTION identity.managed_signatures_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'identity.managed_signatures is append-only';
END;
$$;
CREATE TRIGGER managed_signatures_append_only BEFORE UPDATE OR DELETE ON identity.managed_signatures
  FOR EACH ROW EXECUTE FUNCTION identity.managed_signatures_append_only();
