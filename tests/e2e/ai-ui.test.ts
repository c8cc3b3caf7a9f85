// KI-Vorbereitung in headless Chromium against the real server and the real @anthropic-ai/sdk
// pointed at the fake Messages API (build first: `npm run build`): a doctor prepares a file, sees
// the draft beside its sources, accepts two suggestions (one edited) and rejects one; the record
// shows the two notes with the AI-assisted marker, the access log shows the disclosure. In the
// inbox, staff triage a message and copy the suggested reply into the reply box (nothing is sent).
// When Anthropic fails the panel says it is unavailable. axe-core on every state, no CSP violation.
import test from 'ava';
import type { Browser } from 'playwright-core';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { clientAs, ownerQuery, samplePatient } from '../integration/patients-fixtures.ts';
import { enableAi, grantAi, inboundText, must, startAiEnv, type AiEnv } from '../integration/ai-fixtures.ts';

let env: AiEnv;
let browser: Browser;

test.before(async () => {
  env = await startAiEnv();
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await env?.stop();
});

test('prepare a file → review: two accepted, one rejected → AI-assisted notes and the disclosure in the access log; triage in the inbox', async (t) => {
  const input = samplePatient({ givenName: 'Wiebke', familyName: 'Vorbereitungs' });
  const patient = (await must(env.admin.post('/api/v1/patients', { ...input, allowDuplicate: true }), 201)).patient;
  await must(env.admin.post(`/api/v1/patients/${patient.id}/anamnesis`, {
    answers: { smoker: true, blood_thinners: true, blood_thinner_name: 'Marcumar', hair_status: 'norwood_3', free_text: 'Frau Vorbereitungs nimmt Marcumar; Haarausfall seit drei Jahren.' },
  }), 201);
  await must(env.admin.post(`/api/v1/patients/${patient.id}/treatments`, { performedOn: '2025-01-10', type: 'PRP', description: 'Erste Sitzung, gut vertragen.' }), 201);
  await grantAi(env.admin, patient.id);
  const messageId = await inboundText(env.app, env.organizationId, patient.id, 'Guten Tag, ich bin Wiebke Vorbereitungs. Kann ich meinen Termin verschieben?');
  const doctor = await clientAs(env.app, env.organizationId, ['doctor']);
  const o = await observedPage(browser, env.app.url);
  const { page } = o;
  const as = (c: { cookies: Map<string, string> }) => o.context.addCookies([
    { name: 'pk_session', value: c.cookies.get('pk_session')!, url: env.app.url },
    { name: 'pk_csrf', value: c.cookies.get('pk_csrf')!, url: env.app.url },
  ]);
  const a11y: Record<string, string[]> = {};

  await screenshotOnFailure(page, 'ai-ui', async () => {
    // The administrator switches the AI on (off by default); a bad base URL is shown at its field.
    await as(env.admin as never);
    await page.goto('/admin/ai');
    await page.getByRole('heading', { level: 1, name: 'KI-Vorbereitung (Anthropic)' }).waitFor();
    t.false(await page.getByLabel('KI-Vorbereitung einschalten').isChecked());
    await page.getByText('Keine lesbare Schlüsseldatei.').waitFor();
    await page.getByLabel('KI-Vorbereitung einschalten').check();
    await page.getByLabel('Basis-URL (z. B. EU-Gateway)').fill('http://anthropic.example.org');
    await page.getByLabel('Schlüsseldatei').fill('anthropic.key');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.getByRole('alert').getByText('Bitte prüfen Sie die markierten Felder.').waitFor();
    t.is(await page.getByLabel('Basis-URL (z. B. EU-Gateway)').getAttribute('aria-invalid'), 'true');
    a11y.settingsError = seriousViolations(await axeViolations(page));
    await page.getByLabel('Basis-URL (z. B. EU-Gateway)').fill(env.fake.url);
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.getByText('KI-Einstellungen gespeichert.').waitFor();
    await page.getByText('Schlüsseldatei lesbar.').waitFor();
    a11y.settings = seriousViolations(await axeViolations(page));
    t.true((await must(env.admin.get('/api/v1/ai/settings'), 200)).enabled);

    await as(doctor);
    await page.goto(`/patients/${patient.id}#ai-preparation`);
    const panel = page.getByRole('region', { name: 'KI-Vorbereitung' });
    await panel.getByText('Noch kein Entwurf.').waitFor();
    a11y.empty = seriousViolations(await axeViolations(page));
    const sent = env.fake.requests.length;
    await panel.getByRole('button', { name: 'Akte vorbereiten' }).click();
    await panel.getByRole('heading', { name: /^Entwurf vom .* · Modell claude-sonnet-4-5$/ }).waitFor();
    t.is(env.fake.requests.length, sent + 1);
    t.false(env.fake.requests.at(-1)!.raw.includes('Vorbereitungs'), 'the name did not leave');
    // the draft beside its sources, in clear
    await panel.getByText('Frau Vorbereitungs nimmt Marcumar', { exact: false }).first().waitFor();
    await panel.getByText('Nimmt Blutverdünner (Marcumar) ein.', { exact: true }).first().waitFor();
    a11y.draft = seriousViolations(await axeViolations(page));

    await panel.getByRole('button', { name: /^Annehmen\s*: Diffuser Haarausfall seit einigen Monaten\.$/ }).click();
    await panel.getByText('In die Akte übernommen: Diffuser Haarausfall seit einigen Monaten.').waitFor();
    await panel.getByRole('button', { name: /^Text bearbeiten\s*: Nimmt Blutverdünner \(Marcumar\) ein\.$/ }).click();
    await panel.getByLabel('Text bearbeiten: Kontraindikation').fill('Marcumar: vor dem Eingriff mit dem Hausarzt klären.');
    await panel.getByRole('button', { name: /^Annehmen\s*: Nimmt Blutverdünner \(Marcumar\) ein\.$/ }).click();
    await panel.getByText('In die Akte übernommen: Marcumar: vor dem Eingriff mit dem Hausarzt klären.').waitFor();
    await panel.getByRole('button', { name: /^Ablehnen\s*: Seit wann genau besteht der Haarausfall\?$/ }).click();
    await panel.getByText('Abgelehnt: Seit wann genau besteht der Haarausfall?').waitFor();
    a11y.reviewed = seriousViolations(await axeViolations(page));

    await page.getByRole('tab', { name: 'Notizen' }).click();
    const notes = page.getByRole('region', { name: 'Notizen' });
    const items = notes.getByRole('listitem');
    await items.nth(1).waitFor();
    t.is(await items.count(), 2);
    for (const text of ['Diffuser Haarausfall seit einigen Monaten.', 'Marcumar: vor dem Eingriff mit dem Hausarzt klären.']) {
      const item = items.filter({ hasText: text });
      t.regex((await item.textContent()) ?? '', /KI-gestützt.*claude-sonnet-4-5.*ärztlich geprüft/s);
    }
    t.regex((await items.filter({ hasText: 'Hausarzt' }).textContent()) ?? '', /bearbeitet/);
    t.false(((await notes.textContent()) ?? '').includes('Seit wann genau'), 'the rejected item is not in the record');

    await page.getByRole('tab', { name: 'Zugriffsprotokoll' }).click();
    const access = page.getByRole('region', { name: 'Zugriffsprotokoll' });
    await access.getByRole('button', { name: 'Zugriffsprotokoll laden' }).click();
    await access.getByRole('cell', { name: 'An KI-Dienst übermittelt', exact: true }).first().waitFor();
    a11y.access = seriousViolations(await axeViolations(page));

    // Anthropic fails: the panel says so; the record keeps working.
    await enableAi(env.admin, env.fake.url, { maxRetries: 0 });
    env.fake.defaultMode = '529';
    await page.getByRole('tab', { name: 'KI-Vorbereitung' }).click();
    await panel.getByRole('button', { name: 'Akte vorbereiten' }).click();
    await panel.getByRole('alert').getByText('Anthropic ist gerade nicht erreichbar', { exact: false }).waitFor();
    a11y.unavailable = seriousViolations(await axeViolations(page));
    env.fake.defaultMode = 'ok';
    await enableAi(env.admin, env.fake.url);

    // Triage in the inbox: copy the suggestion into the reply box; nothing is sent.
    const staff = await clientAs(env.app, env.organizationId, ['staff']);
    await as(staff);
    await page.goto(`/inbox/patients/${patient.id}`);
    await page.getByRole('button', { name: 'Triage (KI)' }).click();
    const result = page.getByRole('group', { name: 'KI-Triage' });
    await result.getByText('Termin', { exact: true }).waitFor();
    await result.getByText('normal', { exact: true }).waitFor();
    a11y.triage = seriousViolations(await axeViolations(page));
    await result.getByRole('button', { name: 'In das Antwortfeld übernehmen' }).click();
    const reply = await page.getByLabel('Nachricht').inputValue();
    t.regex(reply, /^Guten Tag (Wiebke|Vorbereitungs), vielen Dank/, 'de-tokenised locally');
    t.is((await ownerQuery<{ n: number }>(env.app.db.ownerUrl, 'select count(*)::int as n from outbox_messages where patient_id = ?', [patient.id]))[0].n, 0, 'nothing was sent');
    void messageId;
  }, t.log);

  const [{ n }] = await ownerQuery<{ n: number }>(env.app.db.ownerUrl, "select count(*)::int as n from record_entries where patient_id = ? and kind = 'note'", [patient.id]);
  t.is(n, 2);
  t.deepEqual(a11y, { settingsError: [], settings: [], empty: [], draft: [], reviewed: [], access: [], unavailable: [], triage: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
