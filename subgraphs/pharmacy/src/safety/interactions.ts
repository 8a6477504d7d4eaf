import type { Severity } from './severity';

/**
 * Drugs that behave alike in an interaction. Members are lowercase INNs; ATC prefixes catch a
 * product whose generic name is missing or spelled in a way the synonyms do not know.
 */
export interface DrugGroup {
  members: readonly string[];
  atcPrefixes: readonly string[];
}

export interface InteractionPair {
  id: string;
  left: DrugGroup;
  right: DrugGroup;
  severity: Severity;
  /** What can happen, in our own words: the paper lists pairs, not advice. */
  message: string;
  source: string;
}

/**
 * US and British names that products and allergy lists use, mapped to the INN the data is keyed
 * by. Salt words are stripped before this lookup, so "penicillin v potassium" arrives as
 * "penicillin v".
 */
export const INN_SYNONYMS: Readonly<Record<string, string>> = {
  rifampin: 'rifampicin',
  meperidine: 'pethidine',
  amphetamine: 'amfetamine',
  dextroamphetamine: 'dexamfetamine',
  dexamphetamine: 'dexamfetamine',
  methamphetamine: 'metamfetamine',
  lisdexamphetamine: 'lisdexamfetamine',
  diethylpropion: 'amfepramone',
  benzphetamine: 'benzfetamine',
  methylergonovine: 'methylergometrine',
  ergonovine: 'ergometrine',
  acetaminophen: 'paracetamol',
  glyburide: 'glibenclamide',
  albuterol: 'salbutamol',
  aspirin: 'acetylsalicylic acid',
  indomethacin: 'indometacin',
  cephalexin: 'cefalexin',
  cephadroxil: 'cefadroxil',
  cephazolin: 'cefazolin',
  'penicillin g': 'benzylpenicillin',
  'penicillin v': 'phenoxymethylpenicillin',
  sulphamethoxazole: 'sulfamethoxazole',
  sulphadiazine: 'sulfadiazine',
  sulphadoxine: 'sulfadoxine',
  sulphasalazine: 'sulfasalazine',
  clavulanate: 'clavulanic acid',
  valproate: 'valproic acid',
};

/** Names of fixed combinations that stand for several ingredients, after synonyms. */
export const COMBINATION_NAMES: Readonly<Record<string, readonly string[]>> = {
  'co-trimoxazole': ['sulfamethoxazole', 'trimethoprim'],
  cotrimoxazole: ['sulfamethoxazole', 'trimethoprim'],
  'co-amoxiclav': ['amoxicillin', 'clavulanic acid'],
};

// Selegiline stays although it is MAO-B selective: the panel weighed downgrading it and kept it,
// since it inhibits MAO-A at higher doses. Rasagiline and safinamide were never on the list, so
// only its own code is used rather than the whole of N04BD.
const MAO_INHIBITORS: DrugGroup = {
  members: ['isocarboxazid', 'phenelzine', 'tranylcypromine', 'procarbazine', 'selegiline'],
  atcPrefixes: ['N06AF', 'N04BD01', 'L01XB01'],
};

// N06BA also holds modafinil, atomoxetine and caffeine, so only the stimulants' own codes.
const AMPHETAMINE_STIMULANTS: DrugGroup = {
  members: ['amfetamine', 'dexamfetamine', 'lisdexamfetamine', 'metamfetamine', 'methylphenidate', 'dexmethylphenidate', 'phentermine', 'amfepramone', 'phendimetrazine', 'benzfetamine'],
  atcPrefixes: ['N06BA01', 'N06BA02', 'N06BA03', 'N06BA04', 'N06BA11', 'N06BA12'],
};

const SEROTONERGIC_OPIOIDS: DrugGroup = {
  members: ['pethidine', 'tramadol', 'methadone', 'fentanyl', 'tapentadol', 'dextromethorphan'],
  atcPrefixes: [],
};

// N06AA also holds opipramol, maprotiline and others the panel did not name: the named ones only.
const TRICYCLICS: DrugGroup = {
  members: ['amitriptyline', 'nortriptyline', 'imipramine', 'desipramine', 'clomipramine', 'doxepin', 'protriptyline', 'trimipramine'],
  atcPrefixes: ['N06AA01', 'N06AA02', 'N06AA04', 'N06AA06', 'N06AA09', 'N06AA10', 'N06AA11', 'N06AA12'],
};

const TRIPTANS: DrugGroup = {
  members: ['sumatriptan', 'rizatriptan', 'zolmitriptan'],
  atcPrefixes: ['N02CC'],
};

// The SNRIs and nefazodone sit in N06AX next to bupropion and mirtazapine, hence single codes.
const SSRIS_AND_SNRIS: DrugGroup = {
  members: ['citalopram', 'escitalopram', 'fluoxetine', 'fluvoxamine', 'paroxetine', 'sertraline', 'venlafaxine', 'desvenlafaxine', 'duloxetine', 'milnacipran', 'nefazodone'],
  atcPrefixes: ['N06AB', 'N06AX06', 'N06AX16', 'N06AX17', 'N06AX21', 'N06AX23'],
};

const CITALOPRAM: DrugGroup = { members: ['citalopram'], atcPrefixes: ['N06AB04'] };

const QT_PROLONGING: DrugGroup = {
  members: [
    'amiodarone', 'dronedarone', 'sotalol', 'dofetilide', 'quinidine', 'disopyramide', 'procainamide', 'haloperidol',
    'thioridazine', 'pimozide', 'ziprasidone', 'methadone', 'erythromycin', 'clarithromycin', 'moxifloxacin', 'levofloxacin',
    'ondansetron', 'fluconazole', 'escitalopram',
  ],
  atcPrefixes: [],
};

// Fluconazole is a moderate inhibitor (it is in J02AC01), so the azoles go by single codes.
const STRONG_CYP3A4_INHIBITORS: DrugGroup = {
  members: ['ketoconazole', 'itraconazole', 'voriconazole', 'posaconazole', 'clarithromycin', 'telithromycin', 'ritonavir', 'indinavir', 'nelfinavir', 'saquinavir', 'atazanavir', 'nefazodone'],
  atcPrefixes: ['J02AB02', 'J02AC02', 'J02AC03', 'J02AC04', 'J01FA09', 'J05AE01', 'J05AE02', 'J05AE03', 'J05AE04', 'J05AE08', 'N06AX06'],
};

const CYP1A2_INHIBITORS: DrugGroup = {
  members: ['ciprofloxacin', 'fluvoxamine', 'amiodarone', 'propafenone', 'mexiletine', 'zileuton', 'ticlopidine'],
  atcPrefixes: ['J01MA02', 'N06AB08', 'C01BD01'],
};

const RAMELTEON_PRECIPITANTS: DrugGroup = {
  members: ['fluvoxamine', 'ciprofloxacin', 'amiodarone', 'ticlopidine'],
  atcPrefixes: ['N06AB08', 'J01MA02', 'C01BD01'],
};

const PROTON_PUMP_INHIBITORS: DrugGroup = {
  members: ['omeprazole', 'esomeprazole', 'lansoprazole', 'dexlansoprazole', 'pantoprazole', 'rabeprazole'],
  atcPrefixes: ['A02BC'],
};

// Lopinavir has no code of its own (only J05AR10 with ritonavir, and J05AR also holds
// NRTI combinations), so co-formulations are caught by their generic names.
const PROTEASE_INHIBITORS: DrugGroup = {
  members: ['atazanavir', 'darunavir', 'fosamprenavir', 'indinavir', 'lopinavir', 'nelfinavir', 'ritonavir', 'saquinavir', 'tipranavir'],
  atcPrefixes: ['J05AE'],
};

// J04AB also holds cycloserine and rifabutin; J04AM02/05/06/07 are the rifampicin-containing
// TB fixed-dose combinations, common in TB/HIV co-treatment.
const RIFAMYCIN_INDUCERS: DrugGroup = {
  members: ['rifampicin', 'rifapentine'],
  atcPrefixes: ['J04AB02', 'J04AB05', 'J04AM02', 'J04AM05', 'J04AM06', 'J04AM07'],
};

const single = (inn: string, atc: string): DrugGroup => ({ members: [inn], atcPrefixes: [atc] });

const cite = (entry: number, pair: string) =>
  `ONC high-priority DDI list (Phansalkar et al., JAMIA 2012;19(5):735-43, doi:10.1136/amiajnl-2011-000612), Table 2 #${entry}: ${pair}`;

/**
 * The 15 contraindicated pairs of the ONC high-priority list, numbered as in the paper's Table 2,
 * which keeps the numbers of all 31 candidates so a reader can find each entry. Narrower than the
 * paper in places: where it also named moderate CYP3A4 inhibitors or further inducers only the
 * strong ones are kept, and entry 21 (any two QT-prolonging agents) is encoded as citalopram with
 * the others.
 */
export const ONC_HIGH_PRIORITY_PAIRS: readonly InteractionPair[] = [
  {
    id: 'onc-3',
    left: AMPHETAMINE_STIMULANTS,
    right: MAO_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'an amphetamine-type stimulant with an MAO inhibitor can cause a hypertensive crisis (stroke, arrhythmia), also within 14 days of stopping the MAO inhibitor',
    source: cite(3, 'amphetamine and derivatives with MAO inhibitors'),
  },
  {
    id: 'onc-4',
    left: single('atazanavir', 'J05AE08'),
    right: PROTON_PUMP_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'proton pump inhibitors cut atazanavir absorption sharply, risking HIV treatment failure and resistance',
    source: cite(4, 'atazanavir with proton pump inhibitors'),
  },
  {
    id: 'onc-6',
    left: single('febuxostat', 'M04AA03'),
    right: { members: ['azathioprine', 'mercaptopurine'], atcPrefixes: ['L04AX01', 'L01BB02'] },
    severity: 'CONTRAINDICATED',
    message: 'febuxostat blocks the xanthine oxidase that clears azathioprine and mercaptopurine; their levels rise, with risk of severe bone marrow suppression',
    source: cite(6, 'febuxostat with azathioprine or mercaptopurine'),
  },
  {
    id: 'onc-8',
    left: SSRIS_AND_SNRIS,
    right: MAO_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'an SSRI or SNRI with an MAO inhibitor can cause serotonin syndrome (hyperthermia, rigidity, seizures), which can be fatal; a washout is needed when switching',
    source: cite(8, 'SSRIs and other serotonergic agents with MAO inhibitors'),
  },
  {
    id: 'onc-11',
    left: single('irinotecan', 'L01CE02'),
    right: STRONG_CYP3A4_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'strong CYP3A4 inhibitors raise exposure to irinotecan and its active metabolite SN-38, with risk of severe neutropenia and diarrhoea',
    source: cite(11, 'irinotecan with CYP3A4 inhibitors'),
  },
  {
    id: 'onc-16',
    left: SEROTONERGIC_OPIOIDS,
    right: MAO_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'pethidine, tramadol, methadone, fentanyl, tapentadol or dextromethorphan with an MAO inhibitor can cause serotonin syndrome or severe excitation, hyperthermia and coma, which can be fatal',
    source: cite(16, 'narcotic analgesics with MAO inhibitors'),
  },
  {
    id: 'onc-20',
    left: TRICYCLICS,
    right: MAO_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'a tricyclic antidepressant with an MAO inhibitor can cause serotonin syndrome or a hypertensive crisis, with hyperpyrexia, seizures and death',
    source: cite(20, 'tricyclic antidepressants with MAO inhibitors'),
  },
  {
    id: 'onc-21',
    left: CITALOPRAM,
    right: QT_PROLONGING,
    severity: 'CONTRAINDICATED',
    message: 'citalopram with another QT-prolonging drug adds to QT prolongation, with risk of torsades de pointes and sudden cardiac death',
    source: cite(21, 'QT-prolonging agents with QT-prolonging agents, here citalopram with the others'),
  },
  {
    id: 'onc-22',
    left: single('ramelteon', 'N05CH02'),
    right: RAMELTEON_PRECIPITANTS,
    severity: 'CONTRAINDICATED',
    message: 'CYP1A2 inhibition raises ramelteon levels many-fold (about 190-fold with fluvoxamine), with risk of profound sedation',
    source: cite(22, 'ramelteon with CYP1A2 inhibitors'),
  },
  {
    id: 'onc-23',
    left: RIFAMYCIN_INDUCERS,
    right: PROTEASE_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'rifampicin and rifapentine induce CYP3A4 and lower protease inhibitor levels sharply, risking HIV treatment failure and resistance',
    source: cite(23, 'strong CYP3A4 inducers with protease inhibitors'),
  },
  {
    id: 'onc-25',
    left: { members: ['simvastatin', 'lovastatin'], atcPrefixes: ['C10AA01', 'C10AA02'] },
    right: STRONG_CYP3A4_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'strong CYP3A4 inhibitors raise simvastatin or lovastatin levels many-fold, with risk of myopathy and rhabdomyolysis',
    source: cite(25, 'HMG-CoA reductase inhibitors with CYP3A4 inhibitors'),
  },
  {
    id: 'onc-27',
    left: STRONG_CYP3A4_INHIBITORS,
    right: {
      members: ['ergotamine', 'dihydroergotamine', 'methylergometrine', 'ergometrine'],
      atcPrefixes: ['N02CA01', 'N02CA02', 'G02AB01', 'G02AB03'],
    },
    severity: 'CONTRAINDICATED',
    message: 'strong CYP3A4 inhibitors raise ergot alkaloid levels, with risk of ergotism: severe vasospasm and ischaemia of the limbs or brain',
    source: cite(27, 'CYP3A4 inhibitors with ergot alkaloids and derivatives'),
  },
  {
    id: 'onc-28',
    left: single('tizanidine', 'M03BX02'),
    right: CYP1A2_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'CYP1A2 inhibitors raise tizanidine levels many-fold, with risk of severe hypotension, bradycardia and excessive sedation',
    source: cite(28, 'tizanidine with CYP1A2 inhibitors'),
  },
  {
    id: 'onc-30',
    left: single('tranylcypromine', 'N06AF04'),
    right: single('procarbazine', 'L01XB01'),
    severity: 'CONTRAINDICATED',
    message: 'procarbazine is itself an MAO inhibitor; with tranylcypromine the combined MAO inhibition risks a hypertensive crisis and seizures',
    source: cite(30, 'tranylcypromine with procarbazine'),
  },
  {
    id: 'onc-31',
    left: TRIPTANS,
    right: MAO_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'MAO inhibitors block the breakdown of sumatriptan, rizatriptan and zolmitriptan; levels rise, with risk of coronary vasospasm and serotonin syndrome',
    source: cite(31, 'triptans with MAO inhibitors'),
  },
];
