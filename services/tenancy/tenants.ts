// Tenants: registration, provisioning progress and retry, and the
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
import { listEntitlements } from '../../db/entitlements';
import { uuidv7 } from '../../db/ids';
import { listOnboardingItems } from '../../db/onboarding';
import { type ListParams } from '../../db/pagination';
import {
  findRegistration,
  findTenantRow,
  insertTenantRegistration,
  listTenantRows,
  markProvisioningRetried,
  tenantSettings,
  tenantStatus,
} from '../../db/tenants';
import { ApiError, notFound } from '../../lib/errors';
import { hashPassword } from '../../lib/passwords';
import { isValidTimezone } from '../../lib/schedule';
import { provisionTenantWorkflowId } from '../../workflows/ids';
import { PROVISIONING_STEPS, progressQuery, type ProvisioningProgress } from '../../workflows/provisionTenant.contract';
import { type TenantAccess } from '../context';
import { type WorkflowClientDeps } from '../outreach/enrollments';
import { startTenantWorkflow } from '../tenantWorkflows';

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
    created = await insertTenantRegistration(ds, {
      id,
      slug: body.slug,
      name: body.name,
      externalCustomerId: body.externalCustomerId,
      industry: body.industry,
      registrationHash: hash,
      ownerEmail: body.owner.email,
      ownerName: body.owner.name,
      pendingOwnerPasswordHash: passwordHash,
      selfRegistered: opts.selfRegistered,
    });
  } catch (err) {
    if ((err as { code?: string }).code !== '23505') throw err;
    // A unique violation on the slug: either a concurrent duplicate of this
    // registration (handled below) or another tenant's slug.
  }
  if (created) {
    const workflowId = await startProvisioning(deps, id);
    return { created, body: { tenant: { id, status: 'provisioning' }, workflowId } };
  }
  const existing = await findRegistration(ds, body.externalCustomerId);
  if (!existing) throw new ApiError(409, 'slug_taken', 'this slug is taken', [{ path: 'slug', message: 'already taken', code: 'custom' }]);
  if (existing.registration_hash !== hash) throw new ApiError(409, 'registration_conflict', 'this externalCustomerId was registered with different details');
  return { created, body: { tenant: { id: existing.id, status: existing.status }, workflowId: provisionTenantWorkflowId({ tenantId: existing.id }) } };
}

/** The progress provisioning stores, with the owner's link and the workflow's id. */
type StoredProgress = ProvisioningProgress & { ownerInviteUrl?: string; workflowId?: string };

export async function listTenants(ds: DataSource, query: ListParams) {
  const rows = await listTenantRows<StoredProgress>(ds, query);
  return {
    nextCursor: rows.nextCursor,
    data: rows.data.map((t) => ({
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
  const t = await findTenantRow<StoredProgress>(ds, tenantId);
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
  const status = await tenantStatus(ds, tenantId);
  if (status === undefined) throw notFound('tenant');
  if (status !== 'failed') throw new ApiError(409, 'not_failed', `provisioning can be retried only when it failed (it is ${status})`);
  await markProvisioningRetried(ds, tenantId);
  return { tenant: { id: tenantId, status: 'provisioning' }, workflowId: await startProvisioning(deps, tenantId) };
}

/**
 * The tenant's onboarding checklist (ticked by triggers as the tenant does
 * each thing), entitlements, and the defaults its industry template set
 * (the console's new campaigns and inboxes start from them).
 */
export async function onboarding(a: TenantAccess) {
  const items = await listOnboardingItems(a.manager);
  const entitlements = await listEntitlements(a.manager);
  return {
    checklist: items.map((i) => ({ key: i.key, title: i.title, done: i.done_at !== null })),
    entitlements: entitlements.map((e) => ({ key: e.key, enabled: e.enabled, limit: e.limit_value })),
    settings: defaultsOf(await tenantSettings(a.manager, a.tenantId)),
  };
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const HOUR_MINUTE = /^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/;

/**
 * The template's defaults in the API's terms (weekdays as ISO numbers, 1 is
 * Monday, as a campaign's schedule has them); a value the stored settings do
 * not hold in that shape is null, so a hand-edited row cannot break a form.
 */
function defaultsOf(s: Record<string, unknown>) {
  const zone = typeof s.timezone === 'string' && isValidTimezone(s.timezone) ? s.timezone : null;
  const w = (s.sendWindow ?? {}) as { start?: unknown; end?: unknown; days?: unknown };
  const days = Array.isArray(w.days) ? w.days.map((d) => WEEKDAYS.indexOf(String(d).toLowerCase()) + 1) : [];
  const window =
    typeof w.start === 'string' &&
    typeof w.end === 'string' &&
    HOUR_MINUTE.test(w.start) &&
    HOUR_MINUTE.test(w.end) &&
    w.start < w.end &&
    days.length > 0 &&
    days.every((d) => d > 0)
      ? { start: w.start, end: w.end, days: [...new Set(days)].sort((x, y) => x - y) }
      : null;
  const cap = s.defaultDailyCap;
  return {
    timezone: zone,
    sendWindow: window,
    defaultDailyCap: Number.isInteger(cap) && (cap as number) >= 1 && (cap as number) <= 10_000 ? (cap as number) : null,
  };
}
