-- Data retention per tenant settings (issue 16): audit rows older than the tenant's
-- audit_log_retention_days move to an archive, and patients inactive for
-- patient_inactivity_retention_years are anonymised in place.

-- The archive: one compact row per archived audit entry (the whole entry as jsonb), append-only
-- like the live table. entity_type and occurred_at are kept as columns so an administrator can
-- page through it the way auditLogs pages through the live table.
CREATE TABLE audit_log_archive (
  id          uuid PRIMARY KEY,
  entity_type text NOT NULL,
  occurred_at timestamptz(3) NOT NULL,
  entry       jsonb NOT NULL,
  archived_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_archive_time_idx ON audit_log_archive (occurred_at DESC, id DESC);
CREATE INDEX audit_log_archive_entity_type_time_idx ON audit_log_archive (entity_type, occurred_at DESC, id DESC);

CREATE TRIGGER audit_log_archive_append_only BEFORE UPDATE OR DELETE ON audit_log_archive
  FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER audit_log_archive_no_truncate BEFORE TRUNCATE ON audit_log_archive
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();

-- The live table stays append-only, except that an archiving transaction (the transaction-local
-- setting umi.audit_archive = 'on') may delete a row that is past the tenant's retention period
-- (never under 90 days) and already copied, byte for byte, into the archive. So a wrong setting or
-- a wrong query in the job can neither take a young row nor lose one. UPDATE and TRUNCATE stay
-- refused (0001).
CREATE FUNCTION audit_logs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  days integer;
  archived boolean;
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('umi.audit_archive', true) = 'on' THEN
    EXECUTE format(
      'SELECT greatest(90, coalesce((SELECT (value #>> ''{}'')::integer FROM %I.tenant_settings WHERE key = ''audit_log_retention_days''), 365))',
      TG_TABLE_SCHEMA) INTO days;
    IF OLD."timestamp" >= now() - make_interval(days => days) THEN
      RAISE EXCEPTION '%.%: entry % is within the % days the audit log is kept live', TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.id, days
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.audit_log_archive a WHERE a.id = $1.id AND a.entry = to_jsonb($1))', TG_TABLE_SCHEMA)
      INTO archived USING OLD;
    IF archived THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION '%.%: entry % is not in the archive', TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER audit_logs_append_only ON audit_logs;
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION audit_logs_guard();

-- Anonymised patients keep their row (sales, prescriptions, dispensing and register lines still
-- point at it) without personal data; this marks when it happened.
ALTER TABLE patients ADD COLUMN anonymised_at timestamptz(3);
-- An anonymised row holds no personal data: the database refuses one that does, whoever writes it.
ALTER TABLE patients ADD CONSTRAINT patients_anonymised_without_personal_data CHECK (
  anonymised_at IS NULL OR (
    date_of_birth IS NULL AND gender IS NULL AND phone IS NULL AND email IS NULL AND address IS NULL
    AND emergency_contact IS NULL AND insurance_info IS NULL AND allergies = '{}'
    AND medical_history_ciphertext IS NULL AND medical_history_key_version IS NULL
  )
);
