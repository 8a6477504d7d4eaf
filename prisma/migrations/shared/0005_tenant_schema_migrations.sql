-- Each tenant's applied schema migrations, beside its row: one query tells which of a thousand
-- schemas are behind, instead of opening every schema's umi_migrations.
ALTER TABLE tenants ADD COLUMN schema_migrations text[] NOT NULL DEFAULT '{}';

DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT id, schema_name FROM tenants WHERE deleted_at IS NULL LOOP
    IF to_regclass(format('%I.umi_migrations', t.schema_name)) IS NOT NULL THEN
      EXECUTE format('UPDATE tenants SET schema_migrations = (SELECT coalesce(array_agg(name ORDER BY name), ''{}'') FROM %I.umi_migrations) WHERE id = $1', t.schema_name)
        USING t.id;
    END IF;
  END LOOP;
END $$;
