import DataLoader from 'dataloader';
import { byId, groupBy, sql, tables, validIds } from '@umi/db';
import type { Patient, Prescription, PrescriptionItem, SafetyAlert } from '@umi/db/tenant-models';
import { requireTenant, type LoaderScope, type SubgraphRuntime } from '@umi/subgraph';

/** One batch's units handed over in a fill, with the batch and the prescription line it came from. */
export interface DispensedRow {
  id: string;
  product_id: string;
  quantity: number;
  batch_number: string;
  expiry_date: string;
  dispensed_by: string;
  dispensed_at: Date;
  prescription_id: string;
}

/**
 * Per-request loaders over the caller's tenant schema: every lookup of a request is batched into
 * one query per kind, and results come back in key order (null or [] for misses).
 */
export function createLoaders(scope: LoaderScope<SubgraphRuntime>) {
  const db = () => requireTenant(scope).db;
  return {
    patientById: new DataLoader<string, Patient | null>(async (ids) => byId(ids, await db().patient.findMany({ where: { id: { in: validIds(ids) } } }))),
    prescriptionById: new DataLoader<string, Prescription | null>(async (ids) =>
      byId(ids, await db().prescription.findMany({ where: { id: { in: validIds(ids) } } })),
    ),
    /** Every prescription of each patient, newest first. */
    prescriptionsByPatient: new DataLoader<string, Prescription[]>(async (ids) => {
      const rows = await db().prescription.findMany({
        where: { patientId: { in: validIds(ids) } },
        orderBy: [{ datePrescribed: 'desc' }, { createdAt: 'desc' }, { id: 'desc' }],
      });
      const groups = groupBy(rows, (r) => r.patientId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    itemsByPrescription: new DataLoader<string, PrescriptionItem[]>(async (ids) => {
      const rows = await db().prescriptionItem.findMany({ where: { prescriptionId: { in: validIds(ids) } }, orderBy: [{ lineNo: 'asc' }, { id: 'asc' }] });
      const groups = groupBy(rows, (r) => r.prescriptionId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    alertsByPrescription: new DataLoader<string, SafetyAlert[]>(async (ids) => {
      const rows = await db().safetyAlert.findMany({ where: { prescriptionId: { in: validIds(ids) } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      const groups = groupBy(rows, (r) => r.prescriptionId ?? '');
      return ids.map((id) => groups.get(id) ?? []);
    }),
    /** The sales that supplied each prescription: named on the sale, or linked through its fills. */
    salesByPrescription: new DataLoader<string, string[]>(async (ids) => {
      const rows = await db().sql.query<{ prescription_id: string; sale_id: string }>(
        sql`SELECT x.prescription_id::text, s.id::text AS sale_id FROM (
              SELECT unnest(prescription_ids) AS prescription_id, id FROM ${tables.sales} WHERE prescription_ids && ${validIds(ids)}::uuid[]
              UNION
              SELECT i.prescription_id, d.sale_id FROM ${tables.dispensed_items} d JOIN ${tables.prescription_items} i ON i.id = d.prescription_item_id
              WHERE d.sale_id IS NOT NULL AND i.prescription_id = ANY(${validIds(ids)}::uuid[])
            ) x JOIN ${tables.sales} s ON s.id = x.id
            WHERE x.prescription_id = ANY(${validIds(ids)}::uuid[])
            ORDER BY s.created_at, s.id`,
      );
      const groups = groupBy(rows, (r) => r.prescription_id);
      return ids.map((id) => (groups.get(id) ?? []).map((r) => r.sale_id));
    }),
    dispensedByPrescription: new DataLoader<string, DispensedRow[]>(async (ids) => {
      const rows = await db().sql.query<DispensedRow>(
        sql`SELECT d.id::text, i.product_id::text, d.quantity, b.batch_number, b.expiry_date::text, d.dispensed_by::text, d.dispensed_at,
                   i.prescription_id::text
            FROM ${tables.dispensed_items} d
            JOIN ${tables.prescription_items} i ON i.id = d.prescription_item_id
            JOIN ${tables.inventory_batches} b ON b.id = d.batch_id
            WHERE i.prescription_id = ANY(${validIds(ids)}::uuid[])
            ORDER BY d.dispensed_at, d.id`,
      );
      const groups = groupBy(rows, (r) => r.prescription_id);
      return ids.map((id) => groups.get(id) ?? []);
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
