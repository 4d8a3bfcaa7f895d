// Campaign routes: declarations over services/outreach/campaigns. Every route
// works in the customer X-Customer-Id names; a campaign of another customer is
// 404 like one that does not exist.
import { PLAN_LIMIT_STATUS } from '../../services/billing/limits';
import * as campaigns from '../../services/outreach/campaigns';
import { type WorkflowClientDeps } from '../../services/outreach/enrollments';
import { type Routes } from '../routing';
import * as R from '../schemas/outreach.responses';
import * as S from '../schemas/outreach';
import { campaignLeadRoutes } from './campaignLeads';

const tag = 'campaigns';
const read = { tag, auth: 'tenant', permission: 'campaigns.read' } as const;
const write = { tag, auth: 'tenant', permission: 'campaigns.write', feature: 'email_outreach', idempotent: true } as const;
const campaign = { customer: 'addressed', params: { id: { prefix: 'cmp', resource: 'campaign' } } } as const;

export function campaignRoutes(r: Routes, deps: WorkflowClientDeps) {
  r.add(
    {
      method: 'get',
      path: '/api/campaigns',
      errors: PLAN_LIMIT_STATUS,
      summary: "List the customer's campaigns",
      ...read,
      customer: 'required',
      query: S.campaignListQuery,
      response: R.list(R.campaign),
    },
    ({ access, customerId, query }) => campaigns.listCampaigns(access, customerId, query),
  );
  r.add(
    {
      method: 'post',
      path: '/api/campaigns',
      summary: 'Create a campaign (draft)',
      ...write,
      customer: 'required',
      body: S.campaignBody,
      status: 201,
      response: R.campaign,
    },
    ({ access, customerId, body }) => campaigns.createCampaign(access, customerId, body),
  );
  r.add(
    { method: 'get', path: '/api/campaigns/:id', summary: 'Get a campaign', ...read, ...campaign, response: R.campaign },
    ({ access, customerId, params }) => campaigns.getCampaign(access, customerId, params.id!),
  );
  r.add(
    {
      method: 'patch',
      path: '/api/campaigns/:id',
      summary: "Change a campaign's settings: open and click tracking (off by default)",
      ...write,
      ...campaign,
      body: S.campaignUpdateBody,
      response: R.campaign,
    },
    ({ access, customerId, params, body }) => campaigns.updateCampaign(access, customerId, params.id!, body),
  );
  r.add(
    {
      method: 'post',
      path: '/api/campaigns/:id/status',
      summary: 'Start, pause or archive a campaign (fans out to every enrollment)',
      ...write,
      ...campaign,
      body: S.campaignStatusBody,
      response: R.campaign,
    },
    ({ access, customerId, params, body }) => campaigns.setCampaignStatus(access, deps, customerId, params.id!, body.status),
  );
  r.add(
    {
      method: 'get',
      path: '/api/campaigns/:id/sequence',
      summary: "The campaign's current sequence snapshot (or ?version=)",
      ...read,
      ...campaign,
      query: S.sequenceVersionQuery,
      response: R.campaignSequence,
    },
    ({ access, customerId, params, query }) => campaigns.campaignSequence(access, customerId, params.id!, query.version),
  );
  r.add(
    {
      method: 'post',
      path: '/api/campaigns/:id/sequence',
      summary: 'Take a new sequence version from a sequence or inline steps',
      ...write,
      ...campaign,
      body: S.campaignSequenceBody,
      status: 201,
      response: R.campaignSequenceCreated,
    },
    ({ access, customerId, params, body }) => campaigns.takeSequenceVersion(access, customerId, params.id!, body),
  );
  // The campaign's lead routes (campaignLeads.ts) come before its stats, in the router and in the OpenAPI document.
  campaignLeadRoutes(r, deps);
  r.add(
    {
      method: 'get',
      path: '/api/campaigns/:id/stats',
      summary: 'Enrolled, sent, replied, bounced, unsubscribed — overall and per step — and the fan-out of a start, pause, resume or archive while it runs',
      ...read,
      ...campaign,
      response: R.campaignStats,
    },
    ({ access, customerId, params }) => campaigns.campaignStats(access, deps, customerId, params.id!),
  );
}
