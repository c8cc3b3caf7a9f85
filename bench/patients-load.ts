// Child process of bench/patients-search.ts: loads demo patients and audit entries in bulk as the
// superuser (unnest() inserts, triggers and FK checks off), so the loading's memory does not count
// in the API process's peak RSS. The same rows the demo-data service makes (demoRows).
import pg from 'pg';
import { demoRows } from '../app/api/src/modules/patients/demo-data.service.ts';

export interface LoadRequest {
  superuserUrl: string;
  organizationId: string;
  userId: string;
  patients: number;
  audit: number;
  masterKeyHex: string;
  searchKeyHex: string;
  questionnaire: { id: string; definition: Parameters<typeof demoRows>[5]['definition'] };
}

type Row = Record<string, unknown>;

async function load(r: LoadRequest): Promise<{ patientSeconds: number; auditSeconds: number }> {
  const su = new pg.Pool({ connectionString: r.superuserUrl, max: 2, options: '-c session_replication_role=replica' });
  const bulkInsert = async (table: string, types: Record<string, string>, rows: object[]) => {
    const cols = Object.keys(types);
    const arrays = cols.map((c) => (rows as Row[]).map((row) => row[c] ?? null));
    await su.query(`insert into ${table} (${cols.join(', ')}) select * from unnest(${cols.map((c, i) => `$${i + 1}::${types[c]}[]`).join(', ')})`, arrays);
  };
  const master = Buffer.from(r.masterKeyHex, 'hex'), sKey = Buffer.from(r.searchKeyHex, 'hex');
  let t = Date.now();
  let pending: Promise<unknown> = Promise.resolve();
  for (let done = 0; done < r.patients; ) {
    const n = Math.min(5000, r.patients - done);
    const rows = demoRows(master, sKey, r.organizationId, r.userId, n, r.questionnaire); // computed while the previous batch is written
    await pending;
    pending = (async () => {
      await bulkInsert('data_keys', { organization_id: 'uuid', scope: 'text', scope_id: 'uuid', wrapped_key: 'bytea' }, rows.keys);
      await bulkInsert('patients', { id: 'uuid', organization_id: 'uuid', created_by: 'uuid', last_treatment_on: 'date', data: 'bytea' }, rows.patients);
      await bulkInsert('patient_search', { organization_id: 'uuid', patient_id: 'uuid', kind: 'text', token: 'bytea' }, rows.search);
      await bulkInsert('record_entries', { id: 'uuid', organization_id: 'uuid', patient_id: 'uuid', kind: 'text', questionnaire_id: 'uuid', created_by: 'uuid', data: 'bytea' }, rows.entries);
    })();
    done += n;
  }
  await pending;
  const patientSeconds = (Date.now() - t) / 1000;
  t = Date.now();
  await su.query(`
    with ids as (select array_agg(id) a from patients), base as (select coalesce(max(seq), 0) s from audit_log where organization_id = $1)
    insert into audit_log (organization_id, seq, created_at, actor_user_id, action, object_type, object_id, outcome, request_id, details, prev_hash, hash)
    select $1, base.s + g, now() - make_interval(secs => $3 - g), $2, 'patient.read', 'patient', (ids.a)[1 + g % array_length(ids.a, 1)]::text,
           'success', 'bench', '{}', repeat('0', 64), repeat('0', 64)
    from generate_series(1, $3) g, ids, base`, [r.organizationId, r.userId, r.audit]);
  await su.query('vacuum analyze');
  await su.end();
  return { patientSeconds, auditSeconds: (Date.now() - t) / 1000 };
}

process.once('message', (r: LoadRequest) => {
  load(r).then(
    (result) => process.send!(result, () => process.exit(0)),
    (err) => { console.error(err); process.exit(1); },
  );
});
