-- Platform data: plans, tenants, branches, users, subscriptions, settings, refresh tokens.
-- Runs with search_path = shared. Times are timestamptz (stored UTC).

CREATE TABLE plans (
  code          text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_-]{1,49}$'),
  name          text NOT NULL,
  max_branches  integer NOT NULL CHECK (max_branches > 0),
  max_users     integer NOT NULL CHECK (max_users > 0),
  monthly_price numeric(12,2) NOT NULL CHECK (monthly_price >= 0),
  features      jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz(3) NOT NULL DEFAULT now()
);

INSERT INTO plans (code, name, max_branches, max_users, monthly_price, features) VALUES
  ('basic', 'Basic', 1, 10, 1500.00, '{"reports": false}'),
  ('professional', 'Professional', 10, 100, 6000.00, '{"reports": true}'),
  ('enterprise', 'Enterprise', 200, 2000, 20000.00, '{"reports": true, "sso": true}');

CREATE TABLE tenants (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 255),
  subdomain           text NOT NULL UNIQUE CHECK (subdomain ~ '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'),
  schema_name         text NOT NULL UNIQUE CHECK (schema_name ~ '^tenant_[a-z0-9_]{3,63}$'),
  status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
  plan                text NOT NULL REFERENCES plans (code),
  max_branches        integer NOT NULL CHECK (max_branches > 0),
  max_users           integer NOT NULL CHECK (max_users > 0),
  tpin                text,
  settings            jsonb NOT NULL DEFAULT '{}',
  billing_info        jsonb NOT NULL DEFAULT '{}',
  compliance_settings jsonb NOT NULL DEFAULT '{}',
  created_at          timestamptz(3) NOT NULL DEFAULT now(),
  updated_at          timestamptz(3) NOT NULL DEFAULT now(),
  deleted_at          timestamptz(3)
);

CREATE TABLE branches (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid NOT NULL REFERENCES tenants (id),
  name            text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 255),
  code            text NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,49}$'),
  address         text,
  phone           text,
  email           text,
  license_number  text,
  bhf_id          text,
  timezone        text NOT NULL DEFAULT 'Africa/Lusaka',
  operating_hours jsonb NOT NULL DEFAULT '{}',
  settings        jsonb NOT NULL DEFAULT '{}',
  is_active       boolean NOT NULL DEFAULT true,
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  updated_at      timestamptz(3) NOT NULL DEFAULT now(),
  deleted_at      timestamptz(3),
  UNIQUE (tenant_id, code)
);
CREATE INDEX branches_tenant_idx ON branches (tenant_id);

CREATE TABLE users (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid REFERENCES tenants (id),
  email              text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
  password_hash      text NOT NULL,
  first_name         text NOT NULL,
  last_name          text NOT NULL,
  role               text NOT NULL CHECK (role IN ('SUPER_ADMIN', 'ADMIN', 'OPERATIONS', 'PHARMACIST', 'CASHIER')),
  permissions        jsonb NOT NULL DEFAULT '{}',
  is_active          boolean NOT NULL DEFAULT true,
  last_login         timestamptz(3),
  email_verified     boolean NOT NULL DEFAULT false,
  phone_verified     boolean NOT NULL DEFAULT false,
  two_factor_enabled boolean NOT NULL DEFAULT false,
  created_at         timestamptz(3) NOT NULL DEFAULT now(),
  updated_at         timestamptz(3) NOT NULL DEFAULT now(),
  deleted_at         timestamptz(3),
  -- The platform operator belongs to no tenant; everybody else belongs to exactly one.
  CHECK ((role = 'SUPER_ADMIN') = (tenant_id IS NULL))
);
CREATE UNIQUE INDEX users_tenant_email_key ON users (tenant_id, email) WHERE tenant_id IS NOT NULL;
CREATE UNIQUE INDEX users_platform_email_key ON users (email) WHERE tenant_id IS NULL;

-- Branch access as rows, so that a user can never hold a branch that does not exist or that
-- belongs to another tenant (the composite foreign keys pin both sides to one tenant).
ALTER TABLE branches ADD CONSTRAINT branches_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE users ADD CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id);
CREATE TABLE user_branches (
  user_id   uuid NOT NULL,
  branch_id uuid NOT NULL,
  tenant_id uuid NOT NULL,
  PRIMARY KEY (user_id, branch_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_branches_branch_idx ON user_branches (branch_id);

CREATE TABLE subscriptions (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  plan_type     text NOT NULL REFERENCES plans (code),
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled', 'expired')),
  billing_cycle text NOT NULL DEFAULT 'monthly' CHECK (billing_cycle IN ('monthly', 'yearly')),
  amount        numeric(12,2) NOT NULL CHECK (amount >= 0),
  currency      char(3) NOT NULL DEFAULT 'ZMW',
  features      jsonb NOT NULL DEFAULT '{}',
  limits        jsonb NOT NULL DEFAULT '{}',
  start_date    date NOT NULL,
  end_date      date,
  auto_renew    boolean NOT NULL DEFAULT true,
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  updated_at    timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_tenant_idx ON subscriptions (tenant_id);

CREATE TABLE system_settings (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key         text NOT NULL UNIQUE,
  value       jsonb NOT NULL,
  description text,
  is_public   boolean NOT NULL DEFAULT false,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at  timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE refresh_tokens (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid REFERENCES tenants (id),
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id      uuid NOT NULL,
  token_hash     text NOT NULL UNIQUE,
  replaced_by_id uuid REFERENCES refresh_tokens (id),
  expires_at     timestamptz(3) NOT NULL,
  rotated_at     timestamptz(3),
  revoked_at     timestamptz(3),
  revoked_reason text,
  ip_address     text,
  user_agent     text,
  created_at     timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Row-level security: the second wall behind the application's own filters. Every transaction of
-- the application role sets app.tenant_id (a tenant's request) or app.platform = 'on' (the platform
-- operator, tenant resolution, login before a tenant is known) with set_config(..., true), so the
-- setting dies with the transaction and never leaks through a pooled connection.
CREATE FUNCTION current_tenant_id() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;
CREATE FUNCTION platform_scope() RETURNS boolean LANGUAGE sql STABLE AS
  $$ SELECT coalesce(current_setting('app.platform', true), '') = 'on' $$;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (platform_scope() OR id = current_tenant_id());

ALTER TABLE branches ENABLE ROW LEVEL SECURITY;
ALTER TABLE branches FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON branches USING (platform_scope() OR tenant_id = current_tenant_id());

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users USING (platform_scope() OR tenant_id = current_tenant_id());

ALTER TABLE user_branches ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_branches FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_branches USING (platform_scope() OR tenant_id = current_tenant_id());

ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON subscriptions USING (platform_scope() OR tenant_id = current_tenant_id());

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_tokens USING (platform_scope() OR tenant_id = current_tenant_id());
