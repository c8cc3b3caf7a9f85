// Monitoring on an installed test server (role praxiskern_monitoring): the playbook variables
// that make the stack run there, and the end-to-end proof that it works. Used by the
// Docker-in-Docker tests that install a server (tests/appliance/update.test.ts).
//
//   const mon = await startMonitoringTest(server);               // images + receivers
//   const vars = { ...appliance vars, ...monitoringVars(mon) };  // then run the playbook
//   const figures = await proveMonitoring(server, mon);          // seconds to scrape, alert, mail, heartbeat
//   await mon.close();
//
// The stack runs on images built from Debian's packages (Prometheus, Alertmanager, node and
// PostgreSQL exporters); Loki, Alloy and Grafana have no Debian package and no image here, so
// they are switched off (their configuration is only validated, docs/monitoring.md).
// Alert mail goes to an SMTP server in this test process, the Watchdog heartbeat to an HTTP
// receiver in this test process, both bound to the server network's gateway address only.
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { baseImagePrefix, cacheDir, imageTag, must, repo, run, waitFor, withLock, type Server } from './helpers.ts';

/** The four services that have Debian packages, as role service names. */
export const debianMonitoringServices = ['prometheus', 'alertmanager', 'node-exporter', 'postgres-exporter'] as const;

export interface MonitoringImages {
  /** Service name -> image name (praxiskern_monitoring_images entries). */
  images: Record<string, string>;
  /** Service name -> `docker save` archive on this machine. */
  archives: Record<string, string>;
  buildSeconds: number;
}

/**
 * Builds the monitoring images from Debian's packages on the local debootstrap base
 * (appliance/docker/monitoring/build-monitoring-images.sh) and saves them as archives; Docker's
 * layer cache makes a rebuild take seconds, and an archive is rewritten only when its image changed.
 */
export function monitoringImages(): Promise<MonitoringImages> {
  return withLock('monitoring-images', async () => {
    const started = Date.now();
    const base = `${baseImagePrefix}:trixie-slim`;
    if ((await run('docker', ['image', 'inspect', base])).code !== 0) {
      await must(path.join(repo, 'appliance/docker/build-base-images.sh'), ['trixie'], { timeoutMs: 20 * 60_000 });
    }
    const archiveDir = path.join(cacheDir, 'images', `monitoring-${imageTag}`);
    mkdirSync(archiveDir, { recursive: true });
    await must(path.join(repo, 'appliance/docker/monitoring/build-monitoring-images.sh'), ['--tag', imageTag, '--save', archiveDir], {
      env: { ...process.env, BASE_IMAGE: base },
      timeoutMs: 30 * 60_000,
    });
    const images: Record<string, string> = {};
    const archives: Record<string, string> = {};
    for (const name of debianMonitoringServices) {
      images[name] = `praxiskern/monitoring-${name}:${imageTag}`;
      archives[name] = path.join(archiveDir, `praxiskern-monitoring-${name}-${imageTag}.tar`);
      if (!existsSync(archives[name])) throw new Error(`build-monitoring-images.sh left no archive ${archives[name]}`);
    }
    return { images, archives, buildSeconds: Math.round((Date.now() - started) / 1000) };
  });
}

export interface ReceivedMail {
  at: number;
  from: string;
  to: string[];
  subject: string;
  raw: string;
}

export interface ReceivedHeartbeat {
  at: number;
  alertnames: string[];
}

export interface MonitoringTest {
  images: MonitoringImages;
  /** The address the receivers listen on (the server network's gateway). */
  host: string;
  smtpPort: number;
  heartbeatPort: number;
  mails: ReceivedMail[];
  heartbeats: ReceivedHeartbeat[];
  alertTo: string;
  close(): Promise<void>;
}

/** A plain SMTP server (no TLS, no login: the test sets require_tls false) that keeps every mail. */
function startSmtp(host: string, mails: ReceivedMail[]): Promise<SMTPServer & { port: number }> {
  return new Promise((resolve, reject) => {
    const server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      banner: 'praxiskern monitoring test',
      onData(stream, session, callback) {
        let raw = '';
        stream.setEncoding('utf8');
        stream.on('data', (d: string) => (raw += d));
        stream.on('end', () => {
          const header = raw.split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n[ \t]+/g, ' ');
          const subject = /^Subject: (.*)$/im.exec(header)?.[1] ?? '';
          mails.push({
            at: Date.now(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: decodeSubject(subject),
            raw,
          });
          callback();
        });
      },
    });
    server.on('error', reject);
    server.listen(0, host, () => {
      const port = (server.server.address() as AddressInfo).port;
      resolve(Object.assign(server, { port }));
    });
  });
}

/** Alertmanager encodes a non-ASCII subject as RFC 2047 words; ours is ASCII, but be exact. */
function decodeSubject(subject: string): string {
  return subject.replace(/=\?utf-8\?([bq])\?([^?]*)\?=\s*/gi, (_, enc: string, text: string) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  );
}

function startHeartbeatReceiver(host: string, heartbeats: ReceivedHeartbeat[]): Promise<http.Server & { port: number }> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/heartbeat') {
          try {
            const payload = JSON.parse(body);
            heartbeats.push({ at: Date.now(), alertnames: (payload.alerts ?? []).map((a: { labels?: { alertname?: string } }) => a.labels?.alertname ?? '') });
          } catch {
            heartbeats.push({ at: Date.now(), alertnames: [] });
          }
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    server.on('error', reject);
    server.listen(0, host, () => resolve(Object.assign(server, { port: (server.address() as AddressInfo).port })));
  });
}

/**
 * Builds (or reuses) the Debian monitoring images and starts the SMTP and heartbeat receivers on
 * the server network's gateway address (a network the test created; never a public interface).
 */
export async function startMonitoringTest(server: Server): Promise<MonitoringTest> {
  const images = await monitoringImages();
  const mails: ReceivedMail[] = [];
  const heartbeats: ReceivedHeartbeat[] = [];
  const smtp = await startSmtp(server.hostSideIp, mails);
  const hb = await startHeartbeatReceiver(server.hostSideIp, heartbeats);
  return {
    images,
    host: server.hostSideIp,
    smtpPort: smtp.port,
    heartbeatPort: hb.port,
    mails,
    heartbeats,
    alertTo: 'it@praxis.test',
    async close() {
      await new Promise<void>((r) => smtp.close(() => r()));
      await new Promise<void>((r) => {
        hb.closeAllConnections();
        hb.close(() => r());
      });
    },
  };
}

/**
 * The playbook variables that make the monitoring stack run on the test server: Debian-package
 * images delivered as archives, Loki/Alloy/Grafana off (no image here), alert mail to the test's
 * SMTP server without TLS, the heartbeat to the test's HTTP receiver, and every alert's `for:`
 * shortened to 15 s (praxiskern_monitoring_acceptance_test_for, for acceptance tests only).
 */
export function monitoringVars(ctx: MonitoringTest): Record<string, unknown> {
  return {
    praxiskern_monitoring_enabled: true,
    praxiskern_monitoring_logs: false,
    praxiskern_monitoring_grafana: false,
    praxiskern_monitoring_images: {
      prometheus: ctx.images.images.prometheus,
      alertmanager: ctx.images.images.alertmanager,
      'node-exporter': ctx.images.images['node-exporter'],
      'postgres-exporter': ctx.images.images['postgres-exporter'],
      loki: 'grafana/loki:3.5.3',
      alloy: 'grafana/alloy:v1.10.0',
      grafana: 'grafana/grafana-oss:12.1.0',
    },
    praxiskern_monitoring_image_archives: ctx.images.archives,
    praxiskern_monitoring_alert_email_to: [ctx.alertTo],
    praxiskern_monitoring_alert_email_from: 'praxiskern@praxis.test',
    praxiskern_monitoring_smtp_smarthost: `${ctx.host}:${ctx.smtpPort}`,
    praxiskern_monitoring_smtp_require_tls: false,
    praxiskern_monitoring_heartbeat_url: `http://${ctx.host}:${ctx.heartbeatPort}/heartbeat`,
    praxiskern_monitoring_acceptance_test_for: '15s',
  };
}

export interface ProveOptions {
  /** The compose project directory on the server. */
  composeDir?: string;
  /** How compose is called on the server (default: as the playbook's systemd unit calls it). */
  composeCommand?: string;
  /** Log lines (e.g. t.log). */
  log?: (line: string) => void;
  /** Upper bound for each wait, in ms (default 5 minutes). */
  timeoutMs?: number;
}

interface PromSample { metric: Record<string, string>; value: [number, string] }

/** Docker's compose command on the server, as the playbook's systemd unit runs it. */
async function composeCommand(server: Server): Promise<string> {
  const r = await server.exec('sed -n "s/^ExecStart=\\(.*\\) up .*/\\1/p" /etc/systemd/system/praxiskern.service');
  const cmd = r.stdout.trim();
  if (!cmd) throw new Error(`no compose command in praxiskern.service: ${r.stdout}${r.stderr}`);
  return cmd;
}

async function mustOn(server: Server, cmd: string): Promise<string> {
  const r = await server.exec(cmd);
  if (r.code !== 0) throw new Error(`${cmd} on the server exited ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A PromQL query through Prometheus' HTTP API, from inside the Prometheus container. */
async function promQuery(server: Server, compose: string, composeDir: string, query: string): Promise<PromSample[]> {
  const url = `http://127.0.0.1:9090/api/v1/query?query=${encodeURIComponent(query)}`;
  const r = await server.exec(`cd ${composeDir} && ${compose} exec -T prometheus wget -q -O - '${url}'`);
  if (r.code !== 0) throw new Error(`query ${query} failed: ${r.stdout}${r.stderr}`);
  const body = JSON.parse(r.stdout);
  if (body.status !== 'success') throw new Error(`query ${query}: ${r.stdout}`);
  return body.data.result;
}

/**
 * Proves the monitoring stack on an installed server:
 *  1. Prometheus scrapes app, worker, node-exporter and postgres-exporter (`up == 1` each) and
 *     postgres-exporter reaches PostgreSQL (`pg_up == 1`);
 *  2. the Watchdog heartbeat reaches the test's HTTP receiver;
 *  3. an induced fault – the worker frozen (`docker pause`: its metrics port stops answering,
 *     while its state, e.g. the unseal, survives) – fires PraxiskernDown, and Alertmanager's
 *     critical mail arrives at the test's SMTP server; the worker is resumed, scraped again, and
 *     the resolved mail arrives;
 *  4. journald keeps 7 days (MaxRetentionSec in effect) and the deployed Loki configuration
 *     keeps 168 h with the compactor's retention on.
 * Returns the seconds each step took.
 */
export async function proveMonitoring(server: Server, ctx: MonitoringTest, opts: ProveOptions = {}): Promise<Record<string, number>> {
  const composeDir = opts.composeDir ?? '/opt/praxiskern/compose';
  const log = opts.log ?? (() => {});
  const timeout = opts.timeoutMs ?? 5 * 60_000;
  const compose = opts.composeCommand ?? (await composeCommand(server));
  const q = (query: string) => promQuery(server, compose, composeDir, query);
  const figures: Record<string, number> = {};
  const started = Date.now();
  const since = (t: number) => Math.round((Date.now() - t) / 100) / 10;

  // 1. Scrapes.
  const wanted = ['praxiskern/app', 'praxiskern/worker', 'node/', 'postgres/'];
  await waitFor('Prometheus to scrape app, worker, node and PostgreSQL (up == 1 each)', timeout, async () => {
    const up = await q('up{job=~"praxiskern|node|postgres"}');
    const ok = new Set(up.filter((s) => s.value[1] === '1').map((s) => `${s.metric.job}/${s.metric.service ?? ''}`));
    return wanted.every((w) => ok.has(w)) ? true : undefined;
  }, 2000);
  figures.scrapeSeconds = since(started);
  const pgUp = await waitFor('pg_up == 1', timeout, async () => ((await q('pg_up')).some((s) => s.value[1] === '1') ? true : undefined), 2000);
  if (!pgUp) throw new Error('pg_up is not 1');
  log(`monitoring: app, worker, node, postgres scraped (up == 1, pg_up == 1) after ${figures.scrapeSeconds}s`);

  // 2. Heartbeat: the next Watchdog notification after this point.
  const hbFrom = Date.now();
  const hb = await waitFor('the Watchdog heartbeat at the test receiver', timeout, async () =>
    ctx.heartbeats.find((h) => h.at >= hbFrom && h.alertnames.includes('Watchdog')), 1000);
  figures.heartbeatSeconds = Math.round((hb.at - hbFrom) / 100) / 10;
  figures.heartbeatsReceived = ctx.heartbeats.length;
  log(`monitoring: Watchdog heartbeat received ${figures.heartbeatSeconds}s after asking (${ctx.heartbeats.length} so far)`);

  // 3. Induced fault: the worker stops answering.
  const workerId = (await server.exec(`cd ${composeDir} && ${compose} ps -q worker`)).stdout.trim();
  if (!workerId) throw new Error('no worker container');
  const faultAt = Date.now();
  await mustOn(server, `docker pause ${workerId}`);
  try {
    await waitFor('up == 0 for the worker', timeout, async () =>
      (await q('up{job="praxiskern",service="worker"}')).some((s) => s.value[1] === '0') ? true : undefined, 1000);
    figures.scrapeFailSeconds = since(faultAt);
    await waitFor('PraxiskernDown firing for the worker', timeout, async () =>
      (await q('ALERTS{alertname="PraxiskernDown",service="worker",alertstate="firing"}')).length > 0 ? true : undefined, 1000);
    figures.alertSeconds = since(faultAt);
    log(`monitoring: worker paused; up == 0 after ${figures.scrapeFailSeconds}s, PraxiskernDown firing after ${figures.alertSeconds}s`);
    const mail = await waitFor('the PraxiskernDown mail at the test SMTP server', timeout, async () =>
      ctx.mails.find((m) => m.at >= faultAt && /PraxiskernDown/.test(m.subject)), 1000);
    figures.mailSeconds = Math.round((mail.at - faultAt) / 100) / 10;
    if (!mail.to.includes(ctx.alertTo)) throw new Error(`alert mail went to ${mail.to.join(', ')}, not ${ctx.alertTo}`);
    if (!/^\[Praxiskern [^\]]+\] KRITISCH\/CRITICAL: PraxiskernDown/.test(mail.subject)) throw new Error(`unexpected alert mail subject: ${mail.subject}`);
    if (!/worker/.test(mail.raw)) throw new Error('the alert mail does not name the worker');
    log(`monitoring: mail "${mail.subject}" to ${mail.to.join(', ')} after ${figures.mailSeconds}s`);
  } finally {
    await mustOn(server, `docker unpause ${workerId}`);
  }
  const resumedAt = Date.now();
  await waitFor('the worker scraped again (up == 1)', timeout, async () =>
    (await q('up{job="praxiskern",service="worker"}')).some((s) => s.value[1] === '1') ? true : undefined, 1000);
  await waitFor('the worker healthy again', timeout, async () => {
    const r = await server.exec(`docker inspect --format '{{.State.Health.Status}}' ${workerId}`);
    return r.stdout.trim() === 'healthy' ? true : undefined;
  }, 2000);
  figures.recoverSeconds = since(resumedAt);
  // The resolved notice (send_resolved) closes the incident, so a later fault mails again.
  const resolved = await waitFor('the resolved PraxiskernDown mail', timeout, async () =>
    ctx.mails.find((m) => m.at >= resumedAt && /PraxiskernDown \(0 firing\)/.test(m.subject)), 1000);
  figures.resolvedMailSeconds = Math.round((resolved.at - resumedAt) / 100) / 10;
  log(`monitoring: worker resumed, scraped and healthy after ${figures.recoverSeconds}s; resolved mail after ${figures.resolvedMailSeconds}s`);

  // 4. Retention of the system access logs: 7 days.
  const journald = await server.exec('systemd-analyze cat-config systemd/journald.conf');
  const retention = [...journald.stdout.matchAll(/^MaxRetentionSec=(\S+)/gm)].map((m) => m[1]).at(-1);
  if (retention !== '7day') throw new Error(`journald MaxRetentionSec is ${retention ?? 'unset'}, not 7day:\n${journald.stdout}`);
  const times = await server.exec(
    'echo $(stat -c %Y /etc/systemd/journald.conf.d/praxiskern.conf) $(date -d "$(systemctl show systemd-journald -p ExecMainStartTimestamp --value)" +%s)',
  );
  const [confAt, journaldAt] = times.stdout.trim().split(/\s+/).map(Number);
  if (!(journaldAt >= confAt)) throw new Error(`systemd-journald (started ${journaldAt}) runs without its retention setting (written ${confAt})`);
  const loki = (await server.exec('cat /opt/praxiskern/ops/loki/loki.yaml')).stdout;
  if (!/^\s+retention_enabled: true$/m.test(loki) || !/^\s+retention_period: 168h$/m.test(loki)) throw new Error('Loki retention on the server is not 168h');
  log('monitoring: journald MaxRetentionSec=7day in effect; Loki retention_period 168h with compactor retention');
  figures.totalSeconds = since(started);
  return figures;
}
