import { parseInput, uuidSchema } from '@umi/kit';
import type { QueryResolvers } from '../generated/resolvers';
import { requireBranch } from '../policy';
import { listPatients } from '../services/patients';
import { checkInteractions, listPrescriptions } from '../services/prescriptions';
import { batchRecall } from '../services/recall';
import { controlledRegister, controlledRegisterExport } from '../services/register';
import { listInteractionRules } from '../services/rules';

export const Query: QueryResolvers = {
  /** A deleted patient is not found here; references from history (sales, the register) still resolve it. */
  patient: async (_, args, ctx) => {
    const patient = await ctx.loaders.patientById.load(parseInput(uuidSchema, args.id, 'id'));
    return patient && !patient.deletedAt ? patient : null;
  },
  patients: (_, args, ctx) => listPatients(ctx, args),
  prescription: async (_, args, ctx) => {
    const rx = await ctx.loaders.prescriptionById.load(parseInput(uuidSchema, args.id, 'id'));
    if (!rx) return null;
    await requireBranch(ctx, rx.branchId, 'view', 'id');
    return rx;
  },
  prescriptions: (_, args, ctx) => listPrescriptions(ctx, args),
  checkInteractions: (_, args, ctx) => checkInteractions(ctx, args),
  controlledSubstanceRegister: (_, args, ctx) => controlledRegister(ctx, args),
  controlledRegisterExport: (_, args, ctx) => controlledRegisterExport(ctx, args),
  batchRecall: (_, args, ctx) => batchRecall(ctx, args),
  interactionRules: (_, __, ctx) => listInteractionRules(ctx),
};
