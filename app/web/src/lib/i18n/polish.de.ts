// Header menus (administration, own account) and master-data leftovers (issue 12 polish).
export const polishDe = {
  'nav.adminMenu': 'Verwaltung',
  'nav.userMenu': 'Konto',
  'nav.messaging': 'Nachrichtenkanäle',
  'nav.ai': 'KI-Vorbereitung',
  'nav.aftercare': 'Nachsorgepläne',
  'nav.outbox': 'Postausgang',
} as const;
