// "Today" on the server is the requesting organization's calendar day (its time zone comes with
// the session), not UTC's: a birth or treatment date of the practice's today is accepted, its
// tomorrow refused — also in the hour after midnight in Berlin, when UTC is still in the day before.
import test from 'ava';
import { dayIn, practiceToday, runWithContext, systemContext } from '../../app/api/src/core/context.ts';
import { treatmentBody } from '../../app/api/src/modules/records/record.schema.ts';
import { birthDate } from '../../app/api/src/modules/patients/patient.schema.ts';
import { addDays } from '../helpers/days.ts';

const inZone = <T>(timeZone: string | undefined, fn: () => T): T =>
  runWithContext(systemContext('test', { userId: 'u', organizationId: 'o', roles: ['doctor'], sessionId: 's', timeZone }), fn);
const nextDay = (day: string) => addDays(day, 1);
const treatment = (performedOn: string) => treatmentBody.safeParse({ performedOn, type: 'PRP', description: 'Sitzung' });

test('the practice\'s day at fixed instants: 00:30 in Berlin is already the next day, UTC is not', (t) => {
  const night = new Date('2026-12-01T23:30:00Z');
  t.is(inZone('Europe/Berlin', () => practiceToday(night)), '2026-12-02');
  t.is(inZone('UTC', () => practiceToday(night)), '2026-12-01');
  t.is(inZone(undefined, () => practiceToday(night)), '2026-12-02', 'without a zone of its own: Europe/Berlin');
  t.is(practiceToday(night), '2026-12-02', 'outside a request as well');
  t.is(inZone('Europe/Berlin', () => practiceToday(new Date('2026-07-01T22:30:00Z'))), '2026-07-02', 'summer time (UTC+2)');
  t.is(inZone('Pacific/Pago_Pago', () => practiceToday(night)), '2026-12-01');
  t.is(dayIn('Pacific/Kiritimati', night), '2026-12-02');
});

test('a treatment or birth date of the practice\'s today is accepted and its tomorrow refused, in any zone', (t) => {
  const ahead = 'Pacific/Kiritimati'; // UTC+14
  const behind = 'Pacific/Pago_Pago'; // UTC−11: always one or two calendar days before Kiritimati
  const aheadToday = dayIn(ahead);
  const behindToday = dayIn(behind);
  t.true(behindToday < aheadToday);
  for (const zone of [ahead, behind, 'Europe/Berlin']) {
    const today = dayIn(zone);
    t.true(inZone(zone, () => treatment(today)).success, `${zone}: today`);
    t.false(inZone(zone, () => treatment(nextDay(today))).success, `${zone}: tomorrow`);
    t.true(inZone(zone, () => birthDate.safeParse(today)).success, `${zone}: born today`);
    t.false(inZone(zone, () => birthDate.safeParse(nextDay(today))).success, `${zone}: born tomorrow`);
  }
  // The same date is today in one practice and the future in another.
  t.true(inZone(ahead, () => treatment(aheadToday)).success);
  const refused = inZone(behind, () => treatment(aheadToday));
  t.false(refused.success);
  t.deepEqual(refused.error?.issues.map((i) => [i.path.join('.'), i.message]), [['performedOn', 'must not be in the future']]);
});
