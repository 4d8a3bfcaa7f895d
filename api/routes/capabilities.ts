// Capability provisioning per customer: declarations over
// services/tenancy/capabilities. Platform admins name the tenant (`tenantId`);
// a tenant's owner acts in their own tenant only.
import { type Client } from '@temporalio/client';
import { z } from 'zod';
import * as capabilities from '../../services/tenancy/capabilities';
import { callerOf } from '../access';
import { type AppDeps } from '../deps';
import { type Routes } from '../routing';
import * as R from '../schemas/tenancy.responses';

const targetBody = z.object({ tenantId: z.string().uuid().optional() }).strict();
const BASE = '/api/internal/provisioning/email-outreach/:customerId';

export function capabilityRoutes(r: Routes, deps: AppDeps & { client: Client; taskQueue: string }) {
  const common = { tag: 'capabilities', auth: 'tenant', platformToo: true } as const;
  r.add(
    {
      method: 'post',
      path: BASE,
      summary: 'Turn on e-mail outreach for a customer (platform admin or owner)',
      ...common,
      feature: 'email_outreach',
      body: targetBody,
      status: 202,
      response: R.workflowStarted,
    },
    ({ ctx, params, body }) => capabilities.turnOnEmailOutreach(deps, callerOf(ctx), params.customerId ?? '', body.tenantId),
  );
  r.add(
    { method: 'get', path: `${BASE}/status`, summary: "A customer's e-mail outreach capability", ...common, query: targetBody, response: R.capabilityStatus },
    ({ ctx, params, query }) => capabilities.capabilityStatus(deps, callerOf(ctx), params.customerId ?? '', query.tenantId),
  );
  r.add(
    {
      method: 'post',
      path: `${BASE}/sync-inboxes`,
      summary: "Sync a customer's inboxes from its provider account",
      ...common,
      feature: 'email_outreach',
      body: targetBody,
      status: 202,
      response: R.workflowStarted,
    },
    ({ ctx, params, body }) => capabilities.syncInboxes(deps, callerOf(ctx), params.customerId ?? '', body.tenantId),
  );
}
