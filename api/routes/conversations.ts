// Conversation routes: the customer's threads with its leads (filters and
// search), one thread with its messages, an attachment's download, and what
// a person changes on one.
// Declarations over services/outreach/conversations; like every outreach
// route they work in the customer X-Customer-Id names. Reading takes
// conversations.read; changing a thread takes messages.send, the permission
// of whoever works replies.
import * as conversations from '../../services/outreach/conversations';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/conversations.responses';
import * as S from '../schemas/conversations';

const tag = 'conversations';
const read = { tag, auth: 'tenant', permission: 'conversations.read' } as const;
const write = { tag, auth: 'tenant', permission: 'messages.send', feature: 'email_outreach', idempotent: true } as const;
const conversation = { customer: 'addressed', params: { id: { prefix: 'conv', resource: 'conversation' } } } as const;

export function conversationRoutes(r: Routes) {
  r.add(
    {
      method: 'get',
      path: '/api/conversations',
      summary:
        "The customer's conversations with its leads, latest message first (sort=unread: unread ones first); q searches the lead's address and name and the subject",
      ...read,
      customer: 'required',
      query: S.conversationListQuery,
      response: R.conversations,
    },
    ({ access, customerId, query }) => conversations.listConversations(access, customerId, query),
  );
  r.add(
    {
      method: 'get',
      path: '/api/conversations/:id',
      summary: 'A conversation and a page of its messages, newest first',
      ...read,
      ...conversation,
      query: listQuery,
      response: R.conversationThread,
    },
    ({ access, customerId, params, query }) => conversations.getConversation(access, customerId, params.id!, query),
  );
  r.add(
    {
      method: 'patch',
      path: '/api/conversations/:id',
      summary: 'Close, reopen or snooze a conversation, assign it, or mark it read',
      ...write,
      ...conversation,
      body: S.conversationBody,
      response: R.conversation,
    },
    ({ access, customerId, params, body }) => conversations.updateConversation(access, customerId, params.id!, body),
  );
  r.add(
    {
      method: 'get',
      path: '/api/conversations/:id/attachments/:attachmentId',
      summary: 'An attachment of a message in the conversation, as a download (404 when its bytes were over the size limit and not kept)',
      ...read,
      customer: 'addressed',
      params: { id: { prefix: 'conv', resource: 'conversation' }, attachmentId: { prefix: 'att', resource: 'attachment' } },
      download: true,
    },
    async ({ access, customerId, params, ctx }) => {
      const file = await conversations.attachmentContent(access, customerId, params.id!, params.attachmentId!);
      // Whatever type the sender claimed, the bytes go out as an opaque
      // download that no browser renders or sniffs.
      ctx.set('Content-Disposition', contentDisposition(file.filename));
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.type = 'application/octet-stream';
      ctx.body = file.content;
    },
  );
}

/** `attachment; filename="ascii"; filename*=UTF-8''…` (RFC 6266): the name as sent, never a path or a header break. */
function contentDisposition(filename: string | null): string {
  const name =
    [...(filename ?? '')]
      .map((ch) => (ch === '/' || ch === '\\' || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? '_' : ch))
      .join('')
      .trim() || 'attachment';
  const ascii = name.replace(/[^A-Za-z0-9._ -]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
