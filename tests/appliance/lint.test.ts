// Static checks of the appliance: Ansible, YAML, shell scripts, compose files, and the
// playbook's up-front validation of the clinic's variables.
import test from 'ava';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repo, run } from './helpers.ts';

const ansibleDir = path.join(repo, 'ansible');
const composeDir = path.join(repo, 'compose');
const skipDirs = new Set(['node_modules', '.git', '.svelte-kit', 'build', 'data']);

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipDirs.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function isShellScript(file: string): boolean {
  if (file.endsWith('.sh')) return true;
  if (statSync(file).size > 512_000) return false;
  const head = readFileSync(file, 'utf8').slice(0, 100);
  return /^#!\s*(\/usr\/bin\/env\s+(ba|da)?sh|\/bin\/(ba|da)?sh)\b/.test(head);
}

async function composeTool(): Promise<string[]> {
  const plugin = await run('docker', ['compose', 'version']);
  return plugin.code === 0 ? ['docker', 'compose'] : ['docker-compose'];
}

test('ansible-lint passes the production profile', async (t) => {
  const r = await run('ansible-lint', ['--offline', '--profile', 'production', '--nocolor', '-p'], { cwd: ansibleDir });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout + r.stderr, /Passed with production profile/);
});

test('yamllint passes on the playbook, the roles and the compose files', async (t) => {
  const r = await run('yamllint', ['--strict', '-c', path.join(ansibleDir, '.yamllint'), ansibleDir, composeDir]);
  t.is(r.code, 0, r.stdout + r.stderr);
});

test('shellcheck passes on every shell script in the repository', async (t) => {
  const scripts = walk(repo).filter(isShellScript);
  const rel = scripts.map((f) => path.relative(repo, f));
  t.true(rel.includes('appliance/docker/build-images.sh') && rel.includes('.ci/appliance-prereqs.sh'), rel.join('\n'));
  const r = await run('shellcheck', ['--external-sources', ...scripts]);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.log(`${scripts.length} scripts: ${rel.join(', ')}`);
});

test('every compose file is valid with the example environment', async (t) => {
  const tool = await composeTool();
  const files = readdirSync(composeDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'compose.yaml');
  const combos = [['compose.yaml'], ...files.map((f) => ['compose.yaml', f])];
  for (const combo of combos) {
    const args = [...tool.slice(1), '--env-file', path.join(composeDir, '.env.example'), ...combo.flatMap((f) => ['-f', path.join(composeDir, f)]), 'config', '--quiet'];
    const r = await run(tool[0], args, { cwd: composeDir });
    t.is(r.code, 0, `${combo.join(' + ')}: ${r.stdout}${r.stderr}`);
  }
  t.true(combos.length >= 2);
});

test('the bundle refuses to start without a domain and clinic networks', async (t) => {
  const tool = await composeTool();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'praxiskern-env-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const example = readFileSync(path.join(composeDir, '.env.example'), 'utf8');
  for (const variable of ['PRAXISKERN_DOMAIN', 'PRAXISKERN_CLINIC_NETWORKS', 'PRAXISKERN_VERSION']) {
    const env = path.join(dir, `${variable}.env`);
    writeFileSync(env, example.split('\n').filter((l) => !l.startsWith(`${variable}=`)).join('\n'));
    const r = await run(tool[0], [...tool.slice(1), '--env-file', env, '-f', path.join(composeDir, 'compose.yaml'), 'config', '--quiet'], { cwd: dir });
    t.not(r.code, 0, `${variable} missing must fail`);
    t.regex(r.stderr, new RegExp(`${variable} must be set`));
  }
});

test('.env.example documents every variable the compose files read', (t) => {
  const example = readFileSync(path.join(composeDir, '.env.example'), 'utf8');
  const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  const used = new Set<string>();
  for (const f of readdirSync(composeDir).filter((f) => /\.ya?ml$/.test(f))) {
    for (const m of readFileSync(path.join(composeDir, f), 'utf8').matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)/g)) used.add(m[1]);
  }
  t.true(used.size > 10);
  t.deepEqual([...used].filter((v) => !documented.has(v)), []);
});

test('compose keeps PostgreSQL and the metrics port off every published port', (t) => {
  const compose = readFileSync(path.join(composeDir, 'compose.yaml'), 'utf8');
  const published = [...compose.matchAll(/^\s+- "([^"]*:\d+)"$/gm)].map((m) => m[1]);
  t.deepEqual(published, ['127.0.0.1:${PRAXISKERN_APP_PORT:-8080}:8080']);
  t.regex(compose, /backend:\n\s+internal: true/);
});

// The playbook's first play validates every role's variables. With --tags always only that play
// runs, so these checks change nothing on the machine running them.
const goodVars = {
  praxiskern_firewall_admin_networks: ['198.51.100.0/24'],
  praxiskern_firewall_clinic_networks: ['192.0.2.0/24', '2001:db8:10::/64'],
  praxiskern_appliance_domain: 'praxis.example.de',
  praxiskern_appliance_clinic_networks: ['192.0.2.0/24'],
  praxiskern_appliance_acme_email: 'it@praxis.example.de',
  praxiskern_appliance_org_name: 'Praxis',
  praxiskern_appliance_org_slug: 'praxis',
  praxiskern_appliance_oidc_issuer: 'https://id.example.de/realms/praxis',
  praxiskern_appliance_oidc_client_id: 'praxiskern',
  praxiskern_appliance_bundle: '/srv/releases/praxiskern-1.2.0.tar',
  // A well-formed Ed25519 public key (the validation only checks its form).
  praxiskern_appliance_release_public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKvQ0l3yC7mP2b0v5oYx2gQv6JxVxZ7u1a9d8f3e4c5b praxiskern-release',
  praxiskern_appliance_backup_targets: [{ name: 'local', type: 'local' }],
  praxiskern_monitoring_alert_email_to: ['it@praxis.example.de'],
  praxiskern_monitoring_alert_email_from: 'praxiskern@praxis.example.de',
  praxiskern_monitoring_smtp_smarthost: 'mail.example.de:587',
};

async function validate(vars: Record<string, unknown>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'praxiskern-vars-'));
  try {
    const file = path.join(dir, 'vars.json');
    writeFileSync(file, JSON.stringify(vars));
    writeFileSync(path.join(dir, 'hosts.yml'), JSON.stringify({ all: { children: { praxiskern: { hosts: { localhost: { ansible_connection: 'local', ansible_python_interpreter: '/usr/bin/python3' } } } } } }));
    return await run('ansible-playbook', ['-i', path.join(dir, 'hosts.yml'), '--tags', 'always', '-e', `@${file}`, path.join(ansibleDir, 'site.yml')], {
      cwd: ansibleDir,
      env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_CONFIG: path.join(ansibleDir, 'ansible.cfg') },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the playbook accepts a complete configuration', async (t) => {
  const r = await validate(goodVars);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /changed=0/);
});

test('with monitoring switched off the playbook needs no alert mail settings', async (t) => {
  const { praxiskern_monitoring_alert_email_to: _to, praxiskern_monitoring_smtp_smarthost: _smtp, ...rest } = goodVars;
  const off = await validate({ ...rest, praxiskern_monitoring_enabled: false });
  t.is(off.code, 0, off.stdout + off.stderr);
  const on = await validate(rest);
  t.not(on.code, 0, 'monitoring is on by default and needs its mail settings');
  t.regex(on.stdout, /praxiskern_monitoring_alert_email_to must list/);
});

const badInputs: Array<[string, unknown, RegExp]> = [
  ['praxiskern_appliance_domain', '', /praxiskern_appliance_domain must be/],
  ['praxiskern_appliance_domain', 'https://praxis.example.de', /praxiskern_appliance_domain must be/],
  ['praxiskern_appliance_clinic_networks', [], /praxiskern_appliance_clinic_networks must list/],
  ['praxiskern_appliance_clinic_networks', ['10.0.0.300/8'], /praxiskern_appliance_clinic_networks must list.*10\.0\.0\.300\/8/s],
  ['praxiskern_firewall_admin_networks', '198.51.100.0/24', /praxiskern_firewall_admin_networks must list/],
  ['praxiskern_firewall_clinic_networks', ['clinic'], /praxiskern_firewall_clinic_networks must list/],
  ['praxiskern_appliance_oidc_issuer', 'http://id.example.de', /praxiskern_appliance_oidc_issuer must be/],
  ['praxiskern_appliance_acme_email', 'nobody', /praxiskern_appliance_tls_mode must be acme \(with praxiskern_appliance_acme_email\)/],
  ['praxiskern_base_reboot_time', '25:00', /praxiskern_base_reboot_time must be/],
  ['praxiskern_docker_source', 'snap', /praxiskern_docker_source must be docker or debian/],
  ['praxiskern_appliance_bundle', '', /praxiskern_appliance_bundle must be/],
  ['praxiskern_appliance_bundle', '/srv/releases/praxiskern-latest.tar', /praxiskern_appliance_bundle must be/],
  ['praxiskern_appliance_release_public_key', 'ssh-rsa AAAAB3NzaC1yc2E praxiskern-release', /praxiskern_appliance_release_public_key must be/],
  ['praxiskern_appliance_backup_targets', [{ name: 'box', type: 'sftp', url: 'ftp://box/praxiskern' }], /praxiskern_appliance_backup_targets must list/],
  ['praxiskern_monitoring_alert_email_to', [], /praxiskern_monitoring_alert_email_to must list at least one e-mail address/],
  ['praxiskern_monitoring_alert_email_to', 'it@praxis.example.de', /praxiskern_monitoring_alert_email_to must list/],
  ['praxiskern_monitoring_smtp_smarthost', 'mail.example.de', /praxiskern_monitoring_smtp_smarthost the clinic's mail server as host:port/],
  ['praxiskern_monitoring_smtp_username', 'praxiskern', /praxiskern_monitoring_smtp_password \(in ansible-vault\) must be too/],
  ['praxiskern_monitoring_heartbeat_url', 'status.example.de/push', /praxiskern_monitoring_heartbeat_url must be empty or/],
  ['praxiskern_monitoring_acceptance_test_for', '1 hour', /praxiskern_monitoring_acceptance_test_for must be empty/],
  ['praxiskern_monitoring_image_archives', { grafana2: '/tmp/x.tar' }, /praxiskern_monitoring_image_archives may only name those services/],
];

for (const [name, value, message] of badInputs) {
  test(`the playbook stops before changing anything when ${name} is ${JSON.stringify(value)}`, async (t) => {
    const r = await validate({ ...goodVars, [name]: value });
    t.not(r.code, 0);
    t.regex(r.stdout, message);
  });
}
