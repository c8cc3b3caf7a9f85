import { z } from 'zod';
import { isoDay, isoTime, named } from '../../http/response.ts';
import { TIMELINE_TYPES } from './timeline.registry.ts';

/** Opaque paging cursor: `<ISO time>_<uuid>` of the last line of the previous page. */
const CURSOR = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const timelineQuery = z.strictObject({
  /** comma-separated types; all the reader may see when absent */
  types: z.string().max(200).optional().transform((s, ctx) => {
    if (s === undefined || s === '') return undefined;
    const list = s.split(',').map((t) => t.trim());
    const bad = list.find((t) => !(TIMELINE_TYPES as readonly string[]).includes(t));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown type "${bad.slice(0, 40)}"; known are ${TIMELINE_TYPES.join(', ')}` });
      return z.NEVER;
    }
    return [...new Set(list)] as (typeof TIMELINE_TYPES)[number][];
  }),
  before: z.string().regex(CURSOR, 'must be the nextBefore value of a previous page').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const timelineItem = named('TimelineItem', z.strictObject({
  id: z.string(),
  type: z.enum(TIMELINE_TYPES),
  at: isoTime,
  day: isoDay.nullable(),
  sourceId: z.uuid(),
  code: z.string().nullable(),
  status: z.string().nullable(),
  text: z.string().nullable(),
  detail: z.string().nullable(),
  label: z.strictObject({ de: z.string(), en: z.string() }).nullable(),
  by: z.uuid().nullable(),
  superseded: z.boolean(),
  correction: z.boolean(),
}));

export const timelineView = named('Timeline', z.strictObject({
  patientId: z.uuid(),
  /** the types this reader may see (the UI's filters) */
  types: z.array(z.enum(TIMELINE_TYPES)),
  items: z.array(timelineItem),
  nextBefore: z.string().nullable(),
}));
