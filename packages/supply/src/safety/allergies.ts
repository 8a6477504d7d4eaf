import type { Severity } from './severity';

export type AllergyClassId = 'penicillins' | 'cephalosporins' | 'carbapenems' | 'sulfonamides' | 'nsaids';

export interface AllergyClass {
  id: AllergyClassId;
  /** Singular noun for messages: "Amoxil is a penicillin". */
  noun: string;
  members: readonly string[];
  atcPrefixes: readonly string[];
  /** Severity when the allergy names this class or another of its members. */
  sameClassSeverity: Severity;
}

// ATC groups are narrowed where the broad group holds drugs outside the class: J01CG is the
// beta-lactamase inhibitors alone, J01EA is trimethoprim alone, and M01AX holds glucosamine and
// other non-NSAIDs.
export const ALLERGY_CLASSES: readonly AllergyClass[] = [
  {
    id: 'penicillins',
    noun: 'a penicillin',
    members: ['amoxicillin', 'ampicillin', 'benzylpenicillin', 'phenoxymethylpenicillin', 'cloxacillin', 'flucloxacillin', 'dicloxacillin', 'piperacillin'],
    atcPrefixes: ['J01CA', 'J01CE', 'J01CF', 'J01CR'],
    sameClassSeverity: 'CONTRAINDICATED',
  },
  {
    id: 'cephalosporins',
    noun: 'a cephalosporin',
    members: ['cefalexin', 'cefadroxil', 'cefazolin', 'cefuroxime', 'cefixime', 'ceftriaxone', 'cefotaxime', 'ceftazidime', 'cefepime'],
    atcPrefixes: ['J01DB', 'J01DC', 'J01DD', 'J01DE'],
    sameClassSeverity: 'CONTRAINDICATED',
  },
  {
    id: 'carbapenems',
    noun: 'a carbapenem',
    members: ['meropenem', 'imipenem', 'ertapenem'],
    atcPrefixes: ['J01DH'],
    sameClassSeverity: 'CONTRAINDICATED',
  },
  {
    id: 'sulfonamides',
    noun: 'a sulfonamide antibiotic',
    members: ['sulfamethoxazole', 'sulfadiazine', 'sulfadoxine', 'sulfasalazine'],
    atcPrefixes: ['J01EB', 'J01EC', 'J01ED', 'J01EE', 'A07EC01'],
    sameClassSeverity: 'CONTRAINDICATED',
  },
  {
    // MAJOR rather than CONTRAINDICATED: most cross-reactions between NSAIDs come from COX-1
    // inhibition and selective COX-2 inhibitors are often tolerated, so the pharmacist judges.
    id: 'nsaids',
    noun: 'an NSAID',
    members: ['ibuprofen', 'diclofenac', 'naproxen', 'acetylsalicylic acid', 'indometacin', 'mefenamic acid', 'ketoprofen', 'piroxicam', 'meloxicam', 'celecoxib', 'etoricoxib'],
    atcPrefixes: ['M01AA', 'M01AB', 'M01AC', 'M01AE', 'M01AG', 'M01AH', 'N02BA01', 'B01AC06'],
    sameClassSeverity: 'MAJOR',
  },
];

/** Words patients' allergy lists use for a whole class, and the classes each one names. */
export const ALLERGY_ALIASES: Readonly<Record<string, readonly AllergyClassId[]>> = {
  penicillin: ['penicillins'],
  penicillins: ['penicillins'],
  cephalosporin: ['cephalosporins'],
  cephalosporins: ['cephalosporins'],
  carbapenem: ['carbapenems'],
  carbapenems: ['carbapenems'],
  'beta-lactam': ['penicillins', 'cephalosporins', 'carbapenems'],
  'beta-lactams': ['penicillins', 'cephalosporins', 'carbapenems'],
  'beta lactam': ['penicillins', 'cephalosporins', 'carbapenems'],
  'beta lactams': ['penicillins', 'cephalosporins', 'carbapenems'],
  sulfa: ['sulfonamides'],
  sulpha: ['sulfonamides'],
  'sulfa drugs': ['sulfonamides'],
  'sulpha drugs': ['sulfonamides'],
  sulfonamide: ['sulfonamides'],
  sulfonamides: ['sulfonamides'],
  sulphonamide: ['sulfonamides'],
  sulphonamides: ['sulfonamides'],
  nsaid: ['nsaids'],
  nsaids: ['nsaids'],
  'non-steroidal anti-inflammatory': ['nsaids'],
  'non-steroidal anti-inflammatory drugs': ['nsaids'],
  'nonsteroidal anti-inflammatory drugs': ['nsaids'],
};

// A Map, not the record, so that a term such as "constructor" finds nothing on the prototype.
const ALIASES = new Map(Object.entries(ALLERGY_ALIASES));

/**
 * Penicillins, cephalosporins and carbapenems share the beta-lactam ring: an allergy to one class
 * makes a reaction to the others unlikely (a few percent at most) but real, so it warns without
 * blocking.
 */
export const BETA_LACTAM_CROSS_REACTIVITY: { classes: readonly AllergyClassId[]; severity: Severity } = {
  classes: ['penicillins', 'cephalosporins', 'carbapenems'],
  severity: 'MODERATE',
};

/** The classes a drug belongs to, by its (normalised) ingredients or its ATC code. */
export function allergyClassesOf(ingredients: readonly string[], atcCode: string | null): AllergyClass[] {
  return ALLERGY_CLASSES.filter(
    (c) => ingredients.some((i) => c.members.includes(i)) || (atcCode !== null && c.atcPrefixes.some((p) => atcCode.startsWith(p))),
  );
}

/** The classes an allergy term names: by an alias for the whole term or a part of it, or through a member. */
export function allergyClassesNamedBy(term: string, termParts: readonly string[]): AllergyClass[] {
  const named = new Set<AllergyClassId>([term, ...termParts].flatMap((t) => ALIASES.get(t) ?? []));
  for (const c of allergyClassesOf(termParts, null)) named.add(c.id);
  return ALLERGY_CLASSES.filter((c) => named.has(c.id));
}
