// The only place that queries the patient tables (always inside withScope, so RLS applies).
import type { Tx } from '../../db/connection.ts';
import type { IndexKind } from './blind-index.ts';

export interface PatientRow {
  id: string;
  /** The patient's data_keys row, read in the same statement (null once destroyed). */
  key_id: string | null;
  wrapped_key: Buffer | null;
  organization_id: string;
  data: Buffer | null;
  version: number;
  restricted_at: Date | null;
  restriction_reason: Buffer | null;
  objected_at: Date | null;
  last_treatment_on: string | null;
  anonymized_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Dates as 'YYYY-MM-DD' text (node-pg would turn a date into a local-midnight Date). */
const patientColumnList = (alias: string) => `${alias}.*, to_char(${alias}.last_treatment_on, 'YYYY-MM-DD') as last_treatment_on`;
export const patientColumns = (trx: Tx, alias = 'patients') => trx.raw(patientColumnList(alias));

/**
 * The patient's key row joined to the patient row: the data and the wrapped key come from one
 * snapshot, so a cached unwrapped key is only used while its key row exists (docs/patients.md).
 */
const KEY_JOIN = `left join data_keys k on k.organization_id = p.organization_id and k.scope = 'patient' and k.scope_id = p.id`;
const KEY_COLUMNS = 'k.id as key_id, k.wrapped_key';

export interface SearchRow {
  kind: IndexKind;
  token: Buffer;
}

export async function insertPatient(trx: Tx, row: Pick<PatientRow, 'id' | 'organization_id' | 'data' | 'created_by'> & { source_channel?: string }): Promise<void> {
  await trx('patients').insert(row);
}

export async function findPatient(trx: Tx, id: string, forUpdate = false): Promise<PatientRow | undefined> {
  const { rows } = await trx.raw(
    `select ${patientColumnList('p')}, ${KEY_COLUMNS} from patients p ${KEY_JOIN} where p.id = ?${forUpdate ? ' for update of p' : ''}`, [id]);
  return rows[0];
}

export async function updatePatientRow(trx: Tx, id: string, patch: Partial<PatientRow>): Promise<void> {
  await trx('patients').where({ id }).update({ ...patch, updated_at: trx.fn.now() });
}

export async function replaceSearchRows(trx: Tx, organizationId: string, patientId: string, rows: SearchRow[]): Promise<void> {
  await trx('patient_search').where({ patient_id: patientId }).delete();
  if (rows.length) await trx('patient_search').insert(rows.map((r) => ({ ...r, organization_id: organizationId, patient_id: patientId })));
}

/** Patients that carry every one of the given tokens (an AND over the search words). */
export function candidatesQuery(trx: Tx, tokens: SearchRow[]) {
  return trx('patient_search')
    .select('patient_id')
    .where((w) => {
      for (const t of tokens) w.orWhere((o) => o.where('kind', t.kind).andWhere('token', t.token));
    })
    .groupBy('patient_id')
    .havingRaw('count(*) = ?', [tokens.length]);
}

export interface ListOptions {
  sort: 'created_at' | 'updated_at' | 'last_treatment_on';
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
  tokens?: SearchRow[];
}

/**
 * One page and the total in one statement. The total is a count over the same filter (an
 * index-only count) rather than `count(*) over ()`, which would build every matching row, data
 * included, before the LIMIT; a search's candidate set is computed once (materialized CTE). The
 * page's key rows come in the same statement (KEY_JOIN): no key query per row.
 */
export async function listPatientRows(trx: Tx, o: ListOptions): Promise<{ rows: PatientRow[]; total: number }> {
  const filtered = () => {
    const q = trx('patients as p').whereNull('p.anonymized_at');
    return o.tokens ? q.whereIn('p.id', trx.select('patient_id').from('candidates')) : q;
  };
  const count = filtered().count({ total: '*' });
  const page = filtered()
    .joinRaw(KEY_JOIN)
    .select(trx.raw(`${patientColumnList('p')}, ${KEY_COLUMNS}, p.${o.sort} as sort_key`))
    .orderByRaw(`p.${o.sort} ${o.order} nulls last, p.id ${o.order}`)
    .limit(o.limit)
    .offset(o.offset);
  const main = `select t.total, page.* from (?) t left join lateral (?) page on true order by page.sort_key ${o.order} nulls last, page.id ${o.order}`;
  const { rows } = o.tokens
    ? await trx.raw(`with candidates as materialized (?) ${main}`, [candidatesQuery(trx, o.tokens), count, page])
    : await trx.raw(main, [count, page]);
  const total = Number(rows[0]?.total ?? 0);
  return { rows: rows.filter((r: { id: string | null }) => r.id !== null).map(({ total: _t, sort_key: _s, ...r }: Record<string, unknown>) => r as unknown as PatientRow), total };
}

/** The patient whose number term is this token (unique per organization). */
export async function patientWithNumber(trx: Tx, token: Buffer): Promise<string | undefined> {
  const row = await trx('patient_search').where({ kind: 'number', token }).first('patient_id');
  return row?.patient_id;
}

/** Likely duplicates: the same birth date and a shared name token, or the same phone or e-mail. */
export async function duplicateIds(trx: Tx, dob: Buffer, names: Buffer[], contacts: SearchRow[]): Promise<string[]> {
  const byName = trx('patient_search as d')
    .join('patient_search as n', 'n.patient_id', 'd.patient_id')
    .where('d.kind', 'dob').andWhere('d.token', dob)
    .andWhere('n.kind', 'name').whereIn('n.token', names)
    .distinct('d.patient_id as id');
  const rows: { id: string }[] = await byName;
  for (const c of contacts) {
    rows.push(...(await trx('patient_search').where({ kind: c.kind, token: c.token }).select('patient_id as id')));
  }
  return [...new Set(rows.map((r) => r.id))];
}

export async function insertVersion(trx: Tx, row: { organization_id: string; patient_id: string; version: number; data: Buffer; reason: Buffer | null; changed_by: string }): Promise<void> {
  await trx('patient_versions').insert(row);
}

export async function listVersions(trx: Tx, patientId: string) {
  return trx('patient_versions').where({ patient_id: patientId }).orderBy('version');
}
