// Finance (issue 14, item 3) against the real server, PostgreSQL and the real `stripe` SDK pointed
// at a local server that speaks Stripe's API and signs webhooks like Stripe: quotes with VAT per
// item and totals per line (half-up), who sees item descriptions, deposits, payments and refunds by
// hand, the finance view (open/overdue), receipts, Stripe opt-in (audited), payment links with no
// health data, signed webhooks (forged/old → 400 and nothing recorded, replay counted once, out of
// order), refunds through Stripe counted once, the circuit breaker, the finance report (a report
// of the reports module: fixed figures, the organization's minimum count, roles) and CSV,
// and bad input → 400 naming the field.
import test from 'ava';
import { HEALTH, installStripeSecrets, item, patientWithPlan, startFinanceEnv, type FinanceEnv } from './finance-fixtures.ts';
import { recordedOnceAtChange, registerSwitches } from '../helpers/register-switches.ts';
import { berlinDay } from '../helpers/days.ts';

let e: FinanceEnv;
const today = () => berlinDay();
const addDays = (day: string, n: number) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

test.before(async () => {
  e = await startFinanceEnv();
});
test.after.always(async () => {
  await e?.stop();
});

async function sentQuote(items = [item()], extra: Record<string, unknown> = {}) {
  const p = await patientWithPlan(e.admin);
  const q = await e.doctor.post(`/api/v1/patients/${p.id}/quotes`, { planEntryId: p.planEntryId, currency: 'EUR', items, ...extra });
  if (q.status !== 201) throw new Error(`${q.status} ${q.text}`);
  const s = await e.finance.post(`/api/v1/quotes/${q.body.quote.id}/status`, { status: 'sent' });
  if (s.status !== 200) throw new Error(`${s.status} ${s.text}`);
  return { patient: p, quote: s.body.quote };
}

const count = async (table: string) => Number((await e.owner(table).where({ organization_id: e.organizationId }).count<{ n: string }[]>('* as n'))[0].n);

test.serial('a quote: totals per line half-up, VAT per item (§ 4 Nr. 14 exempt, 19 %, 7 %); descriptions only for clinical roles; staff cannot see money', async (t) => {
  const p = await patientWithPlan(e.admin);
  const items = [
    item({ quantity: 1, unitCents: 350_000, vatCategory: 'medical_exempt' }),
    item({ description: 'Kosmetische Nachbehandlung', quantity: 3, unitCents: 3_333, vatCategory: 'standard' }), // 9999 × 19 % = 1899.81 → 1900
    item({ description: 'Pflegeprodukt', quantity: 1, unitCents: 1_250, vatCategory: 'reduced' }), // 87.5 → 88 (half-up)
  ];
  const res = await e.doctor.post(`/api/v1/patients/${p.id}/quotes`, { planEntryId: p.planEntryId, currency: 'EUR', items, dueDate: addDays(today(), 30) });
  t.is(res.status, 201, res.text);
  const q = res.body.quote;
  t.regex(q.reference, /^KV-[0-9A-Z]{8}$/);
  t.deepEqual(q.items.map((i: { netCents: number; vatCents: number }) => [i.netCents, i.vatCents]), [[350_000, 0], [9_999, 1_900], [1_250, 88]]);
  t.is(q.netCents, 361_249);
  t.is(q.vatCents, 1_988);
  t.is(q.totalCents, 363_237);
  t.deepEqual(q.vatByRate, [{ vatRateBp: 0, netCents: 350_000, vatCents: 0 }, { vatRateBp: 700, netCents: 1_250, vatCents: 88 }, { vatRateBp: 1900, netCents: 9_999, vatCents: 1_900 }]);
  t.is(q.items[0].description, HEALTH.item);
  t.true(q.descriptionsVisible);
  // finance: amounts and the neutral reference, no description
  const fin = await e.finance.get(`/api/v1/quotes/${q.id}`);
  t.is(fin.status, 200, fin.text);
  t.false(fin.body.quote.descriptionsVisible);
  t.true(fin.body.quote.items.every((i: { description: string | null }) => i.description === null));
  t.is(fin.body.quote.totalCents, 363_237);
  t.false(fin.text.includes(HEALTH.item) || fin.text.includes('Kosmetische'), 'no description reaches finance');
  t.is((await e.finance.post(`/api/v1/patients/${p.id}/quotes`, { planEntryId: p.planEntryId, currency: 'EUR', items })).status, 403, 'finance writes no line items');
  t.is((await e.staff.get(`/api/v1/quotes/${q.id}`)).status, 403);
  t.is((await e.coordinator.get(`/api/v1/patients/${p.id}/quotes`)).body.quotes[0].items[0].description, HEALTH.item);
  // encrypted at rest
  const row = await e.owner('quotes').where({ id: q.id }).first('descriptions');
  t.false(Buffer.from(row.descriptions).toString('latin1').includes('FUE'));
  // audited reads
  const reads = await e.owner('audit_log').where({ action: 'patient.finance.read', object_id: p.id });
  t.true(reads.length >= 2);
});

test.serial('bad input is a 400 naming the field (negative amounts, unknown currency, NUL bytes, huge quantities, JSON null), never a 500', async (t) => {
  const p = await patientWithPlan(e.admin);
  const base = { planEntryId: p.planEntryId, currency: 'EUR', items: [item()] };
  const cases: [unknown, string][] = [
    [{ ...base, currency: 'USD' }, 'body.currency'],
    [{ ...base, currency: 'eur' }, 'body.currency'],
    [{ ...base, items: [item({ unitCents: -100 })] }, 'body.items.0.unitCents'],
    [{ ...base, items: [item({ unitCents: 10.5 })] }, 'body.items.0.unitCents'],
    [{ ...base, items: [item({ quantity: 0 })] }, 'body.items.0.quantity'],
    [{ ...base, items: [item({ quantity: 2 ** 53 })] }, 'body.items.0.quantity'],
    [{ ...base, items: [item({ quantity: 10_001 })] }, 'body.items.0.quantity'],
    [{ ...base, items: [item({ unitCents: 1e15 })] }, 'body.items.0.unitCents'],
    [{ ...base, items: [item({ description: 'Entnahme\u0000Hinterkopf' })] }, 'body.items.0.description'],
    [{ ...base, items: [item({ vatCategory: 'zero' })] }, 'body.items.0.vatCategory'],
    [{ ...base, items: [] }, 'body.items'],
    [{ ...base, planEntryId: crypto.randomUUID() }, 'body.planEntryId'],
    [{ ...base, validUntil: '2020-01-01' }, 'body.validUntil'],
    [{ ...base, dueDate: '2026-02-30' }, 'body.dueDate'],
  ];
  for (const [body, field] of cases) {
    const res = await e.admin.post(`/api/v1/patients/${p.id}/quotes`, body);
    t.is(res.status, 400, `${field}: ${res.text}`);
    t.true(res.body.details.some((d: { field: string }) => d.field === field), `${field}: ${res.text}`);
  }
  for (const raw of ['null', '{"planEntryId":"x","currency":"EUR","items":[{"description":"a","quantity":1e400,"unitCents":1,"vatCategory":"standard"}]}']) {
    const res = await e.admin.request('POST', `/api/v1/patients/${p.id}/quotes`, raw, { 'content-type': 'application/json' });
    t.is(res.status, 400, res.text);
  }
  const { quote } = await sentQuote();
  const money: [string, unknown, string][] = [
    [`/api/v1/quotes/${quote.id}/payments`, { amountCents: -5, method: 'cash', paidOn: today() }, 'body.amountCents'],
    [`/api/v1/quotes/${quote.id}/payments`, { amountCents: 0, method: 'cash', paidOn: today() }, 'body.amountCents'],
    [`/api/v1/quotes/${quote.id}/payments`, { amountCents: 500, method: 'paypal', paidOn: today() }, 'body.method'],
    [`/api/v1/quotes/${quote.id}/payments`, { amountCents: 500, method: 'cash', paidOn: addDays(today(), 3) }, 'body.paidOn'],
    [`/api/v1/quotes/${quote.id}/payments`, { amountCents: 500, method: 'cash', paidOn: today(), reference: 'a\u0000b' }, 'body.reference'],
    [`/api/v1/quotes/${quote.id}/deposits`, { amountCents: -1, dueDate: today() }, 'body.amountCents'],
    [`/api/v1/quotes/${quote.id}/deposits`, { amountCents: 100_001, dueDate: today() }, 'body.amountCents'],
    [`/api/v1/quotes/${quote.id}/status`, { status: 'paid' }, 'body.status'],
    ['/api/v1/reports/finance?from=2026-05-01&to=2026-04-01', undefined, 'query.to'],
  ];
  for (const [url, body, field] of money) {
    const res = body === undefined ? await e.finance.get(url) : await e.finance.post(url, body);
    t.is(res.status, 400, `${url} ${field}: ${res.text}`);
    t.true(res.body.details.some((d: { field: string }) => d.field === field), `${field}: ${res.text}`);
  }
  t.is(await count('finance_payments'), 0, 'nothing recorded');
});

test.serial('deposits, payments by hand, refunds; the finance view shows open, paid and overdue amounts; a receipt', async (t) => {
  const { patient, quote } = await sentQuote([item({ unitCents: 200_000 })], { dueDate: addDays(today(), 20) });
  let r = await e.finance.post(`/api/v1/quotes/${quote.id}/deposits`, { amountCents: 50_000, dueDate: addDays(today(), -2) });
  t.is(r.status, 201, r.text);
  t.is(r.body.quote.openCents, 50_000, 'before acceptance the deposit is owed');
  t.is(r.body.quote.overdueCents, 50_000, 'its due date has passed');
  const depositId = r.body.quote.deposits[0].id;
  r = await e.finance.post(`/api/v1/quotes/${quote.id}/payments`, { amountCents: 30_000, method: 'bank_transfer', paidOn: today(), depositId, reference: 'SEPA 123' });
  t.is(r.status, 201, r.text);
  t.is(r.body.quote.overdueCents, 20_000);
  r = await e.finance.post(`/api/v1/quotes/${quote.id}/status`, { status: 'accepted' });
  t.is(r.body.quote.status, 'accepted');
  t.is(r.body.quote.openCents, 170_000);
  t.is(r.body.quote.overdueCents, 20_000, 'only the deposit part is overdue before the due date');
  r = await e.finance.post(`/api/v1/quotes/${quote.id}/payments`, { amountCents: 20_000, method: 'card_terminal', paidOn: today() });
  t.is(r.body.quote.overdueCents, 0);
  const cash = r.body.quote.payments.find((p: { method: string }) => p.method === 'card_terminal');
  r = await e.finance.post(`/api/v1/finance/payments/${cash.id}/refunds`, { amountCents: 5_000 });
  t.is(r.status, 201, r.text);
  t.is(r.body.quote.refundedCents, 5_000);
  t.is(r.body.quote.openCents, 155_000);
  t.is((await e.finance.post(`/api/v1/finance/payments/${cash.id}/refunds`, { amountCents: 15_001 })).status, 400, 'refunds never exceed the payment');
  const ov = await e.finance.get(`/api/v1/finance/overview?status=open&q=${encodeURIComponent(patient.familyName.slice(0, 8))}`);
  t.is(ov.status, 200, ov.text);
  const row = ov.body.patients.find((x: { patient: { id: string } }) => x.patient.id === patient.id);
  t.truthy(row);
  t.deepEqual([row.quotedCents, row.paidCents, row.refundedCents, row.openCents, row.overdueCents], [200_000, 50_000, 5_000, 155_000, 5_000], 'the refund reopens part of the overdue deposit');
  t.is(row.patient.email, patient.email);
  t.is((await e.finance.get('/api/v1/finance/overview?status=overdue')).body.patients.filter((x: { patient: { id: string } }) => x.patient.id === patient.id).length, 1);
  t.is((await e.finance.get('/api/v1/finance/overview?status=paid')).body.patients.filter((x: { patient: { id: string } }) => x.patient.id === patient.id).length, 0);
  const receipt = await e.finance.get(`/api/v1/finance/payments/${cash.id}/receipt`);
  t.is(receipt.status, 200, receipt.text);
  t.is(receipt.body.receipt.amountCents, 20_000);
  t.is(receipt.body.receipt.refundedCents, 5_000);
  t.is(receipt.body.receipt.quoteReference, quote.reference);
  t.is(receipt.body.receipt.patient.familyName, patient.familyName);
  t.false(receipt.text.includes(HEALTH.item));
});

test.serial('Stripe is off by default; switching it on needs both secret files and is audited; the register entry follows', async (t) => {
  const { quote } = await sentQuote();
  const off = await e.finance.post(`/api/v1/quotes/${quote.id}/checkout`, {});
  t.is(off.status, 409);
  t.is(off.body.error, 'stripe_disabled');
  t.is((await e.finance.put('/api/v1/finance/settings', { stripeEnabled: true, shareContact: false })).status, 403, 'finance does not switch external services');
  const missing = await e.admin.put('/api/v1/finance/settings', { stripeEnabled: true, shareContact: false });
  t.is(missing.status, 400);
  t.is(missing.body.details[0].field, 'body.stripeEnabled');
  installStripeSecrets(e);
  const org = { organization_id: e.organizationId };
  const { dbNow, read: switches } = registerSwitches(e.app.db.ownerUrl, e.organizationId, 'stripe');
  const t0 = await dbNow();
  const on = await e.admin.put('/api/v1/finance/settings', { stripeEnabled: true, shareContact: false });
  const t1 = await dbNow();
  t.is(on.status, 200, on.text);
  t.true(on.body.stripeEnabled && on.body.secretKeyInstalled && on.body.webhookSecretInstalled);
  t.is(on.body.webhookPath, `/webhooks/stripe/${e.organizationId}`);
  // Recorded and audited once, by the register, in the settings change itself (before any read of the register).
  const afterOn = await switches();
  recordedOnceAtChange(t, afterOn, t0, t1, 'stripe.external_service.enabled');
  t.like(afterOn.audits[0].details, { name: 'Stripe', location: 'IE', thirdCountry: 'indirect', details: { shareContact: 'no' } }, 'the audit says whether name and e-mail go to Stripe');
  t.false((afterOn.audits[0].details.dataCategoryCodes as string[]).includes('email_address'));
  // The live register of external services lists Stripe as on, with what it receives.
  const register = await e.admin.get('/api/v1/services-register');
  t.is(register.status, 200, register.text);
  const entry = register.body.entries.find((x: { key: string }) => x.key === 'stripe');
  t.truthy(entry, 'Stripe is in the register');
  t.true(entry.enabled);
  t.truthy(entry.since);
  t.is(entry.thirdCountry, 'indirect');
  t.false(entry.dataCategoryCodes.includes('email_address'));
  t.deepEqual((await switches()).audits.map((a) => a.action), ['stripe.external_service.enabled'], 'reading the register audits nothing again');
  // Switched off and on again: each switch once, at the change, by the settings request; a read adds nothing.
  t.is((await e.admin.put('/api/v1/finance/settings', { stripeEnabled: false, shareContact: false })).status, 200);
  const afterOff = await switches();
  t.deepEqual(afterOff.events.map((x) => x.enabled).slice(-1), [false]);
  t.deepEqual(afterOff.audits.map((a) => a.action), ['stripe.external_service.enabled', 'stripe.external_service.disabled']);
  t.truthy(afterOff.audits[1].request_id, 'written by the settings request');
  t.is((await e.admin.get('/api/v1/services-register')).status, 200);
  t.is((await e.admin.put('/api/v1/finance/settings', { stripeEnabled: true, shareContact: false })).status, 200);
  t.is((await e.admin.get('/api/v1/services-register')).status, 200);
  const final = await switches();
  t.deepEqual(final.audits.map((a) => a.action), ['stripe.external_service.enabled', 'stripe.external_service.disabled', 'stripe.external_service.enabled']);
  t.deepEqual(final.events.filter((x) => x.enabled).length, 2);
  t.is(await e.owner('audit_log').where(org).whereIn('action', ['finance.external_service.enabled', 'finance.external_service.disabled']).first(), undefined, 'the finance module no longer audits the switch itself');
});

test.serial('a payment link per deposit sends only amount, currency and a neutral description to Stripe; paid by a signed webhook; forged, old and replayed events', async (t) => {
  const { patient, quote } = await sentQuote([item({ unitCents: 120_000 })]);
  const dep = await e.finance.post(`/api/v1/quotes/${quote.id}/deposits`, { amountCents: 40_000, dueDate: today() });
  const deposit = dep.body.quote.deposits[0];
  const before = e.stripe.requests.length;
  const res = await e.finance.post(`/api/v1/quotes/${quote.id}/checkout`, { depositId: deposit.id });
  t.is(res.status, 201, res.text);
  const { checkout } = res.body;
  t.is(checkout.amountCents, 40_000);
  t.true(checkout.url.startsWith(e.stripe.url));
  const sent = e.stripe.requests.slice(before);
  t.is(sent.length, 1);
  t.is(sent[0].form['line_items[0][price_data][unit_amount]'], '40000');
  t.is(sent[0].form['line_items[0][price_data][currency]'], 'eur');
  t.is(sent[0].form['line_items[0][price_data][product_data][name]'], `Anzahlung ${deposit.reference}`);
  for (const secret of [HEALTH.diagnosis, HEALTH.plan, HEALTH.item, patient.email, patient.familyName, 'L63']) t.false(sent[0].raw.includes(encodeURIComponent(secret).slice(0, 12)) || decodeURIComponent(sent[0].raw).includes(secret), `${secret} not sent to Stripe`);
  t.false("customer_email" in sent[0].form);
  t.truthy(sent[0].idempotencyKey);

  const paid = e.stripe.pay(checkout.sessionId);
  const ev = e.stripe.event('checkout.session.completed', paid);
  // forged: signed with another secret; tampered body; old timestamp; no header
  const paymentsBefore = await count('finance_payments');
  const eventsBefore = await count('stripe_events');
  const forged = [
    await e.stripe.send(e.webhookUrl, ev.payload, { secret: 'whsec_forged' }),
    await e.stripe.send(e.webhookUrl, ev.payload.replace('"paid"', '"paid" '), { header: e.stripe.signature(ev.payload) }),
    await e.stripe.send(e.webhookUrl, ev.payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 }),
    await e.stripe.send(e.webhookUrl, ev.payload, { header: null }),
    await e.stripe.send(e.webhookUrl, ev.payload, { header: 't=abc,v1=zz' }),
  ];
  for (const f of forged) {
    t.is(f.status, 400, JSON.stringify(f.body));
    t.is((f.body as { error: string }).error, 'invalid_signature');
  }
  t.is(await count('finance_payments'), paymentsBefore, 'a forged event records nothing');
  t.is(await count('stripe_events'), eventsBefore, 'not even the event');
  const ok = await e.stripe.send(e.webhookUrl, ev.payload);
  t.is(ok.status, 200, JSON.stringify(ok.body));
  t.is((ok.body as { outcome: string }).outcome, 'applied');
  for (let i = 0; i < 3; i++) {
    const again = await e.stripe.send(e.webhookUrl, ev.payload);
    t.is(again.status, 200);
    t.is((again.body as { outcome: string }).outcome, 'duplicate');
  }
  // the same session reported by a second event (Stripe may send both): still one payment
  t.is((await e.stripe.send(e.webhookUrl, e.stripe.event('checkout.session.async_payment_succeeded', paid).payload)).status, 200);
  const q = (await e.finance.get(`/api/v1/quotes/${quote.id}`)).body.quote;
  t.is(q.payments.length, 1, 'counted once');
  t.is(q.payments[0].method, 'stripe');
  t.is(q.payments[0].amountCents, 40_000);
  t.is(q.payments[0].depositId, deposit.id);
  t.is(q.deposits[0].paidCents, 40_000);
  t.is(q.checkouts[0].status, 'complete');
  // expired after complete (out of order): stays complete
  t.is((await e.stripe.send(e.webhookUrl, e.stripe.event('checkout.session.expired', { ...paid, status: 'expired' }).payload)).status, 200);
  t.is((await e.finance.get(`/api/v1/quotes/${quote.id}`)).body.quote.checkouts[0].status, 'complete');
  t.truthy(await e.owner('audit_log').where({ action: 'finance.payment.stripe', object_id: patient.id }).first());
  // an unknown organization or a malformed path answers without recording
  t.is((await e.stripe.send(`${e.app.url}/webhooks/stripe/${crypto.randomUUID()}`, ev.payload)).status, 503);
  t.is((await e.stripe.send(`${e.app.url}/webhooks/stripe/not-a-uuid`, ev.payload)).status, 404);
});

test.serial('out of order: a refund event before its payment waits and is applied once the payment arrives; a Stripe refund from the app is counted once', async (t) => {
  const { quote } = await sentQuote([item({ unitCents: 80_000 })]);
  await e.finance.post(`/api/v1/quotes/${quote.id}/status`, { status: 'accepted' });
  const { checkout } = (await e.finance.post(`/api/v1/quotes/${quote.id}/checkout`, {})).body;
  t.is(checkout.amountCents, 80_000);
  const paid = e.stripe.pay(checkout.sessionId);
  const refund = { id: `re_test_early_${checkout.sessionId.slice(-6)}`, object: 'refund', amount: 10_000, payment_intent: paid.payment_intent, status: 'succeeded', created: Math.floor(Date.now() / 1000), currency: 'eur' };
  const early = await e.stripe.send(e.webhookUrl, e.stripe.event('refund.created', refund).payload);
  t.is((early.body as { outcome: string }).outcome, 'deferred');
  t.is((await e.finance.get(`/api/v1/quotes/${quote.id}`)).body.quote.refundedCents, 0);
  await e.stripe.send(e.webhookUrl, e.stripe.event('checkout.session.completed', paid).payload);
  let q = (await e.finance.get(`/api/v1/quotes/${quote.id}`)).body.quote;
  t.is(q.paidCents, 80_000);
  t.is(q.refundedCents, 10_000, 'the early refund is applied');
  t.is(q.openCents, 10_000);
  // the refund's later update: same refund id, counted once
  await e.stripe.send(e.webhookUrl, e.stripe.event('refund.updated', refund).payload);
  // a refund through Stripe from the app, then Stripe's webhook for it
  const before = e.stripe.requests.length;
  const r = await e.finance.post(`/api/v1/finance/payments/${q.payments[0].id}/refunds`, { amountCents: 5_000 });
  t.is(r.status, 201, r.text);
  const call = e.stripe.requests.slice(before).find((x) => x.path === '/v1/refunds')!;
  t.is(call.form.amount, '5000');
  t.is(call.form.payment_intent, String(paid.payment_intent));
  const stripeRefund = r.body.quote.payments[0].refunds.find((x: { amountCents: number }) => x.amountCents === 5_000);
  t.truthy(stripeRefund.stripeRefundId);
  await e.stripe.send(e.webhookUrl, e.stripe.event('refund.created', { ...refund, id: stripeRefund.stripeRefundId, amount: 5_000 }).payload);
  q = (await e.finance.get(`/api/v1/quotes/${quote.id}`)).body.quote;
  t.is(q.refundedCents, 15_000, 'each refund counted once');
  t.is(q.payments[0].refunds.length, 2);
  // a failed refund is taken back
  await e.stripe.send(e.webhookUrl, e.stripe.event('refund.updated', { ...refund, status: 'failed' }).payload);
  t.is((await e.finance.get(`/api/v1/quotes/${quote.id}`)).body.quote.refundedCents, 5_000);
  // refresh asks Stripe (retrieve) and changes nothing that is already recorded
  const ref = await e.finance.post(`/api/v1/finance/checkouts/${checkout.id}/refresh`, {});
  t.is(ref.status, 200, ref.text);
  t.is(ref.body.quote.payments.length, 1);
});

test.serial('a webhook that never came: refresh retrieves the session from Stripe and records the payment once', async (t) => {
  const { quote } = await sentQuote([item({ unitCents: 30_000 })]);
  await e.finance.post(`/api/v1/quotes/${quote.id}/status`, { status: 'accepted' });
  const { checkout } = (await e.finance.post(`/api/v1/quotes/${quote.id}/checkout`, {})).body;
  let r = await e.finance.post(`/api/v1/finance/checkouts/${checkout.id}/refresh`, {});
  t.is(r.body.checkout.status, 'open');
  t.is(r.body.quote.paidCents, 0);
  const paid = e.stripe.pay(checkout.sessionId);
  r = await e.finance.post(`/api/v1/finance/checkouts/${checkout.id}/refresh`, {});
  t.is(r.body.checkout.status, 'complete');
  t.is(r.body.quote.paidCents, 30_000);
  const late = await e.stripe.send(e.webhookUrl, e.stripe.event('checkout.session.completed', paid).payload);
  t.is((late.body as { outcome: string }).outcome, 'applied');
  t.is((await e.finance.get(`/api/v1/quotes/${quote.id}`)).body.quote.payments.length, 1, 'the late webhook adds no second payment');
});

test.serial('the circuit breaker: after 3 failing calls Stripe is not called until the half-open trial succeeds', async (t) => {
  const { quote } = await sentQuote([item({ unitCents: 10_000 })]);
  await e.finance.post(`/api/v1/quotes/${quote.id}/status`, { status: 'accepted' });
  e.stripe.failNext(3);
  for (let i = 0; i < 3; i++) {
    const r = await e.finance.post(`/api/v1/quotes/${quote.id}/checkout`, {});
    t.is(r.status, 503, r.text);
    t.is(r.body.error, 'stripe_unavailable');
  }
  const calls = e.stripe.requests.length;
  const open = await e.finance.post(`/api/v1/quotes/${quote.id}/checkout`, {});
  t.is(open.status, 503);
  t.is(e.stripe.requests.length, calls, 'the open breaker does not call Stripe');
  t.is(await e.owner('stripe_checkouts').where({ quote_id: quote.id }).count<{ n: string }[]>('* as n').then((x) => Number(x[0].n)), 0, 'nothing recorded');
  const deadline = Date.now() + 10_000;
  let r = open;
  while (r.status === 503 && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 200));
    r = await e.finance.post(`/api/v1/quotes/${quote.id}/checkout`, {});
  }
  t.is(r.status, 201, r.text);
});

test.serial('sharing name and e-mail with Stripe is a separate, audited choice', async (t) => {
  const r = await e.admin.put('/api/v1/finance/settings', { stripeEnabled: true, shareContact: true });
  t.is(r.status, 200);
  const { patient, quote } = await sentQuote([item({ unitCents: 10_000 })]);
  await e.finance.post(`/api/v1/quotes/${quote.id}/status`, { status: 'accepted' });
  const before = e.stripe.requests.length;
  t.is((await e.finance.post(`/api/v1/quotes/${quote.id}/checkout`, {})).status, 201);
  const sent = e.stripe.requests.slice(before)[0];
  t.is(sent.form.customer_email, patient.email);
  t.false(decodeURIComponent(sent.raw).includes(HEALTH.item));
  t.truthy(await e.owner('audit_log').where({ action: 'finance.external_service.changed' }).first());
  await e.admin.put('/api/v1/finance/settings', { stripeEnabled: true, shareContact: false });
});

test.serial('the finance report: payments, refunds and open amounts by month in cents, the previous period, suppression of small patient counts, CSV', async (t) => {
  const from = `${today().slice(0, 7)}-01`;
  const to = today();
  const r = await e.finance.get(`/api/v1/reports/finance?from=${from}&to=${to}&granularity=month`);
  t.is(r.status, 200, r.text);
  t.is(r.body.report, 'finance');
  t.is(r.body.minCount, 5);
  const row = r.body.rows.at(-1);
  const payments = await e.owner('finance_payments').where({ organization_id: e.organizationId }).where('paid_on', '>=', from).sum<{ s: string }[]>('amount_cents as s');
  const refunds = await e.owner('finance_refunds').where({ organization_id: e.organizationId }).where('refunded_on', '>=', from).sum<{ s: string }[]>('amount_cents as s');
  t.is(row.values.paymentsCents, Number(payments[0].s));
  t.is(row.values.refundsCents, Number(refunds[0].s));
  t.true(row.values.paymentsCents > 0);
  const payers = Number((await e.owner('finance_payments').where({ organization_id: e.organizationId }).where('paid_on', '>=', from).countDistinct<{ n: string }[]>('patient_id as n'))[0].n);
  if (payers < 5) {
    t.is(row.values.payingPatients, null);
    t.deepEqual(row.suppressed, ['payingPatients']);
  } else t.is(row.values.payingPatients, payers);
  t.truthy(r.body.previous.rows.length);
  t.is(r.body.previous.to, addDays(from, -1));
  const csv = await e.finance.get(`/api/v1/reports/finance.csv?from=${from}&to=${to}&granularity=month`);
  t.is(csv.status, 200);
  t.regex(csv.headers.get('content-type') ?? '', /text\/csv/);
  t.true(csv.text.replace(/^\uFEFF/, '').startsWith('Range,Period,Quotes sent (EUR cents),Deposits requested (EUR cents),Payments received (EUR cents),Refunds (EUR cents),Open at the end of the period (EUR cents),Paying patients\r\n'), csv.text.slice(0, 200));
  t.true(csv.text.includes(String(row.values.paymentsCents)));
  t.is((await e.staff.get(`/api/v1/reports/finance?from=${from}&to=${to}`)).status, 403);
});

test.serial('the finance report is a report of the reports module: fixed figures by month, the organization\'s minimum count, the same shape as the other reports, CSV in cents', async (t) => {
  // six patients, each a quote of 1.000,00 € sent on 3 March 2025 and accepted on 4 March; a deposit of
  // 200,00 €; four pay in full on 20 March, two pay half on 10 April; 100,00 € refunded on 15 April
  const quotes: { id: string; patientId: string }[] = [];
  for (let i = 0; i < 6; i++) {
    const { patient, quote } = await sentQuote([item({ unitCents: 100_000 })]);
    t.is((await e.finance.post(`/api/v1/quotes/${quote.id}/status`, { status: 'accepted' })).status, 200);
    quotes.push({ id: quote.id, patientId: patient.id });
  }
  const ids = quotes.map((q) => q.id);
  await e.owner('quotes').whereIn('id', ids).update({ sent_at: '2025-03-03T10:00:00+01:00', decided_at: '2025-03-04T10:00:00+01:00' });
  const deposit = await e.finance.post(`/api/v1/quotes/${ids[0]}/deposits`, { amountCents: 20_000, dueDate: '2025-03-15' });
  t.is(deposit.status, 201, deposit.text);
  await e.owner('finance_deposits').where({ quote_id: ids[0] }).update({ created_at: '2025-03-05T09:00:00+01:00' });
  for (const [i, id] of ids.entries()) {
    const body = i < 4 ? { amountCents: 100_000, method: 'bank_transfer', paidOn: '2025-03-20' } : { amountCents: 50_000, method: 'cash', paidOn: '2025-04-10' };
    const res = await e.finance.post(`/api/v1/quotes/${id}/payments`, body);
    t.is(res.status, 201, res.text);
  }
  const payment = await e.owner('finance_payments').where({ quote_id: ids[0] }).first('id');
  t.is((await e.finance.post(`/api/v1/finance/payments/${payment.id}/refunds`, { amountCents: 10_000 })).status, 201);
  await e.owner('finance_refunds').where({ payment_id: payment.id }).update({ refunded_on: '2025-04-15' });

  const q = 'from=2025-03-01&to=2025-04-30&granularity=month';
  const r = (await e.finance.get(`/api/v1/reports/finance?${q}`)).body;
  t.is(r.minCount, 5);
  t.deepEqual(r.series.map((s: { key: string; kind: string }) => [s.key, s.kind]), [
    ['quotesCents', 'cents'], ['depositsCents', 'cents'], ['paymentsCents', 'cents'], ['refundsCents', 'cents'], ['openCents', 'cents'], ['payingPatients', 'count'],
  ]);
  t.deepEqual(r.rows, [
    // open at 31 March: 6 × 1.000 € accepted − 4 × 1.000 € paid; the 4 paying patients are fewer than 5
    { period: '2025-03-01', values: { quotesCents: 600_000, depositsCents: 20_000, paymentsCents: 400_000, refundsCents: 0, openCents: 200_000, payingPatients: null }, suppressed: ['payingPatients'] },
    // open at 30 April: 100 € refunded on the first quote + 2 × 500 € still open
    { period: '2025-04-01', values: { quotesCents: 0, depositsCents: 0, paymentsCents: 100_000, refundsCents: 10_000, openCents: 110_000, payingPatients: null }, suppressed: ['payingPatients'] },
  ]);
  t.deepEqual([r.previous.from, r.previous.to, r.previous.minCount], ['2024-12-30', '2025-02-28', 5]);
  t.deepEqual(r.previous.rows.map((x: { period: string }) => x.period), ['2024-12-01', '2025-01-01', '2025-02-01']);
  t.true(r.previous.rows.every((x: { values: Record<string, number> }) => Object.values(x.values).every((v) => v === 0)), 'nothing before March 2025');
  const weeks = (await e.finance.get('/api/v1/reports/finance?from=2025-03-17&to=2025-03-23&granularity=week')).body;
  t.deepEqual(weeks.rows.map((x: { period: string; values: { paymentsCents: number } }) => [x.period, x.values.paymentsCents]), [['2025-03-17', 400_000]]);

  // the minimum count is the organization's report setting (the reports module's): money is never suppressed
  const setMin = (minCount: number) => e.admin.put('/api/v1/report-settings', { minCount, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1, 2, 3, 4, 5] });
  t.is((await setMin(3)).status, 200);
  const three = (await e.finance.get(`/api/v1/reports/finance?${q}`)).body;
  t.is(three.minCount, 3);
  t.deepEqual(three.rows.map((x: { values: { payingPatients: number | null; paymentsCents: number }; suppressed: string[] }) => [x.values.payingPatients, x.values.paymentsCents, x.suppressed]), [[4, 400_000, []], [null, 100_000, ['payingPatients']]]);
  t.is((await setMin(1)).status, 200);
  t.deepEqual((await e.finance.get(`/api/v1/reports/finance?${q}`)).body.rows.map((x: { values: { payingPatients: number } }) => x.values.payingPatients), [4, 2]);
  t.is((await setMin(5)).status, 200);

  // the same shape as the other reports: the same keys at every level and the same schema in the OpenAPI document
  const shape = (v: unknown): unknown => (Array.isArray(v) ? (v.length && typeof v[0] === 'object' ? [shape(v[0])] : 'array') : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, k === 'values' ? 'record' : shape((v as Record<string, unknown>)[k])])) : typeof v);
  const funnel = await e.admin.get(`/api/v1/reports/funnel?${q}`);
  t.is(funnel.status, 200);
  t.deepEqual(shape(r), shape(funnel.body));
  const doc = (await e.admin.get('/api/v1/openapi.json')).body;
  const schemaOf = (path: string) => JSON.stringify(doc.paths[path].get.responses['200'].content['application/json'].schema);
  t.is(schemaOf('/api/v1/reports/finance'), schemaOf('/api/v1/reports/funnel'));
  const [read] = await e.owner('audit_log').where({ organization_id: e.organizationId, action: 'report.read', object_id: 'finance' }).count<{ n: string }[]>('* as n');
  t.true(Number(read.n) >= 5, 'every read audited like the other reports');

  // CSV: integer cents with the unit in the header, the suppressed count empty, the previous period below; only numbers, days and fixed labels
  const csv = await e.finance.get(`/api/v1/reports/finance.csv?${q}&lang=de`);
  t.is(csv.status, 200);
  t.regex(String(csv.headers.get('content-disposition')), /attachment; filename="report-finance-2025-03-01-2025-04-30.csv"/);
  const lines = csv.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
  t.deepEqual(lines, [
    'Zeitraum,Periode,Kostenvoranschläge versendet (EUR-Cent),Anzahlungen angefordert (EUR-Cent),Zahlungseingänge (EUR-Cent),Erstattungen (EUR-Cent),Offen am Periodenende (EUR-Cent),Zahlende Patienten',
    'aktuell,2025-03-01,600000,20000,400000,0,200000,',
    'aktuell,2025-04-01,0,0,100000,10000,110000,',
    'Vorperiode,2024-12-01,0,0,0,0,0,0',
    'Vorperiode,2025-01-01,0,0,0,0,0,0',
    'Vorperiode,2025-02-01,0,0,0,0,0,0',
  ]);
  t.true(lines.slice(1).flatMap((l) => l.split(',')).every((c) => /^(|\d+|\d{4}-\d{2}-\d{2}|aktuell|Vorperiode)$/.test(c)), 'no cell a spreadsheet could run');
  t.is((await e.finance.get(`/api/v1/reports/finance.csv?${q}&lang=fr`)).body.details[0].field, 'query.lang');
  t.is((await e.finance.get('/api/v1/reports/finance?from=2020-01-01&to=2025-04-30')).body.details[0].field, 'query.to');
});

test.serial('roles: finance reads the finance report and no other (403 on each JSON and CSV route); staff read no report; coordinators and doctors read it', async (t) => {
  const q = 'from=2025-03-01&to=2025-04-30&granularity=month';
  for (const name of ['patients', 'funnel', 'appointments', 'utilisation', 'messages', 'response_time']) {
    t.is((await e.finance.get(`/api/v1/reports/${name}?${q}`)).status, 403, name);
    t.is((await e.finance.get(`/api/v1/reports/${name}.csv?${q}`)).status, 403, `${name}.csv`);
    t.is((await e.staff.get(`/api/v1/reports/${name}?${q}`)).status, 403, `staff: ${name}`);
  }
  t.is((await e.finance.get('/api/v1/report-settings')).status, 403, 'the settings are the reports module\'s');
  for (const path of ['finance', 'finance.csv']) t.is((await e.staff.get(`/api/v1/reports/${path}?${q}`)).status, 403, `staff: ${path}`);
  for (const c of [e.coordinator, e.doctor, e.admin]) t.is((await c.get(`/api/v1/reports/finance?${q}`)).body.rows[0].values.paymentsCents, 400_000);
});

test.serial('erasure (Art. 17) removes the patient\'s quotes, payments and refunds; anonymization keeps amounts without descriptions', async (t) => {
  const { patient, quote } = await sentQuote([item({ unitCents: 10_000 })]);
  await e.finance.post(`/api/v1/quotes/${quote.id}/status`, { status: 'accepted' });
  await e.finance.post(`/api/v1/quotes/${quote.id}/payments`, { amountCents: 10_000, method: 'cash', paidOn: today() });
  await e.owner('patients').where({ id: patient.id }).update({ anonymized_at: new Date(), data: null });
  const row = await e.owner('quotes').where({ id: quote.id }).first('descriptions', 'total_cents');
  t.is(row.descriptions, null);
  t.is(Number(row.total_cents), 10_000);
  await e.owner('patients').where({ id: patient.id }).delete();
  for (const table of ['quotes', 'finance_payments', 'finance_deposits', 'finance_refunds', 'stripe_checkouts']) {
    t.is(Number((await e.owner(table).where({ patient_id: patient.id }).count<{ n: string }[]>('* as n'))[0].n), 0, table);
  }
});

test.serial('webhook bad input: NUL bytes in a signed event, a non-object, an oversized body → 4xx and nothing recorded; a payment link whose row was lost is rebuilt from its metadata', async (t) => {
  const events = await count('stripe_events');
  const nul = JSON.stringify({ id: 'evt_\u0000bad', object: 'event', type: 'checkout.session.completed', created: Math.floor(Date.now() / 1000), data: { object: { id: 'cs_x' } } });
  const r1 = await e.stripe.send(e.webhookUrl, nul);
  t.is(r1.status, 400, JSON.stringify(r1.body));
  const r2 = await e.stripe.send(e.webhookUrl, JSON.stringify({ id: 'evt_nullobject', type: 'checkout.session.completed', created: 1, data: { object: null } }));
  t.is(r2.status, 400);
  const big = JSON.stringify({ id: 'evt_big', type: 'x', created: 1, data: { object: { pad: 'x'.repeat(300_000) } } });
  const r3 = await e.stripe.send(e.webhookUrl, big);
  t.is(r3.status, 413);
  const r4 = await e.stripe.send(e.webhookUrl, 'not json at all');
  t.is(r4.status, 400);
  t.is(await count('stripe_events'), events, 'nothing recorded');

  const { quote } = await sentQuote([item({ unitCents: 25_000 })]);
  await e.finance.post(`/api/v1/quotes/${quote.id}/status`, { status: 'accepted' });
  const { checkout } = (await e.finance.post(`/api/v1/quotes/${quote.id}/checkout`, {})).body;
  const sent = e.stripe.sessions.get(checkout.sessionId)!;
  t.deepEqual(Object.keys(sent.metadata).sort(), ['praxiskern_checkout', 'praxiskern_organization', 'praxiskern_quote']);
  await e.owner('stripe_checkouts').where({ id: checkout.id }).delete();
  const paid = e.stripe.pay(checkout.sessionId);
  const res = await e.stripe.send(e.webhookUrl, e.stripe.event('checkout.session.completed', paid).payload);
  t.is((res.body as { outcome: string }).outcome, 'applied');
  const q = (await e.finance.get(`/api/v1/quotes/${quote.id}`)).body.quote;
  t.is(q.paidCents, 25_000);
  t.is(q.checkouts[0].id, checkout.id);
});

test.serial('a restricted record (Art. 18) takes no new quote, payment or payment link (423)', async (t) => {
  const { patient, quote } = await sentQuote([item({ unitCents: 1_000 })]);
  await e.owner('patients').where({ id: patient.id }).update({ restricted_at: new Date() });
  t.is((await e.finance.post(`/api/v1/quotes/${quote.id}/payments`, { amountCents: 100, method: 'cash', paidOn: today() })).status, 423);
  t.is((await e.finance.post(`/api/v1/quotes/${quote.id}/checkout`, {})).status, 423);
  t.is((await e.doctor.post(`/api/v1/patients/${patient.id}/quotes`, { planEntryId: patient.planEntryId, currency: 'EUR', items: [item()] })).status, 423);
  t.is((await e.finance.get(`/api/v1/quotes/${quote.id}`)).status, 200, 'still readable');
});
