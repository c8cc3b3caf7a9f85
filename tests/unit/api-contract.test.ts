// The API contract: every route documents its success answer, the OpenAPI document carries it,
// the web app's generated types match it, and an answer that drifts from its schema is caught.
import test from 'ava';
import { readFileSync } from 'node:fs';
import type { Context } from 'koa';
import { z } from 'zod';
import { ROUTES } from '../../app/api/src/http/routes.ts';
import { defineRoute, openApiDocument } from '../../app/api/src/http/route.ts';
import { ok } from '../../app/api/src/http/response.ts';
import { withResponseCheck } from '../../app/api/src/http/response-check.ts';
import { API_TYPES_FILE, renderApiTypes } from '../../app/web/scripts/api-types.ts';

type Operation = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };
const doc = openApiDocument(ROUTES, 'test') as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
const opOf = (method: string, path: string) => doc.paths[`/api/v1${path.replace(/:([A-Za-z_]+)/g, '{$1}')}`][method];

test('every route declares its success answer', (t) => {
  const missing = ROUTES.filter((r) => !r.response || !['json', 'empty', 'redirect', 'file'].includes(r.response.kind)).map((r) => `${r.method.toUpperCase()} ${r.path}`);
  t.deepEqual(missing, [], 'routes without a response schema');
  t.true(ROUTES.length > 50);
});

test('the OpenAPI document shows each route\'s success status with its JSON schema', (t) => {
  for (const r of ROUTES) {
    const op = opOf(r.method, r.path);
    const answer = op.responses[String(r.response.status)];
    t.truthy(answer, `${r.method} ${r.path}: ${r.response.status} documented`);
    if (r.response.kind === 'json') {
      const schema = answer.content?.['application/json']?.schema as { type?: string; $ref?: string; anyOf?: unknown; oneOf?: unknown };
      t.true(Boolean(schema && (schema.type === 'object' || schema.$ref || schema.anyOf || schema.oneOf)), `${r.method} ${r.path}: JSON schema`);
    }
    t.truthy(op.responses['400'], 'the error shape is documented too');
  }
  // Named answers become components the web client imports by name.
  for (const name of ['Patient', 'PatientPage', 'HealthRecord', 'User', 'AuditEntry', 'BackupStatus', 'FieldIssue']) t.truthy(doc.components.schemas[name], name);
  t.false(JSON.stringify(doc).includes('#/$defs/'), 'no reference points into a per-schema $defs');
});

test('the web app\'s generated API types are current (run npm run generate:api after changing a route)', async (t) => {
  const fresh = await renderApiTypes();
  t.true(fresh === readFileSync(API_TYPES_FILE, 'utf8'), `${API_TYPES_FILE} is stale: run npm run generate:api`);
});

function fakeCtx(): Context {
  return { body: undefined, status: 404 } as unknown as Context;
}

const probe = defineRoute({
  method: 'get', path: '/probe', access: 'public', tags: [], summary: 'probe',
  response: ok(z.strictObject({ id: z.uuid(), createdAt: z.iso.datetime() })),
  handler: async () => ({ id: '5b0f9c2e-3a43-4a51-9c1d-2f7d7a0f6b10', createdAt: new Date(0) }),
});

test('an answer that matches its schema passes the check (dates as JSON carries them)', async (t) => {
  const checked = withResponseCheck(probe);
  const result = await checked.handler({ ctx: fakeCtx(), services: {} as never, body: undefined, query: {}, params: {} });
  t.deepEqual(Object.keys(result as object), ['id', 'createdAt']);
});

test('an answer that drifted from its schema fails the check, naming route and field', async (t) => {
  const drifted = withResponseCheck({ ...probe, handler: async () => ({ id: 'not-a-uuid', createdAt: new Date(0), passwordHash: 'x' }) });
  const err = await t.throwsAsync(drifted.handler({ ctx: fakeCtx(), services: {} as never, body: undefined, query: {}, params: {} }));
  t.regex(err!.message, /GET \/probe/);
  t.regex(err!.message, /id: /);
  t.regex(err!.message, /passwordHash/);
});

test('an answer with an undocumented status fails the check', async (t) => {
  const empty = withResponseCheck({ ...probe, handler: async () => undefined });
  const err = await t.throwsAsync(empty.handler({ ctx: fakeCtx(), services: {} as never, body: undefined, query: {}, params: {} }));
  t.regex(err!.message, /status 204, documented 200/);
});
