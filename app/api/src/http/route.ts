// Routes are declared once: method, path, permission, schemas. The registry mounts them on the
// router, generates the OpenAPI document and lets the role-matrix test walk every route.
import type { Context } from 'koa';
import { z } from 'zod';
import { scopeOf, type Permission } from '../core/permissions.ts';
import type { Services } from './services.ts';

export type Access = Permission | 'public' | 'authenticated';

export interface RouteDef<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa-router path below /api/v1, e.g. '/users/:id'. */
  path: string;
  access: Access;
  /** Whether the route works while the server is sealed (login, status, unseal, setup). */
  whileSealed?: boolean;
  summary: string;
  tags: string[];
  body?: B;
  query?: Q;
  params?: P;
  /** Server-to-server endpoints authenticated by a signed token (back-channel logout). */
  csrfExempt?: boolean;
  /** Raw body handling: the route reads ctx.req itself; the media type is documented in OpenAPI. */
  rawBody?: 'multipart/form-data' | 'application/x-www-form-urlencoded';
  handler: (input: HandlerInput<z.infer<B>, z.infer<Q>, z.infer<P>>) => Promise<unknown>;
}

export interface HandlerInput<B, Q, P> {
  ctx: Context;
  services: Services;
  body: B;
  query: Q;
  params: P;
}

export function defineRoute<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType>(
  def: RouteDef<B, Q, P>,
): RouteDef<B, Q, P> {
  return def;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteDef<any, any, any>;

function toOpenApiPath(p: string): string {
  return p.replace(/:([A-Za-z_]+)/g, '{$1}');
}

export function openApiDocument(routes: AnyRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = `/api/v1${toOpenApiPath(r.path)}`;
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: r.tags,
      'x-permission': r.access,
      'x-permission-scope': r.access === 'public' || r.access === 'authenticated' ? null : scopeOf(r.access),
      'x-while-sealed': Boolean(r.whileSealed),
      responses: {
        '200': { description: 'OK' },
        '400': { $ref: '#/components/responses/Error' },
        '401': { $ref: '#/components/responses/Error' },
        '403': { $ref: '#/components/responses/Error' },
      },
    };
    const parameters: unknown[] = [];
    for (const m of r.path.matchAll(/:([A-Za-z_]+)/g)) parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    if (r.query) {
      const js = z.toJSONSchema(r.query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(js.properties ?? {})) {
        parameters.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema });
      }
    }
    if (parameters.length) op.parameters = parameters;
    if (r.body) {
      op.requestBody = { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } } };
    }
    if (r.rawBody) op.requestBody = { required: true, content: { [r.rawBody]: { schema: { type: 'object' } } } };
    paths[p] ??= {};
    paths[p][r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Praxiskern API', version },
    paths,
    components: {
      responses: {
        Error: {
          description: 'Error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['error', 'message'],
                properties: {
                  error: { type: 'string' },
                  message: { type: 'string' },
                  details: {},
                },
              },
            },
          },
        },
      },
    },
  };
}
