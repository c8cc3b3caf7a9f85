// Pure helpers for the patient pages: master data as flat form strings and back, names, and the
// changes an edit makes (Art. 16: only changed fields are sent, a cleared field is null).
import type { MasterData, MasterDataChanges, Patient, Sex } from './api.ts';
import { formatPhone, samePhone } from './phone.ts';

export interface MasterForm {
  givenName: string;
  familyName: string;
  sex: Sex | '';
  birthDate: string;
  language: string;
  country: string;
  phone: string;
  whatsapp: string;
  email: string;
  street: string;
  postalCode: string;
  city: string;
  addressCountry: string;
  title: string;
  salutation: NonNullable<MasterData['salutation']> | '';
  insuranceType: NonNullable<MasterData['insuranceType']> | '';
  insurer: string;
  insuranceNumber: string;
  preferredChannel: NonNullable<MasterData['preferredChannel']> | '';
  patientNumber: string;
}

export function emptyMasterForm(): MasterForm {
  return { givenName: '', familyName: '', sex: '', birthDate: '', language: '', country: '', phone: '', whatsapp: '', email: '', street: '', postalCode: '', city: '', addressCountry: '',
    title: '', salutation: '', insuranceType: '', insurer: '', insuranceNumber: '', preferredChannel: '', patientNumber: '' };
}

export function masterFormOf(p: MasterData): MasterForm {
  return {
    givenName: p.givenName, familyName: p.familyName, sex: p.sex, birthDate: p.birthDate,
    language: p.language ?? '', country: p.country ?? '', phone: formatPhone(p.phone), whatsapp: formatPhone(p.whatsapp), email: p.email ?? '',
    street: p.address?.street ?? '', postalCode: p.address?.postalCode ?? '', city: p.address?.city ?? '', addressCountry: p.address?.country ?? '',
    title: p.title ?? '', salutation: p.salutation ?? '', insuranceType: p.insuranceType ?? '', insurer: p.insurer ?? '',
    insuranceNumber: p.insuranceNumber ?? '', preferredChannel: p.preferredChannel ?? '', patientNumber: p.patientNumber ?? '',
  };
}

const opt = (s: string) => s.trim() || undefined;

/** The request body for POST /patients; empty optional fields are left out. */
export function masterDataOf(f: MasterForm): MasterData {
  const hasAddress = [f.street, f.postalCode, f.city, f.addressCountry].some((s) => s.trim());
  return {
    givenName: f.givenName.trim(),
    familyName: f.familyName.trim(),
    sex: f.sex as Sex, // an empty choice goes to the server, which names the field
    birthDate: f.birthDate,
    language: opt(f.language),
    country: opt(f.country)?.toUpperCase(),
    phone: opt(f.phone),
    whatsapp: opt(f.whatsapp),
    email: opt(f.email),
    address: hasAddress ? { street: f.street.trim(), postalCode: f.postalCode.trim(), city: f.city.trim(), country: opt(f.addressCountry)?.toUpperCase() } : undefined,
    title: opt(f.title),
    salutation: f.salutation || undefined,
    insuranceType: f.insuranceType || undefined,
    insurer: opt(f.insurer),
    insuranceNumber: opt(f.insuranceNumber),
    preferredChannel: f.preferredChannel || undefined,
    patientNumber: opt(f.patientNumber),
  };
}

/** Only what differs from the stored master data; a cleared optional field becomes null. */
export function changesOf(before: MasterData, f: MasterForm): MasterDataChanges {
  const next = masterDataOf(f);
  const out: MasterDataChanges = {};
  const keys: (keyof MasterData)[] = ['givenName', 'familyName', 'sex', 'birthDate', 'language', 'country', 'phone', 'whatsapp', 'email', 'address',
    'title', 'salutation', 'insuranceType', 'insurer', 'insuranceNumber', 'preferredChannel', 'patientNumber'];
  for (const key of keys) {
    const a = before[key];
    const b = next[key];
    if (JSON.stringify(a ?? null) === JSON.stringify(b ?? null)) continue;
    // The form shows numbers grouped ("+49 171 1234567"); the stored E.164 form is the same number.
    if ((key === 'phone' || key === 'whatsapp') && a && b && samePhone(a as string, b as string)) continue;
    (out as Record<string, unknown>)[key] = b ?? null;
  }
  return out;
}

export function fullName(p: Pick<MasterData, 'givenName' | 'familyName'>): string {
  return `${p.givenName} ${p.familyName}`;
}

/** Whether the erasure confirmation matches the patient's name or the confirmation word. */
export function erasureConfirmed(typed: string, p: Pick<Patient, 'givenName' | 'familyName'>, words: string[]): boolean {
  const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLocaleLowerCase('de');
  const value = norm(typed);
  if (!value) return false;
  return value === norm(fullName(p)) || words.some((w) => value === norm(w));
}
