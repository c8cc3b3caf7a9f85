// The printable recovery kit: one self-contained HTML page (no scripts, no external resources)
// with the installation id, the offline age identity (or one custodian share per page) and the
// restore steps. It is shown once; the server keeps only the recipient.
import { SIGNER_COMMENT } from './manifest-signature.ts';
export interface KitPageInput {
  installationId: string;
  organization: string | undefined;
  createdAt: string;
  recipient: string;
  /** Public backup signing key (base64 SPKI). */
  signer: string;
  identity?: string;
  shares?: { threshold: number; count: number; texts: string[] };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const grouped = (s: string) => esc(s).replace(/(.{4})/g, '$1&#8203;');

const STEPS = `
<ol>
  <li>Order a server and run the Ansible playbook (<code>ansible-playbook site.yml</code>) with the clinic's inventory.
      Keep the app stopped: <code>systemctl stop praxiskern</code>.</li>
  <li>Write the identity below into a file on the new server, readable only by root:
      <code>install -m 600 /dev/stdin /root/recovery.agekey</code>, paste, Ctrl-D.
      With shares: <code>praxiskern recovery-kit combine share1.txt share2.txt … &gt; /root/recovery.agekey</code>,
      then add the signing-key line shown above to that file.</li>
  <li>Restore the newest snapshot: <code>praxiskern restore --identity-file /root/recovery.agekey</code>
      (it trusts only snapshots signed with the signing key in that file; or pass <code>--signer KEY</code>)
      (add <code>--target sftp://…</code> if the target is not configured yet, <code>--snapshot ID</code> for an older one).</li>
  <li>Start the app (<code>systemctl start praxiskern</code>) and unseal it with the practice passphrase
      (<code>praxiskern unseal</code>). Delete <code>/root/recovery.agekey</code> (<code>shred -u</code>).</li>
  <li>Without Praxiskern: <code>age -d -i recovery.agekey db.dump.age | pg_restore -d …</code> — see docs/backup-format.md.</li>
</ol>`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
  body { font: 11pt/1.45 system-ui, sans-serif; margin: 2cm; color: #111; }
  h1 { font-size: 18pt; margin: 0 0 .3em; } h2 { font-size: 13pt; margin-top: 1.4em; }
  .secret { font: 12pt/1.6 ui-monospace, monospace; border: 2px solid #111; padding: .6em .8em; word-break: break-all; }
  .meta td { padding: .1em 1em .1em 0; } code { font-family: ui-monospace, monospace; }
  .warn { border-left: 4px solid #b00; padding-left: .8em; }
  section { page-break-after: always; } section:last-child { page-break-after: auto; }
</style></head><body>${body}</body></html>\n`;
}

function header(k: KitPageInput, subtitle: string): string {
  return `<h1>Praxiskern recovery kit</h1><p>${esc(subtitle)}</p>
<table class="meta">
  <tr><td>Installation</td><td><code>${esc(k.installationId)}</code></td></tr>
  ${k.organization ? `<tr><td>Organization</td><td>${esc(k.organization)}</td></tr>` : ''}
  <tr><td>Created</td><td>${esc(k.createdAt)}</td></tr>
  <tr><td>Recipient (public)</td><td><code>${grouped(k.recipient)}</code></td></tr>
  <tr><td>Backup signing key (public)</td><td><code>${grouped(k.signer)}</code></td></tr>
</table>
<p class="warn">Whoever holds this ${k.shares ? 'share together with enough others' : 'page'} can decrypt every backup of this installation
(patient health data stays encrypted by the practice passphrase). Store it offline — a safe, not a computer. The server does not keep it.</p>`;
}

export function renderKitPage(k: KitPageInput): string {
  if (k.shares) {
    const sections = k.shares.texts.map(
      (text, i) => `<section>${header(k, `Custodian share ${i + 1} of ${k.shares!.count} — any ${k.shares!.threshold} shares recover the backup key.`)}
<h2>Share ${i + 1}</h2><div class="secret">${grouped(text)}</div>
<h2>Restore after losing the server</h2>${STEPS}</section>`,
    );
    return page('Praxiskern recovery kit (shares)', sections.join('\n'));
  }
  return page(
    'Praxiskern recovery kit',
    `<section>${header(k, 'The offline key that decrypts the backups of this installation.')}
<h2>Identity file (age; the first line names the backup signing key)</h2>
<div class="secret"># ${SIGNER_COMMENT} ${grouped(k.signer)}<br>${grouped(k.identity ?? '')}</div>
<h2>Restore after losing the server</h2>${STEPS}</section>`,
  );
}
