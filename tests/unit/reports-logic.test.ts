// Small tests of the reports' pure parts: CSV neutralisation, suppression rules, periods.
import test from 'ava';
import { csvCell, toCsv } from '../../app/api/src/modules/reports/csv.ts';
import { suppressRow, type SeriesRule } from '../../app/api/src/modules/reports/suppression.ts';
import { periods, previousRange, workDaysIn } from '../../app/api/src/modules/reports/periods.ts';

test('CSV cells that a spreadsheet would run as a formula get an apostrophe; quotes, commas and line breaks are quoted', (t) => {
  t.is(csvCell('=1+1'), "'=1+1");
  t.is(csvCell('+49 170'), "'+49 170");
  t.is(csvCell('-2'), "'-2");
  t.is(csvCell('@SUM(A1)'), "'@SUM(A1)");
  t.is(csvCell('\tcmd'), "'\tcmd");
  t.is(csvCell('\rcmd'), '"\'\rcmd"');
  t.is(csvCell('a,"b"'), '"a,""b"""');
  t.is(csvCell('Dr. A'), 'Dr. A');
  t.is(csvCell(-3), '-3', 'numbers stay numbers');
  t.is(csvCell(null), '');
  t.is(toCsv([['a', 1], [null, '=x']]), '\uFEFFa,1\r\n,\'=x\r\n');
});

const rules: SeriesRule[] = [
  { key: 'total', kind: 'count', group: 'g', total: true },
  { key: 'a', kind: 'count', group: 'g' }, { key: 'b', kind: 'count', group: 'g' }, { key: 'c', kind: 'count', group: 'g' },
  { key: 'rate', kind: 'percent', dependsOn: ['a'] },
];

test('one small cell hides the total and the smallest non-zero other cell, so differencing reveals no single cell', (t) => {
  const r = suppressRow(rules, { period: 'p', values: { total: 19, a: 2, b: 9, c: 8, rate: 10 } }, 5);
  t.deepEqual(r.values, { total: null, a: null, b: 9, c: null, rate: null });
  t.deepEqual(r.suppressed, ['total', 'a', 'c', 'rate']);
  // whatever total an attacker knows from elsewhere, a + c stays two unknowns
  const shownSum = Object.entries(r.values).filter(([k, v]) => k !== 'total' && k !== 'rate' && v !== null).reduce((x, [, v]) => x + (v as number), 0);
  t.is(19 - shownSum, 10, 'the difference is the sum of two hidden cells, neither of them alone');
});

test('two small cells hide the total only; zeros are not small; nothing small hides nothing', (t) => {
  t.deepEqual(suppressRow(rules, { period: 'p', values: { total: 13, a: 1, b: 2, c: 10, rate: 5 } }, 5).suppressed, ['total', 'a', 'b', 'rate']);
  t.deepEqual(suppressRow(rules, { period: 'p', values: { total: 10, a: 0, b: 0, c: 10, rate: 0 } }, 5).suppressed, []);
  // the only non-zero other is a zero: a zero cell is hidden as the complement
  t.deepEqual(suppressRow(rules, { period: 'p', values: { total: 3, a: 3, b: 0, c: 0, rate: 0 } }, 5).suppressed, ['total', 'a', 'b', 'rate']);
});

test('weeks start on Monday, months on the 1st; the previous range has the same length; working days are counted per period', (t) => {
  t.deepEqual(periods('2026-02-04', '2026-02-16', 'week'), [
    { start: '2026-02-02', first: '2026-02-04', last: '2026-02-08' },
    { start: '2026-02-09', first: '2026-02-09', last: '2026-02-15' },
    { start: '2026-02-16', first: '2026-02-16', last: '2026-02-16' },
  ]);
  t.deepEqual(periods('2026-12-15', '2027-01-10', 'month').map((p) => p.start), ['2026-12-01', '2027-01-01']);
  t.deepEqual(previousRange('2026-02-02', '2026-03-01'), { from: '2026-01-05', to: '2026-02-01' });
  t.is(workDaysIn('2026-02-02', '2026-02-08', [1, 2, 3, 4, 5]), 5);
  t.is(workDaysIn('2026-02-04', '2026-02-08', [6]), 1);
});
