// The diagnoses boundary in headless Chromium against the real server (build first: `npm run
// build`): a patient has a diagnosis (written by a doctor). A coordinator opens the record: no
// "Diagnosen" tab, the timeline's type filter offers no diagnoses and shows none, the quick entry
// offers no diagnosis, and the print view of the record summary says "not visible for your role"
// — the diagnosis text appears nowhere on these pages. A doctor sees the tab
// and the diagnosis in the print view (the check can fail). axe-core, no CSP violation, no uncaught error.
import test from 'ava';
import type { Browser } from 'playwright-core';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { clientAs, samplePatient } from '../integration/patients-fixtures.ts';

const DX = { code: 'Q84.0', text: 'Atrichia congenita Oberflächenprobe' };
let app: TestApp;
let browser: Browser;
let organizationId: string;

test.before(async () => {
  app = await startTestApp();
  ({ organizationId } = await setupInstance(app));
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await app?.stop();
  await app?.db.drop();
});

async function pageAs(roles: ['coordinator'] | ['doctor']) {
  const c = await clientAs(app, organizationId, roles);
  const o = await observedPage(browser, app.url);
  await o.context.addCookies([
    { name: 'pk_session', value: c.cookies.get('pk_session')!, url: app.url },
    { name: 'pk_csrf', value: c.cookies.get('pk_csrf')!, url: app.url },
  ]);
  return o;
}

test('a coordinator sees the record without diagnoses: no tab, no timeline line or filter, the print view says not visible; a doctor sees them', async (t) => {
  const doctor = await clientAs(app, organizationId, ['doctor']);
  const patient = (await doctor.post('/api/v1/patients', { ...samplePatient({ givenName: 'Dora', familyName: 'Diagnosefrei' }), allowDuplicate: true })).body.patient;
  t.is((await doctor.post(`/api/v1/patients/${patient.id}/diagnoses`, { code: DX.code, text: DX.text })).status, 201);
  t.is((await doctor.post(`/api/v1/patients/${patient.id}/notes`, { category: 'note', text: 'Rückruf wegen Anreise' })).status, 201);

  const o = await pageAs(['coordinator']);
  const { page } = o;
  const a11y: Record<string, string[]> = {};
  await screenshotOnFailure(page, 'coordinator-diagnoses-ui', async () => {
    await page.goto(`/patients/${patient.id}`);
    const tabs = page.getByRole('tablist');
    await tabs.getByRole('tab', { name: 'Karteikarte' }).waitFor();
    await page.getByText('Rückruf wegen Anreise').waitFor();
    t.is(await tabs.getByRole('tab', { name: 'Diagnosen' }).count(), 0, 'no diagnoses tab');
    t.true(await tabs.getByRole('tab', { name: 'Behandlungspläne' }).isVisible(), 'the other record tabs stay');
    t.is(await page.getByRole('checkbox', { name: 'Diagnose' }).count(), 0, 'the timeline filter offers no diagnoses');
    t.is(await page.locator('#quick-kind option[value="diagnosis"]').count(), 0, 'the quick entry offers no diagnosis');
    t.false((await page.content()).includes(DX.text));
    a11y.record = seriousViolations(await axeViolations(page));

    await page.goto(`/patients/${patient.id}/print`);
    await page.getByText('Diagnosen sind für Ihre Rolle nicht sichtbar.').waitFor();
    t.false((await page.content()).includes(DX.text));
    t.false((await page.content()).includes(DX.code));
    a11y.print = seriousViolations(await axeViolations(page));
  }, t.log);
  await o.context.close();

  const d = await pageAs(['doctor']);
  await screenshotOnFailure(d.page, 'coordinator-diagnoses-ui-doctor', async () => {
    await d.page.goto(`/patients/${patient.id}/print`);
    await d.page.getByText(DX.text).waitFor();
    t.is(await d.page.getByText('Diagnosen sind für Ihre Rolle nicht sichtbar.').count(), 0);
    await d.page.goto(`/patients/${patient.id}`);
    await d.page.getByRole('tablist').getByRole('tab', { name: 'Diagnosen' }).waitFor();
  }, t.log);
  await d.context.close();

  t.deepEqual(a11y, { record: [], print: [] }, 'no serious or critical axe-core violations');
  t.deepEqual([...o.cspViolations(), ...d.cspViolations()], [], 'no Content-Security-Policy violation');
  t.deepEqual([...o.console, ...d.console].filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
});
