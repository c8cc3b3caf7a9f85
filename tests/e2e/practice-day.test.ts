// "Today" is the practice's calendar day, not the browser's (build first: `npm run build`). The
// practice's time zone is set to Pacific/Kiritimati (UTC+14) and Chromium runs in
// Pacific/Pago_Pago (UTC−11): 25 hours apart, so the two calendar days differ at every moment of
// the day (as Berlin and UTC do every night between midnight and 01:00/02:00). A patient turns 40
// on the practice's today: the patient list, the quick search and the record's header say 40 (the
// browser's day would say 39); the reports page's range ends on the practice's today; a new
// treatment is dated the practice's today (and the server accepts it); a note's time in the
// timeline is the practice's wall-clock time. The session answers the zone, so the web app never
// guesses it from the browser.
import test from 'ava';
import { screenshotOnFailure } from '../helpers/browser.ts';
import { addDays, dayIn } from '../helpers/days.ts';
import { clientAs, samplePatient } from '../integration/patients-fixtures.ts';
import { signedInPage, useSetUpInstance, type SetUpInstance } from './ui-steps.ts';

const PRACTICE = 'Pacific/Kiritimati';
const BROWSER = 'Pacific/Pago_Pago';
let env: SetUpInstance;
useSetUpInstance(test, (e) => (env = e));

const german = (day: string) => day.split('-').reverse().join('.');

test('in a browser 25 hours behind the practice, ages, the report range and a new entry\'s date follow the practice\'s day', async (t) => {
  const { app, browser, organizationId } = env;
  const admin = await clientAs(app, organizationId, ['admin', 'doctor']);
  const zone = await admin.put('/api/v1/appointments/settings/time-zone', { timeZone: PRACTICE });
  t.is(zone.status, 200, zone.text);
  const session = await admin.get('/api/v1/session');
  t.is(session.body.user.timeZone, PRACTICE, 'the session answers the practice\'s zone');

  const today = dayIn(PRACTICE);
  t.not(dayIn(BROWSER), today, 'the browser\'s calendar day is another one');
  const birthDate = `${Number(today.slice(0, 4)) - 40}${today.slice(4)}`;
  const patient = (await admin.post('/api/v1/patients', { ...samplePatient({ givenName: 'Tagesgrenze', familyName: 'Zeitzone', birthDate }), allowDuplicate: true })).body.patient;
  t.truthy(patient?.id);
  const note = await admin.post(`/api/v1/patients/${patient.id}/notes`, { category: 'note', text: 'Rückruf nach Mitternacht' });
  t.is(note.status, 201, note.text);
  const stamp = (zone: string) => new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short', timeZone: zone }).format(new Date(note.body.entry.createdAt));

  const { page, context } = await signedInPage(browser, app.url, admin, BROWSER);
  await screenshotOnFailure(page, 'practice-day', async () => {
    await page.goto('/patients');
    t.is(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), BROWSER, 'the browser runs in its own zone');
    // today's day in the practice
    if (today.slice(5) !== '02-29') {
      const row = page.getByRole('row').filter({ hasText: 'Zeitzone, Tagesgrenze' });
      await row.waitFor();
      t.regex((await row.textContent()) ?? '', /\(40 J\.\)/, 'the patient list counts the age on the practice\'s day');
    }

    await page.goto(`/patients/${patient.id}`);
    await page.getByRole('tab', { name: 'Karteikarte' }).waitFor();
    t.regex((await page.getByRole('region', { name: 'Patientenkopf' }).textContent()) ?? '', /\b40 Jahre\b/, 'the record header says 40');
    const line = page.getByRole('listitem').filter({ hasText: 'Rückruf nach Mitternacht' });
    await line.waitFor();
    const lineText = (await line.textContent()) ?? '';
    t.true(lineText.includes(stamp(PRACTICE)), `the timeline shows the time in the practice's zone (${stamp(PRACTICE)}): ${lineText}`);
    t.false(lineText.includes(stamp(BROWSER)), 'not in the browser\'s');

    await page.keyboard.press('/');
    await page.locator('#quick-search').fill('Zeitzone');
    const option = page.getByRole('option').filter({ hasText: 'Zeitzone' });
    await option.waitFor();
    t.regex((await option.textContent()) ?? '', /40 J\./, 'the quick search counts it the same way');
    await page.keyboard.press('Escape');

    await page.getByRole('tab', { name: 'Behandlungsverlauf' }).click();
    const treatments = page.locator('#treatments');
    await treatments.getByRole('button', { name: 'Eintrag hinzufügen' }).click();
    t.is(await treatments.getByLabel('Datum').inputValue(), german(today), 'a new treatment is dated the practice\'s today');
    await treatments.getByLabel('Art der Behandlung').fill('Kontrolle');
    await treatments.getByLabel('Beschreibung').fill('Kontrolle am Tag der Zeitzone');
    await treatments.getByRole('button', { name: 'Eintrag hinzufügen' }).click();
    await treatments.getByText('Kontrolle am Tag der Zeitzone').waitFor();
    const saved = (await admin.get(`/api/v1/patients/${patient.id}/record`)).body;
    t.deepEqual(saved.treatments?.map((e: { data: { performedOn: string } }) => e.data.performedOn), [today], 'the server took the practice\'s today (not "in the future")');

    await page.goto('/reports');
    await page.getByRole('heading', { level: 1, name: 'Auswertungen' }).waitFor();
    t.is(await page.locator('#report-to').inputValue(), german(today), 'the reports end on the practice\'s today');
    t.is(await page.locator('#report-from').inputValue(), german(addDays(today, -83)), 'and start 12 weeks before');
  }, t.log);
  await context.close();
});
