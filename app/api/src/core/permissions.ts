// The single source of authorization: which role may do what. docs/roles.md is generated from
// this table (tests/unit/roles-doc.test.ts keeps them equal) and every route names one permission.
export const ROLES = ['admin', 'coordinator', 'doctor', 'finance', 'platform_owner', 'staff'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  'session.self': 'See and end one\'s own session, change own language',
  'users.read': 'List the users of the organization',
  'users.manage': 'Change roles, deactivate and reactivate users, create local accounts',
  'organizations.manage': 'List and create organizations (installation operator)',
  'audit.read': 'Read the audit log of the organization',
  'audit.verify': 'Verify the audit hash chain',
  'seal.unseal': 'Unseal the server with the practice passphrase',
  'seal.passphrase': 'Change the practice passphrase',
  'patients.read': 'Read patient master data',
  'patients.write': 'Create and change patient master data',
  'patients.numbering': 'Set up the automatic patient numbering of the practice',
  'health.read': 'Read the encrypted health record',
  'health.write': 'Write the encrypted health record',
  'diagnoses.read': 'See diagnoses (ICD-10-GM codes and texts) in the record, the timeline, prints and exports; without it the record shows them as not visible for the role',
  'diagnoses.write': 'Add or correct a diagnosis (also needs health.write)',
  'gdpr.export': 'Export everything about a patient (Art. 15/20)',
  'gdpr.erase': 'Hard-delete a patient (Art. 17)',
  'patients.access_log': 'See who read or changed a patient record',
  'consent.read': 'Read a patient\'s consent log',
  'consent.write': 'Record a consent being granted or withdrawn',
  'documents.read': 'View and download a patient\'s documents and photos',
  'documents.write': 'Upload a patient\'s documents and photos, and remove (hide) one with a reason',
  'documents.removed': 'See removed documents and photos with who, when and why, and restore them',
  'questionnaires.manage': 'Design questionnaires (drafts, templates), publish versions, choose the default',
  'gdpr.restrict': 'Restrict processing (Art. 18) or record an objection (Art. 21)',
  'retention.run': 'List and anonymize records past their retention period',
  'appointments.read': 'See the appointment calendar, a patient\'s appointments and today\'s list (Wartezimmer)',
  'appointments.write': 'Book, move, resize and cancel appointments, and record arrivals and status changes',
  'appointments.configure': 'Set up appointment types, practitioners and rooms, the organization\'s time zone, and any practitioner\'s calendar feed',
  'appointments.feed': 'Switch on or revoke the calendar feed (iCalendar) of one\'s own practitioner calendar',
  'backup.read': 'See backup status, targets and snapshots',
  'backup.run': 'Start a backup or a restore drill',
  'backup.recovery_kit': 'Create (or replace) the offline recovery kit, shown once',
  'messaging.settings': 'Switch messaging channels on or off and edit message templates (health data in a template needs a reason)',
  'messaging.send': 'Send a templated message to a patient and see the patient\'s messages and why one was blocked',
  'inbox.read': 'Work the shared inbox: read conversations with patients and prospects (audited), assign them, mark them done',
  'messaging.outbox': 'See the outbox of the organization: every message with status, attempts and errors',
  'aftercare.read': 'See a patient\'s aftercare plans and steps, and the follow-up appointments still to book',
  'aftercare.write': 'Apply an aftercare plan to a patient\'s treatment plan, change or skip its steps, record the booked follow-up, cancel the plan',
  'aftercare.configure': 'Manage the aftercare plan templates of the organization',
  'quotes.write': 'Create quotes (Kostenvoranschläge) for a patient\'s treatment plan and change their line items while in draft',
  'finance.read': 'See quotes (amounts and references; line item descriptions only with health.read), deposits, payments, refunds, receipts, the finance view and report',
  'finance.write': 'Change a quote\'s status, request deposits, record payments and refunds, create Stripe payment links',
  'finance.settings': 'Switch Stripe payments on or off for the organization and choose what is shared with Stripe',
  'travel.read': 'See patients\' travel data (flights, hotel stays, transfers) and the arrivals board, never diagnoses',
  'travel.write': 'Record and change patients\' flights, hotel stays and transfers, and look up a flight\'s status',
  'travel.configure': 'Switch the flight-status look-up (external service) on or off and set its address and access key',
  'ai.settings': 'Switch the AI preparation (Anthropic Claude) on or off and set its model, base URL, key file, timeouts and daily token budget',
  'ai.prepare': 'Have a patient file prepared by the AI (pseudonymised, with consent) and accept, edit or reject each item of the draft',
  'ai.triage': 'Have an inbound patient message triaged by the AI (language, urgency, topic, a suggested reply that is never sent by itself)',
  'reports.read': 'See the reports and statistics (counts only, small counts suppressed; never health content) and export them as CSV',
  'reports.configure': 'Set the minimum count per report cell and the working hours used for utilisation',
  'installation.operators': 'List, grant and revoke the installation operator role',
  'installation.audit': 'Read the installation audit log (seal, passphrase, backups, recovery kit, restore, operators, organizations)',
  'installation.updates': 'See the running version and the history of updates and rollbacks',
  'register.read': 'See, print and export the register of external services (sub-processors) with purpose, data, location, safeguards and since when',
  'backup.targets': 'Add, change, test and remove backup targets (secrets are stored sealed and never shown again)',
  'icd.import': 'Import the ICD-10-GM catalogue (BfArM files) for the whole installation',
} as const;
export type Permission = keyof typeof PERMISSIONS;

// Two scopes of power. An installation permission acts on the whole server (every organization's
// data and keys) and is held only through an installation role; an organization permission acts
// inside the user's own organization and is held through the organization roles above.
export type PermissionScope = 'installation' | 'organization';
export const INSTALLATION_PERMISSIONS: readonly Permission[] = [
  'organizations.manage', 'audit.verify', 'seal.unseal', 'seal.passphrase', 'backup.read', 'backup.run', 'backup.recovery_kit',
  'installation.operators', 'installation.audit', 'installation.updates', 'backup.targets',
  'icd.import',
];
export const scopeOf = (p: Permission): PermissionScope => (INSTALLATION_PERMISSIONS.includes(p) ? 'installation' : 'organization');

/** Installation roles, granted per user by an installation operator (table installation_operators). */
export const INSTALLATION_ROLES = ['operator'] as const;
export type InstallationRole = (typeof INSTALLATION_ROLES)[number];
export const INSTALLATION_ROLE_PERMISSIONS: Record<InstallationRole, readonly Permission[]> = {
  operator: INSTALLATION_PERMISSIONS,
};

const ALL = (Object.keys(PERMISSIONS) as Permission[]).filter((p) => scopeOf(p) === 'organization');

const CLINICAL: readonly Permission[] = [
  'session.self', 'patients.read', 'patients.write', 'health.read', 'health.write',
  'consent.read', 'consent.write', 'documents.read', 'documents.write', 'messaging.send', 'inbox.read',
  'appointments.read', 'appointments.write', 'appointments.feed', 'aftercare.read', 'aftercare.write',
  'travel.read', 'travel.write',
  'ai.triage',
];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: ALL,
  // Coordinators see arrivals, enquiries, anamnesis/pre-qualification, appointments and messages,
  // never diagnoses: no diagnoses.read/write, and no gdpr.export (an export must be complete).
  coordinator: [...CLINICAL, 'gdpr.restrict', 'patients.access_log', 'documents.removed', 'messaging.outbox', 'quotes.write', 'finance.read', 'finance.write', 'reports.read'],
  doctor: [...CLINICAL, 'diagnoses.read', 'diagnoses.write', 'gdpr.export', 'gdpr.restrict', 'patients.access_log', 'questionnaires.manage', 'documents.removed', 'quotes.write', 'finance.read', 'ai.prepare', 'reports.read'],
  // Finance sees master data and whether contact is allowed, never health data or photos (nor
  // appointments: their types, times and notes tell about treatment).
  // Money: quotes' amounts and references, deposits, payments, refunds, receipts (docs/finance.md).
  finance: ['session.self', 'patients.read', 'consent.read', 'finance.read', 'finance.write'],
  // The account of whoever runs a multi-organization installation: no organization permission, so
  // never patient data; its installation powers come from the installation role operator alone.
  platform_owner: ['session.self'],
  // Staff work the record but cannot hard-delete, export or restrict.
  // MFA/VERAH document diagnoses too.
  staff: [...CLINICAL, 'diagnoses.read', 'diagnoses.write'],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Organization permissions of organization roles (installation permissions are never held this way). */
export function can(roles: readonly Role[], permission: Permission): boolean {
  return scopeOf(permission) === 'organization' && roles.some((r) => ROLE_PERMISSIONS[r]?.includes(permission));
}

export interface PermissionHolder {
  roles: readonly Role[];
  installationRoles?: readonly InstallationRole[];
}

/** The one check: an installation permission through installation roles, else through organization roles. */
export function permits(holder: PermissionHolder, permission: Permission): boolean {
  if (scopeOf(permission) === 'organization') return can(holder.roles, permission);
  return (holder.installationRoles ?? []).some((r) => INSTALLATION_ROLE_PERMISSIONS[r]?.includes(permission));
}

