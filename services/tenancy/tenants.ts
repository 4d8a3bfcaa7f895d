// Tenants (spec §5.2): registration, provisioning progress and retry, and the
// onboarding checklist. The tenants table is platform-wide (no RLS); the
// checklist and entitlements are read in the caller's tenant transaction.
//
// Registration is idempotent by externalCustomerId: the tenants row, unique on
// it, is the anchor — concurrent duplicates wait on the unique index and then
// find the first registration; the same id with a different body is a 409.
// Only the call that created the row starts the workflow.
import { billingWorkflowId } from '../../workflows/billing.contract';
import { createHash } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { uuidv7 } from '../../db/ids';
import { ApiError, notFound } from '../../lib/errors';
import { hashPassword } from '../../lib/passwords';
import { provisionTenantWorkflowId } from '../../workflows/ids';
import { PROVISIONING_STEPS, progressQuery, type ProvisioningProgress } from '../../workflows/provisionTenant.contract';
import { type TenantAccess } from '../context';
import { type WorkflowClientDeps } from '../outreach/enrollments';
import { startTenantWorkflow } from '../tenantWorkflows';
import { type TenantRecord } from '../../db/rows/tenants';

export interface Registration {
  name: string;
  slug: string;
  externalCustomerId: string;
  industry: string;
  owner: { email: string; name: string; password?: string };
}

/** What makes two registrations "the same": everything but the password itself. */
function registrationHash(r: Registration): string {
  const canonical = {
    name: r.name,
    slug: r.slug,
    externalCustomerId: r.externalCustomerId,
    industry: r.industry,
    owner: { email: r.owner.email, name: r.owner.name, hasPassword: Boolean(r.owner.password) },
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

function startProvisioning(deps: WorkflowClientDeps, tenantId: string): Promise<string> {
  return startTenantWorkflow(deps.client, 'provisionTenant', {
    tenantId,
    workflowId: provisionTenantWorkflowId({ tenantId }),
    taskQueue: deps.taskQueue,
    args: [{ tenantId }],
    // A failed provisioning may run again (retry); a completed one never.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  });
}

/**
 * Registers a tenant and starts its provisioning; `created` is false when the
 * same registration was made before. A public sign-up (`selfRegistered`)
 * names an address nobody has proven: its owner is created unverified and
 * mailed a link (docs/security.md, "Identity").
 */
export async function registerTenant(ds: DataSource, deps: WorkflowClientDeps, body: Registration, opts: { selfRegistered: boolean }) {
  const id = uuidv7();
  const hash = registrationHash(body);
  const passwordHash = body.owner.password ? await hashPassword(body.owner.password) : null;
  let created = false;
  try {
    const rows = (await ds.query(
      `INSERT INTO tenants (id, slug, name, status, external_customer_id, industry, registration_hash, owner_email, owner_name, pending_owner_password_hash, self_registered)
       VALUES ($1, $2, $3, 'provisioning', $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (external_customer_id) DO NOTHING RETURNING id`,
      [id, body.slug, body.name, body.externalCustomerId, body.industry, hash, body.owner.email, body.owner.name, passwordHash, opts.selfRegistered],
    )) as unknown[];
    created = rows.length === 1;
  } catch (err) {
    if ((err as { code?: string }).code !== '23505') throw err;
    // A unique violation on the slug: either a concurrent duplicate of this
    // registration (handled below) or another tenant's slug.
  }
  if (created) {
    const workflowId = await startProvisioning(deps, id);
    return { created, body: { tenant: { id, status: 'provisioning' }, workflowId } };
  }
  const [existing] = (await ds.query('SELECT id, status, registration_hash FROM tenants WHERE external_customer_id = $1', [body.externalCustomerId])) as {
    id: string;
    status: string;
    registration_hash: string;
  }[];
  if (!existing) throw new ApiError(409, 'slug_taken', 'this slug is taken', [{ path: 'slug', message: 'already taken', code: 'custom' }]);
  if (existing.registration_hash !== hash) throw new ApiError(409, 'registration_conflict', 'this externalCustomerId was registered with different details');
  return { created, body: { tenant: { id: existing.id, status: existing.status }, workflowId: provisionTenantWorkflowId({ tenantId: existing.id }) } };
}

type TenantRow = Pick<
  TenantRecord<ProvisioningProgress & { ownerInviteUrl?: string; workflowId?: string }>,
  'id' | 'name' | 'slug' | 'status' | 'industry' | 'created_at' | 'provisioning' | 'billing_plan' | 'billing_status'
>;

const TENANT_SELECT = 'SELECT id, name, slug, status, industry, created_at, provisioning, billing_plan, billing_status FROM tenants';

export async function listTenants(ds: DataSource) {
  const rows = (await ds.query(`${TENANT_SELECT} ORDER BY created_at DESC, id LIMIT 500`)) as TenantRow[];
  return {
    data: rows.map((t) => ({
      id: t.id,
      name: t.name,
      slug: t.slug,
      status: t.status,
      industry: t.industry,
      createdAt: t.created_at,
      provisioning: {
        stepsDone: t.provisioning?.stepsDone ?? 0,
        stepsTotal: t.provisioning?.stepsTotal ?? 6,
        status: t.provisioning?.status ?? null,
        // Progress saved after a step stores `error: null`; the answer names an error only when there is one.
        ...(t.provisioning?.error ? { error: t.provisioning.error } : {}),
      },
      workflowId: provisionTenantWorkflowId({ tenantId: t.id }),
      billing: { plan: t.billing_plan, status: t.billing_status, workflowId: billingWorkflowId(t.id) },
    })),
  };
}

/** Progress from the running workflow, or from the database once it has finished (or while no worker answers). */
export async function provisioningOf(ds: DataSource, deps: Pick<WorkflowClientDeps, 'client'>, tenantId: string, forPlatformAdmin: boolean) {
  const [t] = (await ds.query(`${TENANT_SELECT} WHERE id = $1`, [tenantId])) as TenantRow[];
  if (!t) throw notFound('tenant');
  const workflowId = provisionTenantWorkflowId({ tenantId: t.id });
  let progress: ProvisioningProgress | undefined;
  let source: 'workflow' | 'database' = 'database';
  try {
    const handle = deps.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') {
      // A query needs a live worker; while none is running (crashed,
      // deploying), the progress stored after each step answers instead.
      progress = await deps.client.connection.withDeadline(Date.now() + 3000, () => handle.query(progressQuery)).catch(() => undefined);
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

export async function retryProvisioning(ds: DataSource, deps: WorkflowClientDeps, tenantId: string) {
  const [t] = (await ds.query('SELECT status FROM tenants WHERE id = $1', [tenantId])) as { status: string }[];
  if (!t) throw notFound('tenant');
  if (t.status !== 'failed') throw new ApiError(409, 'not_failed', `provisioning can be retried only when it failed (it is ${t.status})`);
  await ds.query("UPDATE tenants SET status = 'provisioning', provisioning = provisioning || '{\"status\":\"running\"}'::jsonb - 'error' WHERE id = $1", [
    tenantId,
  ]);
  return { tenant: { id: tenantId, status: 'provisioning' }, workflowId: await startProvisioning(deps, tenantId) };
}

/** The tenant's onboarding checklist (ticked by triggers as the tenant does each thing) and entitlements. */
export async function onboarding(a: TenantAccess) {
  const items = (await a.manager.query('SELECT key, title, done_at FROM onboarding_items ORDER BY position')) as {
    key: string;
    title: string;
    done_at: Date | null;
  }[];
  const entitlements = (await a.manager.query('SELECT key, enabled, limit_value FROM entitlements ORDER BY key')) as {
    key: string;
    enabled: boolean;
    limit_value: number | null;
  }[];
  return {
    checklist: items.map((i) => ({ key: i.key, title: i.title, done: i.done_at !== null })),
    entitlements: entitlements.map((e) => ({ key: e.key, enabled: e.enabled, limit: e.limit_value })),
  };
}
