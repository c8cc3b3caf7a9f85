// Reports (issue 14 item 1) against the real server and PostgreSQL: fixed demo data with known
// totals (reports-fixtures.ts) → every figure of every report, the previous period, small-count
// suppression including the differencing case, the CSV (suppressed cells empty, formula-like text
// neutralised), the setting (admin only, audited), bad input → 400 naming the field, roles, and a
// second organization that sees nothing of the first.
import test from 'ava';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, newOrganization, ownerQuery, samplePatient } from './patients-fixtures.ts';
import { RANGE, WEEKS, seedOtherOrganization, seedReportDemo, type DemoIds } from './reports-fixtures.ts';
import { berlinDay } from '../helpers/days.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;
let ids: DemoIds;
const q = `from=${RANGE.from}&to=${RANGE.to}&granularity=week`;

type Row = { period: string; values: Record<string, number | null>; suppressed: string[] };
async function get(client: Client, name: string, query = q) {
  const res = await client.get(`/api/v1/reports/${name}?${query}`);
  if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.text}`);
  return res.body as { report: string; minCount: number; series: { key: string; label: string; names: { de: string; en: string } | null }[]; rows: Row[]; previous: { from: string; to: string; rows: Row[] } };
}
/** Only the non-zero cells of a row, and the suppressed ones as null: what the assertions spell out. */
const shown = (row: Row) => Object.fromEntries(Object.entries(row.values).filter(([, v]) => v !== 0));

test.before(async () => {
  app = await startTestApp();
  ({ client: admin, organizationId } = await setupInstance(app));
  ids = await seedReportDemo(app.db.superuserUrl, organizationId, { consultRoomName: '=HYPERLINK("http://x.invalid","klick")' });
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

test.serial('new patients and prospects per week and by source channel; a lone small cell takes a second one and the total with it', async (t) => {
  const r = await get(admin, 'patients');
  t.is(r.minCount, 5);
  t.deepEqual(r.rows.map((x) => x.period), WEEKS);
  t.deepEqual(shown(r.rows[0]), { new_patients: null, 'source:website_form': 6, 'source:whatsapp': null, 'source:phone': null, prospects: null });
  // differencing: the total and a second channel are hidden, so total − shown cells gives no single cell
  t.deepEqual(r.rows[0].suppressed, ['new_patients', 'source:whatsapp', 'source:phone', 'prospects']);
  t.deepEqual(shown(r.rows[1]), { new_patients: 12, 'source:email': 5, 'source:referral': 7, prospects: 5 });
  t.deepEqual(shown(r.rows[2]), {});
  t.deepEqual(shown(r.rows[3]), { new_patients: 10, 'source:unknown': 10 });
  t.deepEqual(r.previous.from, '2026-01-05');
  t.deepEqual(r.previous.to, '2026-02-01');
  t.deepEqual(r.previous.rows.map(shown), [{ new_patients: 8, 'source:walk_in': 8 }, {}, {}, {}]);
  const month = await get(admin, 'patients', `from=${RANGE.from}&to=2026-02-28&granularity=month`);
  t.deepEqual(month.rows.map((x) => x.period), ['2026-02-01']);
  t.deepEqual(shown(month.rows[0]), { new_patients: null, 'source:website_form': 6, 'source:whatsapp': null, 'source:phone': null, 'source:email': 5, 'source:referral': 7, 'source:unknown': 10, prospects: 8 },
    'February: the 2 phone enquiries hide, with the smallest other channel and the total');
});

test.serial('the pre-qualification funnel: enquiry → qualified → consultation attended → surgery booked, by enquiry week', async (t) => {
  const r = await get(admin, 'funnel');
  t.deepEqual(r.series.map((s) => s.key), ['enquiry', 'qualified', 'consultation', 'surgery']);
  t.deepEqual(r.rows.map(shown), [
    { enquiry: 16 },
    { enquiry: 17, qualified: 9, consultation: 6, surgery: 5 },
    {},
    { enquiry: 10, consultation: null },
  ]);
  t.deepEqual(r.rows[3].suppressed, ['consultation']);
});

test.serial('appointments by status and type with the no-show rate; small status and type cells hidden with a complement', async (t) => {
  const r = await get(admin, 'appointments');
  const type = (k: string) => `type:${ids.types[k]}`;
  t.deepEqual(r.rows.map(shown)[2], { total: null, 'status:done': 6, 'status:no_show': null, 'status:cancelled': null, no_show_rate: null, [type('consultation')]: 9 });
  t.deepEqual(r.rows.map(shown)[3], { total: null, 'status:planned': null, 'status:arrived': null, no_show_rate: null, [type('consultation')]: null, [type('surgery')]: null });
  t.deepEqual(shown(r.rows[0]), {});
  t.false(r.rows[3].suppressed.includes('_type_total'), 'helper cells stay inside the server');
  const typeSeries = r.series.find((s) => s.key === type('surgery'))!;
  t.deepEqual(typeSeries.names, { de: 'Operation', en: 'Surgery' });
  // a minimum of 2 still hides the single cancellation and, as its complement, the 2 no-shows
  t.is((await admin.put('/api/v1/report-settings', { minCount: 2, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1, 2, 3, 4, 5] })).status, 200);
  t.deepEqual((await get(admin, 'appointments')).rows[2].suppressed, ['total', 'status:no_show', 'status:cancelled', 'no_show_rate']);
  // with a minimum of 1 nothing is hidden: 2 no-shows of 8 held appointments
  t.is((await admin.put('/api/v1/report-settings', { minCount: 1, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1, 2, 3, 4, 5] })).status, 200);
  const low = await get(admin, 'appointments');
  t.deepEqual(shown(low.rows[2]), { total: 9, 'status:done': 6, 'status:no_show': 2, 'status:cancelled': 1, no_show_rate: 25, [type('consultation')]: 9 });
  t.is((await admin.put('/api/v1/report-settings', { minCount: 5, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1, 2, 3, 4, 5] })).status, 200);
});

test.serial('utilisation per practitioner and room: booked minutes of held appointments / working minutes', async (t) => {
  const r = await get(admin, 'utilisation');
  const p = `practitioner:${ids.practitioner}`, op = `room:${ids.surgeryRoom}`, cr = `room:${ids.consultRoom}`;
  t.deepEqual(r.rows.map((x) => [x.values[p], x.values[op], x.values[cr]]), [[0, 0, 0], [0, 0, 0], [6, 0, 6], [43, 40, 3]]);
  // a Saturday-only practice has no available minutes in these weeks' weekdays… and 4 h days double the share
  t.is((await admin.put('/api/v1/report-settings', { minCount: 5, workDayStart: '08:00', workDayEnd: '13:00', workDays: [1, 2, 3, 4, 5] })).status, 200);
  const half = await get(admin, 'utilisation');
  t.deepEqual(half.rows[3].values[op], 80);
  t.is((await admin.put('/api/v1/report-settings', { minCount: 5, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1, 2, 3, 4, 5] })).status, 200);
});

test.serial('messages by channel and outcome, inbound WhatsApp messages', async (t) => {
  const r = await get(admin, 'messages');
  t.deepEqual(r.rows.map(shown), [
    { total: null, 'message:email:delivered': 6, 'message:whatsapp:read': null, 'message:whatsapp:failed': null, 'inbound:whatsapp': 8 },
    { total: 12, 'message:email:sent': 7, 'message:whatsapp:delivered': 5, 'inbound:whatsapp': 6 },
    {}, {},
  ]);
});

test.serial('inbox response time: median and 90th percentile of the first reply per conversation', async (t) => {
  const r = await get(admin, 'response_time');
  t.deepEqual(r.rows.map(shown), [
    { conversations: null, median: null, p90: null },
    { conversations: 6, answered: 5, median: 30, p90: 46 },
    { median: null, p90: null }, { median: null, p90: null },
  ]);
  t.deepEqual(r.rows[0].suppressed, ['conversations'], 'no answers: no median, but nothing suppressed beyond the count');
});

test.serial('CSV: a column per series in the chosen language, suppressed cells empty, formula-like names neutralised', async (t) => {
  const res = await admin.get(`/api/v1/reports/utilisation.csv?${q}&lang=de`);
  t.is(res.status, 200);
  t.regex(String(res.headers.get('content-type')), /^text\/csv/);
  t.regex(String(res.headers.get('content-disposition')), /attachment; filename="report-utilisation-2026-02-02-2026-03-01.csv"/);
  const lines = res.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
  t.is(lines[0], `Zeitraum,Periode,Dr. Demo (Behandler),"'=HYPERLINK(""http://x.invalid"",""klick"") (Raum)",OP 1 (Raum)`);
  t.is(lines[4], 'aktuell,2026-02-23,43,3,40');
  t.is(lines.length, 1 + 4 + 4, 'four weeks and the four weeks before');
  const patients = (await admin.get(`/api/v1/reports/patients.csv?${q}&lang=en`)).text.replace(/^\uFEFF/, '').split('\r\n');
  t.is(patients[0], 'Range,Period,New patients,Source: website form,Source: WhatsApp,Source: e-mail,Source: phone,Source: referral,Source: walk-in,Source: other,Source: not recorded,New prospects');
  t.is(patients[1], 'current,2026-02-02,,6,,0,,0,0,0,0,');
});

test.serial('the minimum count is an organization setting: admin only, audited; 3 shows the 3 prospects, never the 2 phone enquiries', async (t) => {
  const coordinator = await clientAs(app, organizationId, ['coordinator']);
  t.is((await coordinator.put('/api/v1/report-settings', { minCount: 3, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1, 2, 3, 4, 5] })).status, 403);
  const bad = await admin.put('/api/v1/report-settings', { minCount: 0, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1] });
  t.is(bad.status, 400);
  t.is(bad.body.details[0].field, 'body.minCount');
  const backwards = await admin.put('/api/v1/report-settings', { minCount: 3, workDayStart: '18:00', workDayEnd: '08:00', workDays: [1] });
  t.is(backwards.body.details[0].field, 'body.workDayEnd');
  t.is((await admin.put('/api/v1/report-settings', { minCount: 3, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1, 2, 3, 4, 5] })).status, 200);
  t.deepEqual((await coordinator.get('/api/v1/report-settings')).body, { minCount: 3, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1, 2, 3, 4, 5] });
  const r = await get(coordinator, 'patients');
  t.is(r.minCount, 3);
  t.deepEqual(shown(r.rows[0]), { new_patients: null, 'source:website_form': 6, 'source:whatsapp': null, 'source:phone': null, prospects: 3 });
  const [entry] = await ownerQuery<{ details: { before: { minCount: number }; after: { minCount: number } } }>(app.db.superuserUrl,
    "select details from audit_log where organization_id = ? and action = 'report.settings.updated' order by seq desc limit 1", [organizationId]);
  t.deepEqual([entry.details.before.minCount, entry.details.after.minCount], [5, 3]);
  t.is((await admin.put('/api/v1/report-settings', { minCount: 5, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1, 2, 3, 4, 5] })).status, 200);
  const [read] = await ownerQuery<{ n: number }>(app.db.superuserUrl, "select count(*)::int as n from audit_log where organization_id = ? and action = 'report.read' and object_id = 'patients'", [organizationId]);
  t.true(read.n >= 2, 'every report read is audited');
});

test.serial('bad input: to before from, a range over two years, an unknown granularity, a NUL byte, an unknown parameter → 400 naming the field', async (t) => {
  const cases: [string, string][] = [
    ['from=2026-03-01&to=2026-02-01', 'query.to'],
    ['from=2020-01-01&to=2026-02-01', 'query.to'],
    ['from=2026-02-01&to=2026-02-10&granularity=day', 'query.granularity'],
    ['from=2026-02-01%00&to=2026-02-10', 'query.from'],
    ['from=2026-02-30&to=2026-03-10', 'query.from'],
    ['to=2026-03-10', 'query.from'],
    ['from=2026-02-01&to=2026-02-10&lang=fr', 'query.lang'],
  ];
  for (const [query, field] of cases) {
    const path = field === 'query.lang' ? 'patients.csv' : 'patients';
    const res = await admin.get(`/api/v1/reports/${path}?${query}`);
    t.is(res.status, 400, query);
    t.is(res.body.details?.[0]?.field, field, query);
  }
  const long = await admin.get('/api/v1/reports/patients?from=2020-01-01&to=2026-02-01');
  t.is(long.body.details[0].limit, 732);
  t.is((await admin.get('/api/v1/reports/nonexistent?from=2026-02-01&to=2026-02-10')).status, 404);
});

test.serial('roles: admin, coordinator and doctor read reports; staff and finance do not; another organization sees only its own patients', async (t) => {
  for (const role of ['coordinator', 'doctor'] as const) t.is((await (await clientAs(app, organizationId, [role])).get(`/api/v1/reports/funnel?${q}`)).status, 200, role);
  for (const role of ['staff', 'finance'] as const) {
    const c = await clientAs(app, organizationId, [role]);
    t.is((await c.get(`/api/v1/reports/patients?${q}`)).status, 403, role);
    t.is((await c.get(`/api/v1/reports/patients.csv?${q}`)).status, 403, role);
  }
  const other = await newOrganization(app, 'zweite-berichtspraxis');
  await seedOtherOrganization(app.db.superuserUrl, other);
  const otherAdmin = await clientAs(app, other, ['admin']);
  const theirs = await get(otherAdmin, 'patients');
  t.deepEqual(theirs.rows.map(shown), [{}, { new_patients: 20, 'source:website_form': 20 }, {}, {}]);
  for (const name of ['funnel', 'appointments', 'messages', 'response_time']) {
    const r = await get(otherAdmin, name);
    t.true(r.rows.every((row) => Object.values(row.values).every((v) => v === 0 || v === null) || name === 'funnel'), name);
  }
  t.deepEqual((await get(otherAdmin, 'utilisation')).series, [], 'no resources of the first organization');
  const mine = await get(admin, 'patients');
  t.is(mine.rows[1].values['source:website_form'], 0, 'the other organization\'s 20 patients are not counted here');
});

test.serial('the source channel is master data: set and read through the API (audited); an anamnesis records its pre-qualification flag', async (t) => {
  const p = (await admin.post('/api/v1/patients', { ...samplePatient(), allowDuplicate: true })).body.patient;
  t.is((await admin.put(`/api/v1/patients/${p.id}/source-channel`, { sourceChannel: 'referral' })).status, 200);
  t.deepEqual((await admin.get(`/api/v1/patients/${p.id}/source-channel`)).body, { sourceChannel: 'referral' });
  const bad = await admin.put(`/api/v1/patients/${p.id}/source-channel`, { sourceChannel: 'carrier_pigeon' });
  t.is(bad.body.details[0].field, 'body.sourceChannel');
  t.is((await (await clientAs(app, organizationId, ['finance'])).put(`/api/v1/patients/${p.id}/source-channel`, { sourceChannel: 'phone' })).status, 403);
  const res = await admin.post(`/api/v1/patients/${p.id}/anamnesis`, { answers: { smoker: false, blood_thinners: false, hair_status: 'norwood_3' } });
  t.is(res.status, 201, res.text);
  const [row] = await ownerQuery<{ prequal_status: string }>(app.db.superuserUrl, 'select prequal_status from record_entries where id = ?', [res.body.entry.id]);
  t.is(row.prequal_status, 'qualified');
  const diagnosis = await admin.post(`/api/v1/patients/${p.id}/diagnoses`, { code: 'L64.9', text: 'Androgenetische Alopezie' });
  t.is(diagnosis.status, 201, 'other entries carry no flag and are written as before');
  const [flag] = await ownerQuery<{ prequal_status: string | null }>(app.db.superuserUrl, 'select prequal_status from record_entries where id = ?', [diagnosis.body.entry.id]);
  t.is(flag.prequal_status, null);
  const today = berlinDay();
  const r = await get(admin, 'funnel', `from=${today}&to=${today}&granularity=month`);
  t.is(r.rows.length, 1);
});
