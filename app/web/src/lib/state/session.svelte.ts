// App-wide session state as a Svelte 5 rune class: first-run state, the signed-in user and the
// seal state, loaded from /api/v1/session and /api/v1/setup when the app starts.
import { api, NetworkError, type SessionUser, type SetupState } from '../api.ts';
import { i18n, type Locale } from '../i18n/i18n.svelte.ts';
import { allowed, type Permission } from '../permissions.ts';
import { todayIn } from '../appointments.ts';

export type Phase = 'loading' | 'ready' | 'offline';

export class SessionState {
  phase = $state<Phase>('loading');
  setup = $state<SetupState>({ initialized: true });
  user = $state<SessionUser | null>(null);
  sealed = $state(false);
  /** Set when a signed-in session ended unexpectedly; the login page explains it. */
  expired = $state(false);
  /** Remembered from the setup form until the API reports organization names with the session. */
  organizationName = $state<string | null>(null);

  initialized = $derived(this.setup.initialized);
  isAdmin = $derived(this.user?.roles.includes('admin') ?? false);
  /** An installation operator (seal, backups, recovery kit, organizations); may be no organization admin. */
  isOperator = $derived(this.user?.installationRoles?.includes('operator') ?? false);
  /** The practice's time zone: its calendar day is "today", whatever zone the browser is set to. */
  timeZone = $derived(this.user?.timeZone ?? 'Europe/Berlin');

  /** Today's date (YYYY-MM-DD) in the practice's time zone: just after midnight in Berlin, UTC is still yesterday. */
  today(): string {
    return todayIn(this.timeZone);
  }

  /** Whether the signed-in user's roles grant a permission (controls are hidden otherwise). */
  can(permission: Permission): boolean {
    return allowed(this.user, permission);
  }

  async load(): Promise<void> {
    try {
      const [session, setup] = await Promise.all([api.session(), api.setupState()]);
      this.setup = setup;
      this.user = session.user;
      i18n.timeZone = session.user?.timeZone;
      if (session.user) this.expired = false;
      this.sealed = session.sealed;
      if (session.user?.organizationName) this.organizationName = session.user.organizationName;
      if (session.user?.locale && session.user.locale !== i18n.locale) i18n.set(session.user.locale);
      this.phase = 'ready';
    } catch (err) {
      if (err instanceof NetworkError || this.phase !== 'ready') this.phase = 'offline';
      else throw err;
    }
  }

  async refreshSeal(): Promise<void> {
    this.sealed = (await api.seal()).sealed;
  }

  /** Switches the language here and, when signed in, in the user's profile. */
  async setLocale(locale: Locale): Promise<void> {
    i18n.set(locale);
    if (this.user) {
      this.user.locale = locale;
      await api.setLocale(locale);
    }
  }

  /** Ends the session; returns the IdP's end-session URL when the server hands one out. */
  async logout(everywhere = false): Promise<string | null> {
    const result = everywhere ? await api.logoutEverywhere() : await api.logout();
    this.user = null;
    return 'endSessionUrl' in result && typeof result.endSessionUrl === 'string' ? result.endSessionUrl : null;
  }

  /** Called when the API answers 401: the session ended elsewhere (timeout, role change, …). */
  lost(): void {
    if (this.user) this.expired = true;
    this.user = null;
  }
}

export const session = new SessionState();
