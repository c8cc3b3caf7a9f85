// Checks every success answer against its route's response schema, so the documented contract
// (OpenAPI, the generated web client) cannot drift from what handlers return. On in the test
// harness and in development (PRAXISKERN_CHECK_RESPONSES=true); off by default, because it
// serializes every body a second time (docs/api.md).
import type { Context } from 'koa';
import type { AnyRoute } from './route.ts';
import type { ResponseSpec } from './response.ts';

function actualStatus(ctx: Context, result: unknown): number {
  if (ctx.body !== undefined && ctx.body !== null) return ctx.status;
  return result === undefined ? 204 : 200;
}

function mismatch(route: AnyRoute, what: string): Error {
  const message = `response of ${route.method.toUpperCase()} ${route.path} ${what}`;
  process.stderr.write(`[response check] ${message}\n`);
  return new Error(message);
}

export function checkResponse(route: AnyRoute, spec: ResponseSpec, ctx: Context, result: unknown): void {
  const status = actualStatus(ctx, result);
  if (status !== spec.status) throw mismatch(route, `has status ${status}, documented ${spec.status}`);
  if (spec.kind !== 'json') return;
  const body: unknown = ctx.body ?? result;
  const parsed = spec.schema.safeParse(JSON.parse(JSON.stringify(body)));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    throw mismatch(route, `does not match its schema: ${issues}`);
  }
}

/** The route with a handler that checks its own answer (the router sets 204 for an undefined result). */
export function withResponseCheck(route: AnyRoute): AnyRoute {
  return {
    ...route,
    async handler(input) {
      const result = await route.handler(input);
      checkResponse(route, route.response, input.ctx, result);
      return result;
    },
  };
}
