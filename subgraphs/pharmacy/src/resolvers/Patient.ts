import { tenantScope, type PharmacyContext } from '../context';

export const Patient = {
  __resolveReference: (ref: { id: string }, ctx: PharmacyContext) => tenantScope(ctx).loaders.patientById.load(ref.id),
};
