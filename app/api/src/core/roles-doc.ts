// Renders docs/roles.md from the permission table, so the document cannot drift from the code.
// Regenerate with: node app/api/src/core/roles-doc.ts > docs/roles.md
import { PERMISSIONS, ROLE_PERMISSIONS, ROLES, type Permission } from './permissions.ts';

const ROLE_TEXT: Record<(typeof ROLES)[number], string> = {
  admin: 'Clinic administrator: users and roles, seal, audit log, backups, GDPR requests.',
  coordinator: 'Patient coordinator: patient records, anamnesis, appointments and messages.',
  doctor: 'Physician: patient records and the health record; reviews AI-prepared summaries.',
  finance: 'Finance: patient master data for invoicing, no health data.',
  platform_owner: 'Operator of a multi-organization installation: creates organizations; sees no patient data.',
  staff: 'MFA/VERAH: patient records and health record in daily work; cannot hard-delete or export.',
};

export function renderRolesDoc(): string {
  const lines = [
    '# Roles and permissions',
    '',
    'Generated from `app/api/src/core/permissions.ts` — the single source of authorization. Every API route names',
    'one permission (see `x-permission` in `/api/v1/openapi.json`); the test `tests/integration/role-matrix.test.ts`',
    'walks every route with every role against this table, and `tests/unit/roles-doc.test.ts` keeps this file equal',
    'to the table. PostgreSQL row-level security on `organization_id` is the second wall behind it.',
    '',
    '## Roles',
    '',
    ...ROLES.map((r) => `- **${r}** — ${ROLE_TEXT[r]}`),
    '',
    '## Permission table',
    '',
    `| permission | meaning | ${ROLES.join(' | ')} |`,
    `|---|---|${ROLES.map(() => ':-:').join('|')}|`,
    ...(Object.keys(PERMISSIONS) as Permission[]).map(
      (p) => `| \`${p}\` | ${PERMISSIONS[p]} | ${ROLES.map((r) => (ROLE_PERMISSIONS[r].includes(p) ? '✓' : '')).join(' | ')} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(renderRolesDoc());
