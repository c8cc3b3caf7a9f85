// Decoding of the optional ASCII armor (strict PEM, spec "ASCII armor"), for small armored files
// such as ones pasted from a printout. Backups themselves are written binary, never armored.
import { invalidArmor } from './age.errors.ts';
import { decodePadded } from './base64.ts';

const BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const END = '-----END AGE ENCRYPTED FILE-----';
const COLUMNS = 64;
const MAX_WHITESPACE = 1024;

/** Returns the binary age file inside `armored`; throws `age_invalid_armor` on any deviation. */
export function dearmor(armored: Buffer): Buffer {
  const lines = armored.toString('latin1').split('\n').map((line) => line.replace(/\r$/, ''));
  let at = 0;
  let skipped = 0;
  while (at < lines.length && lines[at].trim() === '') {
    skipped += lines[at++].length + 1;
    if (skipped > MAX_WHITESPACE) throw invalidArmor('too much leading whitespace');
  }
  if (lines[at++] !== BEGIN) throw invalidArmor('missing "-----BEGIN AGE ENCRYPTED FILE-----" line');
  const parts: Buffer[] = [];
  for (;;) {
    const line = lines[at++];
    if (line === undefined) throw invalidArmor('missing "-----END AGE ENCRYPTED FILE-----" line');
    if (line === END) break;
    if (line.length === 0 || line.length > COLUMNS) throw invalidArmor(`line ${at} is empty or longer than 64 columns`);
    const bytes = decodePadded(line);
    if (!bytes) throw invalidArmor(`line ${at} is not canonical padded base64`);
    parts.push(bytes);
    if (line.length < COLUMNS && lines[at] !== END) throw invalidArmor('only the last line may be shorter than 64 columns');
  }
  const rest = lines.slice(at).join('\n');
  if (rest.trim() !== '') throw invalidArmor('data after the END line');
  if (rest.length >= MAX_WHITESPACE) throw invalidArmor('too much trailing whitespace');
  return Buffer.concat(parts);
}
