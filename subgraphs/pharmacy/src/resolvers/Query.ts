import { parseInput, uuidSchema } from '@umi/kit';
import { requireBranch } from '../access';
import { tenantScope, type PharmacyContext } from '../context';
import { listPatients } from '../services/patients';
import { checkInteractions, listPrescriptions } from '../services/prescriptions';
import { controlledRegister } from '../services/register';
import { listInteractionRules } from '../services/rules';

export const Query = {
  /** A deleted patient is not found here; references from history (sales, the register) still resolve it. */
  patient: async (_: unknown, args: { id: string }, ctx: PharmacyContext) => {
    const patient = await tenantScope(ctx).loaders.patientById.load(parseInput(uuidSchema, args.id, 'id'));
    return patient && !patient.deletedAt ? patient : null;
  },
  patients: (_: unknown, args: Record<string, unknown>, ctx: PharmacyContext) => listPatients(ctx, args),
  prescription: async (_: unknown, args: { id: string }, ctx: PharmacyContext) => {
    const rx = await tenantScope(ctx).loaders.prescriptionById.load(parseInput(uuidSchema, args.id, 'id'));
    if (!rx) return null;
    await requireBranch(ctx, rx.branchId, 'view', 'id');
    return rx;
  },
  prescriptions: (_: unknown, args: Record<string, unknown>, ctx: PharmacyContext) => listPrescriptions(ctx, args),
  checkInteractions: (_: unknown, args: Record<string, unknown>, ctx: PharmacyContext) => checkInteractions(ctx, args),
  controlledSubstanceRegister: (_: unknown, args: Record<string, unknown>, ctx: PharmacyContext) => controlledRegister(ctx, args),
  interactionRules: (_: unknown, __: unknown, ctx: PharmacyContext) => listInteractionRules(ctx),
};
