import { scalarResolvers } from '@umi/kit';
import { Query } from './Query';
import { Mutation } from './Mutation';
import { ControlledRegisterLine, DispensedItem, Patient, Prescription, PrescriptionItem, SafetyWarning } from './types';

export const resolvers = { ...scalarResolvers, Query, Mutation, Patient, Prescription, PrescriptionItem, DispensedItem, SafetyWarning, ControlledRegisterLine };
