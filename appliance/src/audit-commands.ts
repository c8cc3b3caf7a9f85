// `praxiskern audit verify`: the hash chains in the database, compared with the anchors kept outside
// it — the anchor file the app writes, and (given a backup key) the manifests of every snapshot on
// the configured backup targets. Exit 1 names the first bad entry, or the truncated tail and the
// last anchor the chain still matches.
import { createDb } from '@praxiskern/api/db/connection.ts';
import { anchorFilePath, readAnchorFile, readRestoreRecords, supersededByRestore } from '@praxiskern/api/modules/audit/anchor-file.repository.ts';
import { verifyAuditChains, type AnchorSource, type ChainProblem } from '@praxiskern/api/modules/audit/audit.verify.ts';
import { closeTargets, reasonOf, type BackupRuntime } from '@praxiskern/api/modules/backup/backup-runtime.service.ts';
import { completeSnapshots, readManifest } from '@praxiskern/api/modules/backup/verify.service.ts';
import { trustedSigners } from '@praxiskern/api/modules/backup/manifest-signature.ts';
import type { Services } from '@praxiskern/api/http/services.ts';
import { identities, withRuntime } from './backup-commands.ts';
import { fail, output, type Command, type Values } from './command.ts';

async function anchorFileSource(dataDir: string): Promise<{ source?: AnchorSource; note?: string }> {
  const file = anchorFilePath(dataDir);
  const content = await readAnchorFile(file);
  if (!content) return { note: `no anchor file at ${file}` };
  return { source: { name: `anchor file ${file}`, anchors: Object.values(content.chains) } };
}

/** One source per snapshot manifest on each configured target; unreadable targets become notes. */
async function manifestSources(rt: BackupRuntime, keys: string[]): Promise<{ sources: AnchorSource[]; notes: string[] }> {
  const sources: AnchorSource[] = [];
  const notes: string[] = [];
  // Only manifests this installation signed count as anchors: a planted one could claim anything.
  const signers = trustedSigners(rt.services.appKey);
  const restores = await readRestoreRecords(rt.settings.dataDir);
  const targets = rt.targets();
  if (!targets.length) notes.push('no backup target is configured (PRAXISKERN_BACKUP_TARGETS)');
  try {
    for (const target of targets) {
      try {
        for (const id of await completeSnapshots(target)) {
          const { manifest } = await readManifest(target, id, keys, signers);
          if (supersededByRestore(id, manifest.completedAt, restores)) continue;
          sources.push({ name: `backup ${target.name}/${id}`, anchors: manifest.auditAnchors.map((a) => ({ ...a, at: manifest.completedAt })) });
        }
      } catch (err) {
        notes.push(`backup target ${target.name}: ${reasonOf(err).message}`);
      }
    }
  } finally {
    await closeTargets(targets);
  }
  return { sources, notes };
}

function problemLine(p: ChainProblem): string {
  const chain = `organization ${p.organizationId ?? 'system'}`;
  const matched = p.lastMatchedAnchor ? `; last matched anchor: ${p.lastMatchedAnchor.source} at seq ${p.lastMatchedAnchor.seq}` : '; no anchor matched';
  if (p.kind === 'entry') return `audit chain broken at entry id ${p.id} (${p.seq ? `seq ${p.seq}` : 'not chained yet'}, ${chain}): ${p.reason}`;
  if (p.kind === 'waiting') return `audit entries wait too long for chaining (oldest: entry id ${p.id}, ${chain}): ${p.reason}`;
  return `audit chain of ${chain} ${p.kind === 'truncated' ? 'is truncated' : 'was rewritten'}: ${p.reason}${matched}`;
}

function maxWait(v: Values, services: Services): number {
  if (v['max-wait'] === undefined) return services.config.audit.maxWaitSeconds;
  const n = Number(v['max-wait']);
  if (!Number.isInteger(n) || n < 0) fail(`--max-wait must be a whole number of seconds, got "${v['max-wait']}"`);
  return n;
}

async function run(v: Values, rt: BackupRuntime, services: Services): Promise<number> {
  const maxWaitSeconds = maxWait(v, services);
  const file = await anchorFileSource(services.config.dataDir);
  const sources = file.source ? [file.source] : [];
  const notes = file.note ? [file.note] : [];
  if (v['identity-file'] !== undefined || v['passphrase-file'] !== undefined) {
    const m = await manifestSources(rt, await identities(v, rt, services));
    sources.push(...m.sources);
    notes.push(...m.notes);
  } else notes.push('backup manifests not read (give --identity-file or --passphrase-file to compare them too)');
  const owner = createDb(rt.ownerUrl, 1);
  try {
    const r = await verifyAuditChains(owner, sources, { maxWaitSeconds });
    if (!r.ok) {
      if (v.json) process.stdout.write(JSON.stringify({ ...r, ok: false, notes }) + '\n');
      else for (const p of r.problems) process.stderr.write(`praxiskern: ${problemLine(p)}\n`);
      return 1;
    }
    output(
      v,
      { ...r, notes },
      `Audit log intact: ${r.entries} entries in ${r.chains} chains; ${r.anchors.matched} anchors matched from ${r.anchors.sources.length} sources.` +
        ` ${r.waiting.waiting} entries wait for chaining` + (r.waiting.waiting ? ` (oldest ${r.waiting.oldestSeconds.toFixed(1)} s, bound ${r.waiting.maxSeconds} s).` : '.') +
        (notes.length ? `\nNote: ${notes.join('\nNote: ')}` : ''),
    );
    return 0;
  } finally {
    await owner.destroy();
  }
}

const auditVerify: Command = {
  usage: `praxiskern audit verify [--identity-file F | --passphrase-file F] [--max-wait SECONDS] [--json]
Verifies every audit hash chain and compares it with the anchors kept outside the database: the
anchor file in the data directory and, given a backup key, the manifest of every snapshot on the
configured targets. Entries still waiting for the sequencer are checked against their content hash
and counted; one waiting longer than --max-wait (default PRAXISKERN_AUDIT_MAX_WAIT_SECONDS, 60) fails.
Exit 1 names the first bad entry, the truncated tail and the last matched anchor, or the lag.`,
  options: { 'identity-file': { type: 'string' }, 'passphrase-file': { type: 'string' }, 'max-wait': { type: 'string' } },
  run: (v) => withRuntime(v, (rt, services) => run(v, rt, services)),
};

export const auditCommands: Record<string, Command> = { 'audit verify': auditVerify };
