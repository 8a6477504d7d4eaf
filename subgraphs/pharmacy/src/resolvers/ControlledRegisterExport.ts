import { ref } from '@umi/subgraph';
import type { ControlledRegisterExportResolvers, RegisterBalanceResolvers } from '../generated/resolvers';

export const ControlledRegisterExport: ControlledRegisterExportResolvers = {
  broughtForward: (e) => e.broughtForward(),
  carriedForward: (e) => e.carriedForward(),
};

export const RegisterBalance: RegisterBalanceResolvers = {
  product: (b) => ref('Product', b.product_id),
};
