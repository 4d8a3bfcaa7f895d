// Lead routes: declarations over services/outreach/leads. A lead of another
// customer is 404 like one that does not exist.
import { type WorkflowClientDeps } from '../../services/outreach/enrollments';
import * as leads from '../../services/outreach/leads';
import { type Routes } from '../routing';
import * as R from '../schemas/outreach.responses';
import * as S from '../schemas/outreach';

const tag = 'leads';
const read = { tag, auth: 'tenant', permission: 'campaigns.read' } as const;
const write = { tag, auth: 'tenant', permission: 'campaigns.write', feature: 'email_outreach', idempotent: true } as const;
const lead = { customer: 'addressed', params: { id: { prefix: 'lead', resource: 'lead' } } } as const;

export function leadRoutes(r: Routes, deps: WorkflowClientDeps) {
  r.add(
    { method: 'get', path: '/api/leads', summary: "List the customer's leads", ...read, customer: 'required', query: S.leadsQuery, response: R.leadList },
    ({ access, customerId, query }) => leads.listLeads(access, customerId, query),
  );
  r.add(
    {
      method: 'get',
      path: '/api/leads/domains',
      summary: "The customer's leads per e-mail domain (largest first)",
      ...read,
      customer: 'required',
      query: S.leadDomainsQuery,
      response: R.leadDomains,
    },
    ({ access, customerId, query }) => leads.leadDomains(access, customerId, query.limit),
  );
  r.add({ method: 'get', path: '/api/leads/stages', summary: "The tenant's lead stages, in pipeline order", ...read, response: R.leadStages }, ({ access }) =>
    leads.listLeadStages(access),
  );
  r.add(
    {
      method: 'get',
      path: '/api/leads/:id',
      summary: 'Get a lead with its enrollments; expand=activity adds its timeline (oldest first), expand=conversations its conversations',
      ...read,
      ...lead,
      query: S.leadQuery,
      response: R.leadExpanded,
    },
    ({ access, customerId, params, query }) => leads.getLead(access, customerId, params.id!, query.expand),
  );
  r.add(
    {
      method: 'patch',
      path: '/api/leads/:id',
      summary: "Correct a lead's name, company or template fields; set its stage (one of the tenant's) or its whole list of tags",
      ...write,
      ...lead,
      body: S.leadPatch,
      response: R.lead,
    },
    ({ access, customerId, params, body }) => leads.updateLead(access, customerId, params.id!, body),
  );
  r.add(
    { method: 'delete', path: '/api/leads/:id', summary: 'Delete a lead (its enrollments stop)', ...write, ...lead, status: 204 },
    ({ access, customerId, params }) => leads.deleteLead(access, deps, customerId, params.id!),
  );
}
