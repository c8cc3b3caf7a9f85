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
export function auditInsertQuery(db: Db | Tx, row: AuditRow) {
  return db('audit_log').insert({ ...row, details: JSON.stringify(row.details), seq: 0, prev_hash: '', hash: '' });
}

export async function insertAudit(db: Db | Tx, row: AuditRow): Promise<void> {
  await auditInsertQuery(db, row);
}

export interface AuditQuery {
  objectType?: string;
  objectId?: string;
  actorUserId?: string;
  limit: number;
  beforeSeq?: number;
}

export async function listAudit(trx: Tx, q: AuditQuery) {
  const query = trx('audit_log')
    .select('seq', 'created_at', 'actor_user_id', 'action', 'object_type', 'object_id', 'outcome', 'request_id', 'ip', 'user_agent', 'details')
    .orderBy('seq', 'desc')
    .limit(q.limit);
  if (q.objectType) query.where('object_type', q.objectType);
  if (q.objectId) query.where('object_id', q.objectId);
  if (q.actorUserId) query.where('actor_user_id', q.actorUserId);
  if (q.beforeSeq) query.where('seq', '<', q.beforeSeq);
  return query;
}

export interface ChainRow {
  id: string;
  seq: string;
  organization_id: string | null;
  prev_hash: string;
  hash: string;
  expected: string;
}

/** Streams one chain in id order (the physical insertion order) with the recomputed hash. */
export async function* readChain(db: Db, organizationId: string | null, batch = 5000): AsyncGenerator<ChainRow> {
  let after = '0';
  for (;;) {
    const rows: ChainRow[] = await db('audit_log as a')
      .select('a.id', 'a.seq', 'a.organization_id', 'a.prev_hash', 'a.hash', db.raw('audit_entry_hash(a) as expected'))
      .whereRaw('a.organization_id is not distinct from ?', [organizationId])
      .andWhere('a.id', '>', after)
      .orderBy('a.id')
      .limit(batch);
    if (!rows.length) return;
    yield* rows;
    after = rows[rows.length - 1].id;
  }
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
