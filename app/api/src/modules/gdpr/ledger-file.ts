// A copy of the erasure ledger outside the database (PRAXISKERN_DATA_DIR/ledger/erasure-ledger.jsonl,
// append-only, ids and time only), so a database restored from an older dump can be re-erased.
// Backups must carry the newest copy of this file; docs/patients.md says how a restore uses it.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface LedgerEntry {
  organizationId: string;
  patientId: string;
  erasedAt: string;
  /** Set on the line written when the override reason's key was destroyed (re-applied on replay). */
  reasonErasedAt?: string;
}

export const ledgerFile = (dataDir: string) => path.join(dataDir, 'ledger', 'erasure-ledger.jsonl');

export async function appendLedgerFile(dataDir: string, e: LedgerEntry): Promise<void> {
  await mkdir(path.dirname(ledgerFile(dataDir)), { recursive: true, mode: 0o700 });
  await appendFile(ledgerFile(dataDir), JSON.stringify(e) + '\n', { mode: 0o600 });
}

export async function readLedgerFile(dataDir: string): Promise<LedgerEntry[]> {
  let text: string;
  try {
    text = await readFile(ledgerFile(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: LedgerEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as LedgerEntry;
      if (/^[0-9a-f-]{36}$/.test(e.patientId) && /^[0-9a-f-]{36}$/.test(e.organizationId)) out.push(e);
    } catch {
      /* a torn last line from a crash: the database ledger still has the entry */
    }
  }
  return out;
}

/** Appends the lines of another copy of the ledger (a restored backup's) that the local file lacks; returns how many. */
export async function mergeLedgerFile(dataDir: string, otherCopy: string): Promise<number> {
  const local = ledgerFile(dataDir);
  const have = new Set((await readFile(local, 'utf8').catch(() => '')).split('\n').filter(Boolean));
  const add = [...new Set(otherCopy.split('\n').filter((l) => l.trim() && !have.has(l)))];
  if (!add.length) return 0;
  await mkdir(path.dirname(local), { recursive: true, mode: 0o700 });
  await appendFile(local, add.join('\n') + '\n', { mode: 0o600 });
  return add.length;
}
