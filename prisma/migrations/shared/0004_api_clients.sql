-- API clients: partners' machine-to-machine credentials (OAuth2 client credentials). A tenant ADMIN
-- creates one with scopes; the secret is shown once and only its argon2 hash is kept. Revoking sets
-- revoked_at, which every subgraph request of the client checks, so it takes effect at once.
CREATE TABLE api_clients (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants (id),
  client_id    text NOT NULL UNIQUE,
  secret_hash  text NOT NULL,
  name         text NOT NULL,
  scopes       text[] NOT NULL,
  created_by   uuid NOT NULL REFERENCES users (id),
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  last_used_at timestamptz(3),
  revoked_at   timestamptz(3),
  revoked_by   uuid REFERENCES users (id)
);
CREATE INDEX api_clients_tenant_idx ON api_clients (tenant_id);

ALTER TABLE api_clients ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_clients FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_clients USING (platform_scope() OR tenant_id = current_tenant_id());
