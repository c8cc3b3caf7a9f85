// Logging out from any page: end the session, then either follow the identity provider's
// end-session URL (RP-initiated logout) or show the login page with a notice.
import { goto } from '$app/navigation';
import { routes } from './routes.ts';
import { session } from './state/session.svelte.ts';

export async function logOut(everywhere = false): Promise<void> {
  try {
    const endSessionUrl = await session.logout(everywhere);
    if (endSessionUrl) {
      window.location.assign(endSessionUrl);
      return;
    }
    await goto(routes.login({ notice: everywhere ? 'logged_out_everywhere' : 'logged_out' }), { replaceState: true });
  } catch {
    // The session may already be gone; the login page is the right place either way.
    session.lost();
    await goto(routes.login(), { replaceState: true });
  }
}
