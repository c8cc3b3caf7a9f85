// Master data as the API accepts it. Validation names the field: invalid dates, impossible ages,
// phone numbers that are not dialable (national German or international, stored as E.164), malformed e-mail addresses are 400s before anything is stored.
import { z } from 'zod';
import { normalizePhone } from './phone.ts';
import { practiceToday } from '../../core/context.ts';
import { isoDay, isoTime, named } from '../../http/response.ts';
import { CONTACT_CHANNELS, INSURANCE_TYPES, normalizeKvnr, PATIENT_NUMBER, SALUTATIONS } from './insurance.ts';

export const SEXES = ['female', 'male', 'diverse', 'unknown'] as const;
export const MAX_AGE_YEARS = 125;

const name = z.string().trim().min(1).max(100).regex(/\p{L}/u, 'must contain a letter');

/** Accepts "0171 1234567", "030/1234567", "+49 171 123-4567", "0049 171 1234567"; stores E.164 ("+491711234567"). */
export const phone = z
  .string()
  .max(32)
  .transform((s, ctx) => {
    const e164 = normalizePhone(s);
    if (e164) return e164;
    ctx.addIssue({ code: 'custom', message: 'must be a phone number, national (0171 1234567) or international (+44 20 7946 0958)', params: { code: 'invalid_phone' } });
    return z.NEVER;
  });

export function isValidIsoDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

export const isoDate = z.string().refine(isValidIsoDate, { message: 'must be a real calendar date in the form YYYY-MM-DD', params: { code: 'invalid_date' } });

export const birthDate = isoDate.superRefine((s, ctx) => {
  if (!isValidIsoDate(s)) return;
  const today = practiceToday();
  if (s > today) ctx.addIssue({ code: 'custom', message: 'must not be in the future', params: { code: 'future_date' } });
  else if (ageOn(s, today) > MAX_AGE_YEARS) ctx.addIssue({ code: 'custom', message: `gives an age over ${MAX_AGE_YEARS} years`, params: { code: 'implausible_age', limit: MAX_AGE_YEARS } });
});

export function ageOn(birth: string, day: string): number {
  const [by, bm, bd] = birth.split('-').map(Number);
  const [y, m, d] = day.split('-').map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

export const address = z.strictObject({
  street: z.string().trim().min(1).max(200),
  postalCode: z.string().trim().regex(/^[A-Za-z0-9 -]{3,10}$/, 'must be 3–10 letters or digits'),
  city: z.string().trim().min(1).max(100),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code such as DE').optional(),
});

/** "Dr.", "Prof. Dr. med.", "Dipl.-Ing.": letters, dots, spaces, hyphens. */
const title = z.string().trim().min(1).max(50).regex(/^[\p{L}][\p{L}. -]*$/u, 'may contain letters, dots, spaces and hyphens');
const insurer = z.string().trim().min(1).max(120).regex(/^[\p{L}\p{N}][\p{L}\p{N} .,&()/+'-]*$/u, 'may contain letters, digits, spaces and . , & ( ) / + \' -');
/** Checked against the insurance type afterwards (insurance.ts crossFieldIssues): KVNR for statutory. */
const insuranceNumber = z.string().trim().min(1).max(30).transform((s) => (/^[A-Za-z][\d\s]{9,}$/.test(s) ? normalizeKvnr(s) : s));
const patientNumber = z.string().trim().regex(PATIENT_NUMBER, 'may contain letters, digits and . / - (1–20 characters)').transform((s) => s.toUpperCase());

export const masterData = z.strictObject({
  title: title.optional(),
  salutation: z.enum(SALUTATIONS).optional(),
  givenName: name,
  familyName: name,
  sex: z.enum(SEXES),
  birthDate,
  language: z.string().regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'must be a language code such as de or en-GB').optional(),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code such as DE').optional(),
  phone: phone.optional(),
  whatsapp: phone.optional(),
  email: z.email('must be a valid e-mail address').max(254).transform((s) => s.toLowerCase()).optional(),
  address: address.optional(),
  insuranceType: z.enum(INSURANCE_TYPES).optional(),
  insurer: insurer.optional(),
  insuranceNumber: insuranceNumber.optional(),
  preferredChannel: z.enum(CONTACT_CHANNELS).optional(),
  /** The practice's own number, unique in the organization (blind index kind "number"). */
  patientNumber: patientNumber.optional(),
});
export type MasterData = z.infer<typeof masterData>;

export const createPatientBody = masterData.extend({
  /** Create even though a likely duplicate exists (the UI asks first). */
  allowDuplicate: z.boolean().optional(),
});

/** Art. 16 rectification: any subset of fields; null removes an optional field. */
export const updatePatientBody = z.strictObject({
  changes: z.strictObject({
    givenName: name.optional(),
    familyName: name.optional(),
    sex: z.enum(SEXES).optional(),
    birthDate: birthDate.optional(),
    language: masterData.shape.language.unwrap().nullable().optional(),
    country: masterData.shape.country.unwrap().nullable().optional(),
    phone: phone.nullable().optional(),
    whatsapp: phone.nullable().optional(),
    email: masterData.shape.email.unwrap().nullable().optional(),
    address: address.nullable().optional(),
    title: title.nullable().optional(),
    salutation: z.enum(SALUTATIONS).nullable().optional(),
    insuranceType: z.enum(INSURANCE_TYPES).nullable().optional(),
    insurer: insurer.nullable().optional(),
    insuranceNumber: insuranceNumber.nullable().optional(),
    preferredChannel: z.enum(CONTACT_CHANNELS).nullable().optional(),
    patientNumber: patientNumber.nullable().optional(),
  }),
  reason: z.string().trim().min(1).max(500).optional(),
  expectedVersion: z.number().int().positive().optional(),
});

export const SORTS = ['created_at', 'updated_at', 'last_treatment_on'] as const;

/** Paging and order of the patient list: nothing that identifies a patient, so it may sit in a URL. */
const paging = {
  sort: z.enum(SORTS).default('created_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
};

/** GET /patients: the plain list (search terms are refused here; they travel in a POST body). */
export const listQuery = z.strictObject(paging);

/**
 * POST /patients/search: the search terms identify a patient (name, birth date, phone, e-mail),
 * so they never go into a URL, where proxies and access logs would keep them.
 */
export const searchBody = z.strictObject({
  q: z.string().trim().max(200).optional(),
  birthDate: isoDate.optional(),
  phone: z.string().max(32).optional(),
  email: z.string().max(254).optional(),
  /** The practice's patient number, exact match. */
  patientNumber: z.string().trim().max(20).optional(),
  ...paging,
});
export type ListQuery = z.infer<typeof searchBody>;

export const idParams = z.strictObject({ id: z.uuid('must be a patient id (UUID)') });

// ---- answers (http/response.ts): master data as stored (already normalized), dates as JSON carries them ----
export const addressView = named('Address', z.strictObject({ street: z.string(), postalCode: z.string(), city: z.string(), country: z.string().optional() }));

export const masterDataView = named('MasterData', z.strictObject({
  givenName: z.string(),
  familyName: z.string(),
  sex: z.enum(SEXES),
  birthDate: isoDay,
  language: z.string().optional(),
  country: z.string().optional(),
  phone: z.string().optional(),
  whatsapp: z.string().optional(),
  email: z.string().optional(),
  address: addressView.optional(),
  title: z.string().optional(),
  salutation: z.enum(SALUTATIONS).optional(),
  insuranceType: z.enum(INSURANCE_TYPES).optional(),
  insurer: z.string().optional(),
  insuranceNumber: z.string().optional(),
  preferredChannel: z.enum(CONTACT_CHANNELS).optional(),
  patientNumber: z.string().optional(),
}));

export const patientView = named('Patient', masterDataView.extend({
  id: z.uuid(),
  version: z.number().int(),
  restricted: z.boolean(),
  restrictedAt: isoTime.nullable(),
  /** Only in the answer of GET /patients/{id}. */
  restrictionReason: z.string().nullable().optional(),
  objection: z.boolean(),
  objectedAt: isoTime.nullable(),
  lastTreatmentOn: isoDay.nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
}));

export const patientPageView = named('PatientPage', z.strictObject({
  items: z.array(patientView),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  sort: z.enum(SORTS),
  order: z.enum(['asc', 'desc']),
}));

export const onePatientView = z.strictObject({ patient: patientView });

export const patientHistoryView = z.strictObject({
  versions: z.array(named('MasterDataVersion', z.strictObject({
    version: z.number().int(), data: masterDataView, reason: z.string().nullable(), changedAt: isoTime, changedBy: z.uuid().nullable(),
  }))),
  currentVersion: z.number().int(),
});
