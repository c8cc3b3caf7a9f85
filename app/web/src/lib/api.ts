// The one client for the Praxiskern API (/api/v1). Paths, parameters, bodies and answers are typed
// by api.generated.ts, which `npm run generate:api` renders from the API's route table (a unit test
// keeps it current), so a contract change is a type error here and in every page. openapi-fetch
// sends the requests; this file adds the double-submit CSRF header on every state-changing
// request, errors as ApiError (with fieldIssues()), and the two app-wide redirects: a sealed
// server (503 sealed) and a lost session (401 unauthenticated).
import createClient from 'openapi-fetch';
import { apiRoutes } from './routes.ts';
import type { Locale } from './i18n/i18n.svelte.ts';
import type { components, paths } from './api.generated.ts';
import type { SourceChannel } from '../../../api/src/modules/reports/source-channels.ts';

// The six roles come from the API's permission table (pure data), so UI and API cannot drift.
export { ROLES, type Role, type InstallationRole } from '../../../api/src/core/permissions.ts';

// ---- answers, by their names in the OpenAPI document ----
type Schemas = components['schemas'];
export type SetupState = Schemas['SetupState'];
export type SetupResult = Schemas['SetupResult'];
/** A printable recovery kit: the offline age identity (or its Shamir shares) and the page to print. */
export type RecoveryKit = Schemas['RecoveryKit'];
export type SessionUser = Schemas['SessionUser'];
export type SessionInfo = Schemas['SessionInfo'];
export type OidcConfig = Schemas['OidcConfig'];
/** A user as GET /users lists it. */
export type UserRecord = Schemas['User'];
export type EnrollmentLink = Schemas['EnrollmentLink'];
export type CreatedUser = Schemas['CreatedUser'];
export type EnrollmentStart = Schemas['EnrollmentStart'];
export type EnrollmentKind = EnrollmentStart['kind'];
export type AuditEntry = Schemas['AuditEntry'];
export type Address = Schemas['Address'];
export type MasterData = Schemas['MasterData'];
export type Patient = Schemas['Patient'];
export type Home = Schemas['Home'];

export type PatientPage = Schemas['PatientPage'];
export type MasterDataVersion = Schemas['MasterDataVersion'];
export type AnamnesisData = Schemas['AnamnesisData'];
export type DiagnosisData = Schemas['DiagnosisData'];
export type TreatmentData = Schemas['TreatmentData'];
export type PlanData = Schemas['PlanData'];
export type PrequalStatus = AnamnesisData['prequalification']['status'];
export type HealthRecord = Schemas['HealthRecord'];
export type TimelineItem = Schemas['TimelineItem'];
export type TimelineType = TimelineItem['type'];
export type NoteData = Schemas['NoteData'];
export type IcdCode = Schemas['IcdCode'];
export type QuestionField = Schemas['QuestionField'];
export type Questionnaire = Schemas['Questionnaire'];
export type QuestionnaireDraft = Schemas['QuestionnaireDraft'];
export type ScoreResult = Schemas['ScoreResult'];
export type ConsentEntry = Schemas['ConsentEntry'];
export type PatientDocument = Schemas['PatientDocument'];
export type RemovedDocument = Schemas['RemovedDocument'];
export type AccessLogEntry = Schemas['AccessLogEntry'];
export type BackupJob = Schemas['BackupJob'];
export type BackupSnapshot = Schemas['BackupSnapshot'];
export type BackupTargetStatus = Schemas['BackupTargetStatus'];
export type BackupStatus = Schemas['BackupStatus'];
export type BackupTarget = Schemas['BackupTarget'];
export type BackupTargetTest = Schemas['BackupTargetTest'];
export type BackupTargetInput = BodyOf<'/api/v1/backup/targets', 'post'>;
export type BackupTargetEdit = BodyOf<'/api/v1/backup/targets/{name}', 'put'>;
export type ExternalService = Schemas['ExternalService'];
export type ExternalServicesRegister = Schemas['ExternalServicesRegister'];
/** How a patient first reached the practice (reports module): the API's own list (pure data). */
export { SOURCE_CHANNELS, type SourceChannel } from '../../../api/src/modules/reports/source-channels.ts';
export type Report = Schemas['Report'];
export type ReportSettings = Schemas['ReportSettings'];
/** Every JSON report route (GET /reports/<name>): the reports page lists them (lib/reports.ts). */
export type ReportPath = { [P in keyof paths]: P extends `/api/v1/reports/${string}.csv` ? never : P extends `/api/v1/reports/${string}` ? P : never }[keyof paths];
export type InstallationOperator = Schemas['InstallationOperator'];
export type UpdateRun = Schemas['UpdateRun'];
export type Appointment = Schemas['Appointment'];
export type AppointmentType = Schemas['AppointmentType'];
export type AppointmentResource = Schemas['AppointmentResource'];
export type CalendarDay = Schemas['CalendarDay'];
export type AppointmentStatus = Appointment['status'];
export type MessagingChannels = Schemas['MessagingChannels'];
export type MessageTemplate = Schemas['MessageTemplate'];
export type OutboxMessage = Schemas['OutboxMessage'];
export type InboxConversation = Schemas['InboxConversation'];
export type Conversation = Schemas['Conversation'];
export type InboxAssignee = Schemas['InboxAssignee'];
export type ConversationMessage = Conversation['messages'][number];
export type TravelFlight = Schemas['TravelFlight'];
export type TravelHotel = Schemas['TravelHotel'];
export type TravelTransfer = Schemas['TravelTransfer'];
export type TravelArrival = Schemas['TravelArrival'];
export type TravelFlightInput = BodyOf<'/api/v1/patients/{id}/travel/flights', 'post'>;
export type TravelHotelInput = BodyOf<'/api/v1/patients/{id}/travel/hotels', 'post'>;
export type TravelTransferInput = BodyOf<'/api/v1/patients/{id}/travel/transfers', 'post'>;

type AnyEntry = Schemas['AnamnesisEntry'] | Schemas['DiagnosisEntry'] | Schemas['TreatmentEntry'] | Schemas['PlanEntry'] | Schemas['NoteEntry'];
export type EntryKind = AnyEntry['kind'];
/** A record entry whose content is seen as D (the components that list any kind use the default). */
export type Entry<D = Record<string, unknown>> = Omit<AnyEntry, 'kind' | 'data'> & { kind: EntryKind; data: D };

// ---- request bodies and queries, as the document declares them ----
type JsonOf<T> = T extends { content: { 'application/json': infer J } } ? J : never;
type BodyOf<P extends keyof paths, M extends 'post' | 'put' | 'patch' | 'delete'> = paths[P][M] extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;
type QueryOf<P extends keyof paths> = paths[P]['get'] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type SetupInput = BodyOf<'/api/v1/setup', 'post'>;
export type LoginInput = BodyOf<'/api/v1/auth/local/login', 'post'>;
export type NewUser = BodyOf<'/api/v1/users', 'post'>;
export type UserPatch = BodyOf<'/api/v1/users/{id}', 'patch'>;
export type EnrollmentInput = BodyOf<'/api/v1/enrollment/complete', 'post'>;
export type PatientQuery = QueryOf<'/api/v1/patients'>;
export type PatientSearch = BodyOf<'/api/v1/patients/search', 'post'>;
export type NewPatient = BodyOf<'/api/v1/patients', 'post'>;
export type PatientChange = BodyOf<'/api/v1/patients/{id}', 'patch'>;
/** Art. 16: a field set to null is removed. */
export type MasterDataChanges = PatientChange['changes'];
export type ConsentInput = BodyOf<'/api/v1/patients/{id}/consents', 'post'>;
export type ErasureInput = BodyOf<'/api/v1/patients/{id}/erasure', 'post'>;
export type RecoveryKitInput = BodyOf<'/api/v1/backup/recovery-kit', 'post'>;
export type AuditQuery = QueryOf<'/api/v1/audit'>;
export type BackupJobQuery = QueryOf<'/api/v1/backup/jobs'>;
export type NewAppointment = BodyOf<'/api/v1/appointments', 'post'>;
export type AppointmentChange = BodyOf<'/api/v1/appointments/{appointmentId}', 'patch'>;
export type AppointmentStatusChange = BodyOf<'/api/v1/appointments/{appointmentId}/status', 'post'>;
export type AppointmentRange = QueryOf<'/api/v1/appointments'>;
export type NewAppointmentType = BodyOf<'/api/v1/appointments/types', 'post'>;
export type AppointmentTypeChange = BodyOf<'/api/v1/appointments/types/{typeId}', 'patch'>;
export type AftercareTemplate = Schemas['AftercareTemplate'];
export type AftercarePlan = Schemas['AftercarePlan'];
export type AftercareStep = Schemas['AftercareStep'];
export type AftercareTemplateInput = BodyOf<'/api/v1/aftercare/templates', 'post'>;
export type AftercareApply = BodyOf<'/api/v1/patients/{id}/aftercare', 'post'>;
export type AftercareStepChange = BodyOf<'/api/v1/aftercare/steps/{stepId}', 'patch'>;
export type NewAppointmentResource = BodyOf<'/api/v1/appointments/resources', 'post'>;
export type AppointmentResourceChange = BodyOf<'/api/v1/appointments/resources/{resourceId}', 'patch'>;
type PutBodyOf<P extends keyof paths> = paths[P]['put'] extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;
export type ChannelSettingsInput = PutBodyOf<'/api/v1/messaging/channels'>;
export type TemplateInput = PutBodyOf<'/api/v1/messaging/templates'>;
export type OutboxQuery = QueryOf<'/api/v1/messaging/outbox'>;
export type InboxQuery = QueryOf<'/api/v1/inbox'>;
export type ReplyInput = BodyOf<'/api/v1/inbox/patients/{id}/reply', 'post'>;

// ---- the value lists the forms offer; each must list exactly the members the API accepts ----
/** Returns the values unchanged; a type error when they miss a member of T (or name one T lacks). */
const allOf =
  <T extends string>() =>
  <const V extends readonly T[]>(values: V & ([T] extends [V[number]] ? unknown : never)): V =>
    values;

export const SEXES = allOf<MasterData['sex']>()(['female', 'male', 'diverse', 'unknown']);
export type Sex = (typeof SEXES)[number];
export const INSURANCE_TYPES = allOf<NonNullable<MasterData['insuranceType']>>()(['statutory', 'private', 'self_pay']);
export const CONTACT_CHANNELS = allOf<NonNullable<MasterData['preferredChannel']>>()(['whatsapp', 'email', 'phone', 'letter', 'none']);
export const SALUTATIONS = allOf<NonNullable<MasterData['salutation']>>()(['mr', 'ms', 'neutral']);
export const PATIENT_SORTS = allOf<PatientPage['sort']>()(['created_at', 'updated_at', 'last_treatment_on']);
export type PatientSort = (typeof PATIENT_SORTS)[number];
export type SortOrder = PatientPage['order'];
export const CERTAINTIES = allOf<DiagnosisData['certainty']>()(['G', 'V', 'Z', 'A']);
export const SIDES = allOf<NonNullable<DiagnosisData['side']>>()(['R', 'L', 'B']);
export const PLAN_STATUSES = allOf<PlanData['status']>()(['draft', 'proposed', 'accepted', 'in_progress', 'completed', 'cancelled']);
export const CONSENT_PURPOSES = allOf<ConsentEntry['purpose']>()(['health_data', 'whatsapp_contact', 'email_contact', 'ai_preparation', 'photo_use', 'photo_publication', 'third_country_transfer']);
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];
export const CONSENT_CHANNELS = allOf<ConsentEntry['channel']>()(['paper', 'in_person', 'web', 'email', 'whatsapp', 'phone']);
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];
export type ConsentAction = ConsentEntry['action'];
export const DOCUMENT_CATEGORIES = allOf<PatientDocument['category']>()(['front', 'side', 'donor_area', 'close_up', 'document', 'other']);
export type DocumentCategory = (typeof DOCUMENT_CATEGORIES)[number];
export type BackupJobKind = BackupJob['kind'];
export const APPOINTMENT_STATUSES = allOf<AppointmentStatus>()(['planned', 'confirmed', 'arrived', 'in_treatment', 'done', 'no_show', 'cancelled']);
export const MESSAGE_PURPOSES = allOf<MessageTemplate['purpose']>()(['appointment_confirmation', 'appointment_reminder', 'appointment_change', 'appointment_cancellation', 'aftercare_step', 'document_request', 'treatment_plan_sent']);
export const OUTBOX_STATUSES = allOf<OutboxMessage['status']>()(['queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'blocked', 'cancelled']);
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** Why a record inside its retention period is erased anyway (kept in clear in the audit log). */
export { REASON_CATEGORIES as ERASURE_REASON_CATEGORIES, type ReasonCategory as ErasureReasonCategory } from '../../../api/src/modules/gdpr/erasure-reason.schema.ts';

// ---- errors ----

/** One field's issue: the UI translates `code` (see validation-messages.ts); `message` is the server's English text for logs. */
export type FieldError = Schemas['FieldIssue'];

/** An error answer of the API: HTTP status, machine code, message and per-field details. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[];
  readonly retryAfterSeconds: number | undefined;
  /** The error's `details` when they are an object rather than a field list (e.g. duplicate ids). */
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, fields: FieldError[] = [], retryAfterSeconds?: number, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfterSeconds = retryAfterSeconds;
    this.details = details;
  }

  /** The first issue per field, keyed by the request body's field name (the API's "body." prefix removed). */
  fieldIssues(): Record<string, FieldError> {
    const out: Record<string, FieldError> = {};
    for (const f of this.fields) {
      const name = f.field.replace(/^body\./, '');
      out[name] ??= f;
    }
    return out;
  }
}

/** The request never got an answer (server down, network gone). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('network error', { cause });
    this.name = 'NetworkError';
  }
}

export interface RedirectHandlers {
  /** 503 sealed from a data route. */
  sealed(): void;
  /** 401 unauthenticated: the session ended (timeout, logout elsewhere, role change). */
  unauthenticated(): void;
}

let handlers: RedirectHandlers = { sealed() {}, unauthenticated() {} };

/** Installed once by the root layout, which knows where to send the user. */
export function setRedirectHandlers(next: RedirectHandlers): void {
  handlers = next;
}

const CSRF_COOKIE = 'pk_csrf';

function csrfToken(): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}


function parseError(status: number, headers: Headers, payload: unknown): ApiError {
  const p = (payload ?? {}) as { error?: unknown; message?: unknown; details?: unknown };
  const fields = Array.isArray(p.details)
    ? p.details.filter((d): d is FieldError => typeof d?.field === 'string' && typeof d?.message === 'string')
    : [];
  const fromDetails = !Array.isArray(p.details) && typeof p.details === 'object' && p.details !== null ? (p.details as { retryAfterSeconds?: unknown }).retryAfterSeconds : undefined;
  const header = Number(headers.get('retry-after'));
  const retryAfter = typeof fromDetails === 'number' ? fromDetails : Number.isFinite(header) && header > 0 ? header : undefined;
  const details = !Array.isArray(p.details) && typeof p.details === 'object' && p.details !== null ? (p.details as Record<string, unknown>) : undefined;
  return new ApiError(status, typeof p.error === 'string' ? p.error : `http_${status}`, typeof p.message === 'string' ? p.message : `HTTP ${status}`, fields, retryAfter, details);
}

export const client = createClient<paths>({ credentials: 'same-origin', headers: { accept: 'application/json' } });

client.use({
  async onRequest({ request }) {
    if (request.method === 'GET') return request;
    // The server sets the cookie on any response; fetch one if this is the very first request.
    if (!csrfToken()) await fetch(apiRoutes.seal(), { credentials: 'same-origin' });
    request.headers.set('x-csrf-token', csrfToken() ?? '');
    return request;
  },
});

/** false for calls whose 401/503 the caller handles itself (login, logout, status checks). */
interface CallOptions {
  redirects?: boolean;
}

/** The answer's body, or an ApiError (after the app-wide redirect), or a NetworkError. */
export async function call<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>, options: CallOptions = {}): Promise<T> {
  let res: Awaited<typeof pending>;
  try {
    res = await pending;
  } catch (err) {
    throw new NetworkError(err);
  }
  if (res.response.ok) return res.data as T;
  const error = parseError(res.response.status, res.response.headers, res.error);
  if (options.redirects !== false) {
    if (error.status === 503 && error.code === 'sealed') handlers.sealed();
    if (error.status === 401 && error.code === 'unauthenticated') handlers.unauthenticated();
  }
  throw error;
}

const noRedirects = { redirects: false } as const;
const id = (value: string) => ({ path: { id: value } });
const doc = (patientId: string, documentId: string) => ({ path: { id: patientId, documentId } });

export const api = {
  setupState: () => call(client.GET('/api/v1/setup'), noRedirects),
  completeSetup: (body: SetupInput) => call(client.POST('/api/v1/setup', { body }), noRedirects),

  session: () => call(client.GET('/api/v1/session'), noRedirects),
  setLocale: (locale: Locale) => call(client.PATCH('/api/v1/session/locale', { body: { locale } })),
  logout: () => call(client.POST('/api/v1/auth/logout'), noRedirects),
  logoutEverywhere: () => call(client.POST('/api/v1/auth/logout-everywhere'), noRedirects),
  localLogin: (body: LoginInput) => call(client.POST('/api/v1/auth/local/login', { body }), noRedirects),
  /** Treats a missing endpoint as "no identity provider configured". */
  oidcConfig: async (): Promise<OidcConfig> => {
    try {
      return await call(client.GET('/api/v1/auth/oidc/config'), noRedirects);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return { enabled: false, displayName: null };
      throw err;
    }
  },

  seal: () => call(client.GET('/api/v1/seal'), noRedirects),
  unseal: (passphrase: string) => call(client.POST('/api/v1/seal/unseal', { body: { passphrase } }), noRedirects),

  users: () => call(client.GET('/api/v1/users')),
  updateUser: (userId: string, body: UserPatch) => call(client.PATCH('/api/v1/users/{id}', { params: id(userId), body })),
  createUser: (body: NewUser) => call(client.POST('/api/v1/users', { body })),
  resetUser: (userId: string, kind: EnrollmentKind = 'full') => call(client.POST('/api/v1/users/{id}/enrollment', { params: id(userId), body: { kind } })),
  changePassword: (currentPassword: string, newPassword: string) => call(client.POST('/api/v1/auth/local/password', { body: { currentPassword, newPassword } })),
  beginEnrollment: (token: string) => call(client.POST('/api/v1/enrollment/begin', { body: { token } }), noRedirects),
  completeEnrollment: (body: EnrollmentInput) => call(client.POST('/api/v1/enrollment/complete', { body }), noRedirects),

  audit: (query: AuditQuery = {}) => call(client.GET('/api/v1/audit', { params: { query } })),

  patients: (query: PatientQuery = {}) => call(client.GET('/api/v1/patients', { params: { query } })),
  /** Name, birth date, phone and e-mail go in the body: a URL would leave them in access logs. */
  searchPatients: (body: PatientSearch) => call(client.POST('/api/v1/patients/search', { body })),
  /** The search as you type: a newer keystroke aborts the request through `signal`. */
  quickSearch: (body: PatientSearch, signal: AbortSignal) => call(client.POST('/api/v1/patients/search', { body, signal })),
  home: () => call(client.GET('/api/v1/home')),
  patientNumbering: () => call(client.GET('/api/v1/patient-numbering')),
  setPatientNumbering: (body: { enabled: boolean; prefix: string; nextNumber: number; digits: number }) => call(client.PUT('/api/v1/patient-numbering', { body })),
  sourceChannel: (patientId: string) => call(client.GET('/api/v1/patients/{id}/source-channel', { params: id(patientId) })),
  setSourceChannel: (patientId: string, sourceChannel: SourceChannel | null) => call(client.PUT('/api/v1/patients/{id}/source-channel', { params: id(patientId), body: { sourceChannel } })),
  createPatient: (body: NewPatient) => call(client.POST('/api/v1/patients', { body })),
  patient: (patientId: string) => call(client.GET('/api/v1/patients/{id}', { params: id(patientId) })),
  updatePatient: (patientId: string, body: PatientChange) => call(client.PATCH('/api/v1/patients/{id}', { params: id(patientId), body })),
  patientHistory: (patientId: string) => call(client.GET('/api/v1/patients/{id}/history', { params: id(patientId) })),

  record: (patientId: string) => call(client.GET('/api/v1/patients/{id}/record', { params: id(patientId) })),
  questionnaire: (key: string, version?: number) => call(client.GET('/api/v1/questionnaires/{key}', { params: { path: { key }, query: { version } } })),
  questionnaires: () => call(client.GET('/api/v1/questionnaires')),
  questionnaireVersions: (key: string) => call(client.GET('/api/v1/questionnaires/{key}/versions', { params: { path: { key } } })),
  questionnaireTemplates: () => call(client.GET('/api/v1/questionnaire-templates')),
  questionnaireDrafts: () => call(client.GET('/api/v1/questionnaire-drafts')),
  questionnaireDraft: (key: string) => call(client.GET('/api/v1/questionnaire-drafts/{key}', { params: { path: { key } } })),
  createQuestionnaireDraft: (body: BodyOf<'/api/v1/questionnaire-drafts', 'post'>) => call(client.POST('/api/v1/questionnaire-drafts', { body })),
  saveQuestionnaireDraft: (key: string, body: BodyOf<'/api/v1/questionnaire-drafts/{key}', 'put'>) =>
    call(client.PUT('/api/v1/questionnaire-drafts/{key}', { params: { path: { key } }, body })),
  deleteQuestionnaireDraft: (key: string) => call(client.DELETE('/api/v1/questionnaire-drafts/{key}', { params: { path: { key } } })),
  publishQuestionnaireDraft: (key: string, revision: number) =>
    call(client.POST('/api/v1/questionnaire-drafts/{key}/publish', { params: { path: { key } }, body: { revision } })),
  questionnaireSettings: () => call(client.GET('/api/v1/questionnaire-settings')),
  setDefaultQuestionnaire: (defaultKey: string) => call(client.PUT('/api/v1/questionnaire-settings', { body: { defaultKey } })),
  saveAnamnesis: (patientId: string, body: BodyOf<'/api/v1/patients/{id}/anamnesis', 'post'>) =>
    call(client.POST('/api/v1/patients/{id}/anamnesis', { params: id(patientId), body })),
  addDiagnosis: (patientId: string, body: BodyOf<'/api/v1/patients/{id}/diagnoses', 'post'>) =>
    call(client.POST('/api/v1/patients/{id}/diagnoses', { params: id(patientId), body })),
  addTreatment: (patientId: string, body: BodyOf<'/api/v1/patients/{id}/treatments', 'post'>) =>
    call(client.POST('/api/v1/patients/{id}/treatments', { params: id(patientId), body })),
  timeline: (patientId: string, query: { types?: string; before?: string; limit?: number } = {}) =>
    call(client.GET('/api/v1/patients/{id}/timeline', { params: { ...id(patientId), query } })),
  addNote: (patientId: string, body: BodyOf<'/api/v1/patients/{id}/notes', 'post'>) => call(client.POST('/api/v1/patients/{id}/notes', { params: id(patientId), body })),
  icdSearch: (q: string, signal?: AbortSignal) => call(client.GET('/api/v1/icd/codes', { params: { query: { q, limit: 12 } }, signal })),
  icdVersions: () => call(client.GET('/api/v1/icd/versions')),
  icdImport: (file: File, version?: number) => {
    const form = new FormData();
    if (version) form.set('version', String(version));
    form.set('file', file, file.name);
    return call(client.POST('/api/v1/icd/import', { body: form as unknown as Record<string, never> }));
  },
  addPlan: (patientId: string, body: BodyOf<'/api/v1/patients/{id}/plans', 'post'>) => call(client.POST('/api/v1/patients/{id}/plans', { params: id(patientId), body })),
  entryHistory: (patientId: string, entryId: string) =>
    call(client.GET('/api/v1/patients/{id}/record/entries/{entryId}/history', { params: { path: { id: patientId, entryId } } })),

  consents: (patientId: string) => call(client.GET('/api/v1/patients/{id}/consents', { params: id(patientId) })),
  recordConsent: (patientId: string, body: ConsentInput) => call(client.POST('/api/v1/patients/{id}/consents', { params: id(patientId), body })),

  documents: (patientId: string) => call(client.GET('/api/v1/patients/{id}/documents', { params: id(patientId) })),
  uploadDocument: (patientId: string, input: { file: File; category: DocumentCategory; note?: string }) => {
    const form = new FormData();
    form.set('category', input.category);
    if (input.note) form.set('note', input.note);
    form.set('file', input.file, input.file.name);
    // The route reads multipart itself (its fields are documented in the summary); openapi-fetch sends FormData as is.
    return call(client.POST('/api/v1/patients/{id}/documents', { params: id(patientId), body: form as unknown as Record<string, never> }));
  },
  /** Hides the document (it stays stored and can be restored); the reason is required. */
  removeDocument: (patientId: string, documentId: string, reason: string) =>
    call(client.DELETE('/api/v1/patients/{id}/documents/{documentId}', { params: doc(patientId, documentId), body: { reason } })),
  removedDocuments: (patientId: string) => call(client.GET('/api/v1/patients/{id}/documents/removed', { params: id(patientId) })),
  restoreDocument: (patientId: string, documentId: string, reason?: string) =>
    call(client.POST('/api/v1/patients/{id}/documents/{documentId}/restore', { params: doc(patientId, documentId), body: reason ? { reason } : {} })),

  setRestriction: (patientId: string, body: BodyOf<'/api/v1/patients/{id}/restriction', 'post'>) =>
    call(client.POST('/api/v1/patients/{id}/restriction', { params: id(patientId), body })),
  setObjection: (patientId: string, objected: boolean) => call(client.POST('/api/v1/patients/{id}/objection', { params: id(patientId), body: { objected } })),
  erasePatient: (patientId: string, body: ErasureInput) => call(client.POST('/api/v1/patients/{id}/erasure', { params: id(patientId), body })),
  accessLog: (patientId: string, limit = 200) => call(client.GET('/api/v1/patients/{id}/access-log', { params: { ...id(patientId), query: { limit } } })),

  backupStatus: () => call(client.GET('/api/v1/backup/status')),
  backupSnapshots: (target?: string) => call(client.GET('/api/v1/backup/snapshots', { params: { query: { target } } })),
  backupJobs: (query: BackupJobQuery = {}) => call(client.GET('/api/v1/backup/jobs', { params: { query } })),
  /** 202: the job runs in the background; poll backupJobs() for its outcome. */
  startBackup: () => call(client.POST('/api/v1/backup/runs')),
  startDrill: () => call(client.POST('/api/v1/backup/drills')),
  createRecoveryKit: (body: RecoveryKitInput) => call(client.POST('/api/v1/backup/recovery-kit', { body })),
  backupTargets: () => call(client.GET('/api/v1/backup/targets')),
  addBackupTarget: (body: BackupTargetInput) => call(client.POST('/api/v1/backup/targets', { body })),
  editBackupTarget: (name: string, body: BackupTargetEdit) => call(client.PUT('/api/v1/backup/targets/{name}', { params: { path: { name } }, body })),
  removeBackupTarget: (name: string) => call(client.DELETE('/api/v1/backup/targets/{name}', { params: { path: { name } } })),
  testBackupTarget: (name: string) => call(client.POST('/api/v1/backup/targets/{name}/test', { params: { path: { name } } })),
  servicesRegister: () => call(client.GET('/api/v1/services-register')),

  installationOperators: () => call(client.GET('/api/v1/installation/operators')),
  grantOperator: (user: string) => call(client.POST('/api/v1/installation/operators', { body: { user } })),
  revokeOperator: (userId: string) => call(client.DELETE('/api/v1/installation/operators/{userId}', { params: { path: { userId } } })),
  installationAudit: (query: AuditQuery = {}) => call(client.GET('/api/v1/installation/audit', { params: { query } })),
  installationUpdates: () => call(client.GET('/api/v1/installation/updates')),

  calendarSettings: () => call(client.GET('/api/v1/appointments/settings')),
  setTimeZone: (timeZone: string) => call(client.PUT('/api/v1/appointments/settings/time-zone', { body: { timeZone } })),
  createAppointmentType: (body: NewAppointmentType) => call(client.POST('/api/v1/appointments/types', { body })),
  updateAppointmentType: (typeId: string, body: AppointmentTypeChange) => call(client.PATCH('/api/v1/appointments/types/{typeId}', { params: { path: { typeId } }, body })),
  createResource: (body: NewAppointmentResource) => call(client.POST('/api/v1/appointments/resources', { body })),
  updateResource: (resourceId: string, body: AppointmentResourceChange) =>
    call(client.PATCH('/api/v1/appointments/resources/{resourceId}', { params: { path: { resourceId } }, body })),
  /** The feed URL is in this answer only: it is stored as a hash. */
  enableFeed: (resourceId: string) => call(client.POST('/api/v1/appointments/resources/{resourceId}/feed', { params: { path: { resourceId } } })),
  revokeFeed: (resourceId: string) => call(client.DELETE('/api/v1/appointments/resources/{resourceId}/feed', { params: { path: { resourceId } } })),
  appointments: (query: AppointmentRange) => call(client.GET('/api/v1/appointments', { params: { query } })),
  appointmentsToday: () => call(client.GET('/api/v1/appointments/today')),
  patientAppointments: (patientId: string) => call(client.GET('/api/v1/patients/{id}/appointments', { params: id(patientId) })),
  createAppointment: (body: NewAppointment) => call(client.POST('/api/v1/appointments', { body })),
  updateAppointment: (appointmentId: string, body: AppointmentChange) =>
    call(client.PATCH('/api/v1/appointments/{appointmentId}', { params: { path: { appointmentId } }, body })),
  setAppointmentStatus: (appointmentId: string, body: AppointmentStatusChange) =>
    call(client.POST('/api/v1/appointments/{appointmentId}/status', { params: { path: { appointmentId } }, body })),

  aftercareTemplates: () => call(client.GET('/api/v1/aftercare/templates')),
  createAftercareTemplate: (body: AftercareTemplateInput) => call(client.POST('/api/v1/aftercare/templates', { body })),
  saveAftercareTemplate: (templateId: string, body: AftercareTemplateInput) =>
    call(client.PUT('/api/v1/aftercare/templates/{templateId}', { params: { path: { templateId } }, body })),
  patientAftercare: (patientId: string) => call(client.GET('/api/v1/patients/{id}/aftercare', { params: id(patientId) })),
  applyAftercare: (patientId: string, body: AftercareApply) => call(client.POST('/api/v1/patients/{id}/aftercare', { params: id(patientId), body })),
  updateAftercareStep: (stepId: string, body: AftercareStepChange) => call(client.PATCH('/api/v1/aftercare/steps/{stepId}', { params: { path: { stepId } }, body })),
  cancelAftercarePlan: (planId: string) => call(client.POST('/api/v1/aftercare/plans/{planId}/cancel', { params: { path: { planId } } })),
  aftercareTasks: (days = 0) => call(client.GET('/api/v1/aftercare/tasks', { params: { query: { days } } })),

  patientTravel: (patientId: string) => call(client.GET('/api/v1/patients/{id}/travel', { params: id(patientId) })),
  addFlight: (patientId: string, body: TravelFlightInput) => call(client.POST('/api/v1/patients/{id}/travel/flights', { params: id(patientId), body })),
  addHotel: (patientId: string, body: TravelHotelInput) => call(client.POST('/api/v1/patients/{id}/travel/hotels', { params: id(patientId), body })),
  addTransfer: (patientId: string, body: TravelTransferInput) => call(client.POST('/api/v1/patients/{id}/travel/transfers', { params: id(patientId), body })),
  deleteTravelItem: (patientId: string, kind: 'flights' | 'hotels' | 'transfers', itemId: string) => {
    const params = { path: { id: patientId, itemId } };
    return call(kind === 'flights' ? client.DELETE('/api/v1/patients/{id}/travel/flights/{itemId}', { params })
      : kind === 'hotels' ? client.DELETE('/api/v1/patients/{id}/travel/hotels/{itemId}', { params })
      : client.DELETE('/api/v1/patients/{id}/travel/transfers/{itemId}', { params }));
  },
  checkFlightStatus: (patientId: string, itemId: string) => call(client.POST('/api/v1/patients/{id}/travel/flights/{itemId}/status', { params: { path: { id: patientId, itemId } } })),
  arrivals: (days = 7) => call(client.GET('/api/v1/travel/arrivals', { params: { query: { days } } })),
  travelSettings: () => call(client.GET('/api/v1/travel/settings')),
  saveTravelSettings: (body: PutBodyOf<'/api/v1/travel/settings'>) => call(client.PUT('/api/v1/travel/settings', { body })),

  messagingChannels: () => call(client.GET('/api/v1/messaging/channels')),
  saveMessagingChannels: (body: ChannelSettingsInput) => call(client.PUT('/api/v1/messaging/channels', { body })),
  messageTemplates: () => call(client.GET('/api/v1/messaging/templates')),
  saveMessageTemplate: (body: TemplateInput) => call(client.PUT('/api/v1/messaging/templates', { body })),
  report: (path: ReportPath, query: { from: string; to: string; granularity: 'week' | 'month' }) =>
    call(client.GET(path as '/api/v1/reports/patients', { params: { query } })) as Promise<Report>,
  reportSettings: () => call(client.GET('/api/v1/report-settings')),
  saveReportSettings: (body: ReportSettings) => call(client.PUT('/api/v1/report-settings', { body })),
  outbox: (query: OutboxQuery = {}) => call(client.GET('/api/v1/messaging/outbox', { params: { query } })),
  inbox: (query: InboxQuery = {}) => call(client.GET('/api/v1/inbox', { params: { query } })),
  conversation: (kind: 'patients' | 'prospects', subjectId: string) =>
    call(kind === 'patients' ? client.GET('/api/v1/inbox/patients/{id}', { params: id(subjectId) }) : client.GET('/api/v1/inbox/prospects/{id}', { params: id(subjectId) })),
  inboxAssignees: () => call(client.GET('/api/v1/inbox/assignees')),
  setConversationState: (kind: 'patients' | 'prospects', subjectId: string, body: { assignedTo?: string | null; done?: boolean }) =>
    call(kind === 'patients' ? client.PUT('/api/v1/inbox/patients/{id}/state', { params: id(subjectId), body }) : client.PUT('/api/v1/inbox/prospects/{id}/state', { params: id(subjectId), body })),
  patientFromProspect: (prospectId: string, body: NewPatient) => call(client.POST('/api/v1/inbox/prospects/{id}/patient', { params: id(prospectId), body })),
  reply: (patientId: string, body: ReplyInput) => call(client.POST('/api/v1/inbox/patients/{id}/reply', { params: id(patientId), body })),
  patientMessages: (patientId: string) => call(client.GET('/api/v1/patients/{id}/messages', { params: id(patientId) })),
  sendPatientMessage: (patientId: string, body: BodyOf<'/api/v1/patients/{id}/messages', 'post'>) =>
    call(client.POST('/api/v1/patients/{id}/messages', { params: id(patientId), body })),

  aiStatus: () => call(client.GET('/api/v1/ai/status')),
  aiSettings: () => call(client.GET('/api/v1/ai/settings')),
  saveAiSettings: (body: PutBodyOf<'/api/v1/ai/settings'>) => call(client.PUT('/api/v1/ai/settings', { body })),
  aiPrepare: (patientId: string) => call(client.POST('/api/v1/patients/{id}/ai/prepare', { params: id(patientId) })),
  aiDrafts: (patientId: string) => call(client.GET('/api/v1/patients/{id}/ai/drafts', { params: id(patientId) })),
  aiReview: (draftId: string, body: BodyOf<'/api/v1/ai/drafts/{draftId}/review', 'post'>) =>
    call(client.POST('/api/v1/ai/drafts/{draftId}/review', { params: { path: { draftId } }, body })),
  aiTriage: (patientId: string, messageId: string) =>
    call(client.POST('/api/v1/inbox/patients/{id}/messages/{messageId}/triage', { params: { path: { id: patientId, messageId } } })),
};
export type AiDraft = Schemas['AiDraft'];
export type AiDraftItem = Schemas['AiDraftItem'];
export type AiTriage = Schemas['AiTriage'];
