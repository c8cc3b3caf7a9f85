import { defineRoute } from '../../http/route.ts';
import { ok } from '../../http/response.ts';
import { AppError, validation, validationMany } from '../../core/errors.ts';
import { readRaw } from '../../http/middleware/json-body.ts';
import { zodIssues } from '../../http/router.ts';
import { boundaryOf, parseMultipart } from '../documents/multipart.ts';
import { importFields, importView, searchQuery, searchView, versionsView } from './icd.schema.ts';
import { importUpload, listVersions, searchCatalogue } from './icd.service.ts';

/** The BfArM files are 15–25 MB; 64 MiB leaves room without inviting abuse (operators only). */
const IMPORT_LIMIT = 64 * 1024 * 1024;
const tags = ['icd'];

export const icdRoutes = [
  defineRoute({
    method: 'get', path: '/icd/codes', access: 'health.read', tags, query: searchQuery,
    summary: 'Search the ICD-10-GM catalogue by code prefix or German text (version null: no catalogue imported, enter codes freely)',
    response: ok(searchView),
    handler: ({ services, query }) => searchCatalogue(services, query),
  }),
  defineRoute({
    method: 'get', path: '/icd/versions', access: 'icd.import', tags,
    summary: 'The imported ICD-10-GM versions (years) with their number of codes',
    response: ok(versionsView),
    handler: ({ services }) => listVersions(services),
  }),
  defineRoute({
    method: 'post', path: '/icd/import', access: 'icd.import', tags, rawBody: 'multipart/form-data',
    summary: 'Import a BfArM ICD-10-GM file (ClaML XML or the kodes text file; multipart: file, optional version); replaces that year, all or nothing',
    response: ok(importView),
    handler: async ({ ctx, services }) => {
      const boundary = boundaryOf(ctx.get('content-type'));
      let raw: Buffer;
      try {
        raw = await readRaw(ctx, IMPORT_LIMIT);
      } catch (err) {
        if (err instanceof AppError && err.status === 413) throw new AppError(413, 'payload_too_large', `file: is larger than ${IMPORT_LIMIT} bytes`, [{ field: 'file', message: `must be at most ${IMPORT_LIMIT} bytes` }]);
        throw err;
      }
      const parts = parseMultipart(raw, boundary);
      const files = parts.filter((p) => p.filename !== undefined);
      if (files.length !== 1 || files[0].name !== 'file') throw validation('file', 'exactly one file part named "file" is required');
      const values: Record<string, string> = {};
      for (const p of parts) if (p.filename === undefined) values[p.name] = p.data.toString('utf8');
      const parsed = importFields.safeParse(values);
      if (!parsed.success) throw validationMany(zodIssues(parsed.error, 'body'));
      return importUpload(services, files[0].data, files[0].filename || 'upload', parsed.data.version);
    },
  }),
];
