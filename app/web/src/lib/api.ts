// The one client for the Praxiskern API (/api/v1): JSON in and out, the double-submit CSRF
// header on every state-changing request, errors as ApiError, and the two app-wide redirects:
// a sealed server (503 sealed) and a lost session (401 unauthenticated).
import { apiRoutes } from './routes.ts';
import type { Locale } from './i18n/i18n.svelte.ts';
import type { SetupInput as ApiSetupInput } from '../../../api/src/modules/setup/setup.service.ts';

// The six roles come from the API's permission table (pure data), so UI and API cannot drift.
export { ROLES, type Role, type InstallationRole } from '../../../api/src/core/permissions.ts';
import type { InstallationRole, Role } from '../../../api/src/core/permissions.ts';
import type { PublicOperator } from '../../../api/src/modules/installation/operator.service.ts';

export type SetupState = { initialized: true } | { initialized: false; totpSecret: string; otpauthUrl: string };

/** The body of POST /setup, derived from the API's own type (the web form always sends a TOTP code). */
export type SetupInput = Omit<ApiSetupInput, 'totpCode' | 'locale'> & { totpCode: string; locale?: Locale };

export interface SetupResult {
  organizationId: string;
  userId: string;
  recoveryCodes: string[];
  csrfToken: string;
  /** The offline backup key, shown exactly once (only its recipient stays on the server). */
  recoveryKit?: RecoveryKit;
}

/** A printable recovery kit: the offline age identity (or its Shamir shares) and the page to print. */
export interface RecoveryKit {
  installationId: string;
  recipient: string;
  createdAt?: string;
  /** Present without shares; with shares only the shares hold the identity. */
  identity?: string;
  shares?: string[];
  html: string;
}

export interface SessionUser {
  id: string;
  displayName: string;
  username: string;
  roles: Role[];
  /** Installation roles (operator): seal, backups, recovery kit, organizations, operators. */
  installationRoles: InstallationRole[];
  locale: Locale | null;
  organizationId: string;
  /** Not part of the session contract yet; shown in the frame when the API provides it. */
  organizationName?: string;
}

export interface SessionInfo {
  user: SessionUser | null;
  sealed: boolean;
}

export interface LoginInput {
  username: string;
  password: string;
  totp?: string;
  recoveryCode?: string;
}

export interface OidcConfig {
  enabled: boolean;
  displayName: string | null;
}

/** A user as GET /users lists it. */
export interface UserRecord {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  roles: Role[];
  locale: Locale | null;
  active: boolean;
  /** How the account signs in: the clinic's identity provider or a local password + TOTP. */
  signIn: 'oidc' | 'local';
  /** Set while the account is temporarily locked after failed sign-ins. */
  lockedUntil: string | null;
  lastLoginAt: string | null;
  createdAt: string;
  /** Until when the account's one-time enrollment link works; null when none is pending. */
  enrollmentExpiresAt: string | null;
}

export interface UserPatch {
  roles?: Role[];
  displayName?: string;
  active?: boolean;
}

export interface NewUser {
  username: string;
  displayName: string;
  email?: string;
  roles: Role[];
  locale?: Locale;
}

/** A one-time enrollment link (token in the fragment), shown once to whoever created or reset the account. */
export interface EnrollmentLink {
  url: string;
  expiresAt: string;
}

/** What POST /users and POST /users/:id/enrollment answer: the account and its enrollment link. */
export interface CreatedUser {
  user: UserRecord;
  enrollment: EnrollmentLink;
}

/** Who an enrollment link is for, and a fresh authenticator secret to enroll. */
export interface EnrollmentStart {
  displayName: string;
  loginName: string;
  organizationName: string;
  expiresAt: string;
  totpSecret: string;
  otpauthUrl: string;
}

export interface EnrollmentInput {
  token: string;
  password: string;
  totpSecret: string;
  totpCode: string;
}

export interface AuditEntry {
  seq: number | string;
  created_at: string;
  actor_user_id: string | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  outcome: 'success' | 'denied' | 'failure';
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown> | null;
}

export interface FieldError {
  field: string;
  /** The server's English text: for logs and API users, never shown (see validation-messages.ts). */
  message: string;
  /** What the UI translates: required, too_long, invalid_phone, invalid_characters, … */
  code?: string;
  limit?: number;
}

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

interface RequestOptions {
  body?: unknown;
  /** false for calls whose 401/503 the caller handles itself (login, logout, status checks). */
  redirects?: boolean;
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

async function send(method: string, path: string, body: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    // The server sets the cookie on any response; fetch one if this is the very first request.
    if (!csrfToken()) await fetch(apiRoutes.seal(), { credentials: 'same-origin' });
    headers['x-csrf-token'] = csrfToken() ?? '';
  }
  // FormData goes as multipart (the browser sets the boundary); everything else as JSON.
  if (body instanceof FormData) return fetch(path, { method, headers, credentials: 'same-origin', body });
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
}

async function request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
  let res: Response;
  try {
    res = await send(method, path, options.body);
  } catch (err) {
    throw new NetworkError(err);
  }
  const isJson = res.headers.get('content-type')?.includes('application/json');
  const payload: unknown = res.status === 204 || !isJson ? undefined : await res.json().catch(() => undefined);
  if (res.ok) return payload as T;
  const error = parseError(res.status, res.headers, payload);
  if (options.redirects !== false) {
    if (error.status === 503 && error.code === 'sealed') handlers.sealed();
    if (error.status === 401 && error.code === 'unauthenticated') handlers.unauthenticated();
  }
  throw error;
}

// ---- patients (docs/patients.md, "Endpoints") ----

export const SEXES = ['female', 'male', 'diverse', 'unknown'] as const;
export type Sex = (typeof SEXES)[number];
export const PATIENT_SORTS = ['created_at', 'updated_at', 'last_treatment_on'] as const;
export type PatientSort = (typeof PATIENT_SORTS)[number];
export type SortOrder = 'asc' | 'desc';

export interface Address {
  street: string;
  postalCode: string;
  city: string;
  country?: string;
}

/** Master data as the API accepts it. */
export interface MasterData {
  givenName: string;
  familyName: string;
  sex: Sex;
  birthDate: string;
  language?: string;
  country?: string;
  phone?: string;
  whatsapp?: string;
  email?: string;
  address?: Address;
}

export interface Patient extends MasterData {
  id: string;
  version: number;
  restricted: boolean;
  restrictedAt: string | null;
  restrictionReason?: string | null;
  objection: boolean;
  objectedAt: string | null;
  lastTreatmentOn: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PatientQuery {
  sort?: PatientSort;
  order?: SortOrder;
  limit?: number;
  offset?: number;
}

export interface PatientPage {
  items: Patient[];
  total: number;
  limit: number;
  offset: number;
  sort: PatientSort;
  order: SortOrder;
}

/** Art. 16: a field set to null is removed. */
export type MasterDataChanges = { [K in keyof MasterData]?: MasterData[K] | null };

export interface MasterDataVersion {
  version: number;
  data: MasterData;
  reason: string | null;
  changedAt: string;
  changedBy: string | null;
}

export type EntryKind = 'anamnesis' | 'diagnosis' | 'treatment' | 'plan';

export interface Entry<D = Record<string, unknown>> {
  id: string;
  kind: EntryKind;
  version: number;
  supersedesId: string | null;
  supersededById: string | null;
  createdAt: string;
  createdBy: string | null;
  data: D;
}

export type PrequalStatus = 'qualified' | 'needs_review' | 'not_qualified';
export type AnamnesisData = {
  questionnaire: { key: string; version: number };
  answers: Record<string, unknown>;
  prequalification: { status: PrequalStatus; reasons: { rule: string; outcome: PrequalStatus; de: string; en: string }[] };
};
export const CERTAINTIES = ['G', 'V', 'Z', 'A'] as const;
export const SIDES = ['R', 'L', 'B'] as const;
export type DiagnosisData = {
  code: string;
  text: string;
  certainty: (typeof CERTAINTIES)[number];
  side?: (typeof SIDES)[number];
  diagnosedOn?: string;
  correctionReason?: string;
};
export type TreatmentData = {
  performedOn: string;
  type: string;
  description: string;
  performedBy?: string;
  correctionReason?: string;
};
export const PLAN_STATUSES = ['draft', 'proposed', 'accepted', 'in_progress', 'completed', 'cancelled'] as const;
export type PlanData = {
  title: string;
  status: (typeof PLAN_STATUSES)[number];
  plannedFor?: string;
  steps: { description: string; due?: string }[];
  notes?: string;
  correctionReason?: string;
};

export interface HealthRecord {
  patientId: string;
  patient: Patient;
  anamnesis: Entry<AnamnesisData> | null;
  diagnoses: Entry<DiagnosisData>[];
  treatments: Entry<TreatmentData>[];
  plans: Entry<PlanData>[];
  corrections: number;
}

/** A correction names the entry it replaces and why. */
export interface Correction {
  supersedesId?: string;
  correctionReason?: string;
}

export type QuestionField = {
  key: string;
  type: 'boolean' | 'text' | 'number' | 'choice' | 'multi_choice' | 'list' | 'date';
  label: { de: string; en: string };
  required?: boolean;
  options?: string[];
  min?: number;
  max?: number;
  maxLength?: number;
  maxItems?: number;
  showIf?: { field: string; equals: string | number | boolean };
};

export interface Questionnaire {
  id: string;
  key: string;
  version: number;
  title: string;
  definition: { fields: QuestionField[]; rules: unknown[] };
  createdAt: string;
}

export const CONSENT_PURPOSES = ['health_data', 'whatsapp_contact', 'email_contact', 'ai_preparation', 'photo_use', 'photo_publication', 'third_country_transfer'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];
export const CONSENT_CHANNELS = ['paper', 'in_person', 'web', 'email', 'whatsapp', 'phone'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];
export type ConsentAction = 'granted' | 'withdrawn';

export interface ConsentEntry {
  id: string;
  purpose: ConsentPurpose;
  action: ConsentAction;
  textVersion: string;
  channel: ConsentChannel;
  note: string | null;
  recordedBy: string | null;
  recordedAt: string;
}

export interface ConsentInput {
  purpose: ConsentPurpose;
  action: ConsentAction;
  textVersion: string;
  channel: ConsentChannel;
  note?: string;
}

export const DOCUMENT_CATEGORIES = ['front', 'side', 'donor_area', 'close_up', 'document', 'other'] as const;
export type DocumentCategory = (typeof DOCUMENT_CATEGORIES)[number];

export interface PatientDocument {
  id: string;
  category: DocumentCategory;
  contentType: string;
  sizeBytes: number;
  filename: string | null;
  note: string | null;
  metadataRemoved: string[];
  createdBy: string | null;
  createdAt: string;
  /** Set while the document is removed (hidden); only roles with documents.removed see these. */
  removedAt: string | null;
  removedBy: string | null;
  /** Served by the API with the session cookie; usable as <img src>. */
  contentUrl: string;
}

/** A removed document with who removed or restored it, when and why. */
export interface RemovedDocument extends PatientDocument {
  history: { action: 'removed' | 'restored'; at: string; by: string | null; reason: string | null }[];
}

export interface AccessLogEntry {
  at: string;
  userId: string | null;
  action: string;
  outcome: 'success' | 'denied' | 'failure';
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** Why a record inside its retention period is erased anyway (kept in clear in the audit log). */
export { REASON_CATEGORIES as ERASURE_REASON_CATEGORIES, type ReasonCategory as ErasureReasonCategory } from '../../../api/src/modules/gdpr/erasure-reason.schema.ts';
import type { ReasonCategory } from '../../../api/src/modules/gdpr/erasure-reason.schema.ts';

export interface ErasureInput {
  confirm: true;
  override?: boolean;
  reasonCategory?: ReasonCategory;
  /** Free text: stored only encrypted under a key of its own, which can be destroyed later. */
  reason?: string;
}

// ---- backups (app/api/src/modules/backup/backup.service.ts) ----

export type BackupJobKind = 'backup' | 'drill' | 'verify' | 'restore';

export interface BackupJob {
  id: string;
  kind: BackupJobKind;
  status: 'running' | 'succeeded' | 'failed';
  trigger: string;
  snapshotId: string | null;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  details: Record<string, unknown> | null;
}

export interface BackupSnapshot {
  target: string;
  id: string;
  takenAt: string | null;
  sizeBytes: number;
  files: number;
  blobs: number;
  appVersion: string;
  schemaVersion: string;
  verifiedAt: string | null;
  verifyError: string | null;
}

export interface BackupTargetStatus {
  name: string;
  type: string;
  where: string;
  snapshots: number;
  newest: BackupSnapshot | null;
  /** Outcome of this target in the last backup run; null before the first run. */
  lastRunOk: boolean | null;
  lastError: string | null;
}

export interface BackupStatus {
  schedule: string;
  drillSchedule: string;
  retention: { daily: number; weekly: number; monthly: number };
  recipients: { offline: number; recoveryKit: boolean; drillKey: boolean };
  targets: BackupTargetStatus[];
  running: BackupJob[];
  lastBackup: BackupJob | null;
  lastSuccessfulBackup: BackupJob | null;
  lastDrill: BackupJob | null;
  /** Backups and drills asked for here that the worker has not finished yet. */
  requests: BackupRequest[];
  /** Recovery-kit files still on the server (the worker's last check); null: not checked. */
  recoveryKitFilesOnServer: string[] | null;
}

export interface BackupRequest {
  id: string;
  kind: 'backup' | 'drill';
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  jobId: string | null;
  requestedAt: string | null;
}

/** 202 of POST /backup/runs and /backup/drills: the worker runs the job; jobId is null while it waits in the queue. */
export interface QueuedBackupRun {
  requestId: string;
  jobId: string | null;
  status: BackupRequest['status'];
}

/** An installation operator as GET /installation/operators lists it (dates arrive as ISO strings). */
export type InstallationOperator = Omit<PublicOperator, 'grantedAt'> & { grantedAt: string };

export interface RecoveryKitInput {
  shares?: { threshold: number; count: number };
  replace?: boolean;
}

export const api = {
  setupState: () => request<SetupState>('GET', apiRoutes.setup(), { redirects: false }),
  completeSetup: (body: SetupInput) => request<SetupResult>('POST', apiRoutes.setup(), { body, redirects: false }),

  session: () => request<SessionInfo>('GET', apiRoutes.session(), { redirects: false }),
  setLocale: (locale: Locale) => request<{ locale: Locale }>('PATCH', apiRoutes.sessionLocale(), { body: { locale } }),
  logout: () => request<{ loggedOut: boolean; endSessionUrl: string | null }>('POST', apiRoutes.logout(), { redirects: false }),
  logoutEverywhere: () => request<{ loggedOut: boolean }>('POST', apiRoutes.logoutEverywhere(), { redirects: false }),
  localLogin: (body: LoginInput) => request<unknown>('POST', apiRoutes.localLogin(), { body, redirects: false }),
  /** Treats a missing endpoint as "no identity provider configured". */
  oidcConfig: async (): Promise<OidcConfig> => {
    try {
      return await request<OidcConfig>('GET', apiRoutes.oidcConfig(), { redirects: false });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return { enabled: false, displayName: null };
      throw err;
    }
  },

  seal: () => request<{ sealed: boolean }>('GET', apiRoutes.seal(), { redirects: false }),
  unseal: (passphrase: string) => request<{ sealed: boolean }>('POST', apiRoutes.unseal(), { body: { passphrase }, redirects: false }),

  users: () => request<{ users: UserRecord[] }>('GET', apiRoutes.users()),
  updateUser: (id: string, patch: UserPatch) => request<unknown>('PATCH', apiRoutes.user(id), { body: patch }),
  createUser: (body: NewUser) => request<CreatedUser>('POST', apiRoutes.users(), { body }),
  resetUser: (id: string) => request<CreatedUser>('POST', apiRoutes.userEnrollment(id)),
  beginEnrollment: (token: string) => request<EnrollmentStart>('POST', apiRoutes.enrollmentBegin(), { body: { token }, redirects: false }),
  completeEnrollment: (body: EnrollmentInput) =>
    request<{ recoveryCodes: string[]; user: { loginName: string } }>('POST', apiRoutes.enrollmentComplete(), { body, redirects: false }),

  audit: (query: { limit?: number; beforeSeq?: number } = {}) => request<{ entries: AuditEntry[] }>('GET', apiRoutes.audit(query)),

  patients: (query: PatientQuery = {}) => request<PatientPage>('GET', apiRoutes.patients(query)),
  /** Name, birth date, phone and e-mail go in the body: a URL would leave them in access logs. */
  searchPatients: (body: PatientQuery & { q: string }) => request<PatientPage>('POST', apiRoutes.patientSearch(), { body }),
  createPatient: (body: MasterData & { allowDuplicate?: boolean }) => request<{ patient: Patient }>('POST', apiRoutes.patients(), { body }),
  patient: (id: string) => request<{ patient: Patient }>('GET', apiRoutes.patient(id)),
  updatePatient: (id: string, body: { changes: MasterDataChanges; reason?: string; expectedVersion?: number }) =>
    request<{ patient: Patient }>('PATCH', apiRoutes.patient(id), { body }),
  patientHistory: (id: string) => request<{ versions: MasterDataVersion[]; currentVersion: number }>('GET', apiRoutes.patientHistory(id)),

  record: (id: string) => request<HealthRecord>('GET', apiRoutes.record(id)),
  questionnaire: (key: string, version?: number) => request<{ questionnaire: Questionnaire }>('GET', apiRoutes.questionnaire(key, version)),
  saveAnamnesis: (id: string, body: { questionnaireKey: string; questionnaireVersion: number; answers: Record<string, unknown> } & Correction) =>
    request<{ entry: Entry<AnamnesisData> }>('POST', apiRoutes.anamnesis(id), { body }),
  addDiagnosis: (id: string, body: Omit<DiagnosisData, 'correctionReason'> & Correction) => request<{ entry: Entry<DiagnosisData> }>('POST', apiRoutes.diagnoses(id), { body }),
  addTreatment: (id: string, body: Omit<TreatmentData, 'correctionReason'> & Correction) => request<{ entry: Entry<TreatmentData> }>('POST', apiRoutes.treatments(id), { body }),
  addPlan: (id: string, body: Omit<PlanData, 'correctionReason'> & Correction) => request<{ entry: Entry<PlanData> }>('POST', apiRoutes.plans(id), { body }),
  entryHistory: (id: string, entryId: string) => request<{ versions: Entry[] }>('GET', apiRoutes.entryHistory(id, entryId)),

  consents: (id: string) => request<{ current: Record<ConsentPurpose, boolean>; log: ConsentEntry[] }>('GET', apiRoutes.consents(id)),
  recordConsent: (id: string, body: ConsentInput) => request<{ consent: ConsentEntry }>('POST', apiRoutes.consents(id), { body }),

  documents: (id: string) => request<{ documents: PatientDocument[] }>('GET', apiRoutes.documents(id)),
  uploadDocument: (id: string, input: { file: File; category: DocumentCategory; note?: string }) => {
    const body = new FormData();
    body.set('category', input.category);
    if (input.note) body.set('note', input.note);
    body.set('file', input.file, input.file.name);
    return request<{ document: PatientDocument }>('POST', apiRoutes.documents(id), { body });
  },
  /** Hides the document (it stays stored and can be restored); the reason is required. */
  removeDocument: (id: string, documentId: string, reason: string) =>
    request<{ document: PatientDocument }>('DELETE', apiRoutes.document(id, documentId), { body: { reason } }),
  removedDocuments: (id: string) => request<{ documents: RemovedDocument[] }>('GET', apiRoutes.removedDocuments(id)),
  restoreDocument: (id: string, documentId: string, reason?: string) =>
    request<{ document: PatientDocument }>('POST', apiRoutes.restoreDocument(id, documentId), { body: reason ? { reason } : {} }),

  setRestriction: (id: string, body: { restricted: boolean; reason?: string }) => request<{ restricted: boolean; restrictedAt: string | null }>('POST', apiRoutes.restriction(id), { body }),
  setObjection: (id: string, objected: boolean) =>
    request<{ objection: boolean; objectedAt: string | null; automatedProcessingAllowed: boolean }>('POST', apiRoutes.objection(id), { body: { objected } }),
  erasePatient: (id: string, body: ErasureInput) => request<{ erased: boolean; patientId: string; erasedAt: string; documentsDeleted: number }>('POST', apiRoutes.erasure(id), { body }),
  accessLog: (id: string, limit = 200) => request<{ entries: AccessLogEntry[] }>('GET', apiRoutes.accessLog(id, limit)),

  backupStatus: () => request<BackupStatus>('GET', apiRoutes.backupStatus()),
  backupSnapshots: (target?: string) => request<{ snapshots: BackupSnapshot[] }>('GET', apiRoutes.backupSnapshots(target)),
  backupJobs: (query: { kind?: BackupJobKind; limit?: number } = {}) => request<{ jobs: BackupJob[] }>('GET', apiRoutes.backupJobs(query)),
  /** 202: the worker runs the job; poll backupJobs() for its outcome (backupStatus() while it is queued). */
  startBackup: () => request<QueuedBackupRun>('POST', apiRoutes.backupRuns()),
  startDrill: () => request<QueuedBackupRun>('POST', apiRoutes.backupDrills()),
  createRecoveryKit: (body: RecoveryKitInput) => request<RecoveryKit>('POST', apiRoutes.backupRecoveryKit(), { body }),

  installationOperators: () => request<{ operators: InstallationOperator[] }>('GET', apiRoutes.installationOperators()),
  grantOperator: (user: string) => request<{ operator: InstallationOperator }>('POST', apiRoutes.installationOperators(), { body: { user } }),
  revokeOperator: (userId: string) => request<void>('DELETE', apiRoutes.installationOperator(userId)),
  installationAudit: (query: { limit?: number; beforeSeq?: number } = {}) => request<{ entries: AuditEntry[] }>('GET', apiRoutes.installationAudit(query)),
};
