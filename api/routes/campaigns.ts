// Campaign routes (spec §5.3): declarations over services/outreach. Every
// route works in the customer X-Customer-Id names; a campaign of another
// customer is 404 like one that does not exist.
import { PLAN_LIMIT_STATUS } from '../../services/billing/limits';
import * as campaigns from '../../services/outreach/campaigns';
import * as campaignLeads from '../../services/outreach/campaignLeads';
import { type WorkflowClientDeps } from '../../services/outreach/enrollments';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/outreach.responses';
import * as S from '../schemas/outreach';

const tag = 'campaigns';
const read = { tag, auth: 'tenant', permission: 'campaigns.read' } as const;
const write = { tag, auth: 'tenant', permission: 'campaigns.write', feature: 'email_outreach', idempotent: true } as const;
const campaign = { customer: 'addressed', params: { id: { prefix: 'cmp', resource: 'campaign' } } } as const;
const lead = { customer: 'addressed', params: { id: { prefix: 'cmp', resource: 'campaign' }, leadId: { prefix: 'lead', resource: 'lead' } } } as const;
const CSV = { mediaType: 'text/csv', description: 'a header row with email and any of firstName, lastName, company; other columns become template variables' };

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
  r.add(
    {
      method: 'post',
      path: '/api/campaigns/:id/leads',
      summary: 'Add leads (JSON or text/csv); duplicates and suppressed addresses are skipped; a completed campaign reopens',
      ...write,
      ...campaign,
      body: S.leadImportBody,
      alsoAccepts: [CSV],
      status: 200,
      response: R.leadsAdded,
    },
    ({ access, customerId, params, body, ctx }) => campaignLeads.addLeads(access, deps, customerId, params.id!, body.leads, ctx.is('text/csv') ? 'csv' : 'api'),
  );
  r.add(
    {
      method: 'get',
      path: '/api/campaigns/:id/leads',
      summary: "The campaign's leads and their enrollment state",
      ...read,
      ...campaign,
      query: S.campaignLeadsQuery,
      response: R.campaignLeads,
    },
    ({ access, customerId, params, query }) => campaignLeads.listCampaignLeads(access, customerId, params.id!, query),
  );
  for (const action of ['pause', 'resume'] as const) {
    r.add(
      {
        method: 'post',
        path: `/api/campaigns/:id/leads/:leadId/${action}`,
        summary: `${action === 'pause' ? 'Pause' : 'Resume'} one lead's enrollment`,
        ...write,
        ...lead,
        response: R.enrollmentChanged,
      },
      ({ access, customerId, params }) => campaignLeads.setLeadRunning(access, deps, customerId, params.id!, params.leadId!, action),
    );
  }
  r.add(
    {
      method: 'post',
      path: '/api/campaigns/:id/leads/:leadId/unsubscribe',
      summary: "Unsubscribe the lead's address: suppressed in the tenant, every enrollment of it stopped",
      ...write,
      ...lead,
      response: R.leadUnsubscribed,
    },
    ({ access, customerId, params }) => campaignLeads.unsubscribeLead(access, deps, customerId, params.id!, params.leadId!),
  );
  r.add(
    {
      method: 'get',
      path: '/api/campaigns/:id/replies',
      summary: 'Replies received in this campaign',
      ...read,
      ...campaign,
      query: listQuery,
      response: R.replies,
    },
    ({ access, customerId, params, query }) => campaignLeads.campaignReplies(access, customerId, params.id!, query),
  );
  r.add(
    {
      method: 'get',
      path: '/api/campaigns/:id/leads/:leadId/messages',
      summary: "One lead's message history in this campaign",
      ...read,
      ...lead,
      response: R.leadMessages,
    },
    ({ access, customerId, params }) => campaignLeads.leadMessages(access, customerId, params.id!, params.leadId!),
  );
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
