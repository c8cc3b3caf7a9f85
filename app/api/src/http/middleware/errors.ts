import type { Context, Next } from 'koa';
import { AppError, fromPg, type FieldIssue } from '../../core/errors.ts';
import { log } from '../../core/context.ts';

/** Every field issue carries a code the UI can translate; 'invalid' where the call site named none. */
function withCodes(details: FieldIssue[] | Record<string, unknown>): FieldIssue[] | Record<string, unknown> {
  return Array.isArray(details) ? details.map((d) => ({ ...d, code: d.code ?? 'invalid' })) : details;
}

/** Maps AppError and SQLSTATE errors to { error, message, details }; anything else is a logged 500. */
export function errorHandler() {
  return async function errorMiddleware(ctx: Context, next: Next) {
    try {
      await next();
    } catch (err) {
      const known = err instanceof AppError ? err : fromPg(err);
      if (known) {
        ctx.status = known.status;
        ctx.body = { error: known.code, message: known.message, ...(known.details ? { details: withCodes(known.details) } : {}) };
        if (known.status === 429 && known.details && 'retryAfterSeconds' in known.details) ctx.set('retry-after', String(known.details.retryAfterSeconds));
        return;
      }
      const status = (err as { status?: number; expose?: boolean }).status;
      if (status && status >= 400 && status < 500 && (err as { expose?: boolean }).expose) {
        ctx.status = status;
        ctx.body = { error: 'bad_request', message: (err as Error).message };
        return;
      }
      log().error({ err }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: 'internal', message: 'An internal error occurred; the request id identifies it in the server log' };
    }
  };
}
