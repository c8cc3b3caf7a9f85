// Removes metadata that can carry GPS positions, device serials, names or dates from photos,
// without decoding pixels: JPEG APPn segments except JFIF, ICC profile and Adobe (so EXIF/XMP,
// MPF, IPTC, JUMBF …) and COM, and everything after the primary image (appended images, gain
// maps, trailers); PNG eXIf/tEXt/iTXt/zTXt/tIME chunks and data after IEND; WebP EXIF/XMP
// chunks and data after the RIFF container. Structure errors mean "not a valid image"; a
// container without image data is refused as empty.
import { crc32 } from 'node:zlib';
import type { AllowedType } from './file-type.ts';

export class MalformedImage extends Error {}
/** A structurally valid container that holds no image (no scan, no IDAT, no VP8 frame). */
export class EmptyImage extends Error {}
export interface Stripped {
  data: Buffer;
  removed: string[];
}

/** APPn kept: JFIF (APP0), the ICC colour profile (APP2 "ICC_PROFILE"), Adobe colour transform (APP14). */
function keepJpegSegment(marker: number, payload: Buffer): boolean {
  if (marker === 0xe0 || marker === 0xee) return true;
  if (marker === 0xe2) return payload.subarray(0, 12).toString('latin1') === 'ICC_PROFILE\0';
  return !(marker >= 0xe0 && marker <= 0xef) && marker !== 0xfe;
}
const jpegSegmentName = (marker: number, payload: Buffer) =>
  marker === 0xfe ? 'COM' : marker === 0xe2 && payload.subarray(0, 4).toString('latin1') === 'MPF\0' ? 'MPF' : `APP${marker - 0xe0}`;

/** End of entropy-coded data: the next 0xFF that is neither byte stuffing (FF00) nor a restart marker. */
function scanEnd(b: Buffer, from: number): number {
  for (let i = from; i < b.length - 1; i++) {
    if (b[i] === 0xff && b[i + 1] !== 0x00 && !(b[i + 1] >= 0xd0 && b[i + 1] <= 0xd7) && b[i + 1] !== 0xff) return i;
  }
  return b.length;
}

/**
 * Keeps the first (primary) image only: its metadata segments are dropped, and everything after
 * its end — the extra images of multi-picture (MPF) files, gain maps, depth maps, motion-photo
 * videos, vendor trailers — is dropped whole. Browsers show only the primary image, and each
 * appended part can carry its own EXIF/GPS, so nothing after it is kept.
 */
export function stripJpeg(b: Buffer): Stripped {
  const out: Buffer[] = [b.subarray(0, 2)];
  const removed = new Set<string>();
  let pos = 2;
  let frame = false;
  let scans = 0;
  for (;;) {
    if (pos >= b.length) break; // truncated after a scan: the end marker is added below
    if (pos + 2 > b.length || b[pos] !== 0xff) throw new MalformedImage('JPEG segment structure is broken');
    const marker = b[pos + 1];
    if (marker === 0xff) { pos++; continue; } // fill byte
    if (marker === 0xd9 || marker === 0xd8) break; // end of the image (or a next image without EOI)
    if (pos + 4 > b.length) throw new MalformedImage('JPEG segment structure is broken');
    const len = b.readUInt16BE(pos + 2);
    if (len < 2 || pos + 2 + len > b.length) throw new MalformedImage('JPEG segment runs past the end of the file');
    const payload = b.subarray(pos + 4, pos + 2 + len);
    if (keepJpegSegment(marker, payload)) out.push(b.subarray(pos, pos + 2 + len));
    else removed.add(jpegSegmentName(marker, payload));
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) frame = true;
    pos += 2 + len;
    if (marker === 0xda) {
      if (!frame) throw new MalformedImage('JPEG scan comes before a frame header');
      const end = scanEnd(b, pos);
      if (end > pos) scans++;
      out.push(b.subarray(pos, end));
      pos = end;
    }
  }
  if (!frame || scans === 0) throw new EmptyImage('the JPEG file contains no image data');
  if (pos + 2 < b.length) removed.add('trailing data');
  out.push(Buffer.from([0xff, 0xd9]));
  return { data: Buffer.concat(out), removed: [...removed] };
}

const PNG_DROP = new Set(['eXIf', 'tEXt', 'iTXt', 'zTXt', 'tIME']);

export function stripPng(b: Buffer): Stripped {
  const out: Buffer[] = [b.subarray(0, 8)];
  const removed = new Set<string>();
  let idat = false;
  let pos = 8;
  for (;;) {
    if (pos + 12 > b.length) throw new MalformedImage('PNG chunk structure is broken');
    const len = b.readUInt32BE(pos);
    const type = b.subarray(pos + 4, pos + 8).toString('latin1');
    const end = pos + 12 + len;
    if (end > b.length) throw new MalformedImage('PNG chunk runs past the end of the file');
    if (b.readUInt32BE(end - 4) !== crc32(b.subarray(pos + 4, end - 4))) throw new MalformedImage(`PNG chunk ${type} has a bad checksum`);
    if (pos === 8 && type !== 'IHDR') throw new MalformedImage('PNG does not start with an IHDR chunk');
    if (type === 'IDAT' && len > 0) idat = true;
    if (PNG_DROP.has(type)) removed.add(type);
    else out.push(b.subarray(pos, end));
    pos = end;
    if (type === 'IEND') break;
  }
  if (!idat) throw new EmptyImage('the PNG file contains no image data');
  if (pos < b.length) removed.add('trailing data');
  return { data: Buffer.concat(out), removed: [...removed] };
}

export function stripWebp(b: Buffer): Stripped {
  const out: Buffer[] = [];
  const removed = new Set<string>();
  const riffEnd = 8 + b.readUInt32LE(4);
  if (riffEnd > b.length || riffEnd < 12) throw new MalformedImage('WebP RIFF size does not match the file');
  let image = false;
  let pos = 12;
  while (pos < riffEnd) {
    if (pos + 8 > riffEnd) throw new MalformedImage('WebP chunk structure is broken');
    const type = b.subarray(pos, pos + 4).toString('latin1');
    const size = b.readUInt32LE(pos + 4);
    const end = pos + 8 + size + (size & 1);
    if (pos + 8 + size > riffEnd) throw new MalformedImage('WebP chunk runs past the end of the file');
    if ((type === 'VP8 ' || type === 'VP8L' || type === 'ANMF') && size > 0) image = true;
    if (type === 'EXIF' || type === 'XMP ') removed.add(type.trim());
    else {
      const chunk = Buffer.from(b.subarray(pos, Math.min(end, riffEnd)));
      if (type === 'VP8X') chunk[8] &= ~(0x08 | 0x04); // clear the EXIF and XMP flags
      out.push(chunk);
    }
    pos = end;
  }
  if (!image) throw new EmptyImage('the WebP file contains no image data');
  if (riffEnd < b.length) removed.add('trailing data');
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
