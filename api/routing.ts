// Routes are declared once — method, path, summary, zod schemas — and that one
// declaration both validates requests and builds /api/openapi.json.
import type Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import { ApiError } from './errors';
import { type AppState } from './state';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  /** 'public', 'session' (any signed-in caller), 'tenant' (a tenant credential), 'platform' (platform admin). */
  auth: 'public' | 'session' | 'tenant' | 'platform';
  permission?: string;
  body?: B;
  /** Raw media types accepted besides JSON (e.g. text/csv for lead imports), described in OpenAPI. */
  alsoAccepts?: { mediaType: string; description: string }[];
  query?: Q;
  status?: number;
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
    const body = spec.body ? parseOrThrow(spec.body, ctx.state.body ?? {}, 'body') : undefined;
    if (!spec.body && ctx.state.body !== undefined && spec.method !== 'get') {
      throw new ApiError(400, 'validation_failed', 'this endpoint takes no body', [{ path: '(root)', message: 'unexpected body', code: 'unrecognized_keys' }]);
    }
    const query = spec.query ? parseOrThrow(spec.query, { ...ctx.query }, 'query') : undefined;
    await handler(ctx, { body: body as z.infer<B>, query: query as z.infer<Q> });
  };
  (router[spec.method] as (path: string, ...mw: unknown[]) => unknown)(spec.path, ...middleware, validateAndRun);
}

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  // Each createApp() registers its routes again; the latest declaration wins.
  const unique = new Map(routeRegistry.map((r) => [`${r.method} ${r.path}`, r]));
  for (const r of unique.values()) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = r.query ? z.toJSONSchema(r.query, { io: 'input', unrepresentable: 'any' }) : undefined;
    const queryParams = query && typeof query === 'object' && 'properties' in query
      ? Object.entries(query.properties as Record<string, unknown>).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
      : [];
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      parameters: [...params, ...queryParams],
      responses: {
        [String(r.status ?? 200)]: { description: 'success' },
        default: { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
      ...(r.auth === 'public' ? { security: [] } : {}),
      ...(r.permission ? { 'x-permission': r.permission } : {}),
    };
    if (r.body) {
      const content: Record<string, unknown> = { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } };
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
