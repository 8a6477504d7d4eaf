-- Issue 12, "Configuration" and "Fiscalisation" (ZRA Smart Invoice through the branch's VSDC):
--  * each branch's VSDC device (ZRA branch id, device serial, URL) and what the device answered
--    when it was initialised;
--  * each product's ZRA codes (item code, item class, packaging and quantity units), and which of
--    them each branch's device has registered (saveItem/updateItem);
--  * the fiscal queue: one row per invoice (a sale) or credit note (a refund), written in the
--    sale's or refund's own transaction and sent after commit by the fiscal worker, in order per
--    branch; the VSDC's answer (receipt number, signature, ...) is stored on the same row;
--  * where the stock sync (saveStockItems/saveStockMaster) of each branch has got to.
-- TPIN, the VAT category mapping and the backlog alert threshold are tenant_settings keys.

-- owner: pos. One VSDC device per branch (ZRA: one device serial per branch id).
CREATE TABLE fiscal_devices (
  branch_id      uuid PRIMARY KEY,
  -- ZRA's branch id: 3 digits, "000" for the head office.
  bhf_id         text NOT NULL CHECK (bhf_id ~ '^[0-9]{3}$'),
  device_serial  text NOT NULL CHECK (length(device_serial) BETWEEN 1 AND 100),
  vsdc_url       text NOT NULL CHECK (vsdc_url ~ '^https?://'),
  -- What selectInitInfo answered; NULL until the worker initialised the device.
  sdc_id         text,
  mrc_number     text,
  initialised_at timestamptz(3),
  -- While the backlog is over the tenant's threshold: the seq of the oldest unsent document when the
  -- alert went out (NULL once it is back under): one alert per episode.
  backlog_alerted_seq bigint,
  updated_by     uuid,
  created_at     timestamptz(3) NOT NULL DEFAULT now(),
  updated_at     timestamptz(3) NOT NULL DEFAULT now()
);

-- owner: pos. A product's ZRA item codes. A product without a row gets defaults (a generated
-- item code, the generic drugs class, box of pieces) the first time it is fiscalised.
CREATE TABLE product_fiscal_codes (
  product_id      uuid PRIMARY KEY,
  item_code       text NOT NULL UNIQUE CHECK (length(item_code) BETWEEN 1 AND 100),
  item_class_code text NOT NULL CHECK (item_class_code ~ '^[0-9]{8,10}$'),
  packaging_unit  text NOT NULL CHECK (length(packaging_unit) BETWEEN 1 AND 10),
  quantity_unit   text NOT NULL CHECK (length(quantity_unit) BETWEEN 1 AND 10),
  -- Country of origin (ZRA code class 05).
  origin_country  text NOT NULL DEFAULT 'ZM',
  updated_by      uuid,
  updated_at      timestamptz(3) NOT NULL DEFAULT now()
);

-- owner: pos. What a branch's device has registered of a product: `fingerprint` is the registered
-- fields; when the product or its codes change the worker sends updateItem.
CREATE TABLE fiscal_item_registrations (
  branch_id     uuid NOT NULL,
  product_id    uuid NOT NULL,
  item_code     text NOT NULL,
  fingerprint   text NOT NULL,
  registered_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at    timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (branch_id, product_id)
);

-- owner: pos. The fiscal queue and its answers. `seq` orders a branch's documents: the worker sends
-- a branch's next document only once the one before has an answer. `payload` is frozen before the
-- first send, so a resend after a crash is the same invoice under the same number (the VSDC answers
-- the receipt it already gave). PENDING: waiting or retrying; FISCALISED: answered 000; REJECTED:
-- the VSDC refused it (910 ...) and a person must look (it stops the branch's queue, on purpose:
-- the next invoice may not be fiscalised before an earlier one).
CREATE TABLE fiscal_documents (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq             bigserial NOT NULL UNIQUE,
  branch_id       uuid NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('SALE', 'CREDIT_NOTE')),
  sale_id         uuid NOT NULL REFERENCES sales (id),
  refund_id       uuid UNIQUE,
  -- Our invoice number (cisInvcNo): the sale number, or the sale number and -R<n> for its n-th credit note.
  invoice_number  text NOT NULL UNIQUE,
  -- Credit note reason (ZRA code class 32: 1 wrong product, 2 wrong price, 3 damaged goods, 4 wrong customer).
  reason_code     text CHECK (reason_code IN ('1', '2', '3', '4')),
  status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'FISCALISED', 'REJECTED')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz(3) NOT NULL DEFAULT now(),
  last_error      text,
  payload         jsonb,
  receipt_number  bigint,
  internal_data   text,
  signature       text,
  sdc_id          text,
  mrc_number      text,
  -- The VSDC's own time of the receipt, as it sent it (yyyyMMddHHmmss, Zambian time).
  vsdc_time       text,
  qr_content      text,
  fiscalised_at   timestamptz(3),
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  CHECK ((kind = 'SALE') = (refund_id IS NULL)),
  CHECK ((kind = 'CREDIT_NOTE') = (reason_code IS NOT NULL)),
  CHECK (status <> 'FISCALISED' OR receipt_number IS NOT NULL)
);
CREATE UNIQUE INDEX fiscal_documents_one_invoice_per_sale ON fiscal_documents (sale_id) WHERE kind = 'SALE';
CREATE INDEX fiscal_documents_sale_idx ON fiscal_documents (sale_id);
CREATE INDEX fiscal_documents_queue_idx ON fiscal_documents (branch_id, seq) WHERE status <> 'FISCALISED';

-- owner: pos. The stock sync's position per branch: movements up to (last_at, last_id) were sent.
CREATE TABLE fiscal_stock_sync (
  branch_id  uuid PRIMARY KEY,
  last_at    timestamptz(3) NOT NULL,
  last_id    uuid NOT NULL,
  -- sarNo of the last stock movement sent (one sequence per device).
  last_sar_no integer NOT NULL DEFAULT 0,
  synced_at  timestamptz(3) NOT NULL DEFAULT now()
);
