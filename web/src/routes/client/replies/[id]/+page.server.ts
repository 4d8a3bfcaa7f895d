// One conversation: its messages (newest first, paged by the API's cursor),
// the lead and the campaigns it came from, and what a person changes on it —
// close or reopen, snooze, assign, mark read — as forms that work without JS.
// The load only reads: opening a thread does not mark it read.
import { error, fail, redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { can, type Campaign, type Conversation, type ConversationThread, type MemberList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url, params }) => {
  const me = requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  if (!selected) redirect(303, '/client/replies');
  const cursor = url.searchParams.get('cursor') ?? '';
  const query = new URLSearchParams({ limit: '25', ...(cursor ? { cursor } : {}) });
  const res = await api<ConversationThread>(cookies, `/api/conversations/${encodeURIComponent(params.id)}?${query}`, { customerId: selected.id });
  if (res.status === 404) error(404, 'Conversation not found for this customer');
  if (res.status !== 200) error(res.status, 'Could not load the conversation');
  const { conversation, messages } = res.body;
  const [campaigns, members] = await Promise.all([
    Promise.all(
      conversation.campaignIds.map(async (id) => {
        const c = await api<Campaign>(cookies, `/api/campaigns/${encodeURIComponent(id)}`, { customerId: selected.id });
        return { id, name: c.status === 200 ? c.body.name : 'a campaign' };
      }),
    ),
    can(me, 'members.read') ? api<MemberList>(cookies, '/api/members?limit=200') : Promise.resolve(null),
  ]);
  return {
    customers,
    selected,
    conversation,
    messages,
    campaigns,
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
};
