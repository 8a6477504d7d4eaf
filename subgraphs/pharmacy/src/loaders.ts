import DataLoader from 'dataloader';
import { byId, validIds, type TenantClient } from '@umi/db';
import type { Patient, Prescription } from '@umi/db/src/generated/tenant/client';

/**
 * Per-request loaders over the caller's tenant schema: every entity lookup of a request is
 * batched into one query per type, and results come back in key order with null for misses.
 */
export function createLoaders(db: TenantClient) {
  return {
    patientById: new DataLoader<string, Patient | null>(async (ids) =>
      byId(ids, await db.patient.findMany({ where: { id: { in: validIds(ids) } } })),
    ),
    prescriptionById: new DataLoader<string, Prescription | null>(async (ids) =>
      byId(ids, await db.prescription.findMany({ where: { id: { in: validIds(ids) } } })),
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
