/** What the SafetyWarning type is resolved from (the check itself lives in @umi/supply, shared with the till). */
export type { WarningRow } from '@umi/supply';
