// Removes metadata that can carry GPS positions, device serials, names or dates from photos,
// without decoding pixels: JPEG APP1 (EXIF/XMP), APP12, APP13 (IPTC) and COM segments; PNG
// eXIf/tEXt/iTXt/zTXt/tIME chunks; WebP EXIF/XMP chunks. Structure errors mean "not a valid image".
import { crc32 } from 'node:zlib';
import type { AllowedType } from './file-type.ts';

export class MalformedImage extends Error {}
export interface Stripped {
  data: Buffer;
  removed: string[];
}

const JPEG_DROP = new Map([[0xe1, 'APP1'], [0xec, 'APP12'], [0xed, 'APP13'], [0xfe, 'COM']]);

export function stripJpeg(b: Buffer): Stripped {
  const out: Buffer[] = [b.subarray(0, 2)];
  const removed = new Set<string>();
  let pos = 2;
  for (;;) {
    if (pos + 4 > b.length || b[pos] !== 0xff) throw new MalformedImage('JPEG segment structure is broken');
    const marker = b[pos + 1];
    if (marker === 0xff) { pos++; continue; } // fill byte
    if (marker === 0xd9) { out.push(b.subarray(pos, pos + 2)); break; } // EOI without scan
    const len = b.readUInt16BE(pos + 2);
    if (len < 2 || pos + 2 + len > b.length) throw new MalformedImage('JPEG segment runs past the end of the file');
    const drop = JPEG_DROP.get(marker);
    if (drop) removed.add(drop);
    else out.push(b.subarray(pos, pos + 2 + len));
    pos += 2 + len;
    if (marker === 0xda) { out.push(b.subarray(pos)); break; } // start of scan: entropy-coded data follows
  }
  return { data: Buffer.concat(out), removed: [...removed] };
}

const PNG_DROP = new Set(['eXIf', 'tEXt', 'iTXt', 'zTXt', 'tIME']);

export function stripPng(b: Buffer): Stripped {
  const out: Buffer[] = [b.subarray(0, 8)];
  const removed = new Set<string>();
  let pos = 8;
  for (;;) {
    if (pos + 12 > b.length) throw new MalformedImage('PNG chunk structure is broken');
    const len = b.readUInt32BE(pos);
    const type = b.subarray(pos + 4, pos + 8).toString('latin1');
    const end = pos + 12 + len;
    if (end > b.length) throw new MalformedImage('PNG chunk runs past the end of the file');
    if (b.readUInt32BE(end - 4) !== crc32(b.subarray(pos + 4, end - 4))) throw new MalformedImage(`PNG chunk ${type} has a bad checksum`);
    if (PNG_DROP.has(type)) removed.add(type);
    else out.push(b.subarray(pos, end));
    pos = end;
    if (type === 'IEND') break;
  }
  return { data: Buffer.concat(out), removed: [...removed] };
}

export function stripWebp(b: Buffer): Stripped {
  const out: Buffer[] = [];
  const removed = new Set<string>();
  let pos = 12;
  while (pos < b.length) {
    if (pos + 8 > b.length) throw new MalformedImage('WebP chunk structure is broken');
    const type = b.subarray(pos, pos + 4).toString('latin1');
    const size = b.readUInt32LE(pos + 4);
    const end = pos + 8 + size + (size & 1);
    if (pos + 8 + size > b.length) throw new MalformedImage('WebP chunk runs past the end of the file');
    if (type === 'EXIF' || type === 'XMP ') removed.add(type.trim());
    else {
      const chunk = Buffer.from(b.subarray(pos, Math.min(end, b.length)));
      if (type === 'VP8X') chunk[8] &= ~(0x08 | 0x04); // clear the EXIF and XMP flags
      out.push(chunk);
    }
    pos = end;
  }
  const body = Buffer.concat(out);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WEBP', 8, 'latin1');
  return { data: Buffer.concat([header, body]), removed: [...removed] };
}

export function stripMetadata(type: AllowedType, b: Buffer): Stripped {
  if (type === 'image/jpeg') return stripJpeg(b);
  if (type === 'image/png') return stripPng(b);
  if (type === 'image/webp') return stripWebp(b);
  return { data: b, removed: [] }; // PDFs are documents: kept as they are
}
