import type { Patient } from '@umi/db/tenant-models';
import { ref } from '@umi/subgraph';
import type { BatchRecallResolvers, RecallBatchResolvers, RecallMovementResolvers } from '../generated/resolvers';

export const BatchRecall: BatchRecallResolvers = {
  patients: async (r, _, ctx) => (await ctx.loaders.patientById.loadMany(r.patientIds)).filter((p): p is Patient => p !== null && !(p instanceof Error)),
};

export const RecallBatch: RecallBatchResolvers = {
  branch: (b) => ref('Branch', b.branch_id),
  product: (b) => ref('Product', b.product_id),
  batchNumber: (b) => b.batch_number,
  expiryDate: (b) => b.expiry_date,
  quantityOnHand: (b) => b.quantity_on_hand,
};

export const RecallMovement: RecallMovementResolvers = {
  occurredAt: (m) => m.occurred_at,
  movementType: (m) => m.movement_type,
  branch: (m) => ref('Branch', m.branch_id),
  product: (m) => ref('Product', m.product_id),
  batchNumber: (m) => m.batch_number,
  sale: (m) => (m.sale_id ? ref('Sale', m.sale_id) : null),
  prescription: (m, _, ctx) => (m.prescription_id ? ctx.loaders.prescriptionById.load(m.prescription_id) : null),
  patient: (m, _, ctx) => (m.patient_id ? ctx.loaders.patientById.load(m.patient_id) : null),
  counterpartBranch: (m) => (m.counterpart_branch_id ? ref('Branch', m.counterpart_branch_id) : null),
};
