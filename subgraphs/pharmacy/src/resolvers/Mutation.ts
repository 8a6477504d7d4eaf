import { tenantScope, type PharmacyContext } from '../context';
import { createPatient, updatePatient } from '../services/patients';
import { cancelPrescription, createPrescription, verifyPrescription } from '../services/prescriptions';
import { dispensePrescription } from '../services/dispensing';
import { createInteractionRule, deactivateInteractionRule } from '../services/rules';

/** Prescriptions are read after their transaction commits, through the request's loader. */
const reload = async (ctx: PharmacyContext, id: string) => {
  const loader = tenantScope(ctx).loaders.prescriptionById;
  loader.clear(id);
  return loader.load(id);
};

export const Mutation = {
  createPatient: (_: unknown, a: { input: unknown }, ctx: PharmacyContext) => createPatient(ctx, a.input),
  updatePatient: (_: unknown, a: { id: string; input: unknown }, ctx: PharmacyContext) => updatePatient(ctx, a.id, a.input),
  createPrescription: (_: unknown, a: { input: unknown }, ctx: PharmacyContext) => createPrescription(ctx, a.input),
  verifyPrescription: (_: unknown, a: { id: string }, ctx: PharmacyContext) => verifyPrescription(ctx, a.id),
  cancelPrescription: (_: unknown, a: { id: string; reason: string }, ctx: PharmacyContext) => cancelPrescription(ctx, a.id, a.reason),
  createInteractionRule: (_: unknown, a: { input: unknown }, ctx: PharmacyContext) => createInteractionRule(ctx, a.input),
  deactivateInteractionRule: (_: unknown, a: { id: string }, ctx: PharmacyContext) => deactivateInteractionRule(ctx, a.id),
  dispensePrescription: async (_: unknown, a: Record<string, unknown>, ctx: PharmacyContext) => reload(ctx, await dispensePrescription(ctx, a)),
};
