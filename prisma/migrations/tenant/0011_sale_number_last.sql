-- Issue 14: checkout takes the branch's gapless sale number as its transaction's LAST statement
-- (@umi/supply numberSale), so checkouts of one branch no longer queue behind the number's
-- row lock for their whole transaction. A till sale's stock movements and controlled-register
-- lines are written before that, and both tables are append-only: they cannot carry the number
-- as text and cannot be corrected afterwards. So they name the sale by its id instead:
-- stock_movements.reference_id (already the sale's id on SALE, DISPENSE and REFUND movements) with
-- reference left NULL, and a register line through the movement it records. Readers (the
-- movements page, the register export, recalls, the fiscal stock sync) show
-- coalesce(reference, the sale's number), so the human number reads as before.
--
-- Backfill: none is needed, and none is done. Every sale movement written before this migration
-- carries its number as text AND the sale's id, and reads the same through the coalesce; leaving
-- those rows untouched keeps the append-only rule unbroken (no UPDATE, no trigger lifted).
--
-- What the readers rely on, enforced from now on and checked against every existing row: a SALE
-- movement names its sale one way or the other.
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_sale_named
  CHECK (type <> 'SALE' OR reference IS NOT NULL OR reference_id IS NOT NULL);
