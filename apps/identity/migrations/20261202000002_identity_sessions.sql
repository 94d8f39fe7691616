-- Sign-in (docs/identity.md, Sign-in): challenges, refresh tokens and the keys that sign access tokens.

-- The Ed25519 keys this service signs access tokens with (JWK); published without `d` at /.well-known/jwks.json.
-- A private key here is a secret at rest: only the identity service's role reads this schema.
CREATE TABLE identity.token_keys (
  kid text PRIMARY KEY,
  private_jwk jsonb NOT NULL,
  public_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A challenge is signed once, within its lifetime (single use: used_at is set by the exchange that spends it).
CREATE TABLE identity.auth_challenges (
  challenge_id text PRIMARY KEY,
  organization_id text NOT NULL,
  key_id text NOT NULL,
  challenge jsonb NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_challenges_expires ON identity.auth_challenges (expires_at);

-- Refresh tokens, stored as SHA-256 hashes. One family per sign-in: each refresh spends its token and issues the next;
-- presenting a spent token again revokes the whole family (reuse detection, OAuth 2.0 Security BCP §4.14).
CREATE TABLE identity.refresh_tokens (
  token_hash text PRIMARY KEY,
  family_id uuid NOT NULL,
  organization_id text NOT NULL,
  key_id text NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  spent_at timestamptz,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX refresh_tokens_family ON identity.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_key ON identity.refresh_tokens (organization_id, key_id) WHERE revoked_at IS NULL;
