// Mounts RouteDefs as a pipeline: session → auth → sealed check → permission → validate → handler.
// An organization route runs the whole pipeline in one transaction that its session check opens.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { csrf, forbidden, sealed, unauthenticated, validationMany, type FieldIssue } from '../core/errors.ts';
import { permits, scopeOf } from '../core/permissions.ts';
import { assertCleanText } from '../core/text.ts';
import { parseJsonBody, receiveJsonBody } from './middleware/json-body.ts';
import { auditStandalone, type AuditEvent } from '../modules/audit/audit.service.ts';
import { authenticate, CSRF_COOKIE, SESSION_COOKIE, sessionScopeStatement, toSessionActor, type SessionActor } from '../modules/auth/session.service.ts';
import type { RequestScopeRow } from '../modules/auth/session.repository.ts';
import { requestTransaction } from '../db/request-transaction.ts';
import type { AnyRoute } from './route.ts';
import type { Services } from './services.ts';
import type { RequestContext } from '../core/context.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A translatable code for a zod issue (see FieldIssue.code); custom refinements pass theirs in params.code. */
function issueCode(i: z.core.$ZodIssue): Pick<FieldIssue, 'code' | 'limit'> {
  switch (i.code) {
    case 'invalid_type':
      return { code: /received undefined$/.test(i.message) ? 'required' : 'invalid_type' };
    case 'too_small':
      if (i.origin === 'string') return Number(i.minimum) <= 1 ? { code: 'required' } : { code: 'too_short', limit: Number(i.minimum) };
      return { code: i.origin === 'array' || i.origin === 'set' ? 'too_few' : 'too_small', limit: Number(i.minimum) };
    case 'too_big':
      if (i.origin === 'string') return { code: 'too_long', limit: Number(i.maximum) };
      return { code: i.origin === 'array' || i.origin === 'set' ? 'too_many' : 'too_large', limit: Number(i.maximum) };
    case 'invalid_format':
      return { code: i.format === 'email' ? 'email' : 'invalid_format' };
    case 'invalid_value':
      return { code: 'invalid_option' };
    case 'unrecognized_keys':
      return { code: 'unknown_field' };
    case 'custom': {
      const p = (i.params ?? {}) as { code?: unknown; limit?: unknown };
      return { code: typeof p.code === 'string' ? p.code : 'invalid', ...(typeof p.limit === 'number' ? { limit: p.limit } : {}) };
    }
    default:
      return { code: 'invalid_value' };
  }
}

export function zodIssues(err: z.ZodError, prefix: string): FieldIssue[] {
  return err.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    if (i.code === 'unrecognized_keys') return { field: [path, ...i.keys].filter(Boolean).join('.'), code: 'unknown_field', message: 'is not a known field' };
    return { field: path || prefix, message: i.message, ...issueCode(i) };
  });
}

function validate<T>(schema: z.ZodType<T> | undefined, value: unknown, prefix: string): T {
  if (!schema) return value as T;
  const r = schema.safeParse(value);
  if (!r.success) throw validationMany(zodIssues(r.error, prefix));
  return r.data;
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

/** Double-submit CSRF: header equals cookie, and equals the session's token when logged in. */
function checkCsrf(ctx: Context, sessionCsrf: string | undefined): void {
  const header = ctx.get('x-csrf-token');
  const cookie = ctx.cookies.get(CSRF_COOKIE);
  if (!header || header !== cookie) throw csrf();
  if (sessionCsrf !== undefined && header !== sessionCsrf) throw csrf();
}

type Admission = { denied: AuditEvent } | undefined;

/** The checks before any work: CSRF, authentication, seal, permission. Returns a denial to audit. */
function admit(ctx: Context, services: Services, route: AnyRoute, actor: SessionActor | undefined): Admission {
  if (!SAFE.has(ctx.method) && !route.csrfExempt) checkCsrf(ctx, actor?.csrfToken);
  if (route.access !== 'public' && !actor) throw unauthenticated();
  if (!route.whileSealed && services.seal.isSealed) throw sealed();
  if (route.access !== 'public' && route.access !== 'authenticated' && !permits(actor!, route.access)) {
    // A denied installation operation is an installation event: it goes to the installation chain.
    const organizationId = scopeOf(route.access) === 'installation' ? null : undefined;
    return { denied: { action: 'access.denied', outcome: 'denied', organizationId, details: { permission: route.access, route: `${route.method.toUpperCase()} ${route.path}` } } };
  }
  return undefined;
}

const takesJson = (ctx: Context, route: AnyRoute) => !route.rawBody && !SAFE.has(ctx.method);

/** Parses and validates the input (a body received earlier, if given), calls the handler and shapes the response. */
async function execute(ctx: Context, services: Services, route: AnyRoute, received?: () => unknown): Promise<void> {
  const parsed = takesJson(ctx, route) ? (received ? received() : await parseJsonBody(ctx)) : undefined;
  // Clean text first, in every part, so the answer names the field that holds the bad text.
  assertCleanText(ctx.params, 'params');
  assertCleanText(ctx.query, 'query');
  assertCleanText(parsed, 'body');
  const params = validate(route.params, ctx.params, 'params');
  const query = validate(route.query, ctx.query, 'query');
  let body: unknown;
  if (takesJson(ctx, route)) {
    if (!route.body && parsed !== undefined && !isEmptyObject(parsed)) {
      throw validationMany([{ field: 'body', code: 'no_body', message: 'this endpoint takes no request body' }]);
    }
    // Only an absent body counts as {}: a JSON null, array, string or number is not an object.
    body = validate(route.body, parsed === undefined ? {} : parsed, 'body');
  }
  const result = await route.handler({ ctx, services, body, query, params });
  if (ctx.body === undefined && ctx.status !== 302) {
    if (result === undefined) ctx.status = 204;
    else ctx.body = result;
  }
}

function setActor(rc: RequestContext, actor: SessionActor | undefined): void {
  if (!actor) return;
  rc.actor = actor;
  rc.logger = rc.logger.child({ userId: actor.userId });
}

/**
 * Whether a request runs in one transaction opened by its session check. Organization routes do;
 * public routes, installation routes (their services use the installation scope, never the
 * session's) and raw-body uploads (the body arrives at the client's pace) do not.
 */
function holdsTransaction(route: AnyRoute): boolean {
  return route.access !== 'public' && (route.access === 'authenticated' || scopeOf(route.access) === 'organization') && !route.rawBody;
}

/** Session check, scope and work in one transaction; a denial is audited after it, on its own. */
async function inOneTransaction(ctx: Context, services: Services, route: AnyRoute, opening: string): Promise<void> {
  const rc = ctx.state.rc as RequestContext;
  // The body arrives at the client's pace: receive it before a connection is taken.
  const received = takesJson(ctx, route) ? await receiveJsonBody(ctx) : undefined;
  const outcome = await requestTransaction(services.db, opening, async (rows, bind): Promise<Admission | 'no-session'> => {
    const actor = toSessionActor(rows[0] as RequestScopeRow | undefined);
    // No valid session: commit (an expired session was deleted) and answer outside the transaction.
    if (!actor) return 'no-session';
    bind({ organizationId: actor.organizationId, userId: actor.userId });
    setActor(rc, actor);
    const admission = admit(ctx, services, route, actor);
    if (!admission) await execute(ctx, services, route, received);
    return admission;
  });
  if (outcome === 'no-session') admit(ctx, services, route, undefined);
  else if (outcome) await deny(services, outcome.denied);
}

async function deny(services: Services, event: AuditEvent): Promise<never> {
  await auditStandalone(services.db, event);
  throw forbidden();
}

export function buildRouter(services: Services, routes: AnyRoute[]): Router {
  const router = new Router({ prefix: '/api/v1' });
  for (const route of routes) {
    router[route.method](route.path, async function routePipeline(ctx: Context) {
      const token = ctx.cookies.get(SESSION_COOKIE);
      const opening = holdsTransaction(route) ? sessionScopeStatement(services.config, token) : undefined;
      if (opening) return inOneTransaction(ctx, services, route, opening);
      const actor = await authenticate(services.db, services.config, token);
      setActor(ctx.state.rc as RequestContext, actor);
      const admission = admit(ctx, services, route, actor);
      if (admission) await deny(services, admission.denied);
      await execute(ctx, services, route);
    });
  }
  return router;
}
