// Capability provisioning per customer (seed 002): explicitly turning on
// e-mail outreach for one customer — never as a side effect of a login.
// Platform admins name the tenant (`tenantId`); a tenant's owner acts in
// their own tenant only and must not name one.
import { type Client } from '@temporalio/client';
import type Koa from 'koa';
import { type EntityManager } from 'typeorm';
import { z } from 'zod';
import { isId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { startTenantWorkflow } from '../../services/tenantWorkflows';
import type { provisionEmailOutreach } from '../../workflows/provisionEmailOutreach';
import { provisionEmailWorkflowId, syncInboxesWorkflowId } from '../../workflows/ids';
import { unauthenticated } from '../access';
import { type AppDeps } from '../deps';
import { ApiError, forbidden, notFound } from '../../lib/errors';
import { type Routes } from '../routing';
import * as R from '../schemas/responses';
import { type AppState } from '../state';

const targetBody = z.object({ tenantId: z.string().uuid().optional() }).strict();
const BASE = '/api/internal/provisioning/email-outreach/:customerId';

type Need = 'owner' | 'read';

export function capabilityRoutes(r: Routes, deps: AppDeps & { client: Client; taskQueue: string }) {
  const ds = deps.dataSource;
  const tag = 'capabilities';

  /** Works out the tenant and checks the caller may act on this customer; 404 when it is not theirs. */
  /** The request's own tenant transaction for a tenant caller; a platform admin (outside any tenant) opens one for the named tenant. */
  const inTenant = <T>(ctx: { state: AppState }, tenantId: string, fn: (m: EntityManager) => Promise<T>): Promise<T> =>
    ctx.state.access ? fn(ctx.state.access.manager) : withTenant(ds, tenantId, fn);

  async function target(ctx: Koa.ParameterizedContext<AppState> & { params: Record<string, string> }, tenantIdInput: string | undefined, need: Need) {
    const p = ctx.state.principal;
    if (!p) throw unauthenticated();
    const customerId = ctx.params.customerId ?? '';
    let tenantId: string;
    if (p.kind === 'session' && p.isPlatformAdmin) {
      if (!tenantIdInput) throw new ApiError(400, 'validation_failed', 'invalid input', [{ path: 'tenantId', message: 'platform admins name the tenant', code: 'custom' }]);
      tenantId = tenantIdInput;
    } else {
      if (tenantIdInput) throw new ApiError(400, 'validation_failed', 'invalid input', [{ path: 'tenantId', message: 'only platform admins name a tenant', code: 'custom' }]);
      if (!p.tenantId) throw new ApiError(403, 'no_tenant', 'select a tenant first');
      tenantId = p.tenantId;
    }
    await inTenant(ctx, tenantId, async (m) => {
      // A tenant caller's access comes from its tenant transaction (tenantScope), where a denial is audited.
      const a = ctx.state.access;
      if (a) {
        if (a.restrictedCustomerId && a.restrictedCustomerId !== customerId) throw notFound('customer');
        if (need === 'owner') {
          if (a.roleKey !== 'owner') throw new ApiError(403, 'forbidden', 'only an owner turns on capabilities');
        } else if (!a.permissions.has('customers.read')) {
          throw forbidden('customers.read');
        }
      }
      const [customer] = isId('cust', customerId) ? ((await m.query('SELECT 1 FROM customers WHERE id = $1', [customerId])) as unknown[]) : [];
      if (!customer) throw notFound('customer');
    });
    return { tenantId, customerId };
  }

  const start = (workflow: 'provisionEmailOutreach' | 'syncInboxes', workflowId: string, t: { tenantId: string; customerId: string }) =>
    startTenantWorkflow<typeof provisionEmailOutreach>(deps.client, workflow, {
      tenantId: t.tenantId,
      workflowId,
      taskQueue: deps.taskQueue,
      args: [t],
      // A run in progress is joined, not duplicated; a finished one may run again.
      workflowIdConflictPolicy: 'USE_EXISTING',
    });

  const requireProvider = () => {
    if (!deps.providerConfigured) throw new ApiError(503, 'provider_not_configured', 'the e-mail provider is not configured (SMARTLEAD_API_KEY)');
  };

  r.add({ method: 'post', path: BASE, response: R.workflowStarted, summary: 'Turn on e-mail outreach for a customer (platform admin or owner)', tag, auth: 'tenant', platformToo: true, body: targetBody, status: 202 }, async ({ ctx, body }) => {
    const t = await target(ctx, body.tenantId, 'owner');
    requireProvider();
    const workflowId = provisionEmailWorkflowId(t);
    await start('provisionEmailOutreach', workflowId, t);
    ctx.status = 202;
    ctx.body = { workflowId };
  });

  r.add({ method: 'get', path: `${BASE}/status`, response: R.capabilityStatus, summary: "A customer's e-mail outreach capability", tag, auth: 'tenant', platformToo: true, query: targetBody }, async ({ ctx, query }) => {
    const t = await target(ctx, query.tenantId, 'read');
    const [row] = await inTenant(ctx, t.tenantId, async (m) =>
      (await m.query(
        `SELECT a.provider, a.status, a.external_account_id, a.api_key_key_id, a.last_synced_at, a.error,
                (SELECT count(*)::int FROM inboxes i WHERE i.customer_id = a.customer_id AND i.provider = a.provider) AS inboxes
           FROM provider_accounts a WHERE a.customer_id = $1`,
        [t.customerId],
      )) as { provider: string; status: string; external_account_id: string | null; api_key_key_id: string | null; last_synced_at: Date | null; error: string | null; inboxes: number }[],
    );
    if (!row) throw new ApiError(404, 'not_provisioned', 'e-mail outreach is not turned on for this customer');
    ctx.body = {
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
  });

  r.add({ method: 'post', path: `${BASE}/sync-inboxes`, response: R.workflowStarted, summary: "Sync a customer's inboxes from its provider account", tag, auth: 'tenant', platformToo: true, body: targetBody, status: 202 }, async ({ ctx, body }) => {
    const t = await target(ctx, body.tenantId, 'owner');
    requireProvider();
    const workflowId = syncInboxesWorkflowId(t);
    await start('syncInboxes', workflowId, t);
    ctx.status = 202;
    ctx.body = { workflowId };
  });

}
