// The Chromium flow against the real server (build first: `npm run build`), the worker and
// the fake WhatsApp Cloud API on loopback: an appointment is booked → its reminder reaches the fake
// WhatsApp → the patient's reply (a signed inbound webhook) appears in the shared inbox with an
// unread count → staff open it, assign it to themselves, answer as free text → the answer reaches
// the fake WhatsApp; the conversation is marked done. Then (after it, serial: the first flow counts
// the inbox rows) an inbound image shows inline and a voice message plays. German and English; axe-core on every state.
import test from 'ava';
import type { Browser } from 'playwright-core';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { inboundEvent, postWebhook } from '../helpers/fake-whatsapp.ts';
import { clientAs, pngWithMetadata } from '../integration/patients-fixtures.ts';
import { enableChannels, newPatient, PHONE_NUMBER_ID, startMessagingEnv, waitFor, type MessagingEnv } from '../integration/messaging-fixtures.ts';

let env: MessagingEnv;
let browser: Browser;
const api = '/api/v1/appointments';

test.before(async () => {
  env = await startMessagingEnv();
  await enableChannels(env.admin);
  for (const purpose of ['appointment_confirmation', 'appointment_reminder']) {
    const r = await env.admin.put('/api/v1/messaging/templates', { purpose, language: 'de',
      body: `${purpose}: {{appointmentDate}} {{appointmentTime}}`, whatsappTemplate: { name: purpose, languageCode: 'de', parameters: ['appointmentDate', 'appointmentTime'] } });
    if (r.status !== 200) throw new Error(r.text);
  }
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await env?.stop();
});

test.serial('booked appointment → reminder on WhatsApp → the patient\'s reply in the inbox → staff answer reaches WhatsApp', async (t) => {
  const staff = await clientAs(env.app, env.organizationId, ['staff']);
  const colleague = await clientAs(env.app, env.organizationId, ['doctor']);
  await clientAs(env.app, env.organizationId, ['finance']); // may not read the inbox: never offered
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const waId = p.whatsapp.replace('+', '');

  // Booking: a follow-up type reminding 15 minutes before, the appointment 15 min + 4 s from now.
  const types = (await env.admin.get(`${api}/settings`)).body.types as { id: string; key: string }[];
  const followUp = types.find((x) => x.key === 'follow_up')!;
  t.is((await env.admin.patch(`${api}/types/${followUp.id}`, { reminderOffsetsMinutes: [15] })).status, 200);
  const doctor = await env.admin.post(`${api}/resources`, { kind: 'practitioner', name: 'Dr. Posteingang' });
  const start = new Date(Math.ceil((Date.now() + 15 * 60_000 + 4000) / 1000) * 1000).toISOString();
  const booked = await staff.post(api, { patientId: p.id, typeId: followUp.id, practitionerId: doctor.body.resource.id, start, durationMinutes: 20 });
  t.is(booked.status, 201, booked.text);
  const reminder = await env.owner('outbox_messages').where({ dedup_key: `appointment:${booked.body.appointment.id}:reminder:15m` }).first();
  const started = Date.now();
  const [sent] = await waitFor('reminder on WhatsApp', () => { const r = env.fake.requests.filter((x) => x.body.biz_opaque_callback_data === reminder.id); return r.length ? r : undefined; });
  t.log(`reminder reached the fake WhatsApp ${Date.now() - started} ms after booking`);
  t.is(sent.body.type, 'template');
  t.is(sent.body.template.name, 'appointment_reminder');
  t.is(sent.body.to, waId);

  // The patient answers (signed inbound webhook).
  const event = inboundEvent(PHONE_NUMBER_ID, { id: `wamid.flow${Date.now()}`, from: waId, text: 'Danke! Kann ich 10 Minuten später kommen?' });
  t.is((await postWebhook(env.app.url, event, env.appSecret)).status, 200);

  const o = await observedPage(browser, env.app.url);
  const { page } = o;
  await o.context.addCookies([
    { name: 'pk_session', value: staff.cookies.get('pk_session')!, url: env.app.url },
    { name: 'pk_csrf', value: staff.cookies.get('pk_csrf')!, url: env.app.url },
  ]);
  const a11y: Record<string, string[]> = {};
  await screenshotOnFailure(page, 'messaging-flow', async () => {
    await page.goto('/');
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Posteingang' }).click();
    await page.getByRole('heading', { level: 1, name: 'Posteingang' }).waitFor();
    const table = page.getByRole('table', { name: 'Posteingang' });
    const row = table.getByRole('row').filter({ hasText: 'Zyrella' });
    await waitFor('the reply in the inbox', async () => {
      if (await row.count()) return true;
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Posteingang' }).waitFor();
      return false;
    });
    await row.getByText('1 ungelesen').waitFor();
    a11y.inbox = seriousViolations(await axeViolations(page));

    // Keyboard: focus the conversation link and open it with Enter.
    await row.getByRole('link').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: /Unterhaltung mit Zyrella/ }).waitFor();
    const list = page.getByRole('list', { name: /Unterhaltung mit/ });
    await list.getByText('Danke! Kann ich 10 Minuten später kommen?').waitFor();
    const items = await list.getByRole('listitem').allTextContents();
    t.is(items.length, 3, 'the confirmation, the reminder and the reply, in order');
    t.regex(items[0], /Ausgehend.*Terminbestätigung/s);
    t.regex(items[1], /Ausgehend.*Terminerinnerung/s);
    t.regex(items[2], /Eingehend.*10 Minuten später/s);
    await page.getByText(/Antwortfenster offen bis/).waitFor();
    await page.getByRole('button', { name: 'Mir zuweisen' }).click();
    await page.getByText('Ihnen zugewiesen').waitFor();
    a11y.conversation = seriousViolations(await axeViolations(page));

    // An empty answer is refused next to its field; then the answer goes out.
    await page.getByRole('button', { name: 'Senden' }).click();
    await waitFor('field error', async () => (await page.getByLabel('Nachricht').getAttribute('aria-invalid')) === 'true');
    a11y.error = seriousViolations(await axeViolations(page));
    await page.getByLabel('Nachricht').fill('Ja, gerne. Bis später!');
    await page.getByRole('button', { name: 'Senden' }).click();
    await page.getByText('Die Antwort ist in der Warteschlange.').waitFor();
    const [answer] = await waitFor('answer on WhatsApp', () => { const r = env.fake.requests.filter((x) => x.body.type === 'text' && x.body.to === waId); return r.length ? r : undefined; });
    t.is(answer.body.text.body, 'Ja, gerne. Bis später!');
    await list.getByText('Ja, gerne. Bis später!').waitFor();

    await page.getByRole('button', { name: 'Als erledigt markieren' }).click();
    await page.getByRole('button', { name: 'Wieder öffnen' }).waitFor();
    const state = await env.owner('conversations').where({ patient_id: p.id }).first();
    t.is(state.assigned_to, staff.userId);
    t.truthy(state.done_at);

    await page.getByRole('group', { name: 'Sprache' }).getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: /Conversation with Zyrella/ }).waitFor();
    await page.getByText('Assigned to you').waitFor();
    await page.getByLabel('Assign to').waitFor();
    a11y.english = seriousViolations(await axeViolations(page));
    await page.getByRole('link', { name: 'Back to the inbox' }).click();
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    await page.getByText('No conversations.').waitFor();
    await page.getByLabel('Show').selectOption('done');
    await page.getByRole('table', { name: 'Inbox' }).getByRole('row').filter({ hasText: 'Zyrella' }).waitFor();
    a11y.done = seriousViolations(await axeViolations(page));
    await page.getByRole('group', { name: 'Language' }).getByRole('button', { name: 'Deutsch' }).click();

    // An unknown number writes: a prospect (Interessent) in the inbox; staff create the patient from it.
    const prospectEvent = inboundEvent(PHONE_NUMBER_ID, { id: `wamid.prospect${Date.now()}`, from: '4917655544433', name: 'Nora Neukunde', text: 'Haben Sie noch Termine frei?' });
    t.is((await postWebhook(env.app.url, prospectEvent, env.appSecret)).status, 200);
    await page.getByLabel('Anzeigen').selectOption('open');
    const prospectRow = page.getByRole('table', { name: 'Posteingang' }).getByRole('row').filter({ hasText: 'Nora Neukunde' });
    await waitFor('the prospect in the inbox', async () => {
      if (await prospectRow.count()) return true;
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Posteingang' }).waitFor();
      return false;
    });
    t.regex((await prospectRow.textContent()) ?? '', /Interessent\/in/);
    await prospectRow.getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'Unterhaltung mit Nora Neukunde' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Als Patient/in anlegen' }).waitFor();
    a11y.prospect = seriousViolations(await axeViolations(page));
    await page.getByRole('button', { name: 'Patient/in anlegen' }).click();
    await waitFor('field errors', async () => (await page.locator('[aria-invalid="true"]').count()) > 0);
    await page.getByLabel('Vorname').fill('Nora');
    await page.getByLabel('Nachname').fill('Neukunde');
    await page.getByLabel('Geschlecht').selectOption('female');
    await page.getByLabel('Geburtsdatum').fill('1991-02-03');
    await page.getByRole('button', { name: 'Patient/in anlegen' }).click();
    await page.getByRole('link', { name: 'Patientenakte öffnen' }).waitFor();
    await page.getByRole('list', { name: /Unterhaltung mit Nora Neukunde/ }).getByText('Haben Sie noch Termine frei?').waitFor();
    const created = /inbox\/patients\/([0-9a-f-]{36})/.exec(page.url())?.[1];
    t.truthy(created, 'now the patient\'s conversation');
    t.is(Number((await env.owner('prospects').count({ n: '*' }))[0].n), 0);
    t.is(Number((await env.owner('inbound_messages').where({ patient_id: created }).count({ n: '*' }))[0].n), 1);

    // Handed to a colleague: the select lists the active staff members who may read the inbox.
    const options = await page.getByLabel('Zuweisen an').locator('option').allTextContents();
    t.true(options.includes('Test doctor') && options.includes('Test staff (Sie)'), options.join(', '));
    t.false(options.some((o) => /finance/.test(o)));
    await page.getByLabel('Zuweisen an').selectOption({ label: 'Test doctor' });
    await page.getByRole('button', { name: 'Zuweisen', exact: true }).click();
    await page.getByText('Zugewiesen an Test doctor').waitFor();
    a11y.assigned = seriousViolations(await axeViolations(page));
    t.is((await env.owner('conversations').where({ patient_id: created }).first()).assigned_to, colleague.userId);
  }, t.log);

  t.deepEqual(a11y, { inbox: [], conversation: [], error: [], english: [], done: [], prospect: [], assigned: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});

/** 0.5 s of a 440 Hz tone as 8 kHz 16-bit mono WAV: a file every Chromium decodes. */
function wav(): Buffer {
  const n = 4000;
  const pcm = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + pcm.length, 4); h.write('WAVE', 8); h.write('fmt ', 12);
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(8000, 24); h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([h, pcm]);
}

test.serial('an inbound image is shown inline and a voice message is playable in the conversation (DE/EN, axe)', async (t) => {
  const staff = await clientAs(env.app, env.organizationId, ['staff']);
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const waId = p.whatsapp.replace('+', '');
  env.fake.media.set('e2e-image', { data: pngWithMetadata('e2e'), mimeType: 'image/png' });
  env.fake.media.set('e2e-voice', { data: wav(), mimeType: 'audio/wav' });
  for (const [i, m] of ([['image', { id: 'e2e-image', mime_type: 'image/png', caption: 'Foto vom Verband' }], ['audio', { id: 'e2e-voice', mime_type: 'audio/wav', voice: true }]] as const).entries()) {
    t.is((await postWebhook(env.app.url, inboundEvent(PHONE_NUMBER_ID, { id: `wamid.e2emedia${Date.now()}${i}`, from: waId, type: m[0], media: m[1] }), env.appSecret)).status, 200);
  }
  await waitFor('media stored', async () => {
    const rows = await env.owner('inbound_messages').where({ patient_id: p.id });
    return rows.length === 2 && rows.every((r) => r.media_state === 'stored');
  });
  const o = await observedPage(browser, env.app.url);
  const { page } = o;
  await o.context.addCookies([
    { name: 'pk_session', value: staff.cookies.get('pk_session')!, url: env.app.url },
    { name: 'pk_csrf', value: staff.cookies.get('pk_csrf')!, url: env.app.url },
  ]);
  await screenshotOnFailure(page, 'messaging-media', async () => {
    await page.goto(`/inbox/patients/${p.id}`);
    await page.getByRole('heading', { level: 1, name: /Unterhaltung mit/ }).waitFor();
    const img = page.getByRole('img', { name: 'Bild aus der WhatsApp-Nachricht' });
    await img.waitFor();
    t.regex((await img.getAttribute('src')) ?? '', /^blob:/, 'the image comes from an authenticated blob: URL');
    await waitFor('the image decoded', () => img.evaluate((el) => (el as unknown as { complete: boolean; naturalWidth: number }).complete && (el as unknown as { naturalWidth: number }).naturalWidth > 0));
    const audio = page.getByLabel('Sprachnachricht', { exact: true });
    await audio.waitFor();
    t.true(await audio.evaluate((el) => el.tagName === 'AUDIO' && (el as unknown as { controls: boolean }).controls));
    await waitFor('the voice message playable', () => audio.evaluate((el) => (el as unknown as { readyState: number }).readyState >= 1 && (el as unknown as { duration: number }).duration > 0));
    t.log(`voice message duration in the player: ${await audio.evaluate((el) => (el as unknown as { duration: number }).duration)} s`);
    t.deepEqual(seriousViolations(await axeViolations(page)), []);
    await page.getByRole('group', { name: 'Sprache' }).getByRole('button', { name: 'English' }).click();
    await page.getByRole('img', { name: 'Image from the WhatsApp message' }).waitFor();
    await page.getByLabel('Voice message', { exact: true }).waitFor();
    t.deepEqual(seriousViolations(await axeViolations(page)), []);
    await page.getByRole('group', { name: 'Language' }).getByRole('button', { name: 'Deutsch' }).click();
  }, t.log);
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation (blob: images and audio allowed)');
  await o.context.close();
});
