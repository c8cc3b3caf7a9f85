// Every URL of the UI and of the API in one typed place: pages go through SvelteKit's resolve()
// (typed against the route tree, so a renamed page is a type error; applies the base path),
// API paths are built here only.
import { resolve } from '$app/paths';

/** Why the login page is shown: an IdP error code from the server, or a notice after logout. */
export type LoginNotice = 'logged_out' | 'logged_out_everywhere';

function withQuery(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Only same-site paths are accepted as a return target (no open redirects). */
export function safeNext(value: string | null | undefined): string | undefined {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  return value;
}

export const routes = {
  home: () => resolve(''),
  setup: () => resolve('setup'),
  /** The page that redeems an enrollment link; the token itself is only ever in the fragment. */
  enroll: () => resolve('enroll'),
  login: (query: { next?: string; notice?: LoginNotice; error?: string } = {}) =>
    withQuery(resolve('login'), { next: safeNext(query.next), notice: query.notice, error: query.error }),
  unseal: () => resolve('unseal'),
  sealed: () => resolve('sealed'),
  adminUsers: () => resolve('admin/users'),
  adminAudit: () => resolve('admin/audit'),
  adminBackup: () => resolve('admin/backup'),
  adminInstallation: () => resolve('admin/installation'),
  /** The patient list; sort and page live in the URL. Search text never does (it identifies a patient). */
  patients: (query: { sort?: string; order?: string; page?: number } = {}) =>
    withQuery(resolve('patients'), { sort: query.sort, order: query.order, page: query.page && query.page > 1 ? String(query.page) : undefined }),
  newPatient: () => resolve('patients/new'),
  patient: (id: string) => resolve('/(app)/patients/[id]', { id }),
} as const;

const API = '/api/v1';
const patientPath = (id: string) => `${API}/patients/${encodeURIComponent(id)}`;
const documentPath = (id: string, documentId: string) => `${patientPath(id)}/documents/${encodeURIComponent(documentId)}`;

export const apiRoutes = {
  setup: () => `${API}/setup`,
  session: () => `${API}/session`,
  sessionLocale: () => `${API}/session/locale`,
  logout: () => `${API}/auth/logout`,
  logoutEverywhere: () => `${API}/auth/logout-everywhere`,
  localLogin: () => `${API}/auth/local/login`,
  oidcConfig: () => `${API}/auth/oidc/config`,
  /** Full-page navigation target: the server redirects to the clinic's identity provider. */
  oidcLogin: () => `${API}/auth/oidc/login`,
  seal: () => `${API}/seal`,
  unseal: () => `${API}/seal/unseal`,
  users: () => `${API}/users`,
  user: (id: string) => `${API}/users/${encodeURIComponent(id)}`,
  userEnrollment: (id: string) => `${API}/users/${encodeURIComponent(id)}/enrollment`,
  enrollmentBegin: () => `${API}/enrollment/begin`,
  enrollmentComplete: () => `${API}/enrollment/complete`,
  audit: (query: { limit?: number; beforeSeq?: number } = {}) =>
    withQuery(`${API}/audit`, { limit: query.limit?.toString(), beforeSeq: query.beforeSeq?.toString() }),
  patients: (query: { sort?: string; order?: string; limit?: number; offset?: number } = {}) =>
    withQuery(`${API}/patients`, { sort: query.sort, order: query.order, limit: query.limit?.toString(), offset: query.offset?.toString() }),
  /** Search terms travel in the POST body of this route, never in a URL. */
  patientSearch: () => `${API}/patients/search`,
  patient: patientPath,
  patientHistory: (id: string) => `${patientPath(id)}/history`,
  record: (id: string) => `${patientPath(id)}/record`,
  anamnesis: (id: string) => `${patientPath(id)}/anamnesis`,
  diagnoses: (id: string) => `${patientPath(id)}/diagnoses`,
  treatments: (id: string) => `${patientPath(id)}/treatments`,
  plans: (id: string) => `${patientPath(id)}/plans`,
  entryHistory: (id: string, entryId: string) => `${patientPath(id)}/record/entries/${encodeURIComponent(entryId)}/history`,
  questionnaire: (key: string, version?: number) => withQuery(`${API}/questionnaires/${encodeURIComponent(key)}`, { version: version?.toString() }),
  consents: (id: string) => `${patientPath(id)}/consents`,
  documents: (id: string) => `${patientPath(id)}/documents`,
  document: (id: string, documentId: string) => documentPath(id, documentId),
  removedDocuments: (id: string) => `${patientPath(id)}/documents/removed`,
  restoreDocument: (id: string, documentId: string) => `${documentPath(id, documentId)}/restore`,
  /** The decrypted file: inline for the viewer, or as an attachment. */
  documentContent: (id: string, documentId: string, download = false) =>
    withQuery(`${documentPath(id, documentId)}/content`, { download: download ? '1' : undefined }),
  /** Art. 15/20 export as a download (JSON or FHIR R4 Bundle). */
  exportDownload: (id: string, format: 'json' | 'fhir') => withQuery(`${patientPath(id)}/export`, { format, download: '1' }),
  restriction: (id: string) => `${patientPath(id)}/restriction`,
  objection: (id: string) => `${patientPath(id)}/objection`,
  erasure: (id: string) => `${patientPath(id)}/erasure`,
  accessLog: (id: string, limit?: number) => withQuery(`${patientPath(id)}/access-log`, { limit: limit?.toString() }),
  backupStatus: () => `${API}/backup/status`,
  backupSnapshots: (target?: string) => withQuery(`${API}/backup/snapshots`, { target }),
  backupJobs: (query: { kind?: string; limit?: number } = {}) => withQuery(`${API}/backup/jobs`, { kind: query.kind, limit: query.limit?.toString() }),
  backupRuns: () => `${API}/backup/runs`,
  backupDrills: () => `${API}/backup/drills`,
  backupRecoveryKit: () => `${API}/backup/recovery-kit`,
  installationOperators: () => `${API}/installation/operators`,
  installationOperator: (userId: string) => `${API}/installation/operators/${encodeURIComponent(userId)}`,
  installationAudit: (query: { limit?: number; beforeSeq?: number } = {}) =>
    withQuery(`${API}/installation/audit`, { limit: query.limit?.toString(), beforeSeq: query.beforeSeq?.toString() }),
} as const;
