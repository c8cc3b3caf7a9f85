// AI preparation and triage (issue 13) against the real server, PostgreSQL and the real
// @anthropic-ai/sdk pointed at a fake Messages API on loopback that records every request:
// settings (off by default, bad input → 400 naming the field, each switch recorded in the register
// and audited once, at the change), gating (switch, consent, objection, restriction → nothing
// sent), the leak check, the audit of each disclosure
// (SHA-256 equal to the bytes the fake received), review (accept two, one edited, reject one → two
// AI-assisted notes), retry-after, breaker open and recovery, timeout, budget, malformed output,
// truncation, empty record, triage, roles, export and erasure.
import test from 'ava';
import { clientAs, ownerQuery, samplePatient } from './patients-fixtures.ts';
import { berlinDay, berlinMidnight } from '../helpers/days.ts';
import { enableAi, grantAi, inboundText, must, startAiEnv, type AiEnv } from './ai-fixtures.ts';
import { metric } from './messaging-fixtures.ts';
import { keyOf } from '../helpers/fake-anthropic.ts';
import { recordedOnceAtChange, registerSwitches } from '../helpers/register-switches.ts';
import { purgeDueDrafts } from '../../app/api/src/modules/ai/draft-purge.ts';
import { SYSTEM_USER_ID } from '../../app/api/src/modules/retention/retention.scheduler.ts';

let env: AiEnv;
const MARCUMAR = 'Nimmt Marcumar seit 2019, raucht 10 Zigaretten am Tag.';

test.before(async () => {
  env = await startAiEnv({ PRAXISKERN_AI_MAX_FIELD_CHARS: '1000' });
});
test.after.always(async () => {
  await env?.stop();
});

async function patientWithRecord(overrides: Record<string, unknown> = {}, opts: { consent?: boolean; freeText?: string } = {}) {
  const input = samplePatient(overrides);
  const p = await must(env.admin.post('/api/v1/patients', { ...input, allowDuplicate: true }), 201);
  const id = p.patient.id as string;
  await must(env.admin.post(`/api/v1/patients/${id}/anamnesis`, {
    answers: { smoker: true, blood_thinners: true, blood_thinner_name: 'Marcumar', hair_status: 'norwood_3', allergies: ['Latex'], free_text: opts.freeText ?? `${input.givenName} ${input.familyName} sagt: ${MARCUMAR} Erreichbar unter ${input.phone}.` },
  }), 201);
  await must(env.admin.post(`/api/v1/patients/${id}/diagnoses`, { code: 'L64.9', text: 'Androgenetische Alopezie', diagnosedOn: '2020-01-01' }), 201);
  await must(env.admin.post(`/api/v1/patients/${id}/treatments`, { performedOn: '2024-02-02', type: 'PRP', description: `Sitzung 1 bei Frau ${input.familyName}, gut vertragen.`, performedBy: 'Dr. Quirinus Halbstark' }), 201);
  if (opts.consent !== false) await grantAi(env.admin, id);
  return { id, input };
}

const leaksOf = (raw: string, input: ReturnType<typeof samplePatient>) => {
  const body = JSON.parse(raw) as { system: string; messages: { content: string }[] };
  const text = [body.system, ...body.messages.map((m) => m.content)].join('\n').toLowerCase();
  return [input.givenName, input.familyName, input.email, input.phone.replace(/\D/g, '').slice(2), input.address.street, '1984-03-17', '17.03.1984', 'halbstark']
    .filter((v) => text.replace(/[\s\-\/]/g, '').includes(v.toLowerCase().replace(/[\s\-\/]/g, '')));
};

test.serial('settings: off by default, bad input is a 400 naming the field, enabling is audited and needs a readable key file', async (t) => {
  const s = await must(env.admin.get('/api/v1/ai/settings'), 200);
  t.false(s.enabled);
  t.is(s.apiKeyFile, null);
  const bad = async (body: unknown, field: string) => {
    const r = await env.admin.put('/api/v1/ai/settings', body);
    t.is(r.status, 400, `${JSON.stringify(body)} → ${r.text}`);
    t.true((r.body.details as { field: string }[]).some((d) => d.field === field), `${field} in ${r.text}`);
  };
  await bad({ enabled: false, baseUrl: 'ftp://example.org' }, 'body.baseUrl');
  await bad({ enabled: false, baseUrl: 'http://api.anthropic.com' }, 'body.baseUrl');
  await bad({ enabled: false, baseUrl: 'https://user:pw@gateway.example.eu' }, 'body.baseUrl');
  await bad({ enabled: false, apiKeyFile: '../../app.key' }, 'body.apiKeyFile');
  await bad({ enabled: true, baseUrl: env.fake.url, apiKeyFile: 'missing.key' }, 'body.apiKeyFile');
  await bad({ enabled: true, baseUrl: env.fake.url }, 'body.apiKeyFile');
  await bad({ enabled: false, model: 'claude\u0000x' }, 'body.model');
  await bad({ enabled: false, timeoutMs: 5 }, 'body.timeoutMs');
  await bad({ enabled: false, dailyTokenBudget: -1 }, 'body.dailyTokenBudget');
  t.is((await env.admin.put('/api/v1/ai/settings', null)).status, 400);
  const staff = await clientAs(env.app, env.organizationId, ['staff']);
  t.is((await staff.put('/api/v1/ai/settings', { enabled: false })).status, 403);
  t.is((await staff.get('/api/v1/ai/settings')).status, 403);
  t.is(env.fake.requests.length, 0);
  const q = <T>(sql: string, bindings: unknown[] = []) => ownerQuery<T>(env.app.db.ownerUrl, sql, bindings);
  const { dbNow, read: switches } = registerSwitches(env.app.db.ownerUrl, env.organizationId, 'anthropic');
  const settingsAudit = async () => (await q<{ request_id: string | null; details: Record<string, unknown> }>("select request_id, details from audit_log where organization_id = ? and action = 'ai.settings' order by id desc limit 1", [env.organizationId]))[0];
  const t0 = await dbNow();
  const on = await enableAi(env.admin, env.fake.url);
  const t1 = await dbNow();
  t.true(on.enabled);
  t.true(on.apiKeyPresent);
  t.truthy(on.enabledAt);
  // Recorded and audited once, by the register, in the settings change itself (before any read of the register).
  const afterOn = await switches();
  recordedOnceAtChange(t, afterOn, t0, t1, 'anthropic.external_service.enabled');
  const settings = await settingsAudit();
  t.is(afterOn.audits[0].request_id, settings.request_id, 'audited by the settings request, not by a later read');
  t.like(afterOn.audits[0].details, { name: 'Anthropic Claude', thirdCountry: 'yes', details: { model: 'claude-sonnet-4-5' } });
  t.like(settings.details, { enabled: true, model: 'claude-sonnet-4-5', keyFileSet: true }, 'the settings (model, address, budget) stay in ai.settings');
  const audits = await q<{ action: string; details: Record<string, unknown> }>("select action, details from audit_log where action like 'ai.%' or action like 'anthropic.%' order by id");
  t.false(audits.some((a) => a.action.startsWith('ai.external_service.')), 'the AI module no longer audits the switch itself');
  t.false(JSON.stringify(audits).includes(env.apiKey), 'the key is never in the audit');
  // The live register of external services lists Anthropic as on, with what it receives and since when.
  const register = await env.admin.get('/api/v1/services-register');
  t.is(register.status, 200, register.text);
  const anthropic = register.body.entries.find((x: { key: string }) => x.key === 'anthropic');
  t.like(anthropic, { enabled: true, thirdCountry: 'yes', purposeCode: 'ai_assistance' });
  t.truthy(anthropic.since);
  t.true(anthropic.safeguardCodes.includes('pseudonymisation'));
  t.false(JSON.stringify(register.body).includes(env.apiKey), 'the key is never in the register');
  t.deepEqual((await switches()).audits.map((a) => a.action), ['anthropic.external_service.enabled'], 'reading the register audits nothing again');
  // Switched off and on again: each switch once, at the change; a read adds nothing.
  const off = await enableAi(env.admin, env.fake.url, { enabled: false });
  t.false(off.enabled);
  const offSettings = await settingsAudit();
  const afterOff = await switches();
  t.deepEqual(afterOff.events.map((e) => e.enabled).slice(-1), [false]);
  t.deepEqual(afterOff.audits.map((a) => a.action), ['anthropic.external_service.enabled', 'anthropic.external_service.disabled']);
  t.is(afterOff.audits[1].request_id, offSettings.request_id);
  t.is((await env.admin.get('/api/v1/services-register')).status, 200);
  await enableAi(env.admin, env.fake.url);
  t.is((await env.admin.get('/api/v1/services-register')).status, 200);
  const final = await switches();
  t.deepEqual(final.audits.map((a) => a.action), ['anthropic.external_service.enabled', 'anthropic.external_service.disabled', 'anthropic.external_service.enabled']);
  t.is(final.events.filter((e) => e.enabled).length, 2);
  t.is(final.events.filter((e) => !e.enabled).length, afterOff.events.filter((e) => !e.enabled).length);
});

test.serial('gating: switch off, consent missing, objection, restriction → a clear 409 and nothing sent', async (t) => {
  const { id } = await patientWithRecord({}, { consent: false });
  const before = env.fake.requests.length;
  const r1 = await env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {});
  t.is(r1.status, 409);
  t.is(r1.body.error, 'ai_consent_missing');
  await grantAi(env.admin, id);
  await must(env.admin.post(`/api/v1/patients/${id}/objection`, { objected: true }), 200);
  const r2 = await env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {});
  t.is(r2.status, 409);
  t.deepEqual([r2.body.error, r2.body.details.reason], ['ai_blocked', 'objection']);
  await must(env.admin.post(`/api/v1/patients/${id}/objection`, { objected: false }), 200);
  await must(env.admin.post(`/api/v1/patients/${id}/restriction`, { restricted: true, reason: 'Bestreitet Richtigkeit' }), 200);
  const r3 = await env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {});
  t.deepEqual([r3.status, r3.body.details?.reason], [409, 'restriction']);
  await must(env.admin.post(`/api/v1/patients/${id}/restriction`, { restricted: false }), 200);
  await enableAi(env.admin, env.fake.url, { enabled: false });
  const r4 = await env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {});
  t.deepEqual([r4.status, r4.body.error], [409, 'ai_disabled']);
  await enableAi(env.admin, env.fake.url);
  t.is(env.fake.requests.length, before, 'the fake API received nothing');
  const denied = await ownerQuery<{ n: number }>(env.app.db.ownerUrl, "select count(*)::int as n from audit_log where action = 'ai.request' and outcome = 'denied' and object_id = ?", [id]);
  t.is(denied[0].n, 4);
  // finance and staff may not prepare; staff may triage (below)
  const staff = await clientAs(env.app, env.organizationId, ['staff']);
  t.is((await staff.post(`/api/v1/patients/${id}/ai/prepare`, {})).status, 403);
});

test.serial('prepare → review: two accepted (one edited), one rejected; notes AI-assisted; disclosure audited with the hash of the bytes sent', async (t) => {
  const { id, input } = await patientWithRecord();
  await inboundText(env.app, env.organizationId, id, `Hallo, hier ist ${input.givenName.toUpperCase()} ${input.familyName}. Meine Mail: ${input.email}. Bitte um Rückruf.`);
  const before = env.fake.requests.length;
  const doctor = await clientAs(env.app, env.organizationId, ['doctor']);
  const started = Date.now();
  const { draft } = await must(doctor.post(`/api/v1/patients/${id}/ai/prepare`, {}), 201);
  t.log(`prepare took ${Date.now() - started} ms`);
  t.is(env.fake.requests.length, before + 1);
  const req = env.fake.requests.at(-1)!;
  t.is(keyOf(req), env.apiKey);
  t.deepEqual(leaksOf(req.raw, input), []);
  t.regex(req.raw, /\[NAME_\d+\]/, 'names went out as tokens');
  t.true(req.raw.includes('Marcumar'), 'the health content went out');
  t.false(req.raw.includes('Halbstark'), 'performedBy is not on the whitelist');
  t.is(draft.status, 'open');
  t.is(draft.items.length, 6);
  t.false(JSON.stringify(draft.items).includes('[NAME_'), 'the answer was de-tokenised locally');
  t.true(draft.sources.some((s: { text: string }) => s.text.includes(input.familyName)), 'the sources shown beside the draft are in clear');
  t.true(draft.categoriesSent.includes('anamnesis'));
  const [audit] = await ownerQuery<{ details: Record<string, unknown>; actor_user_id: string }>(env.app.db.ownerUrl, "select details, actor_user_id from audit_log where action = 'ai.disclosure' and object_id = ? order by id desc limit 1", [id]);
  t.is(audit.details.payloadSha256, req.sha256, 'the audit holds the SHA-256 of the exact bytes received');
  t.is(audit.details.task, 'prepare');
  t.is(audit.details.model, 'claude-sonnet-4-5');
  t.true(Number(audit.details.tokensIn) > 0);
  t.is(audit.actor_user_id, doctor.userId);
  // the record shows nothing before the review
  t.is((await must(doctor.get(`/api/v1/patients/${id}/record`), 200)).notes.length, 0);
  const [finding, contra, question] = [draft.items[1], draft.items[3], draft.items[4]];
  const staff = await clientAs(env.app, env.organizationId, ['staff']);
  t.is((await staff.post(`/api/v1/ai/drafts/${draft.id}/review`, { decisions: [{ itemId: finding.id, decision: 'accept' }] })).status, 403);
  const bad = await doctor.post(`/api/v1/ai/drafts/${draft.id}/review`, { decisions: [{ itemId: 'i99', decision: 'accept' }] });
  t.is(bad.status, 400);
  t.is(bad.body.details[0].field, 'body.decisions.0.itemId');
  const reviewed = await must(doctor.post(`/api/v1/ai/drafts/${draft.id}/review`, {
    decisions: [{ itemId: finding.id, decision: 'accept' }, { itemId: contra.id, decision: 'accept', text: 'Marcumar: vor Eingriff absetzen nur nach Rücksprache.' }, { itemId: question.id, decision: 'reject' }],
  }), 200);
  t.deepEqual(reviewed.draft.items.filter((i: { status: string }) => i.status !== 'pending').map((i: { status: string }) => i.status), ['accepted', 'accepted', 'rejected']);
  const again = await doctor.post(`/api/v1/ai/drafts/${draft.id}/review`, { decisions: [{ itemId: question.id, decision: 'accept' }] });
  t.deepEqual([again.status, again.body.details[0].code], [400, 'already_decided']);
  const record = await must(doctor.get(`/api/v1/patients/${id}/record`), 200);
  t.is(record.notes.length, 2);
  for (const n of record.notes) {
    t.is(n.data.aiAssisted.model, 'claude-sonnet-4-5');
    t.is(n.data.aiAssisted.reviewedBy, doctor.userId);
    t.is(n.data.aiAssisted.draftId, draft.id);
  }
  t.deepEqual(record.notes.map((n: { data: { aiAssisted: { edited: boolean } } }) => n.data.aiAssisted.edited), [false, true]);
  t.is(record.notes[1].data.text, 'Marcumar: vor Eingriff absetzen nur nach Rücksprache.');
  // the drafts are encrypted with the patient's key
  const [row] = await ownerQuery<{ data: Buffer }>(env.app.db.ownerUrl, 'select data from ai_drafts where id = ?', [draft.id]);
  t.false(row.data.toString('latin1').includes('Marcumar'));
  // the access log shows the disclosure
  const log = await must(env.admin.get(`/api/v1/patients/${id}/access-log`), 200);
  t.true(log.entries.some((e: { action: string }) => e.action === 'ai.disclosure'));
  t.true(log.entries.some((e: { action: string }) => e.action === 'ai.draft.review'));
  // export lists the disclosure (recipient, date, task, categories) and the draft; erasure removes both
  const x = await must(env.admin.get(`/api/v1/patients/${id}/export`), 200);
  t.is(x.aiDisclosures.length, 1);
  t.like(x.aiDisclosures[0], { recipient: 'Anthropic PBC', task: 'prepare', outcome: 'success' });
  t.true(x.aiDisclosures[0].categories.includes('messages'));
  t.truthy(x.aiDisclosures[0].createdAt);
  t.is(x.aiDrafts[0].data.items.length, 6);
  t.is((await env.admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true, override: true, reasonCategory: 'data_subject_request', reason: 'Art. 17 request (test)' })).status, 200);
  const left = await ownerQuery<{ n: number }>(env.app.db.ownerUrl, 'select (select count(*) from ai_requests where patient_id = ?) + (select count(*) from ai_drafts where patient_id = ?) as n', [id, id]);
  t.is(Number(left[0].n), 0);
});

test.serial('the leak check refuses a crafted case, says which category, audits and counts it; nothing sent', async (t) => {
  // A family name that is also a word of the fixed instructions ("der Arzt"): scrubbing the data
  // cannot remove it from the instructions, so the final check must refuse.
  const { id } = await patientWithRecord({ givenName: 'Quendolin', familyName: 'Arzt' });
  const before = env.fake.requests.length;
  const r = await env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {});
  t.is(r.status, 422, r.text);
  t.is(r.body.error, 'ai_leak_blocked');
  t.deepEqual(r.body.details.categories, ['name']);
  t.false(r.text.includes('Arzt'), 'the refusal names the category, never the value');
  t.is(env.fake.requests.length, before);
  const [a] = await ownerQuery<{ outcome: string; details: Record<string, unknown> }>(env.app.db.ownerUrl, "select outcome, details from audit_log where action = 'ai.request.blocked' and object_id = ?", [id]);
  t.is(a.outcome, 'denied');
  t.is(a.details.sent, false);
  t.is(await metric(env.app.metricsUrl, 'praxiskern_ai_leak_blocked_total', 'category="name"'), 1);
});

test.serial('429 with retry-after is retried by the SDK after the wait; the same bytes go out again', async (t) => {
  const { id } = await patientWithRecord();
  const before = env.fake.requests.length;
  env.fake.script.push('429');
  const started = Date.now();
  await must(env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {}), 201);
  t.log(`with one 429 (retry-after 1 s): ${Date.now() - started} ms`);
  const sent = env.fake.requests.slice(before);
  t.deepEqual(sent.map((r) => r.answered), ['429', 'ok']);
  t.is(sent[0].sha256, sent[1].sha256);
});

test.serial('malformed output or no tool use → 502 with a clear code, nothing written; timeout → 503', async (t) => {
  const { id } = await patientWithRecord();
  for (const mode of ['malformed', 'no_tool'] as const) {
    env.fake.script.push(mode);
    const r = await env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {});
    t.deepEqual([r.status, r.body.error], [502, 'ai_malformed_output'], mode);
  }
  const counts = await ownerQuery<{ drafts: number; notes: number; malformed: number }>(env.app.db.ownerUrl,
    "select (select count(*)::int from ai_drafts where patient_id = $1) as drafts, (select count(*)::int from record_entries where patient_id = $1 and kind = 'note') as notes, (select count(*)::int from ai_requests where patient_id = $1 and outcome = 'malformed') as malformed".replace(/\$1/g, '?'), [id, id, id]);
  t.deepEqual(counts[0], { drafts: 0, notes: 0, malformed: 2 });
  await enableAi(env.admin, env.fake.url, { timeoutMs: 1000, maxRetries: 0 });
  env.fake.script.push('hang');
  const r = await env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {});
  t.deepEqual([r.status, r.body.error, r.body.details.reason], [503, 'ai_unavailable', 'timeout']);
  await enableAi(env.admin, env.fake.url);
});

test.serial('no transaction stays open while Anthropic is asked: the request\'s reads commit before the call', async (t) => {
  const { id } = await patientWithRecord();
  await enableAi(env.admin, env.fake.url, { timeoutMs: 2500, maxRetries: 0 });
  try {
    env.fake.script.push('hang');
    const before = env.fake.requests.length;
    const pending = env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {});
    for (let i = 0; i < 100 && env.fake.requests.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    t.is(env.fake.requests.length, before + 1, 'the call reached Anthropic');
    const arrived = (await env.owner.raw('select clock_timestamp() as at')).rows[0].at as Date;
    await new Promise((r) => setTimeout(r, 300));
    // The request's own transaction began before the call arrived and would still be open now; others are short.
    // (Only a superuser sees the transactions of the application role in pg_stat_activity.)
    const database = (await env.owner.raw('select current_database() as d')).rows[0].d as string;
    const open = await ownerQuery<{ n: number }>(process.env.PRAXISKERN_TEST_PG_URL!,
      "select count(*)::int as n from pg_stat_activity where datname = ? and usename = 'praxiskern_app' and xact_start < ?", [database, arrived]);
    t.is(open[0].n, 0, 'no transaction from before the call is still open during it');
    const r = await pending;
    t.deepEqual([r.status, r.body.error, r.body.details.reason], [503, 'ai_unavailable', 'timeout']);
  } finally {
    await enableAi(env.admin, env.fake.url);
  }
  // a success: the breaker's count of consecutive failures starts again from zero for the next test
  await must(env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {}), 201);
});

test.serial('the breaker opens after repeated 529s (nothing sent while open, the rest works) and recovers', async (t) => {
  const { id } = await patientWithRecord();
  await enableAi(env.admin, env.fake.url, { maxRetries: 0 });
  env.fake.defaultMode = '529';
  // One failure was already counted by the timeout above only if consecutive; count from here.
  let reasons: string[] = [];
  for (let i = 0; i < 4; i++) reasons.push((await env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {})).body.details.reason);
  t.log(reasons.join());
  reasons = reasons.filter((r) => r !== 'overloaded');
  t.true(reasons.includes('breaker_open'), reasons.join());
  const sentWhileOpen = env.fake.requests.length;
  const r = await env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {});
  t.deepEqual([r.status, r.body.details.reason], [503, 'breaker_open']);
  t.is(env.fake.requests.length, sentWhileOpen, 'an open breaker sends nothing');
  t.is(await metric(env.app.metricsUrl, 'praxiskern_ai_breaker_state'), 1);
  const st = await must(env.admin.get('/api/v1/ai/status'), 200);
  t.deepEqual([st.available, st.breaker], [false, 'open']);
  t.is((await env.admin.get(`/api/v1/patients/${id}/record`)).status, 200, 'everything else keeps working');
  env.fake.defaultMode = 'ok';
  await new Promise((res) => setTimeout(res, 5100)); // half-open after 5 s (PRAXISKERN_AI_BREAKER_HALF_OPEN_SECONDS in ai-fixtures.ts)
  await must(env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {}), 201);
  t.is(await metric(env.app.metricsUrl, 'praxiskern_ai_breaker_state'), 0);
  t.true((await metric(env.app.metricsUrl, 'praxiskern_ai_failures_total', 'reason="overloaded"'))! >= 2);
  t.true((await metric(env.app.metricsUrl, 'praxiskern_ai_failures_total', 'reason="breaker_open"'))! >= 2);
  await enableAi(env.admin, env.fake.url);
});

test.serial('budget exhausted → 429 with a clear code, nothing sent', async (t) => {
  const { id } = await patientWithRecord();
  // Today's usage comes from this test, not from the tests before it (which may lie before
  // midnight in the practice's zone when the run crosses it).
  for (let i = 0; i < 10 && (await must(env.admin.get('/api/v1/ai/settings'), 200)).tokensUsedToday < 1000; i++) await must(env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {}), 201);
  t.true((await must(env.admin.get('/api/v1/ai/settings'), 200)).tokensUsedToday >= 1000);
  await enableAi(env.admin, env.fake.url, { dailyTokenBudget: 1000 });
  const before = env.fake.requests.length;
  const r = await env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {});
  t.deepEqual([r.status, r.body.error], [429, 'ai_budget_exhausted']);
  t.regex(r.body.message, /budget/);
  t.is(env.fake.requests.length, before);
  t.is((await must(env.admin.get('/api/v1/ai/status'), 200)).budgetLeft, 0);
  await enableAi(env.admin, env.fake.url);
});

test.serial('the daily budget is the practice\'s day (Europe/Berlin), not UTC\'s: tokens used just after midnight in Berlin count today, just before it yesterday', async (t) => {
  const used = async () => (await must(env.admin.get('/api/v1/ai/settings'), 200)).tokensUsedToday as number;
  const midnight = berlinMidnight(berlinDay());
  const before = await used();
  const rows = await ownerQuery<{ id: string }>(env.app.db.ownerUrl,
    `insert into ai_requests (organization_id, task, model, tokens_in, outcome, created_at)
     values (?, 'prepare', 'claude-sonnet-4-5', 7777, 'success', ?), (?, 'prepare', 'claude-sonnet-4-5', 5555, 'success', ?) returning id`,
    [env.organizationId, new Date(midnight.getTime() + 60_000), env.organizationId, new Date(midnight.getTime() - 60_000)]);
  try {
    t.is(await used() - before, 7777, 'only the minute after midnight in Berlin counts today');
  } finally {
    await ownerQuery(env.app.db.ownerUrl, 'delete from ai_requests where id in (?, ?)', rows.map((r) => r.id));
  }
});

test.serial('oversized input is truncated with a visible note; an empty record is a 422', async (t) => {
  const long = `Beginn. ${'Haarausfall am Oberkopf, seit Jahren zunehmend. '.repeat(90)}Ende.`;
  const { id } = await patientWithRecord({}, { freeText: long });
  const { draft } = await must(env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {}), 201);
  t.true(draft.truncated.length > 0);
  const raw = env.fake.requests.at(-1)!.raw;
  t.true(raw.includes('gekürzt'), 'the model is told the input was cut');
  t.false(raw.includes('Ende.'));
  const empty = await must(env.admin.post('/api/v1/patients', { ...samplePatient(), allowDuplicate: true }), 201);
  await grantAi(env.admin, empty.patient.id);
  const r = await env.admin.post(`/api/v1/patients/${empty.patient.id}/ai/prepare`, {});
  t.deepEqual([r.status, r.body.error], [422, 'ai_empty_record']);
});

test.serial('drafts past their keeping time are deleted by the worker\'s hourly pass, also with the AI switched off; audited once as the system; the list never shows one', async (t) => {
  const { id } = await patientWithRecord();
  const { draft: due } = await must(env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {}), 201);
  const { draft: kept } = await must(env.admin.post(`/api/v1/patients/${id}/ai/prepare`, {}), 201);
  await ownerQuery(env.app.db.ownerUrl, "update ai_drafts set purge_after = now() - interval '1 minute' where id = ?", [due.id]);
  const purges = () => ownerQuery<{ actor_user_id: string; details: { drafts: number; patients: string[] } }>(env.app.db.ownerUrl,
    "select actor_user_id, details from audit_log where action = 'ai.draft.purge' and object_id = ? and details->'patients' @> jsonb_build_array(?::text) order by id", [env.organizationId, id]);
  const drafts = async () => (await ownerQuery<{ id: string }>(env.app.db.ownerUrl, 'select id from ai_drafts where patient_id = ? order by created_at', [id])).map((r) => r.id);
  t.deepEqual(await drafts(), [due.id, kept.id]);
  // Nobody prepares or lists anything in an organization that switched the AI off: only the worker deletes there.
  await enableAi(env.admin, env.fake.url, { enabled: false });
  try {
    // (the worker's own pass at minute 41 may come first: either way one deletion, one entry)
    const runs = await purgeDueDrafts(env.app.services);
    t.true(runs.some((r) => r.organizationId === env.organizationId), 'every organization is visited');
    t.deepEqual(await drafts(), [kept.id], 'the due draft is gone, the other stays');
    const [entry, ...more] = await purges();
    t.deepEqual(more, []);
    t.is(entry.actor_user_id, SYSTEM_USER_ID);
    t.deepEqual(entry.details, { drafts: 1, patients: [id] });
    // nothing due: nothing deleted, nothing audited
    t.is((await purgeDueDrafts(env.app.services)).find((r) => r.organizationId === env.organizationId)?.purged, 0);
    t.is((await purges()).length, 1);
  } finally {
    await enableAi(env.admin, env.fake.url);
  }
  // Listing deletes what is due at once: a draft past its time is never shown, whatever the hour.
  await ownerQuery(env.app.db.ownerUrl, "update ai_drafts set purge_after = now() - interval '1 minute' where id = ?", [kept.id]);
  t.deepEqual((await must(env.admin.get(`/api/v1/patients/${id}/ai/drafts`), 200)).drafts, []);
  t.deepEqual(await drafts(), []);
  t.is((await purges()).length, 2);
});

test.serial('triage: language, urgency, topic and a suggested reply in clear, nothing sent to the patient', async (t) => {
  const { id, input } = await patientWithRecord();
  const msg = await inboundText(env.app, env.organizationId, id, `Guten Tag, ${input.givenName} ${input.familyName} hier (Tel ${input.phone}). Kann ich meinen Termin am 3. März 2027 verschieben?`);
  const staff = await clientAs(env.app, env.organizationId, ['staff']);
  const outbox = await ownerQuery<{ n: number }>(env.app.db.ownerUrl, 'select count(*)::int as n from outbox_messages where patient_id = ?', [id]);
  const r = await must(staff.post(`/api/v1/inbox/patients/${id}/messages/${msg}/triage`, {}), 200);
  t.like(r, { language: 'de', urgency: 'routine', topic: 'appointment', truncated: false });
  t.true(r.suggestedReply.includes(input.givenName) || r.suggestedReply.includes(input.familyName), `de-tokenised locally: ${r.suggestedReply}`);
  const req = env.fake.requests.at(-1)!;
  t.deepEqual(leaksOf(req.raw, input), []);
  t.false(req.raw.includes('März 2027'));
  t.is((await ownerQuery<{ n: number }>(env.app.db.ownerUrl, 'select count(*)::int as n from outbox_messages where patient_id = ?', [id]))[0].n, outbox[0].n, 'a suggestion is never sent');
  t.is((await staff.post(`/api/v1/inbox/patients/${id}/messages/00000000-0000-4000-8000-000000000000/triage`, {})).status, 404);
  const finance = await clientAs(env.app, env.organizationId, ['finance']);
  t.is((await finance.post(`/api/v1/inbox/patients/${id}/messages/${msg}/triage`, {})).status, 403);
});
