// Enrollment links in headless Chromium against the real server (`npm run build` first): the
// administrator creates an account and gets a one-time link (copy button, expiry); the person
// opens it, chooses the password, enrolls the authenticator from the QR code/key, confirms with a
// code, sees the recovery codes once and lands signed in. The token never appears in a URL the
// browser requests, and a used link is refused. Every page is checked with axe-core.
import anyTest, { type TestFn } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { currentTotp, setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations, type ObservedPage } from '../helpers/browser.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser; admin: Client }>;

test.before(async (t) => {
  const app = await startTestApp();
  const { client } = await setupInstance(app);
  t.context = { app, browser: await launchBrowser(), admin: client };
});

test.after.always(async (t) => {
  await t.context.browser?.close();
  await t.context.app?.stop();
  await t.context.app?.db.drop();
});

/** A browser context signed in with the API client's session. */
async function signedInPage(browser: Browser, app: TestApp, client: Client): Promise<ObservedPage> {
  const o = await observedPage(browser, app.url);
  const { hostname } = new URL(app.url);
  await o.context.addCookies(['pk_session', 'pk_csrf'].map((name) => ({ name, value: client.cookies.get(name)!, domain: hostname, path: '/' })));
  return o;
}

/** The link as the server prints it points at PRAXISKERN_PUBLIC_URL; the test server listens elsewhere. */
const onTestServer = (app: TestApp, link: string) => app.url + new URL(link).pathname + new URL(link).hash;

async function requestedUrls(page: Page): Promise<string[]> {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  return urls;
}

test('a new account is enrolled through its one-time link: own password, QR/TOTP, recovery codes, signed in', async (t) => {
  const { app, browser, admin } = t.context;
  const adminView = await signedInPage(browser, app, admin);
  const a11y: Record<string, string[]> = {};
  let link = '';

  await screenshotOnFailure(adminView.page, 'enroll-admin', async () => {
    const page = adminView.page;
    await page.goto('/admin/users');
    await page.getByRole('button', { name: 'Lokales Konto anlegen' }).click();
    await page.getByLabel('Vollständiger Name').fill('Paula Neu');
    await page.getByLabel('Benutzername').fill('paula.neu');
    t.is(await page.getByLabel(/Passwort/).count(), 0, 'the administrator chooses no password');
    await page.getByRole('button', { name: 'Konto anlegen', exact: true }).click();
    await page.getByRole('heading', { name: 'Einrichtungslink für Paula Neu' }).waitFor();
    link = await page.getByLabel('Einrichtungslink').inputValue();
    t.regex(link, /\/enroll#[A-Za-z0-9_-]{43}$/);
    t.regex((await page.locator('#new-user-expiry').textContent()) ?? '', /^Gültig bis \d{2}\.\d{2}\.\d{4}/);
    await page.getByRole('button', { name: 'Link kopieren' }).waitFor();
    a11y.handover = seriousViolations(await axeViolations(page));
  }, t.log);

  const person = await observedPage(browser, app.url);
  const urls = await requestedUrls(person.page);
  const token = new URL(link).hash.slice(1);
  await screenshotOnFailure(person.page, 'enroll-person', async () => {
    const page = person.page;
    await page.goto(onTestServer(app, link));
    await page.getByRole('heading', { level: 1, name: 'Konto einrichten' }).waitFor();
    await page.waitForURL((u) => u.hash === '');
    t.is(new URL(page.url()).pathname, '/enroll', 'the token leaves the address bar at once');
    t.is(await page.locator('#login-name').textContent(), 'paula.neu');
    await page.getByRole('img', { name: 'QR-Code für die Authenticator-App' }).waitFor();
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
    t.regex(secret, /^[A-Z2-7]{32}$/);
    a11y.enroll = seriousViolations(await axeViolations(page));

    // A mismatched repetition and a wrong code are reported next to their fields.
    await page.getByLabel('Neues Passwort').fill('paulas eigenes passwort');
    await page.getByLabel('Passwort wiederholen').fill('paulas eigenes passwort');
    const wrong = String((Number(currentTotp(secret)) + 500_000) % 1_000_000).padStart(6, '0');
    await page.getByLabel('Aktueller Code aus der App').fill(wrong);
    await page.getByRole('button', { name: 'Konto einrichten' }).click();
    await page.getByText('Der Code passt nicht', { exact: false }).first().waitFor();

    await page.getByLabel('Aktueller Code aus der App').fill(currentTotp(secret));
    await page.getByRole('button', { name: 'Konto einrichten' }).click();
    await page.getByRole('heading', { level: 1, name: 'Ihre Wiederherstellungscodes' }).waitFor();
    const codes = await page.getByRole('list', { name: 'Wiederherstellungscodes' }).getByRole('listitem').allTextContents();
    t.is(codes.length, 10);
    a11y.recovery = seriousViolations(await axeViolations(page));
    await page.getByLabel('Ich habe die Wiederherstellungscodes sicher gespeichert.').check();
    await page.getByRole('button', { name: 'Weiter zu Praxiskern' }).click();
    await page.getByRole('heading', { level: 1, name: 'Willkommen, Paula Neu' }).waitFor();
    t.is(new URL(page.url()).pathname, '/');
  }, t.log);
  t.deepEqual(urls.filter((u) => u.includes(token)), [], 'no request URL carries the token');

  // The same link a second time: refused, with the advice to tell the administration.
  const again = await observedPage(browser, app.url);
  await again.page.goto(onTestServer(app, link));
  await again.page.getByRole('alert').getByText(/ungültig oder wurde bereits benutzt/).waitFor();
  a11y.used = seriousViolations(await axeViolations(again.page));

  // The administrator resets the account from its row: a new link is shown once.
  await screenshotOnFailure(adminView.page, 'enroll-reset', async () => {
    const page = adminView.page;
    await page.goto('/admin/users');
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /Paula Neu/ }) });
    await row.getByRole('button', { name: /Neuer Einrichtungslink/ }).click();
    await page.getByText(/gilt für Paula Neu ab sofort nicht mehr/).waitFor();
    await page.getByRole('button', { name: 'Zurücksetzen und Link erstellen' }).click();
    await page.getByRole('heading', { name: 'Einrichtungslink für Paula Neu' }).waitFor();
    const renewed = await page.getByLabel('Einrichtungslink').inputValue();
    t.regex(renewed, /\/enroll#[A-Za-z0-9_-]{43}$/);
    t.not(renewed, link);
  }, t.log);

  t.deepEqual(a11y, { handover: [], enroll: [], recovery: [], used: [] }, 'no serious or critical axe-core violations');
  for (const o of [adminView, person, again]) {
    t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
    t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
    await o.context.close();
  }
});
