// The single source of authorization: which role may do what. docs/roles.md is generated from
// this table (tests/unit/roles-doc.test.ts keeps them equal) and every route names one permission.
export const ROLES = ['admin', 'coordinator', 'doctor', 'finance', 'platform_owner', 'staff'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  'session.self': 'See and end one\'s own session, change own language',
  'users.read': 'List the users of the organization',
  'users.manage': 'Change roles, deactivate and reactivate users, create local accounts',
  'organizations.manage': 'List and create organizations (platform operator)',
  'audit.read': 'Read the audit log of the organization',
  'audit.verify': 'Verify the audit hash chain',
  'seal.unseal': 'Unseal the server with the practice passphrase',
  'seal.passphrase': 'Change the practice passphrase',
  'patients.read': 'Read patient master data',
  'patients.write': 'Create and change patient master data',
  'health.read': 'Read the encrypted health record',
  'health.write': 'Write the encrypted health record',
  'gdpr.export': 'Export everything about a patient (Art. 15/20)',
  'gdpr.erase': 'Hard-delete a patient (Art. 17)',
  'backup.read': 'See backup status, targets and snapshots',
  'backup.run': 'Start a backup or a restore drill',
} as const;
export type Permission = keyof typeof PERMISSIONS;

const ALL = Object.keys(PERMISSIONS) as Permission[];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: ALL.filter((p) => p !== 'organizations.manage'),
  coordinator: ['session.self', 'patients.read', 'patients.write', 'health.read', 'health.write', 'gdpr.export'],
  doctor: ['session.self', 'patients.read', 'patients.write', 'health.read', 'health.write', 'gdpr.export'],
  finance: ['session.self', 'patients.read'],
  platform_owner: ['session.self', 'organizations.manage'],
  staff: ['session.self', 'patients.read', 'patients.write', 'health.read', 'health.write'],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function can(roles: readonly Role[], permission: Permission): boolean {
  return roles.some((r) => ROLE_PERMISSIONS[r]?.includes(permission));
}
