import { ref } from '@umi/subgraph';
import type { ControlledRegisterLineResolvers } from '../generated/resolvers';

export const ControlledRegisterLine: ControlledRegisterLineResolvers = {
  timestamp: (r) => r.occurred_at,
  balanceAfter: (r) => r.balance_after,
  batchNumber: (r) => r.batch_number,
  movementType: (r) => r.movement_type,
  product: (r) => ref('Product', r.product_id),
  patient: (r, _, ctx) => (r.patient_id ? ctx.loaders.patientById.load(r.patient_id) : null),
  prescription: (r, _, ctx) => (r.prescription_id ? ctx.loaders.prescriptionById.load(r.prescription_id) : null),
  pharmacist: (r) => (r.pharmacist_id ? ref('User', r.pharmacist_id) : null),
  witness: (r) => (r.witness_id ? ref('User', r.witness_id) : null),
  supplierName: (r) => r.supplier_name,
  deliveryReference: (r) => r.delivery_reference,
};
