// Message routes: send a message by hand (a reply in a conversation, or a
// one-off to a lead) through the send path sequences use, and follow one
// message's status. Declarations over services/outreach/messages; like every
// outreach route they work in the customer X-Customer-Id names. Sending takes
// messages.send; reading, conversations.read.
import * as messages from '../../services/outreach/messages';
import { type WorkflowClientDeps } from '../../services/outreach/enrollments';
import { type Routes } from '../routing';
import * as R from '../schemas/messages.responses';
import * as S from '../schemas/messages';

const tag = 'messages';

export function messageRoutes(r: Routes, deps: WorkflowClientDeps) {
  r.add(
    {
      method: 'post',
      path: '/api/messages/send',
      summary:
        'Send a message by hand: a reply in a conversation, or a one-off to a lead from one of the customer’s inboxes. It is queued and sent by its own workflow within the inbox’s daily cap and the monthly sends; follow it with GET /api/messages/{id}',
      tag,
      auth: 'tenant',
      permission: 'messages.send',
      feature: 'email_outreach',
      idempotent: true,
      customer: 'required',
      body: S.sendMessageBody,
      status: 202,
      response: R.messageAccepted,
      errors: { 422: 'address_suppressed: the lead’s address is on the suppression list; nothing was recorded or sent' },
    },
    ({ access, customerId, body }) => messages.sendMessage(access, deps, customerId, body),
  );
  r.add(
    {
      method: 'get',
      path: '/api/messages/:id',
      summary: 'One message of the customer, either way: its status (queued until when, sent, uncertain, failed and why), subject and text',
      tag,
      auth: 'tenant',
      permission: 'conversations.read',
      customer: 'addressed',
      params: { id: { prefix: 'msg', resource: 'message' } },
      response: R.message,
    },
    ({ access, customerId, params }) => messages.getMessage(access, customerId, params.id!),
  );
}
