// End to end: signed updates with automatic rollback on a fresh Debian 13 server (the same
// containerised server as install.test.ts). Three releases are built as signed bundles: v1 from
// this checkout, v2 from a patched copy (a migration that adds a column and fills it from existing
// data), v3 from a copy of v2 with another migration and a /readyz that never reports the database
// ok, so its health gate fails after migrating. The playbook installs v1 (patients, documents,
// audit entries), `praxiskern update --check` shows and changes nothing, the playbook updates to
// v2 (data, blobs and the audit chain intact), the host CLI's update to v3 rolls back to v2 by
// itself with identical data, bad bundles are refused before anything changes, and an update
// killed (kill -9) after the snapshot, during the migration and during the health gate is brought
// back to one consistent release by the next `praxiskern rollback`, with nothing lost.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { base32Decode, currentStep, totpCode } from '../../app/api/src/modules/auth/totp.ts';
import {
  cookies, httpsRequest, makeCredentials, must, playbook, releaseBundle, releaseKey, repo, startServer, waitFor,
  type HttpResponse, type Server,
} from './helpers.ts';
import { monitoringVars, proveMonitoring, startMonitoringTest } from './monitoring-checks.ts';

const domain = 'praxis.test';
const V1 = '1.0.0';
const V2 = '1.1.0';
const V3 = '1.2.0';
// The test releases' own migrations sort after every real one (as a real release's new migrations do):
// the health gate expects the last applied migration to be the newest known.
const V2_MIGRATION = '29991231_0001_e2e_organization_label';
const V3_MIGRATION = '29991231_0002_e2e_broken_release';

/** A copy of this checkout (sources only) with files replaced or added. */
async function patchedCopy(from: string, edit: (dir: string) => void): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'praxiskern-release-src-'));
  await must('sh', ['-c', `tar -C "${from}" --exclude=./node_modules --exclude='*/node_modules' --exclude=./.git --exclude=./data --exclude=./dist \
    --exclude=.svelte-kit --exclude=./app/web/build -cf - . | tar -C "${dir}" -xf -`]);
  edit(dir);
  return dir;
}

function addMigration(dir: string, name: string, up: string, down: string) {
  writeFileSync(path.join(dir, `app/api/src/db/migrations/${name}.ts`), `// End-to-end test release only.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(${JSON.stringify(up)});
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(${JSON.stringify(down)});
}
`);
  const file = path.join(dir, 'app/api/src/db/migrate.ts');
  const ident = `e2e_${name.slice(-12).replace(/[^a-z0-9_]/g, '_')}`;
  let text = readFileSync(file, 'utf8');
  text = text.replace(/(\nexport interface MigrationModule)/, `\nimport * as ${ident} from './migrations/${name}.ts';\n$1`);
  text = text.replace(/(export const MIGRATIONS[^{]*\{[\s\S]*?)\n\};/, `$1\n  '${name}': ${ident},\n};`);
  writeFileSync(file, text);
}

let lastTotpStep = 0;
async function login(port: number, ca: string, password: string, totpSecret: string): Promise<{ cookie: string; csrf: string }> {
  const first = await httpsRequest({ port, host: domain, ca, path: '/api/v1/session' });
  const csrf = cookies(first).pk_csrf;
  const step = await waitFor('a fresh TOTP step', 40_000, async () => (currentStep() > lastTotpStep ? currentStep() : undefined), 500);
  lastTotpStep = step;
  const res = await httpsRequest({
    port, host: domain, ca, method: 'POST', path: '/api/v1/auth/local/login', headers: { 'x-csrf-token': csrf, cookie: `pk_csrf=${csrf}` },
    body: JSON.stringify({ username: 'admin', password, totp: totpCode(base32Decode(totpSecret)!, step) }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.body}`);
  const set = cookies(res);
  return { cookie: `pk_session=${set.pk_session}; pk_csrf=${set.pk_csrf ?? csrf}`, csrf: set.pk_csrf ?? csrf };
}

function upload(server: Server, ca: string, session: { cookie: string; csrf: string }, patientId: string, name: string, data: Buffer): Promise<HttpResponse> {
  const boundary = `----praxiskern${Date.now()}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\ndocument\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/pdf\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return httpsRequest({
    port: server.httpsPort, host: domain, ca, method: 'POST', path: `/api/v1/patients/${patientId}/documents`,
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: body.toString('latin1'),
  });
}

// Tables an update legitimately writes to (sessions, checks, backups, migrations, the update
// history); audit_log is compared up to the newest entry of the baseline.
const VOLATILE = new Set(['sessions', 'rate_limits', 'installation_checks', 'backup_jobs', 'backup_snapshots', 'backup_blobs', 'backup_requests',
  'knex_migrations', 'knex_migrations_lock', 'update_history', 'audit_log', 'external_service_events']);
// Append-only logs: their rows up to the baseline's newest id must stay exactly as they were; rows a
// start of the new version appends (audit entries; the register recording the services it sees at
// start-up, e.g. one a new version brings) are not a change of existing data.
const APPEND_ONLY = ['audit_log', 'external_service_events'];

interface Baseline {
  columns: Map<string, string>;
  maxIds: Record<string, number>;
  hashes: Record<string, string>;
  blobs: string;
}

test.serial('signed updates: v1 → v2 through the playbook, the broken v3 rolls back by itself, bad bundles are refused, and kill -9 at three points is recovered', async (t) => {
  t.timeout(60 * 60_000);
  const started = Date.now();
  const key = await releaseKey();
  const out = path.join(key.dir, 'dist');
  const sources: string[] = [];
  t.teardown(() => {
    rmSync(key.dir, { recursive: true, force: true });
    for (const d of sources) rmSync(d, { recursive: true, force: true });
  });

  // Releases.
  const v1 = await releaseBundle({ version: V1, key, out, notes: `# Praxiskern ${V1}\n\nFirst release.\n` });
  const v2src = await patchedCopy(repo, (dir) => addMigration(dir, V2_MIGRATION,
    "alter table organizations add column e2e_label text; update organizations set e2e_label = 'org:' || slug",
    'alter table organizations drop column e2e_label'));
  sources.push(v2src);
  const v2 = await releaseBundle({ version: V2, key, out, repoDir: v2src, updatesFrom: V1, notes: `# Praxiskern ${V2}\n\nOrganizations get a label.\n` });
  const v3src = await patchedCopy(v2src, (dir) => {
    addMigration(dir, V3_MIGRATION, 'alter table organizations add column e2e_broken boolean not null default true', 'alter table organizations drop column e2e_broken');
    const health = path.join(dir, 'app/api/src/modules/health/health.routes.ts');
    const text = readFileSync(health, 'utf8');
    const broken = text.replace("ctx.body = { status: 'ok', database: 'ok',", "ctx.status = 503;\n      ctx.body = { status: 'broken', database: 'broken',");
    if (broken === text) throw new Error('could not break /readyz for v3');
    writeFileSync(health, broken);
  });
  sources.push(v3src);
  const v3 = await releaseBundle({ version: V3, key, out, repoDir: v3src, updatesFrom: V1, notes: `# Praxiskern ${V3}\n\nBroken on purpose.\n` });
  for (const r of [v1, v2, v3]) t.log(`bundle ${r.version}: ${Math.round(r.bytes / 2 ** 20)} MiB, images ${r.imageSeconds}s, bundle (save, hash, tar, sign) ${r.bundleSeconds}s`);

  // A fresh server with v1 from the playbook: auto-unseal (the health gate waits for it) and a
  // local backup target for the pre-update snapshot.
  const creds = await makeCredentials(domain);
  const server = await startServer('trixie', creds.publicKey);
  t.teardown(async () => {
    await server.remove();
    rmSync(creds.dir, { recursive: true, force: true });
  });
  // Monitoring on this server (role praxiskern_monitoring): Debian-package images, test receivers.
  const monitoring = await startMonitoringTest(server);
  t.teardown(() => monitoring.close());
  const clinic = [`${server.hostSideIp}/32`];
  const kitDir = path.join(creds.dir, 'recovery-kit');
  const vars = {
    praxiskern_firewall_admin_networks: clinic,
    praxiskern_firewall_clinic_networks: clinic,
    praxiskern_base_fail2ban_ignore_networks: clinic,
    praxiskern_docker_source: 'debian',
    praxiskern_appliance_domain: domain,
    praxiskern_appliance_clinic_networks: clinic,
    praxiskern_appliance_bundle: v1.bundle,
    praxiskern_appliance_release_public_key: key.publicKey,
    praxiskern_appliance_tls_mode: 'provided',
    praxiskern_appliance_tls_certificate_file: creds.certFile,
    praxiskern_appliance_tls_key_file: creds.keyFile,
    praxiskern_appliance_org_name: 'Praxis Dr. Update',
    praxiskern_appliance_org_slug: 'praxis-update',
    praxiskern_appliance_recovery_kit_controller_dir: kitDir,
    praxiskern_appliance_auto_unseal: true,
    praxiskern_appliance_backup_targets: [{ name: 'local', type: 'local' }],
    ...monitoringVars(monitoring),
  };
  const install = await playbook(server, creds.privateKey, vars, creds.dir);
  t.is(install.code, 0, `install failed:\n${install.stdout.slice(-6000)}\n${install.stderr.slice(-2000)}`);
  t.log(`install of ${V1} by the playbook: ${install.seconds}s`);

  const compose = (await server.exec('grep -o "^ExecStart=.* up" /etc/systemd/system/praxiskern.service | sed "s/^ExecStart=//; s/ up$//"')).stdout.trim();
  const inCompose = (cmd: string, input?: string) => server.exec(`cd /opt/praxiskern/compose && ${compose} ${cmd}`, input);
  const psql = async (sql: string) => {
    const r = await inCompose('exec -T --user postgres postgres psql -d praxiskern -v ON_ERROR_STOP=1 -tA -F "|" -f -', sql);
    if (r.code !== 0) throw new Error(`psql failed: ${r.stderr}`);
    return r.stdout.trim();
  };
  const auditVerify = async () => {
    const r = await inCompose('exec -T worker praxiskern audit verify --json');
    return { ok: r.code === 0, out: r.stdout + r.stderr };
  };
  const readyz = async () => {
    const r = await httpsRequest({ port: server.httpsPort, host: domain, ca: creds.caCert, path: '/readyz' });
    return r.status === 200 ? JSON.parse(r.body) : undefined;
  };
  /** The release every part of the server agrees on (throws when they disagree). */
  const consistentVersion = async () => {
    const host = JSON.parse((await server.exec('praxiskern version --json')).stdout);
    const env = (await server.exec('sed -n "s/^PRAXISKERN_VERSION=//p" /opt/praxiskern/compose/.env')).stdout.trim();
    const images = (await server.exec('docker ps --filter label=com.docker.compose.project=praxiskern --format "{{.Label \\"com.docker.compose.service\\"}}={{.Image}}"')).stdout.trim().split('\n').sort();
    const served = await waitFor('the release to answer /readyz over HTTPS', 300_000, async () => {
      const r = await readyz();
      return r && r.database === 'ok' && r.sealed === false ? r : undefined;
    }, 2000);
    const journal = (await server.exec('test -e /opt/praxiskern/state/update-journal.json && echo present || echo none')).stdout.trim();
    const versions = new Set([host.version, env, served.version, ...images.filter((l) => /^(app|worker|postgres|proxy)=/.test(l)).map((l) => l.split(':').pop())]);
    if (versions.size !== 1 || journal !== 'none' || images.filter((l) => /^(app|worker|postgres|proxy)=/.test(l)).length !== 4) {
      throw new Error(`inconsistent server: host ${host.version}, .env ${env}, /readyz ${served.version}, containers ${images.join(' ')}, journal ${journal}`);
    }
    return host.version as string;
  };
  const capture = async (columns?: Map<string, string>, baselineMaxIds?: Record<string, number>): Promise<Baseline> => {
    const cols = columns ?? new Map((await psql(`select table_name, string_agg(quote_ident(column_name), ',' order by ordinal_position)
      from information_schema.columns where table_schema = 'public' and table_name in
      (select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE')
      group by table_name order by table_name`)).split('\n').map((l) => l.split('|') as [string, string]));
    const maxIds: Record<string, number> = {};
    for (const name of APPEND_ONLY) {
      if (cols.has(name)) maxIds[name] = baselineMaxIds?.[name] ?? Number(await psql(`select coalesce(max(id), 0) from "${name}"`));
    }
    const parts = [...cols].filter(([name]) => !VOLATILE.has(name) || name in maxIds).map(([name, c]) =>
      `select '${name}', md5(coalesce(string_agg(x, E'\\n' order by x), '')) || ':' || count(*) from (select row(${c})::text x from "${name}"${name in maxIds ? ` where id <= ${maxIds[name]}` : ''}) s`);
    const hashes = Object.fromEntries((await psql(parts.join('\nunion all\n') + ';')).split('\n').map((l) => l.split('|')));
    const blobs = (await server.exec('cd /var/lib/docker/volumes/praxiskern_appdata/_data/blobs && find . -type f | sort | xargs -r sha256sum')).stdout;
    return { columns: cols, maxIds, hashes, blobs };
  };
  const sameData = (now: Baseline, before: Baseline, what: string) => {
    const differing = Object.keys(before.hashes).filter((k) => now.hashes[k] !== before.hashes[k]);
    t.deepEqual(differing, [], `${what}: tables whose content changed: ${differing.map((k) => `${k} ${before.hashes[k]} -> ${now.hashes[k]}`).join(', ')}`);
    t.is(now.blobs, before.blobs, `${what}: the blobs changed`);
  };
  const history = async () => psql("select from_version || '>' || to_version || ':' || outcome || ':' || kind from update_history order by started_at").catch((e) => `unavailable: ${e}`);

  t.is(await consistentVersion(), V1);

  // Clinic data on v1: demo patients (CLI), documents over HTTPS (blobs), audit entries.
  const kit = JSON.parse(readFileSync(path.join(kitDir, 'init.json'), 'utf8'));
  const adminPassword = readFileSync(path.join(kitDir, 'admin-password'), 'utf8').trim();
  const passphrase = readFileSync(path.join(kitDir, 'passphrase'), 'utf8');
  const demo = await inCompose('exec -T worker praxiskern demo-data --patients 12 --passphrase-file /dev/stdin --json', passphrase);
  t.is(demo.code, 0, demo.stdout + demo.stderr);
  const session = await login(server.httpsPort, creds.caCert, adminPassword, kit.totpSecret);
  // Some demo patients were last treated more than ten years ago: the worker anonymizes them every night at 03:15
  // (the practice's clock). Run that pass now, as the admin can, so the baseline is what the nightly job leaves as it
  // is — otherwise a run crossing 03:15 sees patients, record entries, search index and keys change, by the job and
  // not by the update.
  const retentionRun = await httpsRequest({
    port: server.httpsPort, host: domain, ca: creds.caCert, method: 'POST', path: '/api/v1/retention/run',
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, 'content-type': 'application/json' }, body: JSON.stringify({ dryRun: false }),
  });
  t.is(retentionRun.status, 200, retentionRun.body);
  const leftover = await httpsRequest({ port: server.httpsPort, host: domain, ca: creds.caCert, path: '/api/v1/retention/candidates', headers: { cookie: session.cookie } });
  t.is(leftover.status, 200, leftover.body);
  t.deepEqual(JSON.parse(leftover.body).candidates, [], 'nothing is left for the nightly retention pass');
  const list = await httpsRequest({ port: server.httpsPort, host: domain, ca: creds.caCert, path: '/api/v1/patients?limit=3', headers: { cookie: session.cookie } });
  t.is(list.status, 200, list.body);
  const patients = JSON.parse(list.body).items as Array<{ id: string }>;
  t.is(patients.length, 3);
  for (const [i, p] of patients.entries()) {
    const pdf = Buffer.from(`%PDF-1.4\n% Befund ${i} ${'x'.repeat(2000 * (i + 1))}\n%%EOF\n`, 'latin1');
    const up = await upload(server, creds.caCert, session, p.id, `befund-${i}.pdf`, pdf);
    t.is(up.status, 201, up.body);
  }
  await waitFor('audit verify OK on v1', 120_000, async () => ((await auditVerify()).ok ? true : undefined), 2000);
  const onV1 = await capture();
  t.true(Number(onV1.hashes.patients.split(':')[1]) >= 12);
  t.true(onV1.blobs.split('\n').filter(Boolean).length >= 3, onV1.blobs);

  // --check: what would change, and nothing changes.
  for (const r of [v2, v3]) await must('docker', ['cp', r.bundle, `${server.name}:/root/`]).then(() => must('docker', ['cp', `${r.bundle}.sig`, `${server.name}:/root/`]));
  const check = await server.exec(`praxiskern update /root/praxiskern-${V2}.tar --check`);
  t.is(check.code, 0, check.stdout + check.stderr);
  t.regex(check.stdout, new RegExp(`update ${V1} -> ${V2}`));
  t.regex(check.stdout, /Organizations get a label/);
  t.regex(check.stdout, new RegExp(`Migrations that would run: ${V2_MIGRATION}\\n`));
  t.regex(check.stdout, /Nothing was changed/);
  t.is(await consistentVersion(), V1);
  sameData(await capture(onV1.columns, onV1.maxIds), onV1, '--check');

  // v1 → v2 through the playbook (the same `praxiskern update`).
  const upd = await playbook(server, creds.privateKey, { ...vars, praxiskern_appliance_bundle: v2.bundle }, creds.dir);
  t.is(upd.code, 0, `update by the playbook failed:\n${upd.stdout.slice(-6000)}\n${upd.stderr.slice(-2000)}`);
  const updated = /updated 1\.0\.0 -> 1\.1\.0 in (\d+) s \(([^)]*)\)/.exec(upd.stdout);
  t.truthy(updated, upd.stdout.slice(-4000));
  t.log(`update ${V1} -> ${V2}: ${updated?.[1]}s inside praxiskern update (${updated?.[2]}); playbook run ${upd.seconds}s`);
  t.is(await consistentVersion(), V2);
  sameData(await capture(onV1.columns, onV1.maxIds), onV1, `after the update to ${V2}`);
  t.is(await psql("select count(*) from organizations where e2e_label is distinct from 'org:' || slug"), '0', 'the v2 migration converted every organization');
  t.is(await psql(`select count(*) from knex_migrations where name = '${V2_MIGRATION}'`), '1');
  const audit2 = await auditVerify();
  t.true(audit2.ok, audit2.out);
  t.regex(await history(), new RegExp(`${V1.replace(/\./g, '\\.')}>${V2.replace(/\./g, '\\.')}:succeeded:update`));
  const again = await playbook(server, creds.privateKey, { ...vars, praxiskern_appliance_bundle: v2.bundle }, creds.dir);
  t.deepEqual(again.recap && { changed: again.recap.changed, failed: again.recap.failed }, { changed: 0, failed: 0 }, again.stdout.slice(-6000));

  // v2 → v3 with the host CLI: the gate fails after the migration, the server rolls back by itself.
  const onV2 = await capture();
  const broken = await server.exec(`praxiskern update /root/praxiskern-${V3}.tar --gate-timeout 60`);
  t.is(broken.code, 1, broken.stdout + broken.stderr);
  t.is(broken.stderr.trim().split('\n').length, 1, broken.stderr);
  const rolled = /failed and was rolled back to 1\.1\.0 in (\d+) s: health gate failed/.exec(broken.stderr);
  t.truthy(rolled, broken.stderr);
  t.log(`automatic rollback ${V3} -> ${V2}: ${rolled?.[1]}s (after a 60 s gate timeout)`);
  t.is(await consistentVersion(), V2);
  sameData(await capture(onV2.columns, onV2.maxIds), onV2, `after the automatic rollback from ${V3}`);
  t.is(await psql(`select count(*) from knex_migrations where name = '${V3_MIGRATION}'`), '0');
  const audit3 = await auditVerify();
  t.true(audit3.ok, audit3.out);
  t.regex(await history(), new RegExp(`${V2.replace(/\./g, '\\.')}>${V3.replace(/\./g, '\\.')}:rolled_back:update`));

  // Bad input: refused with one line before anything changes.
  const fingerprint = async () => (await server.exec('docker ps -q --no-trunc | sort; cat /opt/praxiskern/compose/.env /opt/praxiskern/state/installed.json; ls /opt/praxiskern/state')).stdout;
  const before = await fingerprint();
  const refused = async (cmd: string, re: RegExp) => {
    const r = await server.exec(cmd);
    t.is(r.code, 1, `${cmd}: ${r.stdout}${r.stderr}`);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.regex(r.stderr, re);
  };
  const other = await releaseKey();
  t.teardown(() => rmSync(other.dir, { recursive: true, force: true }));
  await server.exec('mkdir -p /root/bad /root/trunc');
  const foreignSig = path.join(other.dir, 'foreign.sig');
  await must('sh', ['-c', `ssh-keygen -q -Y sign -f "${other.key}" -n praxiskern-release < "${v3.bundle}" > "${foreignSig}"`]);
  await must('docker', ['cp', foreignSig, `${server.name}:/root/bad/praxiskern-${V3}.tar.sig`]);
  await server.exec(`ln -f /root/praxiskern-${V3}.tar /root/bad/praxiskern-${V3}.tar`);
  await refused(`praxiskern update /root/bad/praxiskern-${V3}.tar`, /signature does not verify against the pinned release key/);
  await server.exec(`head -c 200000000 /root/praxiskern-${V3}.tar > /root/trunc/praxiskern-${V3}.tar && cp /root/praxiskern-${V3}.tar.sig /root/trunc/`);
  await refused(`praxiskern update /root/trunc/praxiskern-${V3}.tar`, /signature does not verify/);
  await must('docker', ['cp', v1.bundle, `${server.name}:/root/`]);
  await must('docker', ['cp', `${v1.bundle}.sig`, `${server.name}:/root/`]);
  await refused(`praxiskern update /root/praxiskern-${V1}.tar`, /release 1\.0\.0 is older than the installed 1\.1\.0/);
  await server.exec('mv /opt/praxiskern/secrets/oidc_client_secret /root/oidc_client_secret.aside');
  await refused(`praxiskern update /root/praxiskern-${V3}.tar`, /required secret file\(s\) missing in \/opt\/praxiskern\/secrets: oidc_client_secret/);
  await server.exec('mv /root/oidc_client_secret.aside /opt/praxiskern/secrets/oidc_client_secret');
  await server.exec('rm -rf /root/bad /root/trunc');
  t.is(await fingerprint(), before, 'a refused update changed the server');

  // kill -9 at three points; the next `praxiskern rollback` brings back one consistent release.
  for (const pause of ['install-files', 'migrating', 'gate']) {
    const running = server.exec(`PRAXISKERN_UPDATE_PAUSE_AT=${pause} praxiskern update /root/praxiskern-${V3}.tar --gate-timeout 60`);
    await waitFor(`the update to reach ${pause}`, 600_000, async () => ((await server.exec(`test -e /opt/praxiskern/state/paused-at-${pause} && echo y`)).stdout.trim() === 'y' ? true : undefined), 2000);
    const journal = JSON.parse((await server.exec('cat /opt/praxiskern/state/update-journal.json')).stdout);
    t.is(journal.phase, pause);
    await server.exec(`kill -9 ${journal.pid}; rm -f /opt/praxiskern/state/paused-at-${pause}`);
    const killed = await running;
    t.is(killed.code, 137, killed.stdout + killed.stderr);
    const rbStarted = Date.now();
    const recovered = await server.exec('praxiskern rollback');
    t.is(recovered.code, 0, recovered.stdout + recovered.stderr);
    t.regex(recovered.stdout, new RegExp(`recovered: release ${V2.replace(/\./g, '\\.')} runs again`));
    t.log(`kill -9 at "${pause}": recovered by praxiskern rollback in ${Math.round((Date.now() - rbStarted) / 1000)}s`);
    t.is(await consistentVersion(), V2);
    sameData(await capture(onV2.columns, onV2.maxIds), onV2, `after kill -9 at ${pause}`);
    const audit = await auditVerify();
    t.true(audit.ok, `${pause}: ${audit.out}`);
  }
  // `praxiskern rollback` on request: the v2 update ran a migration, so the database and the app
  // data go back to its snapshot; without --yes it only states the data-loss window.
  const ask = await server.exec('praxiskern rollback');
  t.is(ask.code, 1, ask.stdout + ask.stderr);
  t.regex(ask.stderr, /everything written since that update is lost\. Repeat with --yes/);
  t.is(await consistentVersion(), V2);
  const rbStarted = Date.now();
  const back = await server.exec('praxiskern rollback --yes');
  t.is(back.code, 0, back.stdout + back.stderr);
  t.regex(back.stdout, /rolled back 1\.1\.0 -> 1\.0\.0 \(database and app data as before the update\)/);
  t.log(`praxiskern rollback --yes ${V2} -> ${V1}: ${Math.round((Date.now() - rbStarted) / 1000)}s`);
  t.is(await consistentVersion(), V1);
  sameData(await capture(onV1.columns, onV1.maxIds), onV1, 'after praxiskern rollback --yes');
  t.is(await psql("select count(*) from information_schema.columns where table_name = 'organizations' and column_name = 'e2e_label'"), '0');
  const audit4 = await auditVerify();
  t.true(audit4.ok, audit4.out);
  t.log(`update history:\n${await history()}`);
  t.regex(await history(), /1\.0\.0>1\.1\.0:succeeded:update[\s\S]*1\.1\.0>1\.0\.0:succeeded:rollback/);
  t.is((await server.exec('ls /opt/praxiskern/state/pending-records 2>/dev/null | wc -l')).stdout.trim(), '0', 'every history record reached the database');

  // The monitoring stack kept running through every update and rollback; now prove it end to end.
  const figures = await proveMonitoring(server, monitoring, { log: (line) => t.log(line) });
  t.log(`monitoring figures (s): ${JSON.stringify(figures)}`);
  t.log(`total: ${Math.round((Date.now() - started) / 1000)}s`);
});
