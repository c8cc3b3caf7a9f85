// The patient timeline (Karteikarte): every module's lines for one patient, newest first, merged
// from the registered providers the reader's role permits. One audited read per page, like the record.
import { withScope } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { permits } from '../../core/permissions.ts';
import type { Services } from '../../http/services.ts';
import { auditRead } from '../audit/audit.service.ts';
import { patientKey, rememberKey } from '../patients/patient.crypto.ts';
import { requirePatient } from '../patients/patient.guard.ts';
import { readScope } from '../patients/patient.service.ts';
import { TIMELINE_TYPES, timelineProviders, type TimelineCursor, type TimelineItem, type TimelineProvider, type TimelineType } from './timeline.registry.ts';
import './timeline.providers.ts';

export interface TimelineRequest {
  types?: TimelineType[];
  before?: string;
  limit: number;
}

const newestFirst = (a: TimelineItem, b: TimelineItem) => b.at.getTime() - a.at.getTime() || (a.sourceId < b.sourceId ? 1 : a.sourceId > b.sourceId ? -1 : 0);
const cursorOf = (i: TimelineItem) => `${i.at.toISOString()}_${i.sourceId}`;
function parseCursor(s: string | undefined): TimelineCursor | null {
  if (!s) return null;
  const at = s.indexOf('Z_');
  return { at: new Date(s.slice(0, at + 1)), id: s.slice(at + 2) };
}

export async function patientTimeline(services: Services, patientId: string, req: TimelineRequest) {
  const actor = authorize('patients.read');
  const allowed = timelineProviders().filter((p) => permits(actor, p.permission));
  const typeAllowed = (p: TimelineProvider, t: TimelineType) => { const extra = p.typePermissions?.[t]; return !extra || permits(actor, extra); };
  const visible = TIMELINE_TYPES.filter((t) => allowed.some((p) => p.types.includes(t) && typeAllowed(p, t)));
  const wanted = new Set(req.types ?? visible);
  const before = parseCursor(req.before);
  return withScope(services.db, readScope(actor), async (trx) => {
    const row = await requirePatient(trx, patientId);
    const ref = patientKey(actor.organizationId, patientId);
    if ((row as { key_id?: string }).key_id) rememberKey(services.keys, trx, ref, row as never);
    const merged: TimelineItem[] = [];
    for (const p of allowed) {
      const types = p.types.filter((t) => wanted.has(t) && typeAllowed(p, t));
      if (!types.length) continue;
      // One more than a page from each: the merge knows then whether anything older is left.
      merged.push(...(await p.list({ services, trx, organizationId: actor.organizationId, patientId, types, before, limit: req.limit + 1, permits: (x) => permits(actor, x) })));
    }
    merged.sort(newestFirst);
    const items = merged.slice(0, req.limit);
    const shown = visible.filter((t) => wanted.has(t));
    await auditRead(trx, 'health_record', patientId, { part: 'timeline', types: shown, count: items.length });
    return {
      patientId, types: visible, items,
      nextBefore: merged.length > req.limit ? cursorOf(items[items.length - 1]) : null,
    };
  });
}
