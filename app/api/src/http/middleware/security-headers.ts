import type { Context, Next } from 'koa';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** CSP without inline scripts, no framing, nosniff, referrer policy; HSTS only behind TLS. */
export function securityHeaders(hsts: boolean) {
  return async function securityHeadersMiddleware(ctx: Context, next: Next) {
    ctx.set('content-security-policy', CSP);
    ctx.set('x-frame-options', 'DENY');
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('cross-origin-opener-policy', 'same-origin');
    ctx.set('permissions-policy', 'camera=(), microphone=(), geolocation=()');
    if (hsts) ctx.set('strict-transport-security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
