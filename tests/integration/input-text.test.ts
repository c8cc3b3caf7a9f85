// Bad text never reaches the database: walks the served OpenAPI document and, for every route, as
// a user holding every role (organization roles and the installation operator), sends a NUL byte in each path parameter, each query parameter and
// each string field of the JSON body (nested objects, arrays and free JSON documents included),
// and a JSON `null` body. Every answer is a 4xx that names the field; none is a 500.
import anyTest, { type TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { ROLES } from '../../app/api/src/core/permissions.ts';
import { fromPg } from '../../app/api/src/core/errors.ts';
import { withScope } from '../../app/api/src/db/connection.ts';
import { createSession } from '../../app/api/src/modules/auth/session.service.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client, Response } from '../helpers/http-client.ts';
import { ownerDb, stopApp } from './auth-fixtures.ts';

interface Ctx { app: TestApp; orgId: string; userId: string; doc: OpenApi }
const test = anyTest as TestFn<Ctx>;

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean;
  anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[]; $ref?: string; $defs?: Record<string, Schema> };
interface Operation { parameters?: { name: string; in: 'path' | 'query' }[]; requestBody?: { content: Record<string, { schema: Schema }> } }
interface OpenApi { paths: Record<string, Record<string, Operation>> }

test.before(async (t) => {
  const app = await startTestApp();
  const { organizationId } = await setupInstance(app);
  const [row] = await ownerDb(app)('users')
    .insert({ organization_id: organizationId, username: 'every-role', display_name: 'Every Role', roles: [...ROLES] })
    .returning('id');
  // …and the installation role, so the installation routes are walked past their permission check too.
  await ownerDb(app)('installation_operators').insert({ user_id: row.id });
  const doc = (await app.client().get('/api/v1/openapi.json')).body as OpenApi;
  t.context = { app, orgId: organizationId, userId: row.id, doc };
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
});

/** A fresh session per request, so no route can end the session the next one uses. */
async function client(t: { context: Ctx }): Promise<Client> {
  const { app, orgId, userId } = t.context;
  const issued = await withScope(app.services.db, { organizationId: orgId, userId }, (trx) =>
    createSession(trx, app.config, { organizationId: orgId, userId, roles: [...ROLES], method: 'local' }));
  const c = app.client();
  c.cookies.set('pk_session', issued.token);
  c.cookies.set('pk_csrf', issued.csrfToken);
  return c;
}

/** Every path inside a JSON schema where a string is accepted (free JSON counts: a string fits). */
function stringPaths(schema: Schema, root: Schema, path: string[] = [], depth = 0): string[][] {
  if (depth > 8) return [];
  if (schema.$ref) return stringPaths(root.$defs?.[schema.$ref.replace('#/$defs/', '')] ?? {}, root, path, depth + 1);
  const variants = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  if (variants.length) return unique(variants.flatMap((v) => stringPaths(v, root, path, depth + 1)));
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.length === 0) return [path];
  const out: string[][] = [];
  if (types.includes('string')) out.push(path);
  if (types.includes('array') && schema.items) out.push(...stringPaths(schema.items, root, [...path, '0'], depth + 1));
  if (types.includes('object')) {
    for (const [key, child] of Object.entries(schema.properties ?? {})) out.push(...stringPaths(child, root, [...path, key], depth + 1));
    if (typeof schema.additionalProperties === 'object') out.push(...stringPaths(schema.additionalProperties, root, [...path, 'extra'], depth + 1));
    else if (!schema.properties && schema.additionalProperties !== false) out.push([...path, 'extra']);
  }
  return out;
}

function unique(paths: string[][]): string[][] {
  return [...new Map(paths.map((p) => [p.join('.'), p])).values()];
}

/** { a: { b: [ value ] } } for the path a.b.0 */
function placeAt(path: string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => (/^\d+$/.test(key) ? [inner] : { [key]: inner }), value);
}

function pathWith(template: string, nulIn?: string): string {
  return template.replace(/\{([A-Za-z_]+)\}/g, (_, name: string) => (name === nulIn ? '%00' : /id$/i.test(name) ? randomUUID() : 'consent_form'));
}

function names(res: Response, field: string): boolean {
  const details = Array.isArray(res.body?.details) ? (res.body.details as { field: string; code: string }[]) : [];
  return details.some((d) => d.field === field && typeof d.code === 'string');
}

function assertRefused(t: { true: (v: boolean, m?: string) => void; false: (v: boolean, m?: string) => void }, res: Response, field: string, label: string): void {
  t.true(res.status >= 400 && res.status < 500, `${label}: ${res.status} ${res.text.slice(0, 200)}`);
  t.true(names(res, field), `${label}: names ${field}: ${res.text.slice(0, 200)}`);
  t.false(/select|insert|update|sqlstate|violates|syntax/i.test(res.body?.message ?? ''), `${label}: no SQL in the answer`);
}

function operations(doc: OpenApi): [string, string, Operation][] {
  return Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => [m.toUpperCase(), p, op] as [string, string, Operation]));
}

test('the walk covers every route of the OpenAPI document, with JSON, multipart and form bodies', (t) => {
  const ops = operations(t.context.doc);
  t.true(ops.length >= 40, `${ops.length} operations`);
  t.true(ops.some(([, , op]) => op.requestBody?.content['multipart/form-data']));
  t.true(ops.some(([, , op]) => op.requestBody?.content['application/x-www-form-urlencoded']));
});

test('a NUL byte in any path parameter gets 400 naming the parameter, on every route', async (t) => {
  let checked = 0;
  for (const [method, template, op] of operations(t.context.doc)) {
    for (const p of op.parameters?.filter((x) => x.in === 'path') ?? []) {
      const res = await (await client(t)).request(method, pathWith(template, p.name));
      assertRefused(t, res, `params.${p.name}`, `${method} ${template} params.${p.name}`);
      checked++;
    }
  }
  t.true(checked >= 15, `${checked} path parameters`);
});

test('a NUL byte in any query parameter gets 400 naming the parameter, on every route', async (t) => {
  let checked = 0;
  for (const [method, template, op] of operations(t.context.doc)) {
    for (const p of op.parameters?.filter((x) => x.in === 'query') ?? []) {
      const res = await (await client(t)).request(method, `${pathWith(template)}?${encodeURIComponent(p.name)}=%00`);
      assertRefused(t, res, `query.${p.name}`, `${method} ${template} query.${p.name}`);
      checked++;
    }
  }
  t.true(checked >= 10, `${checked} query parameters`);
});

test('a NUL byte in any string field of a JSON body, nested ones included, gets 400 naming the field', async (t) => {
  let checked = 0;
  for (const [method, template, op] of operations(t.context.doc)) {
    const schema = op.requestBody?.content['application/json']?.schema;
    if (!schema) continue;
    for (const path of stringPaths(schema, schema)) {
      const field = ['body', ...path].join('.');
      const res = await (await client(t)).request(method, pathWith(template), path.length ? placeAt(path, 'a\u0000b') : 'a\u0000b', { 'content-type': 'application/json' });
      assertRefused(t, res, field, `${method} ${template} ${field}`);
      checked++;
    }
  }
  t.true(checked >= 60, `${checked} body fields`);
});

test('a JSON null body gets 400 naming the body on every route that takes a request body', async (t) => {
  let checked = 0;
  for (const [method, template, op] of operations(t.context.doc)) {
    if (method === 'GET' || op.requestBody?.content['multipart/form-data'] || op.requestBody?.content['application/x-www-form-urlencoded']) continue;
    for (const body of ['null', '[]', '"text"', '42']) {
      const res = await (await client(t)).request(method, pathWith(template), body, { 'content-type': 'application/json' });
      assertRefused(t, res, 'body', `${method} ${template} body ${body}`);
      checked++;
    }
  }
  t.true(checked >= 80, `${checked} requests`);
});

test('the unauthenticated login refuses a NUL, a control character, a lone surrogate and a NUL in a key with 400', async (t) => {
  const login = '/api/v1/auth/local/login';
  for (const [body, field] of [
    ['{"username":"adm\\u0000in","password":"x"}', 'body.username'],
    ['{"username":"adm\\u0007in","password":"x"}', 'body.username'],
    ['{"username":"adm\\ud800in","password":"x"}', 'body.username'],
    ['{"username":"admin","pass\\u0000word":"x"}', 'body.pass\u0000word'],
  ] as const) {
    const res = await t.context.app.client().request('POST', login, body, { 'content-type': 'application/json' });
    assertRefused(t, res, field, body);
    t.is(res.body.details[0].code, 'invalid_characters');
  }
  const ok = await t.context.app.client().request('POST', login, { username: 'admin', password: 'line\tone\nline two', totp: '000000' });
  t.is(ok.status, 401, 'tab and line feed are ordinary text');
});

test('a NUL in a multipart field or file name and in a form-encoded field gets 400 naming it', async (t) => {
  const template = Object.keys(t.context.doc.paths).find((p) => t.context.doc.paths[p].post?.requestBody?.content['multipart/form-data'])!;
  for (const [note, filename, field] of [['a\u0000b', 'photo.jpg', 'note'], ['ok', 'pho\u0000to.jpg', 'file']]) {
    const boundary = 'x-boundary-1234';
    const body = Buffer.from([
      `--${boundary}`, 'Content-Disposition: form-data; name="category"', '', 'other',
      `--${boundary}`, 'Content-Disposition: form-data; name="note"', '', note,
      `--${boundary}`, `Content-Disposition: form-data; name="file"; filename="${filename}"`, 'Content-Type: image/jpeg', '', 'data',
      `--${boundary}--`, '',
    ].join('\r\n'));
    const res = await (await client(t)).request('POST', pathWith(template), body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
    assertRefused(t, res, field, `multipart ${field}`);
  }
  const form = Object.keys(t.context.doc.paths).find((p) => t.context.doc.paths[p].post?.requestBody?.content['application/x-www-form-urlencoded'])!;
  const res = await t.context.app.client().request('POST', form, 'logout_token=a%00b', { 'content-type': 'application/x-www-form-urlencoded' });
  assertRefused(t, res, 'logout_token', 'form-encoded logout_token');
});

test('PostgreSQL data exceptions (class 22) and integrity violations (class 23) become 4xx without SQL', async (t) => {
  const db = t.context.app.services.db;
  const failures: [string, () => Promise<unknown>][] = [
    ['22021 NUL in text', () => db.raw("select convert_from('\\x610062'::bytea, 'UTF8')")],
    ['22P05 NUL in jsonb', () => db.raw(`select '"a\\u0000b"'::jsonb`)],
    ['22P02 bad uuid', () => db.raw("select 'not-a-uuid'::uuid")],
    ['22003 out of range', () => db.raw('select 2147483647::int + 1')],
    ['22012 division by zero', () => db.raw('select 1 / 0')],
    ['22008 bad timestamp', () => db.raw("select '2026-13-45'::timestamptz")],
  ];
  for (const [label, run] of failures) {
    const err = await run().then(() => undefined, (e: unknown) => e);
    t.truthy(err, `${label} fails in PostgreSQL`);
    const mapped = fromPg(err);
    t.truthy(mapped, `${label} is mapped`);
    t.true(mapped!.status >= 400 && mapped!.status < 500, `${label}: ${mapped!.status}`);
    t.false(/select|::|sqlstate/i.test(mapped!.message), `${label}: ${mapped!.message}`);
    t.true(Array.isArray(mapped!.details) && typeof (mapped!.details as { code?: string }[])[0].code === 'string', `${label}: a code`);
  }
  t.is(fromPg(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })), undefined, 'a network error stays a 500');
});
