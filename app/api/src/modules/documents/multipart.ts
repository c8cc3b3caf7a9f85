// A strict multipart/form-data parser over a size-limited, fully buffered body: a body that does
// not end with the closing boundary (truncated upload) is a 400, never a half-stored file.
import { badRequest, unsupportedMediaType } from '../../core/errors.ts';

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

const truncated = () => badRequest('body: the multipart body is truncated or malformed (no closing boundary)', [
  { field: 'body', message: 'multipart body is truncated or malformed' },
]);

export function boundaryOf(contentType: string | undefined): string {
  const m = /^multipart\/form-data\s*;.*\bboundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '');
  if (!m) throw unsupportedMediaType('multipart/form-data with a boundary');
  return m[1] ?? m[2];
}

function parseHeaders(raw: string): Omit<Part, 'data'> {
  let name: string | undefined;
  let filename: string | undefined;
  let contentType: string | undefined;
  for (const line of raw.split('\r\n')) {
    const i = line.indexOf(':');
    if (i < 0) throw truncated();
    const key = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (key === 'content-disposition') {
      name = /\bname="([^"]*)"/i.exec(value)?.[1];
      filename = /\bfilename="([^"]*)"/i.exec(value)?.[1];
    } else if (key === 'content-type') contentType = value.toLowerCase();
  }
  if (!name) throw badRequest('body: a multipart part has no name', [{ field: 'body', message: 'a part has no name' }]);
  return { name, filename, contentType };
}

export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw truncated();
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return parts;
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') throw truncated();
    const headerEnd = body.indexOf('\r\n\r\n', pos + 2);
    if (headerEnd < 0) throw truncated();
    const headers = parseHeaders(body.subarray(pos + 2, headerEnd).toString('utf8'));
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw truncated();
    parts.push({ ...headers, data: body.subarray(headerEnd + 4, next) });
    if (parts.length > 20) throw badRequest('body: too many parts', [{ field: 'body', message: 'at most 20 parts' }]);
    pos = next + 2;
  }
}
