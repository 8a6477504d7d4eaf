import { tenantScope, type PharmacyContext } from '../context';

export const Query = {
  /** A deleted patient is not found here; references from history (sales, the register) still resolve it. */
  patient: async (_: unknown, args: { id: string }, ctx: PharmacyContext) => {
    const patient = await tenantScope(ctx).loaders.patientById.load(args.id);
    return patient && !patient.deletedAt ? patient : null;
  },
};
