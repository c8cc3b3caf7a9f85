// Header menus (administration, own account) and master-data leftovers (issue 12 polish).
export const polishEn = {
  'nav.adminMenu': 'Administration',
  'nav.userMenu': 'Account',
  'nav.messaging': 'Messaging channels',
  'nav.ai': 'AI preparation',
  'nav.aftercare': 'Aftercare plans',
  'nav.outbox': 'Outbox',
} as const;
