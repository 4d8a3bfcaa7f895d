// A campaign's lead routes: adding leads (JSON or CSV), their enrollment state,
// pausing, resuming or unsubscribing one, the campaign's replies and one
// lead's messages; declarations over services/outreach/campaignLeads. Like
// every campaign route, they work in the customer X-Customer-Id names.
import * as campaignLeads from '../../services/outreach/campaignLeads';
import { type WorkflowClientDeps } from '../../services/outreach/enrollments';
import * as leadFixes from '../../services/outreach/leadFixes';
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

export function campaignLeadRoutes(r: Routes, deps: WorkflowClientDeps) {
  r.add(
    {
      method: 'post',
      path: '/api/campaigns/:id/leads',
      summary:
        'Add leads (JSON or text/csv); duplicates and suppressed addresses are skipped; a completed campaign reopens; update=true replaces the values of leads already present',
      ...write,
      ...campaign,
      body: S.leadImportBody,
      query: S.leadImportQuery,
      alsoAccepts: [CSV],
      status: 200,
      response: R.leadsAdded,
    },
    ({ access, customerId, params, body, query, ctx }) =>
      campaignLeads.addLeads(access, deps, customerId, params.id!, body.leads, ctx.is('text/csv') ? 'csv' : 'api', query.update === 'true'),
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
      path: '/api/campaigns/:id/readiness',
      summary: 'The leads that lack a value a variable of their sequence version needs, and how many a missing value paused',
      ...read,
      ...campaign,
      query: S.readinessQuery,
      response: R.campaignReadiness,
    },
    ({ access, customerId, params, query }) => leadFixes.campaignReadiness(access, customerId, params.id!, query.status),
  );
  r.add(
    {
      method: 'post',
      path: '/api/campaigns/:id/leads/resume',
      summary: "Fill in leads' missing values and resume every enrollment a missing value paused whose lead now has every value",
      ...write,
      ...campaign,
      body: S.leadFixBody,
      response: R.leadsFixedAndResumed,
    },
    ({ access, customerId, params, body }) => leadFixes.fixAndResume(access, deps, customerId, params.id!, body.leads),
  );
}
