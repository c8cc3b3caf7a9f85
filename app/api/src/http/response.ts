// What a route answers on success: status, media type and (for JSON) a zod schema of the body as
// it travels (dates as ISO strings). The OpenAPI document is rendered from these, the web client's
// types are generated from that document, and with PRAXISKERN_CHECK_RESPONSES the router checks
// every answer against its schema (on in the test harness, off in production; docs/api.md).
import { z } from 'zod';

export type ResponseSpec =
  | { kind: 'json'; status: 200 | 201 | 202; schema: z.ZodType; description: string }
  | { kind: 'empty'; status: 204; description: string }
  | { kind: 'redirect'; status: 302; description: string }
  | { kind: 'file'; status: 200; mediaTypes: string[]; description: string };

export const ok = (schema: z.ZodType, description = 'OK'): ResponseSpec => ({ kind: 'json', status: 200, schema, description });
export const created = (schema: z.ZodType, description = 'Created'): ResponseSpec => ({ kind: 'json', status: 201, schema, description });
export const accepted = (schema: z.ZodType, description = 'Accepted: the work continues in the background'): ResponseSpec => ({ kind: 'json', status: 202, schema, description });
export const noContent = (description = 'Done, no content'): ResponseSpec => ({ kind: 'empty', status: 204, description });
export const redirect = (description: string): ResponseSpec => ({ kind: 'redirect', status: 302, description });
/** A body that is not checked field by field: a stored file, or an export with its own documented format. */
export const file = (description: string, mediaTypes: string[] = ['application/octet-stream']): ResponseSpec => ({ kind: 'file', status: 200, mediaTypes, description });

/** Named schemas become components/schemas/<name> in the OpenAPI document (and named types in the web client). */
export const apiSchemas = z.registry<{ id: string }>();

export function named<T extends z.ZodType>(name: string, schema: T): T {
  apiSchemas.add(schema, { id: name });
  return schema;
}

/** A point in time as JSON carries it (Date.toJSON). */
export const isoTime = z.iso.datetime({ offset: true });
/** A calendar day, YYYY-MM-DD. */
export const isoDay = z.iso.date();
export const uuid = z.uuid();

/** Answers of the form { changed: true } and similar single flags. */
export const flag = <K extends string>(key: K) => z.strictObject({ [key]: z.boolean() } as Record<K, z.ZodBoolean>);
