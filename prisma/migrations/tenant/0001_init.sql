-- One tenant's domain data: catalogue, stock, patients, prescriptions, sales, audit.
-- Runs with search_path = <tenant schema>, public, inside the runner's transaction, so no name is
-- schema-qualified. Three subgraphs (pharmacy, inventory, pos) share these tables through one
-- Prisma client so that a sale, its stock decrements, its ledger rows and its outbox event commit
-- together. Each table names its owning subgraph: only the owner writes it; others may read it.
--
-- Conventions: uuid ids; timestamptz(3) (stored UTC); money numeric(14,2) in ZMW; rates
-- numeric(7,4) as fractions (0.1600 = 16%); integer quantities in the product's unit of measure.
-- branch_id, user_id and the other *_by / *_id columns that name branches or users hold ids of
-- rows in the `shared` schema without a foreign key: a tenant's data stays inside its own schema
-- (Citus schema-based sharding moves a schema as a unit). The application checks those ids.
-- updated_at columns are set by Prisma (@updatedAt); raw SQL updates must set them too.

-- ---------------------------------------------------------------------------------------------
-- Settings (cross-cutting)
-- ---------------------------------------------------------------------------------------------

-- owner: tenant. Small per-tenant switches the subgraphs read (never platform secrets).
CREATE TABLE tenant_settings (
  key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  value      jsonb NOT NULL,
  updated_by uuid,
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);

INSERT INTO tenant_settings (key, value) VALUES
  -- Zambian shelf prices and ZRA Smart Invoice are VAT-inclusive.
  ('prices_include_tax', 'true'),
  ('prescription_validity_days', '90'),
  ('controlled_register_retention_years', '5');

-- owner: tenant. VAT rates by category, effective-dated so a rate change never rewrites history:
-- the rate for a sale is the row with the latest effective_from <= the sale's date.
CREATE TABLE tax_rates (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  category       text NOT NULL CHECK (category IN ('STANDARD', 'ZERO_RATED', 'EXEMPT')),
  rate           numeric(7,4) NOT NULL CHECK (rate >= 0 AND rate < 1),
  effective_from date NOT NULL,
  created_at     timestamptz(3) NOT NULL DEFAULT now(),
  UNIQUE (category, effective_from)
);

INSERT INTO tax_rates (category, rate, effective_from) VALUES
  ('STANDARD', 0.1600, '2000-01-01'),
  ('ZERO_RATED', 0.0000, '2000-01-01'),
  ('EXEMPT', 0.0000, '2000-01-01');

-- ---------------------------------------------------------------------------------------------
-- Catalogue and stock (inventory)
-- ---------------------------------------------------------------------------------------------

-- owner: inventory. The tenant-wide catalogue; prices and reorder rules are per branch.
CREATE TABLE products (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sku                   text NOT NULL UNIQUE CHECK (length(btrim(sku)) BETWEEN 1 AND 100),
  name                  text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 255),
  -- INN; with atc_code the key for interaction and allergy checks.
  generic_name          text,
  atc_code              text CHECK (atc_code ~ '^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$'),
  category              text,
  description           text,
  manufacturer          text,
  strength              text,
  form                  text,
  -- NULLs are distinct, so many products may have no barcode; an empty string is not a barcode.
  barcode               text UNIQUE CHECK (length(btrim(barcode)) > 0),
  requires_prescription boolean NOT NULL DEFAULT false,
  controlled_substance  boolean NOT NULL DEFAULT false,
  tax_category          text NOT NULL DEFAULT 'STANDARD' CHECK (tax_category IN ('STANDARD', 'ZERO_RATED', 'EXEMPT')),
  storage_requirements  jsonb NOT NULL DEFAULT '{}',
  unit_of_measure       text NOT NULL DEFAULT 'EACH',
  is_active             boolean NOT NULL DEFAULT true,
  created_at            timestamptz(3) NOT NULL DEFAULT now(),
  updated_at            timestamptz(3) NOT NULL DEFAULT now(),
  deleted_at            timestamptz(3)
);
-- Prefix search (name LIKE 'amox%') without trigram: lower(...) text_pattern_ops works in any collation.
CREATE INDEX products_name_prefix_idx ON products (lower(name) text_pattern_ops);
CREATE INDEX products_generic_name_prefix_idx ON products (lower(generic_name) text_pattern_ops);
CREATE INDEX products_sku_prefix_idx ON products (lower(sku) text_pattern_ops);

-- owner: inventory. Per-branch selling price (NULL: the FEFO batch's price applies) and reorder rule.
CREATE TABLE product_branch_settings (
  product_id       uuid NOT NULL REFERENCES products (id),
  branch_id        uuid NOT NULL,
  selling_price    numeric(14,2) CHECK (selling_price >= 0),
  reorder_level    integer NOT NULL DEFAULT 0 CHECK (reorder_level >= 0),
  reorder_quantity integer NOT NULL DEFAULT 0 CHECK (reorder_quantity >= 0),
  created_at       timestamptz(3) NOT NULL DEFAULT now(),
  updated_at       timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (product_id, branch_id)
);
CREATE INDEX product_branch_settings_branch_idx ON product_branch_settings (branch_id);

-- owner: inventory
CREATE TABLE suppliers (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name           text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 255),
  contact_person text,
  phone          text,
  email          text,
  address        text,
  tpin           text,
  is_active      boolean NOT NULL DEFAULT true,
  created_at     timestamptz(3) NOT NULL DEFAULT now(),
  updated_at     timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX suppliers_name_prefix_idx ON suppliers (lower(name) text_pattern_ops);

-- owner: inventory. Stock lives per branch and batch. quantity_on_hand is the running total of
-- the batch's stock_movements, kept by a single conditional UPDATE (... AND quantity_on_hand -
-- quantity_reserved >= n) in the same transaction as the movement; never read-modify-write.
-- Available = on hand - reserved. Only AVAILABLE, unexpired batches are sold or dispensed.
CREATE TABLE inventory_batches (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  branch_id         uuid NOT NULL,
  product_id        uuid NOT NULL REFERENCES products (id),
  supplier_id       uuid REFERENCES suppliers (id),
  batch_number      text NOT NULL CHECK (length(btrim(batch_number)) BETWEEN 1 AND 100),
  expiry_date       date NOT NULL,
  quantity_on_hand  integer NOT NULL DEFAULT 0 CHECK (quantity_on_hand >= 0),
  quantity_reserved integer NOT NULL DEFAULT 0
                    CONSTRAINT inventory_batches_reserved_within_on_hand CHECK (quantity_reserved >= 0 AND quantity_reserved <= quantity_on_hand),
  cost_price        numeric(14,2) NOT NULL CHECK (cost_price >= 0),
  selling_price     numeric(14,2) NOT NULL CHECK (selling_price >= 0),
  location          text,
  status            text NOT NULL DEFAULT 'AVAILABLE'
                    CHECK (status IN ('AVAILABLE', 'ON_HOLD', 'QUARANTINE', 'EXPIRED', 'DEPLETED')),
  last_counted      date,
  created_at        timestamptz(3) NOT NULL DEFAULT now(),
  updated_at        timestamptz(3) NOT NULL DEFAULT now(),
  UNIQUE (branch_id, product_id, batch_number),
  -- Target of the ledgers' composite foreign keys: a movement's branch and product are its batch's.
  UNIQUE (id, branch_id, product_id)
);
-- FEFO allocation: WHERE branch_id = $1 AND product_id = $2 ORDER BY expiry_date, id.
CREATE INDEX inventory_batches_fefo_idx ON inventory_batches (branch_id, product_id, expiry_date);
-- Expiring stock report (expiringBatches): only batches that still hold stock.
CREATE INDEX inventory_batches_expiring_idx ON inventory_batches (branch_id, expiry_date) WHERE quantity_on_hand > 0;
CREATE INDEX inventory_batches_product_idx ON inventory_batches (product_id);

-- owner: inventory. Append-only stock ledger (UPDATE and DELETE refused by trigger below).
-- quantity is signed (+ in, - out); balance_after is the batch's quantity_on_hand after this row.
-- reference is human-readable (sale number, PO number, ...), reference_id the row it came from.
-- user_id is NULL only for system jobs (e.g. the nightly expiry write-off).
CREATE TABLE stock_movements (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  branch_id     uuid NOT NULL,
  product_id    uuid NOT NULL REFERENCES products (id),
  batch_id      uuid NOT NULL,
  type          text NOT NULL CHECK (type IN ('GRN', 'SALE', 'DISPENSE', 'TRANSFER_OUT', 'TRANSFER_IN', 'ADJUSTMENT',
                  'STOCKTAKE', 'SUPPLIER_RETURN', 'CUSTOMER_RETURN', 'EXPIRY_WRITE_OFF', 'REFUND')),
  quantity      integer NOT NULL,
  balance_after integer NOT NULL CHECK (balance_after >= 0),
  reason        text,
  reference     text,
  reference_id  uuid,
  user_id       uuid,
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  FOREIGN KEY (batch_id, branch_id, product_id) REFERENCES inventory_batches (id, branch_id, product_id),
  -- The direction of each movement type is fixed; only counts and adjustments go either way.
  CONSTRAINT stock_movements_direction CHECK (CASE
    WHEN type IN ('GRN', 'TRANSFER_IN', 'CUSTOMER_RETURN', 'REFUND') THEN quantity > 0
    WHEN type IN ('SALE', 'DISPENSE', 'TRANSFER_OUT', 'SUPPLIER_RETURN', 'EXPIRY_WRITE_OFF') THEN quantity < 0
    ELSE quantity <> 0
  END),
  CONSTRAINT stock_movements_adjustment_reason CHECK (type <> 'ADJUSTMENT' OR coalesce(length(btrim(reason)), 0) > 0)
);
CREATE INDEX stock_movements_batch_idx ON stock_movements (batch_id);
CREATE INDEX stock_movements_branch_time_idx ON stock_movements (branch_id, created_at DESC);
CREATE INDEX stock_movements_branch_product_time_idx ON stock_movements (branch_id, product_id, created_at DESC);
CREATE INDEX stock_movements_reference_idx ON stock_movements (reference_id) WHERE reference_id IS NOT NULL;

-- owner: inventory
CREATE TABLE purchase_orders (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  po_number     text NOT NULL UNIQUE,
  branch_id     uuid NOT NULL,
  supplier_id   uuid NOT NULL REFERENCES suppliers (id),
  status        text NOT NULL DEFAULT 'DRAFT'
                CHECK (status IN ('DRAFT', 'SENT', 'PARTIALLY_RECEIVED', 'RECEIVED', 'CLOSED', 'CANCELLED')),
  expected_date date,
  notes         text,
  ordered_by    uuid NOT NULL,
  sent_at       timestamptz(3),
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  updated_at    timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX purchase_orders_branch_time_idx ON purchase_orders (branch_id, created_at DESC);
CREATE INDEX purchase_orders_supplier_idx ON purchase_orders (supplier_id);

-- owner: inventory. Receipts against a line create batches (with batch number and expiry) and
-- GRN movements whose reference_id is the purchase order; over-delivery is allowed.
CREATE TABLE purchase_order_items (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  purchase_order_id uuid NOT NULL REFERENCES purchase_orders (id) ON DELETE CASCADE,
  product_id        uuid NOT NULL REFERENCES products (id),
  quantity_ordered  integer NOT NULL CHECK (quantity_ordered > 0),
  quantity_received integer NOT NULL DEFAULT 0 CHECK (quantity_received >= 0),
  unit_cost         numeric(14,2) NOT NULL CHECK (unit_cost >= 0),
  UNIQUE (purchase_order_id, product_id)
);

-- owner: inventory
CREATE TABLE stock_transfers (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  transfer_number text NOT NULL UNIQUE,
  from_branch_id  uuid NOT NULL,
  to_branch_id    uuid NOT NULL,
  status          text NOT NULL DEFAULT 'REQUESTED' CHECK (status IN ('REQUESTED', 'DISPATCHED', 'RECEIVED', 'CANCELLED')),
  notes           text,
  requested_by    uuid NOT NULL,
  dispatched_by   uuid,
  received_by     uuid,
  dispatched_at   timestamptz(3),
  received_at     timestamptz(3),
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  updated_at      timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT stock_transfers_distinct_branches CHECK (from_branch_id <> to_branch_id),
  CONSTRAINT stock_transfers_dispatched_at CHECK (status NOT IN ('DISPATCHED', 'RECEIVED') OR dispatched_at IS NOT NULL),
  CONSTRAINT stock_transfers_received_at CHECK (status <> 'RECEIVED' OR received_at IS NOT NULL)
);
CREATE INDEX stock_transfers_from_time_idx ON stock_transfers (from_branch_id, created_at DESC);
CREATE INDEX stock_transfers_to_time_idx ON stock_transfers (to_branch_id, created_at DESC);

-- owner: inventory. One row per source batch (a quantity taken FEFO may span batches). A requested
-- line has no batch yet; dispatch fills from_batch_id, batch_number and expiry_date together;
-- receipt fills to_batch_id (the destination batch with the same number and expiry).
CREATE TABLE stock_transfer_items (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  transfer_id   uuid NOT NULL REFERENCES stock_transfers (id) ON DELETE CASCADE,
  product_id    uuid NOT NULL REFERENCES products (id),
  from_batch_id uuid REFERENCES inventory_batches (id),
  to_batch_id   uuid REFERENCES inventory_batches (id),
  batch_number  text,
  expiry_date   date,
  quantity      integer NOT NULL CHECK (quantity > 0),
  CONSTRAINT stock_transfer_items_batch_complete CHECK ((from_batch_id IS NULL) = (batch_number IS NULL) AND (from_batch_id IS NULL) = (expiry_date IS NULL)),
  CONSTRAINT stock_transfer_items_received_after_dispatch CHECK (to_batch_id IS NULL OR from_batch_id IS NOT NULL)
);
CREATE INDEX stock_transfer_items_transfer_idx ON stock_transfer_items (transfer_id);

-- owner: inventory. Last known low/not-low state per branch and product, so that the low-stock
-- event fires once when available stock crosses the reorder level, not on every sale below it.
-- Flip it with a conditional UPDATE ... WHERE is_low IS DISTINCT FROM $new in the sale's transaction.
CREATE TABLE low_stock_state (
  branch_id  uuid NOT NULL,
  product_id uuid NOT NULL REFERENCES products (id),
  is_low     boolean NOT NULL,
  changed_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (branch_id, product_id)
);

-- ---------------------------------------------------------------------------------------------
-- Patients, prescriptions, dispensing (pharmacy)
-- ---------------------------------------------------------------------------------------------

-- owner: pharmacy. Patients are chain-wide (medication history across branches makes double
-- doctoring detectable); branch_id is the home branch. Medical history is encrypted by the
-- application (AES-256-GCM); the database only ever sees the ciphertext and the key version.
CREATE TABLE patients (
  id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patient_number              text NOT NULL UNIQUE,
  branch_id                   uuid NOT NULL,
  first_name                  text NOT NULL CHECK (length(btrim(first_name)) BETWEEN 1 AND 100),
  last_name                   text NOT NULL CHECK (length(btrim(last_name)) BETWEEN 1 AND 100),
  date_of_birth               date CHECK (date_of_birth >= '1880-01-01'),
  gender                      text,
  phone                       text,
  email                       text,
  address                     text,
  emergency_contact           jsonb,
  -- Substances, generic names or classes, matched case-insensitively by the allergy check.
  allergies                   text[] NOT NULL DEFAULT '{}',
  medical_history_ciphertext  text,
  medical_history_key_version integer CHECK (medical_history_key_version > 0),
  insurance_info              jsonb,
  status                      text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'INACTIVE', 'DECEASED')),
  created_at                  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at                  timestamptz(3) NOT NULL DEFAULT now(),
  deleted_at                  timestamptz(3),
  CONSTRAINT patients_medical_history_keyed CHECK ((medical_history_ciphertext IS NULL) = (medical_history_key_version IS NULL))
);
CREATE INDEX patients_last_name_prefix_idx ON patients (lower(last_name) text_pattern_ops);
CREATE INDEX patients_first_name_prefix_idx ON patients (lower(first_name) text_pattern_ops);
CREATE INDEX patients_phone_idx ON patients (phone) WHERE phone IS NOT NULL;
CREATE INDEX patients_branch_idx ON patients (branch_id);

-- owner: pharmacy. valid_until is set by the application (date_prescribed + the tenant's
-- prescription_validity_days unless the prescriber says otherwise).
CREATE TABLE prescriptions (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  prescription_number text NOT NULL UNIQUE,
  branch_id           uuid NOT NULL,
  patient_id          uuid NOT NULL REFERENCES patients (id),
  prescriber_name     text NOT NULL CHECK (length(btrim(prescriber_name)) > 0),
  prescriber_license  text,
  date_prescribed     date NOT NULL,
  valid_until         date NOT NULL,
  diagnosis           text,
  notes               text,
  status              text NOT NULL DEFAULT 'PENDING'
                      CHECK (status IN ('PENDING', 'VERIFIED', 'PARTIALLY_DISPENSED', 'DISPENSED', 'CANCELLED')),
  verified_by         uuid,
  verified_at         timestamptz(3),
  -- The pharmacist who last dispensed against it; each fill is in dispensed_items.
  pharmacist_id       uuid,
  dispensed_at        timestamptz(3),
  created_by          uuid NOT NULL,
  created_at          timestamptz(3) NOT NULL DEFAULT now(),
  updated_at          timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT prescriptions_validity CHECK (valid_until >= date_prescribed),
  CONSTRAINT prescriptions_verification CHECK ((verified_by IS NULL) = (verified_at IS NULL)),
  CONSTRAINT prescriptions_dispensed_by CHECK (status NOT IN ('PARTIALLY_DISPENSED', 'DISPENSED') OR (dispensed_at IS NOT NULL AND pharmacist_id IS NOT NULL))
);
CREATE INDEX prescriptions_branch_status_time_idx ON prescriptions (branch_id, status, created_at DESC);
CREATE INDEX prescriptions_patient_idx ON prescriptions (patient_id, date_prescribed DESC);

-- owner: pharmacy. quantity_dispensed grows with each partial fill (conditional UPDATE, like stock).
CREATE TABLE prescription_items (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  prescription_id    uuid NOT NULL REFERENCES prescriptions (id) ON DELETE CASCADE,
  product_id         uuid NOT NULL REFERENCES products (id),
  quantity           integer NOT NULL CHECK (quantity > 0),
  quantity_dispensed integer NOT NULL DEFAULT 0
                     CONSTRAINT prescription_items_dispensed_within_quantity CHECK (quantity_dispensed >= 0 AND quantity_dispensed <= quantity),
  dosage             text NOT NULL CHECK (length(btrim(dosage)) > 0),
  instructions       text,
  -- When known, a batch that expires before the course ends is refused.
  course_days        integer CHECK (course_days > 0)
);
CREATE INDEX prescription_items_prescription_idx ON prescription_items (prescription_id);
CREATE INDEX prescription_items_product_idx ON prescription_items (product_id);

-- owner: pharmacy. One row per fill per batch; the matching DISPENSE movement has reference_id =
-- the prescription's id.
CREATE TABLE dispensed_items (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  prescription_item_id uuid NOT NULL REFERENCES prescription_items (id),
  batch_id             uuid NOT NULL REFERENCES inventory_batches (id),
  quantity             integer NOT NULL CHECK (quantity > 0),
  dispensed_by         uuid NOT NULL,
  dispensed_at         timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX dispensed_items_prescription_item_idx ON dispensed_items (prescription_item_id);
CREATE INDEX dispensed_items_batch_idx ON dispensed_items (batch_id);

-- owner: pharmacy. Interaction groups a tenant adds on top of the shipped ONC high-priority list.
-- Keys are lowercase INNs or uppercase ATC codes/prefixes; a pair is symmetric and stored once.
CREATE TABLE interaction_rules (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  left_key   text NOT NULL CHECK (length(btrim(left_key)) > 0),
  right_key  text NOT NULL CHECK (length(btrim(right_key)) > 0),
  severity   text NOT NULL CHECK (severity IN ('CONTRAINDICATED', 'MAJOR', 'MODERATE', 'MINOR')),
  message    text NOT NULL,
  source     text,
  is_active  boolean NOT NULL DEFAULT true,
  created_by uuid,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX interaction_rules_pair_key
  ON interaction_rules (least(lower(left_key), lower(right_key)), greatest(lower(left_key), lower(right_key)));

-- owner: pharmacy. Every alert shown and every override (who, why, when) is kept. prescription_id
-- is NULL for alerts raised at the till or by an ad-hoc check.
CREATE TABLE safety_alerts (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  prescription_id uuid REFERENCES prescriptions (id),
  patient_id      uuid REFERENCES patients (id),
  kind            text NOT NULL CHECK (kind IN ('INTERACTION', 'ALLERGY', 'DOUBLE_DOCTORING')),
  severity        text NOT NULL CHECK (severity IN ('CONTRAINDICATED', 'MAJOR', 'MODERATE', 'MINOR')),
  message         text NOT NULL,
  product_ids     uuid[] NOT NULL DEFAULT '{}',
  raised_by       uuid,
  overridden_by   uuid,
  override_reason text,
  overridden_at   timestamptz(3),
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT safety_alerts_override_complete CHECK ((overridden_by IS NULL) = (overridden_at IS NULL)),
  CONSTRAINT safety_alerts_override_reason CHECK (overridden_by IS NULL OR coalesce(length(btrim(override_reason)), 0) > 0)
);
CREATE INDEX safety_alerts_prescription_idx ON safety_alerts (prescription_id) WHERE prescription_id IS NOT NULL;
CREATE INDEX safety_alerts_patient_time_idx ON safety_alerts (patient_id, created_at DESC) WHERE patient_id IS NOT NULL;

-- owner: pharmacy. The controlled-substance register (append-only; trigger below), one row per
-- stock movement of a controlled product, written in the movement's transaction. balance_after is
-- the branch's balance of the PRODUCT (all batches), the running balance an inspector reads:
-- compute it while holding a lock that serialises the product at the branch (e.g. the
-- product_branch_settings row FOR UPDATE), else two concurrent fills can record the same balance.
CREATE TABLE controlled_register (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  branch_id       uuid NOT NULL,
  product_id      uuid NOT NULL REFERENCES products (id),
  batch_id        uuid NOT NULL,
  movement_id     uuid NOT NULL UNIQUE REFERENCES stock_movements (id),
  quantity        integer NOT NULL CHECK (quantity <> 0),
  balance_after   integer NOT NULL CHECK (balance_after >= 0),
  reference       text,
  patient_id      uuid REFERENCES patients (id),
  prescription_id uuid REFERENCES prescriptions (id),
  pharmacist_id   uuid,
  occurred_at     timestamptz(3) NOT NULL DEFAULT now(),
  FOREIGN KEY (batch_id, branch_id, product_id) REFERENCES inventory_batches (id, branch_id, product_id)
);
CREATE INDEX controlled_register_branch_time_idx ON controlled_register (branch_id, occurred_at);
CREATE INDEX controlled_register_branch_product_time_idx ON controlled_register (branch_id, product_id, occurred_at);
CREATE INDEX controlled_register_patient_idx ON controlled_register (patient_id, occurred_at) WHERE patient_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- Tills, sales, payments (pos)
-- ---------------------------------------------------------------------------------------------

-- owner: pos
CREATE TABLE tills (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  branch_id  uuid NOT NULL,
  name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
  is_active  boolean NOT NULL DEFAULT true,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  UNIQUE (branch_id, name)
);

-- owner: pos. Opens with a float; closes with counted cash (counted_tenders: per method, decimal
-- strings) against expected cash; variance = counted - expected (the Z-report).
CREATE TABLE till_sessions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  till_id         uuid NOT NULL REFERENCES tills (id),
  branch_id       uuid NOT NULL,
  opened_by       uuid NOT NULL,
  opening_float   numeric(14,2) NOT NULL DEFAULT 0 CHECK (opening_float >= 0),
  opened_at       timestamptz(3) NOT NULL DEFAULT now(),
  closed_by       uuid,
  closed_at       timestamptz(3),
  counted_cash    numeric(14,2) CHECK (counted_cash >= 0),
  expected_cash   numeric(14,2),
  variance        numeric(14,2),
  counted_tenders jsonb,
  status          text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLOSED')),
  CONSTRAINT till_sessions_closed_at CHECK ((status = 'CLOSED') = (closed_at IS NOT NULL)),
  CONSTRAINT till_sessions_close_complete CHECK (status = 'OPEN' OR (closed_by IS NOT NULL AND counted_cash IS NOT NULL AND expected_cash IS NOT NULL AND variance IS NOT NULL)),
  CONSTRAINT till_sessions_variance CHECK (variance IS NULL OR variance = counted_cash - expected_cash)
);
CREATE UNIQUE INDEX till_sessions_one_open_per_till ON till_sessions (till_id) WHERE status = 'OPEN';
CREATE INDEX till_sessions_branch_time_idx ON till_sessions (branch_id, opened_at DESC);

-- owner: pos. Amounts per DOMAIN.md: with prices_include_tax (the tenant setting, copied onto the
-- sale) tax_amount is the VAT contained and total = subtotal - discount; otherwise
-- total = subtotal + tax - discount. Sales are never deleted: voids and refunds change status.
-- Monthly partitioning by created_at can come later; it will need the primary key to become
-- (id, created_at) and the child tables to carry the sale's created_at, so nothing else may
-- assume sales.id alone is unique across partitions (keep lookups by id through this table).
CREATE TABLE sales (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sale_number        text NOT NULL UNIQUE,
  branch_id          uuid NOT NULL,
  till_session_id    uuid REFERENCES till_sessions (id),
  patient_id         uuid REFERENCES patients (id),
  cashier_id         uuid NOT NULL,
  subtotal           numeric(14,2) NOT NULL CHECK (subtotal >= 0),
  tax_amount         numeric(14,2) NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
  discount_amount    numeric(14,2) NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
  total_amount       numeric(14,2) NOT NULL CHECK (total_amount >= 0),
  prices_include_tax boolean NOT NULL,
  payment_method     text NOT NULL CHECK (payment_method IN ('CASH', 'CARD', 'MOBILE_MONEY', 'INSURANCE')),
  payment_status     text NOT NULL DEFAULT 'PENDING' CHECK (payment_status IN ('PENDING', 'PAID', 'PARTIALLY_PAID', 'REFUNDED')),
  status             text NOT NULL DEFAULT 'COMPLETED' CHECK (status IN ('COMPLETED', 'REFUNDED', 'VOIDED')),
  prescription_ids   uuid[] NOT NULL DEFAULT '{}',
  -- Returned by the ZRA VSDC; NULL until the Smart Invoice submission succeeds.
  zra_receipt_number text,
  created_at         timestamptz(3) NOT NULL DEFAULT now(),
  updated_at         timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT sales_discount_within_subtotal CHECK (discount_amount <= subtotal),
  CONSTRAINT sales_total CHECK (total_amount = CASE WHEN prices_include_tax THEN subtotal - discount_amount
                                                 ELSE subtotal + tax_amount - discount_amount END)
);
CREATE INDEX sales_branch_time_idx ON sales (branch_id, created_at DESC);
CREATE INDEX sales_patient_time_idx ON sales (patient_id, created_at DESC);
CREATE INDEX sales_till_session_idx ON sales (till_session_id) WHERE till_session_id IS NOT NULL;

-- owner: pos. One line per batch taken (a cart line split FEFO across batches gives several rows).
-- Product, batch number, price and tax are copied at sale time: the receipt never changes.
CREATE TABLE sale_items (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sale_id         uuid NOT NULL REFERENCES sales (id),
  product_id      uuid NOT NULL REFERENCES products (id),
  batch_id        uuid NOT NULL REFERENCES inventory_batches (id),
  batch_number    text NOT NULL,
  quantity        integer NOT NULL CHECK (quantity > 0),
  unit_price      numeric(14,2) NOT NULL CHECK (unit_price >= 0),
  tax_category    text NOT NULL CHECK (tax_category IN ('STANDARD', 'ZERO_RATED', 'EXEMPT')),
  tax_rate        numeric(7,4) NOT NULL CHECK (tax_rate >= 0 AND tax_rate < 1),
  tax_amount      numeric(14,2) NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
  discount_amount numeric(14,2) NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
  line_total      numeric(14,2) NOT NULL CHECK (line_total >= 0)
);
CREATE INDEX sale_items_sale_idx ON sale_items (sale_id);
-- Recall tracing: who bought from batch X.
CREATE INDEX sale_items_batch_idx ON sale_items (batch_id);

-- owner: pos. Mobile money is request-to-pay: PENDING until the payer approves; the provider's
-- reference is the idempotency key of the charge (a retry re-queries, it never charges again).
CREATE TABLE payments (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sale_id            uuid NOT NULL REFERENCES sales (id),
  method             text NOT NULL CHECK (method IN ('CASH', 'CARD', 'MOBILE_MONEY', 'INSURANCE')),
  amount             numeric(14,2) NOT NULL CHECK (amount > 0),
  tendered           numeric(14,2) CONSTRAINT payments_tendered_covers_amount CHECK (tendered >= amount),
  change_given       numeric(14,2) CHECK (change_given >= 0),
  currency           char(3) NOT NULL DEFAULT 'ZMW',
  provider           text,
  provider_reference text UNIQUE,
  provider_response  jsonb,
  status             text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED', 'REFUNDED')),
  processed_at       timestamptz(3),
  created_at         timestamptz(3) NOT NULL DEFAULT now(),
  updated_at         timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT payments_processed_at CHECK (status <> 'COMPLETED' OR processed_at IS NOT NULL)
);
CREATE INDEX payments_sale_idx ON payments (sale_id);
-- The mobile-money poller's work list.
CREATE INDEX payments_pending_idx ON payments (created_at) WHERE status = 'PENDING';

-- owner: pos. A sale is refunded once, in full (UNIQUE sale_id); the restock is REFUND movements.
CREATE TABLE refunds (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sale_id            uuid NOT NULL UNIQUE REFERENCES sales (id),
  till_session_id    uuid REFERENCES till_sessions (id),
  amount             numeric(14,2) NOT NULL CHECK (amount >= 0),
  reason             text NOT NULL CHECK (length(btrim(reason)) > 0),
  refunded_by        uuid NOT NULL,
  -- The ZRA credit note (receipt type R).
  zra_receipt_number text,
  created_at         timestamptz(3) NOT NULL DEFAULT now()
);

-- owner: pos. Insert (scope, key) in the same transaction as the resource: the primary key makes a
-- concurrent retry wait for the first transaction and then fail, after which it reads the stored
-- response. Same key with a different request_hash is a conflict.
CREATE TABLE idempotency_keys (
  scope        text NOT NULL,
  key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash text NOT NULL,
  response     jsonb,
  resource_id  uuid,
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- owner: pos (used by all three). Readable gapless numbers, e.g. name 'sale:LSK01' -> LSK01-000123.
-- next_value is the next number to hand out. Take one with
--   INSERT INTO number_sequences (name, next_value) VALUES ($1, 2)
--   ON CONFLICT (name) DO UPDATE SET next_value = number_sequences.next_value + 1
--   RETURNING next_value - 1
-- The row stays locked until commit, so take the number as late in the transaction as possible.
CREATE TABLE number_sequences (
  name       text PRIMARY KEY,
  next_value bigint NOT NULL DEFAULT 1 CHECK (next_value > 0)
);

-- ---------------------------------------------------------------------------------------------
-- Audit, compliance, events (cross-cutting)
-- ---------------------------------------------------------------------------------------------

-- owner: all subgraphs write; tenant subgraph reads (auditLogs). Append-only (trigger below).
-- entity_id is text because some audited entities have composite or non-uuid keys.
CREATE TABLE audit_logs (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  branch_id      uuid,
  user_id        uuid NOT NULL,
  action         text NOT NULL,
  entity_type    text NOT NULL,
  entity_id      text,
  old_values     jsonb,
  new_values     jsonb,
  ip_address     text,
  user_agent     text,
  correlation_id text,
  session_id     text,
  "timestamp"    timestamptz(3) NOT NULL DEFAULT now(),
  metadata       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_logs_entity_type_time_idx ON audit_logs (entity_type, "timestamp" DESC, id DESC);
CREATE INDEX audit_logs_time_idx ON audit_logs ("timestamp" DESC, id DESC);
CREATE INDEX audit_logs_entity_idx ON audit_logs (entity_type, entity_id, "timestamp" DESC);

-- owner: pharmacy (controlled substances, expiry, overrides); others may report.
CREATE TABLE compliance_events (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  branch_id        uuid,
  event_type       text NOT NULL,
  severity         text NOT NULL DEFAULT 'info' CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
  description      text,
  data             jsonb NOT NULL DEFAULT '{}',
  reported_by      uuid,
  reported_at      timestamptz(3) NOT NULL DEFAULT now(),
  resolved_by      uuid,
  resolved_at      timestamptz(3),
  resolution_notes text
);
CREATE INDEX compliance_events_branch_time_idx ON compliance_events (branch_id, reported_at DESC);
CREATE INDEX compliance_events_open_idx ON compliance_events (reported_at) WHERE resolved_at IS NULL;

-- owner: all subgraphs write in their business transaction; the relay publishes and sets
-- published_at. A message bus outage therefore never fails a sale, and nothing is lost.
CREATE TABLE outbox (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_type   text NOT NULL,
  aggregate_id uuid NOT NULL,
  branch_id    uuid,
  payload      jsonb NOT NULL,
  attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  published_at timestamptz(3)
);
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;

-- ---------------------------------------------------------------------------------------------
-- Append-only ledgers
-- ---------------------------------------------------------------------------------------------

-- The application role has UPDATE and DELETE on every table (the runner grants them); these
-- triggers take them back for the ledgers, whose rows are evidence. A correction is a new row.
-- SQLSTATE 42501 (insufficient_privilege): Prisma reports it as P2039 with the message intact.
-- Retention purges run as the schema owner with the trigger disabled for that transaction.
CREATE FUNCTION refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements
  FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER stock_movements_no_truncate BEFORE TRUNCATE ON stock_movements
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();

CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();

CREATE TRIGGER controlled_register_append_only BEFORE UPDATE OR DELETE ON controlled_register
  FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER controlled_register_no_truncate BEFORE TRUNCATE ON controlled_register
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
