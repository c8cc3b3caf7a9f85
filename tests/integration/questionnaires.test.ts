// Questionnaires the practice designs, through real HTTP and PostgreSQL: drafts from templates,
// publishing immutable versions, scores stored with the answers (a new version never re-scores
// old answers), the default questionnaire, validation naming the field, roles and tenant isolation.
import test from 'ava';
import { createDb } from '../../app/api/src/db/connection.ts';
import * as m0320 from '../../app/api/src/db/migrations/20261201_0320_questionnaire_editor.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, newOrganization, samplePatient } from './patients-fixtures.ts';

let app: TestApp;
let admin: Client;
let doctor: Client;
let organizationId: string;

test.before(async () => {
  app = await startTestApp();
  ({ client: admin, organizationId } = await setupInstance(app));
  doctor = await clientAs(app, organizationId, ['doctor']);
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

const patient = async () => (await admin.post('/api/v1/patients', samplePatient())).body.patient.id as string;
const barthelAll = (def: { fields: { key: string; choices?: { key: string }[] }[] }, i: 0 | -1) =>
  Object.fromEntries(def.fields.map((f) => [f.key, f.choices!.at(i)!.key]));

async function auditActions(prefix: string): Promise<{ action: string; object_id: string; details: Record<string, unknown> }[]> {
  const owner = createDb(app.db.ownerUrl, 1);
  try {
    return await owner('audit_log').where('action', 'like', `${prefix}%`).orderBy('seq').select('action', 'object_id', 'details');
  } finally {
    await owner.destroy();
  }
}

test.serial('the migration leaves answers given before it, and the questionnaires they name, byte for byte as they were', async (t) => {
  const p = await patient();
  const before = await admin.post(`/api/v1/patients/${p}/anamnesis`, { questionnaireKey: 'anamnesis', answers: { smoker: false, blood_thinners: true, hair_status: 'norwood_2' } });
  t.is(before.status, 201, before.text);
  const owner = createDb(app.db.ownerUrl, 1);
  const snapshot = async () => ({
    entries: (await owner.raw(`select id, questionnaire_id, encode(data, 'hex') as data from record_entries order by id`)).rows,
    questionnaires: (await owner.raw(`select id, key, version, definition::text from questionnaires order by id`)).rows,
  });
  try {
    const start = await snapshot();
    await m0320.down(owner);
    await m0320.up(owner);
    t.deepEqual(await snapshot(), start);
  } finally {
    await owner.destroy();
  }
  const record = (await admin.get(`/api/v1/patients/${p}/record`)).body;
  t.deepEqual(record.anamnesis.data, before.body.entry.data);
  t.is(record.anamnesis.data.prequalification.status, 'needs_review');
});

test('answers given before anything changed (the first format) stay as they were after a new version', async (t) => {
  // The hair clinic's "anamnesis" v1 is created on first use in the first format, as before.
  const p = await patient();
  const before = { smoker: true, cigarettes_per_day: 30, blood_thinners: false, hair_status: 'norwood_7' };
  const old = await admin.post(`/api/v1/patients/${p}/anamnesis`, { questionnaireKey: 'anamnesis', answers: before });
  t.is(old.status, 201, old.text);
  t.deepEqual(old.body.entry.data.questionnaire, { key: 'anamnesis', version: 1 });
  // The practice moves "anamnesis" to the hair-clinic template in the current format.
  const draft = (await doctor.post('/api/v1/questionnaire-drafts', { questionnaireKey: 'anamnesis' })).body.draft;
  const template = (await doctor.get('/api/v1/questionnaire-templates')).body.templates.find((x: { id: string }) => x.id === 'hair_clinic');
  const saved = await doctor.put('/api/v1/questionnaire-drafts/anamnesis', { title: 'Anamnese', definition: template.definition, revision: draft.revision });
  t.is(saved.status, 200, saved.text);
  const pub = await doctor.post('/api/v1/questionnaire-drafts/anamnesis/publish', { revision: saved.body.draft.revision });
  t.is(pub.status, 201, pub.text);
  t.is(pub.body.questionnaire.version, 2);
  const record = (await admin.get(`/api/v1/patients/${p}/record`)).body;
  t.deepEqual(record.anamnesis.data, old.body.entry.data, 'the stored answers, version and pre-qualification are unchanged');
  t.is(record.anamnesis.data.questionnaire.version, 1);
  const v1 = await admin.get('/api/v1/questionnaires/anamnesis?version=1');
  t.deepEqual(v1.body.questionnaire.definition.fields.find((f: { key: string }) => f.key === 'hair_status').options.length, 7, 'v1 stays readable as it was');
  // the same answers are valid for the new version (same keys), and updating them uses v2
  const next = await admin.post(`/api/v1/patients/${p}/anamnesis`, { questionnaireKey: 'anamnesis', answers: before, supersedesId: old.body.entry.id, correctionReason: 'Neue Version' });
  t.is(next.status, 201, next.text);
  t.is(next.body.entry.data.questionnaire.version, 2);
  t.deepEqual(next.body.entry.data.prequalification, old.body.entry.data.prequalification);
  const history = (await admin.get(`/api/v1/patients/${p}/record/entries/${next.body.entry.id}/history`)).body.versions;
  t.deepEqual(history.map((v: { data: { questionnaire: { version: number } } }) => v.data.questionnaire.version), [1, 2]);
});

test('a template copy is a draft with a hidden key; publishing versions never re-scores old answers', async (t) => {
  const created = await doctor.post('/api/v1/questionnaire-drafts', { templateId: 'barthel', title: 'Barthel-Index (Hausbesuch)' });
  t.is(created.status, 201, created.text);
  const { key, revision, definition } = created.body.draft;
  t.is(key, 'barthel_index_hausbesuch', 'the key comes from the title');
  t.is(created.body.draft.publishedVersion, null);
  const again = await doctor.post('/api/v1/questionnaire-drafts', { templateId: 'barthel', title: 'Barthel-Index (Hausbesuch)' });
  t.is(again.body.draft.key, 'barthel_index_hausbesuch_2', 'a second copy gets its own key');
  t.is((await doctor.delete(`/api/v1/questionnaire-drafts/${again.body.draft.key}`)).status, 204);

  t.is((await doctor.post(`/api/v1/patients/${await patient()}/anamnesis`, { questionnaireKey: key, answers: {} })).status, 404, 'a draft is not fillable');
  const v1 = await doctor.post(`/api/v1/questionnaire-drafts/${key}/publish`, { revision });
  t.is(v1.status, 201, v1.text);
  t.is(v1.body.questionnaire.version, 1);
  t.is((await doctor.get(`/api/v1/questionnaire-drafts/${key}`)).status, 404, 'publishing consumes the draft');

  const p = await patient();
  const answers = { ...barthelAll(definition, 0), stairs: 'help' }; // 100 - 5
  const first = await doctor.post(`/api/v1/patients/${p}/anamnesis`, { questionnaireKey: key, answers });
  t.is(first.status, 201, first.text);
  t.like(first.body.entry.data.scores[0], { key: 'barthel', value: 95, missing: 0, band: { de: 'punktuell hilfebedürftig', en: 'needs help occasionally' } });

  // the patient's export (Art. 15/20) carries the answers with their scores, also as FHIR
  const json = await doctor.get(`/api/v1/patients/${p}/export`);
  t.is(json.status, 200, json.text);
  t.true(JSON.stringify(json.body).includes('"punktuell hilfebedürftig"'));
  const fhir = (await doctor.get(`/api/v1/patients/${p}/export?format=fhir`)).body;
  const response = fhir.entry.map((e: { resource: Record<string, unknown> }) => e.resource).find((r: { resourceType: string }) => r.resourceType === 'QuestionnaireResponse');
  t.deepEqual(response.item.find((i: { linkId: string }) => i.linkId === 'score:barthel').answer, [{ valueDecimal: 95 }, { valueString: 'punktuell hilfebedürftig' }]);

  // version 2: stairs worth nothing any more, a new band label
  const d2 = (await doctor.post('/api/v1/questionnaire-drafts', { questionnaireKey: key })).body.draft;
  t.is(d2.publishedVersion, 1);
  const changed = structuredClone(d2.definition);
  for (const c of changed.fields.find((f: { key: string }) => f.key === 'stairs').choices) c.points = 0;
  changed.scores[0].bands[2].label = { de: 'leicht eingeschränkt' };
  const s2 = await doctor.put(`/api/v1/questionnaire-drafts/${key}`, { title: d2.title, definition: changed, revision: d2.revision });
  t.is(s2.status, 200, s2.text);
  t.is((await doctor.put(`/api/v1/questionnaire-drafts/${key}`, { title: d2.title, definition: changed, revision: d2.revision })).status, 409, 'a stale revision is refused');
  t.is((await doctor.post(`/api/v1/questionnaire-drafts/${key}/publish`, { revision: s2.body.draft.revision })).body.questionnaire.version, 2);

  const record = (await doctor.get(`/api/v1/patients/${p}/record`)).body;
  t.deepEqual(record.anamnesis.data, first.body.entry.data, 'the answers of v1 keep their score');
  const p2 = await patient();
  const second = await doctor.post(`/api/v1/patients/${p2}/anamnesis`, { questionnaireKey: key, answers });
  t.like(second.body.entry.data.scores[0], { value: 90, band: { de: 'leicht eingeschränkt', en: 'leicht eingeschränkt' } });
  t.deepEqual(second.body.entry.data.questionnaire, { key, version: 2 });
  // answers can still be given to the older version explicitly, scored by it
  const old = await doctor.post(`/api/v1/patients/${await patient()}/anamnesis`, { questionnaireKey: key, questionnaireVersion: 1, answers });
  t.is(old.body.entry.data.scores[0].value, 95);
  const versions = (await doctor.get(`/api/v1/questionnaires/${key}/versions`)).body.versions;
  t.deepEqual(versions.map((v: { version: number }) => v.version), [2, 1]);
  t.is((await doctor.get(`/api/v1/questionnaires/${key}?version=1`)).body.questionnaire.definition.fields[6].choices[1].points, 5);
  // a published version is immutable in the database too: the API role may insert, never change or delete
  const appRole = createDb(app.db.appUrl, 1);
  try {
    for (const sql of [`update questionnaires set title = 'x' where key = '${key}'`, `delete from questionnaires where key = '${key}'`]) {
      const err = await t.throwsAsync(appRole.transaction(async (trx) => {
        await trx.raw(`select set_config('app.org_id', ?, true)`, [organizationId]);
        await trx.raw(sql);
      }));
      t.is((err as Error & { code?: string }).code, '42501', sql);
    }
  } finally {
    await appRole.destroy();
  }
  const published = await auditActions('questionnaire.publish');
  t.true(published.some((a) => a.details.key === key && a.details.version === 2));
});

test('the default questionnaire: chosen by a manager, audited, used when no key is given', async (t) => {
  const tug = (await doctor.post('/api/v1/questionnaire-drafts', { templateId: 'timed_up_and_go' })).body.draft;
  t.is(tug.key, 'timed_up_and_go');
  await doctor.post(`/api/v1/questionnaire-drafts/${tug.key}/publish`, { revision: tug.revision });
  const unknown = await doctor.put('/api/v1/questionnaire-settings', { defaultKey: 'nothing_here' });
  t.is(unknown.status, 400);
  t.is(unknown.body.details[0].field, 'body.defaultKey');
  const staff = await clientAs(app, organizationId, ['staff']);
  t.is((await staff.put('/api/v1/questionnaire-settings', { defaultKey: tug.key })).status, 403);
  const set = await doctor.put('/api/v1/questionnaire-settings', { defaultKey: tug.key });
  t.is(set.status, 200, set.text);
  t.is((await staff.get('/api/v1/questionnaire-settings')).body.defaultKey, tug.key);
  t.is((await staff.get('/api/v1/questionnaires')).body.defaultKey, tug.key);
  const p = await patient();
  const res = await staff.post(`/api/v1/patients/${p}/anamnesis`, { answers: { seconds: 21.5, walking_aid: true, aid_type: 'walker' } });
  t.is(res.status, 201, res.text);
  t.is(res.body.entry.data.questionnaire.key, tug.key);
  t.like(res.body.entry.data.scores[0], { key: 'tug', value: 21.5, band: { en: 'functionally relevant limitation of mobility' } });
  t.is(res.body.entry.data.prequalification.status, 'needs_review');
  const hidden = await staff.post(`/api/v1/patients/${p}/anamnesis`, { answers: { seconds: 5, walking_aid: false, aid_type: 'walker' } });
  t.is(hidden.status, 400);
  t.is(hidden.body.details[0].field, 'body.answers.aid_type');
  const changes = await auditActions('questionnaire.default.change');
  t.like(changes.at(-1), { object_id: tug.key, details: { from: null, to: tug.key } });
  // put the hair anamnesis back as default for the other tests
  t.is((await doctor.put('/api/v1/questionnaire-settings', { defaultKey: 'anamnesis' })).status, 200);
});

test('bad definitions get a 400 naming the field; drafts are for managers; organizations see only their own', async (t) => {
  const d = (await doctor.post('/api/v1/questionnaire-drafts', { title: 'Prüfbogen' })).body.draft;
  t.is(d.key, 'pruefbogen');
  const put = (definition: unknown) => doctor.put(`/api/v1/questionnaire-drafts/${d.key}`, { title: 'Prüfbogen', definition, revision: d.revision });
  const q = (key: string, extra: Record<string, unknown> = {}) => ({ key, type: 'boolean', label: { de: key }, ...extra });
  const fieldOf = async (definition: unknown) => {
    const res = await put(definition);
    t.is(res.status, 400, res.text);
    return res.body.details.map((i: { field: string }) => i.field);
  };
  t.deepEqual(await fieldOf({ fields: [q('a', { showIf: { field: 'b', op: 'eq', value: true } }), q('b', { showIf: { field: 'a', op: 'eq', value: true } })], rules: [] }), ['body.definition.fields.0.showIf.field']);
  t.deepEqual(await fieldOf({ fields: [q('a'), q('a')], rules: [] }), ['body.definition.fields.1.key']);
  t.deepEqual(await fieldOf({ fields: [q('a', { showIf: { field: 'x', op: 'present' } })], rules: [] }), ['body.definition.fields.0.showIf.field']);
  t.deepEqual(await fieldOf({ fields: [{ key: 't', type: 'text', label: { de: 'T' } }], rules: [], scores: [{ key: 's', label: { de: 'S' }, kind: 'sum', fields: ['t'] }] }), ['body.definition.scores.0.fields.0']);
  t.deepEqual(await fieldOf({ fields: [q('a', { label: { de: 'a\u0000b' } })], rules: [] }), ['body.definition.fields.0.label.de']);
  t.deepEqual(await fieldOf(null), ['body.definition']);
  const huge = { fields: Array.from({ length: 250 }, (_, i) => q(`q${i}`, { label: { de: 'x'.repeat(500), en: 'y'.repeat(500) } })), rules: [] };
  t.deepEqual(await fieldOf(huge), ['body.definition']);
  const nullBody = await doctor.request('PUT', `/api/v1/questionnaire-drafts/${d.key}`, null);
  t.is(nullBody.status, 400);
  // an empty draft saves, but does not publish
  const publishEmpty = await doctor.post(`/api/v1/questionnaire-drafts/${d.key}/publish`, { revision: d.revision });
  t.is(publishEmpty.status, 400);
  t.is(publishEmpty.body.details[0].field, 'draft.definition.fields');
  t.is((await doctor.post('/api/v1/questionnaire-drafts', { templateId: 'nope' })).body.details[0].field, 'body.templateId');
  t.is((await doctor.post('/api/v1/questionnaire-drafts', {})).body.details[0].field, 'body.title');

  const staff = await clientAs(app, organizationId, ['staff']);
  t.is((await staff.get('/api/v1/questionnaire-drafts')).status, 403);
  t.is((await staff.get('/api/v1/questionnaire-templates')).status, 403);
  t.is((await staff.post('/api/v1/questionnaire-drafts', { templateId: 'barthel' })).status, 403);

  const other = await newOrganization(app, `quest-${Date.now()}`);
  const stranger = await clientAs(app, other, ['admin']);
  t.is((await stranger.get(`/api/v1/questionnaire-drafts/${d.key}`)).status, 404);
  t.false((await stranger.get('/api/v1/questionnaire-drafts')).body.drafts.some((x: { key: string }) => x.key === d.key));
  const theirs = (await stranger.get('/api/v1/questionnaires')).body.questionnaires.map((x: { key: string }) => x.key);
  t.deepEqual(theirs, ['anamnesis'], 'another organization sees none of these questionnaires');
  t.is((await stranger.get('/api/v1/questionnaires/timed_up_and_go')).status, 404);
  t.is((await stranger.put('/api/v1/questionnaire-settings', { defaultKey: 'timed_up_and_go' })).status, 400);
});
