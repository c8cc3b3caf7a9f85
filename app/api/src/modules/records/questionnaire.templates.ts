// Shipped questionnaire templates. None is mandatory: a practice copies one into its own editable
// draft (its own key) and publishes it. Points and bands with their sources: docs/questionnaires.md
import type { ChoiceDef, Definition, FieldDef } from './questionnaire.schema.ts';

const t = (de: string, en: string) => ({ de, en });
const c = (key: string, de: string, en: string, points?: number): ChoiceDef => ({ key, label: t(de, en), ...(points !== undefined ? { points } : {}) });

export interface Template {
  id: string;
  title: string;
  description: { de: string; en: string };
  definition: Definition;
}

/**
 * The hair clinic's anamnesis (questionnaire key "anamnesis"). Its first version, created on first
 * use for every organization, is the first format (option keys without labels); the template is
 * the same questionnaire in the current format with the same keys, so answers given to any earlier
 * version are answers to this one too.
 */
export const LEGACY_ANAMNESIS: { key: string; title: string; definition: Definition } = {
  key: 'anamnesis',
  title: 'Anamnese',
  definition: {
    fields: [
      { key: 'conditions', type: 'list', label: t('Vorerkrankungen', 'Pre-existing conditions'), maxItems: 50 },
      { key: 'medication', type: 'list', label: t('Medikation', 'Medication'), maxItems: 50 },
      { key: 'allergies', type: 'list', label: t('Allergien', 'Allergies'), maxItems: 50 },
      { key: 'prior_treatments', type: 'list', label: t('Vorbehandlungen', 'Prior treatments'), maxItems: 50 },
      { key: 'smoker', type: 'boolean', label: t('Raucher', 'Smoker'), required: true },
      { key: 'cigarettes_per_day', type: 'number', label: t('Zigaretten pro Tag', 'Cigarettes per day'), min: 0, max: 200, showIf: { field: 'smoker', equals: true } },
      { key: 'blood_thinners', type: 'boolean', label: t('Blutverdünner', 'Blood thinners'), required: true },
      { key: 'blood_thinner_name', type: 'text', label: t('Welcher Blutverdünner?', 'Which blood thinner?'), maxLength: 200, showIf: { field: 'blood_thinners', equals: true } },
      {
        key: 'hair_status', type: 'choice', label: t('Haarstatus (Norwood)', 'Hair status (Norwood)'), required: true,
        options: ['norwood_1', 'norwood_2', 'norwood_3', 'norwood_4', 'norwood_5', 'norwood_6', 'norwood_7'],
      },
      { key: 'hair_loss_years', type: 'number', label: t('Haarausfall seit (Jahren)', 'Hair loss for (years)'), min: 0, max: 100 },
      { key: 'free_text', type: 'text', label: t('Weitere Angaben', 'Further information'), maxLength: 5000 },
    ],
    rules: [
      { id: 'minor', all: [{ field: 'age', op: 'lt', value: 18 }], outcome: 'not_qualified', reason: t('Patient ist minderjährig', 'Patient is under 18') },
      { id: 'blood_thinners', all: [{ field: 'blood_thinners', op: 'eq', value: true }], outcome: 'needs_review', reason: t('Nimmt Blutverdünner', 'Takes blood thinners') },
      {
        id: 'heavy_smoker', all: [{ field: 'smoker', op: 'eq', value: true }, { field: 'cigarettes_per_day', op: 'gt', value: 20 }],
        outcome: 'needs_review', reason: t('Starker Raucher', 'Heavy smoker'),
      },
      { id: 'advanced_loss', all: [{ field: 'hair_status', op: 'eq', value: 'norwood_7' }], outcome: 'needs_review', reason: t('Spenderbereich prüfen (Norwood 7)', 'Check donor area (Norwood 7)') },
      { id: 'allergies', all: [{ field: 'allergies', op: 'present' }], outcome: 'needs_review', reason: t('Allergien angegeben', 'Allergies reported') },
    ],
  },
};

/** The legacy definition in the current format: same keys, labelled options, sections. */
function hairClinic(): Definition {
  const legacy = LEGACY_ANAMNESIS.definition;
  const sectionOf: Record<string, string> = {
    conditions: 'history', medication: 'history', allergies: 'history', prior_treatments: 'history',
    smoker: 'risks', cigarettes_per_day: 'risks', blood_thinners: 'risks', blood_thinner_name: 'risks',
    hair_status: 'hair', hair_loss_years: 'hair', free_text: 'hair',
  };
  return {
    sections: [
      { key: 'history', label: t('Vorgeschichte', 'History') },
      { key: 'risks', label: t('Risiken', 'Risks') },
      { key: 'hair', label: t('Haar', 'Hair') },
    ],
    fields: legacy.fields.map((f): FieldDef => {
      const { options, ...rest } = f;
      const showIf = f.showIf && 'equals' in f.showIf ? { field: f.showIf.field, op: 'eq' as const, value: f.showIf.equals } : f.showIf;
      return {
        ...rest,
        ...(f.key === 'free_text' ? { type: 'long_text' as const } : {}),
        ...(f.key === 'cigarettes_per_day' ? { unit: t('Stück/Tag', 'per day') } : {}),
        ...(f.key === 'hair_loss_years' ? { unit: t('Jahre', 'years') } : {}),
        ...(options ? { choices: options.map((o) => c(o, `Norwood ${o.slice(-1)}`, `Norwood ${o.slice(-1)}`)) } : {}),
        ...(showIf ? { showIf } : {}),
        section: sectionOf[f.key],
      };
    }),
    rules: legacy.rules,
  };
}

const yesNo = (key: string, de: string, en: string, extra: Partial<FieldDef> = {}): FieldDef => ({ key, type: 'boolean', label: t(de, en), ...extra });

function generalAnamnesis(): Definition {
  return {
    sections: [
      { key: 'complaints', label: t('Aktuelle Beschwerden', 'Current complaints') },
      { key: 'history', label: t('Vorgeschichte', 'Medical history') },
      { key: 'medication', label: t('Medikation und Allergien', 'Medication and allergies') },
      { key: 'lifestyle', label: t('Lebensstil', 'Lifestyle') },
      { key: 'family', label: t('Familie und Soziales', 'Family and social history') },
    ],
    fields: [
      { key: 'reason', type: 'long_text', label: t('Grund des Besuchs / Beschwerden', 'Reason for the visit / complaints'), section: 'complaints', maxLength: 5000 },
      { key: 'since', type: 'date', label: t('Beschwerden seit', 'Complaints since'), section: 'complaints' },
      { key: 'pain', type: 'scale', label: t('Schmerzstärke (0 = keine, 10 = stärkste)', 'Pain (0 = none, 10 = worst)'), min: 0, max: 10, section: 'complaints' },
      { key: 'conditions', type: 'multi_choice', label: t('Bekannte Erkrankungen', 'Known conditions'), section: 'history', choices: [
        c('hypertension', 'Bluthochdruck', 'High blood pressure'), c('diabetes', 'Diabetes mellitus', 'Diabetes mellitus'),
        c('heart', 'Herzerkrankung', 'Heart disease'), c('lung', 'Lungenerkrankung (Asthma, COPD)', 'Lung disease (asthma, COPD)'),
        c('thyroid', 'Schilddrüsenerkrankung', 'Thyroid disease'), c('kidney', 'Nierenerkrankung', 'Kidney disease'),
        c('cancer', 'Krebserkrankung', 'Cancer'), c('depression', 'Depression / psychische Erkrankung', 'Depression / mental illness'),
      ] },
      { key: 'other_conditions', type: 'list', label: t('Weitere Erkrankungen', 'Other conditions'), section: 'history', maxItems: 50 },
      { key: 'operations', type: 'list', label: t('Operationen (mit Jahr)', 'Operations (with year)'), section: 'history', maxItems: 50 },
      { key: 'medication_list', type: 'list', label: t('Regelmäßige Medikamente (mit Dosis)', 'Regular medication (with dose)'), section: 'medication', maxItems: 50 },
      yesNo('blood_thinners', 'Nehmen Sie blutverdünnende Medikamente?', 'Do you take blood thinners?', { section: 'medication', required: true }),
      yesNo('has_allergies', 'Haben Sie Allergien oder Unverträglichkeiten?', 'Do you have allergies or intolerances?', { section: 'medication', required: true }),
      { key: 'allergies', type: 'list', label: t('Welche Allergien?', 'Which allergies?'), section: 'medication', maxItems: 50, required: true, showIf: { field: 'has_allergies', op: 'eq', value: true } },
      { key: 'smoking', type: 'choice', label: t('Rauchen', 'Smoking'), section: 'lifestyle', required: true, choices: [c('never', 'Nie', 'Never'), c('former', 'Früher', 'Former smoker'), c('current', 'Ja', 'Yes')] },
      { key: 'pack_years', type: 'number', label: t('Packungsjahre', 'Pack-years'), unit: t('Packungsjahre', 'pack-years'), min: 0, max: 200, section: 'lifestyle', showIf: { field: 'smoking', op: 'in', value: ['former', 'current'] } },
      { key: 'alcohol', type: 'choice', label: t('Alkohol', 'Alcohol'), section: 'lifestyle', choices: [c('none', 'Kein', 'None'), c('occasional', 'Gelegentlich', 'Occasionally'), c('daily', 'Täglich', 'Daily')] },
      { key: 'height', type: 'number', label: t('Größe', 'Height'), unit: t('cm', 'cm'), min: 40, max: 250, section: 'lifestyle' },
      { key: 'weight', type: 'number', label: t('Gewicht', 'Weight'), unit: t('kg', 'kg'), min: 1, max: 400, section: 'lifestyle' },
      { key: 'family_history', type: 'multi_choice', label: t('Erkrankungen in der Familie', 'Conditions in the family'), section: 'family', choices: [
        c('heart_attack', 'Herzinfarkt / Schlaganfall', 'Heart attack / stroke'), c('diabetes', 'Diabetes', 'Diabetes'), c('cancer', 'Krebs', 'Cancer'),
      ] },
      { key: 'living', type: 'choice', label: t('Wohnsituation', 'Living situation'), section: 'family', choices: [c('alone', 'Allein', 'Alone'), c('partner', 'Mit Partner/Familie', 'With partner/family'), c('care_home', 'Pflegeeinrichtung', 'Care home')] },
      { key: 'notes', type: 'long_text', label: t('Weitere Angaben', 'Further information'), section: 'family', maxLength: 5000 },
    ],
    rules: [
      { id: 'blood_thinners', all: [{ field: 'blood_thinners', op: 'eq', value: true }], outcome: 'needs_review', reason: t('Nimmt Blutverdünner (vor Eingriffen beachten)', 'Takes blood thinners (mind before procedures)') },
      { id: 'allergies', all: [{ field: 'has_allergies', op: 'eq', value: true }], outcome: 'needs_review', reason: t('Allergien angegeben', 'Allergies reported') },
    ],
  };
}

const BARTHEL_ITEMS: [string, string, string, ChoiceDef[]][] = [
  ['eating', 'Essen', 'Feeding', [c('independent', 'Komplett selbständig oder selbständige PEG-Beschickung/-Versorgung', 'Independent', 10), c('help', 'Hilfe bei mundgerechter Vorbereitung, aber selbständiges Einnehmen oder Hilfe bei PEG-Beschickung/-Versorgung', 'Needs help cutting, spreading etc.', 5), c('unable', 'Kein selbständiges Einnehmen und keine MS/PEG-Ernährung', 'Unable', 0)]],
  ['transfer', 'Aufsetzen und Umsetzen', 'Transfer (bed to chair and back)', [c('independent', 'Komplett selbständig aus liegender Position in (Roll-)Stuhl und zurück', 'Independent', 15), c('supervision', 'Aufsicht oder geringe Hilfe (ungeschulte Laienhilfe)', 'Minor help or supervision', 10), c('major_help', 'Erhebliche Hilfe (geschulte Laienhilfe oder professionelle Hilfe)', 'Major help, can sit', 5), c('unable', 'Wird faktisch nicht aus dem Bett transferiert', 'Unable', 0)]],
  ['grooming', 'Sich waschen', 'Grooming', [c('independent', 'Vor Ort komplett selbständig inkl. Zähneputzen, Rasieren und Frisieren', 'Independent (face, hair, teeth, shaving)', 5), c('help', 'Erfüllt „5“ nicht', 'Needs help', 0)]],
  ['toilet', 'Toilettenbenutzung', 'Toilet use', [c('independent', 'Vor Ort komplett selbständige Nutzung von Toilette oder Toilettenstuhl inkl. Spülung/Reinigung', 'Independent', 10), c('help', 'Vor Ort Hilfe oder Aufsicht bei Toiletten- oder Toilettenstuhlbenutzung oder deren Spülung/Reinigung erforderlich', 'Needs some help', 5), c('unable', 'Benutzt faktisch weder Toilette noch Toilettenstuhl', 'Dependent', 0)]],
  ['bathing', 'Baden/Duschen', 'Bathing', [c('independent', 'Selbständiges Baden oder Duschen inkl. Ein-/Ausstieg, sich reinigen und abtrocknen', 'Independent', 5), c('help', 'Erfüllt „5“ nicht', 'Needs help', 0)]],
  ['mobility', 'Aufstehen und Gehen', 'Mobility on level surfaces', [c('walks', 'Ohne Aufsicht oder personelle Hilfe vom Sitz in den Stand kommen und mindestens 50 m ohne Gehwagen (aber ggf. mit Stöcken/Gehstützen) gehen', 'Walks 50 m independently (aids allowed except a walker)', 15), c('walker', 'Ohne Aufsicht oder personelle Hilfe vom Sitz in den Stand kommen und mindestens 50 m mit Hilfe eines Gehwagens gehen', 'Walks 50 m with a walker', 10), c('wheelchair', 'Mit Laienhilfe oder Gehwagen vom Sitz in den Stand kommen und Strecken im Wohnbereich bewältigen; alternativ: im Wohnbereich komplett selbständig im Rollstuhl', 'With help or a walker within the home, or independent in a wheelchair', 5), c('unable', 'Erfüllt „5“ nicht', 'Immobile', 0)]],
  ['stairs', 'Treppensteigen', 'Stairs', [c('independent', 'Ohne Aufsicht oder personelle Hilfe (ggf. inkl. Stöcken/Gehstützen) mindestens ein Stockwerk hinauf- und hinuntersteigen', 'Independent', 10), c('help', 'Mit Aufsicht oder Laienhilfe mindestens ein Stockwerk hinauf und hinunter', 'Needs help or supervision', 5), c('unable', 'Erfüllt „5“ nicht', 'Unable', 0)]],
  ['dressing', 'An- und Auskleiden', 'Dressing', [c('independent', 'Zieht sich in angemessener Zeit selbständig Tageskleidung, Schuhe (und ggf. benötigte Hilfsmittel, z. B. Antithrombose-Strümpfe, Prothesen) an und aus', 'Independent', 10), c('help', 'Kleidet mindestens den Oberkörper in angemessener Zeit selbständig an und aus, sofern die Utensilien in greifbarer Nähe sind', 'Needs help, does about half unaided', 5), c('unable', 'Erfüllt „5“ nicht', 'Dependent', 0)]],
  ['bowels', 'Stuhlkontinenz', 'Bowel control', [c('continent', 'Ist stuhlkontinent, ggf. selbständig bei rektalen Abführmaßnahmen oder AP-Versorgung', 'Continent', 10), c('occasional', 'Ist durchschnittlich nicht mehr als 1×/Woche stuhlinkontinent oder benötigt Hilfe bei rektalen Abführmaßnahmen/AP-Versorgung', 'Occasional accident (at most once a week)', 5), c('incontinent', 'Ist durchschnittlich mehr als 1×/Woche stuhlinkontinent', 'Incontinent', 0)]],
  ['bladder', 'Harnkontinenz', 'Bladder control', [c('continent', 'Ist harnkontinent oder kompensiert seine Harninkontinenz/versorgt seinen DK komplett selbständig und mit Erfolg (kein Einnässen von Kleidung oder Bettwäsche)', 'Continent', 10), c('occasional', 'Kompensiert seine Harninkontinenz selbständig und mit überwiegendem Erfolg (durchschnittlich nicht mehr als 1×/Tag Einnässen von Kleidung oder Bettwäsche) oder benötigt Hilfe bei der Versorgung seines Harnkathetersystems', 'Occasional accident (at most once a day)', 5), c('incontinent', 'Ist durchschnittlich mehr als 1×/Tag harninkontinent', 'Incontinent', 0)]],
];

function barthel(): Definition {
  return {
    sections: [{ key: 'adl', label: t('Aktivitäten des täglichen Lebens', 'Activities of daily living') }],
    fields: BARTHEL_ITEMS.map(([key, de, en, choices]): FieldDef => ({ key, type: 'choice', label: t(de, en), required: true, section: 'adl', choices })),
    rules: [
      { id: 'dependent', all: [{ field: 'barthel', op: 'lt', value: 35 }], outcome: 'needs_review', reason: t('Weitgehend pflegeabhängig: Versorgung prüfen', 'Largely dependent on care: review care') },
    ],
    scores: [{
      key: 'barthel', label: t('Barthel-Index', 'Barthel index'), kind: 'sum', fields: BARTHEL_ITEMS.map(([k]) => k), unit: t('Punkte', 'points'),
      bands: [
        { below: 35, label: t('weitgehend pflegeabhängig', 'largely dependent') },
        { from: 35, below: 85, label: t('hilfebedürftig', 'in need of help') },
        { from: 85, below: 100, label: t('punktuell hilfebedürftig', 'needs help occasionally') },
        { from: 100, label: t('selbständig', 'independent') },
      ],
      source: 'Mahoney FI, Barthel DW. Md State Med J 1965;14:61–65; Hamburger Einstufungsmanual zum Barthel-Index (Lübke N et al., Z Gerontol Geriatr 2004;37:316–326)',
    }],
  };
}

function tug(): Definition {
  return {
    fields: [
      { key: 'seconds', type: 'number', label: t('Benötigte Zeit: Aufstehen, 3 m gehen, umdrehen, zurückgehen, hinsetzen', 'Time taken: stand up, walk 3 m, turn, walk back, sit down'), unit: t('Sekunden', 'seconds'), min: 0, max: 600, required: true },
      { key: 'walking_aid', type: 'boolean', label: t('Mit Gehhilfe durchgeführt', 'Done with a walking aid'), required: true },
      { key: 'aid_type', type: 'choice', label: t('Welche Gehhilfe?', 'Which walking aid?'), showIf: { field: 'walking_aid', op: 'eq', value: true }, choices: [c('cane', 'Gehstock', 'Cane'), c('crutches', 'Unterarmgehstützen', 'Crutches'), c('walker', 'Rollator', 'Rollator')] },
      { key: 'notes', type: 'long_text', label: t('Beobachtungen (Gangbild, Unsicherheit)', 'Observations (gait, unsteadiness)'), maxLength: 2000 },
    ],
    rules: [
      { id: 'fall_risk', all: [{ field: 'tug', op: 'gte', value: 20 }], outcome: 'needs_review', reason: t('Funktionell relevante Mobilitätseinschränkung: Sturzrisiko abklären', 'Functionally relevant limitation of mobility: assess fall risk') },
    ],
    scores: [{
      key: 'tug', label: t('Timed Up and Go', 'Timed Up and Go'), kind: 'value', fields: ['seconds'], unit: t('Sekunden', 'seconds'),
      bands: [
        { below: 10, label: t('normale Mobilität', 'normal mobility') },
        { from: 10, below: 20, label: t('geringe Mobilitätseinschränkung, meist ohne Alltagsrelevanz', 'slight limitation, usually without everyday relevance') },
        { from: 20, below: 30, label: t('funktionell relevante Mobilitätseinschränkung', 'functionally relevant limitation of mobility') },
        { from: 30, label: t('ausgeprägte Mobilitätseinschränkung', 'severe limitation of mobility') },
      ],
      source: 'Podsiadlo D, Richardson S. J Am Geriatr Soc 1991;39:142–148',
    }],
  };
}

export const TEMPLATES: readonly Template[] = [
  { id: 'general_anamnesis', title: 'Allgemeine Anamnese', description: t('Anamnese einer Hausarztpraxis: Beschwerden, Vorgeschichte, Medikation, Allergien, Lebensstil, Familie', 'A general practice’s anamnesis: complaints, history, medication, allergies, lifestyle, family'), definition: generalAnamnesis() },
  { id: 'barthel', title: 'Barthel-Index', description: t('VERAH-Assessment: 10 Aktivitäten des täglichen Lebens, 0–100 Punkte (Hamburger Manual)', 'VERAH assessment: 10 activities of daily living, 0–100 points (Hamburg manual)'), definition: barthel() },
  { id: 'timed_up_and_go', title: 'Timed Up and Go', description: t('VERAH-Assessment: Mobilität in Sekunden mit Einstufung', 'VERAH assessment: mobility in seconds with interpretation'), definition: tug() },
  { id: 'hair_clinic', title: 'Anamnese Haarklinik', description: t('Die bisherige Anamnese der Haarklinik mit Vorqualifizierung (gleiche Fragen, alte Antworten bleiben gültig)', 'The hair clinic’s current anamnesis with pre-qualification (same questions; earlier answers stay valid)'), definition: hairClinic() },
];

export const templateById = (id: string) => TEMPLATES.find((x) => x.id === id);
