// The messaging settings and the outbox in headless Chromium against the real server (build first:
// `npm run build`): the admin switches WhatsApp on (a bad number is refused next to its field),
// sees what each channel sends where, edits a template (an unknown variable is refused), and reads
// a blocked message with its reason in the outbox and in the patient's record, in German and
// English. axe-core on every state.
import test from 'ava';
import type { Browser } from 'playwright-core';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { clientAs } from '../integration/patients-fixtures.ts';
import { newPatient, startMessagingEnv, waitFor, type MessagingEnv } from '../integration/messaging-fixtures.ts';

let env: MessagingEnv;
let browser: Browser;

test.before(async () => {
  env = await startMessagingEnv();
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await env?.stop();
});

test('the admin sets up WhatsApp, edits a template and sees a blocked message with its reason', async (t) => {
  const admin = await clientAs(env.app, env.organizationId, ['admin']);
  const o = await observedPage(browser, env.app.url);
  const { page } = o;
  await o.context.addCookies([
    { name: 'pk_session', value: admin.cookies.get('pk_session')!, url: env.app.url },
    { name: 'pk_csrf', value: admin.cookies.get('pk_csrf')!, url: env.app.url },
  ]);
  const a11y: Record<string, string[]> = {};

  await screenshotOnFailure(page, 'messaging-ui', async () => {
    await page.goto('/admin/messaging');
    await page.getByRole('heading', { level: 1, name: 'Nachrichten' }).waitFor();
    const where = page.getByRole('table', { name: 'Was wohin geht' });
    await where.waitFor();
    t.is(await where.getByRole('cell', { name: 'ausgeschaltet', exact: true }).count(), 2, 'both channels off by default');
    a11y.page = seriousViolations(await axeViolations(page));

    await page.getByLabel('WhatsApp-Versand einschalten').check();
    await page.getByLabel('Telefonnummern-ID (WhatsApp Manager)').fill('1029384756');
    await page.getByLabel(/WhatsApp-Nummer der Praxis/).fill('+49 12');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.getByRole('alert').getByText('Bitte prüfen Sie die markierten Felder.').waitFor();
    t.is(await page.getByLabel(/WhatsApp-Nummer der Praxis/).getAttribute('aria-invalid'), 'true');
    a11y.error = seriousViolations(await axeViolations(page));

    await page.getByLabel(/WhatsApp-Nummer der Praxis/).fill('030 1234567');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.getByText('Die Kanäle wurden gespeichert.').waitFor();
    await where.getByRole('cell', { name: 'eingeschaltet', exact: true }).waitFor();
    await where.getByText(/graph|127\.0\.0\.1/).first().waitFor();
    const saved = await env.owner('messaging_channels').where({ organization_id: env.organizationId }).first();
    t.true(saved.whatsapp_enabled);
    t.is(saved.whatsapp_display_number, '+49301234567');

    await page.getByRole('button', { name: 'Bearbeiten: Terminerinnerung (Deutsch)' }).click();
    await page.getByLabel('Text', { exact: true }).fill('Hallo {{vorname}}, Ihr Termin am {{appointmentDate}}.');
    await page.getByRole('button', { name: 'Speichern' }).last().click();
    await page.getByText('Diese Variable gibt es nicht.').waitFor();
    a11y.template = seriousViolations(await axeViolations(page));
    await page.getByLabel('Text', { exact: true }).fill('Hallo {{firstName}}, Ihr Termin am {{appointmentDate}}.');
    await page.getByLabel('Name der freigegebenen WhatsApp-Vorlage').fill('termin_erinnerung');
    await page.getByLabel(/Variablen für die Platzhalter/).fill('firstName, appointmentDate');
    await page.getByRole('button', { name: 'Speichern' }).last().click();
    await page.getByText('Die Vorlage wurde gespeichert.').waitFor();
    await page.getByRole('cell', { name: 'termin_erinnerung (de)' }).waitFor();

    // A message to a patient without consent is blocked; the outbox says why.
    const p = await newPatient(admin, []);
    const res = await admin.post(`/api/v1/patients/${p.id}/messages`, { purpose: 'appointment_reminder', channel: 'whatsapp', variables: { appointmentDate: '03.12.2026' } });
    t.is(res.body.message.blockedReason, 'no_consent');
    await page.getByRole('link', { name: 'Zum Postausgang' }).click();
    await page.getByRole('heading', { level: 1, name: 'Postausgang' }).waitFor();
    const outbox = page.getByRole('table', { name: 'Postausgang' });
    const row = outbox.getByRole('row').filter({ hasText: 'keine Einwilligung für den Kanal' });
    await row.waitFor();
    t.regex((await row.textContent()) ?? '', /Terminerinnerung.*WhatsApp.*gesperrt/);
    a11y.outbox = seriousViolations(await axeViolations(page));

    // The same reason in the patient's record.
    await row.getByRole('link', { name: 'Akte öffnen' }).click();
    await page.getByRole('tab', { name: 'Nachrichten' }).click();
    await page.getByRole('button', { name: 'Nachrichten laden' }).click();
    const messages = page.getByRole('table', { name: 'Nachrichten' });
    await messages.getByRole('row').filter({ hasText: 'keine Einwilligung für den Kanal' }).waitFor();
    // Staff send a document request from the record: blocked too, and the form says why.
    await page.getByLabel('Anlass').selectOption('document_request');
    await page.getByLabel('Unterlagen').fill('Befund vom Hausarzt');
    await page.getByRole('button', { name: 'In den Postausgang legen' }).click();
    await page.getByRole('alert').getByText('Die Nachricht wurde nicht gesendet: keine Einwilligung für den Kanal.').waitFor();
    await messages.getByRole('row').filter({ hasText: 'Unterlagen anfordern' }).waitFor();
    const sent = await env.owner('outbox_messages').where({ patient_id: p.id, purpose: 'document_request' }).first();
    t.is(sent.blocked_reason, 'no_consent');
    a11y.record = seriousViolations(await axeViolations(page));
    await page.goto('/admin/messaging/outbox');
    await page.getByRole('heading', { level: 1, name: 'Postausgang' }).waitFor();

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Outbox' }).waitFor();
    await page.getByRole('table', { name: 'Outbox' }).getByRole('row').filter({ hasText: 'no consent for the channel' }).first().waitFor();
    await page.getByLabel('State').selectOption('sent');
    await waitFor('filtered', async () => (await page.getByText('No messages.').count()) === 1);
    a11y.english = seriousViolations(await axeViolations(page));
  }, t.log);

  t.deepEqual(a11y, { page: [], error: [], template: [], outbox: [], record: [], english: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
