// The ICD-10-GM catalogue: imported from the BfArM's files (installation-wide reference data, no
// patient data), searched by code prefix and German text when a diagnosis is entered. An import
// replaces its year's version in one transaction: a bad or truncated file leaves nothing behind.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { withScope } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { validation } from '../../core/errors.ts';
import type { Db } from '../../db/connection.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { IcdFileError, parseClaml, parseKodes } from './icd.parsers.ts';
import * as repo from './icd.repository.ts';

export type IcdFormat = 'claml' | 'kodes';
export interface ImportSource {
  /** opens the file afresh (a non-UTF-8 file is read a second time as ISO-8859-1) */
  open: () => AsyncIterable<Buffer>;
  name: string;
}
export const fileSource = (path: string): ImportSource => ({ open: () => createReadStream(path, { highWaterMark: 256 * 1024 }), name: path });
export const bufferSource = (data: Buffer, name: string): ImportSource => ({ open: () => Readable.from([data.subarray(0, 256 * 1024), ...chunks(data.subarray(256 * 1024))]), name });
function chunks(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += 256 * 1024) out.push(b.subarray(i, i + 256 * 1024));
  return out;
}

/** The format by the file's name (BfArM names) or, failing that, by its first bytes. */
export async function detectFormat(src: ImportSource): Promise<IcdFormat> {
  if (/claml.*\.xml$/i.test(src.name) || /\.xml$/i.test(src.name)) return 'claml';
  if (/\.txt$/i.test(src.name)) return 'kodes';
  for await (const chunk of src.open()) {
    return /^\s*(\uFEFF)?</.test(chunk.subarray(0, 64).toString('latin1')) ? 'claml' : 'kodes';
  }
  throw new IcdFileError('the file is empty');
}
/** The year in a BfArM file name: icd10gm2026syst_… */
export const versionFromName = (name: string): number | null => {
  const m = /icd10gm(20\d\d)/i.exec(name);
  return m ? Number(m[1]) : null;
};

export interface ImportResult { version: number; format: IcdFormat; codes: number }

/** For the CLI and the route (after its permission check): streams the file into one transaction. */
export async function importCatalogue(db: Db, src: ImportSource, opts: { version?: number; format?: IcdFormat; userId: string | null }): Promise<ImportResult> {
  const format = opts.format ?? (await detectFormat(src));
  return withScope(db, { organizationId: null, userId: opts.userId, installation: true }, async (trx) => {
    // The version may come from the file itself (ClaML <Title version>): codes are collected into
    // a placeholder version first and moved once the parser has read the title.
    let version = opts.version ?? versionFromName(src.name);
    const staging = version ?? 2000;
    await repo.startVersion(trx, staging, format, opts.userId);
    const emit = (batch: Parameters<typeof repo.insertCodes>[2]) => repo.insertCodes(trx, staging, batch);
    const restart = () => repo.clearCodes(trx, staging);
    const result = format === 'claml' ? await parseClaml(src.open, emit, restart) : await parseKodes(src.open, emit, restart);
    if (version === null) version = result.version;
    if (version === null) throw new IcdFileError('the version (year) is neither in the file name nor in the file: give it (--version 2026)');
    if (version !== staging) {
      await trx('icd_versions').where({ version }).delete();
      await trx('icd_versions').where({ version: staging }).update({ version }); // codes follow (on update cascade)
    }
    await repo.finishVersion(trx, version, result.codes);
    await audit(trx, { action: 'installation.icd.import', objectType: 'icd_catalogue', objectId: String(version), organizationId: null, actorUserId: opts.userId, details: { version, format, codes: result.codes } });
    return { version, format, codes: result.codes };
  });
}

/** The admin UI's upload (installation operators): file errors become a 400 on "file". */
export async function importUpload(services: Services, data: Buffer, name: string, version?: number): Promise<ImportResult> {
  const actor = authorize('icd.import');
  try {
    return await importCatalogue(services.db, bufferSource(data, name), { version, userId: actor.userId });
  } catch (err) {
    if (err instanceof IcdFileError) throw validation('file', err.message, 'icd_file_invalid');
    throw err;
  }
}

export async function listVersions(services: Services) {
  const actor = authorize('icd.import');
  return withScope(services.db, { organizationId: null, userId: actor.userId, installation: true, readOnly: true }, async (trx) => ({
    versions: (await repo.listVersions(trx)).map((v) => ({ version: v.version, format: v.source_format, codes: v.code_count, importedAt: v.imported_at, importedBy: v.imported_by })),
  }));
}

const display = (c: repo.CodeRow) => `${c.code}${c.mark ?? ''}`;

/** Search by code prefix ("L64", "l64.9") or by German words (all must occur; umlauts either way). */
export async function searchCatalogue(services: Services, q: { q: string; limit: number }) {
  const actor = authorize('health.read');
  return withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId, readOnly: true }, async (trx) => {
    const version = await repo.activeVersion(trx);
    if (version === null) return { version: null, items: [] };
    const text = q.q.trim();
    const codeLike = /^[A-Za-z][0-9]/.test(text) ? text.split(/\s+/)[0].toUpperCase().replace(/[†*!+]$/, '') : undefined;
    const words = (codeLike ? text.split(/\s+/).slice(1) : text.split(/\s+/)).filter((w) => w.length >= 2).map(repo.searchWord);
    if (!codeLike && !words.length) return { version, items: [] };
    const rows = await repo.search(trx, version, { codePrefix: codeLike, words, limit: q.limit });
    return { version, items: rows.map((r) => ({ code: r.code, mark: r.mark, display: display(r), terminal: r.terminal, label: r.label })) };
  });
}
