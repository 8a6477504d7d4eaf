import {
  AMPHETAMINE_DERIVATIVES, ATAZANAVIR, CYP1A2_INHIBITORS, CYP3A4_INHIBITORS_WITH_ERGOTS, CYP3A4_INHIBITORS_WITH_IRINOTECAN,
  CYP3A4_INHIBITORS_WITH_STATINS, ERGOT_ALKALOIDS, FEBUXOSTAT, IRINOTECAN, MAO_INHIBITORS, PROCARBAZINE, PROTEASE_INHIBITORS,
  PROTON_PUMP_INHIBITORS, QT_PROLONGING, RAMELTEON, RAMELTEON_PRECIPITANTS, SEROTONERGIC_OPIOIDS, SIMVASTATIN_AND_LOVASTATIN,
  SSRIS_AND_SNRIS, STRONG_CYP3A4_INDUCERS, THIOPURINES, TIZANIDINE, TRANYLCYPROMINE, TRICYCLICS, TRIPTANS, type DrugGroup,
} from './drug-classes';
import type { Severity } from './severity';

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
  'methylene blue': 'methylthioninium',
  iproniazide: 'iproniazid',
  "st john's wort": 'hypericum perforatum',
  'st john’s wort': 'hypericum perforatum',
  "st. john's wort": 'hypericum perforatum',
  'st johns wort': 'hypericum perforatum',
  "saint john's wort": 'hypericum perforatum',
  hypericum: 'hypericum perforatum',
  'hyperici herba': 'hypericum perforatum',
};

/** Names of fixed combinations that stand for several ingredients, after synonyms. */
export const COMBINATION_NAMES: Readonly<Record<string, readonly string[]>> = {
  'co-trimoxazole': ['sulfamethoxazole', 'trimethoprim'],
  cotrimoxazole: ['sulfamethoxazole', 'trimethoprim'],
  'co-amoxiclav': ['amoxicillin', 'clavulanic acid'],
  'co-artemether': ['artemether', 'lumefantrine'],
};

const cite = (entry: number, pair: string) =>
  `ONC high-priority DDI list (Phansalkar et al., JAMIA 2012;19(5):735-43, doi:10.1136/amiajnl-2011-000612), Table 2 #${entry}: ${pair}`;


/**
 * The 15 contraindicated pairs of the ONC high-priority list, numbered as in the paper's Table 2,
 * which keeps the numbers of all 31 candidates so a reader can find each entry. Each side is the
 * class the table names, with the members it suggests; drug-classes.ts marks where a list goes
 * beyond them because the table names a class.
 */
export const ONC_HIGH_PRIORITY_PAIRS: readonly InteractionPair[] = [
  {
    id: 'onc-3',
    left: AMPHETAMINE_DERIVATIVES,
    right: MAO_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'an amphetamine-type stimulant, pseudoephedrine or atomoxetine with an MAO inhibitor can cause a hypertensive crisis (stroke, arrhythmia), also within 14 days of stopping the MAO inhibitor',
    source: cite(3, 'amphetamine derivatives with MAO inhibitors'),
  },
  {
    id: 'onc-4',
    left: ATAZANAVIR,
    right: PROTON_PUMP_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'proton pump inhibitors cut atazanavir absorption sharply, risking HIV treatment failure and resistance',
    source: cite(4, 'atazanavir with proton pump inhibitors'),
  },
  {
    id: 'onc-6',
    left: FEBUXOSTAT,
    right: THIOPURINES,
    severity: 'CONTRAINDICATED',
    message: 'febuxostat blocks the xanthine oxidase that clears azathioprine and mercaptopurine; their levels rise, with risk of severe bone marrow suppression',
    source: cite(6, 'febuxostat with azathioprine and mercaptopurine'),
  },
  {
    id: 'onc-8',
    left: SSRIS_AND_SNRIS,
    right: MAO_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'an SSRI or SNRI with an MAO inhibitor can cause serotonin syndrome (hyperthermia, rigidity, seizures), which can be fatal; a washout is needed when switching',
    source: cite(8, 'SSRIs and other serotonergic antidepressants with MAO inhibitors'),
  },
  {
    id: 'onc-11',
    left: IRINOTECAN,
    right: CYP3A4_INHIBITORS_WITH_IRINOTECAN,
    severity: 'CONTRAINDICATED',
    message: 'CYP3A4 inhibitors raise exposure to irinotecan and its active metabolite SN-38, with risk of severe neutropenia and diarrhoea',
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
    left: QT_PROLONGING,
    right: QT_PROLONGING,
    severity: 'CONTRAINDICATED',
    message: 'two QT-prolonging drugs add to each other, with risk of torsades de pointes and sudden cardiac death',
    source: cite(21, 'QT-prolonging agents with QT-prolonging agents'),
  },
  {
    id: 'onc-22',
    left: RAMELTEON,
    right: RAMELTEON_PRECIPITANTS,
    severity: 'CONTRAINDICATED',
    message: 'CYP1A2 inhibition raises ramelteon levels many-fold (about 190-fold with fluvoxamine), with risk of profound sedation',
    source: cite(22, 'ramelteon with specific CYP1A2 inhibitors'),
  },
  {
    id: 'onc-23',
    left: STRONG_CYP3A4_INDUCERS,
    right: PROTEASE_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'CYP3A4 inducers lower protease inhibitor levels, risking HIV treatment failure and resistance; with rifabutin the protease inhibitor also raises rifabutin levels, so a boosted regimen needs a reduced rifabutin dose',
    source: cite(23, 'strong CYP3A4 inducers with protease inhibitors'),
  },
  {
    id: 'onc-25',
    left: SIMVASTATIN_AND_LOVASTATIN,
    right: CYP3A4_INHIBITORS_WITH_STATINS,
    severity: 'CONTRAINDICATED',
    message: 'CYP3A4 and protease inhibitors raise simvastatin or lovastatin levels, strong ones many-fold, with risk of myopathy and rhabdomyolysis',
    source: cite(25, 'HMG-CoA reductase inhibitors with CYP3A4 and protease inhibitors'),
  },
  {
    id: 'onc-27',
    left: CYP3A4_INHIBITORS_WITH_ERGOTS,
    right: ERGOT_ALKALOIDS,
    severity: 'CONTRAINDICATED',
    message: 'CYP3A4 and protease inhibitors raise ergot alkaloid levels, with risk of ergotism: severe vasospasm and ischaemia of the limbs or brain',
    source: cite(27, 'CYP3A4 and protease inhibitors with ergot alkaloids and derivatives'),
  },
  {
    id: 'onc-28',
    left: TIZANIDINE,
    right: CYP1A2_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'CYP1A2 inhibitors raise tizanidine levels many-fold, with risk of severe hypotension, bradycardia and excessive sedation',
    source: cite(28, 'tizanidine with CYP1A2 inhibitors'),
  },
  {
    id: 'onc-30',
    left: TRANYLCYPROMINE,
    right: PROCARBAZINE,
    severity: 'CONTRAINDICATED',
    message: 'procarbazine is itself an MAO inhibitor; with tranylcypromine the combined MAO inhibition risks a hypertensive crisis and seizures',
    source: cite(30, 'tranylcypromine with procarbazine'),
  },
  {
    id: 'onc-31',
    left: TRIPTANS,
    right: MAO_INHIBITORS,
    severity: 'CONTRAINDICATED',
    message: 'MAO inhibitors block the breakdown of sumatriptan, rizatriptan and zolmitriptan, and every triptan adds serotonergic effect: risk of coronary vasospasm and serotonin syndrome',
    source: cite(31, 'triptans with MAO inhibitors'),
  },
];
