// After a restart the server is sealed: an administrator who signs in is sent to the unseal page
// (a wrong passphrase is refused in place), anyone else learns that an administrator must unseal.
import anyTest, { type TestFn } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { ADMIN, currentTotp, setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { enroll } from '../integration/auth-fixtures.ts';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';

interface Account {
  username: string;
  password: string;
  totpSecret: string;
}

const test = anyTest as TestFn<{ app: TestApp; browser: Browser; admin: Account; staff: Account }>;

test.before(async (t) => {
  const first = await startTestApp();
  const { client, totpSecret } = await setupInstance(first);
  const staff = { username: 'mfa.schulz', password: 'staff password for tests', totpSecret: '' };
  const created = await client.post('/api/v1/users', { username: staff.username, displayName: 'Maria Schulz', roles: ['staff'] });
  if (created.status !== 201) throw new Error(`creating the staff account failed: ${created.status} ${created.text}`);
  staff.totpSecret = (await enroll(first.url, created.body.enrollment.url, staff.password)).totpSecret;
  await first.stop();
  // Same database and data directory: a restart, which leaves the key store sealed.
  const app = await startTestApp({}, { db: first.db, dataDir: first.dataDir });
  const admin = { username: ADMIN.adminUsername, password: ADMIN.adminPassword, totpSecret };
  t.context = { app, browser: await launchBrowser(), admin, staff };
});

test.after.always(async (t) => {
  await t.context.browser?.close();
  await t.context.app?.stop();
  await t.context.app?.db.drop();
});

async function signIn(page: Page, account: Account, totpOffset: number): Promise<void> {
  await page.goto('/');
  // The first page of a freshly restarted (sealed) server: the app asks for the session and the setup state before it
  // sends the browser to the login. Allowed a minute, as the suite's heaviest tests (the appliance's image bundles)
  // may run beside this one; the redirect itself is what is checked.
  await page.waitForURL('**/login', { timeout: 60_000 });
  await page.getByLabel('Benutzername').fill(account.username);
  await page.getByLabel('Passwort').fill(account.password);
  await page.getByRole('button', { name: 'Weiter' }).click();
  await page.getByLabel('Code aus der Authenticator-App').fill(currentTotp(account.totpSecret, totpOffset));
  await page.getByRole('button', { name: 'Anmelden' }).click();
}

test.serial('a staff member of a sealed server is told to ask an administrator', async (t) => {
  const { app, browser, staff } = t.context;
  t.true((await app.client().get('/api/v1/seal')).body.sealed, 'the restarted server starts sealed');
  const o = await observedPage(browser, app.url);
  await screenshotOnFailure(o.page, 'web-sealed', async () => {
    await signIn(o.page, staff, 0);
    await o.page.waitForURL('**/sealed');
    await o.page.getByRole('heading', { level: 1, name: 'Server versiegelt' }).waitFor();
    await o.page.getByText('Bitte wenden Sie sich an eine Administratorin oder einen Administrator').waitFor();
    await o.page.goto('/admin/users');
    await o.page.waitForURL('**/sealed');
  }, t.log);
  t.deepEqual(o.cspViolations(), []);
  await o.context.close();
});

test.serial('an administrator unseals the server from the browser after a restart', async (t) => {
  const { app, browser, admin } = t.context;
  const o = await observedPage(browser, app.url);
  const { page } = o;
  let a11y: string[] = [];
  await screenshotOnFailure(page, 'web-unseal', async () => {
    await signIn(page, admin, 1);
    await page.waitForURL('**/unseal');
    await page.getByRole('heading', { level: 1, name: 'Server entsperren' }).waitFor();
    a11y = seriousViolations(await axeViolations(page));

    const passphrase = page.getByLabel('Praxis-Passphrase');
    await passphrase.fill('not the practice passphrase');
    await page.getByRole('button', { name: 'Entsperren' }).click();
    await page.getByText('Die Passphrase ist falsch.').waitFor();
    t.is(await passphrase.getAttribute('aria-invalid'), 'true');
    t.regex((await passphrase.getAttribute('aria-describedby')) ?? '', /passphrase-error/);
    t.true((await app.client().get('/api/v1/seal')).body.sealed, 'still sealed after a wrong passphrase');

    await passphrase.fill(ADMIN.passphrase);
    await page.getByRole('button', { name: 'Entsperren' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByRole('heading', { level: 1, name: `Willkommen, ${ADMIN.adminDisplayName}` }).waitFor();
  }, t.log);
  t.false((await app.client().get('/api/v1/seal')).body.sealed, 'the server is unsealed');
  t.deepEqual(a11y, [], 'no serious or critical axe-core violations on the unseal page');
  t.deepEqual(o.cspViolations(), []);
  await o.context.close();
});
