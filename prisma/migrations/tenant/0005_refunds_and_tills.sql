-- Issue 11, "Refunds and tills" and the credit-note side of VAT:
--  * a sale may be refunded in parts (per line, per quantity), each unit once; refunded units go to
--    a quarantine batch of their lot until a pharmacist releases them or writes them off;
--  * money is booked to the till session where it moved: a payment to the session that received
--    it, a payout (refund or voided payment handed back) to the session that paid it out; a closed
--    session never receives another row, so its Z-report never changes.

-- ---------------------------------------------------------------------------------------------
-- Sales and refunds
-- ---------------------------------------------------------------------------------------------

-- (One ALTER TABLE per table and step: every statement of a tenant migration runs once per tenant.)
ALTER TABLE sales DROP CONSTRAINT sales_status_check,
  ADD CONSTRAINT sales_status_check CHECK (status IN ('COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'VOIDED'));

-- A sale may now have several refunds (one per credit note). The branch is the sale's, copied so
-- that a period's refunds are found by (branch, time) like its sales.
ALTER TABLE refunds DROP CONSTRAINT refunds_sale_id_key,
  ADD COLUMN branch_id uuid,
  ADD COLUMN tax_amount numeric(14,2) NOT NULL DEFAULT 0 CHECK (tax_amount >= 0);
-- Until now a refund was the whole sale: its branch and its VAT are the sale's.
UPDATE refunds r SET branch_id = s.branch_id, tax_amount = s.tax_amount FROM sales s WHERE s.id = r.sale_id;
-- The session that paid the refund out. Old rows may have none (sales made outside a session);
-- every new refund names one (NOT VALID: checked for new rows only).
ALTER TABLE refunds ALTER COLUMN branch_id SET NOT NULL,
  ALTER COLUMN tax_amount DROP DEFAULT,
  ADD CONSTRAINT refunds_paid_by_session CHECK (till_session_id IS NOT NULL) NOT VALID;
CREATE INDEX refunds_sale_idx ON refunds (sale_id);
CREATE INDEX refunds_till_session_idx ON refunds (till_session_id) WHERE till_session_id IS NOT NULL;
CREATE INDEX refunds_branch_time_idx ON refunds (branch_id, created_at DESC);

-- owner: pos. What a refund gave back, per sale line: the quantity, its share of the line's amount
-- and VAT (proportional, half-up; the line's last refund takes the remainder so that a line
-- refunded in parts adds up to the line exactly), and the quarantine batch the units went to.
-- At most the line's quantity is refunded in all: checked under the sale's row lock.
CREATE TABLE refund_items (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  refund_id           uuid NOT NULL REFERENCES refunds (id),
  sale_item_id        uuid NOT NULL REFERENCES sale_items (id),
  quantity            integer NOT NULL CHECK (quantity > 0),
  amount              numeric(14,2) NOT NULL CHECK (amount >= 0),
  tax_amount          numeric(14,2) NOT NULL CHECK (tax_amount >= 0),
  -- NULL for refunds made before quarantine existed (their stock went back to its batch).
  quarantine_batch_id uuid REFERENCES inventory_batches (id),
  UNIQUE (refund_id, sale_item_id)
);
CREATE INDEX refund_items_sale_item_idx ON refund_items (sale_item_id);

-- The old full refunds, line by line.
INSERT INTO refund_items (refund_id, sale_item_id, quantity, amount, tax_amount)
SELECT r.id, i.id, i.quantity,
       CASE WHEN s.prices_include_tax THEN i.line_total - i.discount_amount ELSE i.line_total - i.discount_amount + i.tax_amount END,
       i.tax_amount
FROM refunds r JOIN sales s ON s.id = r.sale_id JOIN sale_items i ON i.sale_id = s.id;

-- ---------------------------------------------------------------------------------------------
-- Money in and out of the tills
-- ---------------------------------------------------------------------------------------------

-- The session that received the payment (the sale's, at checkout). NULL only for payments of
-- sales made outside any session.
ALTER TABLE payments ADD COLUMN till_session_id uuid REFERENCES till_sessions (id);
UPDATE payments p SET till_session_id = s.till_session_id FROM sales s WHERE s.id = p.sale_id AND s.till_session_id IS NOT NULL;
CREATE INDEX payments_till_session_idx ON payments (till_session_id) WHERE till_session_id IS NOT NULL;

-- owner: pos. Money handed back to a customer: part of a payment reversed, by a refund (refund_id
-- set) or because the sale was voided (a declined mobile-money part after the cash part was
-- taken). Booked to the session whose drawer paid it out; NULL only for a sale made outside any
-- session. A payment is never paid out beyond its amount (checked under the sale's row lock).
CREATE TABLE payouts (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  till_session_id uuid REFERENCES till_sessions (id),
  sale_id         uuid NOT NULL REFERENCES sales (id),
  payment_id      uuid NOT NULL REFERENCES payments (id),
  refund_id       uuid REFERENCES refunds (id),
  method          text NOT NULL CHECK (method IN ('CASH', 'CARD', 'MOBILE_MONEY', 'INSURANCE')),
  amount          numeric(14,2) NOT NULL CHECK (amount > 0),
  paid_by         uuid NOT NULL,
  created_at      timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX payouts_till_session_idx ON payouts (till_session_id) WHERE till_session_id IS NOT NULL;
CREATE INDEX payouts_payment_idx ON payouts (payment_id);

-- The old refunds paid back every payment of the sale, in the refund's session.
INSERT INTO payouts (till_session_id, sale_id, payment_id, refund_id, method, amount, paid_by, created_at)
SELECT r.till_session_id, p.sale_id, p.id, r.id, p.method, p.amount, r.refunded_by, r.created_at
FROM refunds r JOIN payments p ON p.sale_id = r.sale_id
WHERE p.status = 'REFUNDED';
-- A voided sale marked REFUNDED both the part it had taken (processed) and the requests never
-- answered: the first was handed back from the sale's drawer, the second never received.
INSERT INTO payouts (till_session_id, sale_id, payment_id, method, amount, paid_by, created_at)
SELECT p.till_session_id, p.sale_id, p.id, p.method, p.amount, s.cashier_id, s.updated_at
FROM payments p JOIN sales s ON s.id = p.sale_id
WHERE s.status = 'VOIDED' AND p.status = 'REFUNDED' AND p.processed_at IS NOT NULL;
UPDATE payments p SET status = 'FAILED' FROM sales s
WHERE s.id = p.sale_id AND s.status = 'VOIDED' AND p.status = 'REFUNDED' AND p.processed_at IS NULL;

-- A closed session never changes: no sale, payment, payout or refund is booked to it once it is
-- closed. FOR SHARE waits for a closing in progress (which holds the row FOR UPDATE) and then
-- reads the session as that closing left it.
CREATE FUNCTION refuse_closed_till_session() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  s text;
BEGIN
  IF NEW.till_session_id IS NULL THEN
    RETURN NEW;
  END IF;
  -- The function runs with the caller's search_path: name the table in the row's own schema.
  EXECUTE format('SELECT status FROM %I.till_sessions WHERE id = $1 FOR SHARE', TG_TABLE_SCHEMA) INTO s USING NEW.till_session_id;
  IF s = 'CLOSED' THEN
    RAISE EXCEPTION 'till session % is closed: nothing more is booked to it (%.%)', NEW.till_session_id, TG_TABLE_NAME, TG_OP
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER sales_open_till_session BEFORE INSERT OR UPDATE OF till_session_id ON sales
  FOR EACH ROW EXECUTE FUNCTION refuse_closed_till_session();
CREATE TRIGGER payments_open_till_session BEFORE INSERT OR UPDATE OF till_session_id ON payments
  FOR EACH ROW EXECUTE FUNCTION refuse_closed_till_session();
CREATE TRIGGER payouts_open_till_session BEFORE INSERT OR UPDATE OF till_session_id ON payouts
  FOR EACH ROW EXECUTE FUNCTION refuse_closed_till_session();
CREATE TRIGGER refunds_open_till_session BEFORE INSERT OR UPDATE OF till_session_id ON refunds
  FOR EACH ROW EXECUTE FUNCTION refuse_closed_till_session();

-- A refund's lines and the payouts are evidence, like the ledgers (the refund row itself still
-- receives its ZRA credit-note number after submission).
CREATE TRIGGER refund_items_append_only BEFORE UPDATE OR DELETE ON refund_items
  FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER payouts_append_only BEFORE UPDATE OR DELETE ON payouts
  FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();

-- ---------------------------------------------------------------------------------------------
-- Quarantine of returned stock
-- ---------------------------------------------------------------------------------------------

-- A lot's returned units wait in a quarantine batch of their own: same branch, product, lot
-- number and expiry, status QUARANTINE (so never allocated, and not counted as available), with
-- quarantine_of naming the lot's batch. One such batch per lot; the lot number is unique among
-- the other batches.
ALTER TABLE inventory_batches ADD COLUMN quarantine_of uuid,
  ADD CONSTRAINT inventory_batches_quarantine_of_fkey
    FOREIGN KEY (quarantine_of, branch_id, product_id) REFERENCES inventory_batches (id, branch_id, product_id),
  ADD CONSTRAINT inventory_batches_quarantine_of_key UNIQUE (quarantine_of),
  ADD CONSTRAINT inventory_batches_quarantine_status CHECK (quarantine_of IS NULL OR status IN ('QUARANTINE', 'EXPIRED')),
  DROP CONSTRAINT inventory_batches_branch_id_product_id_batch_number_key;
CREATE UNIQUE INDEX inventory_batches_lot_key ON inventory_batches (branch_id, product_id, batch_number) WHERE quarantine_of IS NULL;

-- Releasing moves units out of the quarantine batch and back into the lot (both directions);
-- writing off takes them out for good.
ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_type_check,
  ADD CONSTRAINT stock_movements_type_check CHECK (type IN ('GRN', 'SALE', 'DISPENSE', 'TRANSFER_OUT', 'TRANSFER_IN',
    'ADJUSTMENT', 'STOCKTAKE', 'SUPPLIER_RETURN', 'CUSTOMER_RETURN', 'EXPIRY_WRITE_OFF', 'REFUND', 'QUARANTINE_RELEASE', 'QUARANTINE_WRITE_OFF')),
  DROP CONSTRAINT stock_movements_direction,
  ADD CONSTRAINT stock_movements_direction CHECK (CASE
  WHEN type IN ('GRN', 'TRANSFER_IN', 'CUSTOMER_RETURN', 'REFUND') THEN quantity > 0
  WHEN type IN ('SALE', 'DISPENSE', 'TRANSFER_OUT', 'SUPPLIER_RETURN', 'EXPIRY_WRITE_OFF', 'QUARANTINE_WRITE_OFF') THEN quantity < 0
  ELSE quantity <> 0
END);
