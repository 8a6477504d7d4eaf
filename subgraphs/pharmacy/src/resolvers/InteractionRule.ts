import type { InteractionRuleResolvers, Severity } from '../generated/resolvers';

export const InteractionRule: InteractionRuleResolvers = {
  severity: (r) => r.severity as Severity,
};
