// Steps through the web UI that several browser tests share. Every step waits for a visible
// outcome (playwright's auto-waiting locators, with the context's deadline), never for a time.
import type { TestFn } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { ADMIN, currentTotp, setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { launchBrowser, observedPage, type ObservedPage } from '../helpers/browser.ts';

/**
 * The file's app and Chromium in `t.context`: started before its tests, stopped (and the database
 * dropped) after them, even when a test fails. The instance is not set up: the tests walk first-run
 * set-up in the browser.
 */
export function useAppAndBrowser(test: TestFn<{ app: TestApp; browser: Browser }>): void {
  test.before(async (t) => {
    t.context = { app: await startTestApp(), browser: await launchBrowser() };
  });
  test.after.always(async (t) => {
    await t.context.browser?.close();
    await t.context.app?.stop();
    await t.context.app?.db.drop();
  });
}

export type SetUpInstance = { app: TestApp; browser: Browser; organizationId: string };

/**
 * An app whose instance is set up through the API (`setupInstance`) and Chromium, started before
 * the file's tests and handed to `use` (awaited: further set-up that needs the app goes there, as
 * ava runs a file's before hooks concurrently); stopped (and the database dropped) after them.
 */
export function useSetUpInstance(test: TestFn<any>, use: (env: SetUpInstance) => unknown): void {
  let env: Partial<SetUpInstance> = {};
  test.before(async () => {
    const app = await startTestApp();
    env.app = app;
    const { organizationId } = await setupInstance(app);
    env = { app, organizationId, browser: await launchBrowser() };
    await use(env as SetUpInstance);
  });
  test.after.always(async () => {
    await env.browser?.close();
    await env.app?.stop();
    await env.app?.db.drop();
  });
}

/** A fresh observed page signed in with the session (and CSRF) cookies of an API client (browser zone: `timezoneId`). */
export async function signedInPage(browser: Browser, appUrl: string, client: { cookies: Map<string, string> }, timezoneId?: string): Promise<ObservedPage> {
  const o = await observedPage(browser, appUrl, 'de-DE', timezoneId);
  await o.context.addCookies([
    { name: 'pk_session', value: client.cookies.get('pk_session')!, url: appUrl },
    { name: 'pk_csrf', value: client.cookies.get('pk_csrf')!, url: appUrl },
  ]);
  return o;
}

/** First-run setup in German (the default language); returns the TOTP secret and recovery codes. */
export async function completeSetup(page: Page): Promise<{ totpSecret: string; recoveryCodes: string[] }> {
  await page.goto('/');
  await page.waitForURL('**/setup');
  await page.getByRole('heading', { level: 1, name: 'Praxiskern einrichten' }).waitFor();

  await page.getByLabel('Name der Praxis').fill(ADMIN.organizationName);
  await page.getByLabel('Kurzname').fill(ADMIN.organizationSlug);
  await page.getByLabel('Vollständiger Name').fill(ADMIN.adminDisplayName);
  await page.getByLabel('Benutzername').fill(ADMIN.adminUsername);
  await page.getByLabel('Passwort', { exact: true }).fill(ADMIN.adminPassword);
  await page.getByLabel('Passwort wiederholen').fill(ADMIN.adminPassword);
  const totpSecret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
  await page.getByLabel('Aktueller Code aus der App').fill(currentTotp(totpSecret));
  await page.getByLabel('Passphrase', { exact: true }).fill(ADMIN.passphrase);
  await page.getByLabel('Passphrase wiederholen').fill(ADMIN.passphrase);
  await page.getByLabel(/Ich habe verstanden, dass die Daten ohne diese Passphrase verloren sind/).check();
  await page.getByRole('button', { name: 'Einrichtung abschließen' }).click();

  await page.getByRole('heading', { level: 1, name: 'Ihre Wiederherstellungscodes' }).waitFor();
  const recoveryCodes = (await page.getByRole('list', { name: 'Wiederherstellungscodes' }).getByRole('listitem').allTextContents()).map((c) => c.trim());
  return { totpSecret, recoveryCodes };
}

/** Confirms the recovery codes, then the backup recovery kit, and waits for the navigation frame. */
export async function confirmRecoveryCodes(page: Page): Promise<void> {
  await page.getByLabel('Ich habe die Wiederherstellungscodes sicher gespeichert.').check();
  await page.getByRole('button', { name: 'Weiter', exact: true }).click();
  await confirmRecoveryKit(page);
}

/** The step after the recovery codes: confirms the offline recovery kit is stored, waits for the frame. */
export async function confirmRecoveryKit(page: Page): Promise<void> {
  await page.getByRole('heading', { level: 1, name: 'Notfallschlüssel für Ihre Datensicherungen' }).waitFor();
  await page.getByLabel(/Ich habe das Wiederherstellungs-Kit ausgedruckt oder offline gespeichert/).check();
  await page.getByRole('button', { name: 'Weiter zu Praxiskern' }).click();
  await page.getByRole('navigation', { name: 'Hauptnavigation' }).waitFor();
}

/** Opens the header's "Verwaltung" disclosure menu (if closed) and returns the navigation. */
export async function openAdminMenu(page: Page) {
  const nav = page.getByRole('navigation', { name: 'Hauptnavigation' });
  const button = nav.getByRole('button', { name: 'Verwaltung' });
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.press('Enter');
  return nav;
}

/** Opens the header's account menu (account page, logout) if closed. */
export async function openAccountMenu(page: Page): Promise<void> {
  const button = page.getByRole('banner').getByRole('button', { name: /^(Angemeldet als|Signed in as)/ });
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.press('Enter');
}
