// Outbox routes: the mail sent for the customer's campaigns, and the copy the
// embedded default's local SMTP sink received.
import * as outbox from '../../services/outreach/outbox';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/outreach.responses';

const read = { tag: 'outbox', auth: 'tenant', permission: 'campaigns.read' } as const;

export function outboxRoutes(r: Routes, deps: { mailSinkDir?: string }) {
  r.add(
    {
      method: 'get',
      path: '/api/outbox',
      summary: "Mail sent for the customer's campaigns, newest first",
      ...read,
      customer: 'required',
      query: listQuery,
      response: R.outbox,
    },
    ({ access, customerId, query }) => outbox.listOutbox(access, customerId, query, deps.mailSinkDir),
  );
  r.add(
    {
      method: 'get',
      path: '/api/outbox/:id/received',
      summary: 'The message as the local SMTP sink received it (embedded default)',
      ...read,
      customer: 'addressed',
      params: { id: { prefix: 'msg', resource: 'message' } },
      response: R.sinkCopy,
    },
    ({ access, customerId, params }) => outbox.receivedCopy(access, customerId, params.id!, deps.mailSinkDir),
  );
}
