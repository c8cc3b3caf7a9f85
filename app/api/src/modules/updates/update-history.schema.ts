// Answers of GET /api/v1/installation/updates (http/response.ts).
import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';
import { UPDATE_KINDS, UPDATE_OUTCOMES } from './update-record.ts';

export const updateRunView = named('UpdateRun', z.strictObject({
  id: z.uuid(),
  kind: z.enum(UPDATE_KINDS),
  fromVersion: z.string(),
  toVersion: z.string(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
  outcome: z.enum(UPDATE_OUTCOMES),
  /** The administrator's login name on the server, or "ansible". */
  by: z.string(),
  durationSeconds: z.number().nonnegative().nullable(),
  detail: z.string().nullable(),
  forced: z.boolean(),
  forceReason: z.string().nullable(),
  snapshotRestored: z.boolean(),
  phases: z.record(z.string(), z.number()),
}));

export const updateHistoryView = named('UpdateHistory', z.strictObject({
  runningVersion: z.string(),
  history: z.array(updateRunView),
}));
