// Master-data leftovers of issue 12 in headless Chromium (build first): the admin sets up the
// automatic patient numbering on its own page (a bad value named at its field, German and
// English, axe-clean); a patient created in the form gets the next number and the source channel
// chosen there (stored through PUT /patients/:id/source-channel), which the record shows and the
// edit form changes; the record warns when the preferred channel has no granted consent for its
// messaging purpose, and the warning goes once the consent is recorded.
import test from 'ava';
import type { Browser } from 'playwright-core';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { openAdminMenu } from './ui-steps.ts';

let app: TestApp;
let browser: Browser;
let setup: Awaited<ReturnType<typeof setupInstance>>;

test.before(async () => {
  app = await startTestApp();
  setup = await setupInstance(app);
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await app?.stop();
  await app?.db.drop();
});

test('patient numbering admin page, source channel in the patient form, consent hint for the preferred channel', async (t) => {
  const o = await observedPage(browser, app.url);
  const { page } = o;
  await o.context.addCookies([
    { name: 'pk_session', value: setup.client.cookies.get('pk_session')!, url: app.url },
    { name: 'pk_csrf', value: setup.client.cookies.get('pk_csrf')!, url: app.url },
  ]);
  const a11y: Record<string, string[]> = {};
  await screenshotOnFailure(page, 'master-polish', async () => {
    await page.goto('/');
    await (await openAdminMenu(page)).getByRole('link', { name: 'Patientennummern' }).click();
    await page.getByRole('heading', { level: 1, name: 'Patientennummern' }).waitFor();
    t.false(await page.getByLabel('Patientennummern automatisch vergeben').isChecked(), 'off by default');
    a11y.numbering = seriousViolations(await axeViolations(page));

    // A bad value is named at its field, nothing is stored.
    await page.getByLabel('Patientennummern automatisch vergeben').check();
    await page.getByLabel(/^Präfix/).fill('P');
    await page.getByLabel('Nächste Nummer').fill('42');
    await page.getByLabel(/^Stellen/).fill('12');
    await page.getByRole('button', { name: 'Nummerierung speichern' }).click();
    await page.locator('#numbering-digits-error').waitFor();
    t.false((await setup.client.get('/api/v1/patient-numbering')).body.enabled, 'nothing stored');
    a11y.numberingError = seriousViolations(await axeViolations(page));

    await page.getByLabel(/^Stellen/).fill('5');
    t.is(await page.getByTestId('numbering-example').textContent(), 'Nächste vergebene Nummer: P00042');
    await page.getByRole('button', { name: 'Nummerierung speichern' }).click();
    await page.getByText('Die Nummerierung ist gespeichert.').waitFor();
    t.deepEqual((await setup.client.get('/api/v1/patient-numbering')).body, { enabled: true, prefix: 'P', nextNumber: 42, digits: 5 });

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Patient numbers' }).waitFor();
    t.is(await page.getByTestId('numbering-example').textContent(), 'Next number given: P00042');
    a11y.numberingEnglish = seriousViolations(await axeViolations(page));
    await page.getByRole('button', { name: 'Deutsch' }).click();
    await page.getByRole('heading', { level: 1, name: 'Patientennummern' }).waitFor();

    // A new patient: WhatsApp preferred, came by referral.
    await page.goto('/patients/new');
    await page.getByLabel('Vorname').fill('Quendolin');
    await page.getByLabel('Nachname').fill('Herkunftsreich');
    await page.getByLabel('Geschlecht').selectOption('male');
    await page.getByLabel('Geburtsdatum').fill('02.05.1977');
    await page.getByLabel(/^WhatsApp/).fill('+49 171 5550999');
    await page.getByLabel(/^Bevorzugter Kontaktweg/).selectOption('whatsapp');
    await page.getByLabel(/^Herkunft/).selectOption('referral');
    a11y.newPatient = seriousViolations(await axeViolations(page));
    await page.getByRole('button', { name: 'Patient anlegen' }).click();
    await page.waitForURL(/\/patients\/[0-9a-f-]{36}/);
    const patientId = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByRole('tab', { name: 'Stammdaten' }).click();
    const master = page.locator('#master');
    await master.getByText('P00042').waitFor();
    t.is(await master.getByTestId('source-channel').textContent(), 'Empfehlung/Überweisung');
    t.deepEqual((await setup.client.get(`/api/v1/patients/${patientId}/source-channel`)).body, { sourceChannel: 'referral' });
    await master.getByTestId('channel-consent-missing').waitFor();
    t.regex((await master.getByTestId('channel-consent-missing').textContent()) ?? '', /keine Einwilligung erfasst/);
    a11y.record = seriousViolations(await axeViolations(page));

    // The edit form changes the source channel.
    await master.getByRole('button', { name: 'Bearbeiten' }).click();
    t.is(await page.getByLabel(/^Herkunft/).inputValue(), 'referral');
    await page.getByLabel(/^Herkunft/).selectOption('phone');
    await master.getByRole('button', { name: 'Speichern' }).click();
    await master.getByTestId('source-channel').getByText('Telefon').waitFor();
    t.deepEqual((await setup.client.get(`/api/v1/patients/${patientId}/source-channel`)).body, { sourceChannel: 'phone' });

    // With the WhatsApp consent granted the hint is gone.
    const granted = await setup.client.post(`/api/v1/patients/${patientId}/consents`, { purpose: 'whatsapp_contact', action: 'granted', textVersion: '2026-01', channel: 'paper' });
    t.is(granted.status, 201, granted.text);
    await page.reload();
    await master.getByTestId('source-channel').getByText('Telefon').waitFor();
    await master.getByText('P00042').waitFor();
    await master.locator('[data-consents="loaded"]').waitFor();
    t.is(await master.getByTestId('channel-consent-missing').count(), 0, 'no hint once the consent is there');
  }, t.log);
  t.deepEqual(a11y, { numbering: [], numberingError: [], numberingEnglish: [], newPatient: [], record: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), []);
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), []);
});
