-- Which tenant a mobile-money reference belongs to (issue 12). A provider's callback names only
-- our reference; the platform finds the tenant here, never from the callback's body. The poller
-- also reads here which tenants have attempts still open, instead of sweeping every schema.
CREATE TABLE mobile_money_references (
  reference    uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants (id),
  provider     text NOT NULL CHECK (provider IN ('MTN', 'AIRTEL')),
  finalized_at timestamptz(3),
  created_at   timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX mobile_money_references_open_idx ON mobile_money_references (tenant_id) WHERE finalized_at IS NULL;

ALTER TABLE mobile_money_references ENABLE ROW LEVEL SECURITY;
ALTER TABLE mobile_money_references FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON mobile_money_references USING (platform_scope() OR tenant_id = current_tenant_id());
