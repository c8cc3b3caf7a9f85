// CSV (RFC 4180, UTF-8 with BOM so spreadsheet programs pick the encoding). A text cell that a
// spreadsheet would read as a formula (starting with = + - @, tab or carriage return) gets a
// leading apostrophe; numbers are written as numbers; a suppressed cell is empty.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(rows: (string | number | null)[][]): string {
  return '\uFEFF' + rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
