// The database itself separates organizations: with the application's own filters bypassed,
// a user of one organization can neither read nor write another organization's rows.
import test from 'ava';
import { createDb, withScope, type Db } from '../../app/api/src/db/connection.ts';
import { migrate } from '../../app/api/src/server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

let tdb: TestDatabase;
let app: Db;
let owner: Db;
const orgA = '00000000-0000-4000-8000-00000000000a';
const orgB = '00000000-0000-4000-8000-00000000000b';
const userA = '00000000-0000-4000-8000-0000000000a1';
const userB = '00000000-0000-4000-8000-0000000000b1';

test.before(async () => {
  tdb = await createTestDatabase();
  await migrate(tdb.ownerUrl);
  owner = createDb(tdb.ownerUrl, 2);
  app = createDb(tdb.appUrl, 2);
  await owner('organizations').insert([{ id: orgA, name: 'A', slug: 'org-a' }, { id: orgB, name: 'B', slug: 'org-b' }]);
  await owner('users').insert([
    { id: userA, organization_id: orgA, username: 'alice', display_name: 'Alice A', roles: ['admin'] },
    { id: userB, organization_id: orgB, username: 'bob', display_name: 'Bob B', roles: ['admin'] },
  ]);
  await owner('data_keys').insert({ organization_id: orgB, scope: 'patient', scope_id: userB, wrapped_key: Buffer.from('x') });
});

test.after.always(async () => {
  await app?.destroy();
  await owner?.destroy();
  await tdb?.drop();
});

test('the API role is not superuser, has no BYPASSRLS and owns no table', async (t) => {
  const { rows } = await app.raw(`select rolsuper, rolbypassrls from pg_roles where rolname = current_user`);
  t.deepEqual(rows[0], { rolsuper: false, rolbypassrls: false });
  const owned = await app.raw(`select count(*)::int as n from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = current_user`);
  t.is(owned.rows[0].n, 0);
});

test('every table with organization_id has row-level security enabled and forced', async (t) => {
  const { rows } = await owner.raw(`
    select c.relname, c.relrowsecurity, c.relforcerowsecurity
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r'
       and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'organization_id' and not a.attisdropped)`);
  t.true(rows.length >= 4, `found ${rows.length} tenant tables`);
  for (const r of rows) t.true(r.relrowsecurity && r.relforcerowsecurity, `${r.relname} must have RLS enabled and forced`);
});

test('an unfiltered SELECT sees only the own organization', async (t) => {
  const users = await withScope(app, { organizationId: orgA }, (trx) => trx('users').select('id'));
  t.deepEqual(users.map((u) => u.id), [userA]);
  const keys = await withScope(app, { organizationId: orgA }, (trx) => trx('data_keys').select('id'));
  t.is(keys.length, 0);
  const orgs = await withScope(app, { organizationId: orgA }, (trx) => trx('organizations').select('id'));
  t.deepEqual(orgs.map((o) => o.id), [orgA]);
});

test('without an organization set, tenant tables are empty', async (t) => {
  t.is((await app('users').select('id')).length, 0);
  t.is((await app('organizations').select('id')).length, 0);
});

test('UPDATE and DELETE of another organization\'s rows touch nothing', async (t) => {
  const updated = await withScope(app, { organizationId: orgA }, (trx) => trx('users').update({ display_name: 'pwned' }));
  t.is(updated, 1, 'only the own user row is updated');
  const deleted = await withScope(app, { organizationId: orgA }, (trx) => trx('data_keys').whereRaw('true').delete());
  t.is(deleted, 0);
  const bob = await owner('users').where({ id: userB }).first();
  t.is(bob.display_name, 'Bob B');
  t.is((await owner('data_keys').where({ organization_id: orgB })).length, 1);
});

test('INSERT into another organization is refused by the policy', async (t) => {
  const err = await t.throwsAsync(
    withScope(app, { organizationId: orgA }, (trx) =>
      trx('users').insert({ organization_id: orgB, username: 'mallory', display_name: 'M', roles: ['admin'] }),
    ),
  );
  t.regex(String((err as Error).message), /row-level security/);
  t.is((await owner('users').where({ username: 'mallory' })).length, 0);
});

test('moving an own row into another organization is refused', async (t) => {
  await t.throwsAsync(withScope(app, { organizationId: orgA }, (trx) => trx('users').where({ id: userA }).update({ organization_id: orgB })), {
    message: /row-level security/,
  });
});

test('the API role cannot disable row-level security or change policies', async (t) => {
  await t.throwsAsync(app.raw('alter table users disable row level security'), { message: /must be owner/ });
  await t.throwsAsync(app.raw('drop policy users_isolation on users'), { message: /must be owner/ });
});
