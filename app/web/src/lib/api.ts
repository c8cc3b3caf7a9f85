// The one client for the Praxiskern API (/api/v1): JSON in and out, the double-submit CSRF
// header on every state-changing request, errors as ApiError, and the two app-wide redirects:
// a sealed server (503 sealed) and a lost session (401 unauthenticated).
import { apiRoutes } from './routes.ts';
import type { Locale } from './i18n/i18n.svelte.ts';

export const ROLES = ['admin', 'coordinator', 'doctor', 'finance', 'platform_owner', 'staff'] as const;
export type Role = (typeof ROLES)[number];

export type SetupState = { initialized: true } | { initialized: false; totpSecret: string; otpauthUrl: string };

export interface SetupInput {
  organizationName: string;
  organizationSlug: string;
  adminUsername: string;
  adminDisplayName: string;
  adminEmail?: string;
  adminPassword: string;
  passphrase: string;
  totpSecret: string;
  totpCode: string;
  locale?: Locale;
}

export interface SetupResult {
  organizationId: string;
  userId: string;
  recoveryCodes: string[];
  csrfToken: string;
}

export interface SessionUser {
  id: string;
  displayName: string;
  username: string;
  roles: Role[];
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
  password: string;
  locale?: Locale;
}

/** What POST /users answers: the account and its second-factor enrollment, shown exactly once. */
export interface CreatedUser {
  user: UserRecord;
  totpSecret: string;
  otpauthUrl: string;
  recoveryCodes: string[];
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
  message: string;
}

/** An error answer of the API: HTTP status, machine code, message and per-field details. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[];
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, message: string, fields: FieldError[] = [], retryAfterSeconds?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Field messages keyed by the request body's field name (the API's "body." prefix removed). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.fields) {
      const name = f.field.replace(/^body\./, '');
      out[name] ??= f.message;
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
  return new ApiError(status, typeof p.error === 'string' ? p.error : `http_${status}`, typeof p.message === 'string' ? p.message : `HTTP ${status}`, fields, retryAfter);
}

async function send(method: string, path: string, body: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    // The server sets the cookie on any response; fetch one if this is the very first request.
    if (!csrfToken()) await fetch(apiRoutes.seal(), { credentials: 'same-origin' });
    headers['x-csrf-token'] = csrfToken() ?? '';
  }
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

  audit: (query: { limit?: number; beforeSeq?: number } = {}) => request<{ entries: AuditEntry[] }>('GET', apiRoutes.audit(query)),
};
