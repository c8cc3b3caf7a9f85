// `praxiskern icd import FILE [--version YEAR] [--format claml|kodes]`: the ICD-10-GM catalogue from
// the BfArM download (ClaML XML or the Metadaten kodes text file), installation-wide. The file is
// streamed; an error names the line and nothing of the file stays imported. No unseal needed: the
// catalogue is public reference data, not patient data. Audited in the installation chain ("cli").
import { existsSync } from 'node:fs';
import { fileSource, importCatalogue, type IcdFormat } from '@praxiskern/api/modules/icd/icd.service.ts';
import { IcdFileError } from '@praxiskern/api/modules/icd/icd.parsers.ts';
import { output, usageError, type Command } from './command.ts';
import { withServices } from './user-commands.ts';

const icdImport: Command = {
  usage: `praxiskern icd import FILE [--version YEAR] [--format claml|kodes] [--json]
Imports the ICD-10-GM catalogue from the BfArM's download: icd10gm20XXsyst_claml_….xml (ClaML) or
icd10gm20XXsyst_kodes_….txt (Metadaten). The year comes from --version, the file name or the ClaML
title. Importing a year again replaces it; a bad or truncated file changes nothing (exit 64).`,
  options: { version: { type: 'string' }, format: { type: 'string' } },
  async run(v, positionals) {
    const file = positionals[0];
    if (!file) usageError('name the file: praxiskern icd import FILE [--version 2026]');
    if (!existsSync(file)) usageError(`${file}: no such file`);
    const version = v.version === undefined ? undefined : Number(v.version);
    if (version !== undefined && (!Number.isInteger(version) || version < 2000 || version > 2100)) usageError('--version must be a year such as 2026');
    if (v.format !== undefined && v.format !== 'claml' && v.format !== 'kodes') usageError('--format must be claml or kodes');
    return withServices(async (services) => {
      const started = Date.now();
      try {
        const r = await importCatalogue(services.db, fileSource(file), { version, format: v.format as IcdFormat | undefined, userId: null });
        output(v, { ...r, seconds: (Date.now() - started) / 1000 }, `Imported ICD-10-GM ${r.version}: ${r.codes} codes (${r.format}).`);
        return 0;
      } catch (err) {
        if (err instanceof IcdFileError) usageError(`${file}: ${err.message}`);
        throw err;
      }
    });
  },
};

export const icdCommands: Record<string, Command> = { 'icd import': icdImport };
