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
  login: (query: { next?: string; notice?: LoginNotice; error?: string } = {}) =>
    withQuery(resolve('login'), { next: safeNext(query.next), notice: query.notice, error: query.error }),
  unseal: () => resolve('unseal'),
  sealed: () => resolve('sealed'),
  adminUsers: () => resolve('admin/users'),
  adminAudit: () => resolve('admin/audit'),
} as const;

const API = '/api/v1';

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
  audit: (query: { limit?: number; beforeSeq?: number } = {}) =>
    withQuery(`${API}/audit`, { limit: query.limit?.toString(), beforeSeq: query.beforeSeq?.toString() }),
} as const;
