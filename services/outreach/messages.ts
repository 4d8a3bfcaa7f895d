// Messages people send by hand (docs/architecture.md, "Manual messages"): a
// reply in a conversation or a one-off to a lead, from one of the customer's
// inboxes. The message is recorded queued in its conversation, with its own
// Message-ID, and its workflow (`tenant/{t}/message/{msg}`) is started in
// the same request: a start that fails fails the request, and the workflow
// waits for the request's commit before it looks at the row. A suppressed
// address is refused before anything is recorded. A conversation, lead or
// inbox the customer does not have is the same 404 as one that does not
// exist.
import { type EntityManager } from 'typeorm';
import { findConversation } from '../../db/conversations';
import { newId } from '../../db/ids';
import { findInbox } from '../../db/inboxes';
import { findLead } from '../../db/leads';
import { type CustomerMessageRow, findCustomerMessage, insertQueuedMessage } from '../../db/messages';
import { suppressedAmong } from '../../db/suppressions';
import { ApiError, notFound } from '../../lib/errors';
import { manualMessageId } from '../../lib/messageIds';
import { SEND_MESSAGE, type SendMessageInput, sendMessageStartOptions } from '../../workflows/sendMessage.contract';
import { type TenantAccess } from '../context';
import { startTenantWorkflow } from '../tenantWorkflows';
import { type WorkflowClientDeps } from './enrollments';

export interface SendMessageRequest {
  conversationId?: string;
  leadId?: string;
  inboxId?: string;
  subject?: string;
  text: string;
}

/** A field that names nothing the customer has, answered as the validator answers one. */
const invalid = (path: string, message: string) => new ApiError(400, 'validation_failed', 'invalid body', [{ path, message, code: 'custom' }]);

/** "Re: " and the thread's subject, unless it already begins so; on one line, as a typed subject must be (an inbound subject may decode to line breaks). */
const replySubject = (subject: string) => {
  const line = subject.replace(/[\r\n]+/g, ' ').trim();
  return /^re:/i.test(line) ? line : `Re: ${line}`;
};

/** Where the message goes: the inbox, the lead and its address, and the subject. */
async function resolveTarget(m: EntityManager, customerId: string, body: SendMessageRequest) {
  if (body.conversationId) {
    const c = await findConversation(m, body.conversationId, customerId);
    if (!c) throw notFound('conversation');
    const inbox = await findInbox(m, customerId, c.inbox_id);
    if (!inbox) throw invalid('conversationId', 'the inbox of this conversation is gone: send a new message from another inbox');
    const subject = body.subject ?? (c.subject.trim() ? replySubject(c.subject) : undefined);
    if (!subject) throw invalid('subject', 'this conversation has no subject: give one');
    const lead = await findLead(m, customerId, c.lead_id);
    return { inbox, leadId: c.lead_id, email: c.lead_email, bounced: lead?.status === 'bounced', subject, reply: true };
  }
  const lead = await findLead(m, customerId, body.leadId!);
  if (!lead) throw notFound('lead');
  const inbox = await findInbox(m, customerId, body.inboxId!);
  if (!inbox) throw notFound('inbox');
  return { inbox, leadId: lead.id, email: lead.email, bounced: lead.status === 'bounced', subject: body.subject!, reply: false };
}

export async function sendMessage(a: TenantAccess, deps: WorkflowClientDeps, customerId: string, body: SendMessageRequest) {
  const m = a.manager;
  const target = await resolveTarget(m, customerId, body);
  // A hard bounce is no suppression entry (an unsubscribe is), but its address takes no more mail either.
  if (target.bounced || (await suppressedAmong(m, [target.email.trim().toLowerCase()])).size > 0) {
    throw new ApiError(422, 'address_suppressed', 'this address is on the suppression list (it unsubscribed or bounced): nothing was sent');
  }
  const id = newId('msg');
  const row = await insertQueuedMessage(m, {
    id,
    customerId,
    leadId: target.leadId,
    inboxId: target.inbox.id,
    origin: 'manual',
    messageId: manualMessageId(a.tenantId, id, target.inbox.from_email),
    subject: target.subject,
    body: body.text,
  });
  const input: SendMessageInput = { tenantId: a.tenantId, messageId: id, reply: target.reply };
  await startTenantWorkflow(deps.client, SEND_MESSAGE, { tenantId: a.tenantId, ...sendMessageStartOptions(input, deps.taskQueue) });
  return { id: row.id, conversationId: row.conversation_id, status: row.status, queuedUntil: row.queued_until };
}

function messageOut(r: CustomerMessageRow) {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    leadId: r.lead_id,
    inboxId: r.inbox_id,
    direction: r.direction,
    origin: r.origin,
    status: r.status,
    queuedUntil: r.queued_until,
    subject: r.subject,
    text: r.body,
    error: r.error,
    createdAt: r.created_at,
    sentAt: r.sent_at,
  };
}

export async function getMessage(a: TenantAccess, customerId: string, id: string) {
  const row = await findCustomerMessage(a.manager, id, customerId);
  if (!row) throw notFound('message');
  return messageOut(row);
}
