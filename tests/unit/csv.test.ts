// The register's CSV export (app/web/src/lib/csv.ts): every cell quoted, quotes doubled, and cells
// a spreadsheet would run as a formula (= + - @, tab, carriage return) neutralised.
import test from 'ava';
import { csvCell, toCsv } from '../../app/web/src/lib/csv.ts';

test('formula-like cells are neutralised with a leading apostrophe', (t) => {
  for (const danger of ['=HYPERLINK("http://x")', '+49 30 123', '-1+1', '@SUM(A1)', '\tcmd', '\rcmd']) {
    t.is(csvCell(danger)[1], "'", danger);
  }
  t.is(csvCell('=1+1'), `"'=1+1"`);
  t.is(csvCell('Hetzner Online GmbH'), '"Hetzner Online GmbH"');
  t.is(csvCell('a "quoted" word'), '"a ""quoted"" word"');
  t.is(csvCell(null), '""');
  t.is(csvCell(3), '"3"');
});

test('rows become CRLF lines with a UTF-8 BOM; commas and line breaks stay inside their cell', (t) => {
  const csv = toCsv([['Dienst', 'Zweck'], ['SFTP, Storage Box', 'Zeile 1\nZeile 2'], ['=cmd', 'ok']]);
  t.is(csv, '\uFEFF"Dienst","Zweck"\r\n"SFTP, Storage Box","Zeile 1\nZeile 2"\r\n"\'=cmd","ok"\r\n');
});
