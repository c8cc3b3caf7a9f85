// The shared inbox (docs/messaging.md "Inbox"): conversations per patient and per prospect with
// unread counts, assignment and "done"; a conversation view with inbound and outbound messages in
// order (reading it is audited and marks it read); staff replies through the outbox — free text
// within 24 h of the patient's last inbound message, otherwise a template.
import { randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { ROLES, ROLE_PERMISSIONS, type Role } from '../../core/permissions.ts';
import { notFound, validation } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { requirePatient } from '../patients/patient.guard.ts';
import { openJson, patientKey, sealJson } from '../patients/patient.crypto.ts';
import { insertNewPatient, scope } from '../patients/patient.service.ts';
import type { MasterData } from '../patients/patient.schema.ts';
import type { MessagePurpose } from './message-templates.ts';
import * as repo from './messaging.repository.ts';
import { outboxView } from './messaging.service.ts';
import { enqueueMessage, loadPatient, openVariables, sendDecision } from './outbox.service.ts';
import { prospectKey } from './webhook.processor.ts';
import { moveMediaToPatient, readMedia } from './media.fetcher.ts';
import { deleteBlob } from '../documents/blob.repository.ts';

import { WHATSAPP_WINDOW_MS } from './outbox.worker.ts';

type Subject = { kind: 'patient'; id: string } | { kind: 'prospect'; id: string };
const col = (s: Subject) => (s.kind === 'patient' ? 'patient_id' : 'prospect_id');
const keyOf = (org: string, s: Subject) => (s.kind === 'patient' ? patientKey(org, s.id) : prospectKey(org, s.id));

interface InboundContent { type: string; text: string | null; media: { id: string | null; mimeType: string | null; filename: string | null; caption: string | null } | null }

async function requireSubject(trx: Tx, s: Subject): Promise<void> {
  if (s.kind === 'patient') await requirePatient(trx, s.id);
  else if (!(await trx('prospects').where({ id: s.id }).first('id'))) throw notFound('Prospect');
}

async function subjectName(services: Services, trx: Tx, org: string, s: Subject): Promise<{ name: string; phone: string | null }> {
  if (s.kind === 'patient') {
    const { master } = await loadPatient(services, trx, s.id);
    return { name: master ? `${master.givenName} ${master.familyName}` : '—', phone: master ? (master.whatsapp ?? master.phone ?? null) : null };
  }
  const p = await trx('prospects').where({ id: s.id }).first('data');
  const d = await openJson<{ phone: string; name: string | null }>(services.keys, trx, prospectKey(org, s.id), 'prospect', p.data);
  return { name: d.name ?? d.phone, phone: d.phone };
}

interface ConversationRow { patient_id: string | null; prospect_id: string | null; last_at: Date; last_received_at: Date; unread: string; assigned_to: string | null; done_at: Date | null; assignee: string | null }

export async function listInbox(services: Services, q: { status: 'open' | 'done' | 'all'; assigned?: 'me' | 'nobody' }) {
  const actor = authorize('inbox.read');
  return withScope(services.db, scope(actor), async (trx) => {
    const { rows } = await trx.raw(`
      select i.patient_id, i.prospect_id, max(i.stored_at) as last_at, max(i.received_at) as last_received_at,
             count(*) filter (where i.stored_at > coalesce(c.read_up_to, '-infinity')) as unread,
             c.assigned_to, c.done_at, u.display_name as assignee
        from inbound_messages i
        left join conversations c on c.patient_id = i.patient_id or c.prospect_id = i.prospect_id
        left join users u on u.id = c.assigned_to
       group by i.patient_id, i.prospect_id, c.assigned_to, c.done_at, c.read_up_to, u.display_name
       order by last_at desc limit 500`) as { rows: ConversationRow[] };
    const items = [];
    for (const r of rows) {
      const done = Boolean(r.done_at && r.done_at >= r.last_at);
      if ((q.status === 'open' && done) || (q.status === 'done' && !done)) continue;
      if (q.assigned === 'me' && r.assigned_to !== actor.userId) continue;
      if (q.assigned === 'nobody' && r.assigned_to) continue;
      const s: Subject = r.patient_id ? { kind: 'patient', id: r.patient_id } : { kind: 'prospect', id: r.prospect_id! };
      const who = await subjectName(services, trx, actor.organizationId, s);
      items.push({
        kind: s.kind, id: s.id, name: who.name, unread: Number(r.unread), lastMessageAt: r.last_received_at,
        assignedTo: r.assigned_to, assigneeName: r.assignee, done,
        windowOpen: Date.now() - new Date(r.last_received_at).getTime() < WHATSAPP_WINDOW_MS,
      });
    }
    const ids = items.filter((i) => i.kind === 'patient').map((i) => i.id);
    await audit(trx, { action: 'inbox.list', objectType: 'organization', objectId: actor.organizationId, details: { ids, prospects: items.length - ids.length } });
    return { items };
  });
}

export async function conversation(services: Services, s: Subject) {
  const actor = authorize('inbox.read');
  return withScope(services.db, scope(actor), async (trx) => {
    await requireSubject(trx, s);
    const org = actor.organizationId;
    const ref = keyOf(org, s);
    // The newest 1,000 each way (as the outbox side), shown oldest first.
    const inbound = (await trx('inbound_messages').where({ [col(s)]: s.id }).orderBy([{ column: 'received_at', order: 'desc' }, { column: 'stored_at', order: 'desc' }]).limit(1000)).reverse();
    const messages: Record<string, unknown>[] = [];
    const order = new Map<string, number>();
    for (const m of inbound) {
      const c = await openJson<InboundContent>(services.keys, trx, ref, `inbound:${m.id}`, m.content);
      order.set(m.id, new Date(m.stored_at ?? m.received_at).getTime());
      messages.push({
        direction: 'in', id: m.id, kind: m.kind, at: m.received_at, text: c.text ?? c.media?.caption ?? null,
        media: c.media ? {
          mimeType: m.media_content_type ?? c.media.mimeType, filename: c.media.filename, state: m.media_state ?? 'failed',
          sizeBytes: m.media_size === null || m.media_size === undefined ? null : Number(m.media_size),
          url: m.media_state === 'stored' ? `/api/v1/inbox/${s.kind === 'patient' ? 'patients' : 'prospects'}/${s.id}/media/${m.id}` : null,
        } : null, status: null, purpose: null,
      });
    }
    if (s.kind === 'patient') {
      for (const o of await repo.outboxOfPatient(trx, s.id, 1000)) {
        if (o.channel !== 'whatsapp') continue;
        const text = o.purpose === 'reply' ? ((await openVariables(services, trx, o)) as { text?: string }).text ?? null : null;
        order.set(o.id, dueAt(o).getTime());
        messages.push({ direction: 'out', id: o.id, kind: 'text', at: o.sent_at ?? dueAt(o), text, media: null, status: o.status, purpose: o.purpose, blockedReason: o.blocked_reason });
      }
    }
    // Ordered on this server's clock (WhatsApp stamps inbound messages only to the second): inbound by
    // when it arrived here, outbound by when it was due to go out; stable for equal instants.
    messages.sort((a, b) => (order.get(a.id as string) ?? 0) - (order.get(b.id as string) ?? 0));
    const last = inbound.length ? inbound[inbound.length - 1].received_at as Date : null;
    const state = await trx('conversations').where({ [col(s)]: s.id }).first();
    const assignee = state?.assigned_to ? await trx('users').where({ id: state.assigned_to }).first('display_name') : undefined;
    await upsertState(trx, org, s, { read_up_to: trx.fn.now() });
    await audit(trx, { action: 'inbox.read', objectType: s.kind, objectId: s.id, details: { messages: messages.length } });
    const who = await subjectName(services, trx, org, s);
    return {
      kind: s.kind, id: s.id, name: who.name, phone: who.phone, assignedTo: state?.assigned_to ?? null, assigneeName: (assignee?.display_name as string | undefined) ?? null,
      done: Boolean(state?.done_at && (!last || state.done_at >= inbound[inbound.length - 1].stored_at)),
      windowOpen: Boolean(last && Date.now() - last.getTime() < WHATSAPP_WINDOW_MS),
      windowClosesAt: last ? new Date(last.getTime() + WHATSAPP_WINDOW_MS) : null,
      messages: messages.map((m) => ({ blockedReason: null, ...m })),
    };
  });
}

async function upsertState(trx: Tx, org: string, s: Subject, patch: Record<string, unknown>): Promise<void> {
  const updated = await trx('conversations').where({ [col(s)]: s.id }).update({ ...patch, updated_at: trx.fn.now() }, ['id']);
  if (!updated.length) await trx('conversations').insert({ id: randomUUID(), organization_id: org, [col(s)]: s.id, ...patch });
}

/** Roles whose holders may work the inbox (and so may be assigned a conversation). */
const INBOX_ROLES = (ROLES as readonly Role[]).filter((r) => ROLE_PERMISSIONS[r].includes('inbox.read'));

/** Active users of the caller's organization who may read the inbox: the people a conversation can be assigned to. */
export async function listAssignees(services: Services) {
  const actor = authorize('inbox.read');
  return withScope(services.db, scope(actor), async (trx) => {
    const rows = await trx('users').where({ organization_id: actor.organizationId, active: true })
      .whereRaw('roles && ?::text[]', [INBOX_ROLES]).orderBy('display_name').orderBy('id').select('id', 'display_name');
    return { assignees: rows.map((r: { id: string; display_name: string }) => ({ id: r.id, displayName: r.display_name, me: r.id === actor.userId })) };
  });
}

export async function setState(services: Services, s: Subject, input: { assignedTo?: string | null; done?: boolean }) {
  const actor = authorize('inbox.read');
  return withScope(services.db, scope(actor), async (trx) => {
    await requireSubject(trx, s);
    const patch: Record<string, unknown> = {};
    if (input.assignedTo !== undefined) {
      if (input.assignedTo) {
        const u = await trx('users').where({ id: input.assignedTo, organization_id: actor.organizationId, active: true }).first('id', 'roles');
        if (!u) throw validation('body.assignedTo', 'is not an active user of this organization', 'not_found');
        if (!(u.roles as string[]).some((r) => (INBOX_ROLES as string[]).includes(r))) throw validation('body.assignedTo', 'may not read the inbox', 'not_permitted');
      }
      patch.assigned_to = input.assignedTo;
    }
    if (input.done !== undefined) patch.done_at = input.done ? trx.fn.now() : null;
    await upsertState(trx, actor.organizationId, s, patch);
    await audit(trx, { action: 'inbox.state', objectType: s.kind, objectId: s.id, details: { assignedTo: input.assignedTo, done: input.done } });
    const row = await trx('conversations').where({ [col(s)]: s.id }).first('assigned_to', 'done_at');
    return { assignedTo: row.assigned_to as string | null, done: Boolean(row.done_at) };
  });
}

/** A reply to a patient over WhatsApp: free text inside the 24 h window, a template otherwise. */
export async function reply(services: Services, patientId: string, input: { text?: string; purpose?: MessagePurpose; variables?: Record<string, string> }) {
  const actor = authorize('messaging.send');
  if ((input.text === undefined) === (input.purpose === undefined)) throw validation('body.text', 'give either the free text or a template purpose', 'one_of');
  return withScope(services.db, scope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const org = actor.organizationId;
    let row: repo.OutboxRow;
    if (input.text !== undefined) {
      const last = await repo.lastInboundAt(trx, patientId);
      if (!last || Date.now() - last.getTime() >= WHATSAPP_WINDOW_MS) {
        throw validation('body.text', 'free text only within 24 h of the patient\'s last message: send a template', 'window_closed');
      }
      const { row: p, master } = await loadPatient(services, trx, patientId);
      const reason = await sendDecision(trx, p, master, await repo.channelRow(trx, org), 'reply', 'whatsapp', false);
      const id = randomUUID();
      row = await repo.insertOutbox(trx, {
        id, organization_id: org, patient_id: patientId, purpose: 'reply', channel: 'whatsapp', automated: false,
        status: reason ? 'blocked' : 'queued', blocked_reason: reason ?? null,
        variables: await sealJson(services.keys, trx, patientKey(org, patientId), `outbox_variables:${id}`, { text: input.text }),
        created_by: actor.userId, finished_at: reason ? new Date() : null,
      });
    } else {
      row = await enqueueMessage(services, trx, org, actor.userId, { patientId, purpose: input.purpose!, channel: 'whatsapp', variables: input.variables, automated: false, fieldPrefix: 'body' });
    }
    await audit(trx, { action: 'inbox.reply', objectType: 'patient', objectId: patientId, details: { messageId: row.id, purpose: row.purpose, status: row.status, blockedReason: row.blocked_reason } });
    return { message: outboxView(row) };
  });
}

/**
 * Creates a patient from a prospect (Interessent): the number the prospect wrote from becomes the
 * patient's WhatsApp number unless another is given, the conversation (messages re-encrypted with
 * the new patient's key, assignment, done) moves to the patient, and the prospect is deleted.
 */
export async function patientFromProspect(services: Services, prospectId: string, input: MasterData & { allowDuplicate?: boolean }) {
  const actor = authorize('patients.write');
  authorize('inbox.read');
  return withScope(services.db, scope(actor), async (trx) => {
    const org = actor.organizationId;
    const prospect = await trx('prospects').where({ id: prospectId }).forUpdate().first('id', 'data');
    if (!prospect) throw notFound('Prospect');
    const from = await openJson<{ phone: string; name: string | null }>(services.keys, trx, prospectKey(org, prospectId), 'prospect', prospect.data);
    const phone = /^\+[1-9][0-9]{6,14}$/.test(from.phone) ? from.phone : undefined;
    // A prospect wrote over WhatsApp: that is how the patient first reached the practice (reports).
    const patient = await insertNewPatient(services, trx, actor, { ...input, whatsapp: input.whatsapp ?? phone }, 'whatsapp');
    const moved = await moveMediaToPatient(services, trx, org, prospectId, patient.id);
    const messages = await trx('inbound_messages').where({ prospect_id: prospectId }).select('id', 'content');
    for (const m of messages) {
      const content = await openJson<unknown>(services.keys, trx, prospectKey(org, prospectId), `inbound:${m.id}`, m.content);
      const sealed = await sealJson(services.keys, trx, patientKey(org, patient.id), `inbound:${m.id}`, content);
      await trx('inbound_messages').where({ id: m.id }).update({ patient_id: patient.id, prospect_id: null, content: sealed });
    }
    await trx('conversations').where({ prospect_id: prospectId }).update({ patient_id: patient.id, prospect_id: null, updated_at: trx.fn.now() });
    await trx('prospects').where({ id: prospectId }).delete();
    await audit(trx, { action: 'inbox.prospect_converted', objectType: 'patient', objectId: patient.id, details: { prospectId, messages: messages.length } });
    return { patient, moved };
  }).then(async ({ patient, moved }) => {
    for (const id of moved.obsolete) await deleteBlob(services.config.dataDir, id);
    return { patient };
  });
}

/**
 * When an outbound message was due to go out: a reminder booked together with its confirmation is
 * written in the same transaction (same creation time) but is due later.
 */
function dueAt(o: { send_at?: Date | null; created_at: Date }): Date {
  return o.send_at && o.send_at > o.created_at ? o.send_at : o.created_at;
}

/** One stored media item of a conversation, decrypted; audited. Not stored (pending, too large, …) → 404. */
export async function readInboundMedia(services: Services, s: Subject, messageId: string) {
  const actor = authorize('inbox.read');
  return withScope(services.db, scope(actor), async (trx) => {
    await requireSubject(trx, s);
    const r = await trx('inbound_messages').where({ id: messageId, [col(s)]: s.id, media_state: 'stored' }).first('id', 'organization_id', 'patient_id', 'prospect_id', 'kind', 'media_blob_id', 'media_content_type');
    if (!r) throw notFound('Media');
    const data = await readMedia(services, trx, r);
    await audit(trx, { action: 'inbox.media', objectType: s.kind, objectId: s.id, details: { messageId, kind: r.kind } });
    return { data, contentType: r.media_content_type as string, kind: r.kind as string, name: `${r.kind}-${String(r.id).slice(0, 8)}` };
  });
}
