// Every URL of the UI and of the API in one typed place: pages go through SvelteKit's resolve()
// (typed against the route tree, so a renamed page is a type error; applies the base path),
// API links (downloads, navigations) are built here; API calls are typed in api.ts.
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
  account: () => resolve('account'),
  adminAudit: () => resolve('admin/audit'),
  adminBackup: () => resolve('admin/backup'),
  adminInstallation: () => resolve('admin/installation'),
  adminMessaging: () => resolve('admin/messaging'),
  adminAi: () => resolve('admin/ai'),
  adminNumbering: () => resolve('admin/numbering'),
  adminOutbox: () => resolve('admin/messaging/outbox'),
  adminAftercare: () => resolve('admin/aftercare'),
  adminRegister: () => resolve('admin/services'),
  adminRegisterPrint: () => resolve('admin/services/print'),
  travelArrivals: () => resolve('travel'),
  /** The patient list; sort and page live in the URL. Search text never does (it identifies a patient). */
  patients: (query: { sort?: string; order?: string; page?: number } = {}) =>
    withQuery(resolve('patients'), { sort: query.sort, order: query.order, page: query.page && query.page > 1 ? String(query.page) : undefined }),
  newPatient: () => resolve('patients/new'),
  patient: (id: string) => resolve('/(app)/patients/[id]', { id }),
  /** Print views (issue 12, item 8): the record summary and a consent form for the patient to sign. */
  patientPrint: (id: string) => resolve('/(app)/patients/[id]/print', { id }),
  consentForm: (id: string, purpose?: string) => withQuery(resolve('/(app)/patients/[id]/consent-form', { id }), { purpose }),
  adminIcd: () => resolve('admin/icd'),
  /** The calendar; view, day and resource live in the URL (no patient data in them). */
  calendar: (query: { view?: 'day' | 'week'; day?: string; resource?: string } = {}) =>
    withQuery(resolve('appointments'), { view: query.view, day: query.day, resource: query.resource }),
  waitingRoom: () => resolve('appointments/today'),
  inbox: () => resolve('inbox'),
  conversation: (kind: 'patients' | 'prospects', id: string) => resolve('/(app)/inbox/[kind]/[id]', { kind, id }),
  calendarSettings: () => resolve('appointments/settings'),
  finance: () => resolve('finance'),
  quote: (quoteId: string) => resolve('/(app)/finance/quotes/[quoteId]', { quoteId }),
  receipt: (paymentId: string) => resolve('/(app)/finance/receipts/[paymentId]', { paymentId }),
  /** Questionnaires the practice designs (the editor opens on this page; keys never appear in a URL). */
  questionnaires: () => resolve('questionnaires'),
  reports: () => resolve('reports'),
  reportsPrint: (query: { from: string; to: string; granularity: string }) => withQuery(resolve('reports/print'), query),
} as const;

const API = '/api/v1';
const documentPath = (id: string, documentId: string) => `${API}/patients/${encodeURIComponent(id)}/documents/${encodeURIComponent(documentId)}`;

/**
 * API URLs that are links, not calls: downloads and full-page navigations. Calls go through
 * api.ts, whose paths are typed by the generated OpenAPI types.
 */
export const apiRoutes = {
  /** Any API answer sets the CSRF cookie; api.ts asks this one before the very first state change. */
  seal: () => `${API}/seal`,
  /** Full-page navigation target: the server redirects to the clinic's identity provider. */
  oidcLogin: () => `${API}/auth/oidc/login`,
  /** The decrypted file: inline for the viewer, or as an attachment. */
  documentContent: (id: string, documentId: string, download = false) =>
    withQuery(`${documentPath(id, documentId)}/content`, { download: download ? '1' : undefined }),
  /** Art. 15/20 export as a download (JSON or FHIR R4 Bundle). */
  /** A report as CSV (path: the report's JSON route). */
  reportCsv: (path: string, query: { from: string; to: string; granularity: string; lang: string }) => withQuery(`${path}.csv`, query),
  exportDownload: (id: string, format: 'json' | 'fhir') => withQuery(`${API}/patients/${encodeURIComponent(id)}/export`, { format, download: '1' }),
} as const;
