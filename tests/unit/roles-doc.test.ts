import test from 'ava';
import { readFileSync } from 'node:fs';
import { renderRolesDoc } from '../../app/api/src/core/roles-doc.ts';
import {
  INSTALLATION_PERMISSIONS, INSTALLATION_ROLE_PERMISSIONS, PERMISSIONS, ROLE_PERMISSIONS, ROLES, can, permits, scopeOf, type Permission,
} from '../../app/api/src/core/permissions.ts';

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
  t.deepEqual(ROLE_PERMISSIONS.platform_owner, ['session.self'], 'the platform owner holds no organization permission, so no patient data');
});

test('diagnoses: admin, doctor and staff read and write them; coordinator and finance neither, and coordinators export no patient (an export must be complete)', (t) => {
  for (const r of ['admin', 'doctor', 'staff'] as const) {
    t.true(can([r], 'diagnoses.read'), `${r} reads diagnoses`);
    t.true(can([r], 'diagnoses.write'), `${r} writes diagnoses`);
  }
  for (const r of ['coordinator', 'finance', 'platform_owner'] as const) {
    t.false(can([r], 'diagnoses.read'), `${r} must not read diagnoses`);
    t.false(can([r], 'diagnoses.write'), `${r} must not write diagnoses`);
    t.false(can([r], 'gdpr.export'), `${r} must not export a patient`);
    t.false(can([r], 'ai.prepare'), `${r} must not have a record prepared by the AI (it carries diagnoses)`);
  }
  t.true(can(['coordinator'], 'health.read'), 'coordinators still see anamnesis and pre-qualification');
  for (const r of ROLES) if (can([r], 'diagnoses.write')) t.true(can([r], 'health.write'), `${r}: diagnoses.write comes with health.write`);
  for (const r of ROLES) if (can([r], 'gdpr.export') || can([r], 'ai.prepare')) t.true(can([r], 'diagnoses.read'), `${r}: exports and AI preparation carry diagnoses`);
});

test('every permission has one scope, and no role holds a permission of the other scope', (t) => {
  for (const p of Object.keys(PERMISSIONS) as Permission[]) t.true(['installation', 'organization'].includes(scopeOf(p)), p);
  for (const r of ROLES) for (const p of ROLE_PERMISSIONS[r]) t.is(scopeOf(p), 'organization', `${r} holds ${p}`);
  for (const p of INSTALLATION_ROLE_PERMISSIONS.operator) t.is(scopeOf(p), 'installation', `operator holds ${p}`);
});

test('installation operations (seal, passphrase, backups, recovery kit, organizations) need the operator role, not an organization admin', (t) => {
  for (const p of ['seal.unseal', 'seal.passphrase', 'backup.read', 'backup.run', 'backup.recovery_kit', 'organizations.manage', 'installation.operators', 'installation.audit'] as const) {
    t.is(scopeOf(p), 'installation', p);
    t.false(permits({ roles: [...ROLES] }, p), `every organization role together must not hold ${p}`);
    t.true(permits({ roles: [], installationRoles: ['operator'] }, p), `operator holds ${p}`);
  }
  t.false(permits({ roles: ['platform_owner'], installationRoles: ['operator'] }, 'patients.read'), 'operator + platform_owner reach no patient data');
  t.true(permits({ roles: ['admin'], installationRoles: ['operator'] }, 'patients.read'), 'the first admin of a single practice holds both');
  t.true(INSTALLATION_PERMISSIONS.length >= 9);
});

test('authorize(), the service layer\'s wall, refuses an installation permission to an organization admin and grants it to an operator', async (t) => {
  const { authorize } = await import('../../app/api/src/core/authorize.ts');
  const { runWithContext, systemContext } = await import('../../app/api/src/core/context.ts');
  const actor = (installationRoles: ('operator')[]) => ({ userId: 'u', organizationId: 'o', roles: ['admin' as const], installationRoles, sessionId: 's' });
  const err = runWithContext(systemContext('test', actor([])), () => t.throws(() => authorize('backup.recovery_kit')));
  t.is((err as { status?: number } | undefined)?.status, 403);
  t.notThrows(() => runWithContext(systemContext('test', actor(['operator'])), () => authorize('backup.recovery_kit')));
  t.notThrows(() => runWithContext(systemContext('test', actor([])), () => authorize('patients.read')));
});
