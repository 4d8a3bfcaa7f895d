// The Replies list: the chosen customer's conversations with its leads,
// unread ones first (then latest message first), filtered by status, unread,
// inbox, campaign and assignee and searched with `q` — all in the URL, a GET
// form without JS. The page refreshes this load every few seconds
// (`app:replies`), so the list and its unread count stay current.
import { api } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { can, type CampaignList, type ConversationList, type InboxList, type MemberList } from '$lib/types';
import type { PageServerLoad } from './$types';

const STATUSES = ['open', 'snoozed', 'closed'] as const;
const isStatus = (s: string): s is (typeof STATUSES)[number] => (STATUSES as readonly string[]).includes(s);
const idOf = (prefix: string) => new RegExp(`^${prefix}_[0-9a-z]{26}$`);
/** Unread conversations counted for the heading; past this the page says "100+". */
const UNREAD_COUNTED = 100;

export const load: PageServerLoad = async ({ locals, cookies, url, depends }) => {
  depends('app:replies');
  const me = requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const q = (url.searchParams.get('q') ?? '').trim();
  const param = (name: string) => url.searchParams.get(name) ?? '';
  const cursor = param('cursor');
  const filter = {
    q,
    status: isStatus(param('status')) ? param('status') : '',
    unread: param('unread') === 'true',
    assignee: param('assignee') === 'none' || idOf('mem').test(param('assignee')) ? param('assignee') : '',
    inboxId: idOf('inb').test(param('inboxId')) ? param('inboxId') : '',
    campaignId: idOf('cmp').test(param('campaignId')) ? param('campaignId') : '',
  };
  const empty = { data: [], nextCursor: null } as ConversationList;
  const none = { customers, selected, conversations: empty, members: [], inboxes: [], campaigns: [], unread: null, filter, statuses: STATUSES, failed: false };
  if (!selected) return none;
  const query = new URLSearchParams({
    limit: '25',
    sort: 'unread',
    ...(q ? { q } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.unread ? { unread: 'true' } : {}),
    ...(filter.assignee ? { assignee: filter.assignee } : {}),
    ...(filter.inboxId ? { inboxId: filter.inboxId } : {}),
    ...(filter.campaignId ? { campaignId: filter.campaignId } : {}),
    ...(cursor ? { cursor } : {}),
  });
  const customerId = selected.id;
  const [res, unread, members, inboxes, campaigns] = await Promise.all([
    api<ConversationList>(cookies, `/api/conversations?${query}`, { customerId }),
    api<ConversationList>(cookies, `/api/conversations?unread=true&limit=${UNREAD_COUNTED}`, { customerId }),
    can(me, 'members.read') ? api<MemberList>(cookies, '/api/members?limit=200') : Promise.resolve(null),
    api<InboxList>(cookies, '/api/inboxes?limit=200', { customerId }),
    api<CampaignList>(cookies, '/api/campaigns?limit=200', { customerId }),
  ]);
  return {
    ...none,
    conversations: res.status === 200 ? res.body : empty,
    unread: unread.status === 200 ? { count: unread.body.data.length, more: unread.body.nextCursor !== null } : null,
    // Only the members who may see this customer can be assigned its conversations.
    members:
      members?.status === 200
        ? members.body.data.filter((m) => m.customerId === null || m.customerId === selected.id).map((m) => ({ id: m.id, name: m.user.name || m.user.email }))
        : [],
    inboxes: inboxes.status === 200 ? inboxes.body.data.map((i) => ({ id: i.id, email: i.fromEmail })) : [],
    campaigns: campaigns.status === 200 ? campaigns.body.data.map((c) => ({ id: c.id, name: c.name })) : [],
    failed: res.status !== 200,
  };
};
