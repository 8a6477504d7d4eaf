/**
 * Drugs that behave alike in an interaction. Members are lowercase INNs; ATC codes (WHO ATC index)
 * catch a product whose generic name is missing or spelled in a way the synonyms do not know.
 */
export interface DrugGroup {
  members: readonly string[];
  atcPrefixes: readonly string[];
}

// Membership follows the "final DDI pair and suggested membership" column of Table 2 in
// Phansalkar et al. 2012 (cited in interactions.ts); each group says where it goes beyond it. Most
// ATC codes belong to one substance, listed with the codes of the fixed combinations that contain
// it, so a name list and its codes cannot disagree. A whole ATC class is used only where every
// substance WHO files under it is also listed by name.

/** One substance and the WHO ATC codes of the products that contain it, alone or combined. */
const drug = (inn: string, ...atc: string[]): DrugGroup => ({ members: [inn], atcPrefixes: atc });

/** A whole ATC class, given with every substance WHO files under it. */
const atcClass = (prefix: string, ...inns: string[]): DrugGroup => ({ members: inns, atcPrefixes: [prefix] });

const anyOf = (...parts: DrugGroup[]): DrugGroup => ({
  members: [...new Set(parts.flatMap((p) => p.members))],
  atcPrefixes: [...new Set(parts.flatMap((p) => p.atcPrefixes))],
});

// Substances that sit in several groups, defined once so that every group finds them alike.
const AMIODARONE = drug('amiodarone', 'C01BD01');
const CIPROFLOXACIN = drug('ciprofloxacin', 'J01MA02', 'J01RA10', 'J01RA11', 'J01RA12');
const FLUVOXAMINE = drug('fluvoxamine', 'N06AB08');
const TICLOPIDINE = drug('ticlopidine', 'B01AC05');
const CITALOPRAM = drug('citalopram', 'N06AB04');
const ESCITALOPRAM = drug('escitalopram', 'N06AB10');
const CLARITHROMYCIN = drug('clarithromycin', 'J01FA09');
const ERYTHROMYCIN = drug('erythromycin', 'J01FA01');
const FLUCONAZOLE = drug('fluconazole', 'J02AC01');
const METHADONE = drug('methadone', 'N07BC02', 'N02AC52');
export const ATAZANAVIR = drug('atazanavir', 'J05AE08', 'J05AR15', 'J05AR23');
export const PROCARBAZINE = drug('procarbazine', 'L01XB01');
export const TRANYLCYPROMINE = drug('tranylcypromine', 'N06AF04');

/**
 * #3 lists twelve drugs, pseudoephedrine and atomoxetine among them. Phendimetrazine and
 * benzfetamine have no WHO ATC code, so only their names find them.
 */
export const AMPHETAMINE_DERIVATIVES = anyOf(
  drug('amfetamine', 'N06BA01'),
  drug('dexamfetamine', 'N06BA02'),
  drug('metamfetamine', 'N06BA03'),
  drug('methylphenidate', 'N06BA04'),
  drug('dexmethylphenidate', 'N06BA11', 'N06BA15'),
  drug('lisdexamfetamine', 'N06BA12'),
  drug('atomoxetine', 'N06BA09'),
  drug('phentermine', 'A08AA01', 'A08AA51'),
  drug('amfepramone', 'A08AA03'),
  drug('pseudoephedrine', 'R01BA02', 'R01BA52'),
  drug('phendimetrazine'),
  drug('benzfetamine'),
);

/**
 * One class for #3, #8, #16, #20 and #31. The paper lists tranylcypromine, phenelzine,
 * isocarboxazid, procarbazine and selegiline (the panel weighed downgrading selegiline, MAO-B
 * selective at low doses, and kept it), and for #31 moclobemide and methylene blue as well.
 * Ours, because the paper names the class: the rest of WHO's MAO inhibitor classes (nialamide,
 * iproniazid, iproclozide, toloxatone; rasagiline and safinamide beside selegiline) and linezolid,
 * a non-selective MAO inhibitor whose labelling warns against these same combinations.
 */
export const MAO_INHIBITORS = anyOf(
  atcClass('N06AF', 'isocarboxazid', 'nialamide', 'phenelzine', 'tranylcypromine', 'iproniazid', 'iproclozide'),
  atcClass('N06AG', 'moclobemide', 'toloxatone'),
  atcClass('N04BD', 'selegiline', 'rasagiline', 'safinamide'),
  PROCARBAZINE,
  drug('methylthioninium', 'V03AB17'),
  drug('linezolid', 'J01XX08'),
);

/** #8: the SSRIs and the serotonergic antidepressants the panel added to them, as listed. */
export const SSRIS_AND_SNRIS = anyOf(
  drug('fluoxetine', 'N06AB03', 'N06CA03'),
  CITALOPRAM,
  drug('paroxetine', 'N06AB05'),
  drug('sertraline', 'N06AB06'),
  FLUVOXAMINE,
  ESCITALOPRAM,
  drug('nefazodone', 'N06AX06'),
  drug('venlafaxine', 'N06AX16'),
  drug('milnacipran', 'N06AX17'),
  drug('duloxetine', 'N06AX21'),
  drug('desvenlafaxine', 'N06AX23'),
);

/** #16 "narcotic analgesics", as listed: the serotonergic opioids and dextromethorphan. */
export const SEROTONERGIC_OPIOIDS = anyOf(
  drug('pethidine', 'N02AB02', 'N02AB52', 'N02AB72', 'N02AG03'),
  METHADONE,
  drug('tapentadol', 'N02AX06'),
  drug('fentanyl', 'N02AB03', 'N01AH01', 'N01AH51'),
  drug('tramadol', 'N02AX02', 'N02AJ13', 'N02AJ14', 'N02AJ15', 'N02AJ16'),
  drug('dextromethorphan', 'R05DA09', 'N06AX62', 'N07XX59'),
);

/** #20, the eight tricyclics listed; N06AA also holds opipramol, maprotiline and others not named. */
export const TRICYCLICS = anyOf(
  drug('desipramine', 'N06AA01'),
  drug('imipramine', 'N06AA02'),
  drug('clomipramine', 'N06AA04'),
  drug('trimipramine', 'N06AA06'),
  drug('amitriptyline', 'N06AA09', 'N06CA01'),
  drug('nortriptyline', 'N06AA10'),
  drug('protriptyline', 'N06AA11'),
  drug('doxepin', 'N06AA12'),
);

/**
 * #31 names the class and lists sumatriptan, zolmitriptan and rizatriptan, the triptans cleared
 * by MAO-A. Ours: the other four triptans, which add serotonergic effect all the same. Codes one
 * by one: N02CC also holds lasmiditan, which is no triptan.
 */
export const TRIPTANS = anyOf(
  drug('sumatriptan', 'N02CC01', 'N02CC51'),
  drug('naratriptan', 'N02CC02'),
  drug('zolmitriptan', 'N02CC03'),
  drug('rizatriptan', 'N02CC04'),
  drug('almotriptan', 'N02CC05'),
  drug('eletriptan', 'N02CC06'),
  drug('frovatriptan', 'N02CC07'),
);

/**
 * #21 names the class with no members, so this list is ours: medicines whose labelling warns of
 * QT prolongation or torsades de pointes, the antimalarials used in Zambia included. Medicines
 * withdrawn everywhere (terfenadine, astemizole, bepridil, probucol) and anaesthetics are left out.
 */
export const QT_PROLONGING = anyOf(
  AMIODARONE,
  drug('dronedarone', 'C01BD07'),
  drug('dofetilide', 'C01BD04'),
  drug('ibutilide', 'C01BD05'),
  drug('sotalol', 'C07AA07', 'C07BA07', 'C07FX02'),
  drug('quinidine', 'C01BA01', 'C01BA51', 'C01BA71'),
  drug('procainamide', 'C01BA02'),
  drug('disopyramide', 'C01BA03'),
  drug('flecainide', 'C01BC04'),
  drug('haloperidol', 'N05AD01'),
  drug('droperidol', 'N05AD08'),
  drug('chlorpromazine', 'N05AA01'),
  drug('thioridazine', 'N05AC02'),
  drug('mesoridazine', 'N05AC03'),
  drug('pimozide', 'N05AG02'),
  drug('ziprasidone', 'N05AE04'),
  drug('sulpiride', 'N05AL01'),
  drug('levosulpiride', 'N05AL07'),
  CITALOPRAM,
  ESCITALOPRAM,
  METHADONE,
  ERYTHROMYCIN,
  CLARITHROMYCIN,
  drug('azithromycin', 'J01FA10', 'J01RA07', 'J01RA16'),
  drug('moxifloxacin', 'J01MA14'),
  drug('levofloxacin', 'J01MA12', 'J01RA05', 'J04AM12', 'A02BD10'),
  drug('sparfloxacin', 'J01MA09'),
  FLUCONAZOLE,
  drug('pentamidine', 'P01CX01'),
  drug('quinine', 'P01BC01'),
  drug('chloroquine', 'P01BA01', 'P01BB52'),
  drug('hydroxychloroquine', 'P01BA02'),
  drug('mefloquine', 'P01BC02', 'P01BF02'),
  drug('halofantrine', 'P01BX01'),
  drug('lumefantrine', 'P01BF01'),
  drug('piperaquine', 'P01BF05', 'P01BF07', 'P01BX02'),
  drug('ondansetron', 'A04AA01'),
  drug('domperidone', 'A03FA03'),
  drug('cisapride', 'A03FA02'),
  drug('arsenic trioxide', 'L01XX27'),
  drug('vandetanib', 'L01EX04'),
  drug('anagrelide', 'L01XX35'),
);

/**
 * #4 lists omeprazole, lansoprazole, pantoprazole, rabeprazole and esomeprazole, and the panel
 * added dexlansoprazole. Ours, to take WHO's class whole: dexrabeprazole and ilaprazole, and the
 * potassium-competitive acid blockers WHO files with them, which raise gastric pH the same way.
 */
export const PROTON_PUMP_INHIBITORS = atcClass(
  'A02BC',
  'omeprazole', 'pantoprazole', 'lansoprazole', 'rabeprazole', 'esomeprazole', 'dexlansoprazole', 'dexrabeprazole',
  'vonoprazan', 'tegoprazan', 'fexuprazan', 'ilaprazole', 'zastaprazan',
);

/**
 * The HIV protease inhibitors of #11, #23, #25 and #27. Fosamprenavir, amprenavir's prodrug, is
 * listed in two of them and stands with it in all. Lopinavir has no code of its own, only its
 * combination with ritonavir; J05AE30 (nirmatrelvir with ritonavir) and J05AP52/53 contain
 * ritonavir too. J05AE is not used whole: it also holds ensitrelvir.
 */
export const PROTEASE_INHIBITORS = anyOf(
  drug('saquinavir', 'J05AE01'),
  drug('indinavir', 'J05AE02'),
  drug('ritonavir', 'J05AE03', 'J05AE30', 'J05AR10', 'J05AR23', 'J05AR26', 'J05AP52', 'J05AP53'),
  drug('nelfinavir', 'J05AE04'),
  drug('amprenavir', 'J05AE05'),
  drug('fosamprenavir', 'J05AE07'),
  ATAZANAVIR,
  drug('tipranavir', 'J05AE09'),
  drug('darunavir', 'J05AE10', 'J05AR14', 'J05AR22', 'J05AR26'),
  drug('lopinavir', 'J05AR10'),
);

const CYP3A4_MACROLIDES = anyOf(CLARITHROMYCIN, ERYTHROMYCIN, drug('telithromycin', 'J01FA15'));
// Systemic codes only: the skin and vaginal forms of the azoles are not meant here.
const CYP3A4_AZOLES = anyOf(drug('ketoconazole', 'J02AB02', 'H02CA03'), drug('itraconazole', 'J02AC02'), drug('voriconazole', 'J02AC03'));
const CYP3A4_CARDIAC = anyOf(AMIODARONE, drug('verapamil', 'C08DA01', 'C08DA51', 'C09BB10'), drug('diltiazem', 'C08DB01'));
// Ours: strong CYP3A4 inhibitors the 2012 list does not name (cobicistat came later).
const CYP3A4_OURS = anyOf(drug('posaconazole', 'J02AC04'), drug('cobicistat', 'V03AX03', 'J05AR09', 'J05AR14', 'J05AR15', 'J05AR18', 'J05AR22'));
const NEFAZODONE = drug('nefazodone', 'N06AX06');

/** #27 "CYP3A4 and protease inhibitors": the paper lists only the strongest for the ergots. */
export const CYP3A4_INHIBITORS_WITH_ERGOTS = anyOf(PROTEASE_INHIBITORS, CYP3A4_MACROLIDES, CYP3A4_AZOLES, CYP3A4_OURS);

/** #25 adds amiodarone, verapamil, diltiazem, fluconazole and nefazodone. */
export const CYP3A4_INHIBITORS_WITH_STATINS = anyOf(CYP3A4_INHIBITORS_WITH_ERGOTS, CYP3A4_CARDIAC, FLUCONAZOLE, NEFAZODONE);

/** #11 adds aprepitant and cimetidine to #25's. */
export const CYP3A4_INHIBITORS_WITH_IRINOTECAN = anyOf(
  CYP3A4_INHIBITORS_WITH_STATINS,
  drug('aprepitant', 'A04AD12'),
  drug('cimetidine', 'A02BA01', 'A02BA51'),
);

/** #23, as listed; J04AM and J04BA codes are the fixed-dose TB and leprosy combinations with a rifamycin. */
export const STRONG_CYP3A4_INDUCERS = anyOf(
  drug('rifampicin', 'J04AB02', 'J04AM02', 'J04AM05', 'J04AM06', 'J04AM07', 'J04AM12', 'J04BA50', 'J04BA51'),
  drug('rifapentine', 'J04AB05'),
  drug('rifabutin', 'J04AB04', 'J04AM11', 'A02BD16'),
  drug('carbamazepine', 'N03AF01'),
  drug('bosentan', 'C02KX01'),
  drug('hypericum perforatum', 'N06AX25'),
);

export const SIMVASTATIN_AND_LOVASTATIN = anyOf(
  drug('simvastatin', 'C10AA01', 'C10BA02', 'C10BA04', 'C10BX01', 'C10BX04', 'A10BH51'),
  drug('lovastatin', 'C10AA02', 'C10BA01'),
);

export const ERGOT_ALKALOIDS = anyOf(
  drug('ergotamine', 'N02CA02', 'N02CA52', 'N02CA72'),
  drug('dihydroergotamine', 'N02CA01', 'N02CA51'),
  drug('methylergometrine', 'G02AB01', 'G02AC01'),
  drug('ergometrine', 'G02AB03'),
);

/** #22 "specific CYP1A2 inhibitors", as listed. */
export const RAMELTEON_PRECIPITANTS = anyOf(FLUVOXAMINE, AMIODARONE, TICLOPIDINE, CIPROFLOXACIN);

/** #28, as listed; zileuton has no WHO ATC code. */
export const CYP1A2_INHIBITORS = anyOf(
  CIPROFLOXACIN,
  FLUVOXAMINE,
  drug('mexiletine', 'C01BB02'),
  drug('propafenone', 'C01BC03'),
  drug('zileuton'),
  AMIODARONE,
  TICLOPIDINE,
);

export const FEBUXOSTAT = drug('febuxostat', 'M04AA03');
export const THIOPURINES = anyOf(drug('azathioprine', 'L04AX01'), drug('mercaptopurine', 'L01BB02'));
export const IRINOTECAN = drug('irinotecan', 'L01CE02');
export const RAMELTEON = drug('ramelteon', 'N05CH02');
export const TIZANIDINE = drug('tizanidine', 'M03BX02');
