-- The outbox relay LISTENs on umi_outbox: a committed outbox insert wakes it with the schema's
-- name, so events leave within milliseconds instead of waiting for the next sweep. NOTIFY is
-- transactional: nothing is sent for a transaction that rolls back. One notification per
-- statement (and PostgreSQL folds duplicates within a transaction).
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('umi_outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
