import { BETA_LACTAM_CROSS_REACTIVITY, allergyClassesNamedBy, allergyClassesOf } from './allergies';
import type { DrugGroup } from './drug-classes';
import { COMBINATION_NAMES, INN_SYNONYMS, ONC_HIGH_PRIORITY_PAIRS } from './interactions';

import type { Severity } from './severity';

export type { Severity };

export interface DrugRef {
  productId: string;
  name: string;
  genericName: string | null;
  atcCode: string | null;
}

/** A tenant's own interaction: keys are lowercase INNs or uppercase ATC codes or prefixes; symmetric. */
export interface CustomRule {
  leftKey: string;
  rightKey: string;
  severity: Severity;
  message: string;
  source: string | null;
}

export interface SafetyWarning {
  /** DOUBLE_DOCTORING needs the patient's history, so the service adds it, never checkSafety. */
  kind: 'INTERACTION' | 'ALLERGY' | 'DUPLICATE' | 'DOUBLE_DOCTORING';
  severity: Severity;
  message: string;
  productIds: string[];
  source: string | null;
}

const SEVERITY_RANK: Record<Severity, number> = { CONTRAINDICATED: 0, MAJOR: 1, MODERATE: 2, MINOR: 3 };

const SALT_WORDS = new Set([
  'hydrochloride', 'dihydrochloride', 'hcl', 'hydrobromide', 'hyclate', 'sodium', 'disodium', 'potassium', 'calcium', 'magnesium',
  'silver', 'sulfate', 'sulphate', 'maleate', 'mesylate', 'mesilate', 'dimesylate', 'besylate', 'besilate', 'tartrate',
  'bitartrate', 'citrate', 'succinate', 'fumarate', 'acetate', 'phosphate', 'nitrate', 'bromide', 'chloride', 'carbonate',
  'lactate', 'gluconate', 'oxalate', 'napsylate', 'pamoate', 'embonate', 'stearate', 'estolate', 'ethylsuccinate', 'decanoate',
  'propionate', 'dipropionate', 'valerate', 'trometamol', 'tromethamine', 'meglumine', 'benzathine', 'procaine', 'hydrate',
  'monohydrate', 'dihydrate', 'trihydrate', 'anhydrous', 'isethionate',
]);

// Dosage-form words end up in generic names ("methylphenidate extended-release") and, unlike
// salts, are never a medicine on their own.
const FORM_WORDS = new Set(['extended', 'release', 'delayed', 'modified', 'prolonged', 'sustained', 'controlled', 'er', 'xr', 'sr', 'cr', 'xl', 'dr']);

// Maps rather than the records, so that a name such as "constructor" finds nothing on the prototype.
const SYNONYMS = new Map(Object.entries(INN_SYNONYMS));
const COMBINATIONS = new Map(Object.entries(COMBINATION_NAMES));

/** Lowercased INN ingredients of a generic name: splits combinations ("lopinavir/ritonavir", "artemether + lumefantrine", "x and y", commas), applies synonyms, drops salt words (hydrochloride, sodium, potassium, sulfate, maleate, ...). */
export function ingredients(genericName: string | null): string[] {
  if (!genericName) return [];
  const text = genericName
    .toLowerCase()
    // "(as trihydrate)" names the salt, not a second ingredient.
    .replace(/\((?:as|eq\.?|equivalent to)\b[^)]*\)/g, ' ')
    // US labels join combinations with hyphens ("amoxicillin-clavulanate"); British "co-" names
    // and prefixes such as "5-" or "n-" keep theirs.
    .replace(/(?<!\bco)(?<=[a-z]{2})-(?=[a-z]{2})/g, '/');
  const found: string[] = [];
  for (const part of text.split(/[/+,;&()[\]–]|\band\b|\bwith\b/)) {
    const name = withoutSalts(part);
    if (!name) continue;
    const inn = SYNONYMS.get(name) ?? name;
    for (const each of COMBINATIONS.get(inn) ?? [inn]) if (!found.includes(each)) found.push(each);
  }
  return found;
}

function withoutSalts(part: string): string {
  const words = part.trim().split(/\s+/).filter((w) => w !== '' && !FORM_WORDS.has(w));
  const active = words.filter((w) => !SALT_WORDS.has(w));
  // Nothing but salt words is a medicine in its own right: sodium chloride, magnesium sulfate.
  return (active.length > 0 ? active : words).join(' ');
}

interface Drug {
  ref: DrugRef;
  ingredients: string[];
  atc: string | null;
}

interface Matcher {
  names: ReadonlySet<string>;
  atcPrefixes: readonly string[];
}

interface Rule {
  id: string;
  left: Matcher;
  right: Matcher;
  severity: Severity;
  message: string;
  source: string | null;
}

const toDrug = (ref: DrugRef): Drug => ({ ref, ingredients: ingredients(ref.genericName), atc: ref.atcCode?.trim().toUpperCase() || null });

const matches = (m: Matcher, d: Drug): boolean =>
  d.ingredients.some((i) => m.names.has(i)) || (d.atc !== null && m.atcPrefixes.some((p) => d.atc!.startsWith(p)));

const groupMatcher = (g: DrugGroup): Matcher => ({ names: new Set(g.members), atcPrefixes: g.atcPrefixes });

const SHIPPED_RULES: readonly Rule[] = ONC_HIGH_PRIORITY_PAIRS.map((p) => ({
  id: p.id,
  left: groupMatcher(p.left),
  right: groupMatcher(p.right),
  severity: p.severity,
  message: p.message,
  source: p.source,
}));

// At least an ATC level-2 code: a stray single letter would otherwise match a whole anatomical group.
const ATC_KEY = /^[A-Z]\d{2}(?:[A-Z]{1,2}(?:\d{2})?)?$/;

function keyMatcher(key: string): Matcher {
  const atc = key.trim().toUpperCase();
  return ATC_KEY.test(atc) ? { names: new Set(), atcPrefixes: [atc] } : { names: new Set(ingredients(key)), atcPrefixes: [] };
}

const customRule = (r: CustomRule, index: number): Rule => ({
  id: `custom-${index}`,
  left: keyMatcher(r.leftKey),
  right: keyMatcher(r.rightKey),
  severity: r.severity,
  message: r.message,
  source: r.source,
});

const CURRENT = " (the patient's current prescription)";
const uniqueIds = (...ids: string[]) => [...new Set(ids)];

function interactions(a: Drug, b: Drug, current: boolean, rules: readonly Rule[], out: Map<string, SafetyWarning>): void {
  // One product cannot interact with itself; listing it twice is a duplicate, reported as such.
  if (a.ref.productId === b.ref.productId) return;
  for (const rule of rules) {
    if (!((matches(rule.left, a) && matches(rule.right, b)) || (matches(rule.left, b) && matches(rule.right, a)))) continue;
    const key = `INTERACTION|${rule.id}|${[a.ref.productId, b.ref.productId].sort().join('|')}`;
    // Pairs inside the prescription are checked first, so when the other drug is both prescribed
    // now and current, the warning reads as the new prescription's.
    if (out.has(key)) continue;
    out.set(key, {
      kind: 'INTERACTION',
      severity: rule.severity,
      message: `${a.ref.name} with ${b.ref.name}${current ? CURRENT : ''}: ${rule.message}`,
      productIds: [a.ref.productId, b.ref.productId],
      source: rule.source,
    });
  }
}

function duplicate(a: Drug, b: Drug, current: boolean): SafetyWarning | null {
  let message: string;
  if (a.ref.productId === b.ref.productId) {
    message = current
      ? `Duplicate therapy: ${a.ref.name} is already on the patient's current prescription`
      : `Duplicate therapy: ${a.ref.name} is listed twice`;
  } else {
    const shared = a.ingredients.filter((i) => b.ingredients.includes(i));
    const where = current ? CURRENT : '';
    if (shared.length > 0) message = `Duplicate therapy: ${a.ref.name} and ${b.ref.name}${where} both contain ${shared.join(', ')}`;
    // Products without a generic name are still recognisable as the same medicine by a full (level-5) ATC code.
    else if (a.atc !== null && a.atc.length === 7 && a.atc === b.atc) message = `Duplicate therapy: ${a.ref.name} and ${b.ref.name}${where} share ATC code ${a.atc}`;
    else return null;
  }
  return { kind: 'DUPLICATE', severity: 'MODERATE', message, productIds: uniqueIds(a.ref.productId, b.ref.productId), source: null };
}

function allergy(item: Drug, term: string): SafetyWarning | null {
  const normalised = term.trim().toLowerCase().replace(/\s+/g, ' ');
  if (normalised === '') return null;
  const said = `Allergy to "${term.trim()}": ${item.ref.name}`;
  const warn = (severity: Severity, message: string): SafetyWarning => ({ kind: 'ALLERGY', severity, message, productIds: [item.ref.productId], source: null });

  const allergens = ingredients(normalised);
  const direct = item.ingredients.filter((i) => allergens.includes(i));
  if (direct.length > 0) return warn('CONTRAINDICATED', `${said} contains ${direct.join(', ')}`);

  const named = allergyClassesNamedBy(normalised, allergens);
  const own = allergyClassesOf(item.ingredients, item.atc);
  const same = own.filter((c) => named.some((n) => n.id === c.id)).sort((x, y) => SEVERITY_RANK[x.sameClassSeverity] - SEVERITY_RANK[y.sameClassSeverity])[0];
  if (same) return warn(same.sameClassSeverity, `${said} is ${same.noun}, the same class`);

  const betaLactams = BETA_LACTAM_CROSS_REACTIVITY.classes;
  const ownBetaLactam = own.find((c) => betaLactams.includes(c.id));
  if (ownBetaLactam && named.some((n) => betaLactams.includes(n.id))) {
    return warn(BETA_LACTAM_CROSS_REACTIVITY.severity, `${said} is ${ownBetaLactam.noun}; cross-reactivity between beta-lactam classes is low but real`);
  }
  return null;
}

function bySeverityThenMessage(a: SafetyWarning, b: SafetyWarning): number {
  const rank = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
  if (rank !== 0) return rank;
  // Code-unit order, not localeCompare: the same input gives the same order on every server.
  const ka = `${a.message}|${a.kind}|${a.productIds.join(',')}`;
  const kb = `${b.message}|${b.kind}|${b.productIds.join(',')}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * The pharmacist's safety check of a prescription: interactions among its items and with the
 * patient's other active prescriptions (the shipped ONC pairs and the tenant's rules), duplicate
 * ingredients, and allergies. Every warning found is returned, most severe first.
 */
export function checkSafety(input: { items: DrugRef[]; others: DrugRef[]; allergies: string[]; customRules?: CustomRule[] }): SafetyWarning[] {
  const items = input.items.map(toDrug);
  const others = input.others.map(toDrug);
  const rules = [...SHIPPED_RULES, ...(input.customRules ?? []).map(customRule)];
  const found = new Map<string, SafetyWarning>();
  const add = (w: SafetyWarning | null) => {
    if (w) found.set(`${w.kind}|${w.productIds.join('|')}|${w.message}`, w);
  };

  items.forEach((a, i) => {
    for (const b of items.slice(i + 1)) {
      interactions(a, b, false, rules, found);
      add(duplicate(a, b, false));
    }
  });
  for (const a of items) {
    for (const b of others) {
      interactions(a, b, true, rules, found);
      add(duplicate(a, b, true));
    }
    for (const term of input.allergies) add(allergy(a, term));
  }
  return [...found.values()].sort(bySeverityThenMessage);
}
