import DataLoader from 'dataloader';
import type { TenantClient } from '@umi/db';
import type { Patient, Prescription } from '@umi/db/src/generated/tenant/client';

// Ids are uuid columns: a malformed id is a miss, not a database error.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function byId<T extends { id: string }>(ids: readonly string[], rows: T[]): (T | null)[] {
  const map = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => map.get(id.toLowerCase()) ?? null);
}

function validIds(ids: readonly string[]): string[] {
  return [...new Set(ids.filter((id) => UUID.test(id)).map((id) => id.toLowerCase()))];
}

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
