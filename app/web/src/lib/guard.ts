// Where a visitor belongs, as a pure function of the session state and the URL:
// not set up → /setup; /enroll always; not signed in → /login; sealed → /unseal (installation
// operators) or /sealed; installation pages only for operators, other admin pages only for
// organization admins. Returns null when the current page is right.
import { routes, safeNext } from './routes.ts';

export interface GuardState {
  initialized: boolean;
  signedIn: boolean;
  sealed: boolean;
  isAdmin: boolean;
  /** Holds the installation role operator (may unseal, sees backups and the installation pages). */
  isOperator: boolean;
}

const PUBLIC = new Set(['/setup', '/login', '/unseal', '/sealed']);
const INSTALLATION_PAGES = ['/admin/backup', '/admin/installation'];
const isUnder = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** The parts of the URL the guard reads (SvelteKit's page.url is a read-only URL). */
export type GuardUrl = Pick<URL, 'pathname' | 'search'> & { searchParams: Pick<URLSearchParams, 'get'> };

export function redirectFor(s: GuardState, url: GuardUrl): string | null {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const at = (target: string) => (target.split('?')[0] === path ? null : target);
  if (!s.initialized) return at(routes.setup());
  // An enrollment link works signed in or not, sealed or not; the page itself moves on.
  if (path === '/enroll') return null;
  // Stripe Checkout sends the (signed-out) patient back here after paying.
  if (path === '/payment-complete') return null;
  if (!s.signedIn) {
    if (path === '/login') return null;
    return routes.login({ next: PUBLIC.has(path) || path === '/' ? undefined : path + url.search });
  }
  if (s.sealed) return at(s.isOperator ? routes.unseal() : routes.sealed());
  if (PUBLIC.has(path)) return (path === '/login' && safeNext(url.searchParams.get('next'))) || routes.home();
  if (INSTALLATION_PAGES.some((p) => isUnder(path, p))) return s.isOperator ? null : routes.home();
  if (isUnder(path, '/admin') && !s.isAdmin) return routes.home();
  return null;
}
