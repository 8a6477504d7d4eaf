import { checkSafety, type DrugRef, type SafetyWarning } from './check';
import { ONC_HIGH_PRIORITY_PAIRS } from './interactions';

const product = (productId: string, genericName: string | null, atcCode: string | null = null): DrugRef => ({ productId, name: productId, genericName, atcCode });

function interactions(a: DrugRef, b: DrugRef): SafetyWarning[] {
  return checkSafety({ items: [a, b], others: [], allergies: [] }).filter((w) => w.kind === 'INTERACTION');
}

const cites = (row: number) => expect.objectContaining({ severity: 'CONTRAINDICATED', source: expect.stringContaining(`Table 2 #${row}: `) });

function expectAlert(row: number, left: DrugRef, right: DrugRef): void {
  expect({ pair: `${left.genericName ?? left.atcCode} with ${right.genericName ?? right.atcCode}`, warnings: interactions(left, right) }).toEqual({
    pair: expect.any(String),
    warnings: expect.arrayContaining([cites(row)]),
  });
}

const MAOIS = ['tranylcypromine', 'phenelzine', 'isocarboxazid', 'procarbazine', 'selegiline'];
const PROTEASE_INHIBITORS = ['ritonavir', 'nelfinavir', 'atazanavir', 'indinavir', 'saquinavir', 'amprenavir', 'darunavir', 'lopinavir', 'tipranavir'];

// Table 2 of Phansalkar et al. 2012 as the paper prints it: each accepted pair with the members the
// panel suggested, in the paper's (US) names, which the synonyms map to INNs ("lisdexamefetamine" and
// "esmoprazole" are the paper's typing slips, spelt right here). Written out rather than read from
// the shipped data, so that a member missing from the data fails.
const TABLE_2: { row: number; object: string[]; precipitant: string[] }[] = [
  {
    row: 3,
    object: ['dexmethylphenidate', 'dextroamphetamine', 'methylphenidate', 'lisdexamfetamine', 'methamphetamine', 'phendimetrazine', 'pseudoephedrine', 'amphetamine', 'benzphetamine', 'diethylpropion', 'phentermine', 'atomoxetine'],
    precipitant: MAOIS,
  },
  { row: 4, object: ['atazanavir'], precipitant: ['omeprazole', 'lansoprazole', 'pantoprazole', 'rabeprazole', 'esomeprazole', 'dexlansoprazole'] },
  { row: 6, object: ['febuxostat'], precipitant: ['azathioprine', 'mercaptopurine'] },
  {
    row: 8,
    object: ['fluoxetine', 'paroxetine', 'citalopram', 'escitalopram', 'sertraline', 'fluvoxamine', 'duloxetine', 'nefazodone', 'desvenlafaxine', 'milnacipran', 'venlafaxine'],
    precipitant: MAOIS,
  },
  {
    row: 11,
    object: ['irinotecan'],
    precipitant: [
      ...PROTEASE_INHIBITORS, 'fosamprenavir', 'clarithromycin', 'erythromycin', 'telithromycin', 'amiodarone', 'verapamil', 'diltiazem',
      'ketoconazole', 'itraconazole', 'fluconazole', 'voriconazole', 'nefazodone', 'aprepitant', 'cimetidine',
    ],
  },
  { row: 16, object: ['meperidine', 'methadone', 'tapentadol', 'fentanyl', 'tramadol', 'dextromethorphan'], precipitant: MAOIS },
  { row: 20, object: ['amitriptyline', 'clomipramine', 'desipramine', 'doxepin', 'imipramine', 'nortriptyline', 'protriptyline', 'trimipramine'], precipitant: MAOIS },
  // The paper names the class on both sides and no members: the two the issue found silent.
  { row: 21, object: ['amiodarone'], precipitant: ['haloperidol'] },
  { row: 22, object: ['ramelteon'], precipitant: ['fluvoxamine', 'amiodarone', 'ticlopidine', 'ciprofloxacin'] },
  { row: 23, object: ['bosentan', 'rifapentine', 'carbamazepine', 'rifabutin', 'rifampin', "St John's wort"], precipitant: [...PROTEASE_INHIBITORS, 'fosamprenavir'] },
  {
    row: 25,
    object: ['simvastatin', 'lovastatin'],
    precipitant: [
      ...PROTEASE_INHIBITORS, 'clarithromycin', 'erythromycin', 'telithromycin', 'amiodarone', 'verapamil', 'diltiazem',
      'ketoconazole', 'itraconazole', 'fluconazole', 'voriconazole', 'nefazodone',
    ],
  },
  {
    row: 27,
    object: [...PROTEASE_INHIBITORS, 'clarithromycin', 'erythromycin', 'telithromycin', 'ketoconazole', 'itraconazole', 'voriconazole'],
    precipitant: ['ergotamine', 'methylergonovine', 'dihydroergotamine', 'ergonovine'],
  },
  { row: 28, object: ['tizanidine'], precipitant: ['ciprofloxacin', 'fluvoxamine', 'mexiletine', 'propafenone', 'zileuton', 'amiodarone', 'ticlopidine'] },
  { row: 30, object: ['tranylcypromine'], precipitant: ['procarbazine'] },
  { row: 31, object: ['sumatriptan', 'zolmitriptan', 'rizatriptan'], precipitant: ['tranylcypromine', 'phenelzine', 'isocarboxazid', 'moclobemide', 'methylene blue'] },
];

describe('ONC high-priority list, Table 2 of Phansalkar et al. 2012', () => {
  it('has a row here for every shipped pair', () => {
    expect(TABLE_2.map((r) => `onc-${r.row}`)).toEqual(ONC_HIGH_PRIORITY_PAIRS.map((p) => p.id));
  });

  it.each(TABLE_2)('#$row: every member the paper lists on one side alerts with a member of the other, citing the row', ({ row, object, precipitant }) => {
    for (const name of object) expectAlert(row, product('object', name), product('precipitant', precipitant[0]!));
    for (const name of precipitant) expectAlert(row, product('object', object[0]!), product('precipitant', name));
  });
});

describe('ONC high-priority list: what the review found silent', () => {
  it.each([
    [3, 'pseudoephedrine hydrochloride', 'phenelzine sulfate'],
    [3, 'atomoxetine', 'phenelzine'],
    [25, 'darunavir', 'simvastatin'],
    [27, 'darunavir/cobicistat', 'ergotamine tartrate and caffeine'],
    [23, 'carbamazepine', 'atazanavir sulfate'],
    [23, 'rifampicin, isoniazid, pyrazinamide, ethambutol', 'lopinavir/ritonavir'],
    [21, 'amiodarone', 'haloperidol'],
    [21, 'quinine sulfate', 'azithromycin'],
    [21, 'artemether + lumefantrine', 'quinine'],
    [21, 'co-artemether', 'haloperidol'],
    [21, 'lumefantrine', 'ondansetron'],
  ])('#%s: %s with %s', (row, left, right) => {
    expectAlert(row, product('left', left), product('right', right));
  });

  it.each([
    ['sumatriptan', 'N02CC01'],
    ['naratriptan', 'N02CC02'],
    ['zolmitriptan', 'N02CC03'],
    ['rizatriptan', 'N02CC04'],
    ['almotriptan', 'N02CC05'],
    ['eletriptan', 'N02CC06'],
    ['frovatriptan', 'N02CC07'],
    ['sumatriptan and naproxen', 'N02CC51'],
  ])('#31: %s alerts with an MAO inhibitor by its name alone and by its ATC code %s alone', (name, atc) => {
    expectAlert(31, product('triptan', name), product('maoi', 'phenelzine'));
    expectAlert(31, product('triptan', null, atc), product('maoi', null, 'N06AF03'));
  });

  it('leaves lasmiditan alone: it sits in N02CC but is no triptan', () => {
    expect(interactions(product('ditan', 'lasmiditan', 'N02CC08'), product('maoi', 'phenelzine', 'N06AF03'))).toEqual([]);
  });

  it.each([
    ['isocarboxazid', 'N06AF01'],
    ['phenelzine', 'N06AF03'],
    ['tranylcypromine', 'N06AF04'],
    ['moclobemide', 'N06AG02'],
    ['selegiline', 'N04BD01'],
    ['rasagiline', 'N04BD02'],
    ['procarbazine', 'L01XB01'],
    ['methylthioninium chloride', 'V03AB17'],
    ['linezolid', 'J01XX08'],
  ])('every MAO inhibitor, here %s, alerts by name and by its ATC code %s in each of the five MAO inhibitor rows', (name, atc) => {
    const partners: [number, string][] = [[3, 'pseudoephedrine'], [8, 'sertraline'], [16, 'tramadol'], [20, 'amitriptyline'], [31, 'sumatriptan']];
    for (const [row, partner] of partners) {
      expectAlert(row, product(partner, partner), product('maoi', name));
      expectAlert(row, product(partner, partner), product('maoi', null, atc));
    }
  });

  it('takes one QT-prolonging product alone, or two that are not, without alert', () => {
    expect(interactions(product('coartem', 'artemether/lumefantrine'), product('panadol', 'paracetamol'))).toEqual([]);
    expect(interactions(product('amoxil', 'amoxicillin'), product('panadol', 'paracetamol'))).toEqual([]);
  });

  it('catches a systemic azole by ATC code but not a skin cream by its code', () => {
    expectAlert(25, product('zocor', 'simvastatin'), product('nizoral', null, 'J02AB02'));
    expect(interactions(product('zocor', 'simvastatin'), product('cream', null, 'D01AC08'))).toEqual([]);
  });
});

describe('ONC high-priority list: every shipped member and code', () => {
  // A class-level code such as A02BC stands for any product coded under it.
  const sides = ONC_HIGH_PRIORITY_PAIRS.flatMap((p) => [
    { id: p.id, side: p.left, other: p.right },
    { id: p.id, side: p.right, other: p.left },
  ]);

  it.each(sides)('$id: each member by name and each ATC code alone raises the pair', ({ id, side, other }) => {
    const row = Number(id.replace('onc-', ''));
    const partner = product('partner', other.members[0]!);
    for (const name of side.members) expectAlert(row, product('member', name), partner);
    for (const code of side.atcPrefixes) expectAlert(row, product('member', null, code), partner);
  });
});
