// Coordinators see arrivals, enquiries, anamnesis/pre-qualification, appointments and messages,
// never diagnoses — proven through EVERY route of the OpenAPI document: with a coordinator session
// and real ids of a patient who has diagnoses (a distinctive ICD code and text, and a correction of
// one), no answer of any route holds the code or the text, the diagnosis routes (add, correct, the
// history of a diagnosis entry) and the export (JSON and FHIR) answer 403, and the record says the
// diagnoses are not visible for the role. A doctor reading the same routes sees them (the walk
// can fail), and staff (MFA/VERAH) document diagnoses.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { permits } from '../../app/api/src/core/permissions.ts';
import { startFinanceEnv, type FinanceEnv } from './finance-fixtures.ts';
import { clientAs, samplePatient } from './patients-fixtures.ts';
import { berlinDay } from '../helpers/days.ts';

const DX = { code: 'Q84.0', text: 'Atrichia congenita Koordinatorprobe', corrected: 'Alopecia congenita Korrekturprobe' };
const PLAN = 'Haarverpflanzung Planung Sichtbar';
const SECRETS = [DX.code, DX.text, DX.corrected, 'Q84'];

let e: FinanceEnv;
const ids: Record<string, string> = {};
const today = () => berlinDay();

test.before(async () => {
  e = await startFinanceEnv();
  const res = await e.admin.post('/api/v1/patients', { ...samplePatient(), allowDuplicate: true });
  if (res.status !== 201) throw new Error(res.text);
  ids.id = res.body.patient.id;
  const d1 = await e.doctor.post(`/api/v1/patients/${ids.id}/diagnoses`, { code: DX.code, text: DX.text, side: 'B' });
  if (d1.status !== 201) throw new Error(d1.text);
  const d2 = await e.doctor.post(`/api/v1/patients/${ids.id}/diagnoses`, { code: DX.code, text: DX.corrected, supersedesId: d1.body.entry.id, correctionReason: 'Befund präzisiert' });
  if (d2.status !== 201) throw new Error(d2.text);
  ids.entryId = d1.body.entry.id;
  ids.diagnosisId = d2.body.entry.id;
  const plan = await e.doctor.post(`/api/v1/patients/${ids.id}/plans`, { title: PLAN, steps: [{ description: 'Beratung' }] });
  if (plan.status !== 201) throw new Error(plan.text);
  ids.planEntryId = plan.body.entry.id;
  const q = await e.admin.post(`/api/v1/patients/${ids.id}/quotes`, { planEntryId: ids.planEntryId, currency: 'EUR', items: [{ description: 'Beratungsgespräch', quantity: 1, unitCents: 10_000, vatCategory: 'medical_exempt' }] });
  if (q.status !== 201) throw new Error(q.text);
  ids.quoteId = q.body.quote.id;
  await e.admin.post(`/api/v1/quotes/${ids.quoteId}/status`, { status: 'sent' });
  const pay = await e.admin.post(`/api/v1/quotes/${ids.quoteId}/payments`, { amountCents: 5_000, method: 'cash', paidOn: today() });
  ids.paymentId = pay.body.quote.payments[0].id;
});
test.after.always(async () => {
  await e?.stop();
});

const urlOf = (path: string) => {
  let url = path.replace(/\{([A-Za-z_]+)\}/g, (_, name: string) => ids[name] ?? randomUUID());
  if (path.startsWith('/api/v1/reports/') && !path.includes('settings')) url += `?from=${today().slice(0, 8)}01&to=${today()}`;
  return url;
};

test.serial('a coordinator through every route of the OpenAPI document: no diagnosis code or text anywhere; diagnosis routes and the export are 403', async (t) => {
  const doc = (await e.admin.get('/api/v1/openapi.json')).body as { paths: Record<string, Record<string, { 'x-permission': string }>> };
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => { if (!ok) problems.push(what); };
  let walked = 0;
  let open = 0;
  const mustBeClosed = new Set([
    'POST /api/v1/patients/{id}/diagnoses', 'GET /api/v1/patients/{id}/export', 'POST /api/v1/patients/{id}/ai/prepare', 'GET /api/v1/patients/{id}/ai/drafts',
  ]);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const label = `${method.toUpperCase()} ${path}`;
      const access = op['x-permission'];
      const client = await clientAs(e.app, e.organizationId, ['coordinator']);
      const res = await client.request(method.toUpperCase(), urlOf(path), method === 'get' ? undefined : {});
      walked++;
      check(res.status < 500, `${label}: ${res.status} ${res.text.slice(0, 200)}`);
      for (const s of SECRETS) check(!res.text.includes(s), `${label} leaks "${s}"`);
      const granted = access === 'public' || access === 'authenticated' || permits({ roles: ['coordinator'] }, access as never);
      if (!granted) check(res.status === 403, `${label} (${access}) must be closed to coordinators: ${res.status}`);
      else if (![401, 403].includes(res.status)) open++;
      if (mustBeClosed.has(label)) check(res.status === 403, `${label} must be 403: ${res.status}`);
    }
  }
  t.deepEqual(problems, []);
  t.true(walked > 100, `walked ${walked} routes`);
  t.log(`walked ${walked} routes, ${open} answered a coordinator past authorization`);
});

test.serial('the record tells the coordinator the diagnoses are not visible; the timeline drops them but keeps the rest; history and export are 403', async (t) => {
  const c = e.coordinator;
  const rec = await c.get(`/api/v1/patients/${ids.id}/record`);
  t.is(rec.status, 200);
  t.false(rec.body.diagnosesVisible);
  t.deepEqual(rec.body.diagnoses, []);
  t.is(rec.body.plans[0].data.title, PLAN, 'the rest of the record is there');
  const tl = await c.get(`/api/v1/patients/${ids.id}/timeline`);
  t.is(tl.status, 200);
  t.false(tl.body.items.some((i: { type: string }) => i.type === 'diagnosis'));
  t.false(tl.body.types.includes('diagnosis'), 'the type filter offers no diagnoses');
  t.true(tl.body.types.includes('plan'));
  t.true(tl.body.items.some((i: { type: string; text: string }) => i.type === 'plan' && i.text === PLAN));
  const only = await c.get(`/api/v1/patients/${ids.id}/timeline?types=diagnosis`);
  t.is(only.status, 200);
  t.deepEqual(only.body.items, []);
  for (const entryId of [ids.entryId, ids.diagnosisId]) {
    const h = await c.get(`/api/v1/patients/${ids.id}/record/entries/${entryId}/history`);
    t.is(h.status, 403, h.text);
  }
  t.is((await c.get(`/api/v1/patients/${ids.id}/record/entries/${ids.planEntryId}/history`)).status, 200, 'other entries keep their history');
  for (const format of ['json', 'fhir']) t.is((await c.get(`/api/v1/patients/${ids.id}/export?format=${format}`)).status, 403);
  const add = await c.post(`/api/v1/patients/${ids.id}/diagnoses`, { code: 'L64.9', text: 'Koordinator darf nicht' });
  t.is(add.status, 403);
  const correct = await c.post(`/api/v1/patients/${ids.id}/diagnoses`, { code: 'L64.9', text: 'Koordinator darf nicht', supersedesId: ids.diagnosisId, correctionReason: 'x' });
  t.is(correct.status, 403);
  t.is((await e.doctor.get(`/api/v1/patients/${ids.id}/record`)).body.diagnoses.length, 1, 'nothing was added');
});

test.serial('doctors see the diagnoses on the same routes (record, timeline, history, export, FHIR); staff document them; finance neither', async (t) => {
  const rec = await e.doctor.get(`/api/v1/patients/${ids.id}/record`);
  t.true(rec.body.diagnosesVisible);
  t.is(rec.body.diagnoses[0].data.text, DX.corrected);
  const tl = await e.doctor.get(`/api/v1/patients/${ids.id}/timeline?types=diagnosis`);
  t.true(tl.body.items.some((i: { code: string; text: string }) => i.code === DX.code && i.text === DX.corrected));
  t.is((await e.doctor.get(`/api/v1/patients/${ids.id}/record/entries/${ids.entryId}/history`)).body.versions.length, 2);
  for (const format of ['json', 'fhir']) {
    const x = await e.doctor.get(`/api/v1/patients/${ids.id}/export?format=${format}`);
    t.is(x.status, 200);
    t.true(x.text.includes(DX.corrected), `${format} export holds the diagnosis`);
  }
  const staff = await e.staff.post(`/api/v1/patients/${ids.id}/diagnoses`, { code: 'L64.9', text: 'MFA dokumentiert' });
  t.is(staff.status, 201, staff.text);
  t.is((await e.finance.post(`/api/v1/patients/${ids.id}/diagnoses`, { code: 'L64.9', text: 'Finanz darf nicht' })).status, 403);
  t.is((await e.finance.get(`/api/v1/patients/${ids.id}/record`)).status, 403);
});
