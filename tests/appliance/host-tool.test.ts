// The host-side praxiskern (appliance/host/praxiskern-host.py) without Docker: release bundles
// signed with real ssh-keygen keys, verified, tampered with, truncated, signed by another key;
// manifest validation; version comparison and the update-path rules; the bundle builder's
// migration list and required secrets.
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync, openSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrationNames, requiredSecrets } from '../../appliance/release/build-bundle.ts';
import { MIGRATIONS } from '../../app/api/src/db/migrate.ts';
import { must, repo, run } from './helpers.ts';

const tool = path.join(repo, 'appliance/host/praxiskern-host.py');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Calls a pure function of the host tool: prints {ok, value} or {ok: false, error}. */
async function py(expr: string): Promise<{ ok: boolean; value?: unknown; error?: string }> {
  const script = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("host", ${JSON.stringify(tool)})
h = importlib.util.module_from_spec(spec); spec.loader.exec_module(h)
try:
    print(json.dumps({"ok": True, "value": ${expr}}))
except h.Refused as e:
    print(json.dumps({"ok": False, "error": str(e)}))
`;
  return JSON.parse(await must('python3', ['-c', script]));
}

async function keyPair(dir: string, name: string) {
  const key = path.join(dir, name);
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'praxiskern-release', '-f', key]);
  const signers = path.join(dir, `${name}.signers`);
  writeFileSync(signers, `praxiskern-release namespaces="praxiskern-release" ${readFileSync(`${key}.pub`, 'utf8').trim()}\n`);
  return { key, signers };
}

/** A small but complete bundle (stand-in image archives) built like build-bundle.ts does, signed with key. */
async function fakeBundle(dir: string, key: string, version: string, tweak: (files: Map<string, Buffer>, manifest: Record<string, unknown>) => void = () => {}) {
  const work = mkdtempSync(path.join(dir, 'work-'));
  const files = new Map<string, Buffer>([
    ['images/app.tar', Buffer.from(`app image ${version}`)],
    ['images/postgres.tar', Buffer.from('postgres image')],
    ['images/proxy.tar', Buffer.from('proxy image')],
    ['compose/compose.yaml', readFileSync(path.join(repo, 'compose/compose.yaml'))],
    ['compose/auto-unseal.yaml', readFileSync(path.join(repo, 'compose/auto-unseal.yaml'))],
    ['compose/.env.example', readFileSync(path.join(repo, 'compose/.env.example'))],
    ['RELEASE-NOTES.md', Buffer.from(`# ${version}\n`)],
  ]);
  const manifest: Record<string, unknown> = {
    format: 'praxiskern-release/1', product: 'praxiskern', version, minimumFrom: null, createdAt: new Date().toISOString(),
    migrations: migrationNames(repo),
    images: ['app', 'postgres', 'proxy'].map((name) => ({ name, file: `images/${name}.tar`, sha256: sha(files.get(`images/${name}.tar`)!), imageId: `sha256:${sha(name)}` })),
    files: [...files.keys()].filter((f) => !f.startsWith('images/')).map((f) => ({ path: f, sha256: sha(files.get(f)!) })),
    requiredSecrets: requiredSecrets(readFileSync(path.join(repo, 'compose/compose.yaml'), 'utf8')),
    releaseNotes: `# ${version}\n`,
  };
  tweak(files, manifest);
  for (const [f, data] of files) {
    mkdirSync(path.dirname(path.join(work, f)), { recursive: true });
    writeFileSync(path.join(work, f), data);
  }
  writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest));
  const bundle = path.join(dir, `praxiskern-${version}.tar`);
  rmSync(bundle, { force: true });
  rmSync(`${bundle}.sig`, { force: true });
  await must('tar', ['--create', '--file', bundle, '--directory', work, 'manifest.json', ...new Set([...files.keys()].map((f) => f.split('/')[0]))]);
  await must('ssh-keygen', ['-q', '-Y', 'sign', '-f', key, '-n', 'praxiskern-release', bundle]);
  return bundle;
}

const verify = (bundle: string, signers: string) => run('python3', [tool, 'verify', bundle, '--signers', signers]);

test('a signed bundle verifies; tampered, truncated, foreign-signed or wrongly-namespaced bundles are refused with one line', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'praxiskern-host-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const release = await keyPair(dir, 'release');
  const other = await keyPair(dir, 'other');
  const bundle = await fakeBundle(dir, release.key, '1.2.0');

  const ok = await verify(bundle, release.signers);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /release 1\.2\.0, signature and 7 files verified/);

  const oneLine = (r: { code: number; stderr: string }, re: RegExp) => {
    t.not(r.code, 0);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.regex(r.stderr, re);
  };
  // Signed by a key that is not pinned.
  oneLine(await verify(bundle, other.signers), /signature does not verify against the pinned release key/);
  // One byte changed after signing.
  const tampered = path.join(dir, 'praxiskern-1.2.1.tar');
  writeFileSync(tampered, readFileSync(bundle));
  writeFileSync(`${tampered}.sig`, readFileSync(`${bundle}.sig`));
  const fd = openSync(tampered, 'r+');
  writeSync(fd, Buffer.from('X'), 0, 1, 1000);
  closeSync(fd);
  oneLine(await verify(tampered, release.signers), /signature does not verify/);
  // Truncated (an interrupted copy).
  writeFileSync(tampered, readFileSync(bundle));
  truncateSync(tampered, Math.floor(statSync(bundle).size / 2));
  oneLine(await verify(tampered, release.signers), /signature does not verify/);
  // No signature next to it.
  rmSync(`${tampered}.sig`);
  oneLine(await verify(tampered, release.signers), /no signature .*\.sig next to the bundle/);
  // A signature by the right key, but for another purpose (namespace).
  writeFileSync(tampered, readFileSync(bundle));
  await must('ssh-keygen', ['-q', '-Y', 'sign', '-f', release.key, '-n', 'file', tampered]);
  oneLine(await verify(tampered, release.signers), /signature does not verify/);
});

test('a correctly signed bundle whose files do not match its manifest is refused', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'praxiskern-host-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const release = await keyPair(dir, 'release');
  const swapped = await fakeBundle(dir, release.key, '1.3.0', (files) => files.set('images/app.tar', Buffer.from('another app image')));
  const r1 = await verify(swapped, release.signers);
  t.not(r1.code, 0);
  t.regex(r1.stderr, /bundle file images\/app\.tar does not match its sha256 in the signed manifest/);
  const extra = await fakeBundle(dir, release.key, '1.4.0', (files) => files.set('compose/evil.yaml', Buffer.from('x')));
  t.regex((await verify(extra, release.signers)).stderr, /bundle files do not match its manifest \(extra: \['compose\/evil\.yaml'\]/);
  const badManifest = await fakeBundle(dir, release.key, '1.5.0', (_f, m) => { m.migrations = ['20261201_0200_b', '20261201_0100_a']; });
  t.regex((await verify(badManifest, release.signers)).stderr, /bundle manifest: migrations must be in order/);
  const noImage = await fakeBundle(dir, release.key, '1.6.0', (_f, m) => { (m.images as unknown[]).pop(); });
  t.regex((await verify(noImage, release.signers)).stderr, /bundle manifest: images must list app, postgres, proxy/);
});

test('versions compare as releases; older, equal and too-old installations are refused', async (t) => {
  t.deepEqual((await py('[h.compare_versions("1.10.0", "1.9.9"), h.compare_versions("1.0.0-rc.2", "1.0.0"), h.compare_versions("1.0.0-rc.10", "1.0.0-rc.9"), h.compare_versions("2.0.0", "2.0.0")]')).value, [1, -1, 1, 0]);
  t.regex((await py('h.parse_version("latest")')).error!, /"latest" is not a release version/);
  const m = (v: string, from: string | null) => `{"version": "${v}", "minimumFrom": ${from ? `"${from}"` : 'None'}}`;
  t.true((await py(`h.check_upgrade_path("1.0.0", ${m('1.1.0', null)})`)).ok);
  t.true((await py(`h.check_upgrade_path(None, ${m('1.1.0', null)})`)).ok);
  t.regex((await py(`h.check_upgrade_path("1.1.0", ${m('1.0.0', null)})`)).error!, /release 1\.0\.0 is older than the installed 1\.1\.0; use `praxiskern rollback`/);
  t.regex((await py(`h.check_upgrade_path("1.1.0", ${m('1.1.0', null)})`)).error!, /release 1\.1\.0 is already installed/);
  t.regex((await py(`h.check_upgrade_path("1.0.0", ${m('2.0.0', '1.5.0')})`)).error!, /updates only from 1\.5\.0 or newer; the installed 1\.0\.0 must be updated to 1\.5\.0 first/);
  t.deepEqual((await py('h.pending_migrations({"migrations": ["a", "b", "c"]}, ["a"])')).value, ['b', 'c']);
  t.is((await py('h.set_env_version("A=1\\nPRAXISKERN_VERSION=1.0.0\\nB=2\\n", "1.1.0")')).value, 'A=1\nPRAXISKERN_VERSION=1.1.0\nB=2\n');
});

test('the bundle builder lists the migrations in the order they run and the secrets compose reads', (t) => {
  t.deepEqual(migrationNames(repo), Object.keys(MIGRATIONS).sort());
  t.deepEqual(requiredSecrets(readFileSync(path.join(repo, 'compose/compose.yaml'), 'utf8')), ['app_key', 'db_app_password', 'db_owner_password', 'db_superuser_password', 'oidc_client_secret']);
});

test('the host tool refuses to run on a server the playbook did not install, in one line', async (t) => {
  const r = await run('python3', [tool, 'update', '/nonexistent/praxiskern-1.0.0.tar'], { env: { ...process.env, PRAXISKERN_HOST_CONFIG: '/nonexistent/host.json' } });
  t.is(r.code, 1);
  t.regex(r.stderr, /^praxiskern: \/nonexistent\/host\.json is missing: this server was not installed by the Praxiskern playbook\n$/);
});
