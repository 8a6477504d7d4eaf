-- Index review for a thousand tenants (issue 17): every index is a relation in every tenant schema
-- (catalog rows, provisioning DDL, buffers, a write on every INSERT). These had no query behind
-- them; bench/README.md ("Tenant schema index review") lists every index of a tenant schema with
-- the query that uses it. None of these backs a primary key, a unique rule, a foreign key or a
-- lock order.

-- Suppliers are listed whole, ordered by name; nothing searches them by prefix.
DROP INDEX IF EXISTS suppliers_name_prefix_idx;
-- Patients are never read by home branch (search is by name, number or phone).
DROP INDEX IF EXISTS patients_branch_idx;
-- The audit trail is read newest first, whole or by entity type (audit_logs_time_idx,
-- audit_logs_entity_type_time_idx); nothing reads it by entity id. The widest index on the table
-- every mutation writes.
DROP INDEX IF EXISTS audit_logs_entity_idx;
-- Compliance events are written (dispensing, safety checks) and read by no query.
DROP INDEX IF EXISTS compliance_events_branch_time_idx;
DROP INDEX IF EXISTS compliance_events_open_idx;
-- Idempotency keys are looked up by their primary key (scope, key); no job reads them by age.
DROP INDEX IF EXISTS idempotency_keys_created_idx;
-- Pending payments are found by sale or till session (payments_sale_idx,
-- payments_till_session_idx), never by age.
DROP INDEX IF EXISTS payments_pending_idx;
