// API conventions: health, OpenAPI, request ids, error shape, bad input, security headers, metrics.
import test from 'ava';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';

let app: TestApp;
let admin: Client;

test.before(async () => {
  app = await startTestApp();
  admin = (await setupInstance(app)).client;
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

test('healthz and readyz answer; readyz reports the seal state', async (t) => {
  const c = app.client();
  t.deepEqual((await c.get('/healthz')).body, { status: 'ok' });
  const ready = await c.get('/readyz');
  t.like(ready.body, { database: 'ok', sealed: false, initialized: true });
});

test('the OpenAPI document lists every route with its permission', async (t) => {
  const doc = (await app.client().get('/api/v1/openapi.json')).body;
  t.is(doc.openapi, '3.1.0');
  t.truthy(doc.paths['/api/v1/setup'].post.requestBody);
  t.is(doc.paths['/api/v1/audit'].get['x-permission'], 'audit.read');
  t.true(doc.paths['/api/v1/audit'].get.parameters.some((p: { name: string }) => p.name === 'limit'));
});

test('the served OpenAPI document describes each answer: status, schema, named components', async (t) => {
  const doc = (await app.client().get('/api/v1/openapi.json')).body;
  const created = doc.paths['/api/v1/patients'].post.responses['201'].content['application/json'].schema;
  t.deepEqual(created.properties.patient, { $ref: '#/components/schemas/Patient' });
  t.true(doc.components.schemas.Patient.required.includes('birthDate'));
  t.truthy(doc.paths['/api/v1/installation/operators/{userId}'].delete.responses['204']);
  t.truthy(doc.paths['/api/v1/backup/runs'].post.responses['202']);
  t.truthy(doc.paths['/api/v1/patients/{id}/documents/{documentId}/content'].get.responses['200'].content['image/jpeg']);
  t.is(doc.paths['/api/v1/session'].get.responses['401'].$ref, '#/components/responses/Error');
});

test('every response carries a request id; a well-formed incoming one is kept', async (t) => {
  const res = await app.client().get('/healthz', { 'x-request-id': 'proxy-req-12345678' });
  t.is(res.headers.get('x-request-id'), 'proxy-req-12345678');
  const other = await app.client().get('/healthz', { 'x-request-id': 'bad id with spaces' });
  t.regex(other.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
});

test('security headers: CSP without inline scripts, no framing, nosniff, referrer policy', async (t) => {
  const res = await app.client().get('/');
  const csp = res.headers.get('content-security-policy')!;
  t.regex(csp, /script-src 'self'(;|$)/);
  t.notRegex(csp, /unsafe-inline/);
  t.regex(csp, /frame-ancestors 'none'/);
  t.is(res.headers.get('x-content-type-options'), 'nosniff');
  t.is(res.headers.get('referrer-policy'), 'no-referrer');
  t.is(res.headers.get('strict-transport-security'), null, 'no HSTS on plain http');
});

test('HSTS is sent when the public URL is https', async (t) => {
  const tls = await startTestApp({ PRAXISKERN_PUBLIC_URL: 'https://praxis.example' });
  t.teardown(async () => {
    await tls.stop();
    await tls.db.drop();
  });
  const res = await tls.client().get('/healthz');
  t.regex(res.headers.get('strict-transport-security')!, /max-age=31536000/);
  t.regex(res.headers.getSetCookie().join(), /secure/i);
});

test('unknown API paths get a JSON 404', async (t) => {
  const res = await admin.get('/api/v1/nope');
  t.is(res.status, 404);
  t.is(res.body.error, 'not_found');
});

test('state-changing requests without the CSRF header are refused', async (t) => {
  const res = await admin.post('/api/v1/auth/logout-everywhere', undefined, { 'x-csrf-token': '' });
  t.is(res.status, 403);
  t.is(res.body.error, 'csrf_failed');
  const wrong = await admin.post('/api/v1/auth/logout-everywhere', undefined, { 'x-csrf-token': 'forged' });
  t.is(wrong.status, 403);
});

const badBodies: [string, string | Buffer, Record<string, string>, number, RegExp][] = [
  ['malformed JSON', '{"locale": ', { 'content-type': 'application/json' }, 400, /body/],
  ['wrong content type', 'locale=de', { 'content-type': 'application/x-www-form-urlencoded' }, 415, /content-type/],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x6c, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { 'content-type': 'application/json' }, 400, /body/],
  ['unknown field', JSON.stringify({ locale: 'de', admin: true }), { 'content-type': 'application/json' }, 400, /body\.admin/],
  ['wrong value', JSON.stringify({ locale: 'fr' }), { 'content-type': 'application/json' }, 400, /body\.locale/],
  ['oversized', JSON.stringify({ locale: 'x'.repeat(2 * 1024 * 1024) }), { 'content-type': 'application/json' }, 413, /payload_too_large/],
];
for (const [name, body, headers, status, field] of badBodies) {
  test(`bad input (${name}) gets ${status} naming the field, never a 500`, async (t) => {
    const res = await admin.request('PATCH', '/api/v1/session/locale', body, headers);
    t.is(res.status, status, res.text);
    t.regex(JSON.stringify(res.body), field);
    t.truthy(res.body.message);
  });
}

test('over-long strings are refused naming the field', async (t) => {
  const res = await app.client().post('/api/v1/setup', {
    organizationName: 'x'.repeat(500), organizationSlug: 'ok-slug', adminUsername: 'admin', adminDisplayName: 'A',
    adminPassword: 'a'.repeat(20), passphrase: 'b'.repeat(20), totpSecret: 'A'.repeat(32), totpCode: '123456',
  });
  t.is(res.status, 400);
  t.true(res.body.details.some((d: { field: string }) => d.field === 'body.organizationName'));
});

test('a second setup is refused and changes nothing', async (t) => {
  const res = await app.client().post('/api/v1/setup', {
    organizationName: 'Evil', organizationSlug: 'evil', adminUsername: 'evil', adminDisplayName: 'E',
    adminPassword: 'a'.repeat(20), passphrase: 'b'.repeat(20), totpSecret: 'A'.repeat(32), totpCode: '123456',
  });
  t.is(res.status, 409);
  const count = await app.services.db.raw('select org_count() as n');
  t.is(Number(count.rows[0].n), 1);
});

test('metrics are served on the separate port: request histogram, process, seal state', async (t) => {
  await app.client().get('/healthz');
  const text = await (await fetch(app.metricsUrl)).text();
  t.regex(text, /praxiskern_http_request_duration_seconds_bucket\{.*route="\/healthz".*\}/);
  t.regex(text, /praxiskern_process_cpu_seconds_total/);
  t.regex(text, /praxiskern_sealed 0/);
  t.regex(text, /# TYPE praxiskern_logins_total counter/);
  const onApiPort = await app.client().get('/metrics');
  t.not(onApiPort.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
});

test('unauthenticated access to a protected route gets 401', async (t) => {
  const res = await app.client().get('/api/v1/audit');
  t.is(res.status, 401);
  t.is(res.body.error, 'unauthenticated');
});
