// GET /api/workflows/:workflowId: a declaration over
// services/tenancy/workflows, which decides who may describe what.
import { type Client } from '@temporalio/client';
import { describeWorkflow } from '../../services/tenancy/workflows';
import { callerOf } from '../access';
import { type AppDeps } from '../deps';
import { type Routes } from '../routing';
import * as R from '../schemas/tenancy.responses';

export function workflowRoutes(r: Routes, deps: AppDeps & { client: Client }) {
  r.add(
    {
      method: 'get',
      path: '/api/workflows/:workflowId',
      summary:
        'Describe a workflow of your tenant (URL-encode the id); the permission follows its kind: settings.manage (tenant), customers.read (customer), campaigns.read (enrollment)',
      tag: 'workflows',
      auth: 'tenant',
      platformToo: true,
      response: R.workflowDescription,
    },
    ({ ctx, params }) => describeWorkflow(deps.dataSource, deps, callerOf(ctx), params.workflowId ?? ''),
  );
}
