// The encrypted health record: anamnesis (validated + pre-qualified), diagnoses, treatments and
// plans as append-only entries. A correction is a new entry that supersedes exactly one older one.
import { randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { permits } from '../../core/permissions.ts';
import { practiceToday } from '../../core/context.ts';
import { conflict, notFound, validation, validationMany } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit, auditRead } from '../audit/audit.service.ts';
import { openJson, patientKey, sealJson } from '../patients/patient.crypto.ts';
import { requirePatient, requireWritable } from '../patients/patient.guard.ts';
import { readScope, scope, toView } from '../patients/patient.service.ts';
import { ageOn, type MasterData } from '../patients/patient.schema.ts';
import * as repo from './record.repository.ts';
import type { Kind } from './record.schema.ts';
import { computeScores, prequalify, validateAnswers } from './questionnaire.evaluate.ts';
import { resolveQuestionnaire } from './questionnaire.service.ts';

export interface EntryView {
  id: string;
  kind: Kind;
  version: number;
  supersedesId: string | null;
  supersededById: string | null;
  createdAt: Date;
  createdBy: string | null;
  data: Record<string, unknown>;
}

export const entryField = (e: { kind: string; id: string }) => `record_entry:${e.kind}:${e.id}`;

/** Decrypts all entries of a patient and numbers each correction chain 1, 2, 3 … */
export async function loadEntries(services: Services, trx: Tx, organizationId: string, patientId: string, withoutKinds: readonly Kind[] = []): Promise<EntryView[]> {
  const rows = (await repo.listEntries(trx, patientId)).filter((r) => !withoutKinds.includes(r.kind));
  const ref = patientKey(organizationId, patientId);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const successor = new Map(rows.filter((r) => r.supersedes_id).map((r) => [r.supersedes_id!, r.id]));
  const out: EntryView[] = [];
  for (const r of rows) {
    let version = 1;
    for (let p = r.supersedes_id; p; p = byId.get(p)?.supersedes_id ?? null) version++;
    out.push({
      id: r.id, kind: r.kind, version, supersedesId: r.supersedes_id, supersededById: successor.get(r.id) ?? null,
      createdAt: r.created_at, createdBy: r.created_by, data: await openJson(services.keys, trx, ref, entryField(r), r.data),
    });
  }
  return out;
}

export async function getRecord(services: Services, patientId: string) {
  const actor = authorize('health.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const row = await requirePatient(trx, patientId);
    const patient = await toView(services, trx, row); // first: its joined key row serves the entries too
    const diagnosesVisible = permits(actor, 'diagnoses.read');
    // without diagnoses.read the diagnoses are never decrypted nor sent
    const all = (await loadEntries(services, trx, actor.organizationId, patientId, diagnosesVisible ? undefined : ['diagnosis']));
    const current = (k: Kind) => all.filter((e) => e.kind === k && !e.supersededById);
    await auditRead(trx, 'health_record', patientId, { includes: 'master_data', ...(diagnosesVisible ? {} : { diagnoses: 'not_visible' }) });
    return {
      patientId,
      patient,
      anamnesis: current('anamnesis').at(-1) ?? null,
      /** Every current questionnaire answer set (anamnesis, Barthel, TUG …), newest first. */
      assessments: current('anamnesis').reverse(),
      diagnoses: current('diagnosis'),
      diagnosesVisible,
      treatments: current('treatment'),
      plans: current('plan'),
      notes: current('note'),
      corrections: all.filter((e) => e.supersedesId).length,
    };
  });
}

async function checkSupersedes(trx: Tx, patientId: string, kind: Kind, body: { supersedesId?: string; correctionReason?: string }) {
  if (!body.supersedesId) return;
  if (!body.correctionReason) throw validation('body.correctionReason', 'is required when correcting an entry');
  const old = await repo.findEntry(trx, body.supersedesId);
  if (!old || old.patient_id !== patientId || old.kind !== kind) throw validation('body.supersedesId', `is not a ${kind} entry of this patient`);
  const next = await repo.findSuccessor(trx, old.id);
  if (next) throw conflict(`Entry ${old.id} was already corrected by ${next.id}; correct the latest version`, { latestId: next.id });
}

async function anamnesisData(services: Services, trx: Tx, organizationId: string, patient: { id: string; data: Buffer }, body: Record<string, unknown>) {
  const q = await resolveQuestionnaire(trx, organizationId, body.questionnaireKey as string | undefined, body.questionnaireVersion as number | undefined);
  const issues = validateAnswers(q.definition, body.answers, `${q.key} v${q.version}`);
  if (issues.length) throw validationMany(issues);
  const m = await openJson<MasterData>(services.keys, trx, patientKey(organizationId, patient.id), 'master', patient.data);
  const answers = body.answers as Record<string, unknown>;
  // Scores and pre-qualification are computed now and stored with the answers: a later version
  // of the questionnaire never re-scores them.
  const scores = computeScores(q.definition, answers);
  const prequalification = prequalify(q.definition, answers, ageOn(m.birthDate, practiceToday()), scores);
  return {
    questionnaireId: q.id,
    data: { questionnaire: { key: q.key, version: q.version }, answers, ...(scores.length ? { scores } : {}), prequalification },
  };
}

export async function appendEntry(services: Services, patientId: string, kind: Kind, body: Record<string, unknown> & { supersedesId?: string; correctionReason?: string }): Promise<EntryView> {
  const actor = authorize('health.write');
  if (kind === 'diagnosis') authorize('diagnoses.write');
  return withScope(services.db, scope(actor), async (trx) => {
    const patient = await requireWritable(trx, patientId);
    await checkSupersedes(trx, patientId, kind, body);
    const { supersedesId, ...content } = body;
    let questionnaireId: string | null = null;
    let data: Record<string, unknown> = content;
    if (kind === 'anamnesis') {
      const a = await anamnesisData(services, trx, actor.organizationId, patient, content);
      questionnaireId = a.questionnaireId;
      data = { ...a.data, ...(content.correctionReason ? { correctionReason: content.correctionReason } : {}) };
    }
    const id = randomUUID();
    const sealed = await sealJson(services.keys, trx, patientKey(actor.organizationId, patientId), entryField({ kind, id }), data);
    await repo.insertEntry(trx, {
      id, organization_id: actor.organizationId, patient_id: patientId, kind, questionnaire_id: questionnaireId,
      supersedes_id: supersedesId ?? null, data: sealed, created_by: actor.userId,
      prequal_status: kind === 'anamnesis' ? (data as { prequalification: { status: 'qualified' | 'needs_review' | 'not_qualified' } }).prequalification.status : null,
    });
    if (kind === 'treatment') await repo.bumpLastTreatment(trx, patientId, String(content.performedOn));
    await audit(trx, { action: `health_record.${supersedesId ? 'correct' : 'append'}`, objectType: 'patient', objectId: patientId, details: { kind, entryId: id, supersedes: supersedesId ?? null } });
    const view = (await loadEntries(services, trx, actor.organizationId, patientId)).find((e) => e.id === id)!;
    return view;
  });
}

/** Every version of one entry's correction chain, oldest first. */
export async function entryHistory(services: Services, patientId: string, entryId: string) {
  const actor = authorize('health.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const all = await loadEntries(services, trx, actor.organizationId, patientId);
    const byId = new Map(all.map((e) => [e.id, e]));
    let first = byId.get(entryId);
    if (!first) throw notFound('Record entry');
    if (first.kind === 'diagnosis') authorize('diagnoses.read');
    while (first.supersedesId) first = byId.get(first.supersedesId)!;
    const chain: EntryView[] = [];
    for (let e: EntryView | undefined = first; e; e = e.supersededById ? byId.get(e.supersededById) : undefined) chain.push(e);
    await auditRead(trx, 'health_record', patientId, { entryId });
    return { versions: chain };
  });
}
