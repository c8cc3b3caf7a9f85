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
  /** The language of the printed texts (the UI language of whoever creates the kit); English by default. */
  locale?: 'de' | 'en' | undefined;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const grouped = (s: string) => esc(s).replace(/(.{4})/g, '$1&#8203;');

/** Every text of the printed kit, in the language of whoever creates it (commands stay as they are). */
const TEXT = {
  en: {
    title: 'Praxiskern recovery kit',
    titleShares: 'Praxiskern recovery kit (shares)',
    installation: 'Installation', organization: 'Organization', created: 'Created',
    recipient: 'Recipient (public)', signer: 'Backup signing key (public)',
    warn: (shares: boolean) => `Whoever holds this ${shares ? 'share together with enough others' : 'page'} can decrypt every backup of this installation
(patient health data stays encrypted by the practice passphrase). Store it offline — a safe, not a computer. The server does not keep it.`,
    subtitle: 'The offline key that decrypts the backups of this installation.',
    shareSubtitle: (i: number, count: number, threshold: number) => `Custodian share ${i} of ${count} — any ${threshold} shares recover the backup key.`,
    share: (i: number) => `Share ${i}`,
    identity: 'Identity file (age; the first line names the backup signing key)',
    restore: 'Restore after losing the server',
    steps: [
      'Order a server and run the Ansible playbook (<code>ansible-playbook site.yml</code>) with the clinic\'s inventory. Keep the app stopped: <code>systemctl stop praxiskern</code>.',
      'Write the identity below into a file on the new server, readable only by root: <code>install -m 600 /dev/stdin /root/recovery.agekey</code>, paste, Ctrl-D. With shares: <code>praxiskern recovery-kit combine share1.txt share2.txt … &gt; /root/recovery.agekey</code>, then add the signing-key line shown above to that file.',
      'Restore the newest snapshot: <code>praxiskern restore --identity-file /root/recovery.agekey</code> (it trusts only snapshots signed with the signing key in that file; or pass <code>--signer KEY</code>) (add <code>--target sftp://…</code> if the target is not configured yet, <code>--snapshot ID</code> for an older one).',
      'Start the app (<code>systemctl start praxiskern</code>) and unseal it with the practice passphrase (<code>praxiskern unseal</code>). Delete <code>/root/recovery.agekey</code> (<code>shred -u</code>).',
      'Without Praxiskern: <code>age -d -i recovery.agekey db.dump.age | pg_restore -d …</code> — see docs/backup-format.md.',
    ],
  },
  de: {
    title: 'Praxiskern Wiederherstellungs-Kit',
    titleShares: 'Praxiskern Wiederherstellungs-Kit (Teile)',
    installation: 'Installation', organization: 'Organisation', created: 'Erstellt',
    recipient: 'Empfänger (öffentlich)', signer: 'Signaturschlüssel der Sicherungen (öffentlich)',
    warn: (shares: boolean) => `Wer ${shares ? 'diesen Teil zusammen mit genügend anderen Teilen' : 'dieses Blatt'} besitzt, kann jede Datensicherung dieser Installation entschlüsseln
(Gesundheitsdaten der Patienten bleiben zusätzlich durch die Praxis-Passphrase verschlüsselt). Offline aufbewahren – im Tresor, nicht auf einem Computer. Der Server bewahrt es nicht auf.`,
    subtitle: 'Der Offline-Schlüssel, der die Datensicherungen dieser Installation entschlüsselt.',
    shareSubtitle: (i: number, count: number, threshold: number) => `Verwahrer-Teil ${i} von ${count} – je ${threshold} Teile stellen den Sicherungsschlüssel wieder her.`,
    share: (i: number) => `Teil ${i}`,
    identity: 'Identitätsdatei (age; die erste Zeile nennt den Signaturschlüssel der Sicherungen)',
    restore: 'Zurückspielen nach Verlust des Servers',
    steps: [
      'Einen Server bestellen und das Ansible-Playbook (<code>ansible-playbook site.yml</code>) mit dem Inventar der Praxis ausführen. Die App gestoppt lassen: <code>systemctl stop praxiskern</code>.',
      'Die Identität unten auf dem neuen Server in eine Datei schreiben, die nur root lesen kann: <code>install -m 600 /dev/stdin /root/recovery.agekey</code>, einfügen, Strg-D. Mit Teilen: <code>praxiskern recovery-kit combine share1.txt share2.txt … &gt; /root/recovery.agekey</code>, dann die oben gezeigte Zeile mit dem Signaturschlüssel in diese Datei einfügen.',
      'Die neueste Sicherung zurückspielen: <code>praxiskern restore --identity-file /root/recovery.agekey</code> (es vertraut nur Sicherungen, die mit dem Signaturschlüssel in dieser Datei signiert sind; oder <code>--signer KEY</code> angeben) (<code>--target sftp://…</code> ergänzen, wenn das Sicherungsziel noch nicht eingerichtet ist, <code>--snapshot ID</code> für eine ältere Sicherung).',
      'Die App starten (<code>systemctl start praxiskern</code>) und mit der Praxis-Passphrase entsperren (<code>praxiskern unseal</code>). <code>/root/recovery.agekey</code> löschen (<code>shred -u</code>).',
      'Ohne Praxiskern: <code>age -d -i recovery.agekey db.dump.age | pg_restore -d …</code> – siehe docs/backup-format.md.',
    ],
  },
} as const;

export type KitLocale = keyof typeof TEXT;

const steps = (l: KitLocale) => `\n<ol>\n${TEXT[l].steps.map((s) => `  <li>${s}</li>`).join('\n')}\n</ol>`;

function page(title: string, body: string, l: KitLocale): string {
  return `<!doctype html>
<html lang="${l}"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
  body { font: 11pt/1.45 system-ui, sans-serif; margin: 2cm; color: #111; }
  h1 { font-size: 18pt; margin: 0 0 .3em; } h2 { font-size: 13pt; margin-top: 1.4em; }
  .secret { font: 12pt/1.6 ui-monospace, monospace; border: 2px solid #111; padding: .6em .8em; word-break: break-all; }
  .meta td { padding: .1em 1em .1em 0; } code { font-family: ui-monospace, monospace; }
  .warn { border-left: 4px solid #b00; padding-left: .8em; }
  section { page-break-after: always; } section:last-child { page-break-after: auto; }
</style></head><body>${body}</body></html>\n`;
}

function header(k: KitPageInput, subtitle: string, l: KitLocale): string {
  const x = TEXT[l];
  return `<h1>${esc(x.title)}</h1><p>${esc(subtitle)}</p>
<table class="meta">
  <tr><td>${esc(x.installation)}</td><td><code>${esc(k.installationId)}</code></td></tr>
  ${k.organization ? `<tr><td>${esc(x.organization)}</td><td>${esc(k.organization)}</td></tr>` : ''}
  <tr><td>${esc(x.created)}</td><td>${esc(k.createdAt)}</td></tr>
  <tr><td>${esc(x.recipient)}</td><td><code>${grouped(k.recipient)}</code></td></tr>
  <tr><td>${esc(x.signer)}</td><td><code>${grouped(k.signer)}</code></td></tr>
</table>
<p class="warn">${esc(x.warn(!!k.shares))}</p>`;
}

export function renderKitPage(k: KitPageInput): string {
  const l: KitLocale = k.locale ?? 'en';
  const x = TEXT[l];
  if (k.shares) {
    const sections = k.shares.texts.map(
      (text, i) => `<section>${header(k, x.shareSubtitle(i + 1, k.shares!.count, k.shares!.threshold), l)}
<h2>${esc(x.share(i + 1))}</h2><div class="secret">${grouped(text)}</div>
<h2>${esc(x.restore)}</h2>${steps(l)}</section>`,
    );
    return page(x.titleShares, sections.join('\n'), l);
  }
  return page(
    x.title,
    `<section>${header(k, x.subtitle, l)}
<h2>${esc(x.identity)}</h2>
<div class="secret"># ${SIGNER_COMMENT} ${grouped(k.signer)}<br>${grouped(k.identity ?? '')}</div>
<h2>${esc(x.restore)}</h2>${steps(l)}</section>`,
    l,
  );
}
