import type { MutationResolvers } from '../generated/resolvers';
import type { PharmacyContext } from '../context';
import { createPatient, updatePatient } from '../services/patients';
import { cancelPrescription, createPrescription, verifyPrescription } from '../services/prescriptions';
import { dispensePrescription } from '../services/dispensing';
import { createInteractionRule, deactivateInteractionRule } from '../services/rules';

/** A dispensed prescription is read after its transaction commits, through the request's loader. */
async function prescriptionById(ctx: PharmacyContext, id: string) {
  const loader = ctx.loaders.prescriptionById;
  loader.clear(id);
  const rx = await loader.load(id);
  if (!rx) throw new Error(`prescription ${id} vanished after its transaction`);
  return rx;
}

export const Mutation: MutationResolvers = {
  createPatient: (_, args, ctx) => createPatient(ctx, args.input),
  updatePatient: (_, args, ctx) => updatePatient(ctx, args.id, args.input),
  createPrescription: (_, args, ctx) => createPrescription(ctx, args.input),
  verifyPrescription: (_, args, ctx) => verifyPrescription(ctx, args.id),
  cancelPrescription: (_, args, ctx) => cancelPrescription(ctx, args.id, args.reason),
  dispensePrescription: async (_, args, ctx) => {
    const id = await dispensePrescription(ctx, args);
    // Committed: the supply is counted once its transaction is in (a refused dispensing is not).
    ctx.deps.prescriptionsProcessed.inc();
    return prescriptionById(ctx, id);
  },
  createInteractionRule: (_, args, ctx) => createInteractionRule(ctx, args.input),
  deactivateInteractionRule: (_, args, ctx) => deactivateInteractionRule(ctx, args.id),
};
