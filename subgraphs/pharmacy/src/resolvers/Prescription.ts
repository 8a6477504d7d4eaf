import { ref } from '@umi/subgraph';
import type { PrescriptionResolvers } from '../generated/resolvers';
import { branchRules } from '../policy';

export const Prescription: PrescriptionResolvers = {
  /** A prescription of a branch the caller may not see resolves to null, as through `prescription(id)`. */
  __resolveReference: async (r, ctx) => {
    const rx = await ctx.loaders.prescriptionById.load(r.id);
    return rx && ctx.scope && branchRules.view(ctx.scope.principal, rx.branchId) ? rx : null;
  },
  patient: async (rx, _, ctx) => {
    const patient = await ctx.loaders.patientById.load(rx.patientId);
    if (!patient) throw new Error(`patient ${rx.patientId} of prescription ${rx.id} is missing`);
    return patient;
  },
  branch: (rx) => ref('Branch', rx.branchId),
  items: (rx, _, ctx) => ctx.loaders.itemsByPrescription.load(rx.id),
  warnings: (rx, _, ctx) => ctx.loaders.alertsByPrescription.load(rx.id),
  verifiedBy: (rx) => (rx.verifiedBy ? ref('User', rx.verifiedBy) : null),
  pharmacist: (rx) => (rx.pharmacistId ? ref('User', rx.pharmacistId) : null),
  dispensedItems: (rx, _, ctx) => ctx.loaders.dispensedByPrescription.load(rx.id),
  sales: async (rx, _, ctx) => (await ctx.loaders.salesByPrescription.load(rx.id)).map((id) => ref('Sale', id)),
};
