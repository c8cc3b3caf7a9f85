// The diagnoses boundary (issue 14, role tests): German texts, spread into de.ts.
export const rolesDe = {
  'roles.diagnosesNotVisible': 'Diagnosen sind für Ihre Rolle nicht sichtbar.',
} as const;
