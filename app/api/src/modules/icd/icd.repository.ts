import type { Tx } from '../../db/connection.ts';
import type { IcdCode } from './icd.parsers.ts';

export interface VersionRow { version: number; source_format: string; code_count: number; imported_by: string | null; imported_at: Date }

/** Lower case, ß → ss, and both German spellings of umlauts (ä → ae and a): the text a search compares with. */
export function searchText(label: string): string {
  const lower = label.toLowerCase().replace(/ß/g, 'ss');
  const ae = lower.replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue');
  const plain = lower.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  return ae === lower && plain === lower ? lower : `${lower} ${ae} ${plain}`;
}
/** The same folding for a search word (the plain variant is always in searchText). */
export const searchWord = (w: string) => w.toLowerCase().replace(/ß/g, 'ss').normalize('NFD').replace(/[\u0300-\u036f]/g, '');

export async function startVersion(trx: Tx, version: number, format: string, by: string | null): Promise<void> {
  await trx('icd_versions').where({ version }).delete(); // its codes go by cascade: an import replaces the version
  await trx('icd_versions').insert({ version, source_format: format, code_count: 0, imported_by: by });
}
export async function clearCodes(trx: Tx, version: number): Promise<void> {
  await trx('icd_codes').where({ version }).delete();
}
export async function insertCodes(trx: Tx, version: number, codes: IcdCode[]): Promise<void> {
  for (let i = 0; i < codes.length; i += 1000) {
    await trx('icd_codes').insert(codes.slice(i, i + 1000).map((c) => ({ version, code: c.code, mark: c.mark, terminal: c.terminal, label: c.label, search_text: searchText(c.label) })));
  }
}
export async function finishVersion(trx: Tx, version: number, count: number): Promise<void> {
  await trx('icd_versions').where({ version }).update({ code_count: count });
}
export async function listVersions(trx: Tx): Promise<VersionRow[]> {
  return trx('icd_versions').orderBy('version', 'desc');
}
export async function activeVersion(trx: Tx): Promise<number | null> {
  const r = await trx('icd_versions').max({ v: 'version' }).first();
  return (r?.v as number | null) ?? null;
}

export interface CodeRow { code: string; mark: string | null; terminal: boolean; label: string }
export async function search(trx: Tx, version: number, q: { codePrefix?: string; words: string[]; limit: number }): Promise<CodeRow[]> {
  const query = trx('icd_codes').where({ version }).select('code', 'mark', 'terminal', 'label');
  if (q.codePrefix) query.andWhere('code', 'like', `${q.codePrefix.replace(/[%_\\]/g, '')}%`);
  for (const w of q.words) query.andWhere('search_text', 'like', `%${w.replace(/[%_\\]/g, '\\$&')}%`);
  return query.orderBy([{ column: 'terminal', order: 'desc' }, { column: 'code' }]).limit(q.limit);
}
