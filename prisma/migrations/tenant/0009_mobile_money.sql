-- Mobile-money tenders (issue 12): the tenant's provider credentials, encrypted at rest, and one
-- payment attempt per mobile-money payment, recorded in the sale's transaction before anything is
-- sent, so that a request to pay is never sent twice and never lost.

-- A sale waiting for its mobile-money payment is PENDING_PAYMENT (its stock stays allocated)
-- until the provider's answer completes or voids it.
ALTER TABLE sales DROP CONSTRAINT sales_status_check,
  ADD CONSTRAINT sales_status_check CHECK (status IN ('COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'VOIDED', 'PENDING_PAYMENT'));

-- Credentials per provider. The secrets (API key, client secret, subscription key, callback
-- secret) are one AES-GCM ciphertext of a JSON object, bound to the tenant and the provider.
CREATE TABLE mobile_money_settings (
  provider               text PRIMARY KEY CHECK (provider IN ('MTN', 'AIRTEL')),
  base_url               text NOT NULL,
  environment            text NOT NULL,
  callback_base_url      text,
  credentials_ciphertext text NOT NULL,
  credentials_key_version integer NOT NULL,
  is_enabled             boolean NOT NULL DEFAULT true,
  updated_by             uuid,
  created_at             timestamptz(3) NOT NULL DEFAULT now(),
  updated_at             timestamptz(3) NOT NULL DEFAULT now()
);

-- The attempt's id is our reference at the provider (MTN X-Reference-Id, Airtel transaction id).
-- One attempt per payment, ever: a retry re-reads it.
CREATE TABLE payment_attempts (
  id                      uuid PRIMARY KEY,
  payment_id              uuid NOT NULL REFERENCES payments (id),
  sale_id                 uuid NOT NULL REFERENCES sales (id),
  branch_id               uuid NOT NULL,
  provider                text NOT NULL CHECK (provider IN ('MTN', 'AIRTEL')),
  msisdn                  text NOT NULL,
  amount                  numeric(14,2) NOT NULL CHECK (amount > 0),
  currency                char(3) NOT NULL DEFAULT 'ZMW',
  state                   text NOT NULL DEFAULT 'INITIATED' CHECK (state IN ('INITIATED', 'PENDING', 'SUCCEEDED', 'FAILED', 'EXPIRED')),
  provider_status         text,
  provider_transaction_id text,
  reason                  text,
  checks                  integer NOT NULL DEFAULT 0,
  callbacks               integer NOT NULL DEFAULT 0,
  sent_at                 timestamptz(3),
  next_check_at           timestamptz(3) NOT NULL DEFAULT now(),
  -- A worker holds the attempt while it talks to the provider; another worker (or a callback)
  -- leaves it alone until then, so two sends or two finalisations never race.
  locked_until            timestamptz(3),
  expires_at              timestamptz(3) NOT NULL,
  finalized_at            timestamptz(3),
  created_at              timestamptz(3) NOT NULL DEFAULT now(),
  updated_at              timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT payment_attempts_payment_key UNIQUE (payment_id),
  CONSTRAINT payment_attempts_final CHECK ((state IN ('SUCCEEDED', 'FAILED', 'EXPIRED')) = (finalized_at IS NOT NULL))
);
CREATE INDEX payment_attempts_open_idx ON payment_attempts (next_check_at) WHERE finalized_at IS NULL;
CREATE INDEX payment_attempts_sale_idx ON payment_attempts (sale_id);
CREATE INDEX payment_attempts_branch_time_idx ON payment_attempts (branch_id, created_at);
