// User management in headless Chromium against the real server (`npm run build` first), keyboard
// first: an administrator edits a name and e-mail and resets a user's authenticator (TOTP only);
// the person opens the one-time link in a fresh browser context, scans the QR code (the test
// decodes the QR code drawn on the page with jsQR and proves it carries the right otpauth URI),
// confirms with the password, prints and downloads the recovery codes, and signs in with the new
// authenticator. The audit page shows translated actions with names and filters on the server;
// success messages replace each other; the own-account page changes the password. axe-core on
// every page touched.
import anyTest, { type TestFn } from 'ava';
import { readFileSync } from 'node:fs';
import jsQRModule from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { ADMIN, currentTotp, setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations, type ObservedPage } from '../helpers/browser.ts';
import { openAccountMenu } from './ui-steps.ts';
import { createAccount, type LocalAccount } from '../integration/auth-fixtures.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser; admin: Client; mara: LocalAccount }>;

test.before(async (t) => {
  const app = await startTestApp();
  const { client } = await setupInstance(app);
  const mara = await createAccount(client, ['staff'], 'mara');
  t.context = { app, browser: await launchBrowser(), admin: client, mara };
});

test.after.always(async (t) => {
  await t.context.browser?.close();
  await t.context.app?.stop();
  await t.context.app?.db.drop();
});

async function signedInPage(browser: Browser, app: TestApp, client: Client): Promise<ObservedPage> {
  const o = await observedPage(browser, app.url);
  const { hostname } = new URL(app.url);
  await o.context.addCookies(['pk_session', 'pk_csrf'].map((name) => ({ name, value: client.cookies.get(name)!, domain: hostname, path: '/' })));
  return o;
}

const jsQR = jsQRModule as unknown as (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;

const onTestServer = (app: TestApp, link: string) => app.url + new URL(link).pathname + new URL(link).hash;

/** Focuses an element and presses a key on it: the way a keyboard user acts on a control. */
async function press(page: Page, locator: ReturnType<Page['locator']>, key = 'Enter'): Promise<void> {
  await locator.focus();
  await page.keyboard.press(key);
}

/**
 * Reads the QR code as a camera would: the SVG's modules (one "M x y h1v1h-1z" square each) are
 * drawn into a pixel image (4 px a module, with the quiet zone) and decoded by jsQR.
 */
async function decodeQr(page: Page): Promise<string> {
  const svg = page.locator('svg.qr-code');
  const viewBox = (await svg.getAttribute('viewBox'))!.split(/\s+/).map(Number);
  const d = (await svg.locator('path').getAttribute('d'))!;
  const [x0, y0, size] = [viewBox[0], viewBox[1], viewBox[2]];
  const scale = 4;
  const px = size * scale;
  const data = new Uint8ClampedArray(px * px * 4).fill(255);
  for (const m of d.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
    const col = Number(m[1]) - x0, row = Number(m[2]) - y0;
    for (let dy = 0; dy < scale; dy++) {
      for (let dx = 0; dx < scale; dx++) {
        const i = ((row * scale + dy) * px + col * scale + dx) * 4;
        data[i] = data[i + 1] = data[i + 2] = 0;
      }
    }
  }
  const code = jsQR(data, px, px);
  if (!code) throw new Error('the QR code on the page could not be decoded');
  return code.data;
}

test('an admin resets a user\'s TOTP; the user enrolls again by scanning the QR code, keeps the recovery codes (print, download) and signs in with the new TOTP', async (t) => {
  const { app, browser, admin, mara } = t.context;
  const adminView = await signedInPage(browser, app, admin);
  const a11y: Record<string, string[]> = {};
  let link = '';

  await screenshotOnFailure(adminView.page, 'users-admin', async () => {
    const page = adminView.page;
    await page.goto('/admin/users');
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /Test mara/ }) });
    t.regex((await row.getByRole('cell').nth(3).textContent()) ?? '', /\d{2}\.\d{2}\.\d{4}/, 'last login in German format');

    // A new account first: its panel shows a success message …
    await press(page, page.getByRole('button', { name: 'Lokales Konto anlegen' }));
    await page.getByLabel('Vollständiger Name').fill('Jonas Neu');
    await page.getByLabel('Benutzername').fill('jonas.neu');
    await press(page, page.getByRole('button', { name: 'Konto anlegen', exact: true }));
    await page.getByText('Das Konto Jonas Neu wurde angelegt.').waitFor();

    // … which the next success message replaces (one live region at a time, no pile).
    // Name and e-mail, keyboard only.
    await press(page, row.getByRole('button', { name: /Name und E-Mail/ }));
    const name = page.getByLabel('Vollständiger Name');
    t.true(await name.evaluate((el) => el === el.ownerDocument.activeElement), 'the first field has the focus');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Mara Schulz');
    await page.keyboard.press('Tab');
    await page.keyboard.type('mara@praxis.example');
    a11y.details = seriousViolations(await axeViolations(page));
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Änderungen für Mara Schulz gespeichert.').waitFor();
    t.false(await page.getByText('Das Konto Jonas Neu wurde angelegt.').isVisible(), 'the older success message is gone');
    t.deepEqual((await page.locator('.alert-success:not([hidden])').allTextContents()).map((x) => x.trim()), ['Änderungen für Mara Schulz gespeichert.'], 'exactly one success message, the newest');
    t.is(await page.locator('[role="status"]:not([hidden]).alert-success').count(), 1);
    await page.getByRole('rowheader', { name: /Mara Schulz/ }).getByText('mara@praxis.example', { exact: false }).waitFor();

    // The reset: only the authenticator (arrow keys in the radio group), then the link.
    const maraRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /Mara Schulz/ }) });
    await press(page, maraRow.getByRole('button', { name: /Neuer Einrichtungslink/ }));
    const full = page.getByRole('radio', { name: 'Passwort und Authenticator-App' });
    await full.waitFor();
    t.true(await full.isChecked(), 'the full reset is the default');
    await full.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    t.true(await page.getByRole('radio', { name: /Nur die Authenticator-App/ }).isChecked());
    await page.getByText(/gilt für Mara Schulz ab sofort nicht mehr/).waitFor();
    a11y.reset = seriousViolations(await axeViolations(page));
    await press(page, page.getByRole('button', { name: 'Zurücksetzen und Link erstellen' }));
    await page.getByRole('heading', { name: 'Einrichtungslink für Mara Schulz' }).waitFor();
    const resetPanel = page.locator('tr.editor-row');
    link = await resetPanel.getByLabel('Einrichtungslink').inputValue();
    t.regex(link, /\/enroll#[A-Za-z0-9_-]{43}$/);
    await press(page, resetPanel.getByRole('button', { name: 'Fertig' }));
    await maraRow.getByText(/Einrichtung offen bis .* \(nur Authenticator-App\)/).waitFor();
    t.deepEqual((await page.locator('.alert-success:not([hidden])').allTextContents()).map((x) => x.trim()), ['Änderungen für Mara Schulz gespeichert.'], 'one success message, the newest');
  }, t.log);

  // The old authenticator stopped working with the reset.
  const old = await app.client().post('/api/v1/auth/local/login', { username: mara.username, password: mara.password, totp: currentTotp(mara.totpSecret, 1) });
  t.is(old.status, 401, 'the old TOTP is rejected');

  const person = await observedPage(browser, app.url);
  let newSecret = '';
  await screenshotOnFailure(person.page, 'users-enroll', async () => {
    const page = person.page;
    await page.goto(onTestServer(app, link));
    await page.getByRole('heading', { level: 1, name: 'Konto einrichten' }).waitFor();
    await page.getByText(/richten Sie eine neue Authenticator-App ein/).waitFor();
    t.is(await page.getByLabel('Neues Passwort').count(), 0, 'no new password for a TOTP reset');
    await page.getByRole('img', { name: 'QR-Code für die Authenticator-App' }).waitFor();

    const scanned = await decodeQr(page);
    const uri = new URL(scanned);
    t.is(uri.protocol, 'otpauth:');
    t.is(uri.host, 'totp');
    t.is(decodeURIComponent(uri.pathname), `/Praxiskern (${ADMIN.organizationName}):${mara.username}`, 'label: issuer with the organization, and the username');
    t.is(uri.searchParams.get('issuer'), `Praxiskern (${ADMIN.organizationName})`);
    newSecret = uri.searchParams.get('secret')!;
    t.regex(newSecret, /^[A-Z2-7]{32}$/);
    t.is(((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, ''), newSecret, 'the QR code carries the key shown as text');
    t.not(newSecret, mara.totpSecret);
    a11y.enroll = seriousViolations(await axeViolations(page));

    await page.getByLabel('Ihr bisheriges Passwort').focus();
    await page.keyboard.type(mara.password);
    await page.getByLabel('Aktueller Code aus der App').focus();
    await page.keyboard.type(currentTotp(newSecret));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Ihre Wiederherstellungscodes' }).waitFor();
    const codes = (await page.getByRole('list', { name: 'Wiederherstellungscodes' }).getByRole('listitem').allTextContents()).map((c) => c.trim());
    t.is(codes.length, 10);
    a11y.recovery = seriousViolations(await axeViolations(page));

    // The download: a .txt made in the browser, in German, with every code.
    const [download] = await Promise.all([page.waitForEvent('download'), press(page, page.getByRole('link', { name: 'Als Textdatei herunterladen' }))]);
    t.is(download.suggestedFilename(), `praxiskern-wiederherstellungscodes-${mara.username}.txt`);
    const file = readFileSync((await download.path())!, 'utf8');
    t.true(file.startsWith('Praxiskern – Wiederherstellungscodes'));
    t.true(file.includes(`Konto: ${mara.username}`));
    t.true(file.includes('Jeder Code gilt genau einmal'));
    for (const c of codes) t.true(file.includes(c), c);

    // The print view: only the sheet, with its German heading; the rest of the page is not printed.
    await page.emulateMedia({ media: 'print' });
    await page.getByText('Praxiskern – Wiederherstellungscodes').waitFor({ state: 'visible' });
    t.true(await page.getByText(`Konto: ${mara.username}`).isVisible());
    t.false(await page.getByRole('button', { name: 'Drucken' }).isVisible(), 'buttons stay off the paper');
    t.false(await page.getByText('Ich habe die Wiederherstellungscodes sicher gespeichert.').isVisible());
    t.true(await page.getByRole('list', { name: 'Wiederherstellungscodes' }).isVisible());
    const pdf = await page.pdf({ format: 'A4' });
    t.true(pdf.length > 1000, 'Chromium renders the print view');
    await page.emulateMedia({ media: 'screen' });
    t.false(await page.getByText('Praxiskern – Wiederherstellungscodes').isVisible(), 'the sheet heading is for paper only');

    await page.getByLabel('Ich habe die Wiederherstellungscodes sicher gespeichert.').focus();
    await page.keyboard.press('Space');
    await press(page, page.getByRole('button', { name: 'Weiter zu Praxiskern' }));
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).waitFor();
  }, t.log);

  // A fresh browser: sign in with the new authenticator, keyboard only.
  const later = await observedPage(browser, app.url);
  await screenshotOnFailure(later.page, 'users-login', async () => {
    const page = later.page;
    await page.goto('/login');
    await page.getByLabel('Benutzername').focus();
    await page.keyboard.type(mara.username);
    await page.getByLabel('Passwort', { exact: true }).focus();
    await page.keyboard.type(mara.password);
    await page.keyboard.press('Enter');
    // The second step takes the focus itself: the code is typed straight away.
    await page.getByLabel('Code aus der Authenticator-App').waitFor();
    t.true(await page.getByLabel('Code aus der Authenticator-App').evaluate((el) => el === el.ownerDocument.activeElement), 'the code field has the focus');
    await page.keyboard.type(currentTotp(newSecret, 1));
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).waitFor();
    const session = (await page.evaluate(() => fetch('/api/v1/session').then((r) => r.json()))) as { user: { username: string } };
    t.is(session.user.username, mara.username);

    // Own account: a wrong current password is named at its field; axe on the page.
    await openAccountMenu(page);
    await press(page, page.getByRole('link', { name: 'Mein Konto' }));
    await page.getByRole('heading', { level: 1, name: 'Mein Konto' }).waitFor();
    await page.getByLabel('Aktuelles Passwort').fill('not my password');
    await page.getByLabel('Neues Passwort', { exact: true }).fill('maras neues langes passwort');
    await page.getByLabel('Neues Passwort wiederholen').fill('maras neues langes passwort');
    await page.keyboard.press('Enter');
    await page.locator('#currentPassword[aria-invalid="true"]').waitFor();
    a11y.account = seriousViolations(await axeViolations(page));
    await page.getByLabel('Aktuelles Passwort').fill(mara.password);
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText(/Ihr Passwort wurde geändert/).waitFor();
  }, t.log);

  // The audit page: translated actions, names instead of UUIDs, a server-side filter.
  await screenshotOnFailure(adminView.page, 'users-audit', async () => {
    const page = adminView.page;
    await page.goto('/admin/audit');
    const table = page.getByRole('table', { name: 'Protokoll' });
    const resetRow = table.getByRole('row').filter({ hasText: 'Zugang zurückgesetzt' }).first();
    await resetRow.waitFor();
    t.true(((await resetRow.textContent()) ?? '').includes(`${ADMIN.adminDisplayName} (${ADMIN.adminUsername})`), 'the actor by name');
    t.true(((await resetRow.textContent()) ?? '').includes('Mara Schulz'), 'the user the entry is about, by name');
    t.false(((await table.textContent()) ?? '').includes(mara.id), 'no UUIDs of known users');
    await page.getByLabel('Aktion').selectOption({ label: 'Eigenes Passwort geändert' });
    await page.getByLabel('Person').selectOption({ label: `Mara Schulz (${mara.username})` });
    await press(page, page.getByRole('button', { name: 'Filtern' }));
    // The server answers with the filtered page: every other action leaves the table.
    await table.locator('tbody tr').filter({ hasNotText: 'Eigenes Passwort geändert' }).first().waitFor({ state: 'detached' });
    const actions = await table.locator('tbody tr td:nth-child(2)').allTextContents();
    t.deepEqual([...new Set(actions.map((a) => a.trim()))], ['Eigenes Passwort geändert'], 'only the chosen action');
    t.is(actions.length, 2, 'the failed and the successful change');
    a11y.audit = seriousViolations(await axeViolations(page));
  }, t.log);

  for (const [name, violations] of Object.entries(a11y)) t.deepEqual(violations, [], `axe on ${name}`);
});
