// Sequence routes: declarations over services/outreach/sequences. Creating
// under a customer the tenant does not have is 400 invalid_customer_context; a
// sequence of another customer is 404.
import * as sequences from '../../services/outreach/sequences';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/outreach.responses';
import * as S from '../schemas/outreach';

const tag = 'sequences';
const read = { tag, auth: 'tenant', permission: 'campaigns.read' } as const;
const write = { tag, auth: 'tenant', permission: 'campaigns.write', feature: 'email_outreach', idempotent: true } as const;
const sequence = { customer: 'addressed', params: { id: { prefix: 'seq', resource: 'sequence' } } } as const;
const step = { customer: 'addressed', params: { id: { prefix: 'seq', resource: 'sequence' }, stepId: { prefix: 'stp', resource: 'step' } } } as const;

export function sequenceRoutes(r: Routes) {
  r.add(
    {
      method: 'get',
      path: '/api/sequences',
      summary: "List the customer's sequences",
      ...read,
      customer: 'required',
      query: listQuery,
      response: R.sequenceList,
    },
    ({ access, customerId, query }) => sequences.listSequences(access, customerId, query),
  );
  r.add(
    {
      method: 'post',
      path: '/api/sequences',
      summary: 'Create a sequence for the customer',
      ...write,
      customer: 'required',
      body: S.sequenceBody,
      status: 201,
      response: R.sequence,
    },
    ({ access, customerId, body }) => sequences.createSequence(access, customerId, body.name),
  );
  r.add(
    { method: 'get', path: '/api/sequences/:id', summary: 'Get a sequence with its steps', ...read, ...sequence, response: R.sequence },
    ({ access, customerId, params }) => sequences.getSequence(access, customerId, params.id!),
  );
  r.add(
    { method: 'put', path: '/api/sequences/:id', summary: 'Rename a sequence', ...write, ...sequence, body: S.sequenceBody, response: R.sequence },
    ({ access, customerId, params, body }) => sequences.renameSequence(access, customerId, params.id!, body.name),
  );
  r.add({ method: 'delete', path: '/api/sequences/:id', summary: 'Delete a sequence', ...write, ...sequence, status: 204 }, ({ access, customerId, params }) =>
    sequences.deleteSequence(access, customerId, params.id!),
  );
  r.add(
    {
      method: 'post',
      path: '/api/sequences/:id/steps',
      summary: 'Append a step',
      ...write,
      ...sequence,
      body: S.stepBody,
      status: 201,
      response: R.sequenceStep,
    },
    ({ access, customerId, params, body }) => sequences.appendStep(access, customerId, params.id!, body),
  );
  r.add(
    { method: 'put', path: '/api/sequences/:id/steps/:stepId', summary: 'Change a step', ...write, ...step, body: S.stepPatch, response: R.sequenceStep },
    ({ access, customerId, params, body }) => sequences.changeStep(access, customerId, params.id!, params.stepId!, body),
  );
  r.add(
    { method: 'delete', path: '/api/sequences/:id/steps/:stepId', summary: 'Remove a step', ...write, ...step, status: 204 },
    ({ access, customerId, params }) => sequences.removeStep(access, customerId, params.id!, params.stepId!),
  );
}
