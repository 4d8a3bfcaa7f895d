// Conversation routes: the customer's threads with its leads (filters and
// search), one thread with its messages, and what a person changes on one.
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
}
