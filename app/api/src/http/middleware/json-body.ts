import type { Context, Next } from 'koa';
import { badRequest, payloadTooLarge, unsupportedMediaType } from '../../core/errors.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Reads a request body up to `limit` bytes; 413 beyond it, without buffering the rest. */
export async function readRaw(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      ctx.req.unpipe?.();
      throw payloadTooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Strict JSON parsing: content type, size limit, valid UTF-8, valid JSON; errors name "body". */
export async function parseJsonBody(ctx: Context, limit = 1024 * 1024): Promise<unknown> {
  return parseRaw(ctx, await readRaw(ctx, limit));
}

/**
 * Receives the body now and parses it when the returned function is called, which also throws
 * any error of receiving (413): the router reads a body before it opens a request's transaction,
 * so a slow client never holds a database connection, and still answers 401/403 before 400/413.
 */
export async function receiveJsonBody(ctx: Context, limit = 1024 * 1024): Promise<() => unknown> {
  try {
    const raw = await readRaw(ctx, limit);
    return () => parseRaw(ctx, raw);
  } catch (err) {
    return () => {
      throw err;
    };
  }
}

function parseRaw(ctx: Context, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  if (!ctx.is('application/json')) throw unsupportedMediaType('application/json');
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    throw badRequest('body: is not valid UTF-8', [{ field: 'body', message: 'is not valid UTF-8' }]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`body: is not valid JSON (${(err as Error).message})`, [{ field: 'body', message: 'is not valid JSON' }]);
  }
}
