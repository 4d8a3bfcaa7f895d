// Moving a campaign's running leads to its latest sequence version:
// declarations over services/outreach/sequenceUpgrade. Like every campaign
// route, they work in the customer X-Customer-Id names.
import { type WorkflowClientDeps } from '../../services/outreach/enrollments';
import * as upgrade from '../../services/outreach/sequenceUpgrade';
import { type Routes } from '../routing';
import * as R from '../schemas/outreach.responses';

const tag = 'campaigns';
const read = { tag, auth: 'tenant', permission: 'campaigns.read' } as const;
const write = { tag, auth: 'tenant', permission: 'campaigns.write', feature: 'email_outreach', idempotent: true } as const;
const campaign = { customer: 'addressed', params: { id: { prefix: 'cmp', resource: 'campaign' } } } as const;

export function sequenceUpgradeRoutes(r: Routes, deps: WorkflowClientDeps) {
  r.add(
    {
      method: 'get',
      path: '/api/campaigns/:id/sequence/running',
      summary: "Which sequence versions the campaign's running leads run, and the latest",
      ...read,
      ...campaign,
      response: R.sequenceRunning,
    },
    ({ access, customerId, params }) => upgrade.runningSequenceVersions(access, customerId, params.id!),
  );
  r.add(
    {
      method: 'post',
      path: '/api/campaigns/:id/sequence/upgrade',
      summary: "Move the campaign's running leads to its latest sequence version (sent steps stay sent; 409 when none runs an older one)",
      ...write,
      ...campaign,
      response: R.sequenceUpgraded,
    },
    ({ access, customerId, params }) => upgrade.upgradeRunningEnrollments(access, deps, customerId, params.id!),
  );
}
