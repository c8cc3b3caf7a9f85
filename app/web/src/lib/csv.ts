// CSV for spreadsheets: ";"-free RFC 4180 with "," separators, every cell quoted, and cells that a
// spreadsheet would run as a formula (starting with = + - @, tab or carriage return) neutralised
// with a leading apostrophe. Pure: the unit test imports it directly.

const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | boolean | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (FORMULA.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

/** Rows to CSV text with CRLF line ends and a BOM (so spreadsheet programs read UTF-8). */
export function toCsv(rows: (string | number | boolean | null | undefined)[][]): string {
  return `\uFEFF${rows.map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
