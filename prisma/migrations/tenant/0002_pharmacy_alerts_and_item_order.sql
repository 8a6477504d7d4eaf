-- The pharmacy's safety check also warns of duplicate therapy (the same ingredient twice, in the
-- new prescription or against the patient's current ones); safety_alerts records every warning shown.
ALTER TABLE safety_alerts DROP CONSTRAINT safety_alerts_kind_check;
ALTER TABLE safety_alerts ADD CONSTRAINT safety_alerts_kind_check
  CHECK (kind IN ('INTERACTION', 'ALLERGY', 'DOUBLE_DOCTORING', 'DUPLICATE'));
-- The rule's provenance (e.g. the ONC high-priority list, or the tenant's own rule), shown with it.
ALTER TABLE safety_alerts ADD COLUMN source text;

-- Prescription items keep the order the prescriber wrote them in.
ALTER TABLE prescription_items ADD COLUMN line_no integer NOT NULL DEFAULT 0 CHECK (line_no >= 0);
