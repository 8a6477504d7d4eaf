import { scalarResolvers } from '@umi/kit';
import { Query } from './Query';
import { Patient } from './Patient';
import { Prescription } from './Prescription';

export const resolvers = { ...scalarResolvers, Query, Patient, Prescription };
