// Routes are declared once — method, path, summary, who may call, which
// customer it works in, its params, body, query and response — and that one
// declaration builds the route's whole middleware chain and /api/openapi.json.
// A handler receives validated input and returns what the route answers.
// Each createApp() has its own Routes (router + registry).
import Router from '@koa/router';
import type Koa from 'koa';
import { type DataSource } from 'typeorm';
import { z } from 'zod';
import { type IdPrefix, isId, isUuid } from '../db/ids';
import { ApiError, forbidden, notFound } from '../lib/errors';
import { type Permission } from '../lib/permissions';
import { type FeatureKey } from '../lib/plans';
import { assertFeature, PLAN_FEATURE_STATUS } from '../services/billing/limits';
import { type TenantAccess } from '../services/context';
import { access, tenantScope, unauthenticated } from './access';
import { customerScope } from './middleware/customerScope';
import { idempotency } from './middleware/idempotency';
import { type AppState } from './state';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A path parameter: an id with its prefix (`cmp`, `lead`, … or `uuid`), or a `name` (a lowercase slug); anything else is the resource's 404. */
export interface IdParam {
  prefix: IdPrefix | 'uuid' | 'name';
  /** The resource name of the 404 (`campaign not found`). */
  resource: string;
}

export interface RouteSpec<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  /** 'public', 'session' (any signed-in caller), 'tenant' (a tenant credential), 'platform' (platform admin). */
  auth: 'public' | 'session' | 'tenant' | 'platform';
  /** The permission a tenant caller must hold (checked inside the tenant transaction, so a denial is audited). */
  permission?: Permission;
  /**
   * The plan feature the route belongs to: a tenant whose plan lacks it is
   * answered 402 plan_feature_required (checked inside the tenant
   * transaction, after the permission). Platform admins are not gated.
   */
  feature?: FeatureKey;
  /** A 'tenant' route that platform admins may call too (outside any tenant transaction). */
  platformToo?: boolean;
  /**
   * The customer the route works in (X-Customer-Id, or a restricted member's
   * own): 'required' answers 400 invalid_customer_context when it names no
   * customer the caller can reach; 'addressed' (routes of one resource)
   * answers that resource's 404 instead, like any resource out of reach.
   */
  customer?: 'required' | 'addressed';
  /** Path parameters checked before the handler runs. */
  params?: Record<string, IdParam>;
  /** Honour Idempotency-Key. */
  idempotent?: boolean;
  body?: B;
  /** A body the operation accepts, shown in the OpenAPI document (where a valid body is hard to guess, e.g. a nested definition). */
  bodyExample?: unknown;
  /** Raw media types accepted besides JSON (e.g. text/csv for lead imports), described in OpenAPI. */
  alsoAccepts?: { mediaType: string; description: string }[];
  query?: Q;
  status?: number;
  /** Other success statuses (e.g. 200 when a registration already exists). */
  otherSuccess?: readonly number[];
  /** What a success answers (api/schemas/*.responses.ts); none for 204 and HTML pages. */
  response?: z.ZodType;
  /** The success answer is an HTML page (text/html). */
  html?: boolean;
  /**
   * The success answer is a file's bytes, set on ctx.body by the handler:
   * `true` for application/octet-stream, or the content types it may carry.
   */
  download?: boolean | readonly string[];
  /** The success answer is a redirect (its status, e.g. 302, with a Location header), set on ctx by the handler. */
  redirect?: boolean;
  /** Error statuses the route answers beyond the conventions' (e.g. 402 plan_limit_reached), with what they mean. */
  errors?: Record<number, string>;
}

export type RouteContext = Koa.ParameterizedContext<AppState> & { params: Record<string, string> };

export interface RouteInput<B, Q> {
  body: B;
  query: Q;
  params: Record<string, string>;
  /** The caller's tenant access ('tenant' routes). */
  readonly access: TenantAccess;
  /** The customer the route works in ('required'/'addressed' routes). */
  readonly customerId: string;
  ctx: RouteContext;
}

/** Returns the answer's body (undefined for 204, or when the handler set ctx.body itself). */
export type Handler<B, Q> = (input: RouteInput<B, Q>) => unknown;

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

const isPlatformAdmin = (state: AppState) => state.principal?.kind === 'session' && state.principal.isPlatformAdmin;

/** Who may call: the declaration's auth, and for tenant routes its permission inside the tenant transaction. */
function admit(spec: RouteSpec, state: AppState): void {
  if (spec.auth === 'public') return;
  const p = state.principal;
  if (!p) throw unauthenticated();
  if (spec.auth === 'platform' && !isPlatformAdmin(state)) throw new ApiError(403, 'forbidden', 'platform admins only');
  if (spec.auth === 'tenant' && spec.permission && state.access && !state.access.permissions.has(spec.permission)) throw forbidden(spec.permission);
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

function checkParams(spec: RouteSpec, params: Record<string, string>): void {
  for (const [name, p] of Object.entries(spec.params ?? {})) {
    const value = params[name] ?? '';
    const ok = p.prefix === 'uuid' ? isUuid(value) : p.prefix === 'name' ? SLUG.test(value) : isId(p.prefix, value);
    if (!ok) throw notFound(p.resource);
  }
}

/** The chain a declaration implies, in order: tenant transaction, permission, plan feature, customer, params, Idempotency-Key. */
function chainOf(spec: RouteSpec, dataSource: DataSource): Koa.Middleware<AppState>[] {
  const chain: Koa.Middleware<AppState>[] = [];
  if (spec.auth === 'tenant') {
    const scope = tenantScope(dataSource);
    chain.push(spec.platformToo ? (ctx, next) => (isPlatformAdmin(ctx.state) ? next() : scope(ctx, next)) : scope);
  }
  chain.push((ctx, next) => {
    admit(spec, ctx.state);
    return next();
  });
  if (spec.feature) {
    const feature = spec.feature;
    chain.push(async (ctx, next) => {
      if (ctx.state.access) await assertFeature(ctx.state.access.manager, feature);
      return next();
    });
  }
  if (spec.customer) {
    const resource = Object.values(spec.params ?? {})[0]?.resource;
    const scoped = customerScope({ required: true, notFoundAs: spec.customer === 'addressed' ? (resource ?? 'resource') : undefined });
    chain.push((ctx, next) => (ctx.state.access ? scoped(ctx, next) : next()));
  }
  chain.push((ctx, next) => {
    checkParams(spec, (ctx as RouteContext).params);
    return next();
  });
  if (spec.idempotent) {
    const keyed = idempotency();
    chain.push((ctx, next) => (ctx.state.access ? keyed(ctx, next) : next()));
  }
  return chain;
}

/** One app's routes: its router and the declarations OpenAPI is built from. */
export class Routes {
  readonly router = new Router<AppState>();
  readonly specs: RouteSpec[] = [];

  constructor(private readonly dataSource: DataSource) {}

  add<B extends z.ZodType, Q extends z.ZodType>(spec: RouteSpec<B, Q>, handler: Handler<z.infer<B>, z.infer<Q>>): void {
    this.specs.push(spec as unknown as RouteSpec);
    const run = async (ctx: RouteContext) => {
      const body = spec.body ? parseOrThrow(spec.body, ctx.state.body ?? {}, 'body') : undefined;
      // The body parser already read `{}` as no body (api/middleware/jsonBody.ts):
      // anything left is a field this endpoint does not take.
      if (!spec.body && ctx.state.body !== undefined && spec.method !== 'get') {
        throw new ApiError(400, 'validation_failed', 'this endpoint takes no body', [
          { path: '(root)', message: 'unexpected body', code: 'unrecognized_keys' },
        ]);
      }
      const query = spec.query ? parseOrThrow(spec.query, { ...ctx.query }, 'query') : undefined;
      const input: RouteInput<z.infer<B>, z.infer<Q>> = {
        body: body as z.infer<B>,
        query: query as z.infer<Q>,
        params: ctx.params,
        get access() {
          return access(ctx);
        },
        get customerId() {
          const c = ctx.state.customer;
          if (!c) throw new Error(`${spec.method.toUpperCase()} ${spec.path} reads the customer but declares no customer scope`);
          return c.id;
        },
        ctx,
      };
      const result = await handler(input);
      if (result !== undefined) {
        ctx.status = spec.status ?? 200;
        ctx.body = result;
      } else if (spec.status === 204 && ctx.body === undefined) {
        ctx.status = 204;
      }
      // Under test every success is checked against its declared schema, so
      // the document cannot drift from what the server sends.
      if (ctx.state.checkResponses && spec.response && ctx.status < 300 && ctx.body !== undefined) {
        const checked = spec.response.safeParse(JSON.parse(JSON.stringify(ctx.body)));
        if (!checked.success) {
          throw new Error(
            `the response of ${spec.method.toUpperCase()} ${spec.path} does not match its schema: ${JSON.stringify(issuesToDetails(checked.error)).slice(0, 2000)}`,
          );
        }
      }
    };
    (this.router[spec.method] as (path: string, ...mw: unknown[]) => unknown)(spec.path, ...chainOf(spec as unknown as RouteSpec, this.dataSource), run);
  }
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
 * status, and the errors of the conventions that apply to it.
 */
function documentedStatuses(r: RouteSpec): Record<string, unknown> {
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  const mutating = r.method !== 'get';
  const success = r.html
    ? { description: 'success', content: { 'text/html': { schema: { type: 'string' } } } }
    : r.download
      ? {
          description: 'the file',
          content: Object.fromEntries(
            (r.download === true ? ['application/octet-stream'] : r.download).map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
          ),
        }
      : r.response
        ? { description: 'success', content: { 'application/json': { schema: z.toJSONSchema(r.response, { io: 'output', unrepresentable: 'any' }) } } }
        : r.redirect
          ? { description: 'a redirect to the Location header', headers: { Location: { schema: { type: 'string', format: 'uri' } } } }
          : { description: 'success' };
  const responses: Record<string, unknown> = {
    [String(r.status ?? 200)]: success,
    ...Object.fromEntries((r.otherSuccess ?? []).map((s) => [String(s), success])),
    400: error('invalid input (field paths in details), or an X-Customer-Id that names no customer you can reach'),
    401: error('not signed in, or an invalid token'),
    403: error('authenticated but lacking the permission (or a cross-site request)'),
    404: error('not found — also what another tenant’s or customer’s resource answers'),
    // Node's HTTP parser answers this itself, with no body.
    431: { description: 'the request line or headers are too large (the server reads at most 16 KB of them)' },
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
  const extra: Record<string, string> = {};
  for (const [status, description] of [...Object.entries(r.feature ? PLAN_FEATURE_STATUS : {}), ...Object.entries(r.errors ?? {})]) {
    extra[status] = extra[status] ? `${extra[status]}; or ${description}` : description;
  }
  for (const [status, description] of Object.entries(extra)) responses[status] = error(description);
  if (r.auth === 'public' && mutating) responses[429] = error('too many attempts; retry after details.retryAfterSeconds');
  return responses;
}

function paramSchema(p: IdParam | undefined): Record<string, unknown> {
  if (!p) return { type: 'string' };
  return {
    type: 'string',
    description: p.prefix === 'name' ? `a ${p.resource} name` : `a ${p.resource} id`,
    ...(p.prefix === 'uuid' ? { format: 'uuid' } : p.prefix === 'name' ? { pattern: SLUG.source } : { example: `${p.prefix}_01h00000000000000000000000` }),
  };
}

/**
 * Moves the `$defs` zod writes for a recursive schema (an automation's steps
 * nest: lib/automations.ts) into the document's `components.schemas` and
 * points their references there: embedded in an operation, `#/$defs/…` would
 * name nothing. Each is named after its operation and a count, so two never
 * collide.
 */
function hoistDefs(node: unknown, shared: Record<string, unknown>, opName: string, names: Map<string, string> = new Map()): unknown {
  if (Array.isArray(node)) return node.map((x) => hoistDefs(x, shared, opName, names));
  if (node === null || typeof node !== 'object') return node;
  const { $defs, ...rest } = node as Record<string, unknown>;
  let scope = names;
  if ($defs && typeof $defs === 'object') {
    scope = new Map(names);
    for (const k of Object.keys($defs)) scope.set(k, `${opName}_${Object.keys(shared).filter((n) => n.startsWith(`${opName}_`)).length + scope.size}`);
    for (const [k, def] of Object.entries($defs)) shared[scope.get(k)!] = hoistDefs(def, shared, opName, scope);
  }
  return Object.fromEntries(
    Object.entries(rest).map(([k, x]) => {
      const ref = k === '$ref' && typeof x === 'string' ? /^#\/\$defs\/(.+)$/.exec(x) : null;
      return [k, ref ? `#/components/schemas/${scope.get(ref[1]!) ?? ref[1]}` : hoistDefs(x, shared, opName, scope)];
    }),
  );
}

export function buildOpenApi(specs: readonly RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const shared: Record<string, unknown> = {};
  for (const r of specs) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: paramSchema(r.params?.[m[1]!]) }));
    const query = r.query ? jsonSchemaOf(r.query) : undefined;
    const queryParams =
      query && typeof query === 'object' && 'properties' in query
        ? Object.entries(query.properties as Record<string, unknown>).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
        : [];
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      parameters: [...params, ...queryParams],
      responses: documentedStatuses(r),
      ...(r.auth === 'public' ? { security: [] } : {}),
      ...(r.permission ? { 'x-permission': r.permission } : {}),
      ...(r.feature ? { 'x-plan-feature': r.feature } : {}),
    };
    if (r.body) {
      const content: Record<string, unknown> = {
        'application/json': { schema: jsonSchemaOf(r.body), ...(r.bodyExample === undefined ? {} : { example: r.bodyExample }) },
      };
      for (const alt of r.alsoAccepts ?? []) content[alt.mediaType] = { schema: { type: 'string', description: alt.description } };
      // Required only when the server requires it: a body whose every field is optional may be left out.
      op.requestBody = { required: !r.body.safeParse({}).success, content };
    }
    const opName = `${r.method}${path.replace(/[^A-Za-z0-9]+/g, '_')}`;
    (paths[path] ??= {})[r.method] = hoistDefs(op, shared, opName) as Record<string, unknown>;
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
        ...shared,
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } },
          },
        },
      },
    },
    security: [{ session: [] }, { bearer: [] }],
  };
}
