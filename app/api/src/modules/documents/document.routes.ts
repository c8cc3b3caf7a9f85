import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { AppError, validation, validationMany } from '../../core/errors.ts';
import { assertCleanText } from '../../core/text.ts';
import { readRaw } from '../../http/middleware/json-body.ts';
import { zodIssues } from '../../http/router.ts';
import { idParams } from '../patients/patient.schema.ts';
import { CATEGORIES } from './document.repository.ts';
import { listDocuments, readDocument, uploadDocument } from './document.service.ts';
import { listRemovedDocuments, removeDocument, restoreDocument } from './document-removal.service.ts';
import { boundaryOf, parseMultipart } from './multipart.ts';
import { created, file, ok } from '../../http/response.ts';
import { ALLOWED } from './file-type.ts';
import { documentsView, oneDocumentView, removedDocumentsView } from './document.schema.ts';

/** PRAXISKERN_UPLOAD_MAX_BYTES (default 20 MiB): the largest document or photo accepted. */
export function uploadLimit(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.PRAXISKERN_UPLOAD_MAX_BYTES || 20 * 1024 * 1024);
  return Number.isInteger(n) && n > 0 ? n : 20 * 1024 * 1024;
}

const fields = z.strictObject({
  category: z.enum(CATEGORIES),
  note: z.string().trim().max(2000).optional(),
});
const docParams = z.strictObject({ id: z.uuid(), documentId: z.uuid() });
const removeBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });
const restoreBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });

export const documentRoutes = [
  defineRoute({
    method: 'post', path: '/patients/:id/documents', access: 'documents.write', tags: ['documents'], params: idParams, rawBody: 'multipart/form-data',
    summary: 'Upload a document or photo (multipart: file, category, note); type by content, EXIF/GPS removed, stored encrypted',
    response: created(oneDocumentView),
    handler: async ({ ctx, services, params }) => {
      const limit = uploadLimit();
      const boundary = boundaryOf(ctx.get('content-type'));
      let raw: Buffer;
      try {
        raw = await readRaw(ctx, limit + 64 * 1024);
      } catch (err) {
        if (err instanceof AppError && err.status === 413) {
          throw new AppError(413, 'payload_too_large', `file: is larger than ${limit} bytes`, [{ field: 'file', message: `must be at most ${limit} bytes` }]);
        }
        throw err;
      }
      const parts = parseMultipart(raw, boundary);
      const files = parts.filter((p) => p.filename !== undefined);
      if (files.length !== 1 || files[0].name !== 'file') throw validation('file', 'exactly one file part named "file" is required');
      if (files[0].data.length > limit) {
        throw new AppError(413, 'payload_too_large', `file: is larger than ${limit} bytes`, [{ field: 'file', message: `must be at most ${limit} bytes` }]);
      }
      const values: Record<string, string> = {};
      for (const p of parts) if (p.filename === undefined) values[p.name] = p.data.toString('utf8');
      assertCleanText({ ...values, file: files[0].filename }, ''); // the file name is reported as "file"
      const parsed = fields.safeParse(values);
      if (!parsed.success) throw validationMany(zodIssues(parsed.error, ''));
      const document = await uploadDocument(services, params.id, { filename: files[0].filename, data: files[0].data, ...parsed.data });
      ctx.status = 201;
      ctx.body = { document };
    },
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/documents', access: 'documents.read', tags: ['documents'], params: idParams,
    summary: 'Documents and photos of a patient (metadata only)',
    response: ok(documentsView),
    handler: ({ services, params }) => listDocuments(services, params.id),
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/documents/:documentId/content', access: 'documents.read', tags: ['documents'], params: docParams,
    query: z.strictObject({ download: z.enum(['0', '1']).optional() }),
    summary: 'The decrypted file for the viewer (inline) or as a download (?download=1); audited',
    response: file('the decrypted file, in its own media type', [...ALLOWED]),
    handler: async ({ ctx, services, params, query }) => {
      const mode = query.download === '1' ? 'download' : 'view';
      const doc = await readDocument(services, params.id, params.documentId, mode);
      ctx.set('cache-control', 'no-store');
      ctx.set('content-disposition', `${mode === 'download' ? 'attachment' : 'inline'}; filename="${doc.downloadName}"`);
      ctx.type = doc.contentType;
      ctx.body = doc.data;
    },
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/documents/removed', access: 'documents.removed', tags: ['documents'], params: idParams,
    summary: 'Removed (hidden) documents and photos with their history: who removed or restored them, when and why',
    response: ok(removedDocumentsView),
    handler: ({ services, params }) => listRemovedDocuments(services, params.id),
  }),
  defineRoute({
    method: 'delete', path: '/patients/:id/documents/:documentId', access: 'documents.write', tags: ['documents'], params: docParams, body: removeBody,
    summary: 'Remove a document or photo from the record view with a reason; row and encrypted blob are kept (§ 630f BGB) and can be restored. Only the Art. 17 erasure destroys them',
    response: ok(oneDocumentView),
    handler: ({ services, params, body }) => removeDocument(services, params.id, params.documentId, body.reason),
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/documents/:documentId/restore', access: 'documents.removed', tags: ['documents'], params: docParams, body: restoreBody,
    summary: 'Show a removed document or photo again; the restoration is kept with who, when and why',
    response: ok(oneDocumentView),
    handler: ({ services, params, body }) => restoreDocument(services, params.id, params.documentId, body.reason),
  }),
];
