import { scalarResolvers } from '@umi/kit';
import type { Resolvers } from '../generated/resolvers';
import { BatchRecall, RecallBatch, RecallMovement } from './BatchRecall';
import { ControlledRegisterExport, RegisterBalance } from './ControlledRegisterExport';
import { ControlledRegisterLine } from './ControlledRegisterLine';
import { DispensedItem } from './DispensedItem';
import { InteractionRule } from './InteractionRule';
import { Mutation } from './Mutation';
import { Patient } from './Patient';
import { Prescription } from './Prescription';
import { PrescriptionItem } from './PrescriptionItem';
import { Query } from './Query';
import { SafetyWarning } from './SafetyWarning';

/** The pharmacy subgraph's resolvers, checked against its SDL by the generated `Resolvers` type. */
export const resolvers: Resolvers = {
  ...scalarResolvers,
  Query,
  Mutation,
  Patient,
  Prescription,
  PrescriptionItem,
  DispensedItem,
  SafetyWarning,
  ControlledRegisterLine,
  ControlledRegisterExport,
  RegisterBalance,
  BatchRecall,
  RecallBatch,
  RecallMovement,
  InteractionRule,
};
