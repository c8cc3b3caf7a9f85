// Renders docs/roles.md from the permission table, so the document cannot drift from the code.
// Regenerate with: node app/api/src/core/roles-doc.ts > docs/roles.md
import { INSTALLATION_ROLE_PERMISSIONS, INSTALLATION_ROLES, PERMISSIONS, ROLE_PERMISSIONS, ROLES, scopeOf, type Permission } from './permissions.ts';

const ROLE_TEXT: Record<(typeof ROLES)[number], string> = {
  admin: 'Clinic administrator of one organization: users and roles, audit log, questionnaires, GDPR requests.',
  coordinator: 'Patient coordinator: patient records, anamnesis, appointments and messages.',
  doctor: 'Physician: patient records and the health record; reviews AI-prepared summaries.',
  finance: 'Finance: patient master data for invoicing, no health data.',
  platform_owner: 'Account of whoever runs a multi-organization installation: no organization permission, so never patient data; its installation powers come from the installation role operator.',
  staff: 'MFA/VERAH: patient records and health record in daily work; cannot hard-delete or export.',
};

const INSTALLATION_ROLE_TEXT: Record<(typeof INSTALLATION_ROLES)[number], string> = {
  operator: 'Installation operator: seal and unseal, passphrase, backups and drills, the recovery kit, organizations, operators, the installation audit log. Granted at setup to the first administrator; granted and revoked by an operator (`/api/v1/installation/operators`) or by root on the server (`praxiskern operator`).',
};

/** Every role of both scopes with what it holds: a role's column can only tick permissions of its own scope. */
const ALL_ROLES: Record<string, readonly Permission[]> = { ...ROLE_PERMISSIONS, ...INSTALLATION_ROLE_PERMISSIONS };
const holds = (p: Permission) => (r: string) => ALL_ROLES[r].includes(p);

export function renderRolesDoc(): string {
  const lines = [
    '# Roles and permissions',
    '',
    'Generated from `app/api/src/core/permissions.ts` — the single source of authorization. Every API route names',
    'one permission (see `x-permission` in `/api/v1/openapi.json`); the test `tests/integration/role-matrix.test.ts`',
    'walks every route with every role against this table, and `tests/unit/roles-doc.test.ts` keeps this file equal',
    'to the table. PostgreSQL row-level security on `organization_id` is the second wall behind it.',
    '',
    '## Two scopes',
    '',
    'A permission is either **installation**-wide (it acts on the whole server: every organization\'s data, keys and',
    'backups) or per **organization** (it acts inside the user\'s own organization). Organization roles hold only',
    'organization permissions; installation permissions are held only through an installation role. In a',
    'single-practice install the first administrator holds both: `admin` in the organization and `operator` for the',
    'installation. See docs/security-model.md.',
    '',
    '## Organization roles',
    '',
    ...ROLES.map((r) => `- **${r}** — ${ROLE_TEXT[r]}`),
    '',
    '## Installation roles',
    '',
    ...INSTALLATION_ROLES.map((r) => `- **${r}** — ${INSTALLATION_ROLE_TEXT[r]}`),
    '',
    '## Permission table',
    '',
    `| permission | scope | meaning | ${ROLES.join(' | ')} | ${INSTALLATION_ROLES.join(' | ')} |`,
    `|---|---|---|${[...ROLES, ...INSTALLATION_ROLES].map(() => ':-:').join('|')}|`,
    ...(Object.keys(PERMISSIONS) as Permission[]).map(
      (p) => `| \`${p}\` | ${scopeOf(p)} | ${PERMISSIONS[p]} | ${[...ROLES, ...INSTALLATION_ROLES].map((r) => (holds(p)(r) ? '✓' : '')).join(' | ')} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(renderRolesDoc());
