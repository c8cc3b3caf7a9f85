// Routes are declared once: method, path, permission, schemas. The registry mounts them on the
// router, generates the OpenAPI document and lets the role-matrix test walk every route.
import type { Context } from 'koa';
import { z } from 'zod';
import { scopeOf, type Permission } from '../core/permissions.ts';
import type { Services } from './services.ts';
import { apiSchemas, type ResponseSpec } from './response.ts';

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
  /** The success answer: status and, for JSON, the schema of the body (http/response.ts). */
  response: ResponseSpec;
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

type JsonSchema = Record<string, unknown>;

/** One entry of an error's details: the field path, the code the UI translates, an English message. */
const FIELD_ISSUE: JsonSchema = {
  type: 'object',
  required: ['field', 'message'],
  properties: { field: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' }, limit: { type: 'number' } },
};

/** Moves the named schemas zod put into $defs to components/schemas and points the references there. */
function hoistDefs(schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  const { $defs, $schema: _ignored, ...rest } = schema as JsonSchema & { $defs?: Record<string, JsonSchema> };
  const relink = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(relink);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === '$ref' && typeof x === 'string' ? x.replace('#/$defs/', '#/components/schemas/') : relink(x)]));
    }
    return v;
  };
  for (const [name, def] of Object.entries($defs ?? {})) {
    const linked = relink(def) as JsonSchema;
    if (components[name] && JSON.stringify(components[name]) !== JSON.stringify(linked)) throw new Error(`two different schemas are named ${name}`);
    components[name] = linked;
  }
  return relink(rest) as JsonSchema;
}

function successResponse(spec: ResponseSpec, components: Record<string, JsonSchema>): Record<string, unknown> {
  switch (spec.kind) {
    case 'json': {
      const schema = hoistDefs(z.toJSONSchema(spec.schema, { metadata: apiSchemas, io: 'output', unrepresentable: 'any' }) as JsonSchema, components);
      return { [spec.status]: { description: spec.description, content: { 'application/json': { schema } } } };
    }
    case 'file':
      return { '200': { description: spec.description, content: Object.fromEntries(spec.mediaTypes.map((m) => [m, { schema: {} }])) } };
    default:
      return { [spec.status]: { description: spec.description } };
  }
}

export function openApiDocument(routes: AnyRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, JsonSchema> = {};
  for (const r of routes) {
    const p = `/api/v1${toOpenApiPath(r.path)}`;
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: r.tags,
      'x-permission': r.access,
      'x-permission-scope': r.access === 'public' || r.access === 'authenticated' ? null : scopeOf(r.access),
      'x-while-sealed': Boolean(r.whileSealed),
      responses: {
        ...successResponse(r.response, components),
        '400': { $ref: '#/components/responses/Error' },
        '401': { $ref: '#/components/responses/Error' },
        '403': { $ref: '#/components/responses/Error' },
        default: { $ref: '#/components/responses/Error' },
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
      schemas: Object.fromEntries(Object.entries({ ...components, FieldIssue: FIELD_ISSUE }).sort(([a], [b]) => a.localeCompare(b))),
      responses: {
        Error: {
          description: 'Error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['error', 'message'],
                properties: {
                  error: { type: 'string', description: 'machine code (core/errors.ts)' },
                  message: { type: 'string', description: 'English, for logs and API users' },
                  details: {
                    oneOf: [
                      { type: 'array', items: { $ref: '#/components/schemas/FieldIssue' } },
                      { type: 'object', additionalProperties: true },
                    ],
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}
