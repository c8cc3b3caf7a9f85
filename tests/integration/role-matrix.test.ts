// Walks every API route × every role against the single permission table (core/permissions.ts):
// allowed → gets past authorization (not 401/403); not allowed → 403 and an audited denial.
// New routes are picked up automatically from ROUTES; path parameters get random UUIDs and
// bodies are `{}` (a 400 or 404 counts as "past authorization").
import anyTest, { type TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { ROUTES } from '../../app/api/src/http/routes.ts';
import { PERMISSIONS, ROLES, can, type Role } from '../../app/api/src/core/permissions.ts';
import { withScope } from '../../app/api/src/db/connection.ts';
import { createSession } from '../../app/api/src/modules/auth/session.service.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import { Client } from '../helpers/http-client.ts';
import { ownerDb, stopApp } from './auth-fixtures.ts';

const test = anyTest as TestFn<{ app: TestApp; orgId: string; users: Record<Role, string> }>;

test.before(async (t) => {
  t.context = {} as typeof t.context;
  const app = (t.context.app = await startTestApp());
  const { organizationId } = await setupInstance(app);
  const users = {} as Record<Role, string>;
  for (const role of ROLES) {
    const [row] = await ownerDb(app)('users')
      .insert({ organization_id: organizationId, username: `matrix-${role.replace('_', '-')}`, display_name: `Matrix ${role}`, roles: [role] })
      .returning('id');
    users[role] = row.id;
  }
  t.context = { app, orgId: organizationId, users };
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
});

/** A fresh session per request: routes such as logout may end the one they are called with. */
async function clientAs(t: { context: { app: TestApp; orgId: string; users: Record<Role, string> } }, role: Role): Promise<Client> {
  const { app, orgId, users } = t.context;
  const issued = await withScope(app.services.db, { organizationId: orgId, userId: users[role] }, (trx) =>
    createSession(trx, app.config, { organizationId: orgId, userId: users[role], roles: [role], method: 'local' }));
  const client = app.client();
  client.cookies.set('pk_session', issued.token);
  client.cookies.set('pk_csrf', issued.csrfToken);
  return client;
}

test('every route is covered and names a permission from the table', (t) => {
  t.true(ROUTES.length >= 10);
  for (const r of ROUTES) t.true(r.access === 'public' || r.access === 'authenticated' || Object.hasOwn(PERMISSIONS, r.access), `${r.method} ${r.path}: ${r.access}`);
});

for (const route of ROUTES) {
  const label = `${route.method.toUpperCase()} ${route.path}`;
  // Serial: routes like logout-everywhere end every session of the role's user.
  test.serial(`role matrix: ${label} (${route.access})`, async (t) => {
    for (const role of ROLES) {
      const client = await clientAs(t, role);
      const path = '/api/v1' + route.path.replace(/:[A-Za-z_]+/g, () => randomUUID());
      const res = await client.request(route.method.toUpperCase(), path, route.method === 'get' ? undefined : {});
      const allowed = route.access === 'public' || route.access === 'authenticated' || can([role], route.access);
      t.true(res.status < 500, `${label} as ${role}: ${res.status} ${res.text.slice(0, 200)}`);
      if (allowed) {
        t.false([401, 403].includes(res.status), `${label} as ${role} should pass authorization: ${res.status} ${res.text.slice(0, 200)}`);
        continue;
      }
      t.is(res.status, 403, `${label} as ${role} should be forbidden: ${res.text.slice(0, 200)}`);
      const denied = await ownerDb(t.context.app)('audit_log')
        .where({ action: 'access.denied', outcome: 'denied', actor_user_id: t.context.users[role] })
        .whereRaw("details->>'route' = ?", [label]);
      t.true(denied.length >= 1, `${label} as ${role}: denial audited`);
    }
  });
}
