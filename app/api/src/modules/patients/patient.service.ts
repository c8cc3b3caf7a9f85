// Patients: create with a duplicate check, read, search/list, rectify (Art. 16) with history.
import { randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { AppError, conflict, validation, validationMany } from '../../core/errors.ts';
import type { Actor } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import { audit, auditRead } from '../audit/audit.service.ts';
import { blindToken, matchesTerms, maybePatientNumber, numberTerm, parseSearch, termsFor, type IndexTerm } from './blind-index.ts';
import { crossFieldIssues } from './insurance.ts';
import { nextPatientNumber } from './numbering.service.ts';
import { openJson, openText, patientKey, rememberKey, sealJson, sealText, searchKey } from './patient.crypto.ts';
import { requirePatient, requireWritable } from './patient.guard.ts';
import * as repo from './patient.repository.ts';
import { masterData, type ListQuery, type MasterData } from './patient.schema.ts';
import { zodIssues } from '../../http/router.ts';
import type { SourceChannel } from '../reports/source-channels.ts';

export const scope = (a: Actor) => ({ organizationId: a.organizationId, userId: a.userId });
/** For reads whose only write is the audit entry (see Scope.readOnly). */
export const readScope = (a: Actor) => ({ ...scope(a), readOnly: true });

export interface PatientView extends MasterData {
  id: string;
  version: number;
  restricted: boolean;
  restrictedAt: Date | null;
  objection: boolean;
  objectedAt: Date | null;
  lastTreatmentOn: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The row's joined key row (repo KEY_JOIN) supplies the key: a page of patients needs no key query. */
export async function toView(services: Services, trx: Tx, row: repo.PatientRow & { data: Buffer }): Promise<PatientView> {
  const ref = patientKey(row.organization_id, row.id);
  rememberKey(services.keys, trx, ref, row);
  const m = await openJson<MasterData>(services.keys, trx, ref, 'master', row.data);
  return {
    id: row.id, version: row.version, ...m,
    restricted: Boolean(row.restricted_at), restrictedAt: row.restricted_at,
    objection: Boolean(row.objected_at), objectedAt: row.objected_at,
    lastTreatmentOn: row.last_treatment_on, createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

async function tokensFor(services: Services, trx: Tx, organizationId: string, terms: IndexTerm[]): Promise<repo.SearchRow[]> {
  const key = await services.keys.blobKey(trx, searchKey(organizationId));
  return terms.map((t) => ({ kind: t.kind, token: blindToken(key, t) }));
}

export async function createPatient(services: Services, input: MasterData & { allowDuplicate?: boolean }): Promise<PatientView> {
  const actor = authorize('patients.write');
  return withScope(services.db, scope(actor), (trx) => insertNewPatient(services, trx, actor, input));
}

/** Creates a patient in the caller's transaction (the inbox turns a prospect into a patient this way). */
/** `sourceChannel`: how the patient first reached the practice, when the caller knows it (reports). */
export async function insertNewPatient(services: Services, trx: Tx, actor: Actor, input: MasterData & { allowDuplicate?: boolean }, sourceChannel?: SourceChannel): Promise<PatientView> {
  const { allowDuplicate, ...m } = input;
  checkCrossFields(m, 'body');
  if (m.patientNumber === undefined) {
    const auto = await nextPatientNumber(trx, async (n) => (await numberOwner(services, trx, actor.organizationId, n)) === undefined);
    if (auto) m.patientNumber = auto;
  }
  if (m.patientNumber !== undefined) await requireFreeNumber(services, trx, actor.organizationId, m.patientNumber, 'body.patientNumber');
  const rows = await tokensFor(services, trx, actor.organizationId, termsFor(m));
  const dob = rows.find((r) => r.kind === 'dob')!.token;
  const names = rows.filter((r) => r.kind === 'name').map((r) => r.token);
  const duplicates = await repo.duplicateIds(trx, dob, names, rows.filter((r) => r.kind === 'phone' || r.kind === 'email'));
  if (duplicates.length && !allowDuplicate) {
    throw conflict('A patient with the same birth date and name, phone or e-mail exists; send allowDuplicate: true to create anyway', {
      reason: 'possible_duplicate', duplicates,
    });
  }
  const id = randomUUID();
  const data = await sealJson(services.keys, trx, patientKey(actor.organizationId, id), 'master', m);
  await repo.insertPatient(trx, { id, organization_id: actor.organizationId, data, created_by: actor.userId, ...(sourceChannel ? { source_channel: sourceChannel } : {}) });
  await repo.replaceSearchRows(trx, actor.organizationId, id, rows);
  await audit(trx, { action: 'patient.create', objectType: 'patient', objectId: id, details: { possibleDuplicates: duplicates, ...(sourceChannel ? { sourceChannel } : {}) } });
  return toView(services, trx, (await requirePatient(trx, id)));
}

/** The rules across fields (insurance type ↔ number, preferred channel ↔ contact data) as a 400 naming the field. */
export function checkCrossFields(m: MasterData, prefix: string): void {
  const issues = crossFieldIssues(m);
  if (issues.length) throw validationMany(issues.map((i) => ({ field: `${prefix}.${i.field}`, code: i.code, message: i.message })));
}

/** The patient holding a practice patient number (exact, through its blind-index term). */
async function numberOwner(services: Services, trx: Tx, organizationId: string, number: string): Promise<string | undefined> {
  const [row] = await tokensFor(services, trx, organizationId, [numberTerm(number)]);
  return repo.patientWithNumber(trx, row.token);
}

async function requireFreeNumber(services: Services, trx: Tx, organizationId: string, number: string, field: string, self?: string): Promise<void> {
  const owner = await numberOwner(services, trx, organizationId, number);
  if (owner !== undefined && owner !== self) {
    throw new AppError(409, 'conflict', `${field}: is already taken by another patient`, [{ field, code: 'taken', message: 'is already taken by another patient' }]);
  }
}

export async function getPatient(services: Services, id: string): Promise<PatientView & { restrictionReason: string | null }> {
  const actor = authorize('patients.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const row = await requirePatient(trx, id);
    const view = await toView(services, trx, row);
    const restrictionReason = await openText(services.keys, trx, patientKey(row.organization_id, id), 'restriction_reason', row.restriction_reason);
    await auditRead(trx, 'patient', id);
    return { ...view, restrictionReason };
  });
}

export interface PatientPage { items: PatientView[]; total: number; limit: number; offset: number; sort: ListQuery['sort']; order: ListQuery['order'] }

export async function listPatients(services: Services, q: ListQuery): Promise<PatientPage> {
  const actor = authorize('patients.read');
  const terms: IndexTerm[] = [];
  if (q.patientNumber) terms.push(numberTerm(q.patientNumber));
  if (q.q && maybePatientNumber(q.q) && !q.patientNumber) {
    // One word with a digit may be the practice's patient number: an exact hit wins; otherwise
    // the text is read as usual (a name part, a phone number), and a word that is neither finds nothing.
    const byNumber = await listPatients(services, { ...q, q: undefined, patientNumber: q.q });
    if (byNumber.total > 0) return byNumber;
    const parsed = parseSearch(q.q);
    if ('error' in parsed) return { ...byNumber, items: [], total: 0 };
  }
  if (q.q) {
    const parsed = parseSearch(q.q);
    if ('error' in parsed) throw validation('body.q', parsed.error);
    terms.push(...parsed);
  }
  if (q.birthDate) terms.push({ kind: 'dob', value: q.birthDate });
  if (q.phone) {
    const p = parseSearch(q.phone);
    if ('error' in p || p[0]?.kind !== 'phone') throw validation('body.phone', 'is not a phone number');
    terms.push(p[0]);
  }
  if (q.email) terms.push({ kind: 'email', value: q.email.trim().toLowerCase() });
  return withScope(services.db, readScope(actor), async (trx) => {
    const tokens = terms.length ? await tokensFor(services, trx, actor.organizationId, terms) : undefined;
    const { rows, total } = await repo.listPatientRows(trx, { ...q, tokens });
    const items = [];
    for (const row of rows) {
      const view = await toView(services, trx, row as repo.PatientRow & { data: Buffer });
      if (!terms.length || matchesTerms(view, terms)) items.push(view);
    }
    await audit(trx, { action: 'patient.list', objectType: 'patient', details: { search: terms.map((t) => t.kind), ids: items.map((i) => i.id) } });
    return { items, total, limit: q.limit, offset: q.offset, sort: q.sort, order: q.order };
  });
}

type Changes = { [K in keyof MasterData]?: MasterData[K] | null };

export async function rectifyPatient(services: Services, id: string, input: { changes: Changes; reason?: string; expectedVersion?: number }): Promise<PatientView> {
  const actor = authorize('patients.write');
  return withScope(services.db, scope(actor), async (trx) => {
    const row = await requireWritable(trx, id);
    if (input.expectedVersion !== undefined && input.expectedVersion !== row.version) {
      throw conflict(`The record changed meanwhile (version ${row.version}); reload and try again`, { version: row.version });
    }
    const ref = patientKey(row.organization_id, id);
    rememberKey(services.keys, trx, ref, row);
    const current = await openJson<MasterData>(services.keys, trx, ref, 'master', row.data);
    const merged: Record<string, unknown> = { ...current };
    for (const [k, v] of Object.entries(input.changes)) {
      if (v === null) delete merged[k];
      else if (v !== undefined) merged[k] = v;
    }
    const parsed = masterData.safeParse(merged);
    if (!parsed.success) throw validationMany(zodIssues(parsed.error, 'body.changes'));
    checkCrossFields(parsed.data, 'body.changes');
    if (parsed.data.patientNumber !== undefined && parsed.data.patientNumber !== current.patientNumber) {
      await requireFreeNumber(services, trx, row.organization_id, parsed.data.patientNumber, 'body.changes.patientNumber', id);
    }
    await repo.insertVersion(trx, {
      organization_id: row.organization_id, patient_id: id, version: row.version, data: row.data,
      reason: await sealText(services.keys, trx, ref, `version_reason:${row.version}`, input.reason), changed_by: actor.userId,
    });
    const data = await sealJson(services.keys, trx, ref, 'master', parsed.data);
    await repo.updatePatientRow(trx, id, { data, version: row.version + 1 });
    await repo.replaceSearchRows(trx, row.organization_id, id, await tokensFor(services, trx, row.organization_id, termsFor(parsed.data)));
    const fields = Object.keys(input.changes).filter((k) => JSON.stringify(current[k as keyof MasterData]) !== JSON.stringify(merged[k]));
    await audit(trx, { action: 'patient.rectify', objectType: 'patient', objectId: id, details: { fields, version: row.version + 1 } });
    return toView(services, trx, await requirePatient(trx, id));
  });
}

/** Earlier versions of the master data, oldest first (the current one is the patient itself). */
export async function patientHistory(services: Services, id: string) {
  const actor = authorize('patients.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const row = await requirePatient(trx, id);
    const ref = patientKey(row.organization_id, id);
    rememberKey(services.keys, trx, ref, row);
    const versions = [];
    for (const v of await repo.listVersions(trx, id)) {
      versions.push({
        version: v.version, changedAt: v.changed_at, changedBy: v.changed_by,
        reason: await openText(services.keys, trx, ref, `version_reason:${v.version}`, v.reason),
        data: await openJson<MasterData>(services.keys, trx, ref, 'master', v.data),
      });
    }
    await auditRead(trx, 'patient', id, { part: 'history' });
    return { versions, currentVersion: row.version };
  });
}
