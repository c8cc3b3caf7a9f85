// The diagnoses boundary (issue 14, role tests): English texts, spread into en.ts.
export const rolesEn = {
  'roles.diagnosesNotVisible': 'Diagnoses are not visible for your role.',
} as const;
