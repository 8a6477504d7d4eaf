-- The controlled-substance register as an inspector reads it (issue 11): each line names the
-- pharmacist who answers for it, a receipt its supplier and delivery reference, a write-off or a
-- destruction its witness; lines read in the order their running balances chain, page by page;
-- and no line younger than the tenant's retention period can be deleted, even by a purge.

-- Line order. Lines of one product at one branch are written under that key's lock, so numbering
-- them as they are inserted orders them exactly as their balances chain; occurred_at alone cannot
-- (it was the transaction's start, and lines of one fill share it). Existing lines are numbered in
-- the order they were stored: adding a column with a volatile default rewrites the table in
-- physical order, and fires no row trigger, so the append-only rule is never lifted.
CREATE SEQUENCE controlled_register_line_no_seq AS bigint;
ALTER TABLE controlled_register ADD COLUMN line_no bigint NOT NULL DEFAULT nextval('controlled_register_line_no_seq');
ALTER SEQUENCE controlled_register_line_no_seq OWNED BY controlled_register.line_no;
ALTER TABLE controlled_register ADD CONSTRAINT controlled_register_line_no_key UNIQUE (line_no);
-- The time the line was written under the lock, not the transaction's start: a fill that waited
-- for the lock is timed after the fill it waited for, so time order and line order agree.
ALTER TABLE controlled_register ALTER COLUMN occurred_at SET DEFAULT clock_timestamp();
-- Period exports page through (product, time, line) at a branch.
DROP INDEX controlled_register_branch_product_time_idx;
CREATE INDEX controlled_register_branch_product_time_idx ON controlled_register (branch_id, product_id, occurred_at, line_no);

-- Who answers for the line and what it records. pharmacist_id now names the responsible
-- pharmacist (who supplied, or who verified the prescription a non-pharmacist sold against), the
-- member of staff acting for receipts and adjustments. A write-off or destruction names a second
-- person as witness; lines written before this migration have none.
ALTER TABLE controlled_register ADD COLUMN witness_id uuid;
ALTER TABLE controlled_register ADD CONSTRAINT controlled_register_witness_second_person
  CHECK (witness_id IS NULL OR pharmacist_id IS NULL OR witness_id <> pharmacist_id);
ALTER TABLE controlled_register ADD COLUMN supplier_id uuid REFERENCES suppliers (id);
ALTER TABLE controlled_register ADD COLUMN delivery_reference text
  CHECK (delivery_reference IS NULL OR length(btrim(delivery_reference)) BETWEEN 1 AND 100);

-- Destruction (e.g. of a recalled lot): the batch's remaining stock is written off and it is never
-- allocated again.
ALTER TABLE inventory_batches DROP CONSTRAINT inventory_batches_status_check;
ALTER TABLE inventory_batches ADD CONSTRAINT inventory_batches_status_check
  CHECK (status IN ('AVAILABLE', 'ON_HOLD', 'QUARANTINE', 'EXPIRED', 'DEPLETED', 'DESTROYED'));

-- Recalls look a lot up by its number across branches, whatever its case.
CREATE INDEX inventory_batches_lot_idx ON inventory_batches (upper(batch_number), product_id);

-- Retention (Controlled Substances Act; tenant setting controlled_register_retention_years, never
-- under 5). UPDATE stays refused. DELETE is refused too, except inside a retention purge (the
-- transaction-local setting umi.register_purge = 'on') and then only for lines older than the
-- retention period: a purge can never take a line it must keep, whoever runs it, and purges no
-- longer disable the trigger. TRUNCATE stays refused (0001).
CREATE FUNCTION controlled_register_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  years integer;
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('umi.register_purge', true) = 'on' THEN
    EXECUTE format(
      'SELECT greatest(5, coalesce((SELECT (value #>> ''{}'')::integer FROM %I.tenant_settings WHERE key = ''controlled_register_retention_years''), 5))',
      TG_TABLE_SCHEMA) INTO years;
    IF OLD.occurred_at < now() - make_interval(years => years) THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION '%.%: line % is within the % years the register is kept', TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.id, years
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER controlled_register_append_only ON controlled_register;
CREATE TRIGGER controlled_register_append_only BEFORE UPDATE OR DELETE ON controlled_register
  FOR EACH ROW EXECUTE FUNCTION controlled_register_guard();
