// The finance role sees patients' names, contact data and amounts, never health data — proven
// through EVERY route of the OpenAPI document: with a finance session and real ids (a patient with
// a diagnosis, a treatment plan, a quote with item descriptions, a deposit, a payment, a refund, a
// payment link), every route outside the allowed list answers 403, and no answer of an allowed
// route holds a health field name or any of the patient's health texts. The allowed list is kept
// here by hand and must equal what the permission table grants (a new route for finance is a
// conscious decision). Coordinators and doctors see quotes with descriptions; staff see none.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { permits } from '../../app/api/src/core/permissions.ts';
import { HEALTH, item, patientWithPlan, startFinanceEnv, type FinanceEnv } from './finance-fixtures.ts';
import { clientAs } from './patients-fixtures.ts';
import { berlinDay } from '../helpers/days.ts';

let e: FinanceEnv;
const ids: Record<string, string> = {};

/** Every route the finance role may call (method and OpenAPI path). */
const ALLOWED = new Set([
  'GET /api/v1/finance/overview',
  'GET /api/v1/finance/payments/{paymentId}/receipt',
  'GET /api/v1/patients',
  'GET /api/v1/patients/{id}',
  'GET /api/v1/patients/{id}/consents',
  'GET /api/v1/patients/{id}/history',
  'GET /api/v1/patients/{id}/quotes',
  // master data of the reports module (website form, WhatsApp, phone …: how the patient first came), no health data
  'GET /api/v1/patients/{id}/source-channel',
  // the organization's patient-number format (prefix, next number), no patient data
  'GET /api/v1/patient-numbering',
  // the Karteikarte's timeline: for finance only the consent lines (the health, document and appointment providers need their own permissions)
  'GET /api/v1/patients/{id}/timeline',
  'GET /api/v1/quotes/{quoteId}',
  'GET /api/v1/reports/finance',
  'GET /api/v1/reports/finance.csv',
  'POST /api/v1/finance/checkouts/{checkoutId}/refresh',
  'POST /api/v1/finance/payments/{paymentId}/refunds',
  'POST /api/v1/patients/search',
  'POST /api/v1/quotes/{quoteId}/checkout',
  'POST /api/v1/quotes/{quoteId}/deposits',
  'POST /api/v1/quotes/{quoteId}/payments',
  'POST /api/v1/quotes/{quoteId}/status',
]);

/** Field names that carry health data somewhere in the API. */
const HEALTH_FIELDS = ['diagnoses', 'diagnosis', 'icd10', 'anamnesis', 'answers', 'prequalification', 'treatments', 'plans', 'findings', 'documents', 'photos', 'steps', 'description', 'notes', 'appointments', 'aftercare'];

const today = () => berlinDay();

test.before(async () => {
  e = await startFinanceEnv();
  const p = await patientWithPlan(e.admin);
  ids.id = p.id;
  const q = await e.admin.post(`/api/v1/patients/${p.id}/quotes`, { planEntryId: p.planEntryId, currency: 'EUR', items: [item(), item({ description: `${HEALTH.diagnosis} Zusatz`, vatCategory: 'standard', unitCents: 9_999 })] });
  if (q.status !== 201) throw new Error(q.text);
  ids.quoteId = q.body.quote.id;
  await e.admin.post(`/api/v1/quotes/${ids.quoteId}/status`, { status: 'sent' });
  await e.admin.post(`/api/v1/quotes/${ids.quoteId}/deposits`, { amountCents: 10_000, dueDate: today() });
  const pay = await e.admin.post(`/api/v1/quotes/${ids.quoteId}/payments`, { amountCents: 10_000, method: 'cash', paidOn: today() });
  ids.paymentId = pay.body.quote.payments[0].id;
  await e.admin.post(`/api/v1/finance/payments/${ids.paymentId}/refunds`, { amountCents: 100 });
  const [c] = await e.owner('stripe_checkouts').insert({ organization_id: e.organizationId, patient_id: p.id, quote_id: ids.quoteId, session_id: 'cs_test_roles', url: 'https://checkout.stripe.test/x', amount_cents: 5_000 }).returning('id');
  ids.checkoutId = c.id;
});
test.after.always(async () => {
  await e?.stop();
});

function keysOf(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => keysOf(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.add(k); keysOf(x, out); }
  return out;
}

test.serial('finance through every route of the OpenAPI document: 403 outside the allowed list, no health field or text inside it', async (t) => {
  const doc = (await e.admin.get('/api/v1/openapi.json')).body as { paths: Record<string, Record<string, { 'x-permission': string }>> };
  const granted = new Set<string>();
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => { if (!ok) problems.push(what); };
  let walked = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const label = `${method.toUpperCase()} ${path}`;
      const access = op['x-permission'];
      if (access !== 'public' && access !== 'authenticated' && permits({ roles: ['finance'] }, access as never) && access !== 'session.self') granted.add(label);
      let url = path.replace(/\{([A-Za-z_]+)\}/g, (_, name: string) => ids[name] ?? randomUUID());
      if (path.startsWith('/api/v1/reports/finance')) url += `?from=${today().slice(0, 8)}01&to=${today()}`;
      const client = await clientAs(e.app, e.organizationId, ['finance']);
      const res = await client.request(method.toUpperCase(), url, method === 'get' ? undefined : {});
      walked++;
      check(res.status < 500, `${label}: ${res.status} ${res.text.slice(0, 200)}`);
      for (const s of [HEALTH.diagnosis, HEALTH.plan, HEALTH.item, 'L63.1']) check(!res.text.includes(s), `${label} leaks "${s}"`);
      if (access === 'public' || access === 'authenticated' || access === 'session.self') continue;
      if (!ALLOWED.has(label)) {
        check(res.status === 403, `${label} (${access}) must be closed to finance: ${res.status} ${res.text.slice(0, 160)}`);
        continue;
      }
      check(![401, 403].includes(res.status), `${label}: ${res.status} ${res.text.slice(0, 200)}`);
      if ((res.headers.get('content-type') ?? '').includes('json')) {
        const keys = keysOf(res.body);
        for (const f of HEALTH_FIELDS) check(!(keys.has(f) && !(f === 'description' && label.includes('quote'))), `${label} has a field "${f}"`);
        // item descriptions: present as a field but always null for finance
        for (const q of [res.body?.quote, ...(res.body?.quotes ?? [])].filter(Boolean)) {
          for (const i of q.items ?? []) check(i.description === null, `${label}: item description`);
        }
      }
    }
  }
  t.deepEqual(problems, []);
  t.deepEqual([...granted].sort(), [...ALLOWED].sort(), 'the allowed list equals what the permission table grants finance');
  t.true(walked > 100, `walked ${walked} routes`);
  t.log(`walked ${walked} routes, ${ALLOWED.size} open to finance`);
});

test.serial('coordinators and doctors see quotes with descriptions, staff none; admin too', async (t) => {
  for (const [roles, status, described] of [[['doctor'], 200, true], [['coordinator'], 200, true], [['admin'], 200, true], [['staff'], 403, false]] as const) {
    const c = await clientAs(e.app, e.organizationId, [...roles]);
    const res = await c.get(`/api/v1/quotes/${ids.quoteId}`);
    t.is(res.status, status, `${roles}: ${res.text.slice(0, 200)}`);
    if (status === 200) t.is(res.body.quote.items[0].description === HEALTH.item, described);
  }
});
