// The role praxiskern_monitoring without a server: the bundle settings (.env) it renders through
// praxiskern_appliance's env.j2, what compose makes of them with compose.monitoring.yaml (profiles,
// images, Grafana behind the proxy with OIDC or on loopback only), Grafana's role mapping from the
// IdP's role claim (JMESPath, evaluated by python3-jmespath as Grafana would), and the
// acceptance-test switch that shortens every alert's `for:`. The role on a real server is proven
// by tests/appliance/monitoring-checks.ts (called from the Docker-in-Docker update test).
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repo, run } from './helpers.ts';

const roles = path.join(repo, 'ansible', 'roles');

async function composeTool(): Promise<string[]> {
  const plugin = await run('docker', ['compose', 'version']);
  return plugin.code === 0 ? ['docker', 'compose'] : ['docker-compose'];
}

/** Renders env.j2 and the role's derived variables with the roles' defaults and the given overrides. */
async function render(t: { teardown: (fn: () => void) => void }, overrides: Record<string, unknown>): Promise<{ env: string; derived: Record<string, any>; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pk-monrole-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const varsFile = path.join(dir, 'vars.json');
  writeFileSync(varsFile, JSON.stringify({
    praxiskern_appliance_domain: 'praxis.example.de',
    praxiskern_appliance_clinic_networks: ['192.0.2.0/24'],
    // The release comes from the bundle's name (PRAXISKERN_VERSION in .env).
    praxiskern_appliance_bundle: '/srv/releases/praxiskern-1.2.0.tar',
    praxiskern_monitoring_alert_email_to: ['it@praxis.example.de'],
    praxiskern_monitoring_alert_email_from: 'praxiskern@praxis.example.de',
    praxiskern_monitoring_smtp_smarthost: 'mail.example.de:587',
    praxiskern_monitoring_grafana_oidc_endpoints: { auth_url: 'https://id.example.de/auth', token_url: 'https://id.example.de/token', api_url: 'https://id.example.de/userinfo' },
    ...overrides,
  }));
  const play = [{
    hosts: 'localhost', connection: 'local', gather_facts: false,
    vars_files: [
      path.join(roles, 'praxiskern_appliance/defaults/main.yml'), path.join(roles, 'praxiskern_appliance/vars/main.yml'),
      path.join(roles, 'praxiskern_monitoring/defaults/main.yml'), path.join(roles, 'praxiskern_monitoring/vars/main.yml'),
      varsFile,
    ],
    tasks: [
      { 'ansible.builtin.template': { src: path.join(roles, 'praxiskern_appliance/templates/env.j2'), dest: path.join(dir, '.env'), mode: '0644' } },
      {
        'ansible.builtin.copy': {
          dest: path.join(dir, 'derived.json'), mode: '0644',
          content: '{{ {"services": praxiskern_monitoring_services, "switched_off": praxiskern_monitoring_switched_off, "proxied": praxiskern_monitoring_grafana_proxied | bool, "role_path": praxiskern_monitoring_grafana_role_path} | to_json }}',
        },
      },
    ],
  }];
  const playbook = path.join(dir, 'render.yml');
  writeFileSync(playbook, JSON.stringify(play));
  const r = await run('ansible-playbook', ['-i', 'localhost,', playbook, '-e', `@${varsFile}`], {
    cwd: dir, env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False' },
  });
  if (r.code !== 0) throw new Error(`rendering failed:\n${r.stdout}\n${r.stderr}`);
  return { env: readFileSync(path.join(dir, '.env'), 'utf8'), derived: JSON.parse(readFileSync(path.join(dir, 'derived.json'), 'utf8')), dir };
}

function envValue(env: string, name: string): string | undefined {
  return new RegExp(`^${name}=(.*)$`, 'm').exec(env)?.[1];
}

/** `compose config` of the bundle with the rendered .env, as JSON-ish YAML parsed by PyYAML. */
async function composeConfig(dir: string, env: string): Promise<any> {
  const tool = await composeTool();
  const envFile = path.join(dir, 'rendered.env');
  // The rendered file names the compose files relative to the compose directory.
  writeFileSync(envFile, env.replace(/^COMPOSE_FILE=.*$/m, ''));
  const files = envValue(env, 'COMPOSE_FILE')!.split(':').flatMap((f) => ['-f', path.join(repo, 'compose', f)]);
  const profiles = (envValue(env, 'COMPOSE_PROFILES') ?? '').split(',').filter(Boolean).flatMap((p) => ['--profile', p]);
  const r = await run(tool[0], [...tool.slice(1), '--env-file', envFile, ...files, ...profiles, 'config'], { cwd: path.join(repo, 'compose') });
  if (r.code !== 0) throw new Error(`compose config failed: ${r.stdout}${r.stderr}`);
  const yaml = await run('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: r.stdout });
  return JSON.parse(yaml.stdout);
}

function environment(service: any): Record<string, string> {
  const e = service.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((l: string) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
}

test('by default the playbook runs the whole monitoring stack on the pinned upstream images, Grafana behind the proxy with the IdP', async (t) => {
  const { env, derived, dir } = await render(t, { praxiskern_appliance_oidc_issuer: 'https://id.example.de/realms/praxis', praxiskern_appliance_oidc_client_id: 'praxiskern' });
  t.is(envValue(env, 'COMPOSE_FILE'), 'compose.yaml:compose.monitoring.yaml');
  t.is(envValue(env, 'COMPOSE_PROFILES'), 'logs,grafana');
  t.is(envValue(env, 'PRAXISKERN_PROMETHEUS_IMAGE'), 'prom/prometheus:v3.5.0');
  t.is(envValue(env, 'PRAXISKERN_ALERT_SMTP_REQUIRE_TLS'), 'true');
  t.is(envValue(env, 'PRAXISKERN_ALERT_GROUP_INTERVAL'), '5m');
  t.is(envValue(env, 'PRAXISKERN_PROXY_GRAFANA'), 'true');
  t.is(envValue(env, 'PRAXISKERN_GRAFANA_ROOT_URL'), 'https://praxis.example.de/grafana/');
  t.true(derived.proxied);
  t.deepEqual(derived.switched_off, []);
  t.deepEqual(derived.services.sort(), ['alertmanager', 'alloy', 'grafana', 'loki', 'node-exporter', 'postgres-exporter', 'prometheus']);

  const cfg = await composeConfig(dir, env);
  t.deepEqual(Object.keys(cfg.services).sort(), ['alertmanager', 'alloy', 'grafana', 'init', 'loki', 'node-exporter', 'postgres', 'postgres-exporter', 'app', 'prometheus', 'proxy', 'worker'].sort());
  const grafana = environment(cfg.services.grafana);
  t.is(grafana.GF_SERVER_ROOT_URL, 'https://praxis.example.de/grafana/');
  t.is(grafana.GF_SERVER_SERVE_FROM_SUB_PATH, 'true');
  t.is(grafana.GF_SECURITY_COOKIE_SECURE, 'true');
  t.is(grafana.GF_AUTH_GENERIC_OAUTH_ENABLED, 'true');
  t.is(grafana.GF_AUTH_GENERIC_OAUTH_CLIENT_ID, 'praxiskern');
  t.is(grafana.GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE, '/run/secrets/grafana_oidc_client_secret');
  t.is(grafana.GF_AUTH_GENERIC_OAUTH_AUTH_URL, 'https://id.example.de/auth');
  t.is(grafana.GF_AUTH_GENERIC_OAUTH_TOKEN_URL, 'https://id.example.de/token');
  t.is(grafana.GF_AUTH_GENERIC_OAUTH_API_URL, 'https://id.example.de/userinfo');
  t.is(grafana.GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_STRICT, 'true');
  t.is(grafana.GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH, derived.role_path);
  t.is(grafana.GF_SECURITY_ADMIN_PASSWORD__FILE, '/run/secrets/grafana_admin_password');
  // Grafana stays on loopback; the proxy (host network) forwards /grafana/ to it.
  t.deepEqual(JSON.stringify(cfg.services.grafana.ports), JSON.stringify(cfg.services.grafana.ports).replace(/0\.0\.0\.0/g, 'x'));
  t.regex(JSON.stringify(cfg.services.grafana.ports), /127\.0\.0\.1/);
  const proxy = environment(cfg.services.proxy);
  t.is(proxy.PRAXISKERN_PROXY_GRAFANA, 'true');
  t.is(proxy.PRAXISKERN_PROXY_GRAFANA_UPSTREAM, '127.0.0.1:3000');
  t.is(cfg.services.prometheus.image, 'prom/prometheus:v3.5.0');
  t.is(environment(cfg.services['postgres-exporter']).DATA_SOURCE_USER, 'praxiskern_monitor');
});

test('without an IdP Grafana is reachable only on loopback (SSH tunnel), not through the proxy', async (t) => {
  const { env, derived, dir } = await render(t, {});
  t.false(derived.proxied);
  t.is(envValue(env, 'PRAXISKERN_PROXY_GRAFANA'), undefined);
  const cfg = await composeConfig(dir, env);
  t.is(environment(cfg.services.proxy).PRAXISKERN_PROXY_GRAFANA, 'false');
  const grafana = environment(cfg.services.grafana);
  t.is(grafana.GF_AUTH_GENERIC_OAUTH_ENABLED, 'false');
  t.is(grafana.GF_SERVER_SERVE_FROM_SUB_PATH, 'false');
  t.regex(JSON.stringify(cfg.services.grafana.ports), /127\.0\.0\.1/);
});

test('air-gapped: Debian-package images, Loki/Alloy and Grafana switched off, acceptance-test timings', async (t) => {
  const images = {
    prometheus: 'praxiskern/monitoring-prometheus:1.0.0', alertmanager: 'praxiskern/monitoring-alertmanager:1.0.0',
    'node-exporter': 'praxiskern/monitoring-node-exporter:1.0.0', 'postgres-exporter': 'praxiskern/monitoring-postgres-exporter:1.0.0',
    loki: 'grafana/loki:3.5.3', alloy: 'grafana/alloy:v1.10.0', grafana: 'grafana/grafana-oss:12.1.0',
  };
  const { env, derived, dir } = await render(t, {
    praxiskern_monitoring_images: images, praxiskern_monitoring_logs: false, praxiskern_monitoring_grafana: false,
    praxiskern_appliance_oidc_issuer: 'https://id.example.de/realms/praxis', praxiskern_appliance_oidc_client_id: 'praxiskern',
    praxiskern_monitoring_acceptance_test_for: '15s',
  });
  t.is(envValue(env, 'COMPOSE_PROFILES'), '');
  t.is(envValue(env, 'PRAXISKERN_ALERT_GROUP_INTERVAL'), '15s');
  t.false(derived.proxied, 'no Grafana, nothing to publish');
  t.deepEqual(derived.services, ['prometheus', 'alertmanager', 'node-exporter', 'postgres-exporter']);
  t.deepEqual(derived.switched_off, ['loki', 'alloy', 'grafana']);
  const cfg = await composeConfig(dir, env);
  // compose v2 leaves inactive profiles out of `config`; v1 (Debian 12) lists them with their
  // profiles but does not start them (COMPOSE_PROFILES from .env).
  const active = Object.entries<any>(cfg.services).filter(([, s]) => !s.profiles || s.profiles.some((p: string) => envValue(env, 'COMPOSE_PROFILES')!.split(',').includes(p)));
  t.deepEqual(active.map(([n]) => n).filter((s) => ['loki', 'alloy', 'grafana'].includes(s)), []);
  t.deepEqual(cfg.services.loki?.profiles ?? ['logs'], ['logs']);
  t.is(cfg.services.prometheus.image, images.prometheus);
  t.is(cfg.services['postgres-exporter'].image, images['postgres-exporter']);
});

test('monitoring switched off: COMPOSE_FILE without the override and no monitoring settings', async (t) => {
  const { env } = await render(t, { praxiskern_monitoring_enabled: false });
  t.is(envValue(env, 'COMPOSE_FILE'), 'compose.yaml');
  t.notRegex(env, /PRAXISKERN_ALERT_|COMPOSE_PROFILES|PRAXISKERN_PROXY_GRAFANA/);
});

test("Grafana's role mapping: the admin role makes an Admin, the viewer role a Viewer, anyone else is refused (strict)", async (t) => {
  const evaluate = async (expr: string, claims: unknown) => {
    const r = await run('python3', ['-c', 'import json, sys, jmespath; print(json.dumps(jmespath.search(sys.argv[1], json.loads(sys.argv[2]))))', expr, JSON.stringify(claims)]);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  };
  const open = (await render(t, {})).derived.role_path;
  t.is(await evaluate(open, { roles: ['admin', 'doctor'] }), 'Admin');
  t.is(await evaluate(open, { roles: ['doctor'] }), 'Viewer');
  const strict = (await render(t, { praxiskern_monitoring_grafana_admin_role: 'it-admin', praxiskern_monitoring_grafana_viewer_role: 'praxis-staff', praxiskern_appliance_oidc_role_claim: 'groups' })).derived.role_path;
  t.is(await evaluate(strict, { groups: ['it-admin'] }), 'Admin');
  t.is(await evaluate(strict, { groups: ['praxis-staff'] }), 'Viewer');
  // Grafana with role_attribute_strict refuses a login whose mapping yields no role.
  t.falsy(await evaluate(strict, { groups: ['patients'] }));
  t.falsy(await evaluate(strict, { roles: ['it-admin'] }));
});

test('the acceptance-test switch shortens every alert\'s for: and nothing else, and the rules stay valid', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pk-monrules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const source = path.join(repo, 'ops/prometheus/rules/praxiskern.rules.yml');
  // The role's own task does the replacement (tasks/files.yml, "Install the alerting and recording rules").
  const task = readFileSync(path.join(roles, 'praxiskern_monitoring/tasks/files.yml'), 'utf8');
  const m = /regex_replace\('([^']+)', '([^']+)' ~ praxiskern_monitoring_acceptance_test_for\)/.exec(task);
  t.truthy(m, 'the rules task uses regex_replace');
  const play = [{
    hosts: 'localhost', connection: 'local', gather_facts: false,
    tasks: [{ 'ansible.builtin.copy': { dest: path.join(dir, 'fast.rules.yml'), mode: '0644', content: `{{ lookup('ansible.builtin.file', '${source}') | regex_replace('${m![1]}', '${m![2]}' ~ '15s') }}` } }],
  }];
  writeFileSync(path.join(dir, 'play.yml'), JSON.stringify(play));
  const r = await run('ansible-playbook', ['-i', 'localhost,', path.join(dir, 'play.yml')], { cwd: dir, env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'False' } });
  t.is(r.code, 0, r.stdout + r.stderr);
  const original = readFileSync(source, 'utf8');
  const fast = readFileSync(path.join(dir, 'fast.rules.yml'), 'utf8');
  const fors = (s: string) => [...s.matchAll(/^\s+for: (\S+)$/gm)].map((x) => x[1]);
  t.true(fors(original).length >= 19);
  t.deepEqual(fors(fast), fors(original).map(() => '15s'));
  t.is(fast.replace(/^(\s+for:) \S+$/gm, '$1 X').trimEnd(), original.replace(/^(\s+for:) \S+$/gm, '$1 X').trimEnd());
  const check = await run('promtool', ['check', 'rules', path.join(dir, 'fast.rules.yml')]);
  t.is(check.code, 0, check.stdout + check.stderr);
});
