// Conversations (docs/architecture.md, "Conversations"): the customer's
// threads with its leads, one thread's messages, and what a person changes
// on a thread — status, snooze, assignee, read. Messages join their thread
// where they are recorded (db/messages.ts, db/emailEvents.ts).
import { type ConversationRow, findConversation, listConversationsPage, updateConversation as writeConversation } from '../../db/conversations';
import { type AttachmentRow, findConversationAttachment, listMessageAttachments } from '../../db/attachments';
import { isId } from '../../db/ids';
import { findMemberRow } from '../../db/memberships';
import { listConversationMessagesPage, type ThreadMessageRow } from '../../db/messages';
import { type ListParams } from '../../db/pagination';
import { ApiError, notFound } from '../../lib/errors';
import { MAX_ATTACHMENT_BYTES } from '../../lib/inboundMail';
import { type TenantAccess } from '../context';

type Status = ConversationRow['status'];

export function conversationOut(r: ConversationRow) {
  return {
    id: r.id,
    customerId: r.customer_id,
    inboxId: r.inbox_id,
    inboxEmail: r.inbox_email,
    lead: { id: r.lead_id, email: r.lead_email, firstName: r.lead_first_name, lastName: r.lead_last_name },
    status: r.status,
    snoozedUntil: r.snoozed_until,
    assigneeMemberId: r.assignee_member_id,
    unreadCount: r.unread_count,
    lastMessageAt: r.last_message_at,
    subject: r.subject,
    campaignIds: r.campaign_ids,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function messageOut(r: ThreadMessageRow, attachments: AttachmentRow[]) {
  return {
    id: r.id,
    direction: r.direction,
    origin: r.origin,
    status: r.status,
    campaignId: r.campaign_id,
    step: r.step,
    subject: r.subject,
    body: r.body,
    error: r.error,
    sentAt: r.sent_at,
    openedAt: r.opened_at,
    createdAt: r.created_at,
    fromEmail: r.from_email,
    html: r.body_html,
    autoReply: r.auto_reply,
    attachments: attachments.map((x) => ({ id: x.id, filename: x.filename, contentType: x.content_type, size: x.size, downloadable: x.downloadable })),
  };
}

async function findOwn(a: TenantAccess, customerId: string, id: string): Promise<ConversationRow> {
  const row = isId('conv', id) ? await findConversation(a.manager, id, customerId) : undefined;
  if (!row) throw notFound('conversation');
  return row;
}

export async function listConversations(
  a: TenantAccess,
  customerId: string,
  query: Omit<ListParams, 'sort'> & {
    status?: Status;
    unread?: 'true' | 'false';
    inboxId?: string;
    campaignId?: string;
    assignee?: string;
    sort?: 'latest' | 'unread';
  },
) {
  const { status, unread, inboxId, campaignId, assignee, sort, ...list } = query;
  const p = await listConversationsPage(
    a.manager,
    customerId,
    { status, unread: unread === undefined ? undefined : unread === 'true', inboxId, campaignId, assignee },
    list,
    sort === 'unread',
  );
  return { data: p.data.map(conversationOut), nextCursor: p.nextCursor };
}

export async function getConversation(a: TenantAccess, customerId: string, id: string, list: ListParams) {
  const c = await findOwn(a, customerId, id);
  const p = await listConversationMessagesPage(a.manager, c.id, list);
  const attachments = await listMessageAttachments(
    a.manager,
    p.data.map((r) => r.id),
  );
  const of = (id: string) => attachments.filter((x) => x.message_id === id);
  return { conversation: conversationOut(c), messages: { data: p.data.map((r) => messageOut(r, of(r.id))), nextCursor: p.nextCursor } };
}

/**
 * An attachment's bytes, only through a conversation of the caller's
 * customer. One whose bytes were over the size limit (lib/inboundMail.ts)
 * has its metadata only: that is a 404 that says so.
 */
export async function attachmentContent(a: TenantAccess, customerId: string, conversationId: string, attachmentId: string) {
  const c = await findOwn(a, customerId, conversationId);
  const row = await findConversationAttachment(a.manager, customerId, c.id, attachmentId);
  if (!row) throw notFound('attachment');
  if (row.content === null) {
    throw new ApiError(404, 'not_found', `the attachment's content was not kept: it is larger than ${MAX_ATTACHMENT_BYTES / (1024 * 1024)} MiB`);
  }
  return { filename: row.filename, content: row.content };
}

/** A bad field of the change, answered as the validator answers one. */
const invalid = (path: string, message: string) => new ApiError(400, 'validation_failed', 'invalid body', [{ path, message, code: 'custom' }]);

export async function updateConversation(
  a: TenantAccess,
  customerId: string,
  id: string,
  body: { status?: Status; snoozedUntil?: string | null; assigneeMemberId?: string | null; read?: true },
) {
  const c = await findOwn(a, customerId, id);
  if (body.assigneeMemberId) {
    // The assignee works in this tenant and may see this customer.
    const member = await findMemberRow(a.manager, body.assigneeMemberId);
    if (!member || (member.customer_id !== null && member.customer_id !== customerId)) {
      throw invalid('assigneeMemberId', 'choose a member of your team who works with this customer');
    }
  }
  const status: Status | undefined = body.status ?? (body.snoozedUntil ? 'snoozed' : undefined);
  await writeConversation(a.manager, c.id, {
    status,
    snoozedUntil: body.snoozedUntil ? new Date(body.snoozedUntil) : null,
    assigneeMemberId: body.assigneeMemberId,
    read: body.read,
  });
  return conversationOut((await findConversation(a.manager, c.id, customerId))!);
}
