import { sql, tables, type SqlRunner } from '@umi/db';
import { CREDIT_NOTE_REASONS, type CreditNoteReason } from './codes';

export type FiscalDocumentRequest =
  | { kind: 'SALE'; saleId: string }
  | { kind: 'CREDIT_NOTE'; refundId: string; reason?: CreditNoteReason | null };

/** Credit notes of refunds that name no reason: a return of the wrong item is the common case at a pharmacy till. */
export const DEFAULT_CREDIT_NOTE_REASON: CreditNoteReason = 'WRONG_PRODUCT';

/**
 * The invoice of a paid sale as checkout queues it: a write for `numberSale` (@umi/supply), run in
 * the statement that gives the sale its number, since the invoice number IS the sale number and
 * that statement is checkout's last. Reads the CTE `numbered`; same rules as `enqueueFiscal`.
 */
export const fiscalInvoiceOfNumberedSale = sql`INSERT INTO ${tables.fiscal_documents} (branch_id, kind, sale_id, invoice_number)
  SELECT n.branch_id, 'SALE', n.id, n.sale_number FROM numbered n
  WHERE EXISTS (SELECT 1 FROM ${tables.fiscal_devices} d WHERE d.branch_id = n.branch_id)
  ON CONFLICT DO NOTHING`;

/**
 * Queues a paid sale's invoice or a refund's credit note for the fiscal worker, in the caller's
 * transaction: the document exists exactly when the sale or refund commits, and the till never
 * waits for the VSDC. Nothing is queued at a branch without a VSDC device (a tenant that is not
 * VAT-registered), nor a credit note of a sale that was never queued (it has no receipt to
 * reference). Queuing the same sale twice is harmless.
 */
export async function enqueueFiscal(tx: { sql: SqlRunner }, doc: FiscalDocumentRequest): Promise<void> {
  if (doc.kind === 'SALE') {
    await tx.sql.execute(
      sql`INSERT INTO ${tables.fiscal_documents} (branch_id, kind, sale_id, invoice_number)
          SELECT s.branch_id, 'SALE', s.id, s.sale_number FROM ${tables.sales} s
          WHERE s.id = ${doc.saleId}::uuid AND EXISTS (SELECT 1 FROM ${tables.fiscal_devices} d WHERE d.branch_id = s.branch_id)
          ON CONFLICT DO NOTHING`,
    );
    return;
  }
  // The n-th credit note of a sale is <sale number>-R<n>; refunds of a sale hold its row lock, so n is never taken twice.
  await tx.sql.execute(
    sql`INSERT INTO ${tables.fiscal_documents} (branch_id, kind, sale_id, refund_id, invoice_number, reason_code)
        SELECT r.branch_id, 'CREDIT_NOTE', r.sale_id, r.id,
               s.sale_number || '-R' || (SELECT count(*) + 1 FROM ${tables.fiscal_documents} f WHERE f.sale_id = r.sale_id AND f.kind = 'CREDIT_NOTE'),
               ${CREDIT_NOTE_REASONS[doc.reason ?? DEFAULT_CREDIT_NOTE_REASON]}
        FROM ${tables.refunds} r JOIN ${tables.sales} s ON s.id = r.sale_id
        WHERE r.id = ${doc.refundId}::uuid
          AND EXISTS (SELECT 1 FROM ${tables.fiscal_documents} f WHERE f.sale_id = r.sale_id AND f.kind = 'SALE')
        ON CONFLICT DO NOTHING`,
  );
}
