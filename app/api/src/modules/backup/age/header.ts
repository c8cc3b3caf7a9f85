// The age v1 header: version line, recipient stanzas, and the HMAC-SHA-256 header MAC.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { invalidHeader } from './age.errors.ts';
import { decodeUnpadded, encodeUnpadded } from './base64.ts';
import type { Stanza } from './x25519.ts';

export const VERSION_LINE = 'age-encryption.org/v1';
const COLUMNS = 64;
/** Upper bound for buffering a header while looking for its end; far above any real header. */
export const MAX_HEADER_BYTES = 1 << 20;

export interface ParsedHeader {
  stanzas: Stanza[];
  /** The header bytes up to and including "---": what the MAC covers. */
  macInput: Buffer;
  mac: Buffer;
}

function encodeStanza(stanza: Stanza): string {
  const body = encodeUnpadded(stanza.body);
  const lines: string[] = [];
  for (let i = 0; i <= body.length; i += COLUMNS) lines.push(body.slice(i, i + COLUMNS));
  // A body whose encoding fills its last line gets an empty final line (lines.push above ensures it).
  return `-> ${[stanza.type, ...stanza.args].join(' ')}\n${lines.join('\n')}\n`;
}

export function computeMac(fileKey: Buffer, macInput: Buffer): Buffer {
  const macKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
  return createHmac('sha256', macKey).update(macInput).digest();
}

export function encodeHeader(fileKey: Buffer, stanzas: Stanza[]): Buffer {
  const macInput = Buffer.from(`${VERSION_LINE}\n${stanzas.map(encodeStanza).join('')}---`, 'latin1');
  return Buffer.concat([macInput, Buffer.from(` ${encodeUnpadded(computeMac(fileKey, macInput))}\n`, 'latin1')]);
}

export function verifyMac(fileKey: Buffer, header: ParsedHeader): boolean {
  return timingSafeEqual(computeMac(fileKey, header.macInput), header.mac);
}

const isArgument = (arg: string) => arg.length > 0 && /^[\x21-\x7e]+$/.test(arg);

function parseStanza(lines: string[], at: number): { stanza: Stanza; next: number } {
  const args = lines[at].slice(3).split(' ');
  if (!args.every(isArgument)) throw invalidHeader('stanza arguments must be non-empty printable ASCII');
  const body: Buffer[] = [];
  for (let i = at + 1; i < lines.length - 1; i++) {
    const bytes = lines[i].length <= COLUMNS ? decodeUnpadded(lines[i]) : undefined;
    if (!bytes) throw invalidHeader(`stanza body line ${i + 1} is not canonical base64 of at most 64 columns`);
    body.push(bytes);
    if (lines[i].length < COLUMNS) return { stanza: { type: args[0], args: args.slice(1), body: Buffer.concat(body) }, next: i + 1 };
  }
  throw invalidHeader('stanza body does not end with a short line');
}

/**
 * Parses a complete header, `bytes` ending with the "--- <mac>\n" line. Only structure is checked
 * here; recipient-specific rules are applied when stanzas are unwrapped.
 */
export function parseHeader(bytes: Buffer): ParsedHeader {
  // latin1 maps bytes 1:1, so the checks below (exact version line, VCHAR arguments, base64
  // bodies, MAC line) reject any byte outside printable ASCII, CR included.
  const lines = bytes.toString('latin1').split('\n'); // the last element is the empty rest after "\n"
  if (lines[0] !== VERSION_LINE) throw invalidHeader(`unsupported version line "${lines[0].slice(0, 40)}"`);
  const stanzas: Stanza[] = [];
  let at = 1;
  while (at < lines.length - 1 && lines[at].startsWith('-> ')) {
    const { stanza, next } = parseStanza(lines, at);
    stanzas.push(stanza);
    at = next;
  }
  const macLine = /^--- ([A-Za-z0-9+/]{43})$/.exec(lines[at] ?? '');
  const mac = macLine ? decodeUnpadded(macLine[1]) : undefined;
  if (!mac || at !== lines.length - 2) throw invalidHeader('expected a stanza or the "--- <mac>" line');
  const macInput = bytes.subarray(0, bytes.length - lines[at].length - 1 + 3);
  return { stanzas, macInput, mac };
}

/** Where the header ends in `buf` (index after the MAC line's newline), or -1 if not yet known. */
export function findHeaderEnd(buf: Buffer, from: number): number {
  const mark = buf.indexOf('\n---', Math.max(0, from - 3), 'latin1');
  if (mark < 0) return -1;
  const eol = buf.indexOf(0x0a, mark + 4);
  return eol < 0 ? -1 : eol + 1;
}
