import type { SafetyWarningKind, SafetyWarningResolvers, Severity } from '../generated/resolvers';

/** Stored alerts (SafetyAlert rows) and the warnings of an on-demand check share the SafetyWarning type. */
export const SafetyWarning: SafetyWarningResolvers = {
  kind: (w) => w.kind as SafetyWarningKind,
  severity: (w) => w.severity as Severity,
  overriddenAt: (w) => ('overriddenAt' in w ? w.overriddenAt : null),
  overrideReason: (w) => ('overrideReason' in w ? w.overrideReason : null),
};
