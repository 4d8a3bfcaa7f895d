// Routes are declared once — method, path, summary, zod schemas — and that one
// declaration both validates requests and builds /api/openapi.json.
import type Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import { type Permission } from '../lib/permissions';
import { ApiError, forbidden } from './errors';
import { type AppState } from './state';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  /** 'public', 'session' (any signed-in caller), 'tenant' (a tenant credential), 'platform' (platform admin). */
  auth: 'public' | 'session' | 'tenant' | 'platform';
  /** The permission a tenant caller must hold; route() enforces it (besides any middleware the route lists). */
  permission?: Permission;
  body?: B;
  /** Raw media types accepted besides JSON (e.g. text/csv for lead imports), described in OpenAPI. */
  alsoAccepts?: { mediaType: string; description: string }[];
  query?: Q;
  status?: number;
  /** Other success statuses (e.g. 200 when a registration already exists). */
  otherSuccess?: number[];
  /** What a success answers (api/schemas/responses.ts); none for 204 and HTML pages. */
  response?: z.ZodType;
  /** The success answer is an HTML page (text/html). */
  html?: boolean;
}

export const routeRegistry: RouteSpec[] = [];

function issuesToDetails(error: z.ZodError) {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message, code: i.code }));
}

export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query' | 'params'): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ApiError(400, 'validation_failed', `invalid ${where}`, issuesToDetails(result.error));
  }
  return result.data;
}

export type Handler<B, Q> = (ctx: Koa.ParameterizedContext<AppState> & { params: Record<string, string> }, input: { body: B; query: Q }) => Promise<void>;

/**
 * The declaration is the authority on who may call a route: whatever
 * middleware a route file lists, the handler runs only for a caller the
 * declaration admits — a platform admin for 'platform', a tenant credential
 * holding the declared permission for 'tenant' (inside its tenant
 * transaction, so a denial is audited there).
 */
function enforceDeclaration(spec: RouteSpec, state: AppState): void {
  if (spec.auth === 'public') return;
  const p = state.principal;
  if (!p) throw new ApiError(401, 'unauthenticated', 'sign in or send an API token');
  if (spec.auth === 'platform' && !(p.kind === 'session' && p.isPlatformAdmin)) throw new ApiError(403, 'forbidden', 'platform admins only');
  if (spec.auth === 'tenant' && spec.permission) {
    const isPlatformAdmin = p.kind === 'session' && p.isPlatformAdmin;
    if (!state.access && !isPlatformAdmin) throw new Error(`${spec.method.toUpperCase()} ${spec.path} declares a tenant permission but runs outside tenantScope()`);
    if (state.access && !state.access.permissions.has(spec.permission as Permission)) {
      throw forbidden(spec.permission);
    }
  }
}

/** Registers a route on the router and in the OpenAPI registry. */
export function route<B extends z.ZodType, Q extends z.ZodType>(
  router: Router<AppState>,
  spec: RouteSpec<B, Q>,
  ...stack: [...Koa.Middleware<AppState>[], Handler<z.infer<B>, z.infer<Q>>]
): void {
  routeRegistry.push(spec as unknown as RouteSpec);
  const handler = stack.pop() as Handler<z.infer<B>, z.infer<Q>>;
  const middleware = stack as Koa.Middleware<AppState>[];
  const validateAndRun = async (ctx: Koa.ParameterizedContext<AppState> & { params: Record<string, string> }) => {
    enforceDeclaration(spec, ctx.state);
    const body = spec.body ? parseOrThrow(spec.body, ctx.state.body ?? {}, 'body') : undefined;
    if (!spec.body && ctx.state.body !== undefined && spec.method !== 'get') {
      throw new ApiError(400, 'validation_failed', 'this endpoint takes no body', [{ path: '(root)', message: 'unexpected body', code: 'unrecognized_keys' }]);
    }
    const query = spec.query ? parseOrThrow(spec.query, { ...ctx.query }, 'query') : undefined;
    await handler(ctx, { body: body as z.infer<B>, query: query as z.infer<Q> });
    // Under test every success is checked against its declared schema, so
    // the document cannot drift from what the server sends.
    if (ctx.state.checkResponses && spec.response && ctx.status < 300 && ctx.body !== undefined) {
      const result = spec.response.safeParse(JSON.parse(JSON.stringify(ctx.body)));
      if (!result.success) {
        throw new Error(`the response of ${spec.method.toUpperCase()} ${spec.path} does not match its schema: ${JSON.stringify(issuesToDetails(result.error)).slice(0, 2000)}`);
      }
    }
  };
  (router[spec.method] as (path: string, ...mw: unknown[]) => unknown)(spec.path, ...middleware, validateAndRun);
}

/**
 * JSON Schema of a zod schema as the server enforces it. Two rules zod's
 * converter cannot see are added: a trimmed string with a minimum length must
 * hold a non-space character, and an object that rejects `{}` although no
 * field is required (PATCH bodies: "give at least one field") needs one.
 */
function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const js = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const def = (ctx.zodSchema as unknown as { _zod: { def: { type: string; checks?: { _zod: { def: { check: string } } }[] } } })._zod.def;
      if (def.type !== 'string') return;
      const checks = (def.checks ?? []).map((c) => c._zod.def.check);
      const json = ctx.jsonSchema as { minLength?: number; pattern?: string };
      if (checks.includes('overwrite') && (json.minLength ?? 0) > 0 && json.pattern === undefined) json.pattern = '\\S';
    },
  }) as Record<string, unknown>;
  if (js.type === 'object' && !(js.required as unknown[] | undefined)?.length && !schema.safeParse({}).success) js.minProperties = 1;
  return js;
}

/**
 * Every status an operation can answer, from its declaration: its success
 * status, and the errors of the conventions (spec §4) that apply to it.
 */
function documentedStatuses(r: RouteSpec): Record<string, unknown> {
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  const mutating = r.method !== 'get';
  const success = r.html
    ? { description: 'success', content: { 'text/html': { schema: { type: 'string' } } } }
    : r.response
      ? { description: 'success', content: { 'application/json': { schema: z.toJSONSchema(r.response, { io: 'output', unrepresentable: 'any' }) } } }
      : { description: 'success' };
  const responses: Record<string, unknown> = {
    [String(r.status ?? 200)]: success,
    ...Object.fromEntries((r.otherSuccess ?? []).map((s) => [String(s), success])),
    400: error('invalid input (field paths in details), or an X-Customer-Id that names no customer you can reach'),
    401: error('not signed in, or an invalid token'),
    403: error('authenticated but lacking the permission (or a cross-site request)'),
    404: error('not found — also what another tenant’s or customer’s resource answers'),
    503: error('a dependency (database, Temporal, provider) is unavailable'),
  };
  if (mutating) {
    Object.assign(responses, {
      409: error('conflict: duplicate, state, or an Idempotency-Key reused for another request'),
      413: error('request body too large'),
      415: error('unsupported media type'),
      422: error('well-formed but not allowed in the current state'),
    });
  }
  if (r.auth === 'public' && mutating) responses[429] = error('too many attempts; retry after details.retryAfterSeconds');
  return responses;
}

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  // Each createApp() registers its routes again; the latest declaration wins.
  const unique = new Map(routeRegistry.map((r) => [`${r.method} ${r.path}`, r]));
  for (const r of unique.values()) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = r.query ? jsonSchemaOf(r.query) : undefined;
    const queryParams = query && typeof query === 'object' && 'properties' in query
      ? Object.entries(query.properties as Record<string, unknown>).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
      : [];
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      parameters: [...params, ...queryParams],
      responses: documentedStatuses(r),
      ...(r.auth === 'public' ? { security: [] } : {}),
      ...(r.permission ? { 'x-permission': r.permission } : {}),
    };
    if (r.body) {
      const content: Record<string, unknown> = { 'application/json': { schema: jsonSchemaOf(r.body) } };
      for (const alt of r.alsoAccepts ?? []) content[alt.mediaType] = { schema: { type: 'string', description: alt.description } };
      // Required only when the server requires it: a body whose every field is optional may be left out.
      op.requestBody = { required: !r.body.safeParse({}).success, content };
    }
    (paths[path] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Tenantflow API', version: '0.1.0' },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'tf_session' },
        bearer: { type: 'http', scheme: 'bearer', description: 'API token tf_…' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
        },
      },
    },
    security: [{ session: [] }, { bearer: [] }],
  };
}
