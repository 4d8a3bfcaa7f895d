// The Replies list: the chosen customer's conversations with its leads, as
// the API orders them (latest message first), filtered by status, unread and
// assignee and searched with `q` — all in the URL, a GET form without JS.
import { api } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { can, type ConversationList, type MemberList } from '$lib/types';
import type { PageServerLoad } from './$types';

const STATUSES = ['open', 'snoozed', 'closed'] as const;
const isStatus = (s: string): s is (typeof STATUSES)[number] => (STATUSES as readonly string[]).includes(s);
const MEMBER_ID = /^mem_[0-9a-z]{26}$/;

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  const me = requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const q = (url.searchParams.get('q') ?? '').trim();
  const status = url.searchParams.get('status') ?? '';
  const assignee = url.searchParams.get('assignee') ?? '';
  const cursor = url.searchParams.get('cursor') ?? '';
  const filter = {
    q,
    status: isStatus(status) ? status : '',
    unread: url.searchParams.get('unread') === 'true',
    assignee: assignee === 'none' || MEMBER_ID.test(assignee) ? assignee : '',
  };
  const empty = { data: [], nextCursor: null } as ConversationList;
  if (!selected) return { customers, selected, conversations: empty, members: [], filter, statuses: STATUSES, failed: false };
  const query = new URLSearchParams({
    limit: '25',
    ...(q ? { q } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.unread ? { unread: 'true' } : {}),
    ...(filter.assignee ? { assignee: filter.assignee } : {}),
    ...(cursor ? { cursor } : {}),
  });
  const [res, members] = await Promise.all([
    api<ConversationList>(cookies, `/api/conversations?${query}`, { customerId: selected.id }),
    can(me, 'members.read') ? api<MemberList>(cookies, '/api/members?limit=200') : Promise.resolve(null),
  ]);
  return {
    customers,
    selected,
    conversations: res.status === 200 ? res.body : empty,
    // Only the members who may see this customer can be assigned its conversations.
    members:
      members?.status === 200
        ? members.body.data.filter((m) => m.customerId === null || m.customerId === selected.id).map((m) => ({ id: m.id, name: m.user.name || m.user.email }))
        : [],
    filter,
    statuses: STATUSES,
    failed: res.status !== 200,
  };
};
