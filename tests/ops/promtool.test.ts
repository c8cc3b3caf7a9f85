// The monitoring configuration in ops/: Prometheus rules and their promtool unit tests,
// Alertmanager (amtool), and structural checks of Loki, Alloy, Grafana, the compose override and
// the runbooks. Needs promtool (Debian: prometheus), amtool (prometheus-alertmanager) and
// python3-yaml (pulled in by yamllint); Loki, Alloy and Grafana binaries are not available here.
import test from 'ava';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../..');
const ops = path.join(repo, 'ops');
const promDir = path.join(ops, 'prometheus');
const rulesFile = path.join(promDir, 'rules', 'praxiskern.rules.yml');
const unitTestFiles = readdirSync(path.join(promDir, 'tests')).filter((f) => f.endsWith('.test.yml')).sort();

interface RunResult { code: number; out: string }

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', (err) => { clearTimeout(timer); resolve({ code: 127, out: out + String(err) }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 1, out }); });
  });
}

// YAML through PyYAML (python3-yaml comes with yamllint, which CI installs): the repository has
// no YAML parser of its own among its npm dependencies.
const yamlCache = new Map<string, unknown>();
async function loadYaml<T = any>(file: string): Promise<T> {
  if (!yamlCache.has(file)) {
    const r = await run('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1], encoding="utf-8")), sys.stdout)', file]);
    if (r.code !== 0) throw new Error(`cannot parse ${file}: ${r.out}`);
    yamlCache.set(file, JSON.parse(r.out));
  }
  return yamlCache.get(file) as T;
}

interface Rule { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
async function rules(): Promise<Rule[]> {
  const doc = await loadYaml<{ groups: { rules: Rule[] }[] }>(rulesFile);
  return doc.groups.flatMap((g) => g.rules);
}
async function alerts(): Promise<Rule[]> {
  return (await rules()).filter((r) => r.alert);
}

const alertEnv = {
  PRAXISKERN_DOMAIN: 'praxis.example.de',
  PRAXISKERN_ALERT_EMAIL_TO: "it@praxis.example.de, o'brien@dienstleister.example.de",
  PRAXISKERN_ALERT_EMAIL_FROM: 'praxiskern@praxis.example.de',
  PRAXISKERN_ALERT_SMTP_SMARTHOST: 'mail.example.de:587',
  PRAXISKERN_ALERT_SMTP_USERNAME: 'praxiskern',
  PRAXISKERN_ALERT_HEARTBEAT_URL: 'https://status.example.de/api/push/abc123',
};

async function renderAlertmanager(t: { teardown: (fn: () => void) => void }, env: Record<string, string>): Promise<{ code: number; out: string; file: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pk-am-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'alertmanager.yml');
  const r = await run('sh', [path.join(ops, 'alertmanager', 'render-config.sh'), path.join(ops, 'alertmanager', 'alertmanager.yml'), file], {
    env: { PATH: process.env.PATH, ...env },
  });
  return { ...r, file };
}

// --- Prometheus ------------------------------------------------------------------------------

test('promtool check config accepts prometheus.yml with its rule files', async (t) => {
  const r = await run('promtool', ['check', 'config', path.join(promDir, 'prometheus.yml')]);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /SUCCESS: \d+ rule files found/); // praxiskern.rules.yml, messaging.rules.yml
  t.regex(r.out, /SUCCESS: \d+ rules found/);
});

test('prometheus.yml scrapes app and worker on the internal network every 15 s', async (t) => {
  const cfg = await loadYaml(path.join(promDir, 'prometheus.yml'));
  t.is(cfg.global.scrape_interval, '15s');
  t.is(cfg.global.evaluation_interval, '15s');
  const jobs = new Map<string, string[]>(cfg.scrape_configs.map((s: any) => [s.job_name, (s.static_configs ?? []).flatMap((c: any) => c.targets)]));
  t.deepEqual(jobs.get('praxiskern'), ['app:9464', 'worker:9464']);
  t.deepEqual(jobs.get('node'), ['node-exporter:9100']);
  t.deepEqual(jobs.get('alertmanager'), ['alertmanager:9093']);
  t.deepEqual(cfg.alerting.alertmanagers[0].static_configs[0].targets, ['alertmanager:9093']);
  t.deepEqual(jobs.get('postgres'), ['postgres-exporter:9187']);
  // The optional parts come from files the role writes only for the parts it runs, so a part
  // switched off (compose profile) has no target instead of a target that is down.
  for (const job of ['loki', 'alloy', 'grafana']) {
    const sc = cfg.scrape_configs.find((s: any) => s.job_name === job);
    t.is(sc.static_configs, undefined, job);
    t.deepEqual(sc.file_sd_configs, [{ files: [`targets/${job}*.yml`] }], job);
  }
  // Every job a rule selects on is scraped.
  const text = readFileSync(rulesFile, 'utf8');
  const selected = new Set<string>();
  for (const m of text.matchAll(/job=~?"([^"]+)"/g)) for (const j of m[1].split('|')) selected.add(j);
  t.deepEqual([...selected].filter((j) => !jobs.has(j)), []);
});

test('promtool check rules accepts the rules file', async (t) => {
  const r = await run('promtool', ['check', 'rules', rulesFile]);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /SUCCESS: \d+ rules found/);
});

for (const file of unitTestFiles) {
  test(`promtool test rules passes ${file}`, async (t) => {
    const r = await run('promtool', ['test', 'rules', file], { cwd: path.join(promDir, 'tests') });
    t.is(r.code, 0, r.out);
    t.regex(r.out, /SUCCESS/);
    t.notRegex(r.out, /FAILED/);
  });
}

test('the unit tests use the real 15 s scrape interval', async (t) => {
  for (const file of unitTestFiles) {
    const doc = await loadYaml(path.join(promDir, 'tests', file));
    t.deepEqual(doc.rule_files, [file === 'messaging.test.yml' ? '../rules/messaging.rules.yml' : file === 'ai.test.yml' ? '../rules/ai.rules.yml' : '../rules/praxiskern.rules.yml'], file);
    for (const tc of doc.tests) t.is(tc.interval, '15s', `${file}: ${tc.name}`);
  }
});

test('every alert, and each severity of it, has a firing and a quiet unit test', async (t) => {
  const firing = new Set<string>();
  const quiet = new Set<string>();
  for (const file of unitTestFiles) {
    const doc = await loadYaml(path.join(promDir, 'tests', file));
    for (const tc of doc.tests) {
      for (const a of tc.alert_rule_test ?? []) {
        if ((a.exp_alerts ?? []).length === 0) quiet.add(a.alertname);
        for (const e of a.exp_alerts ?? []) firing.add(`${a.alertname}/${e.exp_labels.severity}`);
      }
    }
  }
  const all = await alerts();
  t.true(all.length >= 15);
  t.deepEqual(all.filter((a) => !firing.has(`${a.alert}/${a.labels?.severity}`)).map((a) => `${a.alert}/${a.labels?.severity}`), [], 'no firing test');
  t.deepEqual([...new Set(all.map((a) => a.alert!))].filter((a) => !quiet.has(a)), [], 'no quiet test');
});

test('a broken rule makes promtool test rules fail', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pk-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(promDir, dir, { recursive: true });
  const copy = path.join(dir, 'rules', 'praxiskern.rules.yml');
  const original = readFileSync(copy, 'utf8');
  // The copy passes as it is, so a failure below is the mutation's doing.
  const clean = await run('promtool', ['test', 'rules', 'availability.test.yml', 'http.test.yml'], { cwd: path.join(dir, 'tests') });
  t.is(clean.code, 0, clean.out);
  const mutations: [string, string, string, RegExp][] = [
    ['expr: vector(0.05)', 'expr: vector(0.5)', 'http.test.yml', /alertname: HighErrorRate/],
    ['expr: up{job="praxiskern"} == 0\n        for: 5m', 'expr: up{job="praxiskern"} == 0\n        for: 30m', 'availability.test.yml', /alertname: PraxiskernDown/],
    ['severity: critical\n        annotations:\n          summary: Praxiskern {{ $labels.service }} has been sealed', 'severity: warning\n        annotations:\n          summary: Praxiskern {{ $labels.service }} has been sealed', 'availability.test.yml', /alertname: PraxiskernSealed/],
  ];
  for (const [from, to, testFile, expected] of mutations) {
    t.true(original.includes(from), `mutation anchor missing: ${from}`);
    writeFileSync(copy, original.replace(from, to));
    const r = await run('promtool', ['test', 'rules', testFile], { cwd: path.join(dir, 'tests') });
    t.not(r.code, 0, `${from} → ${to} must fail ${testFile}`);
    t.regex(r.out, expected);
  }
  t.true(original.includes('increase(praxiskern_logins_total{'));
  writeFileSync(copy, original.replace('increase(praxiskern_logins_total{', 'increase(praxiskern_logins_total{{'));
  const syntax = await run('promtool', ['check', 'rules', copy]);
  t.not(syntax.code, 0, 'a PromQL syntax error must fail promtool check rules');
});

test('every alert has for, severity, summary, description and a runbook that exists', async (t) => {
  for (const a of await alerts()) {
    t.regex(a.for ?? '', /^\d+[smhd]$/, `${a.alert}: for`);
    t.regex(a.labels?.severity ?? '', /^(critical|warning|none)$/, `${a.alert}: severity`);
    t.true((a.annotations?.summary ?? '').length > 10, `${a.alert}: summary`);
    t.true((a.annotations?.description ?? '').length > 30, `${a.alert}: description`);
    t.is(a.annotations?.runbook_url, `docs/runbooks/${a.alert}.md`, `${a.alert}: runbook_url`);
    const runbook = path.join(repo, 'docs', 'runbooks', `${a.alert}.md`);
    t.true(existsSync(runbook), `${runbook} missing`);
    const text = readFileSync(runbook, 'utf8');
    for (const section of ['## Symptom', '## Impact', '## First steps', '## Escalation']) t.true(text.includes(section), `${a.alert}.md lacks ${section}`);
  }
  t.true((await alerts()).some((a) => a.alert === 'Watchdog' && a.expr.trim() === 'vector(1)'));
});

test('the header of the rules file documents every alert, threshold and mirrored duration truthfully', async (t) => {
  const text = readFileSync(rulesFile, 'utf8');
  const header = text.slice(0, text.indexOf('\n---\n'));
  // ALERTS table: "#   Name   for   severity"
  const table = [...header.matchAll(/^#\s{3}([A-Z]\w+)\s+(\d+[smhd])\s+(critical|warning|none)\s*$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
  const actual = (await alerts()).map((a) => `${a.alert} ${a.for} ${a.labels!.severity}`);
  t.deepEqual([...table].sort(), [...actual].sort());
  // THRESHOLDS table: "#   praxiskern:threshold:name   value"
  const documented = new Map([...header.matchAll(/^#\s+(praxiskern:threshold:\w+)\s+([\d.]+)\s/gm)].map((m) => [m[1], Number(m[2])]));
  const recorded = new Map((await rules()).filter((r) => r.record?.startsWith('praxiskern:threshold:')).map((r) => [r.record!, Number(/^vector\(([\d.]+)\)$/.exec(r.expr.trim())?.[1])]));
  t.deepEqual([...documented.entries()].sort(), [...recorded.entries()].sort());
  // Each threshold is used by an alert, and alerts use only thresholds that exist.
  const alertExprs = (await alerts()).map((a) => a.expr).join('\n');
  for (const name of recorded.keys()) t.true(alertExprs.includes(name), `${name} unused by any alert`);
  for (const m of alertExprs.matchAll(/praxiskern:threshold:\w+/g)) t.true(recorded.has(m[0]), `${m[0]} is not recorded`);
  // Durations PromQL cannot read from a series equal their threshold.
  const seconds = (d: string) => Number(d.slice(0, -1)) * { s: 1, m: 60, h: 3600, d: 86400 }[d.slice(-1) as 's']!;
  const byName = new Map((await alerts()).map((a) => [a.alert, a.expr]));
  t.is(seconds(/offset (\d+[hd])/.exec(byName.get('BackupMissing')!)![1]), Number(recorded.get('praxiskern:threshold:backup_max_age_seconds')));
  t.is(seconds(/offset (\d+[hd])/.exec(byName.get('RestoreDrillMissing')!)![1]), Number(recorded.get('praxiskern:threshold:drill_max_age_seconds')));
});

test('the rules use only metrics that the app exposes', async (t) => {
  const sources = ['app/api/src/http/metrics.ts', 'app/api/src/modules/backup/metrics.ts', 'app/api/src/modules/audit/metrics.ts', 'app/api/src/modules/installation/host-checks.service.ts'].map((f) => readFileSync(path.join(repo, f), 'utf8')).join('\n');
  const declared = new Set([...sources.matchAll(/name: '(praxiskern_\w+)'/g)].map((m) => m[1]));
  t.true(declared.has('praxiskern_http_request_duration_seconds') && declared.has('praxiskern_backup_last_success_timestamp_seconds'));
  const dashboard = readFileSync(path.join(ops, 'grafana', 'dashboards', 'praxiskern.json'), 'utf8');
  const used = new Set([...(readFileSync(rulesFile, 'utf8') + dashboard).matchAll(/\b(praxiskern_[a-z_]+)/g)].map((m) => m[1]));
  const unknown = [...used].filter((name) => {
    if (/^praxiskern_(process|nodejs)_/.test(name)) return false; // prom-client default metrics with the prefix
    const base = name.replace(/_(bucket|count|sum)$/, '');
    return !declared.has(name) && !declared.has(base);
  });
  t.deepEqual(unknown, []);
});

// --- Alertmanager ----------------------------------------------------------------------------

test('amtool accepts the rendered Alertmanager configuration and routes by severity', async (t) => {
  const full = await renderAlertmanager(t, alertEnv);
  t.is(full.code, 0, full.out);
  const check = await run('amtool', ['check-config', full.file]);
  t.is(check.code, 0, check.out);
  t.regex(check.out, /SUCCESS/);
  const rendered = readFileSync(full.file, 'utf8');
  t.notRegex(rendered.replace(/^\s*#.*$/gm, ''), /\$\{/);
  t.regex(rendered, /to: 'it@praxis\.example\.de, o''brien@dienstleister\.example\.de'/);
  t.regex(rendered, /smtp_auth_password_file: '\/run\/secrets\/alert_smtp_password'/);
  const route = async (...labels: string[]) => (await run('amtool', ['config', 'routes', 'test', `--config.file=${full.file}`, ...labels])).out.trim().split('\n').pop();
  t.is(await route('alertname=Watchdog', 'severity=none'), 'heartbeat');
  t.is(await route('alertname=BackupMissing', 'severity=critical'), 'email-critical');
  t.is(await route('alertname=HighLatency', 'severity=warning'), 'email-warning');
  t.is(await route('alertname=Unknown'), 'email-warning');
});

test('without SMTP login and heartbeat URL the configuration leaves them out and stays valid', async (t) => {
  const { PRAXISKERN_ALERT_SMTP_USERNAME: _u, PRAXISKERN_ALERT_HEARTBEAT_URL: _h, ...minimal } = alertEnv;
  const r = await renderAlertmanager(t, minimal);
  t.is(r.code, 0, r.out);
  const check = await run('amtool', ['check-config', r.file]);
  t.is(check.code, 0, check.out);
  const rendered = readFileSync(r.file, 'utf8');
  t.notRegex(rendered, /smtp_auth|webhook_configs/);
  t.regex(rendered, /- name: heartbeat/);
});

test('Alertmanager refuses to start without a mail address or with a bad TLS setting', async (t) => {
  const { PRAXISKERN_ALERT_EMAIL_TO: _to, ...noRecipient } = alertEnv;
  const r = await renderAlertmanager(t, noRecipient);
  t.not(r.code, 0);
  t.regex(r.out, /PRAXISKERN_ALERT_EMAIL_TO is not set/);
  const tls = await renderAlertmanager(t, { ...alertEnv, PRAXISKERN_ALERT_SMTP_REQUIRE_TLS: 'yes' });
  t.not(tls.code, 0);
  t.regex(tls.out, /PRAXISKERN_ALERT_SMTP_REQUIRE_TLS must be true or false/);
  const interval = await renderAlertmanager(t, { ...alertEnv, PRAXISKERN_ALERT_GROUP_INTERVAL: '5 minutes' });
  t.not(interval.code, 0);
  t.regex(interval.out, /PRAXISKERN_ALERT_GROUP_INTERVAL must be a duration/);
});

test('the group interval is 5m unless an acceptance test shortens it, and amtool accepts both', async (t) => {
  for (const [value, expected] of [[undefined, '5m'], ['15s', '15s']] as const) {
    const r = await renderAlertmanager(t, value ? { ...alertEnv, PRAXISKERN_ALERT_GROUP_INTERVAL: value } : alertEnv);
    t.is(r.code, 0, r.out);
    const cfg = await loadYaml(r.file);
    t.is(cfg.route.group_interval, expected);
    t.is(cfg.route.routes.find((x: any) => x.receiver === 'heartbeat').group_interval, '1m');
    const check = await run('amtool', ['check-config', r.file]);
    t.is(check.code, 0, check.out);
  }
});

test('inhibit rules: PraxiskernSealed silences its follow-ups, never login failures or backups', async (t) => {
  const r = await renderAlertmanager(t, alertEnv);
  t.is(r.code, 0, r.out);
  const cfg = await loadYaml(r.file);
  const names = new Set((await alerts()).map((a) => a.alert));
  const sealed = cfg.inhibit_rules.find((i: any) => i.source_matchers.includes('alertname="PraxiskernSealed"'));
  t.truthy(sealed);
  const targets = /alertname=~"([^"]+)"/.exec(sealed.target_matchers[0])![1].split('|');
  t.true(targets.includes('HighErrorRate') && targets.includes('RestoreDrillFailed'));
  t.false(targets.includes('LoginFailuresSpike') || targets.includes('BackupMissing'));
  for (const rule of cfg.inhibit_rules) {
    for (const m of [...rule.source_matchers, ...rule.target_matchers].join(' ').matchAll(/alertname=~?"([^"]+)"/g)) {
      for (const name of m[1].split('|')) t.true(names.has(name), `inhibit rule names unknown alert ${name}`);
    }
  }
});

// --- Loki, Alloy, Grafana --------------------------------------------------------------------

test('Loki keeps logs 7 days: compactor retention on, retention_period 168h', async (t) => {
  const cfg = await loadYaml(path.join(ops, 'loki', 'loki.yaml'));
  t.is(cfg.compactor.retention_enabled, true);
  t.truthy(cfg.compactor.delete_request_store);
  t.is(cfg.limits_config.retention_period, '168h');
  t.is(cfg.auth_enabled, false);
  t.is(cfg.server.http_listen_port, 3100);
  t.is(cfg.schema_config.configs.at(-1).store, 'tsdb');
  t.is(cfg.schema_config.configs.at(-1).schema, 'v13');
  t.is(cfg.analytics.reporting_enabled, false);
});

test('the Alloy pipeline reads journald and Docker JSON logs, drops nothing and ships to Loki', (t) => {
  const text = readFileSync(path.join(ops, 'alloy', 'config.alloy'), 'utf8');
  const code = text.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\/\/.*$/gm, '');
  let depth = 0;
  for (const ch of code) {
    if (ch === '{' || ch === '[') depth++;
    if (ch === '}' || ch === ']') depth--;
    t.true(depth >= 0, 'unbalanced brackets');
  }
  t.is(depth, 0, 'unbalanced brackets');
  const defined = new Set([...text.matchAll(/^([a-z_]+(?:\.[a-z_]+)+) "(\w+)" \{/gm)].map((m) => `${m[1]}.${m[2]}`));
  for (const c of ['loki.source.journal.system', 'loki.source.file.docker_json', 'loki.process.pino', 'loki.write.local']) t.true(defined.has(c), `${c} missing`);
  const references = [...code.matchAll(/\b((?:loki|local)\.[a-z_.]+?)\.(receiver|rules|targets)\b/g)].map((m) => m[1]);
  t.true(references.length >= 5);
  for (const ref of references) t.true(defined.has(ref), `reference to undefined component ${ref}`);
  t.notRegex(code, /stage\.(drop|replace|sampling|limit)\b/, 'the pipeline must not drop or rewrite lines');
  t.regex(text, /url = "http:\/\/loki:3100\/loki\/api\/v1\/push"/);
  t.regex(text, /"__path__" = "\/var\/lib\/docker\/containers\/\*\/\*-json\.log"/);
});

test('Grafana provisioning: data sources match the services and the dashboard queries are valid PromQL', async (t) => {
  const ds = await loadYaml(path.join(ops, 'grafana', 'provisioning', 'datasources', 'praxiskern.yaml'));
  const uids = new Map(ds.datasources.map((d: any) => [d.uid, d]));
  t.is((uids.get('prometheus') as any).url, 'http://prometheus:9090');
  t.is((uids.get('loki') as any).url, 'http://loki:3100');
  const providers = await loadYaml(path.join(ops, 'grafana', 'provisioning', 'dashboards', 'praxiskern.yaml'));
  t.is(providers.providers[0].options.path, '/var/lib/grafana/dashboards');

  const dash = JSON.parse(readFileSync(path.join(ops, 'grafana', 'dashboards', 'praxiskern.json'), 'utf8'));
  t.is(dash.uid, 'praxiskern-overview');
  const panels = dash.panels.filter((p: any) => p.type !== 'row');
  t.is(new Set(dash.panels.map((p: any) => p.id)).size, dash.panels.length, 'panel ids unique');
  const titles = panels.map((p: any) => p.title).join(' | ');
  for (const topic of [/Requests/, /Latency/, /Seal/, /[Ll]ogin/, /[Bb]ackup/, /restore drill/]) t.regex(titles, topic);
  const promExprs: string[] = [];
  for (const p of panels) {
    t.truthy(p.gridPos, `${p.title}: gridPos`);
    t.true(uids.has(p.datasource.uid), `${p.title}: unknown data source ${p.datasource.uid}`);
    for (const target of p.targets) {
      t.true(uids.has(target.datasource.uid), `${p.title}: unknown data source`);
      if (target.datasource.type === 'prometheus') promExprs.push(target.expr);
    }
  }
  // Every recording rule a panel reads exists.
  const recorded = new Set((await rules()).filter((r) => r.record).map((r) => r.record));
  for (const e of promExprs) for (const m of e.matchAll(/praxiskern:[\w:]+/g)) t.true(recorded.has(m[0]), `${m[0]} is not recorded`);
  // promtool parses each query as a recording rule.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pk-dash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'dashboard.rules.yml');
  writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: promExprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }] }));
  const r = await run('promtool', ['check', 'rules', file]);
  t.is(r.code, 0, r.out);
  t.regex(r.out, new RegExp(`SUCCESS: ${promExprs.length} rules found`));
});

test('the compose override runs the stack on the internal network and publishes only Grafana on loopback', async (t) => {
  const compose = await loadYaml(path.join(repo, 'compose', 'compose.monitoring.yaml'));
  const services = compose.services;
  t.deepEqual(Object.keys(services).sort(), ['alertmanager', 'alloy', 'grafana', 'loki', 'node-exporter', 'postgres-exporter', 'prometheus']);
  for (const [name, s] of Object.entries<any>(services)) {
    t.true(s.networks.includes('backend'), `${name} not on backend`);
    t.true(s.read_only, `${name} not read-only`);
    // A variable per image (Debian-package images where no registry is reachable), defaulting
    // to the pinned upstream release.
    const variable = `PRAXISKERN_${name.toUpperCase().replace('-', '_')}_IMAGE`;
    const m = /^\$\{([A-Z_]+):-(.+)\}$/.exec(s.image);
    t.truthy(m, `${name}: image ${s.image} is not \${${variable}:-<pinned image>}`);
    t.is(m![1], variable, `${name} image variable`);
    t.regex(m![2], /:v?\d+\.\d+\.\d+$/, `${name} image not pinned`);
    // Loki and Alloy, and Grafana, have no Debian package: switched by compose profiles.
    t.deepEqual(s.profiles, { loki: ['logs'], alloy: ['logs'], grafana: ['grafana'] }[name], `${name} profiles`);
    if (name !== 'grafana') t.is(s.ports, undefined, `${name} publishes a port`);
    for (const v of s.volumes ?? []) {
      const src = String(v).split(':')[0];
      if (src.startsWith('../ops/')) t.true(existsSync(path.join(repo, 'compose', src)), `${name}: ${src} missing`);
    }
  }
  t.deepEqual(services.grafana.ports, ['127.0.0.1:${PRAXISKERN_GRAFANA_PORT:-3000}:3000']);
  t.false(services.prometheus.networks.includes('egress'));
  // Prometheus' targets are services of the bundle or the override.
  const base = await loadYaml(path.join(repo, 'compose', 'compose.yaml'));
  const known = new Set([...Object.keys(base.services), ...Object.keys(services), 'localhost']);
  const cfg = await loadYaml(path.join(promDir, 'prometheus.yml'));
  for (const job of cfg.scrape_configs) {
    for (const target of (job.static_configs ?? []).flatMap((c: any) => c.targets)) t.true(known.has(target.split(':')[0]), `${job.job_name}: ${target}`);
  }
  // postgres-exporter logs in as the pg_monitor role the playbook creates, with its own secret.
  t.is(services['postgres-exporter'].environment.DATA_SOURCE_USER, 'praxiskern_monitor');
  t.deepEqual(services['postgres-exporter'].secrets, ['db_monitor_password']);
  // Grafana: IdP login through generic OAuth, the client secret as a file, a sub-path behind the proxy.
  const gf = services.grafana.environment;
  t.is(gf.GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE, '/run/secrets/grafana_oidc_client_secret');
  t.is(gf.GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_STRICT, 'true');
  t.is(gf.GF_SERVER_SERVE_FROM_SUB_PATH, '${PRAXISKERN_PROXY_GRAFANA:-false}');
  t.is(gf.GF_AUTH_GENERIC_OAUTH_ENABLED, '${PRAXISKERN_GRAFANA_OIDC_ENABLED:-false}');
  for (const key of ['CLIENT_ID', 'AUTH_URL', 'TOKEN_URL', 'API_URL', 'ROLE_ATTRIBUTE_PATH', 'SCOPES']) t.truthy(gf[`GF_AUTH_GENERIC_OAUTH_${key}`], key);
  t.false(Object.keys(gf).some((k) => /CLIENT_SECRET$/.test(k)), 'the client secret must come from a file');
  t.true(base.networks.backend.internal);
});

test('every variable the compose override reads is documented, in .env.example or docs/monitoring.md', (t) => {
  const compose = readFileSync(path.join(repo, 'compose', 'compose.monitoring.yaml'), 'utf8');
  const docs = readFileSync(path.join(repo, 'docs', 'monitoring.md'), 'utf8') + readFileSync(path.join(repo, 'compose', '.env.example'), 'utf8');
  const used = new Set([...compose.matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
  t.true(used.has('PRAXISKERN_ALERT_EMAIL_TO'));
  t.deepEqual([...used].filter((v) => !new RegExp(`^${v}=`, 'm').test(docs)), []);
});
