// Shared checks for one Prometheus alert rules file (ops/prometheus/rules/<area>.rules.yml):
// promtool check and unit tests, every alert documented in the file's header, with
// for/severity/summary/description and a runbook, each with a firing and a quiet case; a broken
// threshold makes the unit test fail.
import type { TestFn } from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../..');
const promDir = path.join(repo, 'ops', 'prometheus');

export const run = (cmd: string, args: string[], cwd?: string) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
};
export const yaml = (file: string): any => JSON.parse(run('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1], encoding="utf-8")), sys.stdout)', file]).out);

export type AlertRulesSpec = {
  /** file stem: rules/<area>.rules.yml and tests/<area>.test.yml */
  area: string;
  /** word used in the test titles ("AI", "messaging") */
  label: string;
  /** the alert names the file must define, sorted */
  alerts: string[];
  /** [from, to, alert]: replacing `from` by `to` in the rules must make `alert`'s unit test fail */
  mutations: Array<[string, string, string]>;
  /** prefix of the temporary directory */
  tmpPrefix: string;
};

export const alertRulesTests = (test: TestFn, spec: AlertRulesSpec) => {
  const rulesFile = path.join(promDir, 'rules', `${spec.area}.rules.yml`);
  const unitName = `${spec.area}.test.yml`;
  const unitFile = path.join(promDir, 'tests', unitName);

  test(`promtool checks the ${spec.label} rules and its unit tests pass`, (t) => {
    const check = run('promtool', ['check', 'rules', rulesFile]);
    t.is(check.code, 0, check.out);
    const unit = run('promtool', ['test', 'rules', unitName], path.dirname(unitFile));
    t.is(unit.code, 0, unit.out);
    const config = run('promtool', ['check', 'config', path.join(promDir, 'prometheus.yml')]);
    t.is(config.code, 0, config.out);
    t.regex(config.out, /messaging\.rules\.yml/, 'prometheus.yml loads the file (rules/*.rules.yml)');
    t.regex(config.out, new RegExp(`${spec.area}\\.rules\\.yml`), `prometheus.yml loads ${spec.area}.rules.yml`);
  });

  test(`every ${spec.label} alert has for, severity, summary, description, a runbook and a firing and a quiet test; the header lists it`, (t) => {
    const alerts = yaml(rulesFile).groups.flatMap((g: any) => g.rules).filter((r: any) => r.alert);
    t.deepEqual(alerts.map((a: any) => a.alert).sort(), spec.alerts);
    const header = readFileSync(rulesFile, 'utf8').split('\n---\n')[0];
    const tests = yaml(unitFile).tests.flatMap((tc: any) => tc.alert_rule_test ?? []);
    for (const a of alerts) {
      t.regex(a.for, /^\d+[smhd]$/);
      t.regex(a.labels.severity, /^(critical|warning)$/);
      t.true(a.annotations.summary.length > 10 && a.annotations.description.length > 30);
      t.is(a.annotations.runbook_url, `docs/runbooks/${a.alert}.md`);
      const runbook = path.join(repo, 'docs', 'runbooks', `${a.alert}.md`);
      t.true(existsSync(runbook));
      for (const s of ['## Symptom', '## Impact', '## First steps', '## Escalation']) t.true(readFileSync(runbook, 'utf8').includes(s), `${a.alert}: ${s}`);
      t.regex(header, new RegExp(`#\\s+${a.alert}\\s+${a.for}\\s+${a.labels.severity}`), `${a.alert} in the header table`);
      t.true(tests.some((x: any) => x.alertname === a.alert && (x.exp_alerts ?? []).length > 0), `${a.alert}: firing test`);
      t.true(tests.some((x: any) => x.alertname === a.alert && (x.exp_alerts ?? []).length === 0), `${a.alert}: quiet test`);
    }
  });

  test(`a changed threshold or duration makes the ${spec.label} unit tests fail`, (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), spec.tmpPrefix));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(promDir, dir, { recursive: true });
    const copy = path.join(dir, 'rules', `${spec.area}.rules.yml`);
    const original = readFileSync(copy, 'utf8');
    for (const [from, to, alert] of spec.mutations) {
      t.true(original.includes(from), `anchor ${from}`);
      writeFileSync(copy, original.replace(from, to));
      const r = run('promtool', ['test', 'rules', unitName], path.join(dir, 'tests'));
      t.not(r.code, 0, `${from} → ${to}`);
      t.regex(r.out, new RegExp(`alertname: ${alert}`));
    }
  });
};
