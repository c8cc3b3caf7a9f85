// End to end: Ansible installs the appliance onto a fresh Debian server (a container with
// systemd, sshd and its own Docker engine), then the clinic uses it over HTTPS.
import test from 'ava';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { base32Decode, currentStep, totpCode } from '../../app/api/src/modules/auth/totp.ts';
import {
  cookies, releaseBundle, releaseKey, httpRequest, httpsRequest, makeCredentials, must, playbook, startServer, waitFor,
  type HttpResponse, type Release, type ReleaseKey, type Server,
} from './helpers.ts';

const domain = 'praxis.test';
// Debian 13 always; Debian 12 too unless PRAXISKERN_E2E_SUITES narrows the list.
const suites = (process.env.PRAXISKERN_E2E_SUITES || 'trixie bookworm').split(/\s+/).filter(Boolean);

interface Session {
  cookie: string;
  csrf: string;
}

let lastTotpStep = 0;

async function login(port: number, ca: string, username: string, password: string, totpSecret: string): Promise<{ res: HttpResponse; session: Session }> {
  const first = await httpsRequest({ port, host: domain, ca, path: '/api/v1/session' });
  const csrf = cookies(first).pk_csrf;
  if (!csrf) throw new Error(`GET /api/v1/session set no pk_csrf cookie (status ${first.status})`);
  // A TOTP code is accepted once: the second login waits for the next 30-second step.
  const step = await waitFor('a fresh TOTP step', 40_000, async () => (currentStep() > lastTotpStep ? currentStep() : undefined), 500);
  lastTotpStep = step;
  const res = await httpsRequest({
    port, host: domain, ca, method: 'POST', path: '/api/v1/auth/local/login',
    headers: { 'x-csrf-token': csrf, cookie: `pk_csrf=${csrf}` },
    body: JSON.stringify({ username, password, totp: totpCode(base32Decode(totpSecret)!, step) }),
  });
  const set = cookies(res);
  return { res, session: { cookie: `pk_session=${set.pk_session}; pk_csrf=${set.pk_csrf ?? csrf}`, csrf: set.pk_csrf ?? csrf } };
}

async function readyz(server: Server, ca: string): Promise<{ database: string; sealed: boolean; initialized: boolean } | undefined> {
  const res = await httpsRequest({ port: server.httpsPort, host: domain, ca, path: '/readyz' });
  return res.status === 200 ? JSON.parse(res.body) : undefined;
}

/** What a client outside the clinic networks gets: a request from a container on the server's network. */
async function fromOutside(server: Server, image: string, requestPath: string): Promise<{ status: number; body: string }> {
  const script = `
    const req = require('node:https').request({ host: ${JSON.stringify(server.ip)}, port: 443, path: ${JSON.stringify(requestPath)},
      servername: ${JSON.stringify(domain)}, headers: { host: ${JSON.stringify(domain)} }, rejectUnauthorized: false, timeout: 10000 }, (res) => {
      let body = ''; res.on('data', (d) => (body += d));
      res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body })));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => console.log(JSON.stringify({ status: 0, body: String(e) })));
    req.end();`;
  const out = await must('docker', ['run', '--rm', '--network', server.network, '--entrypoint', 'node', image, '-e', script]);
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** Whether a TCP port of the server accepts connections from outside the admin/clinic networks. */
async function tcpOpenFromOutside(server: Server, image: string, port: number): Promise<boolean> {
  const script = `const s = require('node:net').connect({ host: ${JSON.stringify(server.ip)}, port: ${port} });
    s.setTimeout(5000, () => { console.log('closed'); s.destroy(); });
    s.on('connect', () => { console.log('open'); s.destroy(); });
    s.on('error', () => console.log('closed'));`;
  const out = await must('docker', ['run', '--rm', '--network', server.network, '--entrypoint', 'node', image, '-e', script]);
  return out.trim() === 'open';
}

// One signed release bundle of this checkout for every suite, with a signing key made for this run.
const releaseVersion = '1.0.0';
let release: Promise<{ key: ReleaseKey; release: Release }> | undefined;
function signedRelease() {
  release ??= (async () => {
    const key = await releaseKey();
    return { key, release: await releaseBundle({ version: releaseVersion, key, out: path.join(key.dir, 'dist') }) };
  })();
  return release;
}
test.after.always(async () => {
  if (release) rmSync((await release).key.dir, { recursive: true, force: true });
});

for (const suite of suites) {
  test.serial(`Ansible turns a fresh Debian ${suite} server into a running appliance that clinic staff log in to over HTTPS, comes back sealed after a restart, and auto-unseals when opted in`, async (t) => {
    t.timeout(45 * 60_000);
    const started = Date.now();
    const { key, release: bundle } = await signedRelease();
    t.log(`release bundle ${path.basename(bundle.bundle)}: ${Math.round(bundle.bytes / 2 ** 20)} MiB, images ${bundle.imageSeconds}s, bundle ${bundle.bundleSeconds}s`);
    const creds = await makeCredentials(domain);
    const server = await startServer(suite, creds.publicKey);
    t.teardown(async () => {
      await server.remove();
      rmSync(creds.dir, { recursive: true, force: true });
    });
    const clinic = [`${server.hostSideIp}/32`];
    // Where the playbook puts the recovery kit on this controller (outside the repository).
    const kitDir = path.join(creds.dir, 'recovery-kit');
    const vars = {
      praxiskern_firewall_admin_networks: clinic,
      praxiskern_firewall_clinic_networks: clinic,
      praxiskern_firewall_public_webhooks: true,
      praxiskern_base_fail2ban_ignore_networks: clinic,
      praxiskern_docker_source: 'debian',
      praxiskern_appliance_domain: domain,
      praxiskern_appliance_clinic_networks: clinic,
      praxiskern_appliance_public_webhooks: true,
      praxiskern_appliance_bundle: bundle.bundle,
      praxiskern_appliance_release_public_key: key.publicKey,
      praxiskern_appliance_tls_mode: 'provided',
      praxiskern_appliance_tls_certificate_file: creds.certFile,
      praxiskern_appliance_tls_key_file: creds.keyFile,
      praxiskern_appliance_org_name: 'Praxis Dr. Test',
      praxiskern_appliance_org_slug: 'praxis-test',
      praxiskern_appliance_admin_username: 'admin',
      praxiskern_appliance_recovery_kit_controller_dir: kitDir,
      // Monitoring (on by default) is installed and proven on Debian 13 by update.test.ts
      // (tests/appliance/monitoring-checks.ts); this test keeps to the appliance itself.
      praxiskern_monitoring_enabled: false,
    };

    // Bad input stops the playbook before anything changes, naming the variable.
    const bad = await playbook(server, creds.privateKey, { ...vars, praxiskern_appliance_clinic_networks: ['192.168.1.0/33'] }, creds.dir);
    t.not(bad.code, 0);
    t.regex(bad.stdout, /praxiskern_appliance_clinic_networks must list/);
    const untouched = await server.exec('test -e /opt/praxiskern || test -e /etc/praxiskern || echo untouched');
    t.is(untouched.stdout.trim(), 'untouched', 'a failed validation must leave the server unchanged');
    const badIssuer = await playbook(server, creds.privateKey, { ...vars, praxiskern_appliance_oidc_issuer: 'http://id.example.test', praxiskern_appliance_oidc_client_id: 'x' }, creds.dir);
    t.not(badIssuer.code, 0);
    t.regex(badIssuer.stdout, /praxiskern_appliance_oidc_issuer must be/);

    // First install.
    const first = await playbook(server, creds.privateKey, vars, creds.dir);
    t.is(first.code, 0, `first playbook run failed:\n${first.stdout.slice(-6000)}\n${first.stderr.slice(-3000)}`);
    t.truthy(first.recap && first.recap.changed > 0);
    t.log(`first playbook run: ${first.seconds}s, ${JSON.stringify(first.recap)}`);

    const ready = await waitFor('the appliance to answer /readyz over HTTPS', 120_000, () => readyz(server, creds.caCert));
    t.deepEqual({ database: ready.database, sealed: ready.sealed, initialized: ready.initialized }, { database: 'ok', sealed: false, initialized: true });
    t.log(`fresh server to healthy, unsealed appliance: ${Math.round((Date.now() - started) / 1000)}s (incl. image build ${bundle.imageSeconds}s, bundle ${bundle.bundleSeconds}s)`);

    // TLS and proxy behaviour.
    const health = await httpsRequest({ port: server.httpsPort, host: domain, ca: creds.caCert, path: '/healthz' });
    t.is(health.status, 200);
    t.is(health.tlsProtocol, 'TLSv1.3');
    t.regex(String(health.headers['strict-transport-security']), /max-age=\d+/);
    t.is(health.headers['x-content-type-options'], 'nosniff');
    t.is(health.headers.server, undefined);
    const plain = await httpRequest({ port: server.httpPort, host: domain, path: '/login' });
    t.is(plain.status, 308);
    t.is(plain.headers.location, `https://${domain}/login`);

    // The recovery kit was generated on the server, fetched to the controller (0700/0600) and
    // shredded on the server: no file of it is left there.
    t.deepEqual(readdirSync(kitDir).sort(), ['README.txt', 'admin-password', 'init.json', 'passphrase']);
    t.is(statSync(kitDir).mode & 0o777, 0o700);
    for (const f of readdirSync(kitDir)) t.is(statSync(path.join(kitDir, f)).mode & 0o777, 0o600, f);
    const kit = JSON.parse(readFileSync(path.join(kitDir, 'init.json'), 'utf8'));
    const adminPassword = readFileSync(path.join(kitDir, 'admin-password'), 'utf8').trim();
    const passphrase = readFileSync(path.join(kitDir, 'passphrase'), 'utf8');
    t.true(kit.initialized);
    t.is(kit.recoveryCodes.length, 10);
    t.regex(kit.recoveryKit.identity, /^AGE-SECRET-KEY-1/);
    const leftOnServer = (await server.exec('find /opt/praxiskern/recovery-kit -mindepth 1 -print')).stdout.trim();
    t.is(leftOnServer, '', `the playbook left recovery-kit files on the server:\n${leftOnServer}`);
    const modes = (await server.exec('stat -c "%a %u %n" /opt/praxiskern/secrets/*')).stdout.trim().split('\n');
    t.true(modes.length >= 5 && modes.every((l) => l.startsWith('600 10001 ')), modes.join('\n'));
    const compose = (await server.exec('grep -o "^ExecStart=.* up" /etc/systemd/system/praxiskern.service | sed "s/^ExecStart=//; s/ up$//"')).stdout.trim();
    t.truthy(compose);
    const status = async () => JSON.parse((await server.exec(`cd /opt/praxiskern/compose && ${compose} exec -T app praxiskern status --json`)).stdout);
    // The worker saw the generated files at its start; its next check finds none.
    const clean = await waitFor('praxiskern status to report no recovery-kit file', 150_000, async () => {
      const s = await status();
      return Array.isArray(s.recoveryKitFilesOnServer) && s.recoveryKitFilesOnServer.length === 0 ? s : undefined;
    }, 3000);
    t.deepEqual(clean.recoveryKitFilesOnServer, []);
    // The host tool: the installed release from the signed bundle; other commands reach the app's CLI.
    const hostVersion = await server.exec('praxiskern version --json');
    t.is(JSON.parse(hostVersion.stdout).version, releaseVersion, hostVersion.stdout + hostVersion.stderr);
    t.regex((await server.exec('cat /etc/praxiskern/release-signers')).stdout, /^praxiskern-release namespaces="praxiskern-release" ssh-ed25519 /);
    const forwarded = await server.exec('praxiskern status --json');
    t.is(JSON.parse(forwarded.stdout).initialized, true, forwarded.stdout + forwarded.stderr);

    // No owner credential in the app container: not in its environment (docker exec and the
    // running process), not among its secrets, not in any file of its mounts (data volume
    // included); none of its credentials logs in as the owner. The worker holds it.
    const ownerPassword = (await server.exec('cat /opt/praxiskern/secrets/db_owner_password')).stdout.trim();
    t.true(ownerPassword.length >= 20);
    const appId = (await server.exec('docker ps --quiet --filter label=com.docker.compose.service=app')).stdout.trim();
    const workerId = (await server.exec('docker ps --quiet --filter label=com.docker.compose.service=worker')).stdout.trim();
    t.truthy(appId);
    for (const where of ['env', 'cat /proc/1/environ', 'ls -la /run/secrets', 'cat /run/secrets/*']) {
      const out = (await server.exec(`docker exec ${appId} sh -c '${where}' | tr '\\0' '\\n'`)).stdout;
      t.false(out.includes(ownerPassword), `the app's "${where}" holds the owner password`);
      t.notRegex(out, /DATABASE_OWNER_URL|DB_OWNER_PASSWORD|db_owner_password|praxiskern_owner/, `the app's "${where}" names an owner credential`);
    }
    // The node process itself (the entry script assembles DATABASE_URL for it from the secret file).
    const appNode = (await server.exec(`docker exec ${appId} sh -c 'for p in /proc/[0-9]*; do tr "\\0" " " <$p/cmdline | grep -q "cli.ts start" && tr "\\0" "\\n" <$p/environ; done; true'`)).stdout;
    t.regex(appNode, /DATABASE_URL=postgres:\/\/praxiskern_app:/, 'the app process connects as the application role');
    t.false(appNode.includes(ownerPassword));
    const mounts = (await server.exec(`docker inspect --format '{{range .Mounts}}{{.Source}} {{end}}' ${appId}`)).stdout.trim();
    t.truthy(mounts);
    const inMounts = await server.exec(`grep -rlsF -- "${ownerPassword}" ${mounts}; true`);
    t.is(inMounts.stdout.trim(), '', `owner password found in the app's mounts:\n${inMounts.stdout}`);
    const tryOwner = `
      const fs = require('node:fs'); const { Client } = require('/opt/praxiskern/node_modules/pg');
      const pw = fs.readdirSync('/run/secrets').map((f) => fs.readFileSync('/run/secrets/' + f, 'utf8').trim());
      (async () => {
        const appPassword = fs.readFileSync('/run/secrets/db_app_password', 'utf8').trim();
        const app = new Client({ host: 'postgres', user: 'praxiskern_app', database: 'praxiskern', password: appPassword, connectionTimeoutMillis: 5000 });
        await app.connect().then(() => { console.log('APP-OK'); return app.end(); }, (e) => console.log('app refused ' + e.message));
        for (const password of [...pw, '']) {
        const c = new Client({ host: 'postgres', user: 'praxiskern_owner', database: 'praxiskern', password, connectionTimeoutMillis: 5000 });
        try { await c.connect(); console.log('CONNECTED'); await c.end(); } catch (e) { console.log('refused ' + (e.code || '')); }
      } })();`;
    const attempts = await server.exec(`docker exec -i ${appId} node -`, tryOwner);
    t.regex(attempts.stdout, /APP-OK/, `the app reaches PostgreSQL with its own role:\n${attempts.stdout}${attempts.stderr}`);
    t.regex(attempts.stdout, /refused/, attempts.stdout + attempts.stderr);
    t.notRegex(attempts.stdout, /CONNECTED/, 'a credential of the app logs in as the database owner');
    t.true((await server.exec(`docker exec ${workerId} cat /run/secrets/db_owner_password`)).stdout.trim() === ownerPassword, 'the worker holds the owner role');

    // Login (password + TOTP) and an authenticated API call.
    const anonymous = await httpsRequest({ port: server.httpsPort, host: domain, ca: creds.caCert, path: '/api/v1/users' });
    t.is(anonymous.status, 401);
    const { res: loginRes, session } = await login(server.httpsPort, creds.caCert, 'admin', adminPassword, kit.totpSecret);
    t.is(loginRes.status, 200, loginRes.body);
    const users = await httpsRequest({ port: server.httpsPort, host: domain, ca: creds.caCert, path: '/api/v1/users', headers: { cookie: session.cookie } });
    t.is(users.status, 200, users.body);
    t.true(JSON.stringify(JSON.parse(users.body)).includes('"admin"'));

    // Outside the clinic networks: the staff UI is refused, public webhook paths pass the proxy,
    // SSH is dropped by the firewall.
    const appImage = `praxiskern/app:${releaseVersion}`;
    const outsideUi = await fromOutside(server, appImage, '/api/v1/session');
    t.is(outsideUi.status, 403);
    t.regex(outsideUi.body, /only reachable from the clinic network/);
    const outsideWebhook = await fromOutside(server, appImage, '/webhooks/whatsapp');
    t.not(outsideWebhook.status, 403, outsideWebhook.body);
    t.not(outsideWebhook.status, 0, outsideWebhook.body);
    t.false(await tcpOpenFromOutside(server, appImage, 22), 'SSH must be closed to non-admin networks');
    t.false(await tcpOpenFromOutside(server, appImage, 5432), 'PostgreSQL must not be reachable');
    t.false(await tcpOpenFromOutside(server, appImage, 9464), 'the metrics port must not be reachable');
    const published = (await server.exec('docker ps --format "{{.Ports}}"')).stdout;
    t.notRegex(published, /0\.0\.0\.0:|:::/, `nothing may be published on all interfaces:\n${published}`);

    // Idempotence.
    const second = await playbook(server, creds.privateKey, vars, creds.dir);
    t.is(second.code, 0, second.stdout.slice(-4000));
    t.deepEqual(second.recap && { changed: second.recap.changed, failed: second.recap.failed }, { changed: 0, failed: 0 }, second.stdout.slice(-8000));
    t.log(`second playbook run: ${second.seconds}s, ${JSON.stringify(second.recap)}`);

    // Figures: image sizes and the bundle's memory at idle.
    const sizes = (await must('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}', '--filter', `reference=praxiskern/*:${releaseVersion}`])).trim();
    t.log(`image sizes:\n${sizes}`);
    const stats = await server.exec('docker stats --no-stream --format "{{.Name}} {{.MemUsage}}"');
    t.log(`idle memory (docker stats):\n${stats.stdout.trim()}`);

    // A file someone leaves in the recovery-kit directory is reported by praxiskern status.
    await server.exec('umask 077 && echo "copied back by hand" > /opt/praxiskern/recovery-kit/passphrase.txt');

    // A restart of the server brings the appliance back sealed; the passphrase unseals it.
    await server.restart();
    const afterRestart = await waitFor('the appliance after a restart', 300_000, () => readyz(server, creds.caCert), 2000);
    t.is(afterRestart.sealed, true);
    t.is(afterRestart.initialized, true);
    const flagged = await waitFor('praxiskern status to report the left-behind file', 150_000, async () => {
      const s = await status().catch(() => undefined);
      return s?.recoveryKitFilesOnServer?.includes('passphrase.txt') ? s : undefined;
    }, 3000);
    t.deepEqual(flagged.recoveryKitFilesOnServer, ['passphrase.txt']);
    const human = await server.exec(`cd /opt/praxiskern/compose && ${compose} exec -T app praxiskern status`);
    t.regex(human.stdout, /WARNING: recovery-kit files are still on this server: passphrase\.txt/);
    const wrong = await server.exec(`cd /opt/praxiskern/compose && echo wrong-passphrase | ${compose} exec -T worker praxiskern unseal --passphrase-file /dev/stdin`);
    t.not(wrong.code, 0, 'a wrong passphrase must not unseal');
    // The passphrase comes from the controller's recovery kit; unsealing the app unseals the worker too.
    const unseal = await server.exec(`cd /opt/praxiskern/compose && ${compose} exec -T app praxiskern unseal --passphrase-file /dev/stdin`, passphrase);
    t.is(unseal.code, 0, unseal.stdout + unseal.stderr);
    const unsealed = await waitFor('the unsealed state', 30_000, async () => {
      const r = await readyz(server, creds.caCert);
      return r && !r.sealed ? r : undefined;
    });
    t.false(unsealed.sealed);
    const again = await login(server.httpsPort, creds.caCert, 'admin', adminPassword, kit.totpSecret);
    t.is(again.res.status, 200, again.res.body);
    const usersAgain = await httpsRequest({ port: server.httpsPort, host: domain, ca: creds.caCert, path: '/api/v1/users', headers: { cookie: again.session.cookie } });
    t.is(usersAgain.status, 200);
    const workerState = await waitFor('the worker to be unsealed by the app', 30_000, async () => {
      const r = await server.exec(`cd /opt/praxiskern/compose && ${compose} exec -T worker praxiskern status --json`);
      const b = r.code === 0 ? JSON.parse(r.stdout) : undefined;
      return b && b.sealed === false ? b : undefined;
    }, 1000);
    t.false(workerState.sealed);

    // Opt-in auto-unseal: the playbook keeps the passphrase as a 0600 secret and the recreated
    // app unseals itself without anyone typing the passphrase.
    const appBefore = (await server.exec('docker ps --quiet --filter label=com.docker.compose.service=app')).stdout.trim();
    const auto = await playbook(server, creds.privateKey, { ...vars, praxiskern_appliance_auto_unseal: true }, creds.dir);
    t.is(auto.code, 0, auto.stdout.slice(-4000));
    t.true((auto.recap?.changed ?? 0) > 0);
    const appAfter = (await server.exec('docker ps --quiet --filter label=com.docker.compose.service=app')).stdout.trim();
    t.truthy(appAfter);
    t.not(appAfter, appBefore, 'enabling auto-unseal must recreate the app container');
    t.is((await server.exec('stat -c "%a %u" /opt/praxiskern/secrets/auto_unseal_key')).stdout.trim(), '600 10001');
    // That run also collected the left-behind file: on the controller now, gone from the server.
    t.is(readFileSync(path.join(kitDir, 'passphrase.txt'), 'utf8'), 'copied back by hand\n');
    t.is((await server.exec('find /opt/praxiskern/recovery-kit -mindepth 1 -print')).stdout.trim(), '');
    t.true(existsSync(path.join(kitDir, 'passphrase')));
    const autoUnsealed = await waitFor('the app to unseal itself', 120_000, async () => {
      const r = await readyz(server, creds.caCert);
      return r && !r.sealed ? r : undefined;
    }, 2000);
    t.false(autoUnsealed.sealed);
    t.log(`total: ${Math.round((Date.now() - started) / 1000)}s`);
  });
}
