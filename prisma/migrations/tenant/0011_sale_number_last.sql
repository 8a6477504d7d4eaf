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
-- The schema says so where the next reader of these tables looks. (No CHECK that a SALE movement
-- names its sale: the ledger's API lets a caller record a sale movement with neither, as its own
-- tests do; checkout always passes the sale's id.)
COMMENT ON COLUMN stock_movements.reference IS
  'Human-readable reference (PO, transfer, prescription number). NULL on a till sale''s movements, written before the sale has its number (0011): read coalesce(reference, sales.sale_number via reference_id).';
COMMENT ON COLUMN stock_movements.reference_id IS
  'The row the movement came from: the sale (SALE, DISPENSE, REFUND), the transfer, the order.';
COMMENT ON COLUMN controlled_register.reference IS
  'As stock_movements.reference; NULL on a till sale''s lines: the sale is the line''s movement''s reference_id.';
