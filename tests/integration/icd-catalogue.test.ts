// The ICD-10-GM catalogue (issue 12, item 2): importing the BfArM's ClaML and kodes files (written
// here in their documented formats) through the admin route and the CLI, idempotent and per year,
// all or nothing on a bad or truncated file (the error names the line), search by code prefix and
// German text in either umlaut spelling, who may import and who may search.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useSetUpApp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, multipart, ownerQuery } from './patients-fixtures.ts';
import { CODES, claml, kodes } from '../helpers/icd-files.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;
const dir = mkdtempSync(path.join(tmpdir(), 'pk-icd-'));
const CLI = path.resolve('appliance/src/cli.ts');

useSetUpApp(test, (env) => ({ app, admin, organizationId } = env));

function upload(client: Client, name: string, data: string | Buffer, fields: Record<string, string> = {}) {
  const m = multipart(fields, { filename: name, type: 'application/octet-stream', data: Buffer.isBuffer(data) ? data : Buffer.from(data) });
  return client.request('POST', '/api/v1/icd/import', m.body, { 'content-type': m.contentType });
}
const search = async (q: string, client = admin) => (await client.get(`/api/v1/icd/codes?q=${encodeURIComponent(q)}`)).body;
const versions = () => ownerQuery<{ version: number; code_count: number; source_format: string }>(app.db.ownerUrl, 'select version, code_count, source_format from icd_versions order by version');
const codeCount = async (v: number) => Number((await ownerQuery<{ n: string }>(app.db.ownerUrl, 'select count(*) as n from icd_codes where version = ?', [v]))[0].n);

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATABASE_URL: app.db.appUrl, DATABASE_OWNER_URL: app.db.ownerUrl, PRAXISKERN_DATA_DIR: app.dataDir, LOG_LEVEL: 'silent' };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test.serial('without a catalogue the search says so (version null) and diagnoses keep free entry with format validation', async (t) => {
  t.deepEqual(await search('L64'), { version: null, items: [] });
  const p = await admin.post('/api/v1/patients', { givenName: 'Kodiera', familyName: 'Frei', sex: 'female', birthDate: '1980-01-01', language: 'de', country: 'DE', phone: '+49 171 4440001' });
  t.is((await admin.post(`/api/v1/patients/${p.body.patient.id}/diagnoses`, { code: 'Q99.9', text: 'Frei' })).status, 201);
  const bad = await admin.post(`/api/v1/patients/${p.body.patient.id}/diagnoses`, { code: 'XYZ', text: 'Frei' });
  t.is(bad.status, 400);
  t.is(bad.body.details[0].field, 'body.code');
});

test.serial('a ClaML upload imports the categories with dagger/asterisk marks and terminal flags; the year comes from the title', async (t) => {
  const res = await upload(admin, 'catalogue.xml', claml());
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body, { version: 2026, format: 'claml', codes: CODES.length });
  const l64 = await search('l64');
  t.is(l64.version, 2026);
  t.deepEqual(l64.items.map((i: { display: string }) => i.display), ['L64.0', 'L64.9', 'L64'], 'terminal codes first, then by code');
  t.false(l64.items[2].terminal);
  t.is((await search('diabetische'))!.items[0].display, 'G63.2*');
  t.is((await search('E10.40')).items[0].display, 'E10.40†');
  t.is((await search('U69')).items[0].display, 'U69.00!');
  t.is((await search('L64.9')).items[0].label, 'Alopecia androgenetica, nicht näher bezeichnet');
  const audit = await ownerQuery<{ organization_id: string | null; details: Record<string, unknown> }>(app.db.ownerUrl, "select organization_id, details from audit_log where action = 'installation.icd.import'");
  t.is(audit.length, 1);
  t.is(audit[0].organization_id, null, 'in the installation chain');
});

test.serial('search by German text matches all words, in either umlaut spelling, and by code with words', async (t) => {
  for (const q of ['näher bezeichnet alopecia', 'naeher alopecia', 'naher alopecia']) {
    t.deepEqual((await search(q)).items.map((i: { code: string }) => i.code), ['L64.9'], q);
  }
  t.deepEqual((await search('übermäßige')).items.map((i: { code: string }) => i.code), ['E66.0']);
  t.deepEqual((await search('uebermaessige kalorien')).items.map((i: { code: string }) => i.code), ['E66.0']);
  t.deepEqual((await search('L6 arzneimittel')).items.map((i: { code: string }) => i.code), ['L64.0']);
  t.deepEqual((await search('%')).items, [], 'LIKE wildcards are literal');
  const staff = await clientAs(app, organizationId, ['staff']);
  t.is((await search('fieber', staff)).items[0].code, 'R50.9');
  const finance = await clientAs(app, organizationId, ['finance']);
  t.is((await finance.get('/api/v1/icd/codes?q=fieber')).status, 403);
  for (const [q, field] of [['', 'query.q'], ['x'.repeat(101), 'query.q'], ['a%00', 'query.q']]) {
    const r = await admin.get(`/api/v1/icd/codes?q=${q}`);
    t.is(r.status, 400, q);
    t.is(r.body.details[0].field, field);
  }
});

test.serial('importing a year again replaces it (idempotent); the kodes file imports another year, read as UTF-8 or ISO-8859-1', async (t) => {
  t.is((await upload(admin, 'icd10gm2026syst_claml_20250912.xml', claml())).status, 200);
  t.deepEqual((await versions()).map((v) => [v.version, v.code_count]), [[2026, CODES.length]]);
  t.is(await codeCount(2026), CODES.length);
  const txt = await upload(admin, 'icd10gm2025syst_kodes_20240913.txt', kodes());
  t.deepEqual(txt.body, { version: 2025, format: 'kodes', codes: CODES.length });
  const rows = await ownerQuery<{ code: string; mark: string | null; terminal: boolean; label: string }>(app.db.ownerUrl, "select code, mark, terminal, label from icd_codes where version = 2025 and code in ('G63.2', 'L64', 'U69.00', 'E66.0') order by code");
  t.deepEqual(rows.map((r) => [r.code, r.mark, r.terminal]), [['E66.0', null, true], ['G63.2', '*', true], ['L64', null, false], ['U69.00', '!', true]]);
  t.is(rows[0].label, 'Adipositas durch übermäßige Kalorienzufuhr');
  const latin1 = await upload(admin, 'icd10gm2024syst_kodes_20230915.txt', Buffer.from(kodes(), 'latin1'));
  t.is(latin1.status, 200, latin1.text);
  const l = await ownerQuery<{ label: string }>(app.db.ownerUrl, "select label from icd_codes where version = 2024 and code = 'E66.0'");
  t.is(l[0].label, 'Adipositas durch übermäßige Kalorienzufuhr');
  t.is((await search('L64.9')).version, 2026, 'the newest year is the one searched');
  const list = await admin.get('/api/v1/icd/versions');
  t.deepEqual(list.body.versions.map((v: { version: number; format: string }) => [v.version, v.format]), [[2026, 'claml'], [2025, 'kodes'], [2024, 'kodes']]);
});

test.serial('a bad or truncated file is a 400 naming the line, and nothing of it stays (the old year is intact)', async (t) => {
  const good = claml();
  const cases: [string, string, RegExp][] = [
    ['icd10gm2026syst_claml_x.xml', good.slice(0, Math.floor(good.length * 0.7)), /line \d+: .*(truncated|unclosed)/i],
    ['icd10gm2026syst_claml_x.xml', good.replace('<Rubric id="r-L64.9" kind="preferred">', '<Rubric id="r-L64.9" kind="note">'), /line \d+: <Class code="L64.9"> \(line \d+\) has no <Rubric kind="preferred"> label/],
    ['icd10gm2026syst_claml_x.xml', good.replace('code="M54.5"', 'code="M54.5X"'), /line \d+: <Class code="M54.5X">.*is not an ICD-10-GM code/],
    ['icd10gm2026syst_claml_x.xml', good.replace('</Label></Rubric>\n    <Rubric id="i-R50.9"', '</Labl></Rubric>\n    <Rubric id="i-R50.9"'), /line \d+: the XML is malformed/],
    ['icd10gm2026syst_claml_x.xml', '<html><body>Not found</body></html>', /root element is <html>/],
    ['icd10gm2026syst_kodes_x.txt', kodes().replace('4;T;X;04;L64;L64.9', '4;Q;X;04;L64;L64.9'), /line 7: field 2 \(terminal\) must be T or N/],
    ['icd10gm2026syst_kodes_x.txt', kodes() + '5;T;X;04;M54;M54.5', /line 12: has 6 fields/],
    ['icd10gm2026syst_kodes_x.txt', kodes() + kodes().split('\r\n')[3] + '\r\n', /line 12: code G63.2 appears twice/],
    ['icd10gm2026syst_kodes_x.txt', '', /empty|no codes/],
  ];
  for (const [name, body, message] of cases) {
    const res = await upload(admin, name, body);
    t.is(res.status, 400, `${name}: ${res.text}`);
    t.is(res.body.details[0].field, 'file');
    t.is(res.body.details[0].code, 'icd_file_invalid');
    t.regex(res.body.details[0].message, message);
  }
  t.is(await codeCount(2026), CODES.length, 'the imported 2026 is untouched');
  t.deepEqual((await versions()).map((v) => v.version), [2024, 2025, 2026]);
  const unknownYear = await upload(admin, 'catalogue.txt', kodes());
  t.is(unknownYear.status, 400);
  t.regex(unknownYear.body.details[0].message, /version/);
  t.is((await upload(admin, 'catalogue.txt', kodes(), { version: 'zwanzig' })).body.details[0].field, 'body.version');
});

test.serial('only installation operators import: an organization admin without the operator role is 403', async (t) => {
  const orgAdmin = await clientAs(app, organizationId, ['admin']);
  t.is((await upload(orgAdmin, 'icd10gm2027syst_kodes_x.txt', kodes())).status, 403);
  t.is((await orgAdmin.get('/api/v1/icd/versions')).status, 403);
  t.false((await versions()).some((v) => v.version === 2027));
});

test.serial('praxiskern icd import FILE streams a file from disk; a bad file exits 64 naming the line and changes nothing', async (t) => {
  const file = path.join(dir, 'icd10gm2023syst_claml_20220916.xml');
  writeFileSync(file, claml(CODES, 2023));
  const started = Date.now();
  const ok = await cli('icd', 'import', file, '--json');
  t.log(`cli import: ${Date.now() - started} ms`);
  t.is(ok.code, 0, ok.stderr);
  t.like(JSON.parse(ok.stdout), { ok: true, version: 2023, format: 'claml', codes: CODES.length });
  const bad = path.join(dir, 'icd10gm2022syst_kodes_x.txt');
  writeFileSync(bad, kodes().replace(';L64.9;L649;', ';L64.9X;L649;'));
  const res = await cli('icd', 'import', bad, '--version', '2022');
  t.is(res.code, 64);
  t.regex(res.stderr, /line 7: field 7 is not an ICD-10-GM code/);
  t.false((await versions()).some((v) => v.version === 2022));
});
