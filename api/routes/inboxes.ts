// Inbox routes: declarations over services/outreach/inboxes, in the customer
// X-Customer-Id names.
import { PLAN_LIMIT_STATUS } from '../../services/billing/limits';
import * as inboxes from '../../services/outreach/inboxes';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as S from '../schemas/inboxes';
import * as R from '../schemas/outreach.responses';

const tag = 'inboxes';
const read = { tag, auth: 'tenant', permission: 'campaigns.read' } as const;
const write = { tag, auth: 'tenant', permission: 'campaigns.write', feature: 'email_outreach', idempotent: true } as const;
const inbox = { customer: 'addressed', params: { id: { prefix: 'inb', resource: 'inbox' } } } as const;

export function inboxRoutes(r: Routes, deps: inboxes.InboxDeps) {
  r.add(
    { method: 'get', path: '/api/inboxes', summary: "List the customer's inboxes", ...read, customer: 'required', query: listQuery, response: R.list(R.inbox) },
    ({ access, customerId, query }) => inboxes.listInboxes(access, customerId, query),
  );
  r.add(
    {
      method: 'post',
      path: '/api/inboxes',
      errors: PLAN_LIMIT_STATUS,
      summary: 'Add an inbox for the customer',
      ...write,
      customer: 'required',
      body: S.inboxBody,
      status: 201,
      response: R.inbox,
    },
    ({ access, customerId, body }) => inboxes.createInbox(access, deps, customerId, body),
  );
  r.add({ method: 'get', path: '/api/inboxes/:id', summary: 'Get an inbox', ...read, ...inbox, response: R.inbox }, ({ access, customerId, params }) =>
    inboxes.getInbox(access, customerId, params.id!),
  );
  r.add(
    { method: 'patch', path: '/api/inboxes/:id', summary: 'Change an inbox', ...write, ...inbox, body: S.inboxPatch, response: R.inbox },
    ({ access, customerId, params, body }) => inboxes.updateInbox(access, deps, customerId, params.id!, body),
  );
  r.add({ method: 'delete', path: '/api/inboxes/:id', summary: 'Remove an inbox', ...write, ...inbox, status: 204 }, ({ access, customerId, params }) =>
    inboxes.deleteInbox(access, deps, customerId, params.id!),
  );
}
