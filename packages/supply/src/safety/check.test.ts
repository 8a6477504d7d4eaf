import { ALLERGY_ALIASES, ALLERGY_CLASSES } from './allergies';
import { checkSafety, ingredients, type CustomRule, type DrugRef, type SafetyWarning } from './check';
import { COMBINATION_NAMES, INN_SYNONYMS, ONC_HIGH_PRIORITY_PAIRS } from './interactions';

function drug(productId: string, genericName: string | null, atcCode: string | null = null): DrugRef {
  return { productId, name: `${productId[0]!.toUpperCase()}${productId.slice(1)} tablets`, genericName, atcCode };
}

function check(items: DrugRef[], opts: { others?: DrugRef[]; allergies?: string[]; customRules?: CustomRule[] } = {}): SafetyWarning[] {
  return checkSafety({ items, others: opts.others ?? [], allergies: opts.allergies ?? [], customRules: opts.customRules });
}

const ofKind = (warnings: SafetyWarning[], kind: SafetyWarning['kind']) => warnings.filter((w) => w.kind === kind);

describe('ingredients', () => {
  it('splits combinations written with slashes, plus signs, "and", "with" and commas', () => {
    expect(ingredients('Lopinavir/Ritonavir')).toEqual(['lopinavir', 'ritonavir']);
    expect(ingredients('artemether + lumefantrine')).toEqual(['artemether', 'lumefantrine']);
    expect(ingredients('isoniazid and rifampin')).toEqual(['isoniazid', 'rifampicin']);
    expect(ingredients('rifampicin, isoniazid, pyrazinamide, ethambutol')).toEqual(['rifampicin', 'isoniazid', 'pyrazinamide', 'ethambutol']);
    expect(ingredients('paracetamol with codeine phosphate')).toEqual(['paracetamol', 'codeine']);
  });

  it('drops salt words but keeps a medicine that is nothing but a salt', () => {
    expect(ingredients('Sertraline Hydrochloride')).toEqual(['sertraline']);
    expect(ingredients('atazanavir sulfate')).toEqual(['atazanavir']);
    expect(ingredients('  Chlorphenamine   Maleate ')).toEqual(['chlorphenamine']);
    expect(ingredients('amoxicillin (as trihydrate)')).toEqual(['amoxicillin']);
    expect(ingredients('sodium chloride')).toEqual(['sodium chloride']);
  });

  it('maps US and British names to INNs after stripping salts', () => {
    expect(ingredients('Penicillin V Potassium')).toEqual(['phenoxymethylpenicillin']);
    expect(ingredients('meperidine hydrochloride')).toEqual(['pethidine']);
    expect(ingredients('acetaminophen')).toEqual(['paracetamol']);
    expect(ingredients('Aspirin')).toEqual(['acetylsalicylic acid']);
  });

  it('splits hyphenated US combinations but keeps British co- names whole and expands them', () => {
    expect(ingredients('amoxicillin-clavulanate potassium')).toEqual(['amoxicillin', 'clavulanic acid']);
    expect(ingredients('sulfamethoxazole-trimethoprim')).toEqual(['sulfamethoxazole', 'trimethoprim']);
    expect(ingredients('Co-trimoxazole')).toEqual(['sulfamethoxazole', 'trimethoprim']);
    expect(ingredients('methylphenidate hydrochloride extended-release')).toEqual(['methylphenidate']);
  });

  it('gives nothing for a missing or blank generic name', () => {
    expect(ingredients(null)).toEqual([]);
    expect(ingredients('   ')).toEqual([]);
  });
});

describe('checkSafety: shipped ONC pairs', () => {
  it.each([
    ['simvastatin', 'clarithromycin', 'onc-25'],
    ['atazanavir sulfate', 'omeprazole', 'onc-4'],
    ['sertraline hydrochloride', 'phenelzine sulfate', 'onc-8'],
    ['tizanidine hydrochloride', 'ciprofloxacin', 'onc-28'],
    ['rifampicin', 'lopinavir/ritonavir', 'onc-23'],
    ['febuxostat', 'azathioprine', 'onc-6'],
    ['ramelteon', 'fluvoxamine maleate', 'onc-22'],
    ['dihydroergotamine mesylate', 'ketoconazole', 'onc-27'],
  ])('%s with %s fires once as CONTRAINDICATED with both product ids', (left, right, id) => {
    const pair = ONC_HIGH_PRIORITY_PAIRS.find((p) => p.id === id)!;
    const warnings = check([drug('first', left), drug('second', right)]);
    expect(ofKind(warnings, 'INTERACTION')).toEqual([
      { kind: 'INTERACTION', severity: 'CONTRAINDICATED', message: `First tablets with Second tablets: ${pair.message}`, productIds: ['first', 'second'], source: pair.source },
    ]);
  });

  it('fires whichever side of the pair comes first', () => {
    const [warning] = check([drug('clarithromycin', 'clarithromycin'), drug('simvastatin', 'simvastatin')]);
    expect(warning).toMatchObject({ severity: 'CONTRAINDICATED', productIds: ['clarithromycin', 'simvastatin'] });
  });

  it('matches US names through the synonyms', () => {
    expect(check([drug('rifadin', 'Rifampin'), drug('norvir', 'ritonavir')])[0]).toMatchObject({ severity: 'CONTRAINDICATED', productIds: ['rifadin', 'norvir'] });
    expect(check([drug('demerol', 'meperidine hydrochloride'), drug('parnate', 'tranylcypromine')])[0]?.source).toMatch(/Table 2 #16/);
  });

  it('matches by ATC code alone when the generic name is missing or unfamiliar', () => {
    const warnings = check([drug('reyataz', 'atazanavir'), drug('nexium', null, 'a02bc05 ')]);
    expect(warnings).toEqual([expect.objectContaining({ kind: 'INTERACTION', severity: 'CONTRAINDICATED', productIds: ['reyataz', 'nexium'] })]);
    expect(check([drug('zocor', null, 'C10AA01'), drug('odd-name', 'clarithromycinum', 'J01FA09')])).toHaveLength(1);
  });

  it('reports nothing for a harmless pair', () => {
    expect(check([drug('panadol', 'paracetamol'), drug('amoxil', 'amoxicillin')])).toEqual([]);
  });

  it('reports an interaction with a current prescription and says so', () => {
    const warnings = check([drug('zocor', 'simvastatin')], { others: [drug('klacid', 'clarithromycin')] });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ kind: 'INTERACTION', severity: 'CONTRAINDICATED', productIds: ['zocor', 'klacid'] });
    expect(warnings[0]!.message).toContain("Zocor tablets with Klacid tablets (the patient's current prescription): ");
  });

  it('leaves pairs among the current prescriptions alone: they were checked when prescribed', () => {
    expect(check([drug('panadol', 'paracetamol')], { others: [drug('zocor', 'simvastatin'), drug('klacid', 'clarithromycin')] })).toEqual([]);
  });

  it('gives one warning per pair of products and rule, even when a product is listed twice', () => {
    const klacid = drug('klacid', 'clarithromycin');
    const warnings = check([drug('zocor', 'simvastatin'), klacid, klacid], { others: [klacid] });
    expect(ofKind(warnings, 'INTERACTION')).toHaveLength(1);
    expect(ofKind(warnings, 'INTERACTION')[0]!.message).not.toContain('current prescription');
  });

  it('checks every rule: a product can fall under several groups', () => {
    // Clarithromycin is both a strong CYP3A4 inhibitor and QT-prolonging.
    const warnings = check([drug('cipramil', 'citalopram'), drug('klacid', 'clarithromycin'), drug('zocor', 'simvastatin')]);
    expect(ofKind(warnings, 'INTERACTION').map((w) => w.source?.match(/#\d+/)?.[0])).toEqual(['#21', '#25']);
  });
});

describe('checkSafety: tenant rules', () => {
  const rule: CustomRule = { leftKey: 'warfarin', rightKey: 'M01AE', severity: 'MAJOR', message: 'raised bleeding risk', source: 'Tenant formulary 2024' };

  it('fires with its own severity, message and source, matching an INN or an ATC prefix', () => {
    const warnings = check([drug('warfarin', 'warfarin sodium'), drug('brufen', 'ibuprofen', 'M01AE01')], { customRules: [rule] });
    expect(warnings).toEqual([
      { kind: 'INTERACTION', severity: 'MAJOR', message: 'Warfarin tablets with Brufen tablets: raised bleeding risk', productIds: ['warfarin', 'brufen'], source: 'Tenant formulary 2024' },
    ]);
  });

  it('is symmetric in its keys and in the order of the products', () => {
    const swapped = { ...rule, leftKey: rule.rightKey, rightKey: rule.leftKey };
    for (const customRules of [[rule], [swapped]]) {
      const warnings = check([drug('brufen', 'ibuprofen', 'M01AE01'), drug('warfarin', 'warfarin')], { customRules });
      expect(warnings).toEqual([expect.objectContaining({ severity: 'MAJOR', productIds: ['brufen', 'warfarin'] })]);
    }
  });

  it('applies synonyms to its keys, and also checks the current prescriptions', () => {
    const customRules: CustomRule[] = [{ leftKey: 'acetaminophen', rightKey: 'C10AA', severity: 'MINOR', message: 'test rule', source: null }];
    const warnings = check([drug('panadol', 'paracetamol')], { others: [drug('lipitor', 'atorvastatin', 'C10AA05')], customRules });
    expect(warnings).toEqual([expect.objectContaining({ severity: 'MINOR', source: null, productIds: ['panadol', 'lipitor'] })]);
  });

  it('reports a shipped pair and a tenant rule on the same products separately', () => {
    const customRules: CustomRule[] = [{ leftKey: 'simvastatin', rightKey: 'clarithromycin', severity: 'MAJOR', message: 'local note', source: null }];
    const warnings = check([drug('zocor', 'simvastatin'), drug('klacid', 'clarithromycin')], { customRules });
    expect(warnings.map((w) => w.severity)).toEqual(['CONTRAINDICATED', 'MAJOR']);
  });
});

describe('checkSafety: allergies', () => {
  const allergy = (item: DrugRef, term: string) => ofKind(check([item], { allergies: [term] }), 'ALLERGY');

  it('contraindicates a product containing the allergen, whatever the case and spacing', () => {
    expect(allergy(drug('amoxil', 'amoxicillin'), '  AMOXICILLIN ')).toEqual([
      { kind: 'ALLERGY', severity: 'CONTRAINDICATED', message: 'Allergy to "AMOXICILLIN": Amoxil tablets contains amoxicillin', productIds: ['amoxil'], source: null },
    ]);
    expect(allergy(drug('augmentin', 'amoxicillin/clavulanic acid'), 'amoxicillin')[0]?.severity).toBe('CONTRAINDICATED');
  });

  it('contraindicates another penicillin for a "penicillin" allergy, and warns moderately on a cephalosporin or carbapenem', () => {
    expect(allergy(drug('penbritin', 'ampicillin'), 'Penicillin')[0]).toMatchObject({ severity: 'CONTRAINDICATED', message: 'Allergy to "Penicillin": Penbritin tablets is a penicillin, the same class' });
    expect(allergy(drug('keflex', 'cefalexin'), 'penicillin')[0]).toMatchObject({ severity: 'MODERATE', productIds: ['keflex'] });
    expect(allergy(drug('meronem', 'meropenem'), 'penicillins')[0]?.severity).toBe('MODERATE');
    expect(allergy(drug('keflex', 'cephalexin monohydrate'), 'amoxicillin')[0]?.severity).toBe('MODERATE');
  });

  it('treats "beta-lactam" as naming every beta-lactam class', () => {
    expect(allergy(drug('rocephin', 'ceftriaxone sodium'), 'Beta-lactam')[0]?.severity).toBe('CONTRAINDICATED');
  });

  it('contraindicates co-trimoxazole for a "sulfa" allergy but not trimethoprim alone', () => {
    expect(allergy(drug('septrin', 'sulfamethoxazole/trimethoprim'), 'sulfa')[0]).toMatchObject({ severity: 'CONTRAINDICATED', message: 'Allergy to "sulfa": Septrin tablets is a sulfonamide antibiotic, the same class' });
    expect(allergy(drug('septrin', 'co-trimoxazole'), 'Sulpha')[0]?.severity).toBe('CONTRAINDICATED');
    expect(allergy(drug('trimopan', 'trimethoprim', 'J01EA01'), 'sulfa')).toEqual([]);
    expect(allergy(drug('lasix', 'furosemide'), 'sulfonamides')).toEqual([]);
  });

  it('warns MAJOR for another NSAID, and contraindicates aspirin itself', () => {
    expect(allergy(drug('brufen', 'ibuprofen'), 'aspirin')[0]).toMatchObject({ severity: 'MAJOR', message: 'Allergy to "aspirin": Brufen tablets is an NSAID, the same class' });
    expect(allergy(drug('disprin', 'acetylsalicylic acid'), 'Aspirin')[0]?.severity).toBe('CONTRAINDICATED');
    expect(allergy(drug('voltaren', 'diclofenac sodium'), 'NSAIDs')[0]?.severity).toBe('MAJOR');
    expect(allergy(drug('panadol', 'paracetamol'), 'nsaid')).toEqual([]);
  });

  it('finds the class by ATC code when the product has no generic name', () => {
    expect(allergy(drug('augmentin', null, 'J01CR02'), 'penicillin')[0]?.severity).toBe('CONTRAINDICATED');
    expect(allergy(drug('glucosamine', null, 'M01AX05'), 'nsaid')).toEqual([]);
  });

  it('reads a parenthesised reaction after the allergen', () => {
    expect(allergy(drug('amoxil', 'amoxicillin'), 'Penicillin (rash)')[0]?.severity).toBe('CONTRAINDICATED');
  });

  it('ignores empty terms, terms it does not know, and the current prescriptions', () => {
    expect(check([drug('amoxil', 'amoxicillin')], { allergies: ['', '   ', 'constructor', 'latex'], others: [drug('penbritin', 'ampicillin')] })).toEqual([]);
  });
});

describe('checkSafety: duplicates', () => {
  it('warns MODERATE when two items share an ingredient', () => {
    expect(check([drug('amoxil', 'amoxicillin'), drug('augmentin', 'amoxicillin-clavulanate potassium')])).toEqual([
      {
        kind: 'DUPLICATE',
        severity: 'MODERATE',
        message: 'Duplicate therapy: Amoxil tablets and Augmentin tablets both contain amoxicillin',
        productIds: ['amoxil', 'augmentin'],
        source: null,
      },
    ]);
  });

  it('counts a product listed twice', () => {
    const panadol = drug('panadol', 'paracetamol');
    expect(check([panadol, panadol])).toEqual([
      { kind: 'DUPLICATE', severity: 'MODERATE', message: 'Duplicate therapy: Panadol tablets is listed twice', productIds: ['panadol'], source: null },
    ]);
  });

  it('warns against a current prescription, and says so', () => {
    const warnings = check([drug('calpol', 'acetaminophen')], { others: [drug('panadol', 'paracetamol')] });
    expect(warnings).toEqual([expect.objectContaining({ kind: 'DUPLICATE', severity: 'MODERATE', productIds: ['calpol', 'panadol'] })]);
    expect(warnings[0]!.message).toBe("Duplicate therapy: Calpol tablets and Panadol tablets (the patient's current prescription) both contain paracetamol");
  });

  it('catches products without generic names by a shared full ATC code, not by a shared class', () => {
    expect(check([drug('zocor', null, 'C10AA01'), drug('simvador', null, 'C10AA01')])[0]?.kind).toBe('DUPLICATE');
    expect(check([drug('zocor', null, 'C10AA01'), drug('lipitor', null, 'C10AA05')])).toEqual([]);
  });
});

describe('checkSafety: order', () => {
  it('sorts by severity, then message, with no duplicates', () => {
    const warnings = check(
      [drug('zocor', 'simvastatin'), drug('klacid', 'clarithromycin'), drug('brufen', 'ibuprofen'), drug('amoxil', 'amoxicillin'), drug('augmentin', 'co-amoxiclav'), drug('zocor', 'simvastatin')],
      { allergies: ['aspirin', 'penicillin'], others: [drug('nizoral', 'ketoconazole')] },
    );
    expect(warnings.map((w) => [w.severity, w.kind])).toEqual([
      ['CONTRAINDICATED', 'ALLERGY'],
      ['CONTRAINDICATED', 'ALLERGY'],
      ['CONTRAINDICATED', 'INTERACTION'],
      ['CONTRAINDICATED', 'INTERACTION'],
      ['MAJOR', 'ALLERGY'],
      ['MODERATE', 'DUPLICATE'],
      ['MODERATE', 'DUPLICATE'],
    ]);
    for (let i = 1; i < warnings.length; i++) {
      const [a, b] = [warnings[i - 1]!, warnings[i]!];
      if (a.severity === b.severity) expect(a.message < b.message).toBe(true);
    }
    expect(new Set(warnings.map((w) => `${w.kind}|${w.message}`)).size).toBe(warnings.length);
  });
});

describe('shipped data', () => {
  const isCleanName = (s: string) => s.length > 0 && s === s.trim().toLowerCase();
  const isAtc = (s: string) => /^[A-Z]\d{2}(?:[A-Z]{1,2}(?:\d{2})?)?$/.test(s);
  const groups = ONC_HIGH_PRIORITY_PAIRS.flatMap((p) => [p.left, p.right]);

  it('has exactly the 15 ONC pairs, all contraindicated, each citing Phansalkar', () => {
    expect(ONC_HIGH_PRIORITY_PAIRS).toHaveLength(15);
    expect(new Set(ONC_HIGH_PRIORITY_PAIRS.map((p) => p.id)).size).toBe(15);
    for (const p of ONC_HIGH_PRIORITY_PAIRS) {
      expect(p.severity).toBe('CONTRAINDICATED');
      expect(p.source).toMatch(/^ONC high-priority DDI list \(Phansalkar et al\., JAMIA 2012;19\(5\):735-43.*\), Table 2 #\d+: /);
      expect(p.message.length).toBeGreaterThan(20);
    }
  });

  it('keys everything by lowercase, trimmed names that normalise to themselves, and uppercase ATC codes', () => {
    const names = [
      ...groups.flatMap((g) => g.members),
      ...Object.values(INN_SYNONYMS),
      ...Object.values(COMBINATION_NAMES).flat(),
      ...ALLERGY_CLASSES.flatMap((c) => c.members),
    ];
    for (const name of names) {
      expect(isCleanName(name)).toBe(true);
      expect(ingredients(name)).toEqual([name]);
    }
    for (const key of [...Object.keys(INN_SYNONYMS), ...Object.keys(COMBINATION_NAMES), ...Object.keys(ALLERGY_ALIASES)]) expect(isCleanName(key)).toBe(true);
    for (const code of [...groups.flatMap((g) => g.atcPrefixes), ...ALLERGY_CLASSES.flatMap((c) => c.atcPrefixes)]) expect(isAtc(code)).toBe(true);
  });

  it('does not map a synonym onto another synonym', () => {
    for (const inn of Object.values(INN_SYNONYMS)) expect(Object.keys(INN_SYNONYMS)).not.toContain(inn);
  });
});
