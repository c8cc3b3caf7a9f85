// Fixed demo data with known totals for the reports (not a test file itself): written with SQL as
// the superuser into one organization, four weeks from Monday 2026-02-02 to Sunday 2026-03-01
// (Europe/Berlin, CET) and one week before. Content columns hold dummy bytes: reports never decrypt.
// The expected figures are spelled out in tests/integration/reports.test.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import { createDb } from '../../app/api/src/db/connection.ts';

export const RANGE = { from: '2026-02-02', to: '2026-03-01' };
export const WEEKS = ['2026-02-02', '2026-02-09', '2026-02-16', '2026-02-23'];

/** Local Berlin time in February (UTC+1) as an ISO instant. */
const at = (day: string, hhmm: string) => new Date(`${day}T${hhmm}:00+01:00`).toISOString();
const addMinutes = (iso: string, m: number) => new Date(Date.parse(iso) + m * 60_000).toISOString();

export interface DemoIds { practitioner: string; surgeryRoom: string; consultRoom: string; types: Record<string, string> }

export async function seedReportDemo(superuserUrl: string, org: string, opts: { consultRoomName?: string } = {}): Promise<DemoIds> {
  const db = createDb(superuserUrl, 1);
  try {
    return await db.transaction(async (trx) => {
      const dummy = () => randomBytes(8);
      const types: Record<string, string> = Object.fromEntries((await trx('appointment_types').where({ organization_id: org }).select('id', 'key')).map((r: { id: string; key: string }) => [r.key, r.id]));
      const [{ id: practitioner }] = await trx('appointment_resources').insert({ organization_id: org, kind: 'practitioner', name: 'Dr. Demo' }).returning('id');
      const [{ id: surgeryRoom }] = await trx('appointment_resources').insert({ organization_id: org, kind: 'room', name: 'OP 1' }).returning('id');
      const [{ id: consultRoom }] = await trx('appointment_resources').insert({ organization_id: org, kind: 'room', name: opts.consultRoomName ?? 'Beratung 1' }).returning('id');

      const patients = async (n: number, day: string, source: string | null) => {
        const ids: string[] = [];
        for (let i = 0; i < n; i++) {
          const id = randomUUID();
          ids.push(id);
          await trx('patients').insert({ id, organization_id: org, data: dummy(), source_channel: source, created_at: at(day, `1${i % 10}:0${i % 6}`) });
        }
        return ids;
      };
      const prospects = async (n: number, day: string) => {
        for (let i = 0; i < n; i++) await trx('prospects').insert({ organization_id: org, phone_token: randomBytes(16), data: dummy(), created_at: at(day, '12:00') });
      };
      const anamnesis = (patientId: string, status: string) =>
        trx('record_entries').insert({ organization_id: org, patient_id: patientId, kind: 'anamnesis', data: dummy(), prequal_status: status });
      const appointment = (patientId: string, type: string, start: string, minutes: number, status: string, resources: { practitioner_id?: string; room_id?: string }) =>
        trx('appointments').insert({ organization_id: org, patient_id: patientId, type_id: types[type], starts_at: start, ends_at: addMinutes(start, minutes), status,
          cancelled_at: status === 'cancelled' ? start : null, ...resources });
      const outbox = (patientId: string, channel: string, status: string, createdAt: string, purpose = 'appointment_reminder') =>
        trx('outbox_messages').insert({ organization_id: org, patient_id: patientId, purpose, channel, automated: purpose !== 'reply', status, variables: dummy(), created_at: createdAt });
      const inbound = (patientId: string, receivedAt: string) =>
        trx('inbound_messages').insert({ organization_id: org, patient_id: patientId, provider: 'meta', kind: 'text', content: dummy(), received_at: receivedAt });

      // week before the range (previous period): 8 walk-ins
      await patients(8, '2026-01-07', 'walk_in');
      // week 1: 6 website form, 5 WhatsApp, 2 phone; 3 prospects
      const w1 = [...await patients(6, '2026-02-03', 'website_form'), ...await patients(5, '2026-02-04', 'whatsapp'), ...await patients(2, '2026-02-05', 'phone')];
      await prospects(3, '2026-02-04');
      // week 2: 7 referrals (qualified), 5 by e-mail (2 needs review, 3 not qualified); 5 prospects
      const referral = await patients(7, '2026-02-10', 'referral');
      const email = await patients(5, '2026-02-11', 'email');
      await prospects(5, '2026-02-12');
      for (const p of referral) await anamnesis(p, 'qualified');
      for (const [i, p] of email.entries()) await anamnesis(p, i < 2 ? 'needs_review' : 'not_qualified');
      // week 4: 10 without a recorded source
      const w4 = await patients(10, '2026-02-24', null);

      // appointments, week 3 (Mon 2026-02-16): 6 consultations done, 2 no-shows, 1 cancelled (30 min each)
      for (let i = 0; i < 9; i++) {
        const status = i < 6 ? 'done' : i < 8 ? 'no_show' : 'cancelled';
        const patient = i < 6 ? referral[i] : email[i - 6];
        await appointment(patient, 'consultation', at('2026-02-16', `${String(9 + Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`), 30, status, { practitioner_id: practitioner, room_id: consultRoom });
      }
      // week 4: 5 surgeries planned (Mon–Fri 08:00–12:00), 3 consultations arrived (Mon 13:00, 13:30, 14:00)
      for (let i = 0; i < 5; i++) await appointment(referral[i], 'surgery', at(`2026-02-${23 + i}`, '08:00'), 240, 'planned', { practitioner_id: practitioner, room_id: surgeryRoom });
      for (const [i, hhmm] of ['13:00', '13:30', '14:00'].entries()) await appointment(w4[i], 'consultation', at('2026-02-23', hhmm), 30, 'arrived', { practitioner_id: practitioner, room_id: consultRoom });

      // messages, week 1: e-mail delivered 6, WhatsApp read 5, WhatsApp failed 1; week 2: e-mail sent 7
      for (let i = 0; i < 6; i++) await outbox(w1[i], 'email', 'delivered', at('2026-02-03', '09:00'));
      for (let i = 0; i < 5; i++) await outbox(w1[6 + i], 'whatsapp', 'read', at('2026-02-03', '10:00'));
      await outbox(w1[11], 'whatsapp', 'failed', at('2026-02-03', '11:00'));
      for (let i = 0; i < 7; i++) await outbox(referral[i], 'email', 'sent', at('2026-02-10', '09:00'));
      // inbox, week 1: two conversations with 4 messages each, unanswered
      for (let i = 0; i < 8; i++) await inbound(w1[i % 2], at('2026-02-04', `1${i}:00`));
      // week 2: 6 conversations, first message at 10:00; 5 answered after 10, 20, 30, 40, 50 minutes
      for (let i = 0; i < 6; i++) {
        await inbound(referral[i], at('2026-02-10', '10:00'));
        if (i < 5) await outbox(referral[i], 'whatsapp', 'delivered', addMinutes(at('2026-02-10', '10:00'), 10 * (i + 1)), 'reply');
      }
      return { practitioner, surgeryRoom, consultRoom, types };
    });
  } finally {
    await db.destroy();
  }
}

/** Another organization with 20 website-form patients in week 2: none of them may show in the first. */
export async function seedOtherOrganization(superuserUrl: string, org: string): Promise<void> {
  const db = createDb(superuserUrl, 1);
  try {
    for (let i = 0; i < 20; i++) await db('patients').insert({ organization_id: org, data: randomBytes(8), source_channel: 'website_form', created_at: at('2026-02-10', '15:00') });
  } finally {
    await db.destroy();
  }
}
