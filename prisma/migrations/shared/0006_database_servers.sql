-- Placement: the PostgreSQL servers tenant schemas live on. The shared schema stays on the primary
-- (DATABASE_URL); a tenant's schema lives on the server its row names. A server row carries no
-- secret: `connection_ref` is a name that configuration maps to a URL (TENANT_DATABASE_URLS,
-- `name=postgres://...`), and the name `primary` always means DATABASE_URL.
CREATE TABLE database_servers (
  id             text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{0,39}$'),
  name           text NOT NULL,
  connection_ref text NOT NULL UNIQUE CHECK (connection_ref ~ '^[a-z][a-z0-9_]{0,39}$'),
  -- Relative weight when placing new tenants: a server of capacity 200 takes twice the tenants of one of 100.
  capacity       integer NOT NULL DEFAULT 100 CHECK (capacity > 0),
  accepting_new  boolean NOT NULL DEFAULT true,
  created_at     timestamptz(3) NOT NULL DEFAULT now()
);
INSERT INTO database_servers (id, name, connection_ref) VALUES ('primary', 'Primary server', 'primary');

-- Which server holds the tenant's schema, and since when its writes are paused for a move (null: not moving).
ALTER TABLE tenants ADD COLUMN server_id text NOT NULL DEFAULT 'primary' REFERENCES database_servers (id);
ALTER TABLE tenants ADD COLUMN moving_since timestamptz(3);
CREATE INDEX tenants_server_idx ON tenants (server_id) WHERE deleted_at IS NULL;

-- Platform data: the operator's scope only (the application reads it through the platform scope).
ALTER TABLE database_servers ENABLE ROW LEVEL SECURITY;
ALTER TABLE database_servers FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_only ON database_servers USING (platform_scope());
