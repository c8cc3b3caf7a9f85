// Pure parts of messaging: templates and variables, backoff with jitter, webhook signatures,
// the Cloud API payloads, redaction of provider errors, the rate limiter.
import test from 'ava';
import { createHmac } from 'node:crypto';
import { languageFor, render, usesHealthData, variablesOf, defaultTemplate, MESSAGE_PURPOSES, LANGUAGES, isVariable } from '../../app/api/src/modules/messaging/message-templates.ts';
import { backoffMs, RateLimiter } from '../../app/api/src/modules/messaging/outbox.worker.ts';
import { validSignature } from '../../app/api/src/modules/messaging/webhook.routes.ts';
import { cloudApiBody, redact } from '../../app/api/src/modules/messaging/providers.repository.ts';
import { checkVariables } from '../../app/api/src/modules/messaging/outbox.service.ts';
import { AppError } from '../../app/api/src/core/errors.ts';

test('built-in templates exist for every purpose in German and English, use only known variables and no health data', (t) => {
  for (const p of MESSAGE_PURPOSES) {
    for (const l of LANGUAGES) {
      const d = defaultTemplate(p, l);
      t.true(d.body.length > 10 && d.subject.length > 3);
      t.true(variablesOf(d.body).every(isVariable), `${p}/${l}`);
      t.false(usesHealthData(variablesOf(d.body)), `${p}/${l} uses no health variable`);
    }
  }
});

test('render fills variables and never leaves a placeholder; language follows the patient', (t) => {
  t.is(render('Hallo {{firstName}}, {{ appointmentDate }} {{link}}', { firstName: 'Anna', appointmentDate: '3.12.' }), 'Hallo Anna, 3.12. ');
  t.deepEqual(variablesOf('{{a}} {{b}} {{a}}'), ['a', 'b']);
  t.is(languageFor('en-GB'), 'en');
  t.is(languageFor('de'), 'de');
  t.is(languageFor(undefined), 'de');
  t.is(languageFor('tr'), 'de');
});

test('unknown and server-filled variables are refused naming the variable', (t) => {
  const e = t.throws(() => checkVariables({ appointmentDate: 'x', diagnosis: 'y', firstName: 'z' }, 'body.'), { instanceOf: AppError }) as AppError;
  const fields = (e.details as { field: string; code: string }[]).map((d) => `${d.field}:${d.code}`);
  t.deepEqual(fields, ['body.variables.diagnosis:unknown_variable', 'body.variables.firstName:server_variable']);
});

test('backoff grows exponentially, is capped, and jitter stays within half the delay', (t) => {
  t.is(backoffMs(1, 1000, 60_000, () => 0), 500);
  t.is(backoffMs(1, 1000, 60_000, () => 1), 1000);
  t.is(backoffMs(4, 1000, 60_000, () => 1), 8000);
  t.is(backoffMs(30, 1000, 60_000, () => 1), 60_000);
  t.is(backoffMs(30, 1000, 60_000, () => 0), 30_000);
});

test('X-Hub-Signature-256: only the HMAC-SHA256 of the exact raw body with the app secret passes', (t) => {
  const raw = Buffer.from('{"entry":[]}');
  const good = `sha256=${createHmac('sha256', 's3cret').update(raw).digest('hex')}`;
  t.true(validSignature(good, raw, 's3cret'));
  t.true(validSignature(good.toUpperCase().replace('SHA256=', 'sha256='), raw, 's3cret'));
  t.false(validSignature(good, Buffer.from('{"entry": []}'), 's3cret'), 'a re-serialized body fails');
  t.false(validSignature(good, raw, 'other'));
  t.false(validSignature(undefined, raw, 's3cret'));
  t.false(validSignature('sha256=abc', raw, 's3cret'));
  t.false(validSignature(`sha1=${'0'.repeat(40)}`, raw, 's3cret'));
});

test('Cloud API payloads: text inside the window, approved template with parameters outside; our id as callback data', (t) => {
  const text = cloudApiBody('+491601234567', { type: 'text', text: 'Hallo' }, 'id-1');
  t.like(text, { messaging_product: 'whatsapp', to: '491601234567', type: 'text', text: { body: 'Hallo', preview_url: false }, biz_opaque_callback_data: 'id-1' });
  const tpl = cloudApiBody('+491601234567', { type: 'template', name: 'termin', languageCode: 'de', parameters: ['Anna', '3.12.'] }, 'id-2') as any;
  t.is(tpl.template.name, 'termin');
  t.deepEqual(tpl.template.language, { code: 'de' });
  t.deepEqual(tpl.template.components[0].parameters, [{ type: 'text', text: 'Anna' }, { type: 'text', text: '3.12.' }]);
});

test('provider errors are stored without addresses or phone numbers', (t) => {
  t.is(redact('550 5.1.1 <anna.m@example.org>: Recipient address rejected'), '550 5.1.1 <[address]>: Recipient address rejected');
  t.is(redact('(#131026) Message undeliverable to +49 160 1234567'), '(#131026) Message undeliverable to [number]');
  t.is(redact('WhatsApp API 503: 2 Service temporarily unavailable'), 'WhatsApp API 503: 2 Service temporarily unavailable');
});

test('the rate limiter lets a burst of one second through and then spaces calls (simulated clock)', async (t) => {
  let now = 0;
  const sleeps: number[] = [];
  const l = new RateLimiter(10, { now: () => now, sleep: async (ms) => { sleeps.push(ms); now += ms; } });
  const at: number[] = [];
  for (let i = 0; i < 15; i++) {
    await l.take();
    at.push(now);
  }
  t.deepEqual(at.slice(0, 10), Array(10).fill(0), 'a burst of one second');
  t.deepEqual(at.slice(10), [100, 200, 300, 400, 500], 'then one call per 100 ms');
});
