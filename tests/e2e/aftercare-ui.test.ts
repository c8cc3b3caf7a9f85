// Aftercare plans in headless Chromium against the real server (build first: `npm run build`):
// the administrator creates a template (a step without message or appointment is refused at its
// field), staff apply it to the patient's treatment plan with an anchor date typed in German, skip
// a step, see the due follow-up in today's list, read the record in English and cancel the plan.
// axe-core on every state, no CSP violation, no uncaught error.
import test from 'ava';
import type { Browser } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import { signedInPage, useSetUpInstance } from './ui-steps.ts';
import { axeViolations, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { clientAs, samplePatient } from '../integration/patients-fixtures.ts';
import { berlinDay } from '../helpers/days.ts';

let app: TestApp;
let browser: Browser;
let organizationId: string;

useSetUpInstance(test, (env) => ({ app, browser, organizationId } = env));

const german = (iso: string) => iso.split('-').reverse().join('.');

test('an aftercare template is created and applied to a patient\'s treatment plan; its follow-up shows in today\'s list', async (t) => {
  const admin = await clientAs(app, organizationId, ['admin']);
  const patient = (await admin.post('/api/v1/patients', { ...samplePatient({ givenName: 'Nora', familyName: 'Nachsorgia' }), allowDuplicate: true })).body.patient;
  t.is((await admin.post(`/api/v1/patients/${patient.id}/plans`, { title: 'Eingriff am Knie', steps: [] })).status, 201);
  const o = await signedInPage(browser, app.url, admin);
  const { page } = o;
  const a11y: Record<string, string[]> = {};
  const anchor = berlinDay(-7); // the day-7 follow-up is due today

  await screenshotOnFailure(page, 'aftercare-ui', async () => {
    await page.goto('/');
    await page.getByRole('link', { name: 'Nachsorgepläne' }).click();
    await page.getByRole('heading', { level: 1, name: 'Nachsorgepläne' }).waitFor();
    await page.getByText('Noch keine Vorlagen.').waitFor();
    await page.getByRole('button', { name: 'Neue Vorlage' }).click();
    await page.getByLabel('Name (Deutsch)').fill('Knie-Nachsorge');
    await page.getByLabel('Name (Englisch)').fill('Knee aftercare');
    const step1 = page.getByRole('group', { name: 'Schritt 1' });
    await step1.getByLabel('Tag nach dem Stichtag').fill('1');
    await step1.getByLabel('Titel (Deutsch)').fill('Wie geht es Ihnen?');
    await step1.getByLabel('Titel (Englisch)').fill('How are you?');
    await page.getByRole('button', { name: 'Schritt hinzufügen' }).click();
    const step2 = page.getByRole('group', { name: 'Schritt 2' });
    await step2.getByLabel('Tag nach dem Stichtag').fill('7');
    await step2.getByLabel('Titel (Deutsch)').fill('Kontrolltermin');
    await step2.getByLabel('Titel (Englisch)').fill('Check-up');
    await step2.getByLabel('Nachricht an die Patientin / den Patienten').uncheck();
    await page.getByRole('button', { name: 'Vorlage speichern' }).click();
    // neither a message nor an appointment: refused at the field
    await page.getByRole('alert').getByText('Bitte prüfen Sie die markierten Felder.').waitFor();
    t.is(await step2.getByLabel('Nachricht an die Patientin / den Patienten').getAttribute('aria-invalid'), 'true');
    a11y.templateError = seriousViolations(await axeViolations(page));
    await step2.getByLabel('Nachsorgetermin vereinbaren').check();
    await page.getByRole('button', { name: 'Vorlage speichern' }).click();
    await page.getByText('Vorlage „Knie-Nachsorge“ gespeichert.').waitFor();
    await page.getByRole('table', { name: 'Vorlagen' }).getByRole('cell', { name: 'Tag 1, Tag 7', exact: true }).waitFor();
    a11y.templates = seriousViolations(await axeViolations(page));

    await page.goto(`/patients/${patient.id}#aftercare`);
    const section = page.getByRole('region', { name: 'Nachsorge' });
    await section.getByText('Noch kein Nachsorgeplan.').waitFor();
    t.is(await section.getByLabel('Behandlungsplan').locator('option:checked').textContent(), 'Eingriff am Knie');
    await section.getByLabel('Stichtag').fill(german(anchor));
    await section.getByRole('button', { name: 'Plan anwenden' }).click();
    await section.getByText('Nachsorgeplan „Knie-Nachsorge“ angewendet.').waitFor();
    const steps = section.getByRole('table', { name: 'Schritte: Knie-Nachsorge' });
    const rows = steps.getByRole('row');
    await rows.filter({ hasText: 'Kontrolltermin' }).getByRole('cell', { name: 'offen', exact: true }).waitFor();
    t.regex((await rows.filter({ hasText: 'Wie geht es Ihnen?' }).textContent()) ?? '', /nicht gesendet/, 'day 1 has passed and no channel is on');
    const plans = (await admin.get(`/api/v1/patients/${patient.id}/aftercare`)).body.plans;
    t.is(plans.length, 1);
    t.is(plans[0].anchorDate, anchor);
    t.deepEqual(plans[0].steps.map((s: { dueDate: string }) => s.dueDate), [berlinDay(-6), berlinDay(0)]);
    a11y.record = seriousViolations(await axeViolations(page));

    await section.getByRole('button', { name: /^Überspringen\s*: Wie geht es Ihnen\?$/ }).click();
    await section.getByText('„Wie geht es Ihnen?“ übersprungen.').waitFor();
    await rows.filter({ hasText: 'Wie geht es Ihnen?' }).getByRole('cell', { name: 'übersprungen', exact: true }).waitFor();

    await page.goto('/appointments/today');
    const tasks = page.getByRole('table', { name: 'Nachsorgetermine zu vereinbaren' });
    await tasks.getByRole('row').filter({ hasText: 'Nachsorgia, Nora' }).filter({ hasText: 'Kontrolltermin' }).waitFor();
    a11y.today = seriousViolations(await axeViolations(page));
    await tasks.getByRole('link', { name: 'Nachsorgia, Nora' }).click();

    await page.getByRole('button', { name: 'English' }).click();
    const en = page.getByRole('region', { name: 'Aftercare' });
    await en.getByRole('table', { name: 'Steps: Knee aftercare' }).getByRole('row').filter({ hasText: 'Check-up' }).waitFor();
    a11y.english = seriousViolations(await axeViolations(page));
    await en.getByRole('button', { name: 'Cancel plan “Knee aftercare”' }).click();
    await en.getByText('Plan “Knee aftercare” cancelled; messages not yet sent will not go out.').waitFor();
    await en.getByRole('row').filter({ hasText: 'Check-up' }).getByRole('cell', { name: 'cancelled', exact: true }).waitFor();
    t.is((await admin.get('/api/v1/aftercare/tasks')).body.tasks.length, 0, 'no task left');
  }, t.log);

  t.deepEqual(a11y, { templateError: [], templates: [], record: [], today: [], english: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
