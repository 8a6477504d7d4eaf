import { ref } from '@umi/subgraph';
import type { PatientResolvers } from '../generated/resolvers';
import { readMedicalHistory } from '../services/patients';

export const Patient: PatientResolvers = {
  __resolveReference: (r, ctx) => ctx.loaders.patientById.load(r.id),
  medicalHistory: (p, _, ctx) => readMedicalHistory(ctx, p),
  homeBranch: (p) => ref('Branch', p.branchId),
  prescriptions: async (p, args, ctx) => {
    const all = await ctx.loaders.prescriptionsByPatient.load(p.id);
    return args.status ? all.filter((rx) => rx.status === args.status) : all;
  },
};
