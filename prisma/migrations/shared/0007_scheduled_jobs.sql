-- Scheduled jobs (issue 16). The job runner (scripts/jobs.ts) keeps its queues in pg-boss's own
-- schema `pgboss`, which it creates and migrates itself; two things live here.

-- Expiry warnings already given: one row per (tenant, batch, threshold), written in the same
-- transaction as the `inventory.expiry_warning` outbox event, so a batch is warned once per
-- threshold however often (and on however many runners) the job runs.
CREATE TABLE expiry_warnings (
  tenant_id      uuid NOT NULL REFERENCES tenants (id),
  batch_id       uuid NOT NULL,
  threshold_days integer NOT NULL CHECK (threshold_days > 0),
  event_id       uuid NOT NULL,
  warned_at      timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, batch_id, threshold_days)
);

ALTER TABLE expiry_warnings ENABLE ROW LEVEL SECURITY;
ALTER TABLE expiry_warnings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON expiry_warnings USING (platform_scope() OR tenant_id = current_tenant_id());

-- The job queues as the platform operator sees them (`jobQueues`, and the runner's metrics): the
-- application role has no rights on pg-boss's schema, so this reads it as its owner, and only for a
-- caller in the platform scope. Before the runner first starts there is no `pgboss` schema: no rows.
CREATE FUNCTION job_queue_status()
RETURNS TABLE (name text, pending bigint, active bigint, failed_24h bigint, completed_24h bigint, oldest_pending_seconds double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT coalesce(current_setting('app.platform', true) = 'on', false) THEN
    RAISE EXCEPTION 'job queues are for the platform scope' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF to_regclass('pgboss.job') IS NULL OR to_regclass('pgboss.queue') IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY EXECUTE $q$
    WITH jobs AS (
      SELECT j.name, j.state::text AS state, j.created_on, j.start_after, j.completed_on FROM pgboss.job j
      UNION ALL
      SELECT a.name, a.state::text, a.created_on, a.start_after, a.completed_on FROM pgboss.archive a
      WHERE a.completed_on > now() - interval '24 hours'
    )
    SELECT q.name::text,
           count(*) FILTER (WHERE j.state IN ('created', 'retry')),
           count(*) FILTER (WHERE j.state = 'active'),
           count(*) FILTER (WHERE j.state = 'failed' AND j.completed_on > now() - interval '24 hours'),
           count(*) FILTER (WHERE j.state = 'completed' AND j.completed_on > now() - interval '24 hours'),
           coalesce(extract(epoch FROM now() - min(j.created_on) FILTER (WHERE j.state IN ('created', 'retry') AND j.start_after <= now())), 0)::double precision
    FROM pgboss.queue q LEFT JOIN jobs j ON j.name = q.name
    WHERE q.name NOT LIKE '\_\_%'
    GROUP BY q.name ORDER BY q.name
  $q$;
END
$$;
