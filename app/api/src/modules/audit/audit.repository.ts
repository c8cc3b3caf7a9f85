import type { Db, Tx } from '../../db/connection.ts';

export interface AuditRow {
  organization_id: string | null;
  actor_user_id: string | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  outcome: 'success' | 'denied' | 'failure';
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
}

/** The insert of one entry, not yet run: awaited by insertAudit, or deferred to a request's COMMIT. */
/** Inserted unchained: the trigger stamps the time and the content hash; the sequencer links it later. */
export function auditInsertQuery(db: Db | Tx, row: AuditRow) {
  return db('audit_log').insert({ ...row, details: JSON.stringify(row.details) });
}

export async function insertAudit(db: Db | Tx, row: AuditRow): Promise<void> {
  await auditInsertQuery(db, row);
}

export interface AuditQuery {
  objectType?: string | undefined;
  objectId?: string | undefined;
  actorUserId?: string | undefined;
  /** Exact action, e.g. "patient.read". */
  action?: string | undefined;
  /** Entries about one patient: direct ones and list views that showed the patient (like the export's audit trail). */
  patientId?: string | undefined;
  /** Time range, inclusive start, exclusive end. */
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
  beforeSeq?: number | undefined;
}

/** Newest first: entries still waiting for the sequencer (seq null) before the chained ones. */
export async function listAudit(trx: Tx, q: AuditQuery) {
  const query = trx('audit_log')
    .select('seq', 'created_at', 'actor_user_id', 'action', 'object_type', 'object_id', 'outcome', 'request_id', 'ip', 'user_agent', 'details')
    .orderByRaw('seq desc nulls first, id desc')
    .limit(q.limit);
  if (q.objectType) query.where('object_type', q.objectType);
  if (q.objectId) query.where('object_id', q.objectId);
  if (q.actorUserId) query.where('actor_user_id', q.actorUserId);
  if (q.beforeSeq) query.where('seq', '<', q.beforeSeq);
  if (q.action) query.where('action', q.action);
  if (q.from) query.where('created_at', '>=', q.from);
  if (q.to) query.where('created_at', '<', q.to);
  if (q.patientId) {
    const id = q.patientId;
    query.where((w) => w.where('object_id', id).orWhereRaw(`action in ('patient.list', 'appointment.list', 'aftercare.tasks.list') and details->'ids' \\? ?`, [id]));
  }
  return query;
}

/**
 * Display names of the given user ids, read in the caller's scope: row-level security limits it
 * to users of the same organization, so an id of another organization stays unresolved.
 */
export async function userNames(trx: Tx, ids: string[]): Promise<Map<string, { displayName: string; username: string | null }>> {
  const unique = [...new Set(ids)].filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
  if (!unique.length) return new Map();
  const rows: { id: string; display_name: string; username: string | null }[] = await trx('users').whereIn('id', unique).select('id', 'display_name', 'username');
  return new Map(rows.map((r) => [r.id, { displayName: r.display_name, username: r.username }]));
}

export interface ChainRow {
  id: string;
  seq: string;
  prev_hash: string;
  hash: string;
}

const NO_ORG = '00000000-0000-0000-0000-000000000000';

/** Streams the chained part of one chain in seq order (index audit_log_chain). */
export async function* readChain(db: Db, organizationId: string | null, batch = 5000): AsyncGenerator<ChainRow> {
  let after = 0;
  for (;;) {
    const rows: ChainRow[] = await db('audit_log as a')
      .select('a.id', 'a.seq', 'a.prev_hash', 'a.hash')
      .whereRaw('coalesce(a.organization_id, ?::uuid) = coalesce(?::uuid, ?::uuid)', [NO_ORG, organizationId, NO_ORG])
      .andWhere('a.seq', '>', after)
      .orderByRaw('coalesce(a.organization_id, ?::uuid), a.seq', [NO_ORG])
      .limit(batch);
    if (!rows.length) return;
    yield* rows;
    after = Number(rows[rows.length - 1].seq);
  }
}

export interface TamperedEntry {
  id: string;
  seq: string | null;
  waiting: boolean;
  /** The content no longer matches the hash it was given (chain hash, or entry_hash while waiting). */
  edited: boolean;
}

/**
 * The earliest inserted entry of a chain whose own hash fails: a chained entry against its chain
 * hash, a waiting one against the content hash it got at insert (or half-chained: forged).
 */
export async function firstTamperedEntry(db: Db, organizationId: string | null): Promise<TamperedEntry | undefined> {
  const { rows } = await db.raw(
    `select a.id, a.seq, a.seq is null as waiting,
            case when a.seq is null then a.entry_hash is distinct from audit_content_hash(a) else a.hash is distinct from audit_entry_hash(a) end as edited
       from audit_log a
      where coalesce(a.organization_id, ?::uuid) = coalesce(?::uuid, ?::uuid)
        and case when a.seq is null then a.entry_hash is distinct from audit_content_hash(a) or a.prev_hash is not null or a.hash is not null
                 else a.hash is distinct from audit_entry_hash(a) end
      order by a.id limit 1`,
    [NO_ORG, organizationId, NO_ORG],
  );
  return rows[0] ? { ...rows[0], id: String(rows[0].id) } : undefined;
}

export interface WaitingStatus {
  /** Committed entries not chained yet. */
  waiting: number;
  oldestId: string | null;
  /** Age of the oldest waiting entry (since its insert), 0 when none waits. */
  oldestSeconds: number;
}

/** What waits for the sequencer; API role (a narrow SECURITY DEFINER door, counts only). */
export async function waitingStatus(db: Db): Promise<WaitingStatus> {
  const { rows } = await db.raw('select * from audit_waiting()');
  const r = rows[0];
  return { waiting: Number(r.waiting), oldestId: r.oldest_id === null ? null : String(r.oldest_id), oldestSeconds: Number(r.oldest_seconds ?? 0) };
}

export interface SequenceResult {
  chained: number;
  refused: number;
  /** Another sequencer (the app's or the worker's) held the lock. */
  busy: boolean;
}

/** One sequencer batch in its own transaction (audit_sequence, docs/security-model.md). */
export async function sequenceBatch(db: Db, limit: number): Promise<SequenceResult> {
  const { rows } = await db.raw('select * from audit_sequence(?)', [limit]);
  return { chained: Number(rows[0].chained), refused: Number(rows[0].refused), busy: rows[0].busy };
}

export async function chainOrganizations(db: Db): Promise<(string | null)[]> {
  const rows = await db('audit_log').distinct('organization_id');
  return rows.map((r: { organization_id: string | null }) => r.organization_id);
}

export interface ChainHead {
  organizationId: string | null;
  /** Newest entry of the chain (null when the chain has no entries at all). */
  headSeq: number | null;
  headHash: string | null;
  /** The seq the caller anchored last, and the hash the chain holds there now (null: no such entry). */
  anchoredSeq: number | null;
  anchoredHash: string | null;
}

/** One round trip: every chain's head, and the current hash at each anchored seq (API role, no content). */
export async function chainHeads(db: Db, anchored: { organizationId: string | null; seq: number }[]): Promise<ChainHead[]> {
  // Array literals (uuids and integers need no quoting): knex would expand a JS array into a list.
  const literal = (xs: (string | number | null)[]) => `{${xs.map((x) => (x === null ? 'NULL' : String(x))).join(',')}}`;
  const { rows } = await db.raw('select * from audit_chain_heads(?::uuid[], ?::bigint[])', [
    literal(anchored.map((a) => a.organizationId)),
    literal(anchored.map((a) => a.seq)),
  ]);
  const num = (v: string | number | null) => (v === null ? null : Number(v));
  return rows.map((r: Record<string, string | null>) => ({
    organizationId: r.organization_id,
    headSeq: num(r.head_seq),
    headHash: r.head_hash,
    anchoredSeq: num(r.anchored_seq),
    anchoredHash: r.anchored_hash,
  }));
}
