// Issue 8, item 8: metadata stripping covers every image in a file, not just the part before the
// first scan, and containers without an image are refused. Files are constructed byte by byte.
import test from 'ava';
import { crc32 } from 'node:zlib';
import { EmptyImage, MalformedImage, stripJpeg, stripPng, stripWebp } from '../../app/api/src/modules/documents/metadata-strip.ts';
import { exifGpsSegment, jpegSegment, realJpeg } from '../integration/patients-fixtures.ts';

const has = (b: Buffer, s: string) => b.includes(Buffer.from(s, 'latin1'));
const MPF = jpegSegment(0xe2, Buffer.from('MPF\0MM\0*\0\0\0\x08 offsets of the second image', 'latin1'));
const ICC = jpegSegment(0xe2, Buffer.from('ICC_PROFILE\0\x01\x01colour-profile-bytes', 'latin1'));

test('a phone multi-picture JPEG: the appended second image and its GPS EXIF are gone, the primary image stays whole', (t) => {
  const primary = realJpeg([exifGpsSegment('FIRST-GPS'), MPF, ICC]);
  const second = realJpeg([exifGpsSegment('SECOND-GPS')]);
  const file = Buffer.concat([primary, second]);
  const { data, removed } = stripJpeg(file);
  t.false(has(data, 'FIRST-GPS'));
  t.false(has(data, 'SECOND-GPS'), 'the second image lost its EXIF/GPS');
  t.false(has(data, 'GPSLatitude'));
  t.false(has(data, 'MPF\0'), 'the multi-picture index pointing at removed images is gone');
  t.true(has(data, 'ICC_PROFILE'), 'the colour profile is kept');
  t.deepEqual(data, realJpeg([ICC]), 'exactly the primary image without its metadata');
  t.deepEqual(removed.sort(), ['APP1', 'MPF', 'trailing data']);
});

test('a gain-map or vendor trailer after the end of the image is dropped, and so is an image appended without EOI', (t) => {
  const gainMap = Buffer.concat([realJpeg(), Buffer.from('hdrgm:GainMapMax GPS 52.52,13.40 device serial 0042', 'latin1'), realJpeg([exifGpsSegment('TRAILER-GPS')])]);
  const a = stripJpeg(gainMap);
  t.deepEqual(a.data, realJpeg());
  t.false(has(a.data, 'serial'));
  const noEoi = realJpeg().subarray(0, -2);
  const b = stripJpeg(Buffer.concat([noEoi, realJpeg([exifGpsSegment('NEXT-GPS')])]));
  t.false(has(b.data, 'NEXT-GPS'));
  t.deepEqual(b.data, realJpeg());
});

test('progressive JPEGs keep all their scans and the tables between them', (t) => {
  const base = realJpeg();
  const sosAt = base.indexOf(Buffer.from([0xff, 0xda]));
  const scan = base.subarray(sosAt, base.length - 2); // SOS + entropy data
  const restartedData = Buffer.from([0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56]); // stuffing and a restart marker stay inside a scan
  const dht = jpegSegment(0xc4, Buffer.from([0x00, 1, ...new Array(15).fill(0), 0x00]));
  const file = Buffer.concat([base.subarray(0, sosAt), scan, restartedData, dht, scan, Buffer.from([0xff, 0xd9])]);
  t.deepEqual(stripJpeg(file).data, file, 'nothing of the image is lost');
});

test('JPEG, PNG and WebP containers without image data are refused as empty; broken ones as malformed', (t) => {
  const headerOnly = Buffer.concat([Buffer.from([0xff, 0xd8]), exifGpsSegment('x'), Buffer.from([0xff, 0xd9])]);
  t.throws(() => stripJpeg(headerOnly), { instanceOf: EmptyImage });
  t.throws(() => stripJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xd9])), { instanceOf: EmptyImage });
  t.throws(() => stripJpeg(Buffer.from([0xff, 0xd8, 0xff])), { instanceOf: MalformedImage });

  const png = (...chunks: [string, Buffer][]) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks.map(([type, data]) => pngChunk(type, data))]);
  const ihdr: [string, Buffer] = ['IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0])];
  const iend: [string, Buffer] = ['IEND', Buffer.alloc(0)];
  t.throws(() => stripPng(png(ihdr, iend)), { instanceOf: EmptyImage });
  t.throws(() => stripPng(png(['tEXt', Buffer.from('a\0b')], iend)), { instanceOf: MalformedImage });
  const idat: [string, Buffer] = ['IDAT', Buffer.from([0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00])];
  const withTrailer = Buffer.concat([png(ihdr, idat, iend), Buffer.from('GPS 48.13 trailer')]);
  const p = stripPng(withTrailer);
  t.false(has(p.data, 'trailer'));
  t.deepEqual(p.removed, ['trailing data']);

  t.throws(() => stripWebp(webp([])), { instanceOf: EmptyImage });
  t.throws(() => stripWebp(webp([['EXIF', Buffer.from('GPS 52.5')]])), { instanceOf: EmptyImage });
  const ok = webp([['VP8L', Buffer.from([0x2f, 0, 0, 0, 0])], ['EXIF', Buffer.from('GPS 52.5')]]);
  const w = stripWebp(Buffer.concat([ok, Buffer.from('RIFFtrailing GPS 52.5')]));
  t.false(has(w.data, 'GPS'));
  t.deepEqual(w.removed.sort(), ['EXIF', 'trailing data']);
  t.is(w.data.readUInt32LE(4), w.data.length - 8);
});

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function webp(chunks: [string, Buffer][]): Buffer {
  const body = Buffer.concat(chunks.map(([type, data]) => {
    const h = Buffer.alloc(8);
    h.write(type, 0, 'latin1');
    h.writeUInt32LE(data.length, 4);
    return Buffer.concat([h, data, Buffer.alloc(data.length & 1)]);
  }));
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, body]);
}
