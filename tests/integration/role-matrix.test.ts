// Walks every API route × every role against the single permission table (core/permissions.ts):
// allowed → gets past authorization (not 401/403); not allowed → 403 and an audited denial.
// New routes are picked up automatically from ROUTES; path parameters get random UUIDs and
// bodies are `{}` (a 400 or 404 counts as "past authorization"). Besides the six organization
// roles the walk includes an installation operator (platform_owner + operator) and the admin of
// a second organization, so installation routes are proven closed to every non-operator.
import anyTest, { type TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { ROUTES } from '../../app/api/src/http/routes.ts';
import { PERMISSIONS, ROLES, permits, scopeOf, type InstallationRole, type Role } from '../../app/api/src/core/permissions.ts';
import { withScope } from '../../app/api/src/db/connection.ts';
import { createSession } from '../../app/api/src/modules/auth/session.service.ts';
import type { AnyRoute } from '../../app/api/src/http/route.ts';
import { startTestApp, setupInstance, ADMIN, type TestApp } from '../helpers/app.ts';
import { Client } from '../helpers/http-client.ts';
import { ownerDb, stopApp } from './auth-fixtures.ts';

interface Subject {
  name: string;
  organizationId: string;
  userId: string;
  roles: Role[];
  installationRoles: InstallationRole[];
}

const test = anyTest as TestFn<{ app: TestApp; subjects: Subject[] }>;

async function insertUser(app: TestApp, organizationId: string, username: string, roles: Role[]): Promise<string> {
  const [row] = await ownerDb(app)('users').insert({ organization_id: organizationId, username, display_name: `Matrix ${username}`, roles }).returning('id');
  return row.id;
}

test.before(async (t) => {
  t.context = {} as typeof t.context;
  const app = (t.context.app = await startTestApp());
  const { organizationId } = await setupInstance(app);
  const subjects: Subject[] = [];
  for (const role of ROLES) {
    const userId = await insertUser(app, organizationId, `matrix-${role.replace('_', '-')}`, [role]);
    subjects.push({ name: role, organizationId, userId, roles: [role], installationRoles: [] });
  }
  const operatorId = await insertUser(app, organizationId, 'matrix-operator', ['platform_owner']);
  await ownerDb(app)('installation_operators').insert({ user_id: operatorId });
  subjects.push({ name: 'platform_owner+operator', organizationId, userId: operatorId, roles: ['platform_owner'], installationRoles: ['operator'] });
  const [second] = await ownerDb(app)('organizations').insert({ name: 'Zweitpraxis', slug: 'matrix-zweitpraxis' }).returning('id');
  const secondAdmin = await insertUser(app, second.id, 'matrix-second-admin', ['admin']);
  subjects.push({ name: 'admin of a second organization', organizationId: second.id, userId: secondAdmin, roles: ['admin'], installationRoles: [] });
  t.context = { app, subjects };
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
});

/** A fresh session per request: routes such as logout may end the one they are called with. */
async function clientAs(app: TestApp, s: Subject): Promise<Client> {
  const issued = await withScope(app.services.db, { organizationId: s.organizationId, userId: s.userId }, (trx) =>
    createSession(trx, app.config, { organizationId: s.organizationId, userId: s.userId, roles: s.roles, method: 'local' }));
  const client = app.client();
  client.cookies.set('pk_session', issued.token);
  client.cookies.set('pk_csrf', issued.csrfToken);
  return client;
}

const label = (route: AnyRoute) => `${route.method.toUpperCase()} ${route.path}`;
const call = (client: Client, route: AnyRoute, body: unknown = route.method === 'get' ? undefined : {}) =>
  client.request(route.method.toUpperCase(), '/api/v1' + route.path.replace(/:[A-Za-z_]+/g, () => randomUUID()), body);
const installationRoutes = ROUTES.filter((r) => r.access !== 'public' && r.access !== 'authenticated' && scopeOf(r.access) === 'installation');

test('every route is covered and names a permission from the table', (t) => {
  t.true(ROUTES.length >= 10);
  for (const r of ROUTES) t.true(r.access === 'public' || r.access === 'authenticated' || Object.hasOwn(PERMISSIONS, r.access), `${r.method} ${r.path}: ${r.access}`);
});

test('the installation routes are the seal, passphrase, backup, recovery-kit, organization, operator and update-history routes', (t) => {
  const paths = installationRoutes.map(label);
  for (const p of ['POST /seal/unseal', 'POST /seal/passphrase', 'POST /backup/runs', 'POST /backup/drills', 'POST /backup/recovery-kit', 'GET /backup/status', 'POST /organizations', 'GET /organizations', 'POST /installation/operators', 'GET /installation/audit', 'GET /installation/updates']) {
    t.true(paths.includes(p), `${p} is an installation route`);
  }
});

for (const route of ROUTES) {
  // Serial: routes like logout-everywhere end every session of the role's user.
  test.serial(`role matrix: ${label(route)} (${route.access})`, async (t) => {
    const { app, subjects } = t.context;
    for (const s of subjects) {
      const res = await call(await clientAs(app, s), route);
      const allowed = route.access === 'public' || route.access === 'authenticated' || permits(s, route.access);
      t.true(res.status < 500, `${label(route)} as ${s.name}: ${res.status} ${res.text.slice(0, 200)}`);
      if (allowed) {
        t.false([401, 403].includes(res.status), `${label(route)} as ${s.name} should pass authorization: ${res.status} ${res.text.slice(0, 200)}`);
        continue;
      }
      t.is(res.status, 403, `${label(route)} as ${s.name} should be forbidden: ${res.text.slice(0, 200)}`);
      const denied = await ownerDb(app)('audit_log')
        .where({ action: 'access.denied', outcome: 'denied', actor_user_id: s.userId })
        .whereRaw("details->>'route' = ?", [label(route)]);
      t.true(denied.length >= 1, `${label(route)} as ${s.name}: denial audited`);
    }
  });
}

test.serial('an organization admin (of this or a second organization) gets 403 on every installation route, even with a well-formed request', async (t) => {
  const { app, subjects } = t.context;
  const admins = subjects.filter((s) => s.roles.includes('admin'));
  t.is(admins.length, 2);
  const bodies: Record<string, unknown> = {
    'POST /backup/recovery-kit': { replace: true },
    'POST /seal/passphrase': { currentPassphrase: ADMIN.passphrase, newPassphrase: 'a passphrase an admin must not set' },
    'POST /seal/unseal': { passphrase: ADMIN.passphrase },
    'POST /installation/operators': { user: 'matrix-second-admin' },
    'POST /organizations': { name: 'Fremd', slug: 'fremd', admin: { username: 'fremd-admin', displayName: 'F', password: 'long enough password' } },
  };
  const seal = await ownerDb(app)('seal_config').first('salt', 'wrapped_master_key');
  const keys = await ownerDb(app)('backup_keys').count<{ n: string }[]>('* as n').first();
  t.true(installationRoutes.length >= 10);
  for (const admin of admins) {
    for (const route of installationRoutes) {
      const res = await call(await clientAs(app, admin), route, bodies[label(route)] ?? (route.method === 'get' ? undefined : {}));
      t.is(res.status, 403, `${label(route)} as ${admin.name}: ${res.status} ${res.text.slice(0, 200)}`);
    }
  }
  t.deepEqual(await ownerDb(app)('seal_config').first('salt', 'wrapped_master_key'), seal, 'the passphrase is unchanged');
  t.deepEqual(await ownerDb(app)('backup_keys').count<{ n: string }[]>('* as n').first(), keys, 'no recovery kit was created or replaced');
  t.is(await ownerDb(app)('installation_operators').where({ user_id: admins[1].userId }).first(), undefined, 'no admin made itself an operator');
  t.is(await ownerDb(app)('organizations').where({ slug: 'fremd' }).first(), undefined, 'no organization was created');
});
