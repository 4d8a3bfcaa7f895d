// One conversation: its messages (newest first, paged by the API's cursor),
// the lead and the campaigns it came from, and what a person changes on it —
// close or reopen, snooze, assign, mark read, reply — as forms that work
// without JS. The load only reads: opening a thread does not mark it read.
// An inbound mail's HTML is sanitized here, on the server ($lib/server/mailHtml),
// and only the sanitized copy reaches the browser.
import { randomUUID } from 'node:crypto';
import { error, fail, redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { sanitizeMailHtml } from '$lib/server/mailHtml';
import { can, type ApiErrorBody, type Campaign, type Conversation, type ConversationThread, type LeadWithEnrollments, type MemberList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

/** What a thread message may carry beyond the fields every branch of the API answers (sender, auto-reply, attachments, a queue time). */
type Extra = {
  fromEmail?: string | null;
  autoReply?: boolean;
  queuedUntil?: string | null;
  attachments?: { id: string; filename: string | null; contentType?: string; size: number }[];
};

/** What POST /api/messages/send answers (202) and GET /api/messages/:id follows. */
type SentMessage = { id: string; conversationId: string; status: 'queued' | 'sending' | 'accepted' | 'uncertain' | 'failed'; queuedUntil: string | null };

export const load: PageServerLoad = async ({ locals, cookies, url, params, depends }) => {
  depends('app:thread');
  const me = requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  if (!selected) redirect(303, '/client/replies');
  const cursor = url.searchParams.get('cursor') ?? '';
  const query = new URLSearchParams({ limit: '25', ...(cursor ? { cursor } : {}) });
  const res = await api<ConversationThread>(cookies, `/api/conversations/${encodeURIComponent(params.id)}?${query}`, { customerId: selected.id });
  if (res.status === 404) error(404, 'Conversation not found for this customer');
  if (res.status !== 200) error(res.status, 'Could not load the conversation');
  const { conversation, messages } = res.body;
  const [campaigns, members, lead] = await Promise.all([
    Promise.all(
      conversation.campaignIds.map(async (id) => {
        const c = await api<Campaign>(cookies, `/api/campaigns/${encodeURIComponent(id)}`, { customerId: selected.id });
        return { id, name: c.status === 200 ? c.body.name : 'a campaign' };
      }),
    ),
    can(me, 'members.read') ? api<MemberList>(cookies, '/api/members?limit=200') : Promise.resolve(null),
    api<LeadWithEnrollments>(cookies, `/api/leads/${encodeURIComponent(conversation.lead.id)}`, { customerId: selected.id }),
  ]);
  return {
    customers,
    selected,
    conversation,
    messages: {
      nextCursor: messages.nextCursor,
      // The raw HTML stays here: the browser gets the sanitized copy only.
      data: messages.data.map(({ html, ...m }) => {
        const extra = m as typeof m & Extra;
        return {
          ...m,
          safeHtml: html ? sanitizeMailHtml(html) : null,
          fromEmail: extra.fromEmail ?? null,
          autoReply: extra.autoReply ?? false,
          queuedUntil: extra.queuedUntil ?? null,
          attachments: extra.attachments ?? [],
        };
      }),
    },
    campaigns,
    lead: lead.status === 200 ? { company: lead.body.company, status: lead.body.status } : null,
    // A fresh key per rendering of the reply box: the same form sent twice is one message.
    replyKey: randomUUID(),
    // Only the members who may see this customer can be assigned its conversations.
    members:
      members?.status === 200
        ? members.body.data.filter((m) => m.customerId === null || m.customerId === selected.id).map((m) => ({ id: m.id, name: m.user.name || m.user.email }))
        : [],
  };
};

type Change = { status?: 'open' | 'closed' | 'snoozed'; snoozedUntil?: string; assigneeMemberId?: string | null; read?: true };

async function change(cookies: Parameters<typeof api>[0], id: string, customerId: string, form: string, body: Change, done: string, values = {}) {
  const res = await api<Conversation>(cookies, `/api/conversations/${encodeURIComponent(id)}`, { method: 'PATCH', customerId, body });
  if (res.status !== 200) return formFailure(res, form, values);
  return { form, saved: true, done };
}

/** A `datetime-local` value names no zone: without JavaScript it is read as UTC (the page says so). */
function snoozeInstant(value: string): Date | null {
  const v = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value}Z` : value;
  const at = new Date(v);
  return Number.isNaN(at.getTime()) ? null : at;
}

export const actions: Actions = {
  status: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const status = String(f.get('status') ?? '');
    if (status !== 'open' && status !== 'closed') return fail(400, { form: 'status', message: 'Choose to close or reopen the conversation.', errors: {} });
    return change(cookies, params.id, String(f.get('customerId') ?? ''), 'status', { status }, status === 'closed' ? 'Closed.' : 'Reopened.');
  },
  snooze: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const value = String(f.get('snoozedUntil') ?? '').trim();
    const values = { snoozedUntil: value };
    // The enhanced form adds the instant the browser read the value as, in its own zone.
    const at = value ? snoozeInstant(String(f.get('snoozedAt') ?? '') || value) : null;
    const wrong = (message: string) => fail(400, { form: 'snooze', message: 'Check the snooze time.', errors: { snoozedUntil: message }, values });
    if (!value) return wrong('Choose when the conversation should come back.');
    if (!at) return wrong('Enter a date and a time.');
    if (at.getTime() <= Date.now()) return wrong('Choose a time in the future.');
    return change(cookies, params.id, String(f.get('customerId') ?? ''), 'snooze', { status: 'snoozed', snoozedUntil: at.toISOString() }, 'Snoozed.', values);
  },
  assign: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const member = String(f.get('assigneeMemberId') ?? '');
    return change(
      cookies,
      params.id,
      String(f.get('customerId') ?? ''),
      'assign',
      { assigneeMemberId: member || null },
      member ? 'Assigned.' : 'Nobody is assigned now.',
      { assigneeMemberId: member },
    );
  },
  read: async ({ request, cookies, params }) => {
    const f = await request.formData();
    return change(cookies, params.id, String(f.get('customerId') ?? ''), 'read', { read: true }, 'Marked as read.');
  },
  reply: async ({ request, cookies, params, locals }) => {
    // The box shows only to whom may send; a post without the permission is refused here too.
    if (!can(locals.me, 'messages.send')) return fail(403, { form: 'reply', message: 'Your role does not let you send messages.', errors: {}, values: {} });
    const f = await request.formData();
    const text = String(f.get('text') ?? '');
    const key = String(f.get('idempotencyKey') ?? '');
    const values = { text };
    if (!text.trim()) return fail(400, { form: 'reply', message: 'Write your reply first.', errors: { text: 'Write your reply first.' }, values });
    if (!/^[0-9a-f-]{36}$/.test(key)) return fail(400, { form: 'reply', message: 'Reload the page and send your reply again.', errors: {}, values });
    const res = await api<SentMessage>(cookies, '/api/messages/send', {
      method: 'POST',
      customerId: String(f.get('customerId') ?? ''),
      body: { conversationId: params.id, text },
      idempotencyKey: key,
    });
    if (res.status === 200 || res.status === 202) {
      const { id, status, queuedUntil } = res.body;
      return { form: 'reply', sent: { id, status, queuedUntil } };
    }
    const code = (res.body as unknown as ApiErrorBody | undefined)?.error?.code ?? '';
    if (res.status === 422 && /suppress/.test(code))
      return fail(422, { form: 'reply', message: 'This address is suppressed: nothing was sent.', errors: {}, values });
    if (res.status === 409 && code === 'idempotency_key_reused') {
      return fail(409, { form: 'reply', message: 'This reply form was already sent. Reload the page to write another reply.', errors: {}, values });
    }
    return formFailure(res, 'reply', values);
  },
};
