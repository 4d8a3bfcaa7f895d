// Tenant registration and provisioning (spec §5.2), and the workflow access
// API (spec §3.8).
//
// Registration is idempotent by externalCustomerId: the tenants row, unique on
// it, is the anchor — concurrent duplicates wait on the unique index and then
// find the first registration; the same id with a different body is a 409.
// Only the request that created the row starts the workflow.
import { createHash } from 'node:crypto';
import { type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type Koa from 'koa';
import { z } from 'zod';
import { industryTemplates } from '../../lib/industryTemplates';
import { startTenantWorkflow } from '../../services/tenantWorkflows';
import { isUuid, uuidv7 } from '../../db/ids';
import { PROVISIONING_STEPS, progressQuery, type provisionTenant, type ProvisioningProgress } from '../../workflows/provisionTenant';
import { provisionTenantWorkflowId } from '../../workflows/ids';
import { unauthenticated } from '../access';
import { type AppDeps } from '../deps';
import { hashPassword } from '../../lib/passwords';
import { ApiError, notFound } from '../../lib/errors';
import { RateLimiter } from '../rateLimit';
import { type Routes } from '../routing';
import * as R from '../schemas/responses';
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
type Registration = z.infer<typeof registrationBody>;

/** What makes two registrations "the same": everything but the password itself. */
function registrationHash(r: Registration): string {
  const canonical = { name: r.name, slug: r.slug, externalCustomerId: r.externalCustomerId, industry: r.industry, owner: { email: r.owner.email, name: r.owner.name, hasPassword: Boolean(r.owner.password) } };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

export function startProvisioning(client: Client, taskQueue: string, tenantId: string): Promise<string> {
  return startTenantWorkflow<typeof provisionTenant>(client, 'provisionTenant', {
    tenantId,
    workflowId: provisionTenantWorkflowId({ tenantId }),
    taskQueue,
    args: [{ tenantId }],
    // A failed provisioning may run again (retry); a completed one never.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  });
}

interface TenantRow {
  id: string;
  name: string;
  slug: string;
  status: string;
  industry: string | null;
  created_at: Date;
  provisioning: ProvisioningProgress & { ownerInviteUrl?: string; workflowId?: string };
}

/** Progress from the running workflow, or from the database once it has finished. */
async function provisioningOf(client: Client, t: TenantRow, forPlatformAdmin: boolean) {
  const workflowId = provisionTenantWorkflowId({ tenantId: t.id });
  let progress: ProvisioningProgress | undefined;
  let source: 'workflow' | 'database' = 'database';
  try {
    const handle = client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') {
      // A query needs a live worker; while none is running (crashed,
      // deploying), the progress stored after each step answers instead.
      progress = await client.connection.withDeadline(Date.now() + 3000, () => handle.query(progressQuery)).catch(() => undefined);
      if (progress) source = 'workflow';
    }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const stored = t.provisioning ?? {};
  const storedStatus = stored.status ?? (t.status === 'active' ? 'completed' : 'running');
  progress ??= {
    status: storedStatus,
    // Stored after a step completes: while running, the current step is the next one.
    step: storedStatus === 'running' ? (PROVISIONING_STEPS[stored.stepsDone ?? 0] ?? null) : (stored.step ?? null),
    stepsDone: stored.stepsDone ?? 0,
    stepsTotal: stored.stepsTotal ?? 6,
    startedAt: stored.startedAt ?? t.created_at.toISOString(),
    ...(stored.finishedAt ? { finishedAt: stored.finishedAt } : {}),
    ...(stored.error ? { error: stored.error } : {}),
    ...(stored.skipped ? { skipped: stored.skipped } : {}),
  };
  return {
    tenantId: t.id,
    tenantStatus: t.status,
    workflowId,
    source,
    ...progress,
    ...(forPlatformAdmin && stored.ownerInviteUrl ? { ownerInviteUrl: stored.ownerInviteUrl } : {}),
  };
}

/** Platform admins see every tenant; a tenant credential sees only its own tenant. Anything else: 404. */
function canSeeTenant(state: AppState, tenantId: string): boolean {
  const p = state.principal;
  if (!p) throw unauthenticated();
  if (p.kind === 'session' && p.isPlatformAdmin) return true;
  return p.tenantId === tenantId;
}

export function tenantRoutes(r: Routes, deps: AppDeps & { client: Client; taskQueue: string }) {
  const ds = deps.dataSource;
  const tag = 'tenants';
  const publicSignups = new RateLimiter(deps.limits?.registrationsPerIp ?? 10, 60 * 60 * 1000);

  async function register(ctx: Koa.ParameterizedContext<AppState>, body: Registration) {
    const id = uuidv7();
    const hash = registrationHash(body);
    const passwordHash = body.owner.password ? await hashPassword(body.owner.password) : null;
    let created = false;
    try {
      const rows = (await ds.query(
        `INSERT INTO tenants (id, slug, name, status, external_customer_id, industry, registration_hash, owner_email, owner_name, pending_owner_password_hash)
         VALUES ($1, $2, $3, 'provisioning', $4, $5, $6, $7, $8, $9)
         ON CONFLICT (external_customer_id) DO NOTHING RETURNING id`,
        [id, body.slug, body.name, body.externalCustomerId, body.industry, hash, body.owner.email, body.owner.name, passwordHash],
      )) as unknown[];
      created = rows.length === 1;
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      // A unique violation on the slug: either a concurrent duplicate of this
      // registration (handled below) or another tenant's slug.
    }
    if (created) {
      const workflowId = await startProvisioning(deps.client, deps.taskQueue, id);
      ctx.status = 202;
      ctx.body = { tenant: { id, status: 'provisioning' }, workflowId };
      return;
    }
    const [existing] = (await ds.query('SELECT id, status, registration_hash FROM tenants WHERE external_customer_id = $1', [body.externalCustomerId])) as {
      id: string;
      status: string;
      registration_hash: string;
    }[];
    if (!existing) throw new ApiError(409, 'slug_taken', 'this slug is taken', [{ path: 'slug', message: 'already taken', code: 'custom' }]);
    if (existing.registration_hash !== hash) {
      throw new ApiError(409, 'registration_conflict', 'this externalCustomerId was registered with different details');
    }
    ctx.status = 200;
    ctx.body = { tenant: { id: existing.id, status: existing.status }, workflowId: provisionTenantWorkflowId({ tenantId: existing.id }) };
  }

  r.add({ method: 'post', path: '/api/tenants', response: R.registered, otherSuccess: [200], summary: 'Register and provision a tenant (platform admin); idempotent by externalCustomerId', tag, auth: 'platform', body: registrationBody, status: 202 }, async ({ ctx, body }) => {
    await register(ctx, body);
  });

  r.add({ method: 'post', path: '/api/tenants/register', response: R.registered, otherSuccess: [200], summary: 'Public sign-up: register and provision a tenant', tag, auth: 'public', body: registrationBody, status: 202 }, async ({ ctx, body }) => {
    const hit = publicSignups.hit(ctx.state.clientAddress ?? 'unknown');
    if (!hit.allowed) throw new ApiError(429, 'too_many_requests', 'too many sign-ups from this address; try again later', { retryAfterSeconds: hit.retryAfterSeconds });
    await register(ctx, body);
  });

  r.add({ method: 'get', path: '/api/industry-templates', response: R.industryTemplates, summary: 'The industry templates a tenant can start from', tag, auth: 'public' }, async ({ ctx }) => {
    ctx.body = { data: [...industryTemplates().values()].map((t) => ({ key: t.key, name: t.name })) };
  });

  r.add({ method: 'get', path: '/api/tenants', response: R.tenantList, summary: 'List tenants with their status (platform admin)', tag, auth: 'platform' }, async ({ ctx }) => {
    const rows = (await ds.query('SELECT id, name, slug, status, industry, created_at, provisioning FROM tenants ORDER BY created_at DESC, id LIMIT 500')) as TenantRow[];
    ctx.body = {
      data: rows.map((t) => ({
        id: t.id,
        name: t.name,
        slug: t.slug,
        status: t.status,
        industry: t.industry,
        createdAt: t.created_at,
        provisioning: { stepsDone: t.provisioning?.stepsDone ?? 0, stepsTotal: t.provisioning?.stepsTotal ?? 6, status: t.provisioning?.status ?? null, error: t.provisioning?.error },
        workflowId: provisionTenantWorkflowId({ tenantId: t.id }),
      })),
    };
  });

  // Platform admins see every tenant's; a tenant credential sees its own
  // tenant's, through its tenant transaction (a removed member is refused)
  // and with the permission the declaration names.
  r.add({ method: 'get', path: '/api/tenants/:id/provisioning', response: R.provisioning, summary: "A tenant's provisioning progress (platform admin, or the tenant itself with settings.manage)", tag, auth: 'tenant', permission: 'settings.manage', platformToo: true }, async ({ ctx }) => {
    const id = ctx.params.id ?? '';
    // A restricted member works in one customer: tenant-wide views are not theirs (404, like anything out of reach).
    if (ctx.state.access?.restrictedCustomerId || !isUuid(id) || !canSeeTenant(ctx.state, id)) throw notFound('tenant');
    const [t] = (await ds.query('SELECT id, name, slug, status, industry, created_at, provisioning FROM tenants WHERE id = $1', [id])) as TenantRow[];
    if (!t) throw notFound('tenant');
    const p = ctx.state.principal;
    ctx.body = await provisioningOf(deps.client, t, p?.kind === 'session' && p.isPlatformAdmin);
  });

  r.add({ method: 'post', path: '/api/tenants/:id/provisioning/retry', response: R.registered, summary: 'Retry a failed provisioning (platform admin)', tag, auth: 'platform', status: 202 }, async ({ ctx }) => {
    const id = ctx.params.id ?? '';
    const [t] = isUuid(id) ? ((await ds.query('SELECT status FROM tenants WHERE id = $1', [id])) as { status: string }[]) : [];
    if (!t) throw notFound('tenant');
    if (t.status !== 'failed') throw new ApiError(409, 'not_failed', `provisioning can be retried only when it failed (it is ${t.status})`);
    await ds.query("UPDATE tenants SET status = 'provisioning', provisioning = provisioning || '{\"status\":\"running\"}'::jsonb - 'error' WHERE id = $1", [id]);
    ctx.status = 202;
    ctx.body = { tenant: { id, status: 'provisioning' }, workflowId: await startProvisioning(deps.client, deps.taskQueue, id) };
  });

  r.add({ method: 'get', path: '/api/onboarding', response: R.onboarding, summary: "The tenant's onboarding checklist and entitlements", tag, auth: 'tenant' }, async ({ ctx }) => {
    const m = ctx.state.access!.manager;
    const items = (await m.query('SELECT key, title, done_at FROM onboarding_items ORDER BY position')) as { key: string; title: string; done_at: Date | null }[];
    const entitlements = (await m.query('SELECT key, enabled, limit_value FROM entitlements ORDER BY key')) as { key: string; enabled: boolean; limit_value: number | null }[];
    ctx.body = {
      checklist: items.map((i) => ({ key: i.key, title: i.title, done: i.done_at !== null })),
      entitlements: entitlements.map((e) => ({ key: e.key, enabled: e.enabled, limit: e.limit_value })),
    };
  });

}
