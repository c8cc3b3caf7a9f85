// `praxiskern backup run|list|verify|drill`, `restore`, `recovery-kit [combine]`, `erasure replay`:
// thin commands over the backup and erasure services. Long work shows progress (bytes, rate, ETA) on stderr; --json prints one
// JSON object on stdout; a failure exits non-zero with a one-line reason.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '@praxiskern/api/core/config.ts';
import { runWithContext, systemContext } from '@praxiskern/api/core/context.ts';
import { createDb, type Db } from '@praxiskern/api/db/connection.ts';
import { buildServices } from '@praxiskern/api/server.ts';
import type { Services } from '@praxiskern/api/http/services.ts';
import { readIdentityFile } from '@praxiskern/api/modules/backup/age/index.ts';
import { recordRestore } from '@praxiskern/api/modules/audit/anchor-file.repository.ts';
import { drillIdentity } from '@praxiskern/api/modules/backup/backup-keys.service.ts';
import { registerBackup, type BackupRuntime, type Progress } from '@praxiskern/api/modules/backup/backup-runtime.service.ts';
import { listSnapshots } from '@praxiskern/api/modules/backup/backup.repository.ts';
import { runDrill } from '@praxiskern/api/modules/backup/drill.service.ts';
import { createRecoveryKit, identityFromShares } from '@praxiskern/api/modules/backup/kit.service.ts';
import { restoreLocked } from '@praxiskern/api/modules/backup/restore.service.ts';
import { runBackup } from '@praxiskern/api/modules/backup/snapshot.service.ts';
import { takePreUpdateSnapshot } from '@praxiskern/api/modules/backup/pre-update.ts';
import { signersInIdentityFile } from '@praxiskern/api/modules/backup/manifest-signature.ts';
import { replayErasureLedger } from '@praxiskern/api/modules/gdpr/erasure.service.ts';
import { mergeLedgerFile } from '@praxiskern/api/modules/gdpr/ledger-file.ts';
import { completeSnapshots, verifyBackups } from '@praxiskern/api/modules/backup/verify.service.ts';
import { unsealWithLimits } from '@praxiskern/api/modules/keystore/seal.routes.ts';
import { readSecret } from './read-secret.ts';
import { fail, output, usageError, type Command, type Values } from './command.ts';
import { cliDatabase } from './database.ts';
import { refreshTargets } from '@praxiskern/api/modules/backup/targets-config.service.ts';

// ---- progress -----------------------------------------------------------------------------------

const MiB = 1024 * 1024;
const fmtBytes = (n: number) => (n >= 1024 * MiB ? `${(n / 1024 / MiB).toFixed(2)} GiB` : `${(n / MiB).toFixed(1)} MiB`);
const fmtTime = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/** Renders progress on stderr: a rewritten line on a terminal, a line every 5 s otherwise; nothing with --json. */
export function progressPrinter(enabled: boolean): ((p: Progress) => void) & { end(): void } {
  const tty = process.stderr.isTTY;
  let phase = '';
  let phaseStart = Date.now();
  let last = 0;
  let pending = '';
  const print = (p: Progress) => {
    if (!enabled) return;
    const key = `${p.phase}${p.target ?? ''}`;
    if (key !== phase) {
      if (tty && pending) process.stderr.write('\n');
      phase = key;
      phaseStart = Date.now();
    }
    const now = Date.now();
    if (now - last < (tty ? 200 : 5000) && !(p.totalItems && p.items === p.totalItems)) return;
    last = now;
    const seconds = Math.max(0.001, (now - phaseStart) / 1000);
    const rate = p.bytes / seconds;
    const eta = p.totalBytes && rate > 0 ? ` ETA ${fmtTime(Math.max(0, (p.totalBytes - p.bytes) / rate))}` : '';
    const items = p.totalItems !== undefined ? ` ${p.items ?? 0}/${p.totalItems}` : '';
    const total = p.totalBytes ? ` of ${fmtBytes(p.totalBytes)}` : '';
    pending = `${p.phase}${p.target ? ` [${p.target}]` : ''}${items} ${fmtBytes(p.bytes)}${total} ${fmtBytes(rate)}/s${eta}`;
    process.stderr.write(tty ? `\r\x1b[K${pending}` : `${pending}\n`);
  };
  return Object.assign(print, {
    end() {
      if (enabled && tty && pending) process.stderr.write('\n');
    },
  });
}

// ---- database and runtime -----------------------------------------------------------------------

/** Dumps and restores need the owner role, which only the worker and one-shot containers hold. */
export const OWNER_ROLE_ONLY = 'this command needs the database owner role (DATABASE_OWNER_URL): in the appliance run it in the worker, "docker compose exec worker praxiskern …"';

export async function withRuntime<T>(v: Values, fn: (rt: BackupRuntime, services: Services, db: Db) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const urls = await cliDatabase(config);
  if (!urls.ownerUrl) {
    await urls.stop();
    fail(OWNER_ROLE_ONLY);
  }
  const db = createDb(urls.appUrl, 4);
  const progress = progressPrinter(!v.json);
  try {
    const services = buildServices(config, db);
    const rt = registerBackup(services, { ownerUrl: urls.ownerUrl, onProgress: progress });
    // Targets added in the admin UI (a restore onto a fresh database has none yet: the environment's only).
    await refreshTargets(rt).catch((err: Error) => process.stderr.write(`praxiskern: the backup targets of the admin UI cannot be read (${err.message.split('\n')[0]}); using PRAXISKERN_BACKUP_TARGETS only\n`));
    return await runWithContext(systemContext('cli-backup'), () => fn(rt, services, db));
  } finally {
    progress.end();
    await db.destroy();
    await urls.stop();
  }
}

export async function identities(v: Values, rt: BackupRuntime, services: Services): Promise<string[]> {
  if (typeof v['identity-file'] === 'string') return readIdentityFile(v['identity-file']);
  if (v['passphrase-file'] !== undefined || process.stdin.isTTY) {
    // The drill key: unseal this process with the practice passphrase.
    const passphrase = await readSecret(v['passphrase-file'], 'Practice passphrase (to use the drill key): ', '--passphrase-file');
    await unsealWithLimits(services, passphrase, 'cli-backup');
    return [await drillIdentity(services.db, services.seal)];
  }
  return fail('a key is needed: --identity-file F (the recovery kit) or --passphrase-file F (the on-server drill key)');
}

/** Signing keys to trust besides this installation's own: --signer, and the identity file's signer line. */
async function signers(v: Values): Promise<string[]> {
  const given = typeof v.signer === 'string' ? [v.signer] : [];
  return typeof v['identity-file'] === 'string' ? [...given, ...(await signersInIdentityFile(v['identity-file']))] : given;
}

// ---- commands -----------------------------------------------------------------------------------

const backupRun: Command = {
  usage: `praxiskern backup run [--trigger cli|pre-update] [--json]
Takes a snapshot now (database, new blobs, configuration) on every target in PRAXISKERN_BACKUP_TARGETS,
then applies retention. Exit 1 if any target failed. --trigger pre-update is the host updater's safety
net: the snapshot must be complete on every target, else exit 1 and the update does not proceed.`,
  options: { trigger: { type: 'string' } },
  async run(v) {
    const trigger = v.trigger ?? 'cli';
    if (trigger !== 'cli' && trigger !== 'pre-update') usageError(`--trigger must be cli or pre-update, got "${String(trigger)}"`);
    return withRuntime(v, async (rt, services) => {
      const r = trigger === 'pre-update' ? await takePreUpdateSnapshot(services) : await runBackup(rt, { trigger: 'cli' });
      const lines = Object.entries(r.targets).map(([name, t]) =>
        t.ok ? `  ${name}: ${fmtBytes(t.bytes)} written, ${t.blobsUploaded} new blobs, ${t.blobsReused} already there${t.prune?.snapshotsPruned?.length ? `, ${t.prune.snapshotsPruned.length} old snapshots pruned` : ''}` : `  ${name}: FAILED — ${t.error}`,
      );
      if (!r.ok) {
        if (v.json) process.stdout.write(JSON.stringify({ ...r, ok: false }) + '\n');
        else process.stderr.write(`praxiskern: backup ${r.snapshotId} failed: ${r.error}\n`);
        return 1;
      }
      output(v, { ...r }, `Snapshot ${r.snapshotId} complete in ${r.durationSeconds.toFixed(1)} s:\n${lines.join('\n')}`);
      return 0;
    });
  },
};

const backupList: Command = {
  usage: `praxiskern backup list [--target NAME] [--remote] [--json]
Snapshots from the catalog (newest first); --remote lists the complete snapshots found on the target itself.`,
  options: { target: { type: 'string' }, remote: { type: 'boolean' } },
  async run(v) {
    return withRuntime(v, async (rt, _s, db) => {
      if (v.remote) {
        const found: Record<string, string[]> = {};
        for (const t of rt.targets(v.target as string | undefined)) {
          try {
            found[t.name] = (await completeSnapshots(t)).reverse();
          } finally {
            await t.close();
          }
        }
        output(v, { targets: found }, Object.entries(found).map(([n, ids]) => `${n}:\n${ids.map((i) => `  ${i}`).join('\n') || '  (none)'}`).join('\n'));
        return 0;
      }
      const rows = await listSnapshots(db, v.target as string | undefined);
      const human = rows.map((s) => `${s.snapshot_id}  ${s.target.padEnd(12)} ${fmtBytes(Number(s.size_bytes)).padStart(10)}  ${String(s.blob_count).padStart(6)} blobs  ${s.verify_error ? `BROKEN: ${s.verify_error}` : s.verified_at ? 'verified' : ''}`);
      output(v, { snapshots: rows }, human.join('\n') || 'No snapshots yet.');
      return 0;
    });
  },
};

const backupVerify: Command = {
  usage: `praxiskern backup verify [--target NAME] [--snapshot ID] (--identity-file F | --passphrase-file F) [--signer KEY] [--json]
Checks the newest (or the given) snapshot on each target: the manifest's signature by this installation
(or by --signer KEY, the recovery kit's signing key), every file's size and SHA-256 against the
manifest, and that it decrypts to the end. Exit 1 names the first bad file.`,
  options: { target: { type: 'string' }, snapshot: { type: 'string' }, 'identity-file': { type: 'string' }, 'passphrase-file': { type: 'string' }, signer: { type: 'string' } },
  async run(v) {
    return withRuntime(v, async (rt, services) => {
      const reports = await verifyBackups(rt, { identities: await identities(v, rt, services), signers: await signers(v), target: v.target as string | undefined, snapshotId: v.snapshot as string | undefined, trigger: 'cli' });
      const bad = reports.filter((r) => !r.ok);
      const clean = reports.map(({ manifest: _m, ...r }) => r);
      if (bad.length) {
        const p = bad[0].problems[0];
        if (v.json) process.stdout.write(JSON.stringify({ ok: false, reports: clean }) + '\n');
        else process.stderr.write(`praxiskern: snapshot ${bad[0].snapshotId || '?'} on ${bad[0].target} is not good: ${p.path ? `${p.path}: ` : ''}${p.reason}\n`);
        return 1;
      }
      output(v, { reports: clean }, reports.map((r) => `${r.target}: snapshot ${r.snapshotId} good (${r.files} files, ${fmtBytes(r.bytes)})`).join('\n'));
      return 0;
    });
  },
};

const backupDrill: Command = {
  usage: `praxiskern backup drill [--passphrase-file F] [--json]
Restores the newest snapshot of each target into the scratch database and checks it against the manifest.`,
  options: { 'passphrase-file': { type: 'string' } },
  async run(v) {
    return withRuntime(v, async (rt, services) => {
      await identities({ ...v, 'identity-file': undefined }, rt, services);
      const r = await runDrill(rt, { trigger: 'cli' });
      if (!r.ok) {
        if (v.json) process.stdout.write(JSON.stringify(r) + '\n');
        else process.stderr.write(`praxiskern: restore drill failed: ${r.error}\n`);
        return 1;
      }
      output(v, { ...r }, r.reports.map((x) => `${x.target}: snapshot ${x.snapshotId} restored and checked (${x.tables} tables, ${x.rows} rows, ${x.blobs} blobs) in ${x.seconds.toFixed(1)} s`).join('\n'));
      return 0;
    });
  },
};

const restore: Command = {
  usage: `praxiskern restore --identity-file F [--signer KEY] [--target NAME|SPEC] [--snapshot ID] [--force] [--json]
Restores a snapshot (default: the newest) onto this fresh install, with the app stopped, all or nothing:
the manifest must be signed by this installation or by the recovery kit's signing key (the
"# praxiskern-backup-signer:" line of the identity file, or --signer KEY); every file is checked before
the database changes. Then the erasure ledger is re-applied. SPEC is local:/path or
sftp://user@host:23/dir?hostkey=SHA256:…&key=/path. Afterwards start the app and unseal it.`,
  options: { 'identity-file': { type: 'string' }, signer: { type: 'string' }, target: { type: 'string' }, snapshot: { type: 'string' }, force: { type: 'boolean' } },
  async run(v) {
    if (typeof v['identity-file'] !== 'string') fail('--identity-file is required (the recovery kit identity; see praxiskern recovery-kit combine for shares)');
    return withRuntime(v, async (rt) => {
      const r = await restoreLocked(rt, { identities: await readIdentityFile(String(v['identity-file'])), signers: await signers(v), target: v.target as string | undefined, snapshotId: v.snapshot as string | undefined, force: Boolean(v.force) });
      // The audit chains now continue from the snapshot: later anchors describe history given up on purpose.
      await recordRestore(rt.settings.dataDir, { snapshotId: r.snapshotId, restoredAt: new Date().toISOString() });
      output(
        v,
        { ...r },
        `Restored snapshot ${r.snapshotId} (taken ${r.takenAt}) from ${r.target} in ${r.seconds.total.toFixed(1)} s: ${r.tables} tables, ${r.rows} rows, ${r.blobs} blobs.\n` +
          `Erasure ledger re-applied: ${r.erasure.patientsErasedAgain.length} patient(s) erased again.\n` +
          `Next: start the app and unseal it with the practice passphrase (praxiskern unseal).`,
      );
      return 0;
    });
  },
};

const recoveryKitCmd: Command = {
  usage: `praxiskern recovery-kit [--shares K-of-N] [--replace] [--out FILE.html] [--json]
Generates the offline backup key and writes the printable recovery kit (mode 0600) once; the server
keeps only the public recipient. --shares 2-of-3 splits the key for several custodians.`,
  options: { shares: { type: 'string' }, replace: { type: 'boolean' }, out: { type: 'string' } },
  async run(v) {
    let shares: { threshold: number; count: number } | undefined;
    if (v.shares) {
      const m = /^(\d+)-of-(\d+)$/.exec(String(v.shares));
      if (!m) fail('--shares must look like 2-of-3');
      shares = { threshold: Number(m![1]), count: Number(m![2]) };
    }
    return withRuntime(v, async (_rt, services) => {
      const kit = await createRecoveryKit(services, { shares, replace: Boolean(v.replace) });
      const out = typeof v.out === 'string' ? v.out : `praxiskern-recovery-kit-${kit.installationId}.html`;
      writeFileSync(out, kit.html, { mode: 0o600, flag: v.replace ? 'w' : 'wx' });
      const { html: _h, ...rest } = kit;
      output(v, { ...rest, file: path.resolve(out) }, `Recovery kit written to ${path.resolve(out)} (print it, store it offline, then delete the file).\nRecipient: ${kit.recipient}\nBackup signing key: ${kit.signer}`);
      return 0;
    });
  },
};

const recoveryKitCombine: Command = {
  usage: `praxiskern recovery-kit combine SHARE-FILE... [--out IDENTITY-FILE] [--json]
Recombines custodian shares (one per file) into the age identity for praxiskern restore / age -d.`,
  options: { out: { type: 'string' } },
  async run(v, files) {
    if (!files.length) fail('name the share files');
    const identity = identityFromShares(files.map((f) => readFileSync(f, 'utf8').trim()));
    if (typeof v.out === 'string') {
      writeFileSync(v.out, `${identity}\n`, { mode: 0o600, flag: 'wx' });
      output(v, { file: path.resolve(v.out) }, `Identity written to ${path.resolve(v.out)}.`);
    } else output(v, { identity }, identity);
    return 0;
  },
};

const erasureReplay: Command = {
  usage: `praxiskern erasure replay [--ledger-file F] [--json]
Re-applies the erasure ledger (the database table and $PRAXISKERN_DATA_DIR/ledger/erasure-ledger.jsonl)
to this database: every erased patient's rows, data key and blobs are removed again. Run it after a
manual restore with age and pg_restore, before the app serves anyone; --ledger-file merges another copy
of the ledger file first (the restored configuration archive's). Safe to run any number of times.
When it completes it removes the replay marker a restore leaves while the replay is pending
($PRAXISKERN_DATA_DIR/erasure-replay.pending; the server does not start while it exists).`,
  options: { 'ledger-file': { type: 'string' } },
  async run(v) {
    const config = loadConfig();
    const merged = typeof v['ledger-file'] === 'string' ? await mergeLedgerFile(config.dataDir, readFileSync(v['ledger-file'], 'utf8')) : 0;
    const urls = await cliDatabase(config);
    if (!urls.ownerUrl) {
      await urls.stop();
      fail(OWNER_ROLE_ONLY);
    }
    const owner = createDb(urls.ownerUrl, 2);
    try {
      const r = await runWithContext(systemContext('cli-erasure'), () => replayErasureLedger(owner, { dataDir: config.dataDir }));
      output(
        v,
        { ok: true, ledgerEntriesMerged: merged, ...r },
        `Erasure ledger: ${r.ledgerEntries} entr${r.ledgerEntries === 1 ? 'y' : 'ies'}${merged ? ` (${merged} merged from ${v['ledger-file']})` : ''}.\n` +
          `${r.patientsErasedAgain.length} patient(s) erased again, ${r.blobsDeleted} blob(s) deleted.` +
          (r.patientsErasedAgain.length ? '' : ' Nothing an erasure removed was present.'),
      );
      return 0;
    } finally {
      await owner.destroy();
      await urls.stop();
    }
  },
};

export const backupCommands: Record<string, Command> = {
  'backup run': backupRun,
  'backup list': backupList,
  'backup verify': backupVerify,
  'backup drill': backupDrill,
  restore,
  'recovery-kit': recoveryKitCmd,
  'recovery-kit combine': recoveryKitCombine,
  'erasure replay': erasureReplay,
};
