// Answers of the document routes (http/response.ts): metadata only; the file itself comes from .../content.
import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';
import { CATEGORIES } from './document.repository.ts';

export const documentView = named('PatientDocument', z.strictObject({
  id: z.uuid(),
  category: z.enum(CATEGORIES),
  contentType: z.string(),
  sizeBytes: z.number().int(),
  filename: z.string().nullable(),
  note: z.string().nullable(),
  metadataRemoved: z.array(z.string()),
  createdBy: z.uuid().nullable(),
  createdAt: isoTime,
  /** Set while the document is removed (hidden); only roles with documents.removed see these. */
  removedAt: isoTime.nullable(),
  removedBy: z.uuid().nullable(),
  /** Served by the API with the session cookie; usable as <img src>. */
  contentUrl: z.string(),
}));

/** A removed document with who removed or restored it, when and why. */
export const removedDocumentView = named('RemovedDocument', documentView.extend({
  history: z.array(z.strictObject({ action: z.enum(['removed', 'restored']), at: isoTime, by: z.uuid().nullable(), reason: z.string().nullable() })),
}));

export const documentsView = z.strictObject({ documents: z.array(documentView) });
export const removedDocumentsView = z.strictObject({ documents: z.array(removedDocumentView) });
export const oneDocumentView = z.strictObject({ document: documentView });
