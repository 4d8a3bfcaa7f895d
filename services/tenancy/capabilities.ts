// Capability provisioning per customer: explicitly turning on
// e-mail outreach for one customer — never as a side effect of a login.
// Platform admins name the tenant; a tenant's owner acts in their own tenant
// only and must not name one. A tenant caller works in its request's tenant
// transaction (where a denial is audited); a platform admin's work opens one
// for the named tenant.
import { type DataSource, type EntityManager } from 'typeorm';
import { customerExists } from '../../db/customers';
import { isId } from '../../db/ids';
import { providerAccountsOfCustomer } from '../../db/inboxes';
import { withTenant } from '../../db/tenantContext';
import { ApiError, forbidden, notFound } from '../../lib/errors';
import { provisionEmailWorkflowId, syncInboxesWorkflowId } from '../../workflows/ids';
import { type Caller } from '../context';
import { type WorkflowClientDeps } from '../outreach/enrollments';
import { startTenantWorkflow } from '../tenantWorkflows';

export interface CapabilityDeps extends WorkflowClientDeps {
  dataSource: DataSource;
  /** Whether the provider's platform API key is configured (SMARTLEAD_API_KEY). */
  providerConfigured?: boolean;
}

interface Target {
  tenantId: string;
  customerId: string;
}

const invalid = (message: string) => new ApiError(400, 'validation_failed', 'invalid input', [{ path: 'tenantId', message, code: 'custom' }]);

function inTenant<T>(deps: CapabilityDeps, caller: Caller, tenantId: string, fn: (m: EntityManager) => Promise<T>): Promise<T> {
  return caller.kind === 'tenant' ? fn(caller.access.manager) : withTenant(deps.dataSource, tenantId, fn);
}

/** Works out the tenant and checks the caller may act on this customer; 404 when it is not theirs. */
async function target(deps: CapabilityDeps, caller: Caller, customerId: string, namedTenant: string | undefined, need: 'owner' | 'read'): Promise<Target> {
  let tenantId: string;
  if (caller.kind === 'platform') {
    if (!namedTenant) throw invalid('platform admins name the tenant');
    tenantId = namedTenant;
  } else {
    if (namedTenant) throw invalid('only platform admins name a tenant');
    const a = caller.access;
    tenantId = a.tenantId;
    if (a.restrictedCustomerId && a.restrictedCustomerId !== customerId) throw notFound('customer');
    if (need === 'owner' && a.roleKey !== 'owner') throw new ApiError(403, 'forbidden', 'only an owner turns on capabilities');
    if (need === 'read' && !a.permissions.has('customers.read')) throw forbidden('customers.read');
  }
  const exists = await inTenant(deps, caller, tenantId, async (m) => isId('cust', customerId) && (await customerExists(m, customerId)));
  if (!exists) throw notFound('customer');
  return { tenantId, customerId };
}

async function start(
  deps: CapabilityDeps,
  caller: Caller,
  customerId: string,
  namedTenant: string | undefined,
  workflow: 'provisionEmailOutreach' | 'syncInboxes',
) {
  const t = await target(deps, caller, customerId, namedTenant, 'owner');
  if (!deps.providerConfigured) throw new ApiError(503, 'provider_not_configured', 'the e-mail provider is not configured (SMARTLEAD_API_KEY)');
  const workflowId = workflow === 'provisionEmailOutreach' ? provisionEmailWorkflowId(t) : syncInboxesWorkflowId(t);
  await startTenantWorkflow(deps.client, workflow, {
    tenantId: t.tenantId,
    workflowId,
    taskQueue: deps.taskQueue,
    args: [t],
    // A run in progress is joined, not duplicated; a finished one may run again.
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return { workflowId };
}

/** Turns on e-mail outreach for a customer (an owner, or a platform admin naming the tenant). */
export const turnOnEmailOutreach = (deps: CapabilityDeps, caller: Caller, customerId: string, namedTenant?: string) =>
  start(deps, caller, customerId, namedTenant, 'provisionEmailOutreach');

/** Syncs a customer's inboxes from its provider account. */
export const syncInboxes = (deps: CapabilityDeps, caller: Caller, customerId: string, namedTenant?: string) =>
  start(deps, caller, customerId, namedTenant, 'syncInboxes');

export async function capabilityStatus(deps: CapabilityDeps, caller: Caller, customerId: string, namedTenant?: string) {
  const t = await target(deps, caller, customerId, namedTenant, 'read');
  const [row] = await inTenant(deps, caller, t.tenantId, (m) => providerAccountsOfCustomer(m, t.customerId));
  if (!row) throw new ApiError(404, 'not_provisioned', 'e-mail outreach is not turned on for this customer');
  return {
    customerId: t.customerId,
    provider: row.provider,
    status: row.status,
    externalAccountId: row.external_account_id,
    apiKeyStored: row.api_key_key_id !== null,
    encryptionKeyId: row.api_key_key_id,
    inboxes: row.inboxes,
    lastSyncedAt: row.last_synced_at,
    error: row.error,
    workflowId: provisionEmailWorkflowId(t),
  };
}
