// Tenant registration, provisioning progress and onboarding: declarations
// over services/tenancy/tenants.
import { type Client } from '@temporalio/client';
import { z } from 'zod';
import { industryTemplates } from '../../lib/industryTemplates';
import { ApiError, notFound } from '../../lib/errors';
import * as tenants from '../../services/tenancy/tenants';
import { unauthenticated } from '../access';
import { type AppDeps } from '../deps';
import { take } from '../../services/rateLimit';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/tenancy.responses';
import { type AppState } from '../state';

const registrationBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and dashes (2–63)'),
    externalCustomerId: z.string().trim().min(1).max(200),
    industry: z
      .string()
      .refine((k) => industryTemplates().has(k), { message: `one of: ${[...industryTemplates().keys()].join(', ')}` })
      .meta({ enum: [...industryTemplates().keys()] }),
    owner: z
      .object({
        email: z.string().trim().toLowerCase().email().max(320),
        name: z.string().trim().min(1).max(200),
        password: z.string().min(10, 'at least 10 characters').max(1000).optional(),
      })
      .strict(),
  })
  .strict();

/** Platform admins see every tenant; a tenant credential sees only its own tenant. Anything else: 404. */
function canSeeTenant(state: AppState, tenantId: string): boolean {
  const p = state.principal;
  if (!p) throw unauthenticated();
  if (p.kind === 'session' && p.isPlatformAdmin) return true;
  return p.tenantId === tenantId;
}

const isPlatformAdmin = (state: AppState) => state.principal?.kind === 'session' && state.principal.isPlatformAdmin;

export function tenantRoutes(r: Routes, deps: AppDeps & { client: Client; taskQueue: string }) {
  const ds = deps.dataSource;
  const tag = 'tenants';
  const tenant = { params: { id: { prefix: 'uuid', resource: 'tenant' } } } as const;
  const signupsPerIp = deps.limits?.registrationsPerIp ?? 10;
  const registration = { tag, body: registrationBody, status: 202, otherSuccess: [200], response: R.registered } as const;

  r.add(
    {
      method: 'post',
      path: '/api/tenants',
      summary: 'Register and provision a tenant (platform admin); idempotent by externalCustomerId',
      auth: 'platform',
      ...registration,
    },
    async ({ ctx, body }) => {
      const out = await tenants.registerTenant(ds, deps, body, { selfRegistered: false });
      ctx.status = out.created ? 202 : 200;
      ctx.body = out.body;
    },
  );
  r.add(
    { method: 'post', path: '/api/tenants/register', summary: 'Public sign-up: register and provision a tenant', auth: 'public', ...registration },
    async ({ ctx, body }) => {
      const hit = await take(ds, `signups:ip:${ctx.state.clientAddress ?? 'unknown'}`, signupsPerIp, 60 * 60 * 1000);
      if (!hit.allowed)
        throw new ApiError(429, 'too_many_requests', 'too many sign-ups from this address; try again later', { retryAfterSeconds: hit.retryAfterSeconds });
      const out = await tenants.registerTenant(ds, deps, body, { selfRegistered: true });
      ctx.status = out.created ? 202 : 200;
      ctx.body = out.body;
    },
  );
  r.add(
    {
      method: 'get',
      path: '/api/industry-templates',
      summary: 'The industry templates a tenant can start from',
      tag,
      auth: 'public',
      response: R.industryTemplates,
    },
    () => ({
      data: [...industryTemplates().values()].map((t) => ({ key: t.key, name: t.name })),
    }),
  );
  r.add(
    {
      method: 'get',
      path: '/api/tenants',
      summary: 'List tenants with their status, newest first; q searches name and slug (platform admin)',
      tag,
      auth: 'platform',
      query: listQuery,
      response: R.tenantList,
    },
    ({ query }) => tenants.listTenants(ds, query),
  );
  // Platform admins see every tenant's; a tenant credential sees its own
  // tenant's, through its tenant transaction (a removed member is refused)
  // and with the permission the declaration names.
  r.add(
    {
      method: 'get',
      path: '/api/tenants/:id/provisioning',
      summary: "A tenant's provisioning progress (platform admin, or the tenant itself with settings.manage)",
      tag,
      auth: 'tenant',
      permission: 'settings.manage',
      platformToo: true,
      ...tenant,
      response: R.provisioning,
    },
    ({ ctx, params }) => {
      // A restricted member works in one customer: tenant-wide views are not theirs (404, like anything out of reach).
      if (ctx.state.access?.restrictedCustomerId || !canSeeTenant(ctx.state, params.id!)) throw notFound('tenant');
      return tenants.provisioningOf(ds, deps, params.id!, isPlatformAdmin(ctx.state));
    },
  );
  r.add(
    {
      method: 'post',
      path: '/api/tenants/:id/provisioning/retry',
      summary: 'Retry a failed provisioning (platform admin)',
      tag,
      auth: 'platform',
      ...tenant,
      status: 202,
      response: R.registered,
    },
    ({ params }) => tenants.retryProvisioning(ds, deps, params.id!),
  );
  r.add(
    { method: 'get', path: '/api/onboarding', summary: "The tenant's onboarding checklist and entitlements", tag, auth: 'tenant', response: R.onboarding },
    ({ access }) => tenants.onboarding(access),
  );
}
