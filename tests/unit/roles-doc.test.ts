import test from 'ava';
import { readFileSync } from 'node:fs';
import { renderRolesDoc } from '../../app/api/src/core/roles-doc.ts';
import { ROLE_PERMISSIONS, ROLES, can } from '../../app/api/src/core/permissions.ts';

test('docs/roles.md is the rendering of the permission table (regenerate with node app/api/src/core/roles-doc.ts)', (t) => {
  t.is(readFileSync('docs/roles.md', 'utf8'), renderRolesDoc());
});

test('the table defines all six roles and keeps health data away from finance and platform operators', (t) => {
  t.deepEqual([...ROLES].sort(), ['admin', 'coordinator', 'doctor', 'finance', 'platform_owner', 'staff']);
  for (const r of ['finance', 'platform_owner'] as const) {
    t.false(can([r], 'health.read'), `${r} must not read health data`);
  }
  t.false(can(['staff'], 'gdpr.erase'));
  t.true(can(['admin'], 'users.manage'));
  t.false(can(['admin'], 'organizations.manage'));
  t.true(ROLE_PERMISSIONS.platform_owner.includes('organizations.manage'));
});
