// Bodies of the health-record entries. A correction is a new entry with supersedesId and a
// reason; the old version stays (Art. 16 keeps the trail).
import { z } from 'zod';
import { isoDate, patientView } from '../patients/patient.schema.ts';
import { isoDay, isoTime, named } from '../../http/response.ts';
import { practiceToday } from '../../core/context.ts';
import { definitionSchema, draftDefinitionSchema, fieldDef, questionnaireKey, titleSchema } from './questionnaire.schema.ts';

/** ICD-10-GM: letter, two digits, optional subcategory (.x or .xx), optional dagger/star/! mark. */
export const ICD10_GM = /^[A-Z][0-9]{2}(\.[0-9]{1,2}|\.-)?[†*!+]?$/;

const correction = {
  supersedesId: z.uuid().optional(),
  correctionReason: z.string().trim().min(1).max(1000).optional(),
};
const notFuture = (field: z.ZodString | typeof isoDate) =>
  field.refine((s: string) => s <= practiceToday(), 'must not be in the future');

export const anamnesisBody = z.strictObject({
  /** Without a key: the organization's default questionnaire (docs/questionnaires.md). */
  questionnaireKey: z.string().regex(/^[a-z][a-z0-9_]{1,62}$/).optional(),
  questionnaireVersion: z.number().int().positive().optional(),
  answers: z.record(z.string(), z.unknown()),
  ...correction,
});

export const diagnosisBody = z.strictObject({
  code: z.string().trim().toUpperCase().regex(ICD10_GM, 'must be an ICD-10-GM code such as L64.9'),
  text: z.string().trim().min(1).max(500),
  /** Diagnosesicherheit: G gesichert, V Verdacht, Z Zustand nach, A ausgeschlossen. */
  certainty: z.enum(['G', 'V', 'Z', 'A']).default('G'),
  side: z.enum(['R', 'L', 'B']).optional(),
  diagnosedOn: notFuture(isoDate).optional(),
  ...correction,
});

export const treatmentBody = z.strictObject({
  performedOn: notFuture(isoDate),
  type: z.string().trim().min(1).max(100),
  description: z.string().trim().min(1).max(10_000),
  performedBy: z.string().trim().max(200).optional(),
  ...correction,
});

export const planBody = z.strictObject({
  title: z.string().trim().min(1).max(200),
  status: z.enum(['draft', 'proposed', 'accepted', 'in_progress', 'completed', 'cancelled']).default('draft'),
  plannedFor: isoDate.optional(),
  steps: z.array(z.strictObject({ description: z.string().trim().min(1).max(1000), due: isoDate.optional() })).max(100).default([]),
  notes: z.string().trim().max(10_000).optional(),
  ...correction,
});

/** A short line of the Karteikarte's quick entry: a note or a finding (issue 12). */
export const QUICK_NOTE_CATEGORIES = ['note', 'finding'] as const;
/** Categories of note entries: the quick entry's, and those of accepted AI draft items (modules/ai). */
export const NOTE_CATEGORIES = ['note', 'finding', 'summary', 'contraindication', 'question', 'next_step'] as const;
export const noteBody = z.strictObject({
  category: z.enum(QUICK_NOTE_CATEGORIES).default('note'),
  text: z.string().trim().min(1).max(2000),
  ...correction,
});

export const KINDS = ['anamnesis', 'diagnosis', 'treatment', 'plan', 'note'] as const;
export type Kind = (typeof KINDS)[number];

export const entryParams = z.strictObject({ id: z.uuid(), entryId: z.uuid() });

// ---- answers (http/response.ts): entries with their decrypted content, per kind ----
export const CERTAINTIES = ['G', 'V', 'Z', 'A'] as const;
export const SIDES = ['R', 'L', 'B'] as const;
export const PLAN_STATUSES = ['draft', 'proposed', 'accepted', 'in_progress', 'completed', 'cancelled'] as const;
const PREQUAL = ['qualified', 'needs_review', 'not_qualified'] as const;
const correctionReason = z.string().optional();
const bilingual = z.strictObject({ de: z.string(), en: z.string() });
export const scoreResult = named('ScoreResult', z.strictObject({
  key: z.string(), label: bilingual, value: z.number().nullable(), unit: bilingual.optional(), band: bilingual.optional(), missing: z.number().int(),
}));

export const anamnesisData = named('AnamnesisData', z.strictObject({
  questionnaire: z.strictObject({ key: z.string(), version: z.number().int() }),
  answers: z.record(z.string(), z.unknown()),
  /** Computed when the answers were given (absent for questionnaires without scores and for older entries). */
  scores: z.array(scoreResult).optional(),
  prequalification: z.strictObject({
    status: z.enum(PREQUAL),
    reasons: z.array(z.strictObject({ rule: z.string(), outcome: z.enum(PREQUAL), de: z.string(), en: z.string() })),
  }),
  correctionReason,
}));
export const diagnosisData = named('DiagnosisData', z.strictObject({
  code: z.string(), text: z.string(), certainty: z.enum(CERTAINTIES), side: z.enum(SIDES).optional(), diagnosedOn: isoDay.optional(), correctionReason,
}));
export const treatmentData = named('TreatmentData', z.strictObject({
  performedOn: isoDay, type: z.string(), description: z.string(), performedBy: z.string().optional(), correctionReason,
}));
export const planData = named('PlanData', z.strictObject({
  title: z.string(), status: z.enum(PLAN_STATUSES), plannedFor: isoDay.optional(),
  steps: z.array(z.strictObject({ description: z.string(), due: isoDay.optional() })), notes: z.string().optional(), correctionReason,
}));

/** A note entry: a quick-entry line, or an accepted item of an AI draft (marked AI-assisted with model and reviewer). */
export const noteData = named('NoteData', z.strictObject({
  category: z.enum(NOTE_CATEGORIES),
  text: z.string(),
  aiAssisted: z.strictObject({ model: z.string(), draftId: z.uuid(), reviewedBy: z.uuid(), reviewedAt: isoTime, edited: z.boolean() }).optional(),
  correctionReason,
}));

const entryOf = <K extends Kind, D extends z.ZodType>(kind: K, data: D) =>
  z.strictObject({
    id: z.uuid(), kind: z.literal(kind), version: z.number().int(), supersedesId: z.uuid().nullable(), supersededById: z.uuid().nullable(),
    createdAt: isoTime, createdBy: z.uuid().nullable(), data,
  });
export const anamnesisEntry = named('AnamnesisEntry', entryOf('anamnesis', anamnesisData));
export const diagnosisEntry = named('DiagnosisEntry', entryOf('diagnosis', diagnosisData));
export const treatmentEntry = named('TreatmentEntry', entryOf('treatment', treatmentData));
export const planEntry = named('PlanEntry', entryOf('plan', planData));
export const noteEntry = named('NoteEntry', entryOf('note', noteData));
export const anyEntry = z.discriminatedUnion('kind', [anamnesisEntry, diagnosisEntry, treatmentEntry, planEntry, noteEntry]);

export const healthRecordView = named('HealthRecord', z.strictObject({
  patientId: z.uuid(),
  patient: patientView,
  anamnesis: anamnesisEntry.nullable(),
  assessments: z.array(anamnesisEntry),
  diagnoses: z.array(diagnosisEntry),
  /** false when the reader's role may not see diagnoses (then diagnoses is empty): the UI says "not visible for your role" */
  diagnosesVisible: z.boolean(),
  treatments: z.array(treatmentEntry),
  plans: z.array(planEntry),
  notes: z.array(noteEntry),
  corrections: z.number().int(),
}));
export const entryHistoryView = z.strictObject({ versions: z.array(anyEntry) });
export const appendedView = {
  anamnesis: z.strictObject({ entry: anamnesisEntry }),
  diagnosis: z.strictObject({ entry: diagnosisEntry }),
  treatment: z.strictObject({ entry: treatmentEntry }),
  plan: z.strictObject({ entry: planEntry }),
  note: z.strictObject({ entry: noteEntry }),
} satisfies Record<Kind, z.ZodType>;

export const questionnaireView = named('Questionnaire', z.strictObject({
  id: z.uuid(), key: z.string(), version: z.number().int(), title: z.string(), definition: definitionSchema, createdAt: isoTime,
}));
named('QuestionField', fieldDef);
export const questionnairesView = z.strictObject({ questionnaires: z.array(questionnaireView), defaultKey: z.string() });
export const questionnaireVersionsView = z.strictObject({
  versions: z.array(z.strictObject({ version: z.number().int(), title: z.string(), createdAt: isoTime, createdBy: z.uuid().nullable() })),
});
export const questionnaireDraft = named('QuestionnaireDraft', z.strictObject({
  key: z.string(), title: z.string(), definition: draftDefinitionSchema, revision: z.number().int(), updatedAt: isoTime, publishedVersion: z.number().int().nullable(),
}));
export const oneDraftView = z.strictObject({ draft: questionnaireDraft });
export const draftsView = z.strictObject({ drafts: z.array(questionnaireDraft) });
export const templatesView = z.strictObject({
  templates: z.array(z.strictObject({ id: z.string(), title: z.string(), description: bilingual, definition: definitionSchema })),
});
export const questionnaireSettingsView = z.strictObject({ defaultKey: z.string().nullable() });
export const oneQuestionnaireView = z.strictObject({ questionnaire: questionnaireView });

export const draftParams = z.strictObject({ key: questionnaireKey });
export const newDraftBody = z.strictObject({
  title: titleSchema.optional(),
  templateId: z.string().regex(/^[a-z][a-z0-9_]{1,62}$/).optional(),
  questionnaireKey: questionnaireKey.optional(),
});
export const saveDraftBody = z.strictObject({ title: titleSchema, definition: draftDefinitionSchema, revision: z.number().int().positive() });
export const publishDraftBody = z.strictObject({ revision: z.number().int().positive() });
export const settingsBody = z.strictObject({ defaultKey: questionnaireKey });
