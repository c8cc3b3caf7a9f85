import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';

export const searchQuery = z.strictObject({
  q: z.string().trim().min(1).max(100),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
export const icdCodeView = named('IcdCode', z.strictObject({
  code: z.string(), mark: z.enum(['†', '*', '!']).nullable(), display: z.string(), terminal: z.boolean(), label: z.string(),
}));
export const searchView = z.strictObject({ version: z.number().int().nullable(), items: z.array(icdCodeView) });
export const versionsView = z.strictObject({
  versions: z.array(z.strictObject({ version: z.number().int(), format: z.enum(['claml', 'kodes']), codes: z.number().int(), importedAt: isoTime, importedBy: z.uuid().nullable() })),
});
export const importView = z.strictObject({ version: z.number().int(), format: z.enum(['claml', 'kodes']), codes: z.number().int() });
export const importFields = z.strictObject({ version: z.coerce.number().int().min(2000).max(2100).optional() });
