// The provider registry of the patient timeline (the Karteikarte). Each module that holds something
// about a patient adds one provider: the item types it delivers, the permission a reader needs for
// them, and a function that lists the patient's items before a cursor, newest first. The timeline
// asks only the providers whose permission the reader holds, so a role without e.g.
// appointments.read never sees an appointment line, and finance (no health data) sees none of
// the health modules. Providers run inside the reader's transaction (RLS applies).
import type { Tx } from '../../db/connection.ts';
import type { Permission } from '../../core/permissions.ts';
import type { Services } from '../../http/services.ts';

export const TIMELINE_TYPES = [
  'anamnesis', 'diagnosis', 'treatment', 'plan', 'note', 'document', 'consent', 'appointment', 'message', 'message_in', 'aftercare',
] as const;
export type TimelineType = (typeof TIMELINE_TYPES)[number];

/** One line of the timeline. Texts are the patient's data (decrypted); codes and statuses are translated by the UI. */
export interface TimelineItem {
  /** `<type>:<sourceId>`, unique in the timeline */
  id: string;
  type: TimelineType;
  /** what orders the line: when it was written, or when it happens (appointments, aftercare steps) */
  at: Date;
  /** set when the line belongs to a day rather than an instant (aftercare steps) */
  day: string | null;
  sourceId: string;
  /** machine code the UI translates: ICD code, note category, consent purpose, document category, message purpose … */
  code: string | null;
  status: string | null;
  /** the line's own text (patient data) */
  text: string | null;
  /** a second text (patient data): a treatment's description, a note of a consent … */
  detail: string | null;
  /** a name the organization gave in both languages (appointment type, aftercare step title) */
  label: { de: string; en: string } | null;
  by: string | null;
  /** a record entry that a later correction replaced */
  superseded: boolean;
  /** a record entry that corrects an earlier one */
  correction: boolean;
}

export interface TimelineCursor {
  at: Date;
  id: string;
}

export interface TimelineQuery {
  services: Services;
  trx: Tx;
  organizationId: string;
  patientId: string;
  /** the requested types this provider delivers (never empty when list is called) */
  types: readonly TimelineType[];
  before: TimelineCursor | null;
  /** at most this many items (the merge takes the newest of all providers) */
  limit: number;
  /** what the reader may see beyond the provider's permission (e.g. documents.removed) */
  permits(permission: Permission): boolean;
}

export interface TimelineProvider {
  /** the module, for docs and tests */
  module: string;
  types: readonly TimelineType[];
  permission: Permission;
  /** a type that needs a further permission besides `permission` (records: diagnosis → diagnoses.read) */
  typePermissions?: Partial<Record<TimelineType, Permission>>;
  list(q: TimelineQuery): Promise<TimelineItem[]>;
}

const providers: TimelineProvider[] = [];

export function registerTimelineProvider(provider: TimelineProvider): void {
  if (providers.some((p) => p.module === provider.module)) throw new Error(`a timeline provider for ${provider.module} is registered already`);
  for (const t of provider.types) {
    if (providers.some((p) => p.types.includes(t))) throw new Error(`the timeline type ${t} has a provider already`);
  }
  providers.push(provider);
}

export function timelineProviders(): readonly TimelineProvider[] {
  return providers;
}

export const item = (type: TimelineType, sourceId: string, at: Date, rest: Partial<Omit<TimelineItem, 'id' | 'type' | 'sourceId' | 'at'>>): TimelineItem => ({
  id: `${type}:${sourceId}`, type, at, sourceId, day: null, code: null, status: null, text: null, detail: null, label: null, by: null, superseded: false, correction: false, ...rest,
});
