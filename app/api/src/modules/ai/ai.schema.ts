// Bodies and answers of the AI routes, and the zod schemas the model's tool output must pass.
import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';
import { NOTE_CATEGORIES } from '../records/record.schema.ts';

export const DEFAULT_MODEL = 'claude-sonnet-4-5';
export const DEFAULT_BASE_URL = 'https://api.anthropic.com';

/** https://…, or http:// only to this machine (a local gateway, the tests' fake API). */
export const baseUrl = z.string().trim().max(500).refine((s) => {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  if (u.username || u.password || u.search || u.hash) return false;
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}, { message: 'must be an https:// URL (http:// only to 127.0.0.1, localhost or [::1]), without credentials, query or fragment', params: { code: 'invalid_url' } });

export const settingsBody = z.strictObject({
  enabled: z.boolean(),
  model: z.string().trim().regex(/^[a-z0-9][a-z0-9.\-]{1,99}$/, 'must be an Anthropic model id such as claude-sonnet-4-5').default(DEFAULT_MODEL),
  baseUrl: baseUrl.default(DEFAULT_BASE_URL),
  /** A file in the AI secrets directory (PRAXISKERN_AI_SECRETS_DIR) holding the API key; the key never travels through the API. */
  apiKeyFile: z.string().trim().min(1).max(500).nullable().default(null),
  timeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
  maxRetries: z.number().int().min(0).max(5).default(2),
  dailyTokenBudget: z.number().int().min(1000).max(100_000_000).default(200_000),
});
export type SettingsInput = z.infer<typeof settingsBody>;

export const settingsView = named('AiSettings', z.strictObject({
  enabled: z.boolean(),
  model: z.string(),
  baseUrl: z.string(),
  apiKeyFile: z.string().nullable(),
  apiKeyPresent: z.boolean(),
  timeoutMs: z.number().int(),
  maxRetries: z.number().int(),
  dailyTokenBudget: z.number().int(),
  tokensUsedToday: z.number().int(),
  enabledAt: isoTime.nullable(),
  updatedAt: isoTime.nullable(),
  secretsDir: z.string(),
}));

export const statusView = named('AiStatus', z.strictObject({
  enabled: z.boolean(),
  available: z.boolean(),
  breaker: z.enum(['closed', 'open', 'half_open']),
  budgetLeft: z.number().int(),
}));

// ---- the model's answers (tool input), checked before anything is stored ----
const sourceRefs = z.array(z.string().regex(/^S\d{1,4}$/)).max(50).default([]);
const line = z.string().trim().min(1).max(4000);
export const preparationOutput = z.strictObject({
  summary: line,
  findings: z.array(z.strictObject({ text: line, sources: sourceRefs })).max(30),
  contraindications: z.array(z.strictObject({ flag: z.string().trim().min(1).max(100), text: line, sources: sourceRefs })).max(30),
  openQuestions: z.array(z.strictObject({ text: line, sources: sourceRefs })).max(30),
  nextStep: z.strictObject({ text: line, sources: sourceRefs }),
});
export type PreparationOutput = z.infer<typeof preparationOutput>;

export const URGENCIES = ['emergency', 'urgent', 'routine', 'info'] as const;
export const TOPICS = ['appointment', 'symptoms', 'medication', 'aftercare', 'results', 'billing', 'documents', 'other'] as const;
export const triageOutput = z.strictObject({
  language: z.string().trim().regex(/^[a-z]{2,3}$/),
  urgency: z.enum(URGENCIES),
  topic: z.enum(TOPICS),
  reason: z.string().trim().min(1).max(1000),
  suggestedReply: z.string().trim().min(1).max(4000),
});

/** JSON schemas of the two tools (what Anthropic is asked to fill). */
const src = { type: 'array', items: { type: 'string', pattern: '^S\\d+$' }, description: 'ids of the sources used, e.g. ["S2"]' };
export const PREPARATION_TOOL = {
  name: 'file_preparation',
  description: 'A structured preparation of a patient file for the doctor. No diagnosis: findings, flags and questions only.',
  input_schema: {
    type: 'object' as const,
    additionalProperties: false,
    required: ['summary', 'findings', 'contraindications', 'openQuestions', 'nextStep'],
    properties: {
      summary: { type: 'string' },
      findings: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['text', 'sources'], properties: { text: { type: 'string' }, sources: src } } },
      contraindications: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['flag', 'text', 'sources'], properties: { flag: { type: 'string', description: 'e.g. blood_thinner, smoker, allergy, pregnancy' }, text: { type: 'string' }, sources: src } } },
      openQuestions: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['text', 'sources'], properties: { text: { type: 'string' }, sources: src } } },
      nextStep: { type: 'object', additionalProperties: false, required: ['text', 'sources'], properties: { text: { type: 'string' }, sources: src } },
    },
  },
};
export const TRIAGE_TOOL = {
  name: 'message_triage',
  description: 'Triage of one inbound patient message for the practice team.',
  input_schema: {
    type: 'object' as const,
    additionalProperties: false,
    required: ['language', 'urgency', 'topic', 'reason', 'suggestedReply'],
    properties: {
      language: { type: 'string', description: 'ISO 639-1 code of the message language' },
      urgency: { type: 'string', enum: [...URGENCIES] },
      topic: { type: 'string', enum: [...TOPICS] },
      reason: { type: 'string', description: 'one sentence: why this urgency' },
      suggestedReply: { type: 'string', description: 'a short, friendly reply in the language of the message; staff review it before anything is sent' },
    },
  },
};

// ---- drafts ----
export const ITEM_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export const draftItem = named('AiDraftItem', z.strictObject({
  id: z.string(),
  category: z.enum(NOTE_CATEGORIES),
  flag: z.string().nullable(),
  text: z.string(),
  sources: z.array(z.string()),
  status: z.enum(ITEM_STATUSES),
  entryId: z.uuid().nullable(),
}));
export const draftSource = named('AiDraftSource', z.strictObject({ ref: z.string(), kind: z.string(), label: z.string(), text: z.string() }));
export const draftView = named('AiDraft', z.strictObject({
  id: z.uuid(),
  patientId: z.uuid(),
  model: z.string(),
  status: z.enum(['open', 'reviewed']),
  createdAt: isoTime,
  createdBy: z.uuid().nullable(),
  reviewedAt: isoTime.nullable(),
  reviewedBy: z.uuid().nullable(),
  purgeAfter: isoTime,
  items: z.array(draftItem),
  sources: z.array(draftSource),
  /** Parts cut because the input was larger than allowed (shown, never silent). */
  truncated: z.array(z.string()),
  categoriesSent: z.array(z.string()),
  tokensIn: z.number().int(),
  tokensOut: z.number().int(),
}));
export const oneDraftView = z.strictObject({ draft: draftView });
export const draftsView = z.strictObject({ drafts: z.array(draftView) });

export const draftParams = z.strictObject({ draftId: z.uuid() });
export const reviewBody = z.strictObject({
  decisions: z.array(z.strictObject({
    itemId: z.string().regex(/^i\d{1,3}$/),
    decision: z.enum(['accept', 'reject']),
    /** The doctor's edited text (accept only). */
    text: z.string().trim().min(1).max(4000).optional(),
  })).min(1).max(200),
});

export const triageParams = z.strictObject({ id: z.uuid(), messageId: z.uuid() });
export const triageView = named('AiTriage', z.strictObject({
  messageId: z.uuid(),
  model: z.string(),
  language: z.string(),
  urgency: z.enum(URGENCIES),
  topic: z.enum(TOPICS),
  reason: z.string(),
  suggestedReply: z.string(),
  truncated: z.boolean(),
}));
