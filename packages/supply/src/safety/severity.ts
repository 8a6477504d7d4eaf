/** How serious a safety warning is; CONTRAINDICATED blocks supply unless a pharmacist overrides it with a reason. */
export type Severity = 'CONTRAINDICATED' | 'MAJOR' | 'MODERATE' | 'MINOR';
