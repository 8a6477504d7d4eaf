-- One prescription, one supply (issue 11).

-- A controlled substance is prescription-only, in the database as in the API: existing rows that
-- said otherwise sold morphine over the counter, so they become prescription-only first.
UPDATE products SET requires_prescription = true, updated_at = now() WHERE controlled_substance AND NOT requires_prescription;
ALTER TABLE products ADD CONSTRAINT products_controlled_is_prescription_only
  CHECK (NOT controlled_substance OR requires_prescription);

-- A till sale of a prescribed item is its dispensing, and a dispensing is priced as a sale: each
-- supply of a prescription item names the sale that recorded its price and VAT. Fills made before
-- this migration have none.
ALTER TABLE dispensed_items ADD COLUMN sale_id uuid REFERENCES sales (id);
CREATE INDEX dispensed_items_sale_idx ON dispensed_items (sale_id) WHERE sale_id IS NOT NULL;
