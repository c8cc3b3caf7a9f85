// Findings of the worker's checks of the host (table installation_checks), and the one file-system
// read they need: which files lie in the recovery-kit directory the worker has mounted read-only.
import { readdirSync } from 'node:fs';
import type { Db } from '../../db/connection.ts';

export async function writeCheck(owner: Db, name: string, findings: string[]): Promise<void> {
  await owner('installation_checks')
    .insert({ name, findings: JSON.stringify(findings), checked_at: owner.fn.now() })
    .onConflict('name')
    .merge();
}

export async function readCheck(db: Db, name: string): Promise<{ findings: string[]; checkedAt: Date } | undefined> {
  const row = await db('installation_checks').where({ name }).first('findings', 'checked_at');
  return row ? { findings: row.findings, checkedAt: row.checked_at } : undefined;
}

/** Names of the regular files in dir (not hidden ones); [] when the directory does not exist. */
export function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
