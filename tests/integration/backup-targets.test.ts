// Issue 12 item 7: backup targets configured in the admin UI next to PRAXISKERN_BACKUP_TARGETS.
// A real OpenSSH server on loopback: an operator adds an SFTP target (host key pinned, private key
// stored sealed and never answered), tests it (write + read + delete a probe file), a wrong host
// key is a clear failure, a backup runs to it; environment targets stay read-only; every change is
// audited in the installation chain and reflected in the register of external services; bad
// input is a 4xx naming the field.
import anyTest, { type TestFn } from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { generateKeyPair, startSshd, type Sshd } from '../helpers/sshd.ts';
import { closeOwner, ownerDb } from './auth-fixtures.ts';
import { backupEnv, seedPatients } from './backup-fixtures.ts';

interface Ctx { app: TestApp; admin: Client; sshd: Sshd; work: string; otherFingerprint: string }
const test = anyTest as TestFn<Ctx>;
const api = '/api/v1/backup/targets';

test.before(async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'pk-targets-'));
  mkdirSync(path.join(work, 'nas'));
  const sshd = await startSshd();
  const other = await generateKeyPair(work, 'other');
  // The environment defines one local target; the UI adds the SFTP one.
  Object.assign(process.env, backupEnv([`nas=local:${path.join(work, 'nas')}`]));
  const app = await startTestApp();
  const { client } = await setupInstance(app);
  await seedPatients(client, 1, 1);
  t.context = { app, admin: client, sshd, work, otherFingerprint: other.fingerprint };
});

test.after.always(async (t) => {
  const { app, sshd, work } = t.context ?? ({} as Ctx);
  if (app) {
    await closeOwner(app);
    await app.stop();
    await app.db.drop();
  }
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  delete process.env.PRAXISKERN_BACKUP_TARGETS;
});

const sftpBody = (c: Ctx, extra: Record<string, unknown> = {}) => ({
  name: 'storagebox', type: 'sftp', host: c.sshd.host, port: c.sshd.port, username: c.sshd.username, root: 'praxiskern',
  hostKeyFingerprint: c.sshd.hostKeyFingerprint, privateKey: c.sshd.clientKey.privateKey, provider: 'Hetzner Online GmbH (Storage Box)', location: 'DE', ...extra,
});

const installationActions = async (app: TestApp, prefix: string) =>
  (await ownerDb(app)('audit_log').whereNull('organization_id').where('action', 'like', `${prefix}%`).orderBy('id')).map((r: { action: string; object_id: string; outcome: string }) => `${r.action} ${r.object_id} ${r.outcome}`);

test.serial('bad input: 4xx naming the field (NUL bytes, host, port, fingerprint, key, paths, name, null body), nothing stored', async (t) => {
  const { admin, app } = t.context;
  const cases: [Record<string, unknown>, string][] = [
    [sftpBody(t.context, { host: 'box\u0000evil' }), 'body.host'],
    [sftpBody(t.context, { host: 'not a host' }), 'body.host'],
    [sftpBody(t.context, { host: '-leading.example' }), 'body.host'],
    [sftpBody(t.context, { port: 70000 }), 'body.port'],
    [sftpBody(t.context, { port: '22' }), 'body.port'],
    [sftpBody(t.context, { hostKeyFingerprint: 'MD5:aa:bb' }), 'body.hostKeyFingerprint'],
    [sftpBody(t.context, { privateKey: 'not a key' }), 'body.privateKey'],
    [sftpBody(t.context, { privateKey: undefined }), 'body.privateKey'],
    [sftpBody(t.context, { root: '../../etc' }), 'body.root'],
    [sftpBody(t.context, { name: 'Storage Box' }), 'body.name'],
    [sftpBody(t.context, { location: 'Germany' }), 'body.location'],
    [sftpBody(t.context, { username: 'u1\u0000' }), 'body.username'],
    [{ name: 'disk', type: 'local', path: 'relative/dir' }, 'body.path'],
    [{ name: 'disk', type: 'local', path: '/srv/../etc' }, 'body.path'],
    [{ name: 'disk', type: 'local', path: '/srv/\u0000' }, 'body.path'],
    [{ name: 'disk', type: 'local' }, 'body.path'],
    [{ name: 'disk', type: 'ftp', path: '/srv' }, 'body.type'],
  ];
  for (const [body, field] of cases) {
    const res = await admin.post(api, body);
    t.true(res.status >= 400 && res.status < 500, `${field}: ${res.status} ${res.text}`);
    t.true(JSON.stringify(res.body).includes(field), `${JSON.stringify(body).slice(0, 80)} → names ${field}: ${res.text}`);
  }
  const nullBody = await admin.request('POST', api, 'null', { 'content-type': 'application/json' });
  t.is(nullBody.status, 400, nullBody.text);
  t.is((await admin.post(`${api}/Bad%20Name/test`)).status, 400);
  t.is((await admin.put(`${api}/nothere`, { type: 'local', path: '/srv' })).status, 404);
  t.is(Number((await ownerDb(app)('backup_targets').count({ n: '*' }))[0].n), 0);
});

test.serial('add an SFTP target: the key is stored sealed and never answered; test connection writes, reads and deletes a probe', async (t) => {
  const { admin, app, sshd } = t.context;
  const res = await admin.post(api, sftpBody(t.context));
  t.is(res.status, 201, res.text);
  t.like(res.body.target, { name: 'storagebox', type: 'sftp', source: 'ui', secretStored: true, hostKeyFingerprint: sshd.hostKeyFingerprint });
  t.false(res.text.includes('PRIVATE KEY'));
  const list = await admin.get(api);
  t.deepEqual(list.body.targets.map((x: { name: string; source: string }) => `${x.name}:${x.source}`), ['nas:configuration', 'storagebox:ui']);
  t.false(list.text.includes('PRIVATE KEY'), 'the private key is never shown again');
  const row = await ownerDb(app)('backup_targets').where({ name: 'storagebox' }).first();
  t.false(row.secret.toString('latin1').includes('PRIVATE KEY'), 'stored sealed, not in plain text');
  t.false(row.secret.toString('latin1').includes(sshd.clientKey.privateKey.split('\n')[1]));
  t.is((await admin.post(api, sftpBody(t.context))).status, 409, 'names are unique');
  t.is((await admin.post(api, sftpBody(t.context, { name: 'nas' }))).status, 409, 'not the name of a configured target');

  mkdirSync(path.join(sshd.root, 'praxiskern'));
  const tested = await admin.post(`${api}/storagebox/test`);
  t.is(tested.status, 200, tested.text);
  t.like(tested.body, { ok: true, steps: ['write', 'read', 'delete'] });
  t.log(`test connection: ${tested.body.durationMs} ms`);
  t.deepEqual(readdirSync(path.join(sshd.root, 'praxiskern')), [], 'the probe file is gone');
});

test.serial('a wrong pinned host key: the test fails with target_host_key_mismatch, naming both fingerprints', async (t) => {
  const { admin, otherFingerprint, sshd } = t.context;
  t.is((await admin.post(api, sftpBody(t.context, { name: 'wrongkey', hostKeyFingerprint: otherFingerprint }))).status, 201);
  const tested = await admin.post(`${api}/wrongkey/test`);
  t.is(tested.status, 200);
  t.like(tested.body, { ok: false, code: 'target_host_key_mismatch', steps: [] });
  t.true(tested.body.message.includes(sshd.hostKeyFingerprint) && tested.body.message.includes(otherFingerprint), tested.body.message);
  // Edit: pin the right key (the stored private key is kept), then it works.
  const edited = await admin.put(`${api}/wrongkey`, { type: 'sftp', host: sshd.host, port: sshd.port, username: sshd.username, root: 'praxiskern', hostKeyFingerprint: sshd.hostKeyFingerprint });
  t.is(edited.status, 200, edited.text);
  t.like((await admin.post(`${api}/wrongkey/test`)).body, { ok: true });
  t.is((await admin.delete(`${api}/wrongkey`)).status, 204);
  t.is((await admin.post(`${api}/wrongkey/test`)).status, 404);
});

test.serial('targets from the environment are read-only here', async (t) => {
  const { admin } = t.context;
  const put = await admin.put(`${api}/nas`, { type: 'local', path: '/tmp' });
  t.is(put.status, 409);
  t.is(put.body.error, 'target_from_configuration');
  t.is((await admin.delete(`${api}/nas`)).status, 409);
  const tested = await admin.post(`${api}/nas/test`);
  t.like(tested.body, { ok: true }, 'but they can be tested');
});

test.serial('a backup requested through the API runs to the UI-configured target too', async (t) => {
  const { admin, sshd } = t.context;
  const started = await admin.post('/api/v1/backup/runs');
  t.is(started.status, 202, started.text);
  const deadline = Date.now() + 90_000;
  let job: { status: string; error: string | null; details: { targets: Record<string, { ok: boolean }> } } | undefined;
  while (Date.now() < deadline) {
    job = (await admin.get('/api/v1/backup/jobs?kind=backup&limit=5')).body.jobs.find((j: { id: string }) => j.id === started.body.jobId);
    if (job && job.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.is(job?.status, 'succeeded', String(job?.error));
  t.like(job!.details.targets, { nas: { ok: true }, storagebox: { ok: true } });
  t.true(readdirSync(path.join(sshd.root, 'praxiskern')).length > 0, 'the snapshot is on the SFTP server');
  const status = (await admin.get('/api/v1/backup/status')).body;
  t.deepEqual(status.targets.map((x: { name: string }) => x.name), ['nas', 'storagebox']);
});

test.serial('changes are audited in the installation chain and reflected in the register; removing a target switches its entry off', async (t) => {
  const { admin, app } = t.context;
  const reg = async () => (await admin.get('/api/v1/services-register')).body.entries as { key: string; enabled: boolean; since: string | null; recipient: string; safeguardCodes: string[]; dataCategoryCodes: string[] }[];
  const box = (await reg()).find((e) => e.key === 'backup:storagebox')!;
  t.like(box, { enabled: true, recipient: 'Hetzner Online GmbH (Storage Box)', dataCategoryCodes: ['all_data_encrypted'] });
  t.true(box.safeguardCodes.includes('age_encryption'));
  t.truthy(box.since);
  t.like((await reg()).find((e) => e.key === 'backup:nas'), { enabled: true });
  t.is((await admin.delete(`${api}/storagebox`)).status, 204);
  const gone = (await reg()).find((e) => e.key === 'backup:storagebox')!;
  t.like(gone, { enabled: false });
  t.true(Date.parse(gone.since!) >= Date.parse(box.since!));
  t.deepEqual(await installationActions(app, 'backup.target_'), [
    'backup.target_added storagebox success',
    'backup.target_tested storagebox success',
    'backup.target_added wrongkey success',
    'backup.target_tested wrongkey failure',
    'backup.target_changed wrongkey success',
    'backup.target_tested wrongkey success',
    'backup.target_removed wrongkey success',
    'backup.target_tested nas success',
    'backup.target_removed storagebox success',
  ]);
  const register = await installationActions(app, 'backup.external_service');
  t.true(register.includes('backup.external_service.enabled backup:storagebox success'));
  t.true(register.includes('backup.external_service.disabled backup:storagebox success'));
  t.true(register.includes('backup.external_service.disabled backup:wrongkey success'));
  // An organization admin who is not an operator may not change targets.
  const details = (await ownerDb(app)('audit_log').where({ action: 'backup.target_added', object_id: 'storagebox' }).first()).details;
  t.false(JSON.stringify(details).includes('PRIVATE KEY'), 'no secret in the audit entry');
});
