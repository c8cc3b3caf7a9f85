// Issue 2's browser path: first-run setup → logout → sign-in through the clinic's identity provider
// (a real oidc-provider on loopback) → change a user's role in the admin UI. Runs in headless
// Chromium against the real server, which serves app/web/build (`npm run build` first).
import { createServer } from 'node:net';
import anyTest, { type TestFn } from 'ava';
import type { Browser } from 'playwright-core';
import { ADMIN, startTestApp, type TestApp } from '../helpers/app.ts';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { startTestIdp, type TestIdp } from '../helpers/oidc-provider.ts';
import { completeSetup, confirmRecoveryCodes, openAccountMenu, openAdminMenu } from './ui-steps.ts';
import { ownerDb } from '../integration/auth-fixtures.ts';

const STAFF_NAME = 'Maria Schulz';
const test = anyTest as TestFn<{ app: TestApp; idp: TestIdp; browser: Browser }>;

const IDP_ACCOUNT = 'hanna.berg';
const IDP_NAME = 'Dr. Hanna Berg';

/** The IdP redirects the browser to the app's public URL, so the app needs a known port. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test.before(async (t) => {
  const idp = await startTestIdp();
  const port = await freePort();
  const app = await startTestApp({
    PORT: String(port),
    PRAXISKERN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    PRAXISKERN_OIDC_ISSUER: idp.issuer,
    PRAXISKERN_OIDC_CLIENT_ID: idp.clientId,
    PRAXISKERN_OIDC_CLIENT_SECRET: idp.clientSecret,
    PRAXISKERN_OIDC_ROLE_MAP: 'praxis-admin=admin,praxis-arzt=doctor,praxis-mfa=staff',
    PRAXISKERN_OIDC_DISPLAY_NAME: 'Praxis-Login',
  });
  idp.init({ publicUrl: app.config.publicUrl, url: app.url });
  idp.accounts.set(IDP_ACCOUNT, { claims: { name: IDP_NAME, email: 'hanna.berg@praxis.test', roles: ['praxis-admin'] } });
  t.context = { app, idp, browser: await launchBrowser() };
});

test.after.always(async (t) => {
  await t.context.browser?.close();
  await t.context.app?.stop();
  await t.context.app?.db.drop();
  await t.context.idp?.close();
});

test('after setup and logout, an IdP sign-in provisions the user, who changes another user\'s role in the admin UI', async (t) => {
  const { app, idp, browser } = t.context;
  const o = await observedPage(browser, app.config.publicUrl);
  const { page } = o;
  // The test IdP signs in the account named by login_hint instead of showing a login form: the
  // app's redirect to the IdP gets that hint added (cookies of the response reach the browser).
  await o.context.route(`${app.config.publicUrl}/api/v1/auth/oidc/login`, async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    const location = new URL(response.headers().location ?? '', app.config.publicUrl);
    if (location.origin === idp.issuer) location.searchParams.set('login_hint', IDP_ACCOUNT);
    await route.fulfill({ response, headers: { ...response.headers(), location: location.href } });
  });
  let usersA11y: string[] = [];

  await screenshotOnFailure(page, 'web-oidc', async () => {
    await completeSetup(page);
    await confirmRecoveryCodes(page);
    // A member of the practice team whose roles the IdP administrator will change.
    const [org] = await ownerDb(app)('organizations').select('id');
    await ownerDb(app)('users').insert({ organization_id: org.id, username: 'maria.schulz', display_name: STAFF_NAME, roles: ['staff'] });
    await openAccountMenu(page);
    await page.getByRole('button', { name: 'Abmelden', exact: true }).click();
    await page.waitForURL('**/login?notice=logged_out');

    // The login page offers the clinic's IdP with its configured name.
    const idpButton = page.getByRole('link', { name: 'Mit Praxis-Login anmelden' });
    await idpButton.click();
    await page.waitForURL((url) => url.origin === app.config.publicUrl && url.pathname === '/');
    await page.getByRole('heading', { level: 1, name: `Willkommen, ${IDP_NAME}` }).waitFor();
    await page.getByRole('banner').getByText(IDP_NAME).waitFor();

    // Just-in-time provisioned with the mapped role, listed next to the local administrator.
    await (await openAdminMenu(page)).getByRole('link', { name: 'Benutzer', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Benutzer' }).waitFor();
    const rowOf = (name: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(name) }) });
    t.regex((await rowOf(IDP_NAME).textContent()) ?? '', /Identitätsanbieter.*Administration.*Aktiv/s);
    t.regex((await rowOf(ADMIN.adminDisplayName).textContent()) ?? '', /Lokales Konto.*Administration/s);
    usersA11y = seriousViolations(await axeViolations(page));
    // Password and second factor of an IdP account live at the IdP: the row says so and offers no reset.
    t.regex((await rowOf(IDP_NAME).textContent()) ?? '', /Passwort und zweiter Faktor werden dort verwaltet\. Hier gibt es kein Zurücksetzen/);
    t.is(await rowOf(IDP_NAME).getByRole('button', { name: /Neuer Einrichtungslink|Name und E-Mail/ }).count(), 0, 'no reset and no name edit for an IdP account');
    await openAccountMenu(page);
    await page.getByRole('link', { name: 'Mein Konto' }).click();
    await page.getByText(/Sie melden sich über den Identitätsanbieter Ihrer Praxis an/).waitFor();
    t.is(await page.getByLabel('Aktuelles Passwort').count(), 0, 'no password form for an IdP account');
    await (await openAdminMenu(page)).getByRole('link', { name: 'Benutzer', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Benutzer' }).waitFor();

    // The local administrator from the setup is the installation's operator: an organization
    // administrator who is none (the IdP account) cannot change its roles, and is told why in German.
    await page.getByRole('button', { name: new RegExp(`Rollen ändern.*${ADMIN.adminDisplayName}`) }).click();
    const operatorEditor = page.getByRole('group', { name: `Rollen von ${ADMIN.adminDisplayName}` });
    t.true(await operatorEditor.getByLabel('Administration').isChecked(), 'the editor starts from the current roles');
    await operatorEditor.getByLabel('Ärztin / Arzt').check();
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.getByText('Nur ein Betreiber der Installation kann es zurücksetzen, seine Rollen ändern oder es deaktivieren.').waitFor();
    await page.getByRole('button', { name: 'Abbrechen' }).click();

    // Give the practice team member the doctor role as well.
    await page.getByRole('button', { name: new RegExp(`Rollen ändern.*${STAFF_NAME}`) }).click();
    const editor = page.getByRole('group', { name: `Rollen von ${STAFF_NAME}` });
    t.true(await editor.getByLabel('Praxisteam').isChecked(), 'the editor starts from the current roles');
    await editor.getByLabel('Ärztin / Arzt').check();
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.getByRole('status').getByText(`Änderungen für ${STAFF_NAME} gespeichert.`).waitFor();
    await rowOf(STAFF_NAME).getByRole('listitem').filter({ hasText: 'Ärztin / Arzt' }).waitFor();

    // The change is stored on the server: it survives a reload and is in the audit log; the operator's did not happen.
    await page.reload();
    await rowOf(STAFF_NAME).waitFor();
    const badges = await rowOf(STAFF_NAME).getByRole('listitem').allTextContents();
    t.deepEqual(badges.map((b) => b.trim()).sort(), ['Praxisteam', 'Ärztin / Arzt']);
    const operatorBadges = await rowOf(ADMIN.adminDisplayName).getByRole('listitem').allTextContents();
    t.deepEqual(operatorBadges.map((b) => b.trim()), ['Administration']);
    await (await openAdminMenu(page)).getByRole('link', { name: 'Protokoll', exact: true }).click();
    await page.getByRole('cell', { name: 'Benutzer geändert', exact: true }).first().waitFor();
  }, t.log);

  t.deepEqual(usersA11y, [], 'no serious or critical axe-core violations on the users page');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
