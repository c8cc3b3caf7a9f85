// Issue 12 item 7: cron schedules shown in words in the UI language, with the raw expression as
// the fallback for forms the formatter does not put into words.
import test from 'ava';
import { cronToWords } from '../../app/web/src/lib/cron-words.ts';

const cases: [string, string, string][] = [
  // The product's schedules (backup default, restore drill default, retention) …
  ['30 2 * * *', 'täglich um 02:30', 'daily at 02:30'],
  ['30 4 * * 0', 'sonntags um 04:30', 'Sundays at 04:30'],
  ['0 3 * * 0', 'sonntags um 03:00', 'Sundays at 03:00'],
  ['0 4 1 * *', 'am 1. des Monats um 04:00', 'on the 1st of the month at 04:00'],
  // … and common forms.
  ['0 3 * * 7', 'sonntags um 03:00', 'Sundays at 03:00'],
  ['15 1 * * SUN', 'sonntags um 01:15', 'Sundays at 01:15'],
  ['0 22 * * 1-5', 'montags bis freitags um 22:00', 'Monday to Friday at 22:00'],
  ['0 22 * * mon-fri', 'montags bis freitags um 22:00', 'Monday to Friday at 22:00'],
  ['0 6 * * 1,3,5', 'montags, mittwochs und freitags um 06:00', 'Mondays, Wednesdays and Fridays at 06:00'],
  ['0 6 * * 6,0', 'sonntags und samstags um 06:00', 'Sundays and Saturdays at 06:00'],
  ['30 2,14 * * *', 'täglich um 02:30 und 14:30', 'daily at 02:30 and 14:30'],
  ['0 4 2 * *', 'am 2. des Monats um 04:00', 'on the 2nd of the month at 04:00'],
  ['0 4 1,15 * *', 'am 1. und 15. des Monats um 04:00', 'on the 1st and 15th of the month at 04:00'],
  ['0 4 23 * *', 'am 23. des Monats um 04:00', 'on the 23rd of the month at 04:00'],
  ['0 4 11 * *', 'am 11. des Monats um 04:00', 'on the 11th of the month at 04:00'],
  ['0 5 1 1 *', 'am 1. im Januar um 05:00', 'on the 1st in January at 05:00'],
  ['0 5 * 12 *', 'täglich im Dezember um 05:00', 'daily in December at 05:00'],
  ['15 * * * *', 'stündlich zur Minute 15', 'every hour at minute 15'],
  ['0 */6 * * *', 'alle 6 Stunden zur Minute 0', 'every 6 hours at minute 0'],
  ['*/15 * * * *', 'alle 15 Minuten', 'every 15 minutes'],
  ['* * * * *', 'jede Minute', 'every minute'],
  ['@daily', 'täglich um 00:00', 'daily at 00:00'],
  ['@weekly', 'sonntags um 00:00', 'Sundays at 00:00'],
  ['@monthly', 'am 1. des Monats um 00:00', 'on the 1st of the month at 00:00'],
  ['0 30 2 * * *', 'täglich um 02:30', 'daily at 02:30'],
  ['  30   2 * * *  ', 'täglich um 02:30', 'daily at 02:30'],
];

for (const [expr, de, en] of cases) {
  test(`"${expr}" → "${de}" / "${en}"`, (t) => {
    t.deepEqual(cronToWords(expr, 'de'), { text: de, understood: true });
    t.deepEqual(cronToWords(expr, 'en'), { text: en, understood: true });
  });
}

const fallbacks = ['0 4 1 * 1', '5-10 2 * * *', '0 2 * * 8', '0 25 * * *', '61 2 * * *', 'x y z', '', '15 30 2 * * *', '0 2 */2 * *', '0 2 L * *', '0 0,1,2,3,4,5,6 * * *', '0 2 5-1 * *', '*/0 * * * *'];
for (const expr of fallbacks) {
  test(`"${expr}" is not put into words: the raw expression is shown`, (t) => {
    t.deepEqual(cronToWords(expr, 'de'), { text: expr.trim(), understood: false });
    t.deepEqual(cronToWords(expr, 'en'), { text: expr.trim(), understood: false });
  });
}
