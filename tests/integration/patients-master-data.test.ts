// German practice master data (issue 12, item 4): title, salutation, insurance type, insurer and
// number (KVNR check digit), preferred channel, the practice's patient number (unique per
// organization, exact search through its blind index, optional auto-numbering). Encrypted like the
// rest, rectification audited, in both exports, gone after erasure, separated by organization.
import test from 'ava';
import { useSetUpApp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, newOrganization, ownerQuery, samplePatient } from './patients-fixtures.ts';

let app: TestApp;
let admin: Client;

useSetUpApp(test, (env) => ({ app, admin } = env));

const german = (extra: Record<string, unknown> = {}) => samplePatient({
  title: 'Dr. med.', salutation: 'ms', insuranceType: 'statutory', insurer: 'AOK Nordost', insuranceNumber: 'a 123 456 780',
  preferredChannel: 'whatsapp', ...extra,
});

test.serial('the new fields are stored encrypted, normalized, shown and searchable by the exact patient number', async (t) => {
  const res = await admin.post('/api/v1/patients', german({ patientNumber: 'p-4711' }));
  t.is(res.status, 201, res.text);
  const p = res.body.patient;
  t.like(p, { title: 'Dr. med.', salutation: 'ms', insuranceType: 'statutory', insurer: 'AOK Nordost', insuranceNumber: 'A123456780', preferredChannel: 'whatsapp', patientNumber: 'P-4711' });
  // Nothing of it in clear in the database: only the keyed token of the number.
  const dump = await ownerQuery<{ text: string }>(app.db.ownerUrl, `select encode(data, 'escape') as text from patients where id = ?`, [p.id]);
  for (const clear of ['AOK Nordost', 'A123456780', 'P-4711', 'Dr. med.']) t.false(dump[0].text.includes(clear), clear);
  const tokens = await ownerQuery(app.db.ownerUrl, `select 1 from patient_search where patient_id = ? and kind = 'number'`, [p.id]);
  t.is(tokens.length, 1);

  for (const q of ['P-4711', 'p-4711']) {
    const found = await admin.post('/api/v1/patients/search', { q });
    t.is(found.status, 200, found.text);
    t.deepEqual(found.body.items.map((i: { id: string }) => i.id), [p.id], q);
  }
  const exact = await admin.post('/api/v1/patients/search', { patientNumber: 'P-4711' });
  t.deepEqual(exact.body.items.map((i: { id: string }) => i.id), [p.id]);
  const prefix = await admin.post('/api/v1/patients/search', { patientNumber: 'P-471' });
  t.is(prefix.body.total, 0, 'a number matches exactly, never as a prefix');
  const none = await admin.post('/api/v1/patients/search', { q: 'X-99' });
  t.is(none.status, 200, 'a number-like word that is neither a number nor a name finds nothing (no 400)');
  t.is(none.body.total, 0);
});

test.serial('bad master data is a 400 naming the field, and nothing is stored', async (t) => {
  const [{ n: before }] = await ownerQuery<{ n: string }>(app.db.ownerUrl, 'select count(*) as n from patients');
  const cases: Array<[Record<string, unknown>, string, string?]> = [
    [{ insuranceNumber: 'A123456781' }, 'body.insuranceNumber', 'invalid_kvnr'],
    [{ insuranceNumber: 'A12345678' }, 'body.insuranceNumber', 'invalid_kvnr'],
    [{ insuranceType: 'private', insuranceNumber: 'PKV<script>' }, 'body.insuranceNumber', 'invalid_insurance_number'],
    [{ insuranceType: 'private', insuranceNumber: 'x'.repeat(31) }, 'body.insuranceNumber'],
    [{ insuranceType: 'self_pay', insuranceNumber: undefined, insurer: 'AOK' }, 'body.insurer', 'self_pay_insurer'],
    [{ insuranceType: 'gkv' }, 'body.insuranceType'],
    [{ insuranceType: undefined }, 'body.insuranceNumber', 'insurance_type_missing'],
    [{ salutation: 'sir' }, 'body.salutation'],
    [{ title: 'Dr.<b>' }, 'body.title'],
    [{ title: 'Dr.\u0000' }, 'body.title'],
    [{ insurer: 'AOK\u0000Nordost' }, 'body.insurer'],
    [{ patientNumber: 'P 47 11' }, 'body.patientNumber'],
    [{ patientNumber: 'P\u00004711' }, 'body.patientNumber'],
    [{ patientNumber: '1'.repeat(21) }, 'body.patientNumber'],
    [{ preferredChannel: 'fax' }, 'body.preferredChannel'],
    [{ preferredChannel: 'email', email: undefined }, 'body.preferredChannel', 'channel_needs_email'],
    [{ preferredChannel: 'whatsapp', whatsapp: undefined }, 'body.preferredChannel', 'channel_needs_whatsapp'],
  ];
  for (const [patch, field, code] of cases) {
    const res = await admin.post('/api/v1/patients', german(patch));
    t.is(res.status, 400, `${JSON.stringify(patch)}: ${res.text}`);
    const issue = res.body.details?.find((d: { field: string }) => d.field === field);
    t.truthy(issue, `${JSON.stringify(patch)} names ${field}: ${res.text}`);
    if (code) t.is(issue.code, code);
  }
  const [{ n: after }] = await ownerQuery<{ n: string }>(app.db.ownerUrl, 'select count(*) as n from patients');
  t.is(after, before);
});

test.serial('a patient number is unique per organization (409 naming the field), also on rectification; rectification is audited', async (t) => {
  const a = (await admin.post('/api/v1/patients', german({ patientNumber: 'U-100' }))).body.patient;
  const dup = await admin.post('/api/v1/patients', german({ patientNumber: 'u-100', allowDuplicate: true }));
  t.is(dup.status, 409, dup.text);
  t.is(dup.body.details[0].field, 'body.patientNumber');
  t.is(dup.body.details[0].code, 'taken');
  const b = (await admin.post('/api/v1/patients', german({ patientNumber: 'U-101', allowDuplicate: true }))).body.patient;
  const steal = await admin.patch(`/api/v1/patients/${b.id}`, { changes: { patientNumber: 'U-100' } });
  t.is(steal.status, 409, steal.text);
  t.is(steal.body.details[0].field, 'body.changes.patientNumber');
  const same = await admin.patch(`/api/v1/patients/${a.id}`, { changes: { patientNumber: 'U-100', insurer: 'TK' } });
  t.is(same.status, 200, `keeping one's own number is fine: ${same.text}`);
  const bad = await admin.patch(`/api/v1/patients/${a.id}`, { changes: { insuranceNumber: 'A000000001' } });
  t.is(bad.status, 400);
  t.is(bad.body.details[0].field, 'body.changes.insuranceNumber');
  const clearType = await admin.patch(`/api/v1/patients/${a.id}`, { changes: { insuranceType: null } });
  t.is(clearType.status, 400, 'removing the type while a number remains');
  t.is(clearType.body.details[0].field, 'body.changes.insuranceNumber');
  const toPrivate = await admin.patch(`/api/v1/patients/${a.id}`, { changes: { insuranceType: 'private', insuranceNumber: 'DKV 123/456', preferredChannel: 'letter' }, reason: 'Wechsel in die PKV' });
  t.is(toPrivate.status, 200, toPrivate.text);
  const free = await admin.patch(`/api/v1/patients/${a.id}`, { changes: { patientNumber: null } });
  t.is(free.status, 200);
  t.is(free.body.patient.patientNumber, undefined);
  t.is((await admin.patch(`/api/v1/patients/${b.id}`, { changes: { patientNumber: 'U-100' } })).status, 200, 'a freed number can be taken');
  const audits = await ownerQuery<{ details: { fields: string[] } }>(app.db.ownerUrl, `select details from audit_log where action = 'patient.rectify' and object_id = ? order by id`, [a.id]);
  t.deepEqual(audits.map((r) => r.details.fields.sort()), [['insurer'], ['insuranceNumber', 'insuranceType', 'preferredChannel'], ['patientNumber']]);
  const history = await admin.get(`/api/v1/patients/${a.id}/history`);
  t.is(history.body.versions[0].data.insuranceType, 'statutory', 'the history keeps the earlier master data');
});

test.serial('auto-numbering assigns the next free number, skipping numbers taken by hand; only admins set it up', async (t) => {
  t.deepEqual((await admin.get('/api/v1/patient-numbering')).body, { enabled: false, prefix: '', nextNumber: 1, digits: 5 });
  const off = (await admin.post('/api/v1/patients', german())).body.patient;
  t.is(off.patientNumber, undefined, 'off: no number');
  const orgId = (await admin.get('/api/v1/session')).body.user?.organizationId ?? (await ownerQuery<{ organization_id: string }>(app.db.ownerUrl, 'select organization_id from patients limit 1'))[0].organization_id;
  const staff = await clientAs(app, orgId, ['staff']);
  t.is((await staff.put('/api/v1/patient-numbering', { enabled: true, nextNumber: 1 })).status, 403);
  const set = await admin.put('/api/v1/patient-numbering', { enabled: true, prefix: 'k', nextNumber: 7, digits: 4 });
  t.is(set.status, 200, set.text);
  t.is(set.body.prefix, 'K');
  t.is((await admin.post('/api/v1/patients', german({ patientNumber: 'K0008', allowDuplicate: true }))).status, 201);
  const first = (await staff.post('/api/v1/patients', german({ allowDuplicate: true }))).body.patient;
  const second = (await staff.post('/api/v1/patients', german({ allowDuplicate: true }))).body.patient;
  t.is(first.patientNumber, 'K0007');
  t.is(second.patientNumber, 'K0009', 'K0008 was taken by hand');
  t.is((await admin.get('/api/v1/patient-numbering')).body.nextNumber, 10);
  const audit = await ownerQuery(app.db.ownerUrl, `select 1 from audit_log where action = 'patient.numbering.update'`);
  t.is(audit.length, 1);
  t.is((await admin.put('/api/v1/patient-numbering', { enabled: false, nextNumber: 10 })).status, 200);
});

test.serial('the fields are in both exports and are destroyed by erasure; the number becomes free', async (t) => {
  const p = (await admin.post('/api/v1/patients', german({ patientNumber: 'E-1', preferredChannel: 'email', allowDuplicate: true }))).body.patient;
  const json = await admin.get(`/api/v1/patients/${p.id}/export`);
  t.is(json.status, 200);
  t.like(json.body.patient.data, { title: 'Dr. med.', salutation: 'ms', insuranceType: 'statutory', insurer: 'AOK Nordost', insuranceNumber: 'A123456780', preferredChannel: 'email', patientNumber: 'E-1' });
  const fhir = await admin.get(`/api/v1/patients/${p.id}/export?format=fhir`);
  const patient = fhir.body.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Patient').resource;
  t.deepEqual(patient.identifier.map((i: { system?: string; value: string }) => [i.system, i.value]), [['http://fhir.de/sid/gkv/kvid-10', 'A123456780'], ['urn:praxiskern:patient-number', 'E-1']]);
  t.deepEqual(patient.name[0].prefix, ['Dr. med.']);
  t.true(patient.extension.some((e: { url: string; valueCode: string }) => e.url === 'urn:praxiskern:preferred-channel' && e.valueCode === 'email'));

  const erased = await admin.post(`/api/v1/patients/${p.id}/erasure`, { confirm: true });
  t.is(erased.status, 200, erased.text);
  t.deepEqual(await ownerQuery(app.db.ownerUrl, 'select 1 from patients where id = ?', [p.id]), []);
  t.deepEqual(await ownerQuery(app.db.ownerUrl, 'select 1 from patient_search where patient_id = ?', [p.id]), []);
  t.is((await admin.post('/api/v1/patients/search', { patientNumber: 'E-1' })).body.total, 0);
  t.is((await admin.post('/api/v1/patients', german({ patientNumber: 'E-1', allowDuplicate: true }))).status, 201, 'the number is free again');
});

test.serial('organizations are separated: the same number in another organization, and no cross-organization search', async (t) => {
  const other = await newOrganization(app, 'md-other');
  const otherAdmin = await clientAs(app, other, ['admin']);
  const mine = (await admin.post('/api/v1/patients', german({ patientNumber: 'R-1', allowDuplicate: true }))).body.patient;
  const theirs = await otherAdmin.post('/api/v1/patients', german({ patientNumber: 'R-1' }));
  t.is(theirs.status, 201, `the same number in another organization: ${theirs.text}`);
  const found = await otherAdmin.post('/api/v1/patients/search', { patientNumber: 'R-1' });
  t.deepEqual(found.body.items.map((i: { id: string }) => i.id), [theirs.body.patient.id]);
  t.is((await otherAdmin.get(`/api/v1/patients/${mine.id}`)).status, 404);
  t.is((await otherAdmin.get('/api/v1/patient-numbering')).body.enabled, false, 'numbering is per organization');
});
