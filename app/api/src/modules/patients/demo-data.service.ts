// Synthetic demo patients for demos and benchmarks: invented name combinations, numbers from
// fictional ranges and example.org addresses (no real people). Fast path: keys, master data,
// search tokens and one anamnesis per patient are prepared in memory and inserted in batches.
// Data keys are wrapped exactly as KeyStore wraps them (tests/unit/patients-demo-keys.test.ts).
import { randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { practiceToday } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { dataKeyAad, fieldAad, newKey, seal } from '../keystore/keystore.crypto.ts';
import { blindToken, termsFor } from './blind-index.ts';
import { searchKey } from './patient.crypto.ts';
import type { MasterData } from './patient.schema.ts';
import { kvnrCheckDigit } from './insurance.ts';
import { resolveQuestionnaire } from '../records/questionnaire.service.ts';
import { prequalify } from '../records/questionnaire.evaluate.ts';

const GIVEN_F = ['Anna', 'Lea', 'Marie', 'Sophie', 'Emma', 'Hannah', 'Mia', 'Elif', 'Zeynep', 'Ayşe', 'Olivia', 'Fatma', 'Laura', 'Julia', 'Sara', 'Nora', 'Clara', 'Greta', 'Ida', 'Lina'];
const GIVEN_M = ['Lukas', 'Jonas', 'Leon', 'Finn', 'Paul', 'Elias', 'Ben', 'Mehmet', 'Ahmet', 'Can', 'James', 'Omar', 'Yusuf', 'Felix', 'Noah', 'Emil', 'Anton', 'Jakob', 'Moritz', 'Karl'];
const FAMILY = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann', 'Braun', 'Krüger', 'Yılmaz', 'Kaya', 'Demir', 'Şahin', 'Çelik', 'Smith', 'Jones', 'Taylor', 'Haddad', 'Nasser', 'Lange', 'Hartmann', 'Krause', 'Lehmann', 'Köhler', 'Herrmann', 'König', 'Walter', 'Mayer', 'Huber'];
const CITIES = [['10115', 'Berlin'], ['20095', 'Hamburg'], ['80331', 'München'], ['50667', 'Köln'], ['60311', 'Frankfurt am Main'], ['70173', 'Stuttgart'], ['40213', 'Düsseldorf']];
const STREETS = ['Hauptstraße', 'Schulstraße', 'Gartenweg', 'Bahnhofstraße', 'Lindenallee', 'Birkenweg', 'Am Markt'];
const INSURERS = ['AOK Nordost', 'Techniker Krankenkasse', 'BARMER', 'DAK-Gesundheit', 'IKK classic', 'KKH'];
const PRIVATE_INSURERS = ['Debeka', 'DKV', 'Allianz Private Krankenversicherung', 'Signal Iduna'];
/** A KVNR with a valid check digit (random letter and digits: not a real person's number). */
function demoKvnr(): string {
  const first = `${String.fromCharCode(65 + int(0, 25))}${String(int(0, 99_999_999)).padStart(8, '0')}`;
  return `${first}${kvnrCheckDigit(first)}`;
}
const pick = <T>(a: T[]) => a[Math.floor(Math.random() * a.length)];
const int = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

export function demoMasterData(): MasterData {
  const female = Math.random() < 0.5;
  const given = pick(female ? GIVEN_F : GIVEN_M);
  const family = Math.random() < 0.1 ? `${pick(FAMILY)}-${pick(FAMILY)}` : pick(FAMILY);
  const year = int(1945, 2005);
  const [postalCode, city] = pick(CITIES);
  const intl = Math.random() < 0.2;
  const r = Math.random();
  const insurance: Partial<MasterData> = r < 0.85 ? { insuranceType: 'statutory', insurer: pick(INSURERS), insuranceNumber: demoKvnr() }
    : r < 0.95 ? { insuranceType: 'private', insurer: pick(PRIVATE_INSURERS), insuranceNumber: `PKV-${int(100_000, 999_999)}` } : { insuranceType: 'self_pay' };
  const whatsapp = Math.random() < 0.7 ? `+4917${int(0, 9)}${int(1_000_000, 9_999_999)}` : undefined;
  return {
    salutation: female ? 'ms' : 'mr', ...insurance, preferredChannel: whatsapp ? 'whatsapp' : 'phone',
    givenName: given, familyName: family, sex: female ? 'female' : 'male',
    birthDate: `${year}-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`,
    language: intl ? pick(['en', 'tr', 'ar']) : 'de', country: intl ? pick(['GB', 'TR', 'AE', 'NL']) : 'DE',
    phone: `+49151${int(10_000_000, 99_999_999)}`, // fictional mobile range (0151 + 8 digits)
    whatsapp,
    email: `${given}.${family}.${int(1, 99999)}@example.org`.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '').replace(/ı/g, 'i').replace(/[^a-z0-9.@-]/g, ''),
    address: { street: `${pick(STREETS)} ${int(1, 120)}`, postalCode, city, country: 'DE' },
  };
}

function demoAnswers() {
  const smoker = Math.random() < 0.25;
  const thinners = Math.random() < 0.1;
  return {
    smoker, ...(smoker ? { cigarettes_per_day: int(2, 30) } : {}),
    blood_thinners: thinners, ...(thinners ? { blood_thinner_name: 'ASS 100' } : {}),
    hair_status: `norwood_${int(2, 7)}`, hair_loss_years: int(1, 25),
    medication: Math.random() < 0.3 ? ['Finasterid 1 mg'] : [], allergies: Math.random() < 0.1 ? ['Penicillin'] : [],
  };
}

export interface DemoRows {
  keys: object[];
  patients: object[];
  search: object[];
  entries: object[];
}

/**
 * n demo patients as table rows (data key wrapped, master data and one anamnesis sealed, search
 * tokens): pure computation, so a benchmark can load the same rows in bulk.
 */
export function demoRows(master: Buffer, sKey: Buffer, organizationId: string, userId: string, n: number, q: { id: string; definition: Parameters<typeof prequalify>[0] }): DemoRows {
  const rows: DemoRows = { keys: [], patients: [], search: [], entries: [] };
  const today = practiceToday(); // the practice's day, not UTC's: no treatment in the future
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const key = newKey();
    const m = demoMasterData();
    rows.keys.push({ organization_id: organizationId, scope: 'patient', scope_id: id, wrapped_key: seal(master, key, dataKeyAad(organizationId, 'patient', id)) });
    const treated = Math.random() < 0.6 ? `${int(2012, 2025)}-${String(int(1, 12)).padStart(2, '0')}-15` : null;
    rows.patients.push({ id, organization_id: organizationId, created_by: userId, last_treatment_on: treated && treated < today ? treated : null, data: seal(key, Buffer.from(JSON.stringify(m)), fieldAad(organizationId, 'patient', id, 'master')) });
    for (const t of termsFor(m)) rows.search.push({ organization_id: organizationId, patient_id: id, kind: t.kind, token: blindToken(sKey, t) });
    const entryId = randomUUID();
    const answers = demoAnswers();
    const data = { questionnaire: { key: 'anamnesis', version: 1 }, answers, prequalification: prequalify(q.definition, answers, 40) };
    rows.entries.push({ id: entryId, organization_id: organizationId, patient_id: id, kind: 'anamnesis', questionnaire_id: q.id, created_by: userId,
      data: seal(key, Buffer.from(JSON.stringify(data)), fieldAad(organizationId, 'patient', id, `record_entry:anamnesis:${entryId}`)) });
  }
  return rows;
}

async function insertBatch(services: Services, trx: Tx, organizationId: string, userId: string, n: number, q: { id: string; definition: Parameters<typeof prequalify>[0] }) {
  const sKey = await services.keys.blobKey(trx, searchKey(organizationId));
  const rows = demoRows(services.seal.masterKey(), sKey, organizationId, userId, n, q);
  await trx.batchInsert('data_keys', rows.keys, 1000);
  await trx.batchInsert('patients', rows.patients, 1000);
  await trx.batchInsert('patient_search', rows.search, 2000);
  await trx.batchInsert('record_entries', rows.entries, 1000);
}

export async function generateDemoPatients(services: Services, count: number, onProgress?: (done: number) => void): Promise<{ created: number }> {
  const actor = authorize('patients.write');
  const scope = { organizationId: actor.organizationId, userId: actor.userId };
  const q = await withScope(services.db, scope, (trx) => resolveQuestionnaire(trx, actor.organizationId, 'anamnesis', 1));
  for (let done = 0; done < count; ) {
    const n = Math.min(2000, count - done);
    await withScope(services.db, scope, async (trx) => {
      await insertBatch(services, trx, actor.organizationId, actor.userId, n, q);
      await audit(trx, { action: 'patient.demo_data', objectType: 'patient', details: { created: n } });
    });
    done += n;
    onProgress?.(done);
  }
  return { created: count };
}
