import { tenantScope, type PharmacyContext } from '../context';

export const Prescription = {
  __resolveReference: (ref: { id: string }, ctx: PharmacyContext) => tenantScope(ctx).loaders.prescriptionById.load(ref.id),
};
